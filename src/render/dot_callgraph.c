/*
 * dot_callgraph.c - the call graph in Graphviz's DOT language: one node
 * per function, one edge per caller -> callee pair, with the numbers of
 * stats.h (cProfile's semantics, so they agree with the pstats table):
 *
 *     f3 [label="main\napp.py:10\n92.41% total\n3.02% self\n1 call", fillcolor="#d7301f", ...];
 *     f3 -> f7 [label="61.00%\n3000 calls", color="#e06a22", penwidth=4.05];
 *
 * total % is the function's cumulative time (recursion counted once) as a
 * share of the whole profile, self % its own time; an edge's % is the time
 * spent in the callee when called from that caller, its calls the calls
 * made along it. Sampled profiles have no call counts: none are shown.
 *
 * Hot paths stand out: fill and edge colors run along a heat scale from
 * blue (cold) through green and yellow to red (hot) by total share, and
 * edges and borders grow thicker with it. The scale is a hue ramp in HSL
 * with an ease-out curve that spreads the small shares most functions have.
 *
 * Pruning keeps large programs readable: functions whose total share is
 * below node_threshold percent are left out with their edges, and edges
 * below edge_threshold percent too. Node names and files come from the
 * profiled program: they are written as DOT quoted strings with quotes
 * and backslashes escaped, control characters as spaces and invalid UTF-8
 * as U+FFFD (Graphviz reads UTF-8), so no name can end a string, start an
 * escape such as \N, or break the graph.
 *
 * Grammar: https://graphviz.org/doc/info/lang.html (quoted strings, where
 * \" is the only escape the parser knows and the renderer turns \n into a
 * centred line break and \\ into a backslash).
 */
#include <stdlib.h>
#include <string.h>

#include "../model/stats.h"
#include "render.h"
#include "render_util.h"

static const char replacement_char[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* The inside of a DOT quoted string (the quotes are the caller's). */
static void put_dot_text(hs_buf *out, const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = hs_utf8_next(s, len, i, &cp);
            if (n == 0) {
                hs_buf_puts(out, replacement_char);
                i++;
            } else {
                hs_buf_append(out, s + i, n);
                i += n;
            }
            continue;
        }
        if (c == '"' || c == '\\') {
            hs_buf_putc(out, '\\');
            hs_buf_putc(out, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            hs_buf_putc(out, ' ');
        } else {
            hs_buf_putc(out, (char)c);
        }
        i++;
    }
}

/* The heat color of a share in [0, 1]: hue 240 (blue) at 0 to 0 (red) at
 * 1, as an sRGB hex string in out[8]. */
static void heat_color(double share, double lightness, char out[8]) {
    if (!(share > 0.0))
        share = 0.0;
    if (share > 1.0)
        share = 1.0;
    /* An ease-out curve spreads the small shares most functions have:
     * 10% of the time is a fifth of the way to red, 50% three quarters. */
    double t = 1.0 - (1.0 - share) * (1.0 - share);
    double hue = (1.0 - t) * 240.0, sat = 0.8, light = lightness;
    /* HSL -> RGB (the CSS Color 3 algorithm). */
    double q = light < 0.5 ? light * (1.0 + sat) : light + sat - light * sat;
    double pp = 2.0 * light - q;
    double rgb[3];
    for (int k = 0; k < 3; k++) {
        double h = hue / 360.0 + (k == 0 ? 1.0 / 3.0 : k == 1 ? 0.0 : -1.0 / 3.0);
        if (h < 0)
            h += 1;
        if (h > 1)
            h -= 1;
        double v = h * 6 < 1 ? pp + (q - pp) * h * 6 : h * 2 < 1 ? q : h * 3 < 2 ? pp + (q - pp) * (2.0 / 3.0 - h) * 6 : pp;
        rgb[k] = v;
    }
    static const char hex[] = "0123456789abcdef";
    out[0] = '#';
    for (int k = 0; k < 3; k++) {
        int v = (int)(rgb[k] * 255.0 + 0.5);
        v = v < 0 ? 0 : v > 255 ? 255 : v;
        out[1 + 2 * k] = hex[v >> 4];
        out[2 + 2 * k] = hex[v & 15];
    }
    out[7] = '\0';
}

static double share_of(int64_t v, int64_t whole) {
    return whole > 0 ? (double)v / (double)whole : 0.0;
}

static void put_calls(hs_buf *out, int64_t calls, int64_t primitive) {
    if (calls == primitive)
        hs_buf_printf(out, "\\n%lld call%s", (long long)calls, calls == 1 ? "" : "s");
    else /* pstats' "calls/primitive" */
        hs_buf_printf(out, "\\n%lld/%lld calls", (long long)calls, (long long)primitive);
}

static void put_function_name(const hs_profile *p, hs_id function, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, function);
    size_t len = 0;
    const char *s;
    hs_buf label;
    hs_buf_init(&label);
    if (f->kind == HS_KIND_PYTHON) {
        s = hs_str(p, f->name, &len);
        put_dot_text(out, s ? s : "", s ? len : 0);
        size_t flen = 0;
        const char *file = hs_str(p, f->file, &flen);
        if (!file)
            file = "", flen = 0;
        size_t off = hs_render_module_path_offset(file, flen);
        hs_buf_puts(out, "\\n");
        put_dot_text(out, file + off, flen - off);
        hs_buf_printf(out, ":%d", (int)f->first_line);
    } else {
        hs_function_label(p, function, &label);
        put_dot_text(out, label.data ? label.data : "", label.len);
    }
    if (label.failed)
        out->failed = 1;
    hs_buf_free(&label);
}

