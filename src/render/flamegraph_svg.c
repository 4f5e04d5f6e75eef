/*
 * flamegraph_svg.c - the flame graph as one standalone SVG file, laid out
 * here in C (flame_layout.c) and made interactive by a script of its own
 * (src/render/assets/flame.js, embedded at build time by
 * tools/embed_assets.py): click a frame to zoom into it, reset, search by
 * regular expression or substring with the matched share of the total,
 * and a tooltip with total and self weight and their shares.
 *
 * The file works without its script too: every frame carries a <title>
 * (the tooltip of any SVG viewer) and a label truncated to fit its box.
 *
 * A profile with series in bytes (a memory profile's heap and RSS over
 * time) gets a plot of them under the frames (flame_series_svg.c).
 *
 * It also carries the whole profile model as JSON (model_json.c) in one
 * <script type="application/json" id="hotscope-profile"> element, which
 * browsers neither run nor draw, so `hotscope view flame.svg` can turn it
 * back into any other format. That JSON escapes < > & inside strings, so
 * it is valid XML text and can never close its element early.
 *
 * Names come from the profiled program: every one goes through
 * hs_render_put_xml_text, so "<script>" in a function name is text.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "flame.h"
#include "render_util.h"

#define IMAGE_WIDTH 1200.0
#define MARGIN 10.0
#define GRAPH_WIDTH (IMAGE_WIDTH - 2 * MARGIN)
#define ROW_HEIGHT 16
#define BOX_HEIGHT 15
#define FRAMES_TOP 80
#define FOOTER 34
/* Wider than this, the SVG would take the browser seconds to lay out. */
#define MAX_DRAWN_DEPTH 2000
/* Average advance of the 11px monospace font, in pixels (0.6 em, a bit
 * more to be safe), so a truncated label never spills out of its box. */
#define CHAR_WIDTH 6.8

typedef struct {
    hs_profile *p;
    const hs_flame_opts *opts;
    const hs_flame_layout *layout;
    hs_buf *out;
    hs_buf label;   /* scratch: one frame's label */
    double scale;   /* pixels per unit of width */
    double min_px;
    uint32_t rows;
    /* The weight's totals, shown in tooltips: the layout's own, or (with
     * opts->width_totals) computed apart, as the widths follow others. */
    const int64_t *values;
    int64_t value_root;
} svg_writer;

static void put_text(hs_buf *out, const hs_buf *raw) {
    hs_render_put_xml_text(out, raw->data ? raw->data : "", raw->len);
}

/* The first `fit` characters of the label, ending in ".." when cut; no
 * text at all when fewer than three characters fit. */
static void put_truncated(hs_buf *out, const hs_buf *raw, double box_width) {
    long fit = (long)floor((box_width - 6.0) / CHAR_WIDTH);
    if (fit < 3 || !raw->data)
        return;
    size_t chars = 0, i = 0, cut = 0;
    while (i < raw->len) {
        uint32_t cp;
        size_t n = hs_utf8_next(raw->data, raw->len, i, &cp);
        i += n ? n : 1;
        chars++;
        if (chars == (size_t)fit - 2)
            cut = i;
    }
    if (chars <= (size_t)fit) {
        hs_render_put_xml_text(out, raw->data, raw->len);
        return;
    }
    hs_render_put_xml_text(out, raw->data, cut);
    hs_buf_puts(out, "..");
}

static double box_y(const svg_writer *w, uint32_t depth) {
    if (w->opts->icicle)
        return FRAMES_TOP + (double)depth * ROW_HEIGHT;
    return FRAMES_TOP + (double)(w->rows - 1 - depth) * ROW_HEIGHT;
}

static void put_share(svg_writer *w, int64_t value) {
    double total = (double)w->value_root;
    hs_flame_format_value(w->opts->weight, value, w->out);
    hs_buf_printf(w->out, " (%.2f%%)", total > 0 ? 100.0 * (double)value / total : 0.0);
}

/* `totals` summed over what a merged box stands for: the children of its
 * parent that were too narrow. */
