/*
 * mem_rows.c - a memory profile's weights summed by line or by stack, the
 * rows of the memory text report (mem_text.c) and of hotscope.memory()'s
 * top() and leaks() (src/pymod/pd_mem.c).
 *
 * By line: a node's self weight is what was allocated while its frame was
 * the innermost Python frame, so summing self weights per frame (a frame
 * is a function at one line) gives the bytes each line allocated itself,
 * whatever called it. Native frames (`hotscope mem --native`) hang under
 * the Python frame that called into C: their weight goes to that line
 * (the innermost Python frame above them), or stays with the native leaf
 * on a stack with no Python frame. By stack: one row per node with self
 * weight.
 */
#include <stdlib.h>

#include "render.h"
#include "render_util.h"

static int cmp_rows(const void *a, const void *b, void *ctx) {
    const hs_mem_row *x = a, *y = b;
    int by_count = *(const int *)ctx;
    int64_t kx = by_count ? x->count : x->bytes, ky = by_count ? y->count : y->bytes;
    if (kx != ky)
        return kx > ky ? -1 : 1;
    int64_t sx = by_count ? x->bytes : x->count, sy = by_count ? y->bytes : y->count;
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int is_native(const hs_profile *p, hs_id frame) {
    return frame < p->frame_count && hs_frame_get(p, frame)->kind == HS_KIND_NATIVE;
}

/* The frame whose line a node's own allocations belong to. */
static hs_id line_frame(const hs_profile *p, hs_id node) {
    hs_id frame = hs_node_get(p, node)->frame;
    if (!is_native(p, frame))
        return frame;
    for (hs_id up = hs_node_get(p, node)->parent; up != HS_ROOT && up != HS_NONE;
         up = hs_node_get(p, up)->parent) {
        hs_id f = hs_node_get(p, up)->frame;
        if (!is_native(p, f))
            return f < p->frame_count && hs_frame_get(p, f)->kind == HS_KIND_PYTHON ? f : frame;
    }
    return frame;
}

int hs_mem_rows(const hs_profile *p, hs_weight bytes_w, hs_weight count_w, int by_stack,
                int by_count, hs_mem_row **rows_out, size_t *n_out) {
    *rows_out = NULL;
    *n_out = 0;
    size_t cap = by_stack ? p->node_count : p->frame_count;
    hs_mem_row *rows = calloc(cap ? cap : 1, sizeof *rows);
    if (!rows)
        return -1;
    size_t n = 0;
    if (by_stack) {
        for (size_t i = 1; i < p->node_count; i++) {
            const hs_node *nd = hs_node_get(p, (hs_id)i);
            if (nd->self[bytes_w] || nd->self[count_w])
                rows[n++] = (hs_mem_row){(hs_id)i, nd->self[bytes_w], nd->self[count_w]};
        }
    } else {
        for (size_t i = 0; i < cap; i++)
            rows[i].id = (hs_id)i;
        for (size_t i = 1; i < p->node_count; i++) {
            const hs_node *nd = hs_node_get(p, (hs_id)i);
            if (!nd->self[bytes_w] && !nd->self[count_w])
                continue;
            hs_id f = line_frame(p, (hs_id)i);
            rows[f].bytes = hs_sat_add(rows[f].bytes, nd->self[bytes_w]);
            rows[f].count = hs_sat_add(rows[f].count, nd->self[count_w]);
        }
        for (size_t i = 0; i < cap; i++)
            if (rows[i].bytes || rows[i].count)
                rows[n++] = rows[i];
    }
    if (hs_render_sort(rows, n, sizeof *rows, cmp_rows, &by_count) != 0) {
        free(rows);
        return -1;
    }
    *rows_out = rows;
    *n_out = n;
    return 0;
}
