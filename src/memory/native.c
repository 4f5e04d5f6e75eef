/*
 * native.c - the memory engine's native allocations: malloc, calloc,
 * realloc, free and the aligned allocators, called by C extensions,
 * libraries and the interpreter itself, as hotscope's interposer
 * (src/preload/native_alloc.c, loaded by `hotscope mem --native` with
 * LD_PRELOAD) reports them while this engine is registered with it.
 *
 * Each allocation is charged to the Python stack of its thread, as the
 * Python allocators' are (hooks.c), with its native frames under the
 * innermost Python frame: the return addresses from the code that called
 * malloc outwards, up to the first frame in the interpreter itself (the
 * eval loop and the call machinery that led from Python to the C code)
 * or NATIVE_MAX_FRAMES. They are named when the profile is built
 * (native_symbols.c).
 *
 * Unwinding reads the .eh_frame call frame information every object has.
 * _Unwind_Backtrace interprets it again for every frame of every stack
 * (the most of what an allocation cost here: ~250 ns a frame); so on
 * x86-64 each thread keeps the step rule of each return address it met
 * (eh_frame.c: the caller's stack pointer at a constant offset from rsp
 * or rbp, the return address and rbp saved at constant offsets from it)
 * and walks the stack from the caller's registers the interposer passes
 * (hs_native_site) with a lookup and a load or two per frame, reading
 * only within the thread's stack. A frame with any other rule sends the
 * whole stack to _Unwind_Backtrace. HOTSCOPE_NATIVE_VERIFY_UNWIND=1 in
 * the environment unwinds every stack both ways and counts differences
 * (MemTracer.stats(); the tests use it).
 *
 * Counted once: an allocator call made while this thread is inside one
 * of the Python allocators' hooks (pymalloc passing a large block to
 * malloc, PyMem_RawMalloc itself) finds the thread busy and is left to
 * that hook, as are the engine's own calls. A free is matched through the
 * same table of live blocks, so a block freed by whichever path is taken
 * out once, and a free of a block nobody traced changes nothing.
 *
 * The GIL: with it, the event is recorded at once (hooks.c). Without it
 * (C code that released the GIL, threads Python does not know), the
 * thread reads its own Python frames, which cannot change while it runs
 * C code, and queues them with the event for the next GIL holder. The
 * code objects they name must still exist when it is applied: they do if
 * the tree held all of them when queued (it keeps a reference to each),
 * or if the thread's stack, read again by the GIL holder, still has those
 * very frames (a frame keeps its code alive); which is almost always so,
 * since events are applied at the next allocation with the GIL. If not,
 * the event is charged to the "[no GIL]" thread with its native frames
 * alone, as are those of threads with no Python frames.
 */
#include "mem.h" /* Python.h first: it defines _GNU_SOURCE (dladdr1, dl_iterate_phdr) */

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unwind.h>

#include "eh_frame.h"

#define NATIVE_MAX_FRAMES 32
/* Frames of the engine and the interposer above the caller of malloc;
 * unwinding gives up looking for that caller after this many. */
#define NATIVE_MAX_SKIP 8

/* ---- the interposer ------------------------------------------------------- */

static hs_native_set_hooks_fn find_interposer(void) {
    void *sym = dlsym(RTLD_DEFAULT, HS_NATIVE_SET_HOOKS);
    hs_native_set_hooks_fn fn = NULL;
    if (sym)
        memcpy(&fn, &sym, sizeof fn); /* POSIX: dlsym's result converts to a function pointer */
    return fn;
}

int hs_mem_native_available(void) {
    return find_interposer() != NULL;
}

/* ---- unwinding -------------------------------------------------------------- */

typedef struct {
    uintptr_t caller;     /* the return address into the code that called malloc */
    uintptr_t lo, hi;     /* the interpreter's code */
    hs_frame_key *out;
    size_t n, max;
    int found;
    unsigned skipped;
} unwind_walk;

static _Unwind_Reason_Code unwind_step(struct _Unwind_Context *uc, void *arg) {
    unwind_walk *w = arg;
    uintptr_t ip = (uintptr_t)_Unwind_GetIP(uc);
    if (!ip)
        return _URC_END_OF_STACK;
    if (!w->found) {
        if (ip != w->caller)
            return ++w->skipped > NATIVE_MAX_SKIP ? _URC_END_OF_STACK : _URC_NO_REASON;
        w->found = 1;
    } else if (ip >= w->lo && ip < w->hi) {
        return _URC_END_OF_STACK; /* back in the interpreter: the Python frames take over */
    }
    w->out[w->n++] = (hs_frame_key){ip, HS_TRIE_NATIVE, 0};
    return w->n == w->max ? _URC_END_OF_STACK : _URC_NO_REASON;
}