static int64_t merged_sum(const svg_writer *w, const hs_flame_box *box, const int64_t *totals) {
    int64_t sum = 0;
    for (hs_id c = hs_node_get(w->p, box->parent)->first_child; c != HS_NONE;
         c = hs_node_get(w->p, c)->next_sibling)
        if ((double)w->layout->totals[c] * w->scale < w->min_px)
            sum = hs_sat_add(sum, totals[c]);
    return sum;
}

static void put_diff_line(svg_writer *w, int64_t before, int64_t after) {
    hs_buf_putc(w->out, '\n');
    hs_flame_format_value(w->opts->weight, before, w->out);
    hs_buf_puts(w->out, " \xE2\x86\x92 "); /* → */
    hs_flame_format_value(w->opts->weight, after, w->out);
    if (before > 0)
        hs_buf_printf(w->out, " (%+.1f%%)", 100.0 * ((double)after - (double)before) / (double)before);
    else
        hs_buf_puts(w->out, after > 0 ? " (new)" : " (+0.0%)");
}

static void put_box(svg_writer *w, const hs_flame_box *box) {
    hs_buf *out = w->out;
    hs_profile *p = w->p;
    char fill[8];
    int64_t before = 0;
    hs_id frame = box->node != HS_NONE ? hs_node_get(p, box->node)->frame : HS_NONE;
    int64_t value = box->node == HS_NONE ? merged_sum(w, box, w->values) : w->values[box->node];
    int removed = 0; /* differential: only BEFORE has it */
    w->label.len = 0;
    if (box->node == HS_NONE)
        hs_buf_puts(&w->label, "\xE2\x80\xA6"); /* … */
    else
        hs_flame_label(p, frame, &w->label);
    if (w->opts->baseline_totals) {
        before = box->node == HS_NONE ? merged_sum(w, box, w->opts->baseline_totals)
                                      : w->opts->baseline_totals[box->node];
        hs_flame_diff_color(before, value, fill);
        removed = before > 0 && value == 0;
    } else if (box->node == HS_NONE) {
        memcpy(fill, "#d8d8d8", 8);
    } else {
        hs_flame_color(p, frame, fill);
    }

    hs_buf_printf(out, "<g class=\"f%s%s\"><title>", box->node == HS_NONE ? " m" : "", removed ? " removed" : "");
    if (removed) {
        /* No figures of AFTER to give: what it was. */
        if (box->node == HS_NONE)
            hs_buf_printf(out, "%" PRIu32 " frames too narrow to show", box->merged);
        else
            put_text(out, &w->label);
        hs_buf_puts(out, "\nonly in BEFORE: ");
        hs_flame_format_value(w->opts->weight, before, out);
        int64_t before_root = w->opts->baseline_totals[w->opts->subtree];
        hs_buf_printf(out, " (%.2f%% of BEFORE), removed", before_root > 0 ? 100.0 * (double)before / (double)before_root : 0.0);
    } else if (box->node == HS_NONE) {
        hs_buf_printf(out, "%" PRIu32 " frames too narrow to show\nTotal: ", box->merged);
        put_share(w, value);
    } else {
        put_text(out, &w->label);
        const hs_frame *f = frame != HS_NONE ? hs_frame_get(p, frame) : NULL;
        hs_buf_putc(out, '\n');
        if (f && f->kind == HS_KIND_PYTHON) {
            size_t len = 0;
            const char *file = hs_str(p, f->file, &len);
            hs_render_put_xml_text(out, file ? file : "", file ? len : 0);
            hs_buf_printf(out, ":%" PRId32 "  ", f->line ? f->line : f->first_line);
        }
        hs_buf_printf(out, "[%s]\nTotal: ", hs_category_name(hs_frame_category(p, frame)));
        put_share(w, value);
        hs_buf_puts(out, "\nSelf: ");
        put_share(w, hs_node_get(p, box->node)->self[w->opts->weight]);
    }
    if (w->opts->baseline_totals && !removed)
        put_diff_line(w, before, value);
    double y = box_y(w, box->depth);
    hs_buf_printf(out, "</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>",
                  MARGIN + box->x, y, box->w, BOX_HEIGHT, fill);
    size_t before_text = out->len;
    hs_buf_printf(out, "<text x=\"%.2f\" y=\"%.0f\">", MARGIN + box->x + 3.0, y + 11.0);
    size_t text_start = out->len;
    put_truncated(out, &w->label, box->w);
    if (out->len == text_start)
        out->len = before_text; /* nothing fits: no <text> at all */
    else
        hs_buf_puts(out, "</text>");
    hs_buf_puts(out, "</g>\n");
}

