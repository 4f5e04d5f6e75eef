/*
 * flame_series_svg.c - the memory plot under a flame graph SVG
 * (flamegraph_svg.c): the model's series measured in bytes (the memory
 * engine's traced heap and process RSS over time, src/memory/) drawn as
 * lines on one shared scale, so their heights compare, with the exact
 * peak of the traced heap (meta peak_bytes, peak_time_ns) marked.
 *
 * Static SVG, no script: the lines, the axes' labels and a <title> on each
 * line and on the peak mark (the tooltip of any SVG viewer). A series of
 * millions of points is drawn as at most two points (the lowest and the
 * highest value) per pixel column, so a long recording stays light and
 * still shows every spike.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flame.h"
#include "render_util.h"

#define PLOT_TOP 28     /* the title and legend row above the plot */
#define PLOT_HEIGHT 110
#define PLOT_BOTTOM 22  /* the time labels under it */

static const char *const line_colors[] = {"#1a56a8", "#e8793a", "#3a9a4a", "#8a4ac8"};
#define N_COLORS (sizeof line_colors / sizeof line_colors[0])

static int is_memory_series(const hs_profile *p, const hs_series *s) {
    size_t len = 0;
    const char *unit = hs_render_str(p, s->unit, &len);
    return s->count > 0 && len == 5 && memcmp(unit, "bytes", 5) == 0;
}

static int64_t meta_int(const hs_profile *p, const char *key, int64_t fallback) {
    const char *v = hs_meta_get(p, key);
    return v && v[0] ? strtoll(v, NULL, 10) : fallback;
}

int hs_flame_series_height(const hs_profile *p) {
    for (size_t i = 0; i < p->series_count; i++)
        if (is_memory_series(p, &p->series[i]))
            return PLOT_TOP + PLOT_HEIGHT + PLOT_BOTTOM;
    return 0;
}

static void put_size(hs_buf *out, int64_t bytes) {
    hs_flame_format_value(HS_W_BYTES, bytes, out);
}

/* What a series is, for people; the raw name for series this file does
 * not know. */
static void put_series_title(const hs_profile *p, const hs_series *s, hs_buf *out) {
    size_t len = 0;
    const char *name = hs_render_str(p, s->name, &len);
    if (len == 10 && memcmp(name, "heap_bytes", 10) == 0)
        hs_buf_puts(out, hs_meta_get(p, "native") ? "heap (traced, with malloc)" : "Python heap (traced)");
    else if (len == 9 && memcmp(name, "rss_bytes", 9) == 0)
        hs_buf_puts(out, "process RSS");
    else
        hs_render_put_xml_text(out, name, len);
}

typedef struct {
    double left, top, width, height;
    int64_t t_max, v_max;
} plot_frame;

static double x_of(const plot_frame *f, int64_t t) {
    return f->left + (f->t_max > 0 ? (double)t / (double)f->t_max : 0.0) * f->width;
}

static double y_of(const plot_frame *f, int64_t v) {
    return f->top + f->height - (f->v_max > 0 ? (double)v / (double)f->v_max : 0.0) * f->height;
}

/* One series as a polyline: per pixel column its lowest and highest
 * value, in the order they came. */
static void put_series_line(const plot_frame *f, const hs_series *s, const char *color, hs_buf *out) {
    hs_buf_printf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", color);
    long column = -1;
    int64_t lo = 0, hi = 0;
    int lo_first = 1;
    for (size_t i = 0; i <= s->count; i++) {
        long c = i < s->count ? (long)(x_of(f, s->points[i].t_ns) - f->left) : -2;
        if (c != column && column >= 0) {
            double x = f->left + (double)column;
            int64_t a = lo_first ? lo : hi, b = lo_first ? hi : lo;
            hs_buf_printf(out, "%.1f,%.1f ", x, y_of(f, a));
            if (a != b)
                hs_buf_printf(out, "%.1f,%.1f ", x, y_of(f, b));
        }
        if (i == s->count)
            break;
        int64_t v = s->points[i].value;
        if (c != column) {
            column = c;
            lo = hi = v;
            lo_first = 1;
        } else if (v < lo) {
            lo = v;
            lo_first = 0;
        } else if (v > hi) {
            hi = v;
        }
    }
    hs_buf_puts(out, "\"/>");
}

