/*
 * stats.c - cProfile's per-function and per-caller numbers, derived from
 * the call tree (stats.h).
 *
 * CPython's Modules/_lsprof.c keeps, per function and per (caller, callee)
 * pair, a recursion level that rises on call and falls on return; time
 * goes into "cumtime" only when the level returns to zero, and a call
 * made while the level was already positive counts as recursive
 * (Lib/cProfile.py create_stats turns that into nc/cc/tt/ct and callers).
 * Here one depth-first walk replays those calls over the tree: entering a
 * node is a call, leaving it a return, and the same two kinds of counters
 * (active depth per function, per edge) decide which nodes are outermost.
 * Because a tree node already merges every call along one path, its
 * weights are added in bulk and the result equals cProfile's exactly.
 *
 * The walk follows parent/sibling links rather than recursing: profiles
 * contain stacks 100,000 frames deep.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

/* func_of_frame values besides a function index. */
#define UNRESOLVED HS_NONE                /* not looked at yet */
#define NOT_A_FUNCTION ((hs_id)0xFFFFFFFEu) /* a thread frame */

hs_id hs_function_of(hs_profile *p, hs_id frame) {
    if (frame >= p->frame_count)
        return HS_NONE;
    /* Copy: interning may move p->frames. */
    hs_frame f = p->frames[frame];
    if (f.line == 0)
        return frame;
    return hs_frame_intern(p, f.name, f.file, f.first_line, 0, f.kind);
}

typedef struct {
    hs_profile *p;
    hs_stats *out;
    size_t func_cap, edge_cap;

    hs_id *func_of_frame;   /* node frame id -> index in out->funcs */
    size_t frame_limit;     /* frames that existed before we interned any */
    hs_id *func_of_fid;     /* function frame id -> index in out->funcs */
    size_t fid_limit;
    size_t *func_active;    /* per function: how many of its nodes are open */

    size_t *edge_active;    /* per edge: how many of its nodes are open */
    hs_id *edge_slots;      /* (caller index, callee index) -> edge index */
    size_t edge_slot_count;
    hs_id *node_edge;       /* per node: the edge it entered through */

    int64_t *totals;        /* HS_W_COUNT rows of node_count totals */
} stats_ctx;

static void *grow(void *arr, size_t *cap, size_t elem, size_t count) {
    if (count < *cap)
        return arr;
    size_t n = *cap ? *cap * 2 : 64;
    if (n < *cap || n > SIZE_MAX / elem)
        return NULL;
    void *grown = realloc(arr, n * elem);
    if (grown == NULL)
        return NULL;
    *cap = n;
    return grown;
}

static void *alloc_array(size_t n, size_t elem) {
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / elem)
        return NULL;
    return malloc(n * elem);
}

/* The function index of a node frame: NOT_A_FUNCTION for the root and
 * thread frames, HS_NONE on allocation failure. */
static hs_id function_index(stats_ctx *c, hs_id frame) {
    if (frame == HS_NONE || frame >= c->frame_limit)
        return NOT_A_FUNCTION;
    hs_id known = c->func_of_frame[frame];
    if (known != UNRESOLVED)
        return known;
    if (c->p->frames[frame].kind == HS_KIND_THREAD) {
        c->func_of_frame[frame] = NOT_A_FUNCTION;
        return NOT_A_FUNCTION;
    }
    hs_id fid = hs_function_of(c->p, frame);
    /* Each frame adds at most one function frame, so fid < fid_limit;
     * checked anyway rather than trusted. */
    if (fid == HS_NONE || fid >= c->fid_limit)
        return HS_NONE;
    hs_id index = c->func_of_fid[fid];
    if (index == HS_NONE) {
        hs_stats *out = c->out;
        if (out->func_count >= (size_t)NOT_A_FUNCTION)
            return HS_NONE;
        size_t cap = c->func_cap;
        hs_func_stats *funcs = grow(out->funcs, &cap, sizeof *funcs, out->func_count);
        if (funcs == NULL)
            return HS_NONE;
        out->funcs = funcs;
        size_t active_cap = c->func_cap;
        size_t *active = grow(c->func_active, &active_cap, sizeof *active, out->func_count);
        if (active == NULL)
            return HS_NONE;
        c->func_active = active;
        c->func_cap = cap;
        index = (hs_id)out->func_count++;
        memset(&funcs[index], 0, sizeof funcs[index]);
        funcs[index].function = fid;
        active[index] = 0;
        c->func_of_fid[fid] = index;
    }
    c->func_of_frame[frame] = index;
    return index;
}

