/*
 * stats.c - cProfile's per-function and per-caller numbers, derived from
 * the call tree (stats.h).
 *
 * CPython's Modules/_lsprof.c keeps, per function and per (caller, callee)
 * pair, a recursion level that rises on call and falls on return; time
 * goes into "cumtime" only when the level returns to zero, and a call
 * made while the level was already positive counts as recursive
 * (Lib/cProfile.py create_stats turns that into nc/cc/tt/ct and callers).
 * Here a depth-first walk replays those calls over the tree: entering a
 * node is a call, leaving it a return, and the same two kinds of counters
 * (active depth per function, per edge) decide which nodes are outermost.
 * Because a tree node already merges every call along one path, its
 * weights are added in bulk and the result equals cProfile's exactly.
 *
 * The walks follow parent/sibling links rather than recursing: profiles
 * contain stacks 100,000 frames deep.
 *
 * Cost, for profiles of millions of nodes (a sampled profile of 100,000
 * distinct random stacks has 2 million nodes and as many edges):
 *   - only the weights the profile has are summed (a sampled profile has
 *     two of ten), and node totals are kept node by node, so one node's
 *     are one cache line;
 *   - edges are computed only when asked for, with one weight;
 *   - edges are found by sorting rather than hashing: the first walk
 *     notes each node called from a function with both functions, then
 *     two counting sorts over function ranks (by caller, then by callee)
 *     line up the nodes of each caller -> callee pair, in the order the
 *     edges are published in, and a second walk adds them up. A hash of
 *     millions of edges cost a cache miss or two per node, more than all
 *     the rest; a comparison sort of 184-byte edges took seconds.
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

/* A node called from a function (not from a thread frame, nor from
 * outside the subtree): its caller's function and its own, as function
 * indexes in the first walk and as ranks in function frame id order
 * when sorted, so that sorting and scanning read the items alone. */
typedef struct {
    hs_id caller, callee;
    hs_id node;
} called_node;

/* An edge while the walk adds it up: how many of its nodes are open, and
 * its sums. */
typedef struct {
    uint32_t active;
    int64_t calls, primitive_calls, self, total;
} edge_acc;

