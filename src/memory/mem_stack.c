/*
 * mem_stack.c - the node of an allocation's Python stack when the inline
 * case of mem_stack.h does not apply: the frames that may have changed
 * since this thread's last read, or all of them, looked up in the tree
 * where they differ from the thread's cache.
 */
#include "mem_stack.h"

#include <stdlib.h>

/* Makes room for `depth` cached frames. 0 or -1. */
static int cache_reserve(hs_mem_tls *tls, size_t depth) {
    if (depth <= tls->cache_cap)
        return 0;
    size_t cap = tls->cache_cap ? tls->cache_cap : 64;
    while (cap < depth)
        cap *= 2;
    hs_mem_cached_frame *grown = realloc(tls->cache, cap * sizeof *grown);
    if (!grown)
        return -1;
    tls->cache = grown;
    tls->cache_cap = cap;
    return 0;
}

/* A new node names `code`: the node keeps its code object alive (GIL
 * held), and with --native threads without the GIL may now name it. */
void hs_mem_hold_new_code(hs_mem *m, uintptr_t code) {
    Py_INCREF((PyObject *)code);
    if (m->native) {
        hs_mem_lock(m);
        if (hs_mem_hold_code(m, code) != 0)
            m->pending_lost++;
        hs_mem_unlock(m);
    }
}

/* The node of frames f[0..count) (leaf first) standing at cache positions
 * k0 .. k0 + count - 1 (root first) under `node` (the node at k0 - 1).
 * Skips what matches the cache, then looks up (and caches) the rest. */
static uint32_t resolve_frames(hs_mem *m, hs_mem_tls *tls, const hs_frame_key *f, size_t count,
                               size_t k0, uint32_t node) {
    size_t depth = k0 + count;
    if (cache_reserve(tls, depth) != 0)
        return HS_TRIE_NONE;
    hs_mem_cached_frame *c = tls->cache;
    size_t k = k0, n = tls->cache_len < depth ? tls->cache_len : depth;
    while (k < n && c[k].code == f[depth - 1 - k].code && c[k].offset == f[depth - 1 - k].offset) {
        c[k].frame = f[depth - 1 - k].frame; /* same code and place, maybe a new activation */
        k++;
    }
    if (k > k0)
        node = c[k - 1].node;
    for (; k < depth; k++) {
        const hs_frame_key *key = &f[depth - 1 - k];
        uint32_t child = hs_mem_child_node(m, tls, node, key->code, key->offset);
        if (child == HS_TRIE_NONE) {
            tls->cache_len = k;
            return HS_TRIE_NONE;
        }
        node = child;
        c[k] = (hs_mem_cached_frame){key->code, key->offset, node, key->frame};
    }
    tls->cache_len = depth;
    return node;
}

/* With exits watched (3.12+, mem_watch.c): frames below depth tls->low
 * have not run since this thread's last event, so only the frames from
 * the leaf down to that depth are read, and the first frame below them
 * must be exactly the cached one (address, code, instruction), or the
 * whole stack is walked. Returns HS_TRIE_NONE - 1 when it cannot be used. */
#define NOT_PARTIAL (HS_TRIE_NONE - 1)
static uint32_t partial_stack_node(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate, int depth,
                                   uint32_t root) {
    int s = tls->low < depth ? tls->low : depth; /* the lowest depth to read again */
    if (s < 1 || (size_t)s > tls->cache_len + 1 || s < 2)
        return NOT_PARTIAL;
    size_t n = (size_t)(depth - s + 1);
    size_t got = hs_pystack_walk(&m->layout, tstate, &tls->frames, &tls->frame_cap, n + 1);
    if (got != n + 1)
        return NOT_PARTIAL;
    const hs_frame_key *below = &tls->frames[n];
    const hs_mem_cached_frame *kept = &tls->cache[s - 2];
    if (below->frame != kept->frame || below->code != kept->code || below->offset != kept->offset)
        return NOT_PARTIAL;
    (void)root;
    return resolve_frames(m, tls, tls->frames, n, (size_t)s - 1, kept->node);
}

#if HS_HAVE_EVALHOOK
/* Only the frames from the leaf down to the steady frame are read, and
 * the cached frames below it kept, once that frame is found both on the
 * stack and in the cache; otherwise the whole stack is read. */
static uint32_t hooked_stack_node(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate,
                                  uint32_t root) {
    hs_eval_levels *h = hs_evalhook_levels();
    uintptr_t steady = tls->cache_len ? hs_mem_steady_frame(h, m->id) : 0;
    size_t got;
    uint32_t node;
    if (steady) {
        got = hs_pystack_walk_until(&m->layout, tstate, steady, &tls->frames, &tls->frame_cap);
        if (got == (size_t)-1)
            return HS_TRIE_NONE;
        if (got && tls->frames[got - 1].frame == steady) {
            size_t k = tls->cache_len;
            while (k-- > 0 && tls->cache[k].frame != steady)
                ;
            if (k != (size_t)-1 && tls->cache[k].code == tls->frames[got - 1].code) {
                node = resolve_frames(m, tls, tls->frames, got, k, k ? tls->cache[k - 1].node : root);
                h->low = h->depth;
                return node;
            }
            got = hs_pystack_walk(&m->layout, tstate, &tls->frames, &tls->frame_cap, SIZE_MAX);
        }
        /* else the steady frame is not on this stack: all of it was read */
        m->full_walks++;
    } else {
        got = hs_pystack_walk(&m->layout, tstate, &tls->frames, &tls->frame_cap, SIZE_MAX);
    }
    if (got == (size_t)-1)
        return HS_TRIE_NONE;
    node = resolve_frames(m, tls, tls->frames, got, 0, root);
    h->low = h->depth;
    h->reader = m->id;
    return node;
}
#endif

uint32_t hs_mem_read_stack(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate, uint32_t root) {
#if HS_HAVE_EVALHOOK
    if (m->evalhook)
        return hooked_stack_node(m, tls, tstate, root);
#endif
    int depth = m->watching ? hs_pystack_depth(tstate) : -1;
    if (depth > 0 && tls->low > 0) {
        uint32_t node = partial_stack_node(m, tls, tstate, depth, root);
        if (node != NOT_PARTIAL) {
            tls->low = depth;
            return node;
        }
        m->full_walks++;
    }
    size_t got = hs_pystack_walk(&m->layout, tstate, &tls->frames, &tls->frame_cap, SIZE_MAX);
    if (got == (size_t)-1)
        return HS_TRIE_NONE;
    /* The watermark is only trusted when the interpreter's count agrees
     * with the frames walked. */
    tls->low = depth > 0 && (size_t)depth == got ? depth : 0;
    return resolve_frames(m, tls, tls->frames, got, 0, root);
}
