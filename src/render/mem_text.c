/*
 * mem_text.c - a memory profile (src/memory/, weights bytes/allocs,
 * peak_*, leak_*; meta peak_bytes, ...) as the text report of `hotscope
 * mem`: the peak and what held it, by stack and by line; what each line
 * allocated over the run; what was still allocated at the end; and the
 * line-by-line tables of chosen functions (mem_lines_text.c).
 *
 * Sizes are the sizes programs asked the Python allocators for (what
 * tracemalloc counts), and malloc and friends with --native (meta
 * native), in binary units (KiB = 1024 bytes).
 */
#define _GNU_SOURCE /* memrchr */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

#define STACK_FRAMES 8 /* frames shown per stack; the rest are counted */

static void put_size(hs_buf *out, int64_t bytes, int width) {
    char text[32];
    double v = (double)bytes;
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while ((v >= 1024 || v <= -1024) && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(text, sizeof text, "%" PRId64 " B", bytes);
    else
        snprintf(text, sizeof text, "%.1f %s", v, units[u]);
    hs_buf_printf(out, "%*s", width, text);
}

static int64_t meta_int(const hs_profile *p, const char *key) {
    const char *v = hs_meta_get(p, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

static void put_frame(const hs_profile *p, hs_id fid, hs_buf *out) {
    const hs_frame *f = hs_frame_get(p, fid);
    size_t len = 0;
    const char *s;
    if (f->kind == HS_KIND_PYTHON) {
        s = hs_str(p, f->file, &len);
        hs_render_put_text(out, s ? s : "", s ? len : 0, HS_TEXT_PLAIN);
        hs_buf_printf(out, ":%d  ", (int)(f->line ? f->line : f->first_line));
        s = hs_str(p, f->name, &len);
        hs_render_put_text(out, s ? s : "", s ? len : 0, HS_TEXT_PLAIN);
    } else if (f->kind == HS_KIND_NATIVE) { /* "function  (libfoo.so)" */
        s = hs_str(p, f->name, &len);
        hs_render_put_text(out, s ? s : "", s ? len : 0, HS_TEXT_PLAIN);
        s = hs_str(p, f->file, &len);
        if (s && len) {
            const char *slash = memrchr(s, '/', len);
            size_t skip = slash ? (size_t)(slash + 1 - s) : 0;
            hs_buf_puts(out, "  (");
            hs_render_put_text(out, s + skip, len - skip, HS_TEXT_PLAIN);
            hs_buf_putc(out, ')');
        }
    } else {
        s = hs_str(p, f->name, &len);
        if (f->kind == HS_KIND_THREAD)
            hs_buf_puts(out, "thread ");
        hs_render_put_text(out, s ? s : "", s ? len : 0, HS_TEXT_PLAIN);
    }
}

#define COLS 12 + 2 + 9 + 2 /* size, count and their gaps */

static int section(hs_profile *p, const char *title, hs_weight bw, hs_weight cw, int by_stack,
                   const char *count_name, long limit, hs_buf *out) {
    hs_mem_row *rows;
    size_t n;
    if (hs_mem_rows(p, bw, cw, by_stack, 0, &rows, &n) != 0)
        return -1;
    hs_buf_printf(out, "\n%s\n", title);
    if (n == 0) {
        hs_buf_puts(out, "  (nothing)\n");
        free(rows);
        return 0;
    }
    hs_buf_printf(out, "%12s  %9s  %s\n", "size", count_name,
                  by_stack ? "stack (innermost frame first)" : "line");
    for (size_t i = 0; i < n && (long)i < limit; i++) {
        put_size(out, rows[i].bytes, 12);
        hs_buf_printf(out, "  %9" PRId64 "  ", rows[i].count);
        if (!by_stack) {
            put_frame(p, rows[i].id, out);
            hs_buf_putc(out, '\n');
            continue;
        }
        size_t shown = 0;
        for (hs_id node = rows[i].id; node != HS_ROOT && node != HS_NONE;
             node = hs_node_get(p, node)->parent) {
            const hs_node *nd = hs_node_get(p, node);
            if (shown == STACK_FRAMES) {
                size_t more = 0;
                for (hs_id up = node; up != HS_ROOT && up != HS_NONE; up = hs_node_get(p, up)->parent)
                    more++;
                hs_buf_pad(out, COLS);
                hs_buf_printf(out, "... %zu more\n", more);
                break;
            }
            if (shown)
                hs_buf_pad(out, COLS);
            put_frame(p, nd->frame, out);
            hs_buf_putc(out, '\n');
            shown++;
        }
    }
    if ((long)n > limit)
        hs_buf_printf(out, "  ... %zu more\n", n - (size_t)limit);
    free(rows);
    return 0;
}

int hs_render_mem_text(hs_profile *p, long limit, hs_buf *out, char *err) {
    if (limit <= 0)
        limit = 10;
    const char *command = hs_meta_get(p, "command");
    hs_buf_printf(out, "hotscope mem%s%s\n", command ? ": " : "", command ? command : "");
    int64_t peak = meta_int(p, "peak_bytes"), snap = meta_int(p, "peak_snapshot_bytes");
    if (hs_meta_get(p, "native"))
        hs_buf_puts(out, "Heap (sizes asked of the Python allocators and of malloc, --native):\n"
                         "  peak                  ");
    else
        hs_buf_puts(out, "Python heap (sizes asked of the Python allocators):\n  peak                  ");
    put_size(out, peak, 0);
    hs_buf_printf(out, " in %" PRId64 " blocks, %.3f s after the start\n",
                  meta_int(p, "peak_blocks"), (double)meta_int(p, "peak_time_ns") / 1e9);
    hs_buf_puts(out, "  allocated in total    ");
    put_size(out, meta_int(p, "allocated_bytes"), 0);
    hs_buf_printf(out, " in %" PRId64 " allocations (%" PRId64 " frees)\n",
                  meta_int(p, "allocations"), meta_int(p, "frees"));
    hs_buf_puts(out, "  still allocated, end  ");
    put_size(out, meta_int(p, "live_bytes"), 0);
    hs_buf_printf(out, " in %" PRId64 " blocks\n", meta_int(p, "live_blocks"));
    for (size_t s = 0; s < p->series_count; s++) {
        const hs_series *se = &p->series[s];
        size_t len;
        const char *name = hs_str(p, se->name, &len);
        if (!name || strcmp(name, "rss_bytes") != 0 || !se->count)
            continue;
        int64_t max = 0;
        for (size_t i = 0; i < se->count; i++)
            if (se->points[i].value > max)
                max = se->points[i].value;
        hs_buf_puts(out, "Process RSS: highest seen ");
        put_size(out, max, 0);
        hs_buf_printf(out, " (%zu samples, at most one per %.0f ms, taken on allocations)\n",
                      se->count, (double)meta_int(p, "interval_ns") / 1e6);
    }
    int64_t lost = meta_int(p, "unrecorded_events");
    if (lost)
        hs_buf_printf(out, "Warning: %" PRId64 " events were not recorded (hotscope ran out of memory)\n", lost);

    char title[160];
    if (snap && snap != peak) {
        hs_buf b;
        hs_buf_init(&b);
        put_size(&b, snap, 0);
        hs_buf_putc(&b, '\0');
        snprintf(title, sizeof title,
                 "Memory at the peak, by stack (as of %s, the last snapshot before the peak)",
                 b.failed ? "?" : b.data);
        hs_buf_free(&b);
    } else {
        snprintf(title, sizeof title, "Memory at the peak, by stack");
    }
    if (section(p, title, HS_W_PEAK_BYTES, HS_W_PEAK_ALLOCS, 1, "blocks", limit, out) ||
        section(p, "Memory at the peak, by line", HS_W_PEAK_BYTES, HS_W_PEAK_ALLOCS, 0, "blocks",
                limit, out) ||
        section(p, "Allocated over the whole run, by line", HS_W_BYTES, HS_W_ALLOCS, 0, "allocs",
                limit, out) ||
        section(p, "Still allocated at the end (leaks), by line", HS_W_LEAK_BYTES, HS_W_LEAK_ALLOCS,
                0, "blocks", limit, out) ||
        section(p, "Still allocated at the end (leaks), by stack", HS_W_LEAK_BYTES,
                HS_W_LEAK_ALLOCS, 1, "blocks", limit, out) ||
        out->failed) {
        hs_render_error(err, "memory report: out of memory");
        return -1;
    }
    return hs_render_mem_lines_text(p, out, err);
}
