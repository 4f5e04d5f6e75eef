/*
 * label.c - how a function is named in text output, plus the small helpers
 * every renderer shares (render_util.h).
 *
 * hs_function_label reproduces pstats.func_std_string (Lib/pstats.py), so a
 * table printed by hotscope reads exactly like one printed by pstats:
 *   ("~", 0, "<built-in method builtins.len>") -> "{built-in method builtins.len}"
 *   ("~", 0, "anything else")                  -> "anything else"
 *   (file, line, name)                         -> "file:line(name)"
 * The tracer stores builtins the way cProfile's label() does (file "~",
 * line 0, the raw "<...>" label as name), so the same rule covers them.
 * Synthetic frames (threads, [gc], ...) are not functions: just their name.
 */
#define _GNU_SOURCE /* memrchr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

void hs_render_put_text(hs_buf *out, const char *s, size_t len, int flags) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char repl;
        if (c < 0x20 || c == 0x7f)
            repl = ' ';
        else if (c == ';' && (flags & HS_TEXT_NO_SEMICOLON))
            repl = ':';
        else
            continue;
        /* Copy clean runs in one append: names are mostly clean. */
        hs_buf_append(out, s + start, i - start);
        hs_buf_putc(out, repl);
        start = i + 1;
    }
    hs_buf_append(out, s + start, len - start);
}

size_t hs_render_text_width(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) /* not a continuation byte */
            n++;
    return n;
}

const char *hs_render_str(const hs_profile *p, hs_id id, size_t *len) {
    const char *s = hs_str(p, id, len);
    if (!s) {
        *len = 0;
        return "";
    }
    return s;
}

int hs_render_is_time_weight(hs_weight w) {
    return w == HS_W_WALL_NS || w == HS_W_CPU_NS;
}

int hs_render_sort(void *base, size_t n, size_t size, hs_render_cmp_fn cmp, void *ctx) {
    if (n < 2)
        return 0;
    char *a = base;
    char *tmp = malloc(n * size);
    if (!tmp)
        return -1;
    /* Bottom-up merge sort: no recursion, stable (ties keep the left run
     * first), O(n log n) even for a node with 100,000 children. */
    char *src = a, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (cmp(src + j * size, src + i * size, ctx) < 0)
                    memcpy(dst + (k++) * size, src + (j++) * size, size);
                else
                    memcpy(dst + (k++) * size, src + (i++) * size, size);
            }
            if (i < mid)
                memcpy(dst + k * size, src + i * size, (mid - i) * size);
            k += mid - i;
            if (j < hi)
                memcpy(dst + k * size, src + j * size, (hi - j) * size);
        }
        char *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * size);
    free(tmp);
    return 0;
}

void hs_render_error(char *err, const char *fmt, ...) {
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, 200, fmt, ap);
    va_end(ap);
}

const char *hs_pstats_name(const hs_profile *p, hs_id frame, size_t *len) {
    const hs_frame *f = hs_frame_get(p, frame);
    const char *name = hs_str(p, f->name, len);
    if (!name) {
        *len = 0;
        return "";
    }
    if (f->kind != HS_KIND_PYTHON)
        return name;
    const char *dot = memrchr(name, '.', *len);
    if (!dot)
        return name;
    *len -= (size_t)(dot + 1 - name);
    return dot + 1;
}

void hs_function_label(const hs_profile *p, hs_id frame, hs_buf *out) {
    if (frame == HS_NONE || frame >= p->frame_count) {
        hs_buf_puts(out, "<root>");
        return;
    }
    const hs_frame *f = hs_frame_get(p, frame);
    size_t name_len = 0, file_len = 0;
    const char *name = hs_str(p, f->name, &name_len);
    if (!name)
        name = "", name_len = 0;
    if (f->kind == HS_KIND_THREAD || f->kind == HS_KIND_OTHER) {
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        return;
    }
    const char *file = hs_str(p, f->file, &file_len);
    if (!file)
        file = "", file_len = 0;
    /* func_std_string tests func_name[:2] == ('~', 0), whatever the kind. */
    if (file_len == 1 && file[0] == '~' && f->first_line == 0) {
        if (name_len >= 2 && name[0] == '<' && name[name_len - 1] == '>') {
            hs_buf_putc(out, '{');
            hs_render_put_text(out, name + 1, name_len - 2, HS_TEXT_PLAIN);
            hs_buf_putc(out, '}');
        } else {
            hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        }
        return;
    }
    /* A C function in a shared object or executable (native frames of
     * record --native and mem --native): "function (libfoo.so)". */
    if (f->kind == HS_KIND_NATIVE && f->first_line == 0) {
        const char *slash = memrchr(file, '/', file_len);
        size_t skip = slash ? (size_t)(slash + 1 - file) : 0;
        hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
        hs_buf_puts(out, " (");
        hs_render_put_text(out, file + skip, file_len - skip, HS_TEXT_PLAIN);
        hs_buf_putc(out, ')');
        return;
    }
    hs_render_put_text(out, file, file_len, HS_TEXT_PLAIN);
    hs_buf_printf(out, ":%d(", (int)f->first_line);
    name = hs_pstats_name(p, frame, &name_len);
    hs_render_put_text(out, name, name_len, HS_TEXT_PLAIN);
    hs_buf_putc(out, ')');
}