static void put_legend(svg_writer *w, double y) {
    hs_buf *out = w->out;
    static const char *const diff_names[] = {"grew", "shrank", "unchanged", "only in BEFORE (removed)"};
    double x = 300.0;
    hs_buf_puts(out, "<g id=\"legend\">");
    for (int k = 0; k < (w->opts->baseline_totals ? 4 : 5); k++) {
        char fill[8];
        const char *name;
        if (w->opts->baseline_totals) {
            hs_flame_diff_color(100, k == 0 ? 200 : k == 1 ? 50 : k == 2 ? 100 : 0, fill);
            name = diff_names[k];
        } else {
            hs_flame_category_color((hs_category)k, fill);
            name = k == HS_CAT_USER      ? "your code"
                   : k == HS_CAT_STDLIB  ? "standard library"
                   : k == HS_CAT_LIBRARY ? "third-party"
                   : k == HS_CAT_NATIVE  ? "C / builtins"
                                         : "threads, other";
        }
        hs_buf_printf(out,
                      "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                      "<text x=\"%.0f\" y=\"%.0f\">%s</text>",
                      x, y - 10, fill, x + 16, y, name);
        x += 16 + 6.6 * (double)strlen(name) + 18;
    }
    hs_buf_puts(out, "</g>\n");
}

static void put_header(svg_writer *w, int height) {
    hs_buf *out = w->out;
    const hs_flame_opts *opts = w->opts;
    hs_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
                  "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                  "height=\"%d\" viewBox=\"0 0 %.0f %d\" id=\"hotscope-flame\" "
                  "data-left=\"%.0f\" data-width=\"%.0f\" data-row=\"%d\" data-top=\"%d\" "
                  "data-rows=\"%" PRIu32 "\" data-icicle=\"%d\">\n",
                  IMAGE_WIDTH, height, IMAGE_WIDTH, height, MARGIN, GRAPH_WIDTH, ROW_HEIGHT,
                  FRAMES_TOP, w->rows, opts->icicle ? 1 : 0);
    hs_buf_puts(out, "<style type=\"text/css\"><![CDATA[\n");
    hs_buf_append(out, hs_asset_flame_css, hs_asset_flame_css_len);
    hs_buf_puts(out, "]]></style>\n");
    if (!opts->omit_model) {
        hs_buf_puts(out, "<script type=\"application/json\" id=\"hotscope-profile\">");
        char err[256];
        hs_render_model_json(w->p, out, err);
        hs_buf_puts(out, "</script>\n");
    }
    hs_buf_puts(out, "<script type=\"text/ecmascript\"><![CDATA[\n");
    hs_buf_append(out, hs_asset_flame_js, hs_asset_flame_js_len);
    hs_buf_puts(out, "]]></script>\n");
    hs_buf_printf(out, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%d\"/>\n",
                  IMAGE_WIDTH, height);

    hs_buf_printf(out, "<text id=\"title\" x=\"%.0f\" y=\"24\">", IMAGE_WIDTH / 2);
    const char *title = opts->title ? opts->title
                        : opts->baseline_totals ? "Differential flame graph"
                        : opts->icicle           ? "Icicle graph"
                                                 : "Flame graph";
    hs_render_put_xml_text(out, title, strlen(title));
    hs_buf_printf(out, "</text>\n<text id=\"subtitle\" x=\"%.0f\" y=\"42\">", IMAGE_WIDTH / 2);
    const char *command = hs_meta_get(w->p, "command");
    if (command && command[0]) {
        hs_render_put_xml_text(out, command, strlen(command));
        hs_buf_puts(out, " \xE2\x80\x94 "); /* — */
    }
    if (opts->baseline_totals) {
        hs_buf_puts(out, "before ");
        hs_flame_format_value(opts->weight, opts->baseline_totals[opts->subtree], out);
        hs_buf_puts(out, ", after ");
        hs_flame_format_value(opts->weight, w->value_root, out);
        if (opts->width_totals)
            hs_buf_puts(out, "; widths: the larger of the two on each path");
    } else {
        hs_buf_puts(out, "total ");
        hs_flame_format_value(opts->weight, w->value_root, out);
    }
    if (w->layout->cut_depth)
        hs_buf_printf(out, "; frames deeper than %" PRIu32 " levels not drawn (zoom in to see them in the HTML report)",
                      w->layout->cut_depth);
    hs_buf_puts(out, "</text>\n");
    hs_buf_puts(out, "<text id=\"reset\" class=\"btn\" x=\"10\" y=\"66\">Reset zoom</text>\n");
    hs_buf_printf(out, "<text id=\"search\" class=\"btn\" x=\"%.0f\" y=\"66\">Search</text>\n",
                  IMAGE_WIDTH - MARGIN);
    hs_buf_printf(out, "<text id=\"matched\" x=\"%.0f\" y=\"%d\"></text>\n", IMAGE_WIDTH - MARGIN,
                  height - 12);
    put_legend(w, 66);
}

