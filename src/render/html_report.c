/*
 * html_report.c - the HTML report: one self-contained file, readable
 * offline and forever. It holds three things and nothing else:
 *   - the profile model as JSON (model_json.c) in
 *     <script type="application/json" id="hotscope-profile">, which the
 *     browser does not run; `hotscope view report.html` reads it back.
 *     A call tree too big for a page has its narrowest paths merged
 *     (put_model below), which the JSON says;
 *   - the styles and the script of src/render/assets/ (report.css,
 *     report.js, embedded at build time by tools/embed_assets.py), which
 *     build the whole page from that JSON: header, flame graph and icicle,
 *     function table, call tree, thread selector, timeline;
 *   - a Content-Security-Policy that forbids every request, so the page
 *     cannot load anything from anywhere even if a name tried to.
 * Names are never written as markup here: they are in the JSON only, whose
 * strings escape < > & (escape.c), and the script puts them into the page
 * as text.
 */
#include <stdio.h>
#include <string.h>

#include "assets.h"
#include "model_json.h"
#include "render_util.h"

/* The most bytes of JSON the call tree may take in the page. A bigger
 * tree (100,000 distinct stacks that share little: 2 million nodes, 35
 * MB) has its narrowest paths merged (narrow_merge.h) until it fits, and
 * the page then carries its function tables computed from the whole tree
 * (function_tables.c). With the strings, frames and tables of such a
 * profile the page stays under 10 MB, and the browser opens it in a few
 * seconds rather than choking on the tree. */
#define HTML_NODE_BYTES ((size_t)7 << 20)

/* The report's model: whole, or merged to fit with what keeps it honest. */
static int put_model(hs_profile *p, hs_buf *out, char *err) {
    hs_node_view view;
    if (hs_node_view_fit(p, HTML_NODE_BYTES, &view) != 0) {
        hs_render_error(err, "out of memory writing the HTML report");
        return -1;
    }
    if (view.count == 0)
        return hs_render_model_json(p, out, err);
    hs_buf members;
    hs_buf_init(&members);
    int rc = -1;
    if (hs_render_function_tables(p, &view, &members) != 0) {
        hs_render_error(err, "out of memory writing the HTML report");
    } else {
        char note[320];
        snprintf(note, sizeof note,
                 "the HTML report merged %zu of the call tree's %zu nodes, each under %.2g%% of its "
                 "thread in every weight, into %zu nodes named " HS_NARROW_MERGED_NAME
                 " to stay small; its function table was computed before merging",
                 view.merged_away, p->node_count, 100.0 * view.share, view.merged_nodes);
        rc = hs_render_model_json_view(p, &view, &members, note, out, err);
    }
    hs_buf_free(&members);
    hs_node_view_free(&view);
    return rc;
}

int hs_render_html_report(hs_profile *p, hs_weight default_weight, const char *title, hs_buf *out,
                          char *err) {
    if (!title) {
        const char *command = hs_meta_get(p, "command");
        title = command && command[0] ? command : "profile";
    }
    size_t nodes = p->node_count < HTML_NODE_BYTES / 16 ? p->node_count : HTML_NODE_BYTES / 16;
    hs_buf_reserve(out, nodes * 24 + p->strings.count * 40 + hs_asset_report_js_len + 65536);
    hs_buf_puts(out,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"hotscope\">\n<title>hotscope: ");
    hs_render_put_xml_text(out, title, strlen(title));
    hs_buf_puts(out, "</title>\n<style>\n");
    hs_buf_append(out, hs_asset_report_css, hs_asset_report_css_len);
    hs_buf_puts(out, "</style>\n</head>\n<body data-weight=\"");
    if ((unsigned)default_weight < HS_W_COUNT)
        hs_buf_puts(out, hs_weight_name(default_weight));
    hs_buf_puts(out, "\">\n<div id=\"app\"><p class=\"loading\">Loading the profile\xE2\x80\xA6</p></div>\n"
                     "<noscript><p>This report draws itself with JavaScript; the profile data is "
                     "in the element with id hotscope-profile.</p></noscript>\n"
                     "<script type=\"application/json\" id=\"hotscope-profile\">");
    if (put_model(p, out, err) != 0)
        return -1;
    hs_buf_puts(out, "</script>\n<script>\n");
    hs_buf_append(out, hs_asset_report_js, hs_asset_report_js_len);
    hs_buf_puts(out, "</script>\n</body>\n</html>\n");
    if (out->failed) {
        hs_render_error(err, "out of memory writing the HTML report");
        return -1;
    }
    return 0;
}
