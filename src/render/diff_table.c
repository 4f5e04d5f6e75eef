/*
 * diff_table.c - the largest changes between two runs, as text: what
 * `hotscope diff BEFORE AFTER` prints (rows from diff.h's hs_diff_rows):
 *
 *   wall time: before 3.012 s, after 1.047 s, change -1.965 s (-65.2%)
 *
 *    self before  self after     change        %  total before  total after     change        %  function
 *        2.950 s     0.983 s   -1.967 s   -66.7%       2.950 s      0.983 s   -1.967 s   -66.7%  slow  app.py:4
 *
 * Rows are functions sorted by how much their own (self) time changed:
 * the function an optimisation touched comes first, while its callers,
 * whose totals moved with it, follow with small self changes. "%" is the
 * change relative to BEFORE; "new" marks a function BEFORE did not run,
 * "-100.0%" one AFTER no longer runs. Times are in seconds, or in
 * milliseconds when both runs took less than a second.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

typedef struct {
    double scale; /* nanoseconds per unit, or 1 for counts */
    const char *unit;
} amount_fmt;

static amount_fmt choose_unit(hs_weight w, int64_t largest) {
    amount_fmt f = {1.0, ""};
    if (hs_render_is_time_weight(w)) {
        f.scale = largest >= 1000000000 ? 1e9 : 1e6;
        f.unit = largest >= 1000000000 ? " s" : " ms";
    }
    return f;
}

static void put_amount(hs_buf *out, const amount_fmt *f, int64_t v, int sign) {
    hs_buf_printf(out, sign ? "%+10.3f%s" : "%10.3f%s", (double)v / f->scale, f->unit);
}

static void put_change_percent(hs_buf *out, int64_t before, int64_t after) {
    if (before == 0)
        hs_buf_printf(out, "%9s", after == 0 ? "0.0%" : "new");
    else
        hs_buf_printf(out, "%+8.1f%%", 100.0 * (double)(after - before) / (double)before);
}

/* "name  file:line" (library files by import path) or a builtin's label. */
void hs_render_diff_function_name(const hs_profile *p, hs_id function, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, function);
    if (f->kind != HS_KIND_PYTHON) {
        hs_function_label(p, function, out);
        return;
    }
    size_t len = 0, flen = 0;
    const char *name = hs_str(p, f->name, &len);
    const char *file = hs_str(p, f->file, &flen);
    hs_render_put_text(out, name ? name : "", name ? len : 0, HS_TEXT_PLAIN);
    hs_buf_puts(out, "  ");
    if (file) {
        size_t off = hs_frame_category(p, function) == HS_CAT_USER ? 0 : hs_render_module_path_offset(file, flen);
        hs_render_put_text(out, file + off, flen - off, HS_TEXT_PLAIN);
    }
    hs_buf_printf(out, ":%d", (int)f->first_line);
}

static const char *weight_title(hs_weight w) {
    switch (w) {
    case HS_W_WALL_NS:
        return "wall time";
    case HS_W_CPU_NS:
        return "CPU time";
    case HS_W_SAMPLES:
        return "samples";
    default:
        return "weight";
    }
}

int hs_render_diff_table(hs_diff *d, hs_weight w, long limit, hs_buf *out, char *err) {
    hs_diff_row *rows;
    size_t count;
    int64_t before, after;
    if ((unsigned)w >= HS_W_COUNT) {
        hs_render_error(err, "diff: unknown weight");
        return -1;
    }
    if (hs_diff_rows(d, w, &rows, &count, &before, &after) != 0) {
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    amount_fmt f = choose_unit(w, before > after ? before : after);
    hs_buf_printf(out, "%s: before %.3f%s, after %.3f%s, change %+.3f%s", weight_title(w),
                  (double)before / f.scale, f.unit, (double)after / f.scale, f.unit,
                  (double)(after - before) / f.scale, f.unit);
    if (before)
        hs_buf_printf(out, " (%+.1f%%)", 100.0 * (double)(after - before) / (double)before);
    hs_buf_puts(out, "\n\n");
    hs_buf_printf(out, "%*s %*s %*s %9s %*s %*s %*s %9s  function\n", 10 + (int)strlen(f.unit),
                  "self before", 10 + (int)strlen(f.unit), "self after", 10 + (int)strlen(f.unit), "change",
                  "%", 10 + (int)strlen(f.unit), "total before", 10 + (int)strlen(f.unit), "total after",
                  10 + (int)strlen(f.unit), "change", "%");
    for (size_t i = 0; i < count && (limit <= 0 || i < (size_t)limit); i++) {
        const hs_diff_row *r = &rows[i];
        put_amount(out, &f, r->self_before, 0);
        hs_buf_putc(out, ' ');
        put_amount(out, &f, r->self_after, 0);
        hs_buf_putc(out, ' ');
        put_amount(out, &f, r->self_after - r->self_before, 1);
        hs_buf_putc(out, ' ');
        put_change_percent(out, r->self_before, r->self_after);
        hs_buf_putc(out, ' ');
        put_amount(out, &f, r->total_before, 0);
        hs_buf_putc(out, ' ');
        put_amount(out, &f, r->total_after, 0);
        hs_buf_putc(out, ' ');
        put_amount(out, &f, r->total_after - r->total_before, 1);
        hs_buf_putc(out, ' ');
        put_change_percent(out, r->total_before, r->total_after);
        hs_buf_puts(out, "  ");
        hs_render_diff_function_name(d->after, r->function, out);
        hs_buf_putc(out, '\n');
    }
    if (limit > 0 && count > (size_t)limit)
        hs_buf_printf(out, "... %zu more functions\n", count - (size_t)limit);
    free(rows);
    if (out->failed) {
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    return 0;
}
