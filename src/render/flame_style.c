/*
 * flame_style.c - how a flame graph box looks (flame.h): its fill, its
 * label, and the numbers its tooltip shows.
 *
 * Colors: one hue family per kind of code (classify.c), so a glance tells
 * the program's own code from the standard library, third-party packages
 * and C functions. Within a family the hue and lightness vary a little by
 * function name (a hash, so the same function has the same color in every
 * graph), which keeps neighbouring boxes apart. report.css and report.js
 * use the same families for the HTML report.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "flame.h"
#include "render_util.h"

typedef struct {
    double hue, hue_range; /* degrees */
    double sat;            /* 0..1 */
    double light, light_range;
} family;

/* Indexed by hs_category. */
static const family families[] = {
    {8.0, 32.0, 0.85, 0.56, 0.10},  /* user: red to orange */
    {95.0, 40.0, 0.48, 0.50, 0.10}, /* stdlib: green */
    {262.0, 30.0, 0.50, 0.64, 0.10}, /* library: purple */
    {192.0, 22.0, 0.62, 0.56, 0.10}, /* native: blue */
    {0.0, 0.0, 0.0, 0.70, 0.08},    /* synthetic: gray */
};

static uint32_t fnv1a(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void hsl_hex(double hue, double sat, double light, char out[8]) {
    /* HSL to RGB, CSS Color Module Level 3, section 4.2.4. */
    double c = (1.0 - fabs(2.0 * light - 1.0)) * sat;
    double h = fmod(hue, 360.0) / 60.0;
    double x = c * (1.0 - fabs(fmod(h, 2.0) - 1.0));
    double r = 0, g = 0, b = 0;
    if (h < 1)
        r = c, g = x;
    else if (h < 2)
        r = x, g = c;
    else if (h < 3)
        g = c, b = x;
    else if (h < 4)
        g = x, b = c;
    else if (h < 5)
        r = x, b = c;
    else
        r = c, b = x;
    double m = light - c / 2.0;
    snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround((r + m) * 255.0),
             (unsigned)lround((g + m) * 255.0), (unsigned)lround((b + m) * 255.0));
}

void hs_flame_color(const hs_profile *p, hs_id frame, char out[8]) {
    hs_category cat = hs_frame_category(p, frame);
    const family *fam = &families[cat];
    uint32_t h = 0;
    if (frame != HS_NONE && frame < p->frame_count) {
        size_t len = 0;
        const char *name = hs_str(p, hs_frame_get(p, frame)->name, &len);
        h = name ? fnv1a(name, len) : 0;
    }
    double v1 = (double)(h & 0xFFFF) / 65535.0, v2 = (double)(h >> 16) / 65535.0;
    hsl_hex(fam->hue + v1 * fam->hue_range, fam->sat, fam->light + (v2 - 0.5) * fam->light_range,
            out);
}

void hs_flame_category_color(hs_category cat, char out[8]) {
    const family *fam = &families[cat];
    hsl_hex(fam->hue + fam->hue_range / 2, fam->sat, fam->light, out);
}

void hs_flame_diff_color(int64_t before, int64_t after, char out[8]) {
    if (before > 0 && after == 0) {
        snprintf(out, 8, "%s", HS_FLAME_REMOVED_COLOR);
        return;
    }
    double change;
    if (before > 0)
        change = ((double)after - (double)before) / (double)before;
    else
        change = after > 0 ? 1.0 : 0.0;
    double strength = fabs(change);
    if (strength > 1.0)
        strength = 1.0;
    unsigned fade = (unsigned)lround(225.0 - 190.0 * strength);
    if (change > 0)
        snprintf(out, 8, "#ff%02x%02x", fade, fade);
    else if (change < 0)
        snprintf(out, 8, "#%02x%02xff", fade, fade);
    else
        snprintf(out, 8, "#e1e1e1");
}

void hs_flame_label(const hs_profile *p, hs_id frame, hs_buf *out) {
    if (frame == HS_NONE || frame >= p->frame_count) {
        hs_buf_puts(out, "all");
        return;
    }
    const hs_frame *f = hs_frame_get(p, frame);
    size_t name_len = 0, file_len = 0;
    const char *name = hs_str(p, f->name, &name_len);
    const char *file = hs_str(p, f->file, &file_len);
    if (!name)
        name = "", name_len = 0;
    hs_buf_append(out, name, name_len);
    if (f->kind != HS_KIND_PYTHON || !file || (file_len == 1 && file[0] == '~'))
        return;
    const char *base = file;
    for (size_t i = 0; i < file_len; i++)
        if (file[i] == '/' || file[i] == '\\')
            base = file + i + 1;
    hs_buf_puts(out, " (");
    hs_buf_append(out, base, file_len - (size_t)(base - file));
    hs_buf_printf(out, ":%" PRId32 ")", f->line ? f->line : f->first_line);
}

static void put_grouped(hs_buf *out, int64_t v) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRId64, v);
    int start = digits[0] == '-' ? 1 : 0;
    hs_buf_append(out, digits, (size_t)start);
    for (int i = start; i < n; i++) {
        if (i > start && (n - i) % 3 == 0)
            hs_buf_putc(out, ',');
        hs_buf_putc(out, digits[i]);
    }
}

void hs_flame_format_value(hs_weight w, int64_t value, hs_buf *out) {
    double v = (double)value;
    double mag = fabs(v);
    switch (w) {
    case HS_W_WALL_NS:
    case HS_W_CPU_NS:
        if (mag >= 1e9)
            hs_buf_printf(out, "%.3f s", v / 1e9);
        else if (mag >= 1e6)
            hs_buf_printf(out, "%.2f ms", v / 1e6);
        else if (mag >= 1e3)
            hs_buf_printf(out, "%.1f \xC2\xB5s", v / 1e3);
        else
            hs_buf_printf(out, "%" PRId64 " ns", value);
        return;
    case HS_W_BYTES:
    case HS_W_PEAK_BYTES:
    case HS_W_LEAK_BYTES:
        if (mag >= 1073741824.0)
            hs_buf_printf(out, "%.2f GiB", v / 1073741824.0);
        else if (mag >= 1048576.0)
            hs_buf_printf(out, "%.2f MiB", v / 1048576.0);
        else if (mag >= 1024.0)
            hs_buf_printf(out, "%.1f KiB", v / 1024.0);
        else
            hs_buf_printf(out, "%" PRId64 " B", value);
        return;
    case HS_W_SAMPLES:
        put_grouped(out, value);
        hs_buf_puts(out, value == 1 ? " sample" : " samples");
        return;
    case HS_W_CALLS:
        put_grouped(out, value);
        hs_buf_puts(out, value == 1 ? " call" : " calls");
        return;
    case HS_W_ALLOCS:
    case HS_W_PEAK_ALLOCS:
    case HS_W_LEAK_ALLOCS:
        put_grouped(out, value);
        hs_buf_puts(out, value == 1 ? " allocation" : " allocations");
        return;
    case HS_W_COUNT:
        break;
    }
    put_grouped(out, value);
}
