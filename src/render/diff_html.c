/*
 * diff_html.c - `hotscope diff -o x.html`: one self-contained page with the
 * differential flame graph (diff_svg.c, inline) and the table of the
 * largest changes (the rows of diff_table.c as an HTML table). No external
 * resources: the file can be mailed or attached to a pull request.
 * Every name is escaped with hs_render_put_xml_text.
 */
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

static void put_cell(hs_buf *out, int64_t v, double scale, const char *unit, int sign, int64_t tint) {
    const char *cls = !sign || tint == 0 ? "" : tint > 0 ? " class=\"slower\"" : " class=\"faster\"";
    hs_buf_printf(out, sign ? "<td%s>%+.3f%s</td>" : "<td%s>%.3f%s</td>", cls, (double)v / scale, unit);
}

static void put_percent_cell(hs_buf *out, int64_t before, int64_t after) {
    int64_t delta = after - before;
    const char *cls = delta == 0 ? "" : delta > 0 ? " class=\"slower\"" : " class=\"faster\"";
    if (before == 0)
        hs_buf_printf(out, "<td%s>%s</td>", cls, after == 0 ? "0.0%" : "new");
    else
        hs_buf_printf(out, "<td%s>%+.1f%%</td>", cls, 100.0 * (double)delta / (double)before);
}

int hs_render_diff_html(hs_diff *d, hs_weight w, long limit, const char *title, int icicle, hs_buf *out,
                        char *err) {
    hs_diff_row *rows;
    size_t count;
    int64_t before, after;
    if ((unsigned)w >= HS_W_COUNT) {
        hs_render_error(err, "diff: unknown weight");
        return -1;
    }
    hs_buf svg;
    hs_buf_init(&svg);
    if (hs_render_diff_svg(d, w, title, icicle, &svg, err) != 0) {
        hs_buf_free(&svg);
        return -1;
    }
    if (hs_diff_rows(d, w, &rows, &count, &before, &after) != 0) {
        hs_buf_free(&svg);
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    int is_time = hs_render_is_time_weight(w);
    int64_t largest = before > after ? before : after;
    double scale = !is_time ? 1.0 : largest >= 1000000000 ? 1e9 : 1e6;
    const char *unit = !is_time ? "" : largest >= 1000000000 ? " s" : " ms";
    const char *what = w == HS_W_WALL_NS ? "wall time" : w == HS_W_CPU_NS ? "CPU time" : "samples";

    hs_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    const char *t = title ? title : "hotscope diff";
    hs_render_put_xml_text(out, t, strlen(t));
    hs_buf_puts(out, "</title>\n<style>\n"
                     "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}\n"
                     "table{border-collapse:collapse;margin-top:.5em}\n"
                     "th,td{padding:2px 9px;text-align:right;border-bottom:1px solid #e4e4e4;white-space:nowrap}\n"
                     "td.fn,th.fn{text-align:left;font-family:ui-monospace,monospace}\n"
                     ".slower{color:#b3001b}.faster{color:#0047b3}\n"
                     ".graph svg{max-width:100%;height:auto}\n"
                     "</style>\n</head>\n<body>\n<h1>");
    hs_render_put_xml_text(out, t, strlen(t));
    hs_buf_printf(out, "</h1>\n<p id=\"summary\">%s: before %.3f%s, after %.3f%s, change %+.3f%s", what,
                  (double)before / scale, unit, (double)after / scale, unit, (double)(after - before) / scale,
                  unit);
    if (before)
        hs_buf_printf(out, " (%+.1f%%)", 100.0 * (double)(after - before) / (double)before);
    hs_buf_puts(out, ". Red: slower than before; blue: faster; teal: only in BEFORE (removed). "
                     "Each box is as wide as the larger of BEFORE and AFTER on its path, so removed "
                     "code keeps its width; hover for both figures.</p>\n<div class=\"graph\">\n");
    /* Inline SVG: the markup from <svg on (an XML declaration or DOCTYPE
     * before it has no place inside HTML). */
    const char *start = svg.data ? strstr(svg.data, "<svg") : NULL;
    if (start)
        hs_buf_append(out, start, svg.len - (size_t)(start - svg.data));
    hs_buf_puts(out, "\n</div>\n<h2>Largest changes</h2>\n<table id=\"changes\">\n<thead><tr>"
                     "<th>self before</th><th>self after</th><th>change</th><th>%</th>"
                     "<th>total before</th><th>total after</th><th>change</th><th>%</th>"
                     "<th class=\"fn\">function</th></tr></thead>\n<tbody>\n");
    hs_buf name;
    hs_buf_init(&name);
    for (size_t i = 0; i < count && (limit <= 0 || i < (size_t)limit); i++) {
        const hs_diff_row *r = &rows[i];
        hs_buf_puts(out, "<tr>");
        put_cell(out, r->self_before, scale, unit, 0, 0);
        put_cell(out, r->self_after, scale, unit, 0, 0);
        put_cell(out, r->self_after - r->self_before, scale, unit, 1, r->self_after - r->self_before);
        put_percent_cell(out, r->self_before, r->self_after);
        put_cell(out, r->total_before, scale, unit, 0, 0);
        put_cell(out, r->total_after, scale, unit, 0, 0);
        put_cell(out, r->total_after - r->total_before, scale, unit, 1, r->total_after - r->total_before);
        put_percent_cell(out, r->total_before, r->total_after);
        name.len = 0;
        hs_render_diff_function_name(d->after, r->function, &name);
        hs_buf_puts(out, "<td class=\"fn\">");
        hs_render_put_xml_text(out, name.data ? name.data : "", name.len);
        hs_buf_puts(out, "</td></tr>\n");
    }
    hs_buf_puts(out, "</tbody>\n</table>\n</body>\n</html>\n");
    if (name.failed)
        out->failed = 1;
    hs_buf_free(&name);
    hs_buf_free(&svg);
    free(rows);
    if (out->failed) {
        hs_render_error(err, "diff: out of memory");
        return -1;
    }
    return 0;
}