int hs_render_flamegraph_svg(hs_profile *p, const hs_flame_opts *opts, hs_buf *out, char *err) {
    if (opts->subtree >= p->node_count) {
        hs_render_error(err, "no node %" PRIu32 " in this profile", opts->subtree);
        return -1;
    }
    if ((unsigned)opts->weight >= HS_W_COUNT) {
        hs_render_error(err, "unknown weight %d", (int)opts->weight);
        return -1;
    }
    hs_flame_layout layout;
    double min_px = opts->min_width_px > 0 ? opts->min_width_px : 0.1;
    int64_t *values = NULL;
    if (opts->width_totals) {
        values = malloc((p->node_count ? p->node_count : 1) * sizeof *values);
        if (values)
            hs_node_totals(p, opts->weight, values);
    }
    if ((opts->width_totals && !values) ||
        (opts->width_totals ? hs_flame_layout_compute_totals(p, opts->subtree, opts->width_totals, GRAPH_WIDTH,
                                                             min_px, MAX_DRAWN_DEPTH - 1, &layout)
                            : hs_flame_layout_compute(p, opts->subtree, opts->weight, GRAPH_WIDTH, min_px,
                                                      MAX_DRAWN_DEPTH - 1, &layout)) < 0) {
        free(values);
        hs_render_error(err, "out of memory laying out the flame graph");
        return -1;
    }
    svg_writer w = {p, opts, &layout, out, {0}, 0.0, min_px, layout.max_depth + 1, NULL, 0};
    w.values = values ? values : layout.totals;
    w.value_root = w.values[opts->subtree];
    hs_buf_init(&w.label);
    w.scale = layout.root_total > 0 ? GRAPH_WIDTH / (double)layout.root_total : 0.0;
    int plot = opts->baseline_totals ? 0 : hs_flame_series_height(p);
    int height = FRAMES_TOP + (int)w.rows * ROW_HEIGHT + (plot ? plot + 12 : 0) + FOOTER;
    hs_buf_reserve(out, layout.count * 320 + 65536);

    put_header(&w, height);
    hs_buf_puts(out, "<g id=\"frames\">\n");
    for (size_t i = 0; i < layout.count; i++)
        put_box(&w, &layout.boxes[i]);
    hs_buf_puts(out, "</g>\n");
    if (plot)
        hs_flame_series_svg(p, MARGIN, GRAPH_WIDTH, FRAMES_TOP + (double)w.rows * ROW_HEIGHT + 12, out);
    hs_buf_puts(out, "<g id=\"tip\" visibility=\"hidden\"><rect/><text></text></g>\n</svg>\n");

    int failed = out->failed || w.label.failed;
    hs_buf_free(&w.label);
    hs_flame_layout_free(&layout);
    free(values);
    if (failed) {
        hs_render_error(err, "out of memory writing the flame graph");
        return -1;
    }
    return 0;
}
