/*
 * narrow_merge.h - a profile's call tree cut down to a size, for the HTML
 * report (html_report.c), whose page carries the tree as JSON: 100,000
 * distinct random stacks are 2 million nodes, 35 MB of it.
 *
 * Narrow nodes are merged per parent, as the SVG merges what is too
 * narrow to draw: every node whose share of its thread's total is under a
 * threshold in every weight is folded, with its whole subtree, into one
 * node per parent with the frame HS_NARROW_MERGED_NAME, whose self
 * weights are the folded subtrees' totals. So every node kept keeps its
 * exact totals, the root's total is unchanged, and only paths below the
 * threshold lose their detail. The threshold is the smallest (in steps of
 * a quarter of a power of two) that brings the nodes' JSON records under
 * the budget; a tree that fits is not touched.
 */
#ifndef HOTSCOPE_NARROW_MERGE_H
#define HOTSCOPE_NARROW_MERGE_H

#include "../model/model.h"

#define HS_NARROW_MERGED_NAME "[narrow paths merged]"

typedef struct {
    size_t count;      /* nodes to write, the root (0) included; 0: the tree fits as it is */
    hs_id *parent;     /* per node to write: its parent's index (HS_NONE for the root) */
    hs_id *frame;      /* per node to write: its frame, or HS_NONE for a merged node */
    int64_t *self;     /* per node to write: npresent self weights, in present's order */
    hs_weight present[HS_W_COUNT]; /* the weights the profile has, in the model's order */
    int npresent;
    hs_id *written;    /* per node of the profile: its index among those written, or
                        * HS_NONE when it was merged away */
    size_t merged_away;  /* nodes of the profile folded into merged nodes */
    size_t merged_nodes; /* merged nodes among those written */
    double share;      /* nodes under this share of their thread in every weight were merged */
} hs_node_view;

/* Fills *v: p's tree as it fits in about `budget` bytes of JSON node
 * records (model_json.c's layout). v->count is 0 when the tree already
 * fits. Returns 0, or -1 on allocation failure (*v then needs no free). */
int hs_node_view_fit(const hs_profile *p, size_t budget, hs_node_view *v);
void hs_node_view_free(hs_node_view *v);

#endif
