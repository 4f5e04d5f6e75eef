/*
 * mem_stack.h - the node of an allocation's Python stack in the tree
 * (stacktrie.h), from the interpreter's frames (pystack.h) and this
 * thread's cache of its last stack (mem.h, hs_mem_tls).
 *
 * The common case is inline here, for the allocation hooks (hooks.c): the
 * innermost frame is the one cached last and has run throughout since, so
 * only its instruction is read. Otherwise mem_stack.c reads the frames
 * that may have changed since the thread's last read (3.12+: the exits
 * sys.monitoring reports, mem_watch.c; 3.10 and 3.11: the frame
 * evaluation hook, src/pymod/evalhook.h) or the whole stack, and looks up what
 * differs from the cache.
 */
#ifndef HOTSCOPE_MEM_STACK_H
#define HOTSCOPE_MEM_STACK_H

#include "mem.h"
#include "../pymod/evalhook.h"

/* Every node that names a code object holds a reference to it (GIL
 * held); with --native, threads without the GIL may name it from now on. */
void hs_mem_hold_new_code(hs_mem *m, uintptr_t code);

/* The node of the current stack (GIL held) under `root`, this thread's
 * node, without the inline case; HS_TRIE_NONE when memory runs out. */
uint32_t hs_mem_read_stack(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate, uint32_t root);

/* The node under `parent` for (code, offset), created when new;
 * HS_TRIE_NONE when memory runs out. Through this thread's memo first. */
static inline uint32_t hs_mem_child_node(hs_mem *m, hs_mem_tls *tls, uint32_t parent, uintptr_t code,
                                         int32_t offset) {
    uint32_t h = ((uint32_t)offset ^ parent ^ (uint32_t)(code >> 4)) * 0x9E3779B9u;
    hs_mem_memo *e = &tls->memo[h >> (32 - 6)];
    _Static_assert(HS_MEM_MEMO == 1 << 6, "memo index bits");
    if (e->code == code && e->parent == parent && e->offset == offset)
        return e->node;
    int created;
    uint32_t node = hs_stacktrie_child(&m->trie, parent, code, offset, &created);
    if (node == HS_TRIE_NONE)
        return node;
    if (created)
        hs_mem_hold_new_code(m, code);
    *e = (hs_mem_memo){code, parent, offset, node};
    return node;
}

#if HS_HAVE_EVALHOOK
/* With the evaluation hook (before 3.12, src/pymod/evalhook.h): the frame of
 * the deepest level whose call has run throughout since this engine's
 * last read on this thread, when its slot still names it; 0 if none. */
static inline uintptr_t hs_mem_steady_frame(const hs_eval_levels *h, uint64_t reader) {
    int b = h->low < h->depth ? h->low : h->depth;
    if (h->reader != reader)
        return 0;
    for (int c = b; c >= 1 && c > b - HS_EVAL_SLOTS; c--) {
        const hs_eval_slot *s = &h->slot[c & (HS_EVAL_SLOTS - 1)];
        if (s->level == c)
            return s->frame;
    }
    return 0;
}

#endif

/* The leaf cached at `leaf` (not the root's child) moved to `offset`: its
 * node under the same caller. */
static inline uint32_t hs_mem_leaf_moved(hs_mem *m, hs_mem_tls *tls, hs_mem_cached_frame *leaf,
                                         int32_t offset) {
    uint32_t node = hs_mem_child_node(m, tls, leaf[-1].node, leaf->code, offset);
    if (node == HS_TRIE_NONE) {
        tls->cache_len = (size_t)(leaf - tls->cache);
        return node;
    }
    leaf->offset = offset;
    leaf->node = node;
    return node;
}

/* The common case, inlined into the allocation hooks: the innermost frame
 * is the leaf of this thread's last read and has run throughout since
 * (3.12+: the exit mark, with the caller checked as cached against the
 * exits no event reports; before: the hook's steady level), so only its
 * instruction is read. HS_MEM_NOT_FAST otherwise. */
#define HS_MEM_NOT_FAST (HS_TRIE_NONE - 2)
static inline uint32_t hs_mem_fast_node(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate) {
    size_t depth = tls->cache_len;
    if (!tstate || depth < 2)
        return HS_MEM_NOT_FAST;
    hs_mem_cached_frame *leaf = &tls->cache[depth - 1];
    uintptr_t frame = hs_pystack_top(tstate);
    if (frame != leaf->frame)
        return HS_MEM_NOT_FAST;
    const hs_pystack_layout *l = &m->layout;
#if HS_HAVE_MONITORING
    if (!m->watching || tls->low < (int)depth - 1 || hs_pystack_depth(tstate) != (int)depth)
        return HS_MEM_NOT_FAST;
    uintptr_t caller = hs_pystack_previous(l, frame);
    if (caller != leaf[-1].frame || hs_pystack_code(l, caller) != leaf[-1].code ||
        !hs_pystack_at(l, caller, leaf[-1].code, leaf[-1].offset))
        return HS_MEM_NOT_FAST;
    tls->low = (int)depth;
#elif HS_HAVE_EVALHOOK
    hs_eval_levels *h = hs_evalhook_levels();
    if (!m->evalhook || hs_mem_steady_frame(h, m->id) != frame)
        return HS_MEM_NOT_FAST;
    h->low = h->depth;
#else
    return HS_MEM_NOT_FAST;
#endif
    uintptr_t code = hs_pystack_code(l, frame);
    if (code != leaf->code) {
        tls->cache_len = depth - 1; /* cannot happen to a frame that did not leave; read anew */
        return HS_MEM_NOT_FAST;
    }
    if (hs_pystack_at(l, frame, code, leaf->offset))
        return leaf->node;
    return hs_mem_leaf_moved(m, tls, leaf, hs_pystack_offset(l, frame, code));
}

#endif
