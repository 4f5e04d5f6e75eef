/*
 * mem_lines_text.c - the memory engine's per-line figures of chosen
 * functions (line tables alloc_bytes, allocs, freed_bytes, frees; see
 * src/memory/mem_lines.h) as text, one table per function in the layout
 * of memory_profiler's line-by-line report, which its users read at once,
 * but with exact figures instead of RSS differences:
 *
 *   Line #    Allocated        Freed          Net   Allocs  Line Contents
 *
 * Allocated and Freed are the bytes asked of and given back to the Python
 * allocators while the line was running (callees included); Net is their
 * difference, memory_profiler's "Increment". The function's header gives
 * the same figures for the whole function: under recursion its lines can
 * overlap, so the header is not always the sum of its lines.
 *
 * Part of the `hotscope mem` text report (mem_text.c); reads only the
 * model. Source lines come from the profile (source_text.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

enum { V_ALLOC_BYTES, V_ALLOCS, V_FREED_BYTES, V_FREES, V_COUNT };
static const char *const table_names[V_COUNT] = {"alloc_bytes", "allocs", "freed_bytes", "frees"};

typedef struct {
    int64_t v[V_COUNT];
} frame_values;

typedef struct {
    int32_t line;
    const frame_values *values;
} line_row;

/* Sizes as the rest of the memory report writes them: bytes below 1 KiB,
 * else KiB/MiB/GiB with one decimal; `sign` puts + on positive values. */
static void put_size(hs_buf *out, int64_t bytes, int width, int sign) {
    char text[40];
    double v = (double)bytes;
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while ((v >= 1024 || v <= -1024) && u < 4) {
        v /= 1024;
        u++;
    }
    const char *plus = sign && bytes > 0 ? "+" : "";
    if (u == 0)
        snprintf(text, sizeof text, "%s%" PRId64 " B", plus, bytes);
    else
        snprintf(text, sizeof text, "%s%.1f %s", plus, v, units[u]);
    hs_buf_printf(out, "%*s", width, text);
}

static int cmp_lines(const void *a, const void *b, void *ctx) {
    (void)ctx;
    int32_t x = ((const line_row *)a)->line, y = ((const line_row *)b)->line;
    return (x > y) - (x < y);
}

static int same_function(const hs_frame *a, const hs_frame *b) {
    return a->name == b->name && a->file == b->file && a->first_line == b->first_line &&
           a->kind == b->kind;
}

static void put_row(hs_buf *out, int32_t line, const frame_values *v, const hs_source_block *src) {
    hs_buf_printf(out, "%6d ", (int)line);
    if (v) {
        put_size(out, v->v[V_ALLOC_BYTES], 12, 0);
        put_size(out, v->v[V_FREED_BYTES], 12, 0);
        put_size(out, v->v[V_ALLOC_BYTES] - v->v[V_FREED_BYTES], 12, 1);
        hs_buf_printf(out, " %8" PRId64, v->v[V_ALLOCS]);
    } else {
        hs_buf_pad(out, 12 * 3 + 9);
    }
    hs_buf_puts(out, "  ");
    hs_source_put_line(out, src, line);
    hs_buf_putc(out, '\n');
}

