/*
 * diff_svg.c - the differential flame graph of `hotscope diff -o x.svg`
 * (flamegraph_svg.c): one flame graph over every call path of either run
 * (diff.h merges them), each box colored by how its total changed from
 * BEFORE to AFTER (hs_flame_opts.baseline_totals: red grew, blue shrank,
 * gray unchanged, teal only in BEFORE).
 *
 * Widths. With AFTER's widths (flamegraph.pl's difffolded default) code
 * the change removed would have none, and a removal is often the point of
 * the change. So each path's own width is the larger of its self weight
 * in BEFORE and in AFTER, and a box is as wide as the sum of those over
 * its subtree (hs_flame_opts.width_totals). That is at least the larger of
 * its two totals, so every path of either run gets a box at least as wide
 * as in its wider run, and children always fit inside their parent (a
 * per-box maximum of totals would not: one child may grow while its
 * sibling shrinks). A removed path is exactly as wide as its BEFORE time
 * against the same scale as the rest. Tooltips give the real figures:
 * "before -> after (change)", or "only in BEFORE: N" for removed code.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

/* totals[node] = sum over its subtree of max(BEFORE self, AFTER self).
 * Nodes are created after their parents (model.h), so one pass from the
 * last node up sums every subtree. -1 if a profile breaks that order. */
static int union_totals(const hs_diff *d, hs_weight w, int64_t *totals) {
    size_t n = d->after->node_count;
    for (size_t i = 0; i < n; i++) {
        int64_t a = d->after->nodes[i].self[w], b = d->before->nodes[i].self[w];
        totals[i] = a > b ? a : b;
        if (totals[i] < 0)
            totals[i] = 0; /* widths are never negative */
    }
    for (size_t i = n; i-- > 1;) {
        hs_id parent = d->after->nodes[i].parent;
        if (parent >= i)
            return -1;
        totals[parent] = hs_sat_add(totals[parent], totals[i]);
    }
    return 0;
}

int hs_render_diff_svg(hs_diff *d, hs_weight w, const char *title, int icicle, hs_buf *out, char *err) {
    size_t n = d->before->node_count ? d->before->node_count : 1;
    int64_t *baseline = malloc(n * sizeof *baseline);
    int64_t *widths = malloc(n * sizeof *widths);
    if (!baseline || !widths || d->before->node_count != d->after->node_count) {
        free(baseline);
        free(widths);
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    /* Same tree in both (diff.h): node ids index both profiles. */
    hs_node_totals(d->before, w, baseline);
    if (union_totals(d, w, widths) < 0) {
        free(baseline);
        free(widths);
        hs_render_error(err, "diff: a node comes before its parent");
        return -1;
    }
    hs_flame_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.subtree = HS_ROOT;
    opts.weight = w;
    opts.title = title ? title : "Differential flame graph";
    opts.baseline_totals = baseline;
    opts.width_totals = widths;
    opts.icicle = icicle;
    opts.omit_model = 1; /* the model would be AFTER's alone: misleading to read back */
    int rc = hs_render_flamegraph_svg(d->after, &opts, out, err);
    free(baseline);
    free(widths);
    return rc;
}
