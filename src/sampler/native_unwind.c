/*
 * native_unwind.c - stepping a stopped thread's native frames (see
 * native_unwind.h). x86-64: the CFA is the caller's stack pointer, the
 * return address sits at a fixed offset from it (the System V AMD64
 * psABI, "The Stack Frame"; the rule, eh_frame.c), and code built with
 * frame pointers keeps the caller's rbp at [rbp] and the return address at
 * [rbp + 8].
 */
#include "native_unwind.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define COPY_FIRST (16u << 10) /* most stacks are a few KiB deep */

void hs_native_stack_free(hs_native_stack *s) {
    free(s->pcs);
    free(s->copy);
    memset(s, 0, sizeof *s);
}

typedef struct {
    hs_native_objects *objects;
    hs_native_stack *s;
    uint64_t stack_end;       /* end of the stack's mapping */
} walk;

/* The word at addr on the stack, extending the copy when needed; 0 (and
 * *ok cleared) outside the stack. */
static uint64_t stack_word(walk *w, uint64_t addr, int *ok) {
    hs_native_stack *s = w->s;
    if (addr < s->copy_base || addr + 8 > w->stack_end || (addr & 7)) {
        *ok = 0;
        return 0;
    }
    if (addr + 8 > s->copy_base + s->copy_len) {
        /* Deeper than the copy: double it (whole, up to the stack's end). */
        uint64_t want = s->copy_len * 2 > COPY_FIRST ? s->copy_len * 2 : COPY_FIRST;
        while (s->copy_base + want < addr + 8)
            want *= 2;
        if (want > HS_NATIVE_STACK_MAX)
            want = HS_NATIVE_STACK_MAX;
        if (s->copy_base + want > w->stack_end)
            want = w->stack_end - s->copy_base;
        if (addr + 8 > s->copy_base + want ||
            hs_grow((void **)&s->copy, &s->copy_cap, (size_t)want, 1) != 0 ||
            hs_proc_read(&w->objects->proc, s->copy_base + s->copy_len, s->copy + s->copy_len,
                         (size_t)(want - s->copy_len)) != 0) {
            *ok = 0;
            return 0;
        }
        s->copy_len = (size_t)want;
    }
    uint64_t v;
    memcpy(&v, s->copy + (addr - s->copy_base), 8);
    return v;
}

static int push(hs_native_stack *s, uint64_t pc) {
    if (hs_grow((void **)&s->pcs, &s->cap, s->count + 1, sizeof *s->pcs) != 0)
        return -1;
    s->pcs[s->count++] = pc;
    return 0;
}

size_t hs_native_unwind(hs_native_objects *o, uint64_t ip, uint64_t sp, uint64_t bp, int64_t pass,
                        hs_native_stack *s) {
    s->count = 0;
    s->complete = 0;
    s->by_frame_pointer = 0;
    s->copy_base = sp;
    s->copy_len = 0;
    const hs_native_mapping *stack = hs_native_mapping_at(o, sp, pass);
    walk w = {o, s, stack ? stack->end : sp};
    uint64_t pc = ip;
    int leaf = 1;
    while (s->count < HS_NATIVE_MAX_DEPTH) {
        /* A return address is looked up one byte back: the call it returns
         * from may be the last instruction of its function. */
        const hs_native_pc *info = hs_native_pc_info(o, leaf ? pc : pc - 1, pass);
        if (!info || push(s, pc) != 0)
            break;
        uint64_t cfa, ra, caller_bp = bp;
        int ok = 1;
        const hs_step_rule *rule = &info->rule;
        if (rule->kind == HS_STEP_LAST) {
            s->complete = 1;
            break;
        }
        if (rule->kind == HS_STEP_SIMPLE) {
            cfa = (rule->cfa_from_rbp ? bp : sp) + (uint64_t)(int64_t)rule->cfa_offset;
            ra = stack_word(&w, cfa + (uint64_t)(int64_t)rule->ra_offset, &ok);
            /* rbp saved below the stack pointer was popped already (an
             * epilogue: compilers leave the rule as it was): it holds the
             * caller's value again. */
            uint64_t saved_at = cfa + (uint64_t)(int64_t)rule->rbp_offset;
            if (rule->rbp_saved && saved_at >= sp)
                caller_bp = stack_word(&w, saved_at, &ok);
            else if (rule->rbp_undefined)
                caller_bp = 0;
        } else {
            /* No rule to follow: trust rbp if it points into the frames
             * above the stack pointer (code built with frame pointers). */
            if (bp < sp || bp >= w.stack_end)
                break;
            cfa = bp + 16;
            caller_bp = stack_word(&w, bp, &ok);
            ra = stack_word(&w, bp + 8, &ok);
            s->by_frame_pointer++;
        }
        if (!ok)
            break;
        if (ra == 0) { /* the bottom of the stack */
            s->complete = 1;
            break;
        }
        if (cfa <= sp)
            break; /* a stack that does not grow back: a wrong step */
        sp = cfa;
        bp = caller_bp;
        pc = ra;
        leaf = 0;
    }
    return s->count;
}