static uint64_t edge_hash(hs_id caller, hs_id callee) {
    return hs_hash_mix(hs_hash_mix(0, caller), callee);
}

static int edge_index_grow(stats_ctx *c) {
    size_t n = c->edge_slot_count ? c->edge_slot_count * 2 : 64;
    if (n < c->edge_slot_count)
        return -1;
    hs_id *slots = alloc_array(n, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        slots[i] = HS_NONE;
    size_t mask = n - 1;
    const hs_stats *out = c->out;
    for (size_t e = 0; e < out->edge_count; e++) {
        /* While the walk runs, caller/callee hold function indexes; they
         * become frame ids at the end. */
        size_t i = (size_t)edge_hash(out->edges[e].caller, out->edges[e].callee) & mask;
        while (slots[i] != HS_NONE)
            i = (i + 1) & mask;
        slots[i] = (hs_id)e;
    }
    free(c->edge_slots);
    c->edge_slots = slots;
    c->edge_slot_count = n;
    return 0;
}

/* The edge index of caller -> callee (function indexes), created if
 * absent; HS_NONE on failure. */
static hs_id edge_index(stats_ctx *c, hs_id caller, hs_id callee) {
    hs_stats *out = c->out;
    uint64_t h = edge_hash(caller, callee);
    if (c->edge_slot_count) {
        size_t mask = c->edge_slot_count - 1;
        for (size_t i = (size_t)h & mask; c->edge_slots[i] != HS_NONE; i = (i + 1) & mask) {
            const hs_edge_stats *e = &out->edges[c->edge_slots[i]];
            if (e->caller == caller && e->callee == callee)
                return c->edge_slots[i];
        }
    }
    if (out->edge_count >= (size_t)HS_NONE)
        return HS_NONE;
    if ((c->edge_slot_count == 0 || (out->edge_count + 1) * 3 > c->edge_slot_count * 2) &&
        edge_index_grow(c) != 0)
        return HS_NONE;
    size_t cap = c->edge_cap;
    hs_edge_stats *edges = grow(out->edges, &cap, sizeof *edges, out->edge_count);
    if (edges == NULL)
        return HS_NONE;
    out->edges = edges;
    size_t active_cap = c->edge_cap;
    size_t *active = grow(c->edge_active, &active_cap, sizeof *active, out->edge_count);
    if (active == NULL)
        return HS_NONE;
    c->edge_active = active;
    c->edge_cap = cap;
    hs_id index = (hs_id)out->edge_count++;
    memset(&edges[index], 0, sizeof edges[index]);
    edges[index].caller = caller;
    edges[index].callee = callee;
    active[index] = 0;
    size_t mask = c->edge_slot_count - 1;
    size_t i = (size_t)h & mask;
    while (c->edge_slots[i] != HS_NONE)
        i = (i + 1) & mask;
    c->edge_slots[i] = index;
    return index;
}

/* A call: adds node n's numbers to its function and to the edge it was
 * called through. */
static int enter_node(stats_ctx *c, hs_id n, hs_id start) {
    const hs_profile *p = c->p;
    size_t nodes = p->node_count;
    const hs_node *nd = &p->nodes[n];
    c->node_edge[n] = HS_NONE;
    hs_id fi = function_index(c, nd->frame);
    if (fi == HS_NONE)
        return -1;
    if (fi == NOT_A_FUNCTION)
        return 0;
    int64_t calls = nd->self[HS_W_CALLS];

    hs_func_stats *f = &c->out->funcs[fi];
    f->calls = hs_sat_add(f->calls, calls);
    int outermost = c->func_active[fi]++ == 0;
    if (outermost)
        f->primitive_calls = hs_sat_add(f->primitive_calls, calls);
    for (int w = 0; w < HS_W_COUNT; w++) {
        f->self[w] = hs_sat_add(f->self[w], nd->self[w]);
        if (outermost)
            f->total[w] = hs_sat_add(f->total[w], c->totals[(size_t)w * nodes + n]);
    }

    /* The start node's caller lies outside the subtree being summarised. */
    if (n == start)
        return 0;
    hs_id ci = function_index(c, p->nodes[nd->parent].frame);
    if (ci == HS_NONE)
        return -1;
    if (ci == NOT_A_FUNCTION)
        return 0;
    hs_id ei = edge_index(c, ci, fi);
    if (ei == HS_NONE)
        return -1;
    c->node_edge[n] = ei;
    hs_edge_stats *e = &c->out->edges[ei];
    e->calls = hs_sat_add(e->calls, calls);
    outermost = c->edge_active[ei]++ == 0;
    if (outermost)
        e->primitive_calls = hs_sat_add(e->primitive_calls, calls);
    for (int w = 0; w < HS_W_COUNT; w++) {
        e->self[w] = hs_sat_add(e->self[w], nd->self[w]);
        if (outermost)
            e->total[w] = hs_sat_add(e->total[w], c->totals[(size_t)w * nodes + n]);
    }
    return 0;
}

/* A return: closes what enter_node opened. */
static void leave_node(stats_ctx *c, hs_id n) {
    hs_id fi = function_index(c, c->p->nodes[n].frame);
    /* Already resolved on entry, so this cannot allocate or fail. */
    if (fi == HS_NONE || fi == NOT_A_FUNCTION)
        return;
    c->func_active[fi]--;
    if (c->node_edge[n] != HS_NONE)
        c->edge_active[c->node_edge[n]]--;
}

static int walk(stats_ctx *c, hs_id start) {
    const hs_profile *p = c->p;
    hs_id n = start;
    if (enter_node(c, n, start) != 0)
        return -1;
    for (;;) {
        if (p->nodes[n].first_child != HS_NONE) {
            n = p->nodes[n].first_child;
        } else {
            /* Return from n and every ancestor that has no next sibling. */
            for (;;) {
                leave_node(c, n);
                if (n == start)
                    return 0;
                if (p->nodes[n].next_sibling != HS_NONE)
                    break;
                n = p->nodes[n].parent;
            }
            n = p->nodes[n].next_sibling;
        }
        if (enter_node(c, n, start) != 0)
            return -1;
    }
}

static int edge_order(const void *a, const void *b) {
    const hs_edge_stats *x = a, *y = b;
    if (x->callee != y->callee)
        return x->callee < y->callee ? -1 : 1;
    if (x->caller != y->caller)
        return x->caller < y->caller ? -1 : 1;
    return 0;
}

int hs_stats_compute(hs_profile *p, hs_id start, hs_stats *out) {
    memset(out, 0, sizeof *out);
    if (start >= p->node_count)
        return -1;
    stats_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.out = out;
    c.frame_limit = p->frame_count;
    c.fid_limit = p->frame_count <= SIZE_MAX / 2 ? 2 * p->frame_count : SIZE_MAX;
    size_t nodes = p->node_count;
    int rc = -1;

    c.func_of_frame = alloc_array(c.frame_limit, sizeof *c.func_of_frame);
    c.func_of_fid = alloc_array(c.fid_limit, sizeof *c.func_of_fid);
    c.node_edge = alloc_array(nodes, sizeof *c.node_edge);
    c.totals = nodes <= SIZE_MAX / HS_W_COUNT ? alloc_array(nodes * HS_W_COUNT, sizeof *c.totals)
                                              : NULL;
    if (!c.func_of_frame || !c.func_of_fid || !c.node_edge || !c.totals)
        goto done;
    for (size_t i = 0; i < c.frame_limit; i++)
        c.func_of_frame[i] = UNRESOLVED;
    for (size_t i = 0; i < c.fid_limit; i++)
        c.func_of_fid[i] = HS_NONE;
    for (int w = 0; w < HS_W_COUNT; w++)
        hs_node_totals(p, (hs_weight)w, c.totals + (size_t)w * nodes);

    if (walk(&c, start) != 0)
        goto done;

    for (int w = 0; w < HS_W_COUNT; w++)
        out->total[w] = c.totals[(size_t)w * nodes + start];
    /* Edges were keyed by function index during the walk; publish frame ids. */
    for (size_t e = 0; e < out->edge_count; e++) {
        out->edges[e].caller = out->funcs[out->edges[e].caller].function;
        out->edges[e].callee = out->funcs[out->edges[e].callee].function;
    }
    if (out->edge_count > 1)
        qsort(out->edges, out->edge_count, sizeof *out->edges, edge_order);
    rc = 0;

done:
    free(c.func_of_frame);
    free(c.func_of_fid);
    free(c.func_active);
    free(c.edge_active);
    free(c.edge_slots);
    free(c.node_edge);
    free(c.totals);
    if (rc != 0)
        hs_stats_free(out);
    return rc;
}

void hs_stats_free(hs_stats *s) {
    free(s->funcs);
    free(s->edges);
    memset(s, 0, sizeof *s);
}