typedef struct {
    hs_profile *p;
    hs_stats *out;
    size_t func_cap;

    hs_id *func_of_frame;   /* node frame id -> index in out->funcs */
    size_t frame_limit;     /* frames that existed before we interned any */
    hs_id *func_of_fid;     /* function frame id -> index in out->funcs */
    size_t fid_limit;
    size_t *func_active;    /* per function: how many of its nodes are open */

    /* Edges only. */
    int with_edges;
    called_node *called;    /* the nodes called from a function, in walk order */
    size_t called_count;
    hs_id *node_edge;       /* per node: its edge, or HS_NONE */
    edge_acc *edges;        /* in the order of out->edges */

    /* The weights the profile has. The others are zero on every node
     * (hs_node_add, the one writer of weights, marks each it adds), so
     * their sums are zero without adding anything up. */
    hs_weight present[HS_W_COUNT];
    int npresent;
    int edge_k;             /* the edge weight's index in present, or -1 */
    int64_t *totals;        /* node by node: totals[node * npresent + k] */
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

/* First walk, a call: adds node n's numbers to its function, and notes
 * the node if it lies on an edge. */
static int enter_function(stats_ctx *c, hs_id n, hs_id start) {
    const hs_node *nd = &c->p->nodes[n];
    hs_id fi = function_index(c, nd->frame);
    if (fi == HS_NONE)
        return -1;
    if (fi == NOT_A_FUNCTION)
        return 0;
    if (c->with_edges && n != start) {
        /* The parent was entered before, so its function is resolved
         * (no allocation) and its node is still in cache. */
        hs_id ci = function_index(c, c->p->nodes[nd->parent].frame);
        if (ci < NOT_A_FUNCTION)
            c->called[c->called_count++] = (called_node){ci, fi, n};
    }
    int64_t calls = nd->self[HS_W_CALLS];
    hs_func_stats *f = &c->out->funcs[fi];
    f->calls = hs_sat_add(f->calls, calls);
    int outermost = c->func_active[fi]++ == 0;
    if (outermost)
        f->primitive_calls = hs_sat_add(f->primitive_calls, calls);
    const int64_t *totals = c->totals + (size_t)n * (size_t)c->npresent;
    for (int k = 0; k < c->npresent; k++) {
        hs_weight w = c->present[k];
        f->self[w] = hs_sat_add(f->self[w], nd->self[w]);
        if (outermost)
            f->total[w] = hs_sat_add(f->total[w], totals[k]);
    }
    return 0;
}

/* First walk, a return: closes what enter_function opened. */
static void leave_function(stats_ctx *c, hs_id n) {
    hs_id fi = function_index(c, c->p->nodes[n].frame);
    /* Already resolved on entry, so this cannot allocate or fail. */
    if (fi != HS_NONE && fi != NOT_A_FUNCTION)
        c->func_active[fi]--;
}

/* Second walk, a call: adds node n's numbers to the edge it was called
 * through, if any (find_edges decided which). */
static int enter_edge(stats_ctx *c, hs_id n, hs_id start) {
    (void)start;
    hs_id ei = c->node_edge[n];
    if (ei == HS_NONE)
        return 0;
    const hs_node *nd = &c->p->nodes[n];
    int64_t calls = nd->self[HS_W_CALLS];
    edge_acc *e = &c->edges[ei];
    e->calls = hs_sat_add(e->calls, calls);
    int outermost = e->active++ == 0;
    if (outermost)
        e->primitive_calls = hs_sat_add(e->primitive_calls, calls);
    if (c->edge_k >= 0) {
        e->self = hs_sat_add(e->self, nd->self[c->present[c->edge_k]]);
        if (outermost)
            e->total = hs_sat_add(e->total, c->totals[(size_t)n * (size_t)c->npresent + (size_t)c->edge_k]);
    }
    return 0;
}

static void leave_edge(stats_ctx *c, hs_id n) {
    if (c->node_edge[n] != HS_NONE)
        c->edges[c->node_edge[n]].active--;
}

/* Depth-first over the subtree at `start`: the first walk (functions) or
 * the second (edges). */
static int walk(stats_ctx *c, hs_id start, int edges) {
    int (*enter)(stats_ctx *, hs_id, hs_id) = edges ? enter_edge : enter_function;
    void (*leave)(stats_ctx *, hs_id) = edges ? leave_edge : leave_function;
    const hs_profile *p = c->p;
    hs_id n = start;
    if (enter(c, n, start) != 0)
        return -1;
    for (;;) {
        if (p->nodes[n].first_child != HS_NONE) {
            n = p->nodes[n].first_child;
        } else {
            /* Return from n and every ancestor that has no next sibling. */
            for (;;) {
                leave(c, n);
                if (n == start)
                    return 0;
                if (p->nodes[n].next_sibling != HS_NONE)
                    break;
                n = p->nodes[n].parent;
            }
            n = p->nodes[n].next_sibling;
        }
        if (enter(c, n, start) != 0)
            return -1;
    }
}

/* Per node, its totals of the weights present, node by node. Children
 * have larger ids than their parent (model.c), so one backward pass adds
 * every subtree into its root. */
static void node_totals(const hs_profile *p, const hs_weight *present, int np, int64_t *totals) {
    size_t n = p->node_count, stride = (size_t)np;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < np; k++)
            totals[i * stride + (size_t)k] = p->nodes[i].self[present[k]];
    for (size_t i = n; i-- > 1;) {
        int64_t *to = totals + (size_t)p->nodes[i].parent * stride;
        const int64_t *from = totals + i * stride;
        for (int k = 0; k < np; k++)
            to[k] = hs_sat_add(to[k], from[k]);
    }
}

/* One stable counting sort of `from` into `to` by caller rank (by_callee
 * 0) or callee rank (1). (`from` is not const only because GCC then takes
 * the malloc'd array for unwritten.) */
