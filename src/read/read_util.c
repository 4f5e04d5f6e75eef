/*
 * read_util.c - small helpers every reader of src/read/ shares (read.h):
 * error messages, UTF-8 checks, threads rebuilt from files, weight names.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read.h"

void hs_read_one_line(char *msg) {
    for (; msg && *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = ' ';
}

void *hs_read_error(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, HS_READ_ERR_SIZE, fmt, ap);
        va_end(ap);
        hs_read_one_line(err);
    }
    return NULL;
}

size_t hs_read_utf8_seq(const unsigned char *s, size_t len, size_t i) {
    unsigned char c = s[i];
    if (c < 0x80)
        return 1;
    /* RFC 3629 section 4: the second byte's range depends on the first,
     * which is what excludes overlong forms, surrogates (ED A0..BF) and
     * code points above U+10FFFF (F4 90..). */
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (len - i <= need || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
    return need + 1;
}

int hs_read_add_thread(hs_profile *p, hs_id name, uint64_t os_tid, uint64_t ident, hs_id root,
                       int64_t wall_ns, int64_t cpu_ns) {
    if (p->thread_count >= INT32_MAX)
        return -1;
    if (p->thread_count == p->thread_cap) {
        size_t cap = p->thread_cap ? p->thread_cap * 2 : 4;
        hs_thread *grown = realloc(p->threads, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->threads = grown;
        p->thread_cap = cap;
    }
    hs_thread *t = &p->threads[p->thread_count];
    t->name = name;
    t->os_tid = os_tid;
    t->ident = ident;
    t->root = root;
    t->wall_ns = wall_ns;
    t->cpu_ns = cpu_ns;
    memset(t->gil_states, 0, sizeof t->gil_states);
    return (int)p->thread_count++;
}

hs_id hs_read_new_thread(hs_profile *p, const char *name, size_t name_len) {
    /* The same frame hs_thread_add makes (name, "", index, 0, thread), but
     * the name may hold any bytes, NUL included. */
    int32_t index = (int32_t)p->thread_count;
    hs_id name_id = hs_intern(p, name, name_len);
    hs_id file_id = hs_intern(p, "", 0);
    if (name_id == HS_NONE || file_id == HS_NONE)
        return HS_NONE;
    hs_id frame = hs_frame_intern(p, name_id, file_id, index, 0, HS_KIND_THREAD);
    if (frame == HS_NONE)
        return HS_NONE;
    hs_id node = hs_node_child(p, HS_ROOT, frame);
    if (node == HS_NONE || hs_read_add_thread(p, name_id, 0, 0, node, 0, 0) < 0)
        return HS_NONE;
    return node;
}

hs_weight hs_read_weight_named(const char *name, size_t len) {
    for (int w = 0; w < HS_W_COUNT; w++) {
        const char *known = hs_weight_name((hs_weight)w);
        if (strlen(known) == len && memcmp(known, name, len) == 0)
            return (hs_weight)w;
    }
    return HS_W_COUNT;
}

int hs_read_scale(double value, double scale, int64_t *out) {
    double v = value * scale;
    /* 2^63 is exactly representable; anything at or above it is not an int64. */
    if (!isfinite(v) || v < 0 || v >= 9223372036854775808.0)
        return -1;
    v = floor(v + 0.5);
    *out = v >= 9223372036854775808.0 ? INT64_MAX : (int64_t)v;
    return 0;
}
