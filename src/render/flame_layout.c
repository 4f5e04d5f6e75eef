/*
 * flame_layout.c - where each box of a flame graph goes (flame.h).
 *
 * A node is as wide as its total weight; its children sit side by side
 * over it, heaviest first, so the widest paths read from the left. A child
 * narrower than the merge threshold (a tenth of a pixel by default) adds
 * nothing a person can see but costs a DOM element: all such children of
 * one parent become one "…" box, which keeps a profile of 100,000 distinct
 * stacks to a few thousand boxes. Because children are sorted, the narrow
 * ones are exactly the tail of the sorted list.
 */
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "render_util.h"

typedef struct {
    hs_id node;
    uint32_t depth;
    double x;
} pending;

static int by_total_desc(const void *a, const void *b, void *ctx) {
    const int64_t *totals = ctx;
    int64_t ta = totals[*(const hs_id *)a], tb = totals[*(const hs_id *)b];
    return ta > tb ? -1 : ta < tb ? 1 : 0;
}

static int push_box(hs_flame_layout *out, const hs_flame_box *box) {
    if (out->count == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 1024;
        hs_flame_box *grown = realloc(out->boxes, cap * sizeof *grown);
        if (!grown)
            return -1;
        out->boxes = grown;
        out->cap = cap;
    }
    out->boxes[out->count++] = *box;
    return 0;
}

/* Grows an array of `elem`-byte items to hold at least `need`. */
static int reserve(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    void *grown = realloc(*arr, n * elem);
    if (!grown)
        return -1;
    *arr = grown;
    *cap = n;
    return 0;
}

static int layout(const hs_profile *p, hs_id root, double width_px, double min_px, uint32_t max_depth,
                  hs_flame_layout *out);

int hs_flame_layout_compute(const hs_profile *p, hs_id root, hs_weight w, double width_px,
                            double min_px, uint32_t max_depth, hs_flame_layout *out) {
    memset(out, 0, sizeof *out);
    out->totals = malloc((p->node_count ? p->node_count : 1) * sizeof *out->totals);
    if (!out->totals)
        return -1;
    hs_node_totals(p, w, out->totals);
    return layout(p, root, width_px, min_px, max_depth, out);
}

int hs_flame_layout_compute_totals(const hs_profile *p, hs_id root, const int64_t *totals, double width_px,
                                   double min_px, uint32_t max_depth, hs_flame_layout *out) {
    memset(out, 0, sizeof *out);
    out->totals = malloc((p->node_count ? p->node_count : 1) * sizeof *out->totals);
    if (!out->totals)
        return -1;
    memcpy(out->totals, totals, p->node_count * sizeof *out->totals);
    return layout(p, root, width_px, min_px, max_depth, out);
}

/* Lays out with out->totals filled in. */
static int layout(const hs_profile *p, hs_id root, double width_px, double min_px, uint32_t max_depth,
                  hs_flame_layout *out) {
    const int64_t *totals = out->totals;
    out->root_total = totals[root];
    /* An empty profile still gets its root box, full width. */
    double scale = out->root_total > 0 ? width_px / (double)out->root_total : 0.0;

    pending *stack = NULL;
    size_t stack_len = 0, stack_cap = 0;
    hs_id *kids = NULL;
    size_t kids_cap = 0;
    int status = -1;

    if (reserve((void **)&stack, &stack_cap, 1, sizeof *stack) < 0)
        goto done;
    stack[stack_len++] = (pending){root, 0, 0.0};
    while (stack_len > 0) {
        pending e = stack[--stack_len];
        double width = out->root_total > 0 ? (double)totals[e.node] * scale : width_px;
        hs_flame_box box = {e.node, HS_NONE, e.depth, 0, e.x, width, totals[e.node]};
        if (push_box(out, &box) < 0)
            goto done;
        if (e.depth > out->max_depth)
            out->max_depth = e.depth;
        const hs_node *nd = hs_node_get(p, e.node);
        if (nd->first_child == HS_NONE)
            continue;
        if (e.depth >= max_depth) {
            out->cut_depth = e.depth + 1;
            continue;
        }
        size_t n = 0;
        for (hs_id c = nd->first_child; c != HS_NONE; c = hs_node_get(p, c)->next_sibling) {
            if (reserve((void **)&kids, &kids_cap, n + 1, sizeof *kids) < 0)
                goto done;
            kids[n++] = c;
        }
        if (n > 1 && hs_render_sort(kids, n, sizeof *kids, by_total_desc, out->totals) < 0)
            goto done;
        /* The wide children, pushed right to left so the leftmost comes
         * off the stack first and boxes stay in reading order. */
        size_t wide = 0;
        while (wide < n && (double)totals[kids[wide]] * scale >= min_px)
            wide++;
        if (reserve((void **)&stack, &stack_cap, stack_len + wide, sizeof *stack) < 0)
            goto done;
        double x = e.x;
        for (size_t k = 0; k < wide; k++)
            x += (double)totals[kids[k]] * scale;
        double narrow_x = x;
        for (size_t k = wide; k-- > 0;) {
            x -= (double)totals[kids[k]] * scale;
            stack[stack_len++] = (pending){kids[k], e.depth + 1, x};
        }
        if (wide < n) {
            int64_t rest = 0;
            for (size_t k = wide; k < n; k++)
                rest = hs_sat_add(rest, totals[kids[k]]);
            double rest_w = (double)rest * scale;
            if (rest_w >= min_px && rest > 0) {
                hs_flame_box merged = {HS_NONE, e.node, e.depth + 1, (uint32_t)(n - wide),
                                       narrow_x, rest_w, rest};
                if (push_box(out, &merged) < 0)
                    goto done;
                if (e.depth + 1 > out->max_depth)
                    out->max_depth = e.depth + 1;
            } else {
                out->dropped += n - wide;
            }
        }
    }
    status = 0;
done:
    free(stack);
    free(kids);
    if (status != 0)
        hs_flame_layout_free(out);
    return status;
}

void hs_flame_layout_free(hs_flame_layout *layout) {
    free(layout->boxes);
    free(layout->totals);
    layout->boxes = NULL;
    layout->totals = NULL;
    layout->count = layout->cap = 0;
}
