/*
 * function_tables.c - what keeps an HTML report exact when its call tree
 * was merged to fit (narrow_merge.h): the report's function table, which
 * its script otherwise sums from the tree, computed here from the whole
 * tree (stats.h, cProfile's semantics, as the script's own sums).
 *
 * Two more top-level members of the model JSON (model_json.h):
 *   "merged":    {"nodes": N, "into": M, "of": T, "share": S, "frame": F}
 *                N of the profile's T nodes were folded into M nodes of
 *                frame F (the frame model_json.c adds), each under share
 *                S of its thread's total in every weight;
 *   "functions": [{"root": R, "rows": [function, calls, self, total, ...]}]
 *                one table for the whole profile (root 0) and one per
 *                thread (R: the thread's node in the written tree) while
 *                they stay under MAX_ROWS rows in all; a row is a frame
 *                of the function (any of its lines: the script knows a
 *                function by name, file, first line and kind), its calls,
 *                then its self and total of each weight in "weights" order.
 * The script uses a table for the view it has and sums the tree for the
 * others (a thread past the limit), saying which it shows.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "model_json.h"
#include "render_util.h"

/* Rows of the per-thread tables, all threads together: a profile of 500
 * threads would otherwise carry more table than tree. */
#define MAX_ROWS 200000

/* Function frames that stats.h interned (those with ids from `first`
 * on) stand in a row for a frame of the profile of the same function
 * (the script knows a function by name, file, first line and kind, not
 * by line), so the frames can be forgotten again afterwards. */
typedef struct {
    size_t first;
    hs_id *frame; /* [function frame id - first]: a frame of the profile */
} stand_ins;

static int find_stand_ins(hs_profile *p, size_t first, stand_ins *s) {
    s->first = first;
    hs_id *function = malloc((first ? first : 1) * sizeof *function);
    if (!function)
        return -1;
    for (size_t f = 0; f < first; f++)
        function[f] = hs_function_of(p, (hs_id)f); /* finds what stats interned */
    size_t n = p->frame_count - first;
    s->frame = malloc((n ? n : 1) * sizeof *s->frame);
    if (!s->frame) {
        free(function);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        s->frame[i] = HS_NONE;
    for (size_t f = 0; f < first; f++)
        if (function[f] != HS_NONE && function[f] >= first && s->frame[function[f] - first] == HS_NONE)
            s->frame[function[f] - first] = (hs_id)f;
    free(function);
    return 0;
}

/* One table: returns its row count, or -1 on allocation failure. */
static long put_table(hs_profile *p, hs_id start, hs_id root, const hs_node_view *v, stand_ins *s,
                      hs_buf *out) {
    hs_stats st;
    if (hs_stats_compute(p, start, HS_W_COUNT, &st) != 0)
        return -1;
    /* The first table (the whole profile) has every function: stand-ins
     * are found once, after it. */
    if (!s->frame && find_stand_ins(p, s->first, s) != 0) {
        hs_stats_free(&st);
        return -1;
    }
    hs_buf_printf(out, "%s{\"root\":%" PRIu32 ",\"rows\":[", root == 0 ? "" : ",\n", root);
    for (size_t i = 0; i < st.func_count; i++) {
        const hs_func_stats *f = &st.funcs[i];
        hs_id frame = f->function < s->first ? f->function : s->frame[f->function - s->first];
        hs_buf_printf(out, "%s%" PRIu32 ",%" PRId64, i ? (i % 8 ? "," : ",\n") : "", frame, f->calls);
        for (int k = 0; k < v->npresent; k++)
            hs_buf_printf(out, ",%" PRId64 ",%" PRId64, f->self[v->present[k]], f->total[v->present[k]]);
    }
    hs_buf_puts(out, "]}");
    long rows = (long)st.func_count;
    hs_stats_free(&st);
    return rows;
}

int hs_render_function_tables(hs_profile *p, const hs_node_view *v, hs_buf *out) {
    stand_ins s = {p->frame_count, NULL};
    int rc = -1;
    hs_buf_puts(out, ",\n\"functions\":[");
    if (put_table(p, HS_ROOT, 0, v, &s, out) < 0)
        goto done;
    long rows = 0;
    for (size_t t = 0; t < p->thread_count && rows <= MAX_ROWS; t++) {
        const hs_thread *th = &p->threads[t];
        if (th->root >= p->node_count || th->root == HS_ROOT || v->written[th->root] == HS_NONE)
            continue;
        long n = put_table(p, th->root, v->written[th->root], v, &s, out);
        if (n < 0)
            goto done;
        rows += n;
    }
    /* The merged nodes' frame is the one after the profile's. */
    hs_buf_printf(out, "],\n\"merged\":{\"nodes\":%zu,\"into\":%zu,\"of\":%zu,\"share\":%.6g,\"frame\":%zu}",
                  v->merged_away, v->merged_nodes, p->node_count, v->share, s.first);
    rc = out->failed ? -1 : 0;
done:
    free(s.frame);
    /* Leave the profile as it was: without the function frames. */
    if (hs_frames_truncate(p, s.first) != 0)
        rc = -1;
    return rc;
}
