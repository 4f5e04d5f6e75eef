/*
 * top_table.c - the hottest functions of a profile, as `hotscope record`
 * prints them and `hotscope top` refreshes them (py-spy's top columns):
 *
 *     %Own  %Total    Own     Total  Function (file:line)
 *    62.1%   62.1%   1.243s  1.243s  a (prog.py:4)
 *
 * Own is a function's self weight, Total its inclusive weight counted once
 * per stack however deep it recurses (hs_stats' cumulative figure). Rows
 * are sorted by Own, then Total. Times print as seconds, other weights
 * (samples) as counts. Percentages are of the subtree's total.
 */
#include <stdlib.h>

#include "../model/stats.h"
#include "render.h"
#include "render_util.h"

typedef struct {
    hs_weight weight;
} sort_ctx;

static int by_own(const void *a, const void *b, void *ctx) {
    const hs_func_stats *x = a, *y = b;
    hs_weight w = ((const sort_ctx *)ctx)->weight;
    if (x->self[w] != y->self[w])
        return x->self[w] > y->self[w] ? -1 : 1;
    if (x->total[w] != y->total[w])
        return x->total[w] > y->total[w] ? -1 : 1;
    return 0;
}

static void put_amount(hs_buf *out, hs_weight w, int64_t v) {
    if (hs_render_is_time_weight(w))
        hs_buf_printf(out, "%9.3fs", (double)v / 1e9);
    else
        hs_buf_printf(out, "%10lld", (long long)v);
}

int hs_render_top(hs_profile *p, hs_id subtree, hs_weight weight, long limit, hs_buf *out,
                  char *err) {
    hs_stats stats;
    if (hs_stats_compute(p, subtree, HS_W_COUNT, &stats) != 0) {
        hs_render_error(err, "out of memory computing function statistics");
        return -1;
    }
    sort_ctx ctx = {weight};
    if (hs_render_sort(stats.funcs, stats.func_count, sizeof *stats.funcs, by_own, &ctx) != 0) {
        hs_stats_free(&stats);
        hs_render_error(err, "out of memory sorting functions");
        return -1;
    }
    int64_t all = stats.total[weight];
    hs_buf_printf(out, "%7s %7s %10s %10s  %s\n", "%Own", "%Total",
                  hs_render_is_time_weight(weight) ? "Own" : "Own (n)",
                  hs_render_is_time_weight(weight) ? "Total" : "Total (n)", "Function (file:line)");
    size_t shown = 0;
    for (size_t i = 0; i < stats.func_count; i++) {
        const hs_func_stats *f = &stats.funcs[i];
        if (f->total[weight] == 0)
            continue;
        if (limit > 0 && shown >= (size_t)limit)
            break;
        double own_pct = all ? 100.0 * (double)f->self[weight] / (double)all : 0.0;
        double total_pct = all ? 100.0 * (double)f->total[weight] / (double)all : 0.0;
        hs_buf_printf(out, "%6.1f%% %6.1f%% ", own_pct, total_pct);
        put_amount(out, weight, f->self[weight]);
        hs_buf_putc(out, ' ');
        put_amount(out, weight, f->total[weight]);
        hs_buf_puts(out, "  ");
        const hs_frame *fr = hs_frame_get(p, f->function);
        size_t name_len = 0, file_len = 0;
        const char *name = hs_str(p, fr->name, &name_len);
        const char *file = hs_str(p, fr->file, &file_len);
        if (fr->kind == HS_KIND_PYTHON) {
            hs_render_put_text(out, name ? name : "", name ? name_len : 0, HS_TEXT_PLAIN);
            hs_buf_puts(out, " (");
            hs_render_put_text(out, file ? file : "", file ? file_len : 0, HS_TEXT_PLAIN);
            hs_buf_printf(out, ":%d)\n", (int)fr->first_line);
        } else {
            hs_buf t;
            hs_buf_init(&t);
            hs_function_label(p, f->function, &t);
            hs_render_put_text(out, t.data ? t.data : "", t.len, HS_TEXT_PLAIN);
            hs_buf_free(&t);
            hs_buf_putc(out, '\n');
        }
        shown++;
    }
    hs_stats_free(&stats);
    if (out->failed) {
        hs_render_error(err, "out of memory rendering the table");
        return -1;
    }
    return 0;
}
