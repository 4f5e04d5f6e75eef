/*
 * html_report.c - the HTML report: one self-contained file, readable
 * offline and forever. It holds three things and nothing else:
 *   - the profile model as JSON (model_json.c) in
 *     <script type="application/json" id="hotscope-profile">, which the
 *     browser does not run; `hotscope view report.html` reads it back;
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
#include <string.h>

#include "assets.h"
#include "render.h"
#include "render_util.h"

int hs_render_html_report(hs_profile *p, hs_weight default_weight, const char *title, hs_buf *out,
                          char *err) {
    if (!title) {
        const char *command = hs_meta_get(p, "command");
        title = command && command[0] ? command : "profile";
    }
    hs_buf_reserve(out, p->node_count * 24 + p->strings.count * 40 + hs_asset_report_js_len + 65536);
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
    if (hs_render_model_json(p, out, err) != 0)
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