static void count_sort(called_node *from, size_t n, int by_callee, size_t ranks, called_node *to,
                       size_t *start) {
    memset(start, 0, (ranks + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[(by_callee ? from[i].callee : from[i].caller) + 1]++;
    for (size_t r = 0; r < ranks; r++)
        start[r + 1] += start[r];
    for (size_t i = 0; i < n; i++)
        to[start[by_callee ? from[i].callee : from[i].caller]++] = from[i];
}

/* After the first walk: the edges, in (callee, caller) order of function
 * frame ids, and each node's edge (a node called from a function lies on
 * the edge (its caller's function, its own)). Returns 0 or -1. */
static int find_edges(stats_ctx *c) {
    hs_stats *out = c->out;
    size_t nf = out->func_count, n = c->called_count;
    hs_id *rank = alloc_array(nf, sizeof *rank), *fid_of_rank = alloc_array(nf, sizeof *fid_of_rank);
    size_t *bucket = alloc_array(nf + 1, sizeof *bucket);
    called_node *a = c->called, *b = alloc_array(n, sizeof *b);
    int rc = -1;
    if (!rank || !fid_of_rank || !bucket || !b)
        goto done;
    /* Ranks in function frame id order, the order edges are published in. */
    hs_id next = 0;
    for (size_t fid = 0; fid < c->fid_limit; fid++)
        if (c->func_of_fid[fid] != HS_NONE) {
            fid_of_rank[next] = (hs_id)fid;
            rank[c->func_of_fid[fid]] = next++;
        }
    for (size_t i = 0; i < n; i++) {
        a[i].caller = rank[a[i].caller];
        a[i].callee = rank[a[i].callee];
    }
    count_sort(a, n, 0, nf, b, bucket);
    count_sort(b, n, 1, nf, a, bucket);
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || a[i].callee != a[i - 1].callee || a[i].caller != a[i - 1].caller)
            ne++;
    if (ne >= (size_t)HS_NONE)
        goto done;
    out->edges = alloc_array(ne, sizeof *out->edges);
    c->edges = calloc(ne ? ne : 1, sizeof *c->edges);
    if (!out->edges || !c->edges)
        goto done;
    out->edge_count = ne;
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || a[i].callee != a[i - 1].callee || a[i].caller != a[i - 1].caller) {
            e = i == 0 ? 0 : e + 1;
            out->edges[e].callee = fid_of_rank[a[i].callee];
            out->edges[e].caller = fid_of_rank[a[i].caller];
        }
        c->node_edge[a[i].node] = (hs_id)e;
    }
    rc = 0;
done:
    free(rank);
    free(fid_of_rank);
    free(bucket);
    free(b);
    return rc;
}

int hs_stats_compute(hs_profile *p, hs_id start, hs_weight edge_weight, hs_stats *out) {
    memset(out, 0, sizeof *out);
    if (start >= p->node_count || (unsigned)edge_weight > HS_W_COUNT)
        return -1;
    out->edge_weight = edge_weight;
    stats_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.out = out;
    c.with_edges = edge_weight != HS_W_COUNT;
    c.edge_k = -1;
    for (int w = 0; w < HS_W_COUNT; w++) {
        if (!(p->weights_present & (1u << w)))
            continue;
        if (w == (int)edge_weight)
            c.edge_k = c.npresent;
        c.present[c.npresent++] = (hs_weight)w;
    }
    c.frame_limit = p->frame_count;
    c.fid_limit = p->frame_count <= SIZE_MAX / 2 ? 2 * p->frame_count : SIZE_MAX;
    size_t nodes = p->node_count;
    int rc = -1;

    c.func_of_frame = alloc_array(c.frame_limit, sizeof *c.func_of_frame);
    c.func_of_fid = alloc_array(c.fid_limit, sizeof *c.func_of_fid);
    c.totals = nodes <= SIZE_MAX / HS_W_COUNT ? alloc_array(nodes * (size_t)c.npresent, sizeof *c.totals)
                                              : NULL;
    if (!c.func_of_frame || !c.func_of_fid || !c.totals)
        goto done;
    if (c.with_edges) {
        c.called = alloc_array(nodes, sizeof *c.called);
        c.node_edge = alloc_array(nodes, sizeof *c.node_edge);
        if (!c.called || !c.node_edge)
            goto done;
        memset(c.node_edge, 0xFF, nodes * sizeof *c.node_edge); /* HS_NONE */
    }
    for (size_t i = 0; i < c.frame_limit; i++)
        c.func_of_frame[i] = UNRESOLVED;
    for (size_t i = 0; i < c.fid_limit; i++)
        c.func_of_fid[i] = HS_NONE;
    node_totals(p, c.present, c.npresent, c.totals);

    if (walk(&c, start, 0) != 0)
        goto done;
    if (c.with_edges) {
        if (find_edges(&c) != 0 || walk(&c, start, 1) != 0)
            goto done;
        for (size_t e = 0; e < out->edge_count; e++) {
            out->edges[e].calls = c.edges[e].calls;
            out->edges[e].primitive_calls = c.edges[e].primitive_calls;
            out->edges[e].self = c.edges[e].self;
            out->edges[e].total = c.edges[e].total;
        }
    }
    for (int k = 0; k < c.npresent; k++)
        out->total[c.present[k]] = c.totals[(size_t)start * (size_t)c.npresent + (size_t)k];
    rc = 0;

done:
    free(c.func_of_frame);
    free(c.func_of_fid);
    free(c.func_active);
    free(c.called);
    free(c.node_edge);
    free(c.edges);
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
