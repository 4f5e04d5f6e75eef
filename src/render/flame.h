/*
 * flame.h - what the flame graph renderers share, private to src/render:
 * the layout of boxes (flame_layout.c), their colors and labels
 * (flame_style.c). flamegraph_svg.c writes them as SVG; the HTML report
 * lays out in its own script but uses the same palette and labels.
 */
#ifndef HOTSCOPE_FLAME_H
#define HOTSCOPE_FLAME_H

#include <stdint.h>

#include "render.h"

/* One drawn box: a node of the tree, or ("…") the children of one parent
 * that were each too narrow to see, merged. */
typedef struct {
    hs_id node;      /* the node, or HS_NONE for a merged box */
    hs_id parent;    /* for a merged box: the node whose children it merges */
    uint32_t depth;  /* 0 for the layout's root */
    uint32_t merged; /* for a merged box: how many children it stands for */
    double x, w;     /* left edge and width in pixels, from the left of the graph */
    int64_t total;   /* the node's total weight (a merged box: their sum) */
} hs_flame_box;

typedef struct {
    hs_flame_box *boxes;     /* parents before their children */
    size_t count, cap;
    int64_t *totals;         /* per node of the profile: total weight */
    int64_t root_total;
    uint32_t max_depth;      /* deepest depth drawn */
    uint32_t cut_depth;      /* > 0: deeper levels exist but were not laid out */
    size_t dropped;          /* nodes left out as too narrow, even merged */
} hs_flame_layout;

/* Lays out the subtree under `root` in `width_px` pixels: each node as
 * wide as its total, children left to right from heaviest to lightest
 * (ties in the tree's order), drawn above (or below: the caller's choice)
 * their parent. Children narrower than min_px are merged into one box per
 * parent, or dropped if even that is narrower than min_px (their width
 * stays accounted as space). Levels deeper than max_depth are cut.
 * Iterative: a 100,000-deep tree is fine. Returns 0, or -1 on no memory. */
int hs_flame_layout_compute(const hs_profile *p, hs_id root, hs_weight w, double width_px,
                            double min_px, uint32_t max_depth, hs_flame_layout *out);
/* The same with the widths given: totals[node] for every node of p (the
 * layout keeps a copy in out->totals). */
int hs_flame_layout_compute_totals(const hs_profile *p, hs_id root, const int64_t *totals, double width_px,
                                   double min_px, uint32_t max_depth, hs_flame_layout *out);
void hs_flame_layout_free(hs_flame_layout *layout);

/* The fill of a frame: one hue family per hs_category (user warm orange,
 * stdlib green, library purple, native blue, synthetic gray) with a small
 * variation by name, the same for the same name on every run. "#rrggbb". */
void hs_flame_color(const hs_profile *p, hs_id frame, char out[8]);
/* The middle color of a category's family, for legends. */
void hs_flame_category_color(hs_category cat, char out[8]);
/* Differential fill: red where `after` grew over `before`, blue where it
 * shrank, pale gray where equal; stronger with the relative change. A path
 * only BEFORE had (after 0) is HS_FLAME_REMOVED_COLOR instead, which is no
 * shade of the others. */
void hs_flame_diff_color(int64_t before, int64_t after, char out[8]);
#define HS_FLAME_REMOVED_COLOR "#52c4b0"

/* A frame's readable label, raw (not escaped): "function (file.py:line)"
 * with the file's base name, the builtin's label for C functions, the
 * name alone for synthetic frames. `root` names the node without a frame. */
void hs_flame_label(const hs_profile *p, hs_id frame, hs_buf *out);
/* The memory plot under a flame graph SVG (flame_series_svg.c): the
 * height it needs for `p` (0 when `p` has no series in bytes), and the
 * plot itself, `width` pixels wide from `left`, from `top` down. */
int hs_flame_series_height(const hs_profile *p);
void hs_flame_series_svg(const hs_profile *p, double left, double width, double top, hs_buf *out);

/* A weight value for people: "1.234 s", "12.5 ms", "1,234 samples", ... */
void hs_flame_format_value(hs_weight w, int64_t value, hs_buf *out);

#endif