int hs_render_dot(hs_profile *p, const hs_dot_opts *opts, hs_buf *out, char *err) {
    if (!p || !opts || !out) {
        hs_render_error(err, "call graph: missing argument");
        return -1;
    }
    if (opts->subtree >= p->node_count || (unsigned)opts->weight >= HS_W_COUNT) {
        hs_render_error(err, "call graph: bad subtree or weight");
        return -1;
    }
    hs_stats st;
    if (hs_stats_compute(p, opts->subtree, opts->weight, &st) != 0) {
        hs_render_error(err, "call graph: out of memory computing function statistics");
        return -1;
    }
    hs_weight w = opts->weight;
    int64_t whole = st.total[w];
    int with_calls = (p->weights_present & (1u << HS_W_CALLS)) != 0;
    int is_time = hs_render_is_time_weight(w);
    /* index_of[function frame] = its index in st.funcs, for the edges. */
    size_t *index_of = malloc((p->frame_count ? p->frame_count : 1) * sizeof *index_of);
    unsigned char *kept = calloc(st.func_count ? st.func_count : 1, 1);
    if (!index_of || !kept) {
        free(index_of);
        free(kept);
        hs_stats_free(&st);
        hs_render_error(err, "call graph: out of memory");
        return -1;
    }

    hs_buf_puts(out, "digraph hotscope {\n");
    hs_buf_puts(out, "  graph [fontname=\"Helvetica\", nodesep=0.3, ranksep=0.4, label=\"");
    const char *command = hs_meta_get(p, "command");
    if (command)
        put_dot_text(out, command, strlen(command));
    if (is_time)
        hs_buf_printf(out, "%s%.9f s %s", command ? "\\n" : "", (double)whole / 1e9,
                      w == HS_W_CPU_NS ? "CPU" : "wall");
    else
        hs_buf_printf(out, "%s%lld %s", command ? "\\n" : "", (long long)whole,
                      w == HS_W_SAMPLES ? "samples" : "units");
    hs_buf_puts(out, "\", labelloc=\"t\"];\n");
    hs_buf_puts(out, "  node [shape=box, style=\"filled,rounded\", fontname=\"Helvetica\", "
                     "fontsize=10, fontcolor=\"#ffffff\"];\n");
    hs_buf_puts(out, "  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.6];\n");

    for (size_t i = 0; i < st.func_count; i++) {
        const hs_func_stats *f = &st.funcs[i];
        index_of[f->function] = i;
        double total = share_of(f->total[w], whole), self = share_of(f->self[w], whole);
        if (whole > 0 && total * 100.0 < opts->node_threshold)
            continue;
        kept[i] = 1;
        char fill[8];
        heat_color(total, 0.42, fill);
        hs_buf_printf(out, "  f%zu [label=\"", i);
        put_function_name(p, f->function, out);
        hs_buf_printf(out, "\\n%.2f%% total\\n%.2f%% self", 100.0 * total, 100.0 * self);
        if (with_calls)
            put_calls(out, f->calls, f->primitive_calls);
        hs_buf_printf(out, "\", fillcolor=\"%s\", penwidth=%.2f", fill, 1.0 + 2.0 * total);
        if (is_time)
            hs_buf_printf(out, ", tooltip=\"total %.6f s, self %.6f s\"", (double)f->total[w] / 1e9,
                          (double)f->self[w] / 1e9);
        hs_buf_puts(out, "];\n");
    }
    for (size_t e = 0; e < st.edge_count; e++) {
        const hs_edge_stats *edge = &st.edges[e];
        size_t from = index_of[edge->caller], to = index_of[edge->callee];
        double total = share_of(edge->total, whole);
        if (!kept[from] || !kept[to] || (whole > 0 && total * 100.0 < opts->edge_threshold))
            continue;
        char color[8];
        heat_color(total, 0.38, color);
        hs_buf_printf(out, "  f%zu -> f%zu [label=\"%.2f%%", from, to, 100.0 * total);
        if (with_calls)
            put_calls(out, edge->calls, edge->primitive_calls);
        hs_buf_printf(out, "\", color=\"%s\", fontcolor=\"%s\", penwidth=%.2f, arrowsize=%.2f];\n",
                      color, color, 1.0 + 5.0 * total, 0.5 + 0.5 * total);
    }
    hs_buf_puts(out, "}\n");
    free(index_of);
    free(kept);
    hs_stats_free(&st);
    if (out->failed) {
        hs_render_error(err, "call graph: out of memory");
        return -1;
    }
    return 0;
}