/* The native frames by _Unwind_Backtrace, leaf (the caller of malloc)
 * first. */
static size_t slow_frames(const hs_mem *m, uintptr_t caller, hs_frame_key *out, size_t max) {
    unwind_walk w = {caller, m->interp_lo, m->interp_hi, out, 0, max, 0, 0};
    _Unwind_Backtrace(unwind_step, &w);
    if (!w.found) { /* no unwind tables on the way: the caller alone */
        out[0] = (hs_frame_key){caller, HS_TRIE_NATIVE, 0};
        return 1;
    }
    return w.n;
}

/* A thread's step rules by address: open addressing, emptied when full
 * (the addresses a program allocates from are few). */
#define RULE_SLOTS 2048
typedef struct hs_step_rule_cache {
    hs_step_rule slots[RULE_SLOTS];
    size_t count;
} hs_step_rule_cache;

void hs_mem_native_free_thread(hs_mem_tls *tls) {
    free(tls->rules);
    tls->rules = NULL;
}

void hs_mem_native_unwind_counts(const hs_mem *m, uint64_t counts[3]) {
    counts[0] = counts[1] = counts[2] = 0;
    for (const hs_mem_tls *t = m->tls_list; t; t = t->next) {
        counts[0] += t->unwinds_fast;
        counts[1] += t->unwinds_slow;
        counts[2] += t->unwind_mismatches;
    }
}

#if HS_HAVE_FAST_UNWIND
static const hs_step_rule *rule_for(hs_step_rule_cache *c, uintptr_t pc) {
    size_t i = (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 52) & (RULE_SLOTS - 1);
    while (c->slots[i].kind != HS_STEP_UNKNOWN) {
        if (c->slots[i].pc == pc)
            return &c->slots[i];
        i = (i + 1) & (RULE_SLOTS - 1);
    }
    if (c->count * 4 >= RULE_SLOTS * 3) { /* full: start again */
        memset(c->slots, 0, sizeof c->slots);
        c->count = 0;
        i = (size_t)((pc * 0x9E3779B97F4A7C15ull) >> 52) & (RULE_SLOTS - 1);
    }
    hs_eh_frame_rule(pc, &c->slots[i]);
    c->count++;
    return &c->slots[i];
}

/* This thread's stack bounds (pthread_getattr_np); 0 when unknown. */
static int stack_bounds(hs_mem_tls *tls) {
    if (tls->stack_hi)
        return 1;
    if (tls->stack_lo) /* tried before */
        return 0;
    tls->stack_lo = 1;
    pthread_attr_t attr;
    void *lo;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
    int ok = pthread_attr_getstack(&attr, &lo, &size) == 0;
    pthread_attr_destroy(&attr);
    if (!ok || !size)
        return 0;
    tls->stack_lo = (uintptr_t)lo;
    tls->stack_hi = (uintptr_t)lo + size;
    return 1;
}

static inline int on_stack(const hs_mem_tls *tls, uintptr_t at) {
    return at >= tls->stack_lo && at <= tls->stack_hi - sizeof(uintptr_t) && !(at & 7);
}

/* Whether a register saved by the frame whose stack pointer is `sp` and
 * CFA `cfa` can be at `at`: inside that frame, so on the stack and above
 * the stack pointer (mapped, and written by that frame). */
static inline int in_frame(const hs_mem_tls *tls, uintptr_t sp, uintptr_t cfa, uintptr_t at) {
    return at >= sp && at < cfa && on_stack(tls, at);
}

/* The native frames from the step rules, or (size_t)-1 when a frame's
 * rule is not simple or a read would leave the stack. */