void hs_flame_series_svg(const hs_profile *p, double left, double width, double top, hs_buf *out) {
    plot_frame f = {left, top + PLOT_TOP, width, PLOT_HEIGHT, 1, 1};
    int64_t peak = meta_int(p, "peak_bytes", -1), peak_t = meta_int(p, "peak_time_ns", -1);
    for (size_t i = 0; i < p->series_count; i++) {
        const hs_series *s = &p->series[i];
        if (!is_memory_series(p, s))
            continue;
        for (size_t k = 0; k < s->count; k++) {
            if (s->points[k].t_ns > f.t_max)
                f.t_max = s->points[k].t_ns;
            if (s->points[k].value > f.v_max)
                f.v_max = s->points[k].value;
        }
    }
    if (peak > f.v_max)
        f.v_max = peak;

    hs_buf_printf(out, "<g id=\"memory-plot\">\n<text x=\"%.0f\" y=\"%.0f\" class=\"plot-title\">Memory over time</text>",
                  left, top + 16);
    /* The legend: one entry per series, with its highest value. */
    double x = left + 150;
    size_t drawn = 0;
    for (size_t i = 0; i < p->series_count; i++) {
        const hs_series *s = &p->series[i];
        if (!is_memory_series(p, s))
            continue;
        int64_t max = 0;
        for (size_t k = 0; k < s->count; k++)
            if (s->points[k].value > max)
                max = s->points[k].value;
        hs_buf_printf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
                           "<text x=\"%.0f\" y=\"%.0f\" class=\"plot-legend\">",
                      x, top + 11, line_colors[drawn % N_COLORS], x + 16, top + 16);
        size_t text_start = out->len;
        put_series_title(p, s, out);
        hs_buf_puts(out, ", highest sampled ");
        put_size(out, max);
        size_t text_len = out->len - text_start;
        hs_buf_puts(out, "</text>");
        x += 16 + 6.2 * (double)text_len + 24;
        drawn++;
    }
    /* The frame, a half and a full grid line with their values. */
    hs_buf_printf(out, "\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" stroke=\"#ccc\"/>",
                  f.left, f.top, f.width, f.height);
    for (int k = 1; k <= 2; k++) {
        int64_t v = f.v_max * k / 2;
        double y = y_of(&f, v);
        hs_buf_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" class=\"plot-axis\">",
                      f.left, f.left + f.width, y, y, f.left + 4, y + 12);
        put_size(out, v);
        hs_buf_puts(out, "</text>");
    }
    hs_buf_printf(out, "\n<text x=\"%.1f\" y=\"%.1f\" class=\"plot-axis\">0 s</text>"
                       "<text x=\"%.1f\" y=\"%.1f\" class=\"plot-axis\" text-anchor=\"end\">",
                  f.left, f.top + f.height + 15, f.left + f.width, f.top + f.height + 15);
    hs_flame_format_value(HS_W_WALL_NS, f.t_max, out);
    hs_buf_puts(out, "</text>\n");
    drawn = 0;
    for (size_t i = 0; i < p->series_count; i++) {
        const hs_series *s = &p->series[i];
        if (!is_memory_series(p, s))
            continue;
        hs_buf_puts(out, "<g class=\"series\"><title>");
        put_series_title(p, s, out);
        hs_buf_printf(out, ": %zu samples</title>", s->count);
        put_series_line(&f, s, line_colors[drawn++ % N_COLORS], out);
        hs_buf_puts(out, "</g>\n");
    }
    if (peak > 0 && peak_t >= 0) {
        /* The peak is exact (the running total's maximum); the series are
         * samples and may have missed it. */
        double px = x_of(&f, peak_t), py = y_of(&f, peak);
        int at_right = px > f.left + f.width - 140;
        hs_buf_printf(out, "<g class=\"peak\"><title>peak of the traced heap: ");
        put_size(out, peak);
        hs_buf_puts(out, " at ");
        hs_flame_format_value(HS_W_WALL_NS, peak_t, out);
        hs_buf_printf(out, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#c0392b\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" class=\"plot-axis\"%s>peak ",
                      px, py, at_right ? px - 6 : px + 6, py + 12, at_right ? " text-anchor=\"end\"" : "");
        put_size(out, peak);
        hs_buf_puts(out, "</text></g>\n");
    }
    hs_buf_puts(out, "</g>\n");
}
