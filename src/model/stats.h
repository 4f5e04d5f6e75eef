/*
 * stats.h - per-function and per-edge statistics with cProfile's meaning,
 * derived from the call tree of model.h.
 *
 * A function is a frame with its line set to 0 (tracer frames already are;
 * sampled frames with line numbers are folded into their function).
 * For a function f:
 *   calls            sum of HS_W_CALLS over f's nodes
 *   primitive_calls  the same over nodes with no ancestor running f
 *                    (cProfile's "calls that were not recursive")
 *   self[w]          sum of self weights over f's nodes ("tottime")
 *   total[w]         sum of node totals over f's outermost nodes only
 *                    ("cumtime": a recursive call is not counted twice)
 * For an edge caller -> callee (the parent node's function -> the node's):
 *   the same four numbers, where "outermost" means no ancestor node is
 *   reached through the same caller -> callee edge. This reproduces the
 *   subentries of CPython's Modules/_lsprof.c exactly.
 * Synthetic frames (threads, the root) are not functions and are skipped;
 * a function called directly under a thread frame has no caller edge.
 */
#ifndef HOTSCOPE_STATS_H
#define HOTSCOPE_STATS_H

#include "model.h"

typedef struct {
    hs_id function; /* frame id with line 0 */
    int64_t calls;
    int64_t primitive_calls;
    int64_t self[HS_W_COUNT];
    int64_t total[HS_W_COUNT];
} hs_func_stats;

/* An edge carries one weight, the one asked for (hs_stats.edge_weight):
 * every renderer of callers shows one, and a profile can have millions
 * of edges, where all ten would cost 184 bytes each. */
typedef struct {
    hs_id caller; /* function frame ids */
    hs_id callee;
    int64_t calls;
    int64_t primitive_calls;
    int64_t self;  /* of edge_weight */
    int64_t total; /* of edge_weight */
} hs_edge_stats;

typedef struct {
    hs_func_stats *funcs; /* in order of first appearance, depth-first from start */
    size_t func_count;
    hs_edge_stats *edges; /* sorted by (callee, caller) */
    size_t edge_count;
    hs_weight edge_weight;     /* the weight of edges' self and total */
    int64_t total[HS_W_COUNT]; /* sum over the subtree: "in X seconds" */
} hs_stats;

/* Computes statistics over the subtree at `start` (HS_ROOT for all threads).
 * Edges are computed with `edge_weight` as their weight, or not at all
 * (edge_count 0) when it is HS_W_COUNT: a function table without callers
 * needs none, and they are most of the work. The edge into `start` itself
 * (from its parent, outside the subtree) is not counted. May intern new
 * function frames in p. Returns 0, or -1 on allocation failure or a bad
 * `start` or weight (then *out is empty and needs no free). */
int hs_stats_compute(hs_profile *p, hs_id start, hs_weight edge_weight, hs_stats *out);
void hs_stats_free(hs_stats *s);

/* The function frame (line 0) of any frame, interning it if needed. */
hs_id hs_function_of(hs_profile *p, hs_id frame);

#endif