static size_t fast_frames(const hs_mem *m, hs_mem_tls *tls, const hs_native_site *site,
                          hs_frame_key *out, size_t max) {
    if (!tls->rules && !(tls->rules = calloc(1, sizeof *tls->rules)))
        return (size_t)-1;
    if (!stack_bounds(tls))
        return (size_t)-1;
    uintptr_t ip = (uintptr_t)site->caller, sp = (uintptr_t)site->cfa, fp = (uintptr_t)site->frame;
    int fp_known = 1;
    size_t n = 0;
    if (!on_stack(tls, sp))
        return (size_t)-1;
    for (;;) {
        out[n++] = (hs_frame_key){ip, HS_TRIE_NATIVE, 0};
        if (n == max)
            return n;
        const hs_step_rule *r = rule_for(tls->rules, ip - 1);
        if (r->kind == HS_STEP_LAST)
            return n;
        if (r->kind != HS_STEP_SIMPLE || (r->cfa_from_rbp && !fp_known))
            return (size_t)-1;
        uintptr_t cfa = (r->cfa_from_rbp ? fp : sp) + (uintptr_t)(intptr_t)r->cfa_offset;
        uintptr_t ra_at = cfa + (uintptr_t)(intptr_t)r->ra_offset;
        if (cfa <= sp || cfa > tls->stack_hi || !in_frame(tls, sp, cfa, ra_at))
            return (size_t)-1;
        if (r->rbp_saved) {
            uintptr_t fp_at = cfa + (uintptr_t)(intptr_t)r->rbp_offset;
            if (!in_frame(tls, sp, cfa, fp_at))
                return (size_t)-1;
            memcpy(&fp, (const void *)fp_at, sizeof fp);
        } else if (r->rbp_undefined) {
            fp_known = 0;
        }
        memcpy(&ip, (const void *)ra_at, sizeof ip);
        sp = cfa;
        if (!ip || (ip >= m->interp_lo && ip < m->interp_hi))
            return n;
    }
}
#endif

/* The native frames of the current call, leaf (the caller of malloc)
 * first. */
static size_t native_frames(const hs_mem *m, hs_mem_tls *tls, const hs_native_site *site,
                            hs_frame_key *out, size_t max) {
#if HS_HAVE_FAST_UNWIND
    size_t n = fast_frames(m, tls, site, out, max);
    if (n != (size_t)-1) {
        tls->unwinds_fast++;
        if (m->verify_unwind) {
            hs_frame_key check[NATIVE_MAX_FRAMES];
            size_t k = slow_frames(m, (uintptr_t)site->caller, check, max);
            int same = k == n;
            for (size_t i = 0; same && i < n; i++)
                same = check[i].code == out[i].code;
            tls->unwind_mismatches += !same;
        }
        return n;
    }
#endif
    tls->unwinds_slow++;
    return slow_frames(m, (uintptr_t)site->caller, out, max);
}

typedef struct {
    uintptr_t addr, lo, hi;
} object_range;

static int find_object(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    object_range *r = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    int contains = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        contains |= r->addr >= a && r->addr < b;
    }
    if (!contains)
        return 0;
    r->lo = lo;
    r->hi = hi;
    return 1;
}

/* ---- the callbacks ---------------------------------------------------------- */

static void on_alloc(void *ctx, void *ptr, size_t size, const hs_native_site *site) {
    hs_mem *m = ctx;
    hs_mem_tls *tls = hs_mem_enter(m);
    if (!tls)
        return;
    hs_frame_key native[NATIVE_MAX_FRAMES];
    size_t n = native_frames(m, tls, site, native, NATIVE_MAX_FRAMES);
    if (PyGILState_Check()) {
        hs_mem_record_native(m, tls, ptr, size, native, n);
    } else {
        PyThreadState *own = PyGILState_GetThisThreadState();
        size_t got = own ? hs_pystack_walk(&m->layout, own, &tls->frames, &tls->frame_cap, SIZE_MAX) : 0;
        if (got == (size_t)-1)
            got = 0;
        hs_mem_queue_native(m, tls, own, (uintptr_t)ptr, size, 0, tls->frames, got, native, n);
    }
    hs_mem_leave(tls);
}

static void on_free(void *ctx, void *ptr) {
    hs_mem *m = ctx;
    hs_mem_tls *tls = hs_mem_enter(m);
    if (!tls)
        return;
    if (PyGILState_Check()) {
        hs_ptr_entry was;
        if (hs_mem_forget_native(m, tls, ptr, &was))
            hs_mem_charge_free_native(m, tls, was.size);
    } else {
        hs_mem_queue_native(m, tls, NULL, (uintptr_t)ptr, 0, 1, NULL, 0, NULL, 0);
    }
    hs_mem_leave(tls);
}

/* As hooks.c's realloc: the old block out before the real call (another
 * thread may get its address as soon as it returns), the new one in
 * after; a failed call leaves the old block in place, except that
 * realloc(p, 0) frees p (glibc). */
static void *on_realloc(void *ctx, void *old, size_t size, const hs_native_site *site,
                        hs_real_realloc_fn real) {
    hs_mem *m = ctx;
    hs_mem_tls *tls = hs_mem_enter(m);
    if (!tls)
        return real(old, size);
    int gil = PyGILState_Check();
    hs_ptr_entry was = {0, 0, 0};
    int had = 0;
    if (old) {
        if (gil)
            had = hs_mem_forget_native(m, tls, old, &was);
        else
            hs_mem_queue_native(m, tls, NULL, (uintptr_t)old, 0, 1, NULL, 0, NULL, 0);
    }
    void *ptr = real(old, size);
    if (ptr || (old && size == 0)) {
        if (had)
            hs_mem_charge_free_native(m, tls, was.size);
        hs_mem_leave(tls);
        if (ptr)
            on_alloc(ctx, ptr, size, site);
        return ptr;
    }
    if (had)
        hs_mem_restore_block(m, &was);
    else if (old && !gil)
        hs_mem_queue_lost(m); /* the old block's size is unknown here: untraced from now on */
    hs_mem_leave(tls);
    return ptr;
}

