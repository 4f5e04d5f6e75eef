/*
 * diff_svg.c - the differential flame graph of `hotscope diff -o x.svg`:
 * the flame graph renderer (flamegraph_svg.c) drawing AFTER's tree, every
 * frame colored by how its total changed from BEFORE's total at the same
 * call path (hs_flame_opts.baseline_totals). Paths only BEFORE took are in
 * the tree with zero width (diff.h); the flame graph decides how to show
 * what has no width left.
 *
 * The flame graph renderer is built by another part of hotscope; until it
 * is in the tree (its private header flame.h is the sign), this says so
 * instead of failing to build.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

#if defined(__has_include)
#if __has_include("flame.h")
#define HS_HAVE_FLAMEGRAPH_SVG 1
#endif
#endif

int hs_render_diff_svg(hs_diff *d, hs_weight w, const char *title, hs_buf *out, char *err) {
#ifdef HS_HAVE_FLAMEGRAPH_SVG
    int64_t *baseline = malloc((d->before->node_count ? d->before->node_count : 1) * sizeof *baseline);
    if (!baseline) {
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    /* Same tree in both (diff.h): node ids index both profiles. */
    hs_node_totals(d->before, w, baseline);
    hs_flame_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.subtree = HS_ROOT;
    opts.weight = w;
    opts.title = title ? title : "Differential flame graph";
    opts.baseline_totals = baseline;
    opts.omit_model = 1; /* the model would be AFTER's alone: misleading to read back */
    int rc = hs_render_flamegraph_svg(d->after, &opts, out, err);
    free(baseline);
    return rc;
#else
    (void)d, (void)w, (void)title, (void)out;
    hs_render_error(err, "the differential flame graph needs the flame graph renderer, "
                         "which is not in this build of hotscope");
    return -1;
#endif
}
