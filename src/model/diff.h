/*
 * diff.h - the differential profile of two runs: BEFORE and AFTER merged
 * path by path into one tree (merge.h; frames matched by kind, name and
 * file, line numbers ignored, so an edit that moves a function down the
 * file does not make it "new").
 *
 * `after` holds AFTER's self weights on every path of either run: a path
 * only BEFORE took (code an optimisation removed) is there with zero
 * weight, so renderers still show it. `before` has exactly the same nodes
 * and frames (it is a copy of `after`'s structure) with BEFORE's self
 * weights, so a node id or a function frame id means the same in both and
 * per-function statistics (stats.h) of the two line up one to one.
 */
#ifndef HOTSCOPE_DIFF_H
#define HOTSCOPE_DIFF_H

#include "model.h"

typedef struct {
    hs_profile *after;  /* AFTER's weights, every path of both */
    hs_profile *before; /* the same tree with BEFORE's weights */
} hs_diff;

/* Builds the diff. Returns 0, or -1 on allocation failure (then *out holds
 * nothing to free). */
int hs_diff_build(const hs_profile *before, const hs_profile *after, hs_diff *out);
void hs_diff_free(hs_diff *d);

/* One function's figures in both runs, for one weight. */
typedef struct {
    hs_id function; /* frame id, valid in both d->after and d->before */
    int64_t self_before, self_after;
    int64_t total_before, total_after;
    int64_t calls_before, calls_after;
} hs_diff_row;

/* Every function of the diff with its figures for weight w, sorted by the
 * size of the change of its self weight, largest first (then of its total,
 * then by name), functions with no weight in either run left out.
 * *rows is malloc'ed (free it). *whole_before/after are the two totals.
 * Returns 0 or -1 (allocation failure). */
int hs_diff_rows(hs_diff *d, hs_weight w, hs_diff_row **rows, size_t *count, int64_t *whole_before,
                 int64_t *whole_after);

#endif