/* fork(): the forking thread holds the lock across it, so the child's
 * copy of the queue is whole (no thread of the parent was half-way
 * through it) and the lock is free again on both sides. */
static void on_fork_prepare(void *ctx) {
    hs_mem_lock(ctx);
}

static void on_fork_parent(void *ctx) {
    hs_mem_unlock(ctx);
}

static void on_fork_child(void *ctx) {
    hs_mem_unlock(ctx);
}

/* ---- starting and stopping ------------------------------------------------ */

int hs_mem_native_start(hs_mem *m, char *err, size_t errlen) {
    hs_native_set_hooks_fn set = find_interposer();
    if (!set) {
        snprintf(err, errlen,
                 "native allocations need hotscope's malloc interposer loaded at start-up: "
                 "run the program with `hotscope mem --native`");
        return -1;
    }
    object_range interp = {(uintptr_t)&PyEval_EvalCode, 0, 0};
    if (!dl_iterate_phdr(find_object, &interp))
        interp.lo = interp.hi = 0;
    m->interp_lo = interp.lo;
    m->interp_hi = interp.hi;
    /* The first unwind loads and sets up what it needs (it may allocate):
     * done here, where this thread is busy, not inside a report. */
    hs_frame_key warm[2];
    slow_frames(m, 0, warm, 2);
    const char *verify = getenv("HOTSCOPE_NATIVE_VERIFY_UNWIND");
    m->verify_unwind = verify && verify[0] == '1';
    m->native_hooks = (hs_native_hooks){HS_NATIVE_ABI, m,      on_alloc,       on_free,
                                        on_realloc,    on_fork_prepare, on_fork_parent, on_fork_child};
    if (set(&m->native_hooks) != 0) {
        snprintf(err, errlen, "the malloc interposer is already reporting to another recording, "
                              "or is from another build of hotscope");
        return -1;
    }
    m->native_set_hooks = set;
    m->native_registered = 1;
    return 0;
}

void hs_mem_native_stop(hs_mem *m) {
    if (!m->native_registered)
        return;
    m->native_registered = 0;
    m->native_set_hooks(NULL);
}

uint32_t hs_mem_native_chain(hs_mem *m, uint32_t node, const hs_frame_key *frames, size_t n) {
    for (size_t k = n; k-- > 0 && node != HS_TRIE_NONE;) {
        int created;
        node = hs_stacktrie_child(&m->trie, node, frames[k].code, HS_TRIE_NATIVE, &created);
    }
    return node;
}

/* ---- the code objects the tree holds -------------------------------------- */

static inline size_t held_slot(uintptr_t code, size_t mask) {
    return (size_t)(((uint64_t)(code >> 4) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

int hs_mem_hold_code(hs_mem *m, uintptr_t code) {
    if ((m->held_count + 1) * 2 > m->held_cap) {
        size_t cap = m->held_cap ? m->held_cap * 2 : 1024;
        uintptr_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < m->held_cap; i++) {
            uintptr_t c = m->held_codes[i];
            if (!c)
                continue;
            size_t s = held_slot(c, cap - 1);
            while (slots[s])
                s = (s + 1) & (cap - 1);
            slots[s] = c;
        }
        free(m->held_codes);
        m->held_codes = slots;
        m->held_cap = cap;
    }
    size_t mask = m->held_cap - 1, s = held_slot(code, mask);
    while (m->held_codes[s] && m->held_codes[s] != code)
        s = (s + 1) & mask;
    if (!m->held_codes[s]) {
        m->held_codes[s] = code;
        m->held_count++;
    }
    return 0;
}

int hs_mem_codes_held(const hs_mem *m, const hs_frame_key *frames, size_t n) {
    if (!n)
        return 1;
    if (!m->held_cap)
        return 0;
    size_t mask = m->held_cap - 1;
    for (size_t k = 0; k < n; k++) {
        size_t s = held_slot(frames[k].code, mask);
        while (m->held_codes[s] != frames[k].code) {
            if (!m->held_codes[s])
                return 0;
            s = (s + 1) & mask;
        }
    }
    return 1;
}