static int render_function(const hs_profile *p, hs_id fn, const frame_values *values,
                           const hs_id *line_frames, size_t line_frame_count, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, fn);
    line_row *rows = malloc((line_frame_count ? line_frame_count : 1) * sizeof *rows);
    if (!rows)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < line_frame_count; i++) {
        const hs_frame *lf = hs_frame_get(p, line_frames[i]);
        if (same_function(lf, f))
            rows[n++] = (line_row){lf->line, &values[line_frames[i]]};
    }
    if (hs_render_sort(rows, n, sizeof *rows, cmp_lines, NULL) != 0) {
        free(rows);
        return -1;
    }
    size_t file_len = 0, name_len = 0;
    const char *file = hs_render_str(p, f->file, &file_len);
    const char *name = hs_render_str(p, f->name, &name_len);
    hs_source_block src;
    if (hs_source_load(p, file, file_len, f->first_line, &src) < 0) {
        hs_source_free(&src);
        free(rows);
        return -1;
    }
    const frame_values *whole = &values[fn];
    hs_buf_puts(out, "\nFile: ");
    hs_render_put_text(out, file, file_len, HS_TEXT_PLAIN);
    hs_buf_puts(out, "\nFunction: ");
    hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
    hs_buf_printf(out, " at line %d", (int)f->first_line);
    if (!whole->v[V_ALLOCS] && !whole->v[V_FREES] && !n) {
        hs_buf_puts(out, " (nothing allocated or freed while it ran, or it never ran)\n");
    } else {
        hs_buf_puts(out, ": allocated ");
        put_size(out, whole->v[V_ALLOC_BYTES], 0, 0);
        hs_buf_printf(out, " in %" PRId64 " allocations, freed ", whole->v[V_ALLOCS]);
        put_size(out, whole->v[V_FREED_BYTES], 0, 0);
        hs_buf_puts(out, ", net ");
        put_size(out, whole->v[V_ALLOC_BYTES] - whole->v[V_FREED_BYTES], 0, 1);
        hs_buf_putc(out, '\n');
    }
    hs_buf_printf(out, "\n%6s %12s %12s %12s %8s  %s\n", "Line #", "Allocated", "Freed", "Net",
                  "Allocs", "Line Contents");
    for (int i = 0; i < 6 + 1 + 12 * 3 + 3 + 8 + 2 + 13; i++)
        hs_buf_putc(out, '=');
    hs_buf_putc(out, '\n');
    /* From the def line to the last line with figures or, with the source
     * captured, the end of the function. */
    int32_t lo = f->first_line, hi = f->first_line;
    if (n && rows[0].line < lo)
        lo = rows[0].line;
    if (n && rows[n - 1].line > hi)
        hi = rows[n - 1].line;
    if (src.text && src.first == f->first_line && src.count && src.first + (int32_t)src.count - 1 > hi)
        hi = src.first + (int32_t)src.count - 1;
    size_t r = 0;
    for (int32_t line = lo; line <= hi; line++) {
        while (r < n && rows[r].line < line)
            r++;
        int has_row = r < n && rows[r].line == line;
        if (has_row || hs_source_has_line(&src, line))
            put_row(out, line, has_row ? rows[r].values : NULL, &src);
    }
    hs_source_free(&src);
    free(rows);
    return 0;
}

int hs_render_mem_lines_text(const hs_profile *p, hs_buf *out, char *err) {
    int tables[V_COUNT], any = 0;
    for (int k = 0; k < V_COUNT; k++)
        any |= (tables[k] = hs_line_table_find(p, table_names[k])) >= 0;
    if (!any)
        return 0;
    frame_values *values = calloc(p->frame_count ? p->frame_count : 1, sizeof *values);
    hs_id *functions = NULL, *line_frames = NULL;
    size_t n_functions = 0, n_line_frames = 0;
    int failed = !values;
    for (int k = 0; !failed && k < V_COUNT; k++) {
        if (tables[k] < 0)
            continue;
        const hs_line_table *t = &p->line_tables[tables[k]];
        for (size_t i = 0; i < t->count; i++) {
            frame_values *v = &values[t->rows[i].frame];
            v->v[k] = hs_sat_add(v->v[k], t->rows[i].value);
        }
    }
    /* Functions (line 0) in the order of their first row, and the frames
     * of their lines. */
    if (!failed) {
        functions = malloc((p->frame_count ? p->frame_count : 1) * sizeof *functions);
        line_frames = malloc((p->frame_count ? p->frame_count : 1) * sizeof *line_frames);
        unsigned char *listed = calloc(p->frame_count ? p->frame_count : 1, 1);
        failed = !functions || !line_frames || !listed;
        for (int k = 0; !failed && k < V_COUNT; k++) {
            if (tables[k] < 0)
                continue;
            const hs_line_table *t = &p->line_tables[tables[k]];
            for (size_t i = 0; i < t->count; i++) {
                hs_id fr = t->rows[i].frame;
                if (listed[fr])
                    continue;
                listed[fr] = 1;
                if (hs_frame_get(p, fr)->line == 0)
                    functions[n_functions++] = fr;
                else
                    line_frames[n_line_frames++] = fr;
            }
        }
        free(listed);
    }
    if (!failed && n_functions) {
        hs_buf_puts(out, "\nLine by line (chosen functions): bytes allocated and freed while each "
                         "line ran, callees included\n");
        for (size_t i = 0; !failed && i < n_functions; i++)
            failed = render_function(p, functions[i], values, line_frames, n_line_frames, out) != 0;
    }
    free(values);
    free(functions);
    free(line_frames);
    if (failed || out->failed) {
        hs_render_error(err, "out of memory rendering the per-line memory figures");
        return -1;
    }
    return 0;
}
