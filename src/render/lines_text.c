/*
 * lines_text.c - the line profile as text, laid out as kernprof's
 * `python -m line_profiler` report, so users of line_profiler read it at
 * once: per function a header (total time, file, function, first line) and
 * a row per source line with hits, time, time per hit, % of the function
 * and the line's text.
 *
 * Input: the model the line profiler exports (src/lines/lines_type.c):
 * thread -> function node (line 0) -> line nodes (calls = hits, wall_ns =
 * time). Source text comes from the profile itself (meta
 * "source:<file>:<first line>", captured when the profile was recorded, so
 * a later edit of the file cannot misalign it), or else from the file on
 * disk (source_text.c); lines that cannot be read are marked, the
 * figures still shown.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

typedef struct {
    int32_t line;
    int64_t hits, ns;
} line_row;

static int cmp_rows(const void *a, const void *b, void *ctx) {
    (void)ctx;
    int32_t x = ((const line_row *)a)->line, y = ((const line_row *)b)->line;
    return (x > y) - (x < y);
}

static void put_row(hs_buf *out, int32_t line, const line_row *row, int64_t fn_ns,
                    const hs_source_block *src) {
    hs_buf_printf(out, "%6d ", (int)line);
    if (row) {
        double us = (double)row->ns / 1e3;
        hs_buf_printf(out, "%9" PRId64 " %12.1f %8.1f %8.1f", row->hits, us,
                      row->hits ? us / (double)row->hits : 0.0,
                      fn_ns > 0 ? 100.0 * (double)row->ns / (double)fn_ns : 0.0);
    } else {
        hs_buf_pad(out, 9 + 1 + 12 + 1 + 8 + 1 + 8);
    }
    hs_buf_puts(out, "  ");
    hs_source_put_line(out, src, line);
    hs_buf_putc(out, '\n');
}

static int render_function(hs_profile *p, hs_id fn_node, hs_buf *out) {
    const hs_node *fn = hs_node_get(p, fn_node);
    const hs_frame *frame = hs_frame_get(p, fn->frame);
    size_t n = 0;
    for (hs_id c = fn->first_child; c != HS_NONE; c = hs_node_get(p, c)->next_sibling)
        n++;
    line_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return -1;
    n = 0;
    int64_t fn_ns = 0;
    for (hs_id c = fn->first_child; c != HS_NONE; c = hs_node_get(p, c)->next_sibling) {
        const hs_node *nd = hs_node_get(p, c);
        rows[n].line = hs_frame_get(p, nd->frame)->line;
        rows[n].hits = nd->self[HS_W_CALLS];
        rows[n].ns = nd->self[HS_W_WALL_NS];
        fn_ns = hs_sat_add(fn_ns, rows[n].ns);
        n++;
    }
    if (hs_render_sort(rows, n, sizeof *rows, cmp_rows, NULL) < 0) {
        free(rows);
        return -1;
    }
    size_t file_len = 0, name_len = 0;
    const char *file = hs_str(p, frame->file, &file_len);
    const char *name = hs_str(p, frame->name, &name_len);
    hs_source_block src;
    if (hs_source_load(p, file ? file : "", file ? file_len : 0, frame->first_line, &src) < 0) {
        hs_source_free(&src);
        free(rows);
        return -1;
    }
    hs_buf_printf(out, "Total time: %.6f s\nFile: ", (double)fn_ns / 1e9);
    hs_render_put_text(out, file ? file : "", file_len, HS_TEXT_PLAIN);
    hs_buf_puts(out, "\nFunction: ");
    hs_render_put_text(out, name ? name : "", name_len, HS_TEXT_PLAIN);
    hs_buf_printf(out, " at line %d%s\n\n", (int)frame->first_line, n ? "" : " (never called)");
    hs_buf_printf(out, "%6s %9s %12s %8s %8s  %s\n", "Line #", "Hits", "Time", "Per Hit", "% Time",
                  "Line Contents");
    for (int i = 0; i < 62; i++)
        hs_buf_putc(out, '=');
    hs_buf_putc(out, '\n');
    /* From the def line (or the first line recorded, if earlier) to the
     * last line recorded or, with source, the end of the function block. */
    int32_t lo = frame->first_line, hi = frame->first_line;
    if (n && rows[0].line < lo)
        lo = rows[0].line;
    if (n && rows[n - 1].line > hi)
        hi = rows[n - 1].line;
    if (src.text && src.first == frame->first_line && src.count && src.first + (int32_t)src.count - 1 > hi)
        hi = src.first + (int32_t)src.count - 1;
    size_t r = 0;
    for (int32_t line = lo; line <= hi; line++) {
        while (r < n && rows[r].line < line)
            r++;
        int has_row = r < n && rows[r].line == line;
        int has_text = hs_source_has_line(&src, line);
        /* Lines neither run nor known are skipped, so a function whose file
         * is gone still shows its figures compactly. */
        if (has_row || has_text)
            put_row(out, line, has_row ? &rows[r] : NULL, fn_ns, &src);
    }
    hs_buf_putc(out, '\n');
    hs_source_free(&src);
    free(rows);
    return 0;
}

int hs_render_lines_text(hs_profile *p, hs_buf *out, char *err) {
    hs_buf_puts(out, "Timer unit: 1e-06 s\n\n");
    size_t functions = 0;
    for (hs_id t = hs_node_get(p, HS_ROOT)->first_child; t != HS_NONE; t = hs_node_get(p, t)->next_sibling) {
        for (hs_id fn = hs_node_get(p, t)->first_child; fn != HS_NONE; fn = hs_node_get(p, fn)->next_sibling) {
            if (render_function(p, fn, out) < 0) {
                hs_render_error(err, "out of memory rendering the line profile");
                return -1;
            }
            functions++;
        }
    }
    if (!functions)
        hs_buf_puts(out, "No functions were selected for line profiling.\n");
    if (out->failed) {
        hs_render_error(err, "out of memory rendering the line profile");
        return -1;
    }
    return 0;
}
