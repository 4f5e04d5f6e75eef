/*
 * pstats_marshal.c - a pstats .prof file, the format pstats.Stats(path),
 * snakeviz, gprof2dot and tuna read.
 *
 * The file is marshal.dumps(stats) of the dict that Lib/cProfile.py's
 * Profile.snapshot_stats() builds:
 *
 *   {(file, line, name): (cc, nc, tt, ct, callers)}
 *   callers = {(file, line, name): (nc, cc, tt, ct)}
 *
 * Note the order: a function's tuple starts with the primitive call count
 * (cc) then all calls (nc), but each caller's tuple starts with nc then cc.
 * That is what create_stats writes and what pstats.print_callers unpacks.
 * tt/ct are float seconds. Builtins are keyed ("~", 0, "<built-in ...>"),
 * which the model already stores that way. Numbers come from
 * hs_stats_compute (stats.h); a function's callers are the edges whose
 * callee it is. Functions called straight from a thread frame have an
 * empty callers dict, as cProfile's top-level calls do.
 *
 * Marshal layout, from CPython's Python/marshal.c (w_object, w_PyLong,
 * w_long, w_short, w_float_bin), format version 4 without references:
 *   '{' key value ... '0'          TYPE_DICT ... TYPE_NULL
 *   ')' <u8 count> items           TYPE_SMALL_TUPLE (count < 256)
 *   'i' <i32 LE>                   TYPE_INT, for values that fit in 32 bits
 *   'l' <i32 LE n> <u16 LE>*|n|    TYPE_LONG: |n| 15-bit digits, least
 *                                  significant first; the sign of n is the
 *                                  number's sign; the top digit is non-zero
 *   'g' <IEEE double LE>           TYPE_BINARY_FLOAT
 *   'u' <u32 LE len> <UTF-8>       TYPE_UNICODE (decoded "surrogatepass")
 * FLAG_REF (0x80) is never set: readers accept unshared objects, and
 * writing no references keeps the writer free of an object table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_util.h"

#define TYPE_NULL '0'
#define TYPE_INT 'i'
#define TYPE_LONG 'l'
#define TYPE_BINARY_FLOAT 'g'
#define TYPE_UNICODE 'u'
#define TYPE_DICT '{'
#define TYPE_SMALL_TUPLE ')'

static void w_int(hs_buf *out, int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
        hs_buf_putc(out, TYPE_INT);
        hs_buf_put_u32le(out, (uint32_t)(int32_t)v);
        return;
    }
    /* Magnitude in unsigned arithmetic, so INT64_MIN is not overflow. */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint16_t digits[5]; /* 64 bits need at most 5 digits of 15 bits */
    int32_t n = 0;
    while (mag) {
        digits[n++] = (uint16_t)(mag & 0x7FFF);
        mag >>= 15;
    }
    hs_buf_putc(out, TYPE_LONG);
    hs_buf_put_u32le(out, (uint32_t)(v < 0 ? -n : n));
    for (int32_t i = 0; i < n; i++) {
        unsigned char b[2] = {(unsigned char)(digits[i] & 0xFF), (unsigned char)(digits[i] >> 8)};
        hs_buf_append(out, b, 2);
    }
}

static void w_float(hs_buf *out, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits); /* IEEE 754 on every supported platform */
    hs_buf_putc(out, TYPE_BINARY_FLOAT);
    hs_buf_put_u64le(out, bits);
}

/* Length of the well-formed UTF-8 sequence at s (as Python's decoder with
 * "surrogatepass" accepts it: encoded surrogates ED A0..BF xx included),
 * or 0 if the byte at s starts no such sequence. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* A str. Names are bytes in the model; well-formed UTF-8 is written as is,
 * and any other byte b becomes U+DC00+b (encoded as UTF-8 with
 * surrogatepass), which is how Python itself carries undecodable file
 * names (PEP 383 surrogateescape). Without this one bad byte would make
 * the whole file unreadable ("bad marshal data"). */
static void w_str(hs_buf *out, const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, enc_len = 0;
    while (i < len) {
        size_t k = utf8_seq(u + i, len - i);
        enc_len += k ? k : 3;
        i += k ? k : 1;
    }
    hs_buf_putc(out, TYPE_UNICODE);
    hs_buf_put_u32le(out, (uint32_t)enc_len);
    if (enc_len == len) {
        hs_buf_append(out, s, len);
        return;
    }
    for (i = 0; i < len;) {
        size_t k = utf8_seq(u + i, len - i);
        if (k) {
            hs_buf_append(out, s + i, k);
            i += k;
            continue;
        }
        unsigned cp = 0xDC00u + u[i];
        unsigned char b[3] = {(unsigned char)(0xE0 | (cp >> 12)),
                              (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
                              (unsigned char)(0x80 | (cp & 0x3F))};
        hs_buf_append(out, b, 3);
        i++;
    }
}

/* The (file, line, name) key of a function frame. */
static void w_key(hs_buf *out, const hs_profile *p, hs_id function) {
    const hs_frame *f = hs_frame_get(p, function);
    size_t file_len = 0, name_len = 0;
    const char *file = hs_str(p, f->file, &file_len);
    const char *name = hs_pstats_name(p, function, &name_len);
    hs_buf_putc(out, TYPE_SMALL_TUPLE);
    hs_buf_putc(out, 3);
    w_str(out, file ? file : "", file ? file_len : 0);
    w_int(out, f->first_line);
    w_str(out, name ? name : "", name ? name_len : 0);
}

/* Every function's key, marshalled once: a key is written once as a
 * function and again for each function it calls, which for a profile of
 * millions of edges is most of the file. */
typedef struct {
    hs_buf bytes;
    size_t *start;    /* [function index]: offset in bytes; [count]: the end */
    size_t *index_of; /* [function frame id]: function index */
} key_cache;

static int cache_keys(const hs_profile *p, const hs_stats *st, key_cache *k) {
    hs_buf_init(&k->bytes);
    k->start = malloc((st->func_count + 1) * sizeof *k->start);
    k->index_of = malloc((p->frame_count ? p->frame_count : 1) * sizeof *k->index_of);
    if (!k->start || !k->index_of)
        return -1;
    for (size_t i = 0; i < st->func_count; i++) {
        k->start[i] = k->bytes.len;
        k->index_of[st->funcs[i].function] = i;
        w_key(&k->bytes, p, st->funcs[i].function);
    }
    k->start[st->func_count] = k->bytes.len;
    return k->bytes.failed ? -1 : 0;
}

static void put_key(hs_buf *out, const key_cache *k, hs_id function) {
    size_t i = k->index_of[function];
    hs_buf_append(out, k->bytes.data + k->start[i], k->start[i + 1] - k->start[i]);
}

static void free_keys(key_cache *k) {
    hs_buf_free(&k->bytes);
    free(k->start);
    free(k->index_of);
}

static double seconds(int64_t v, hs_weight w) {
    return hs_render_is_time_weight(w) ? (double)v / 1e9 : (double)v;
}

int hs_render_pstats_marshal(hs_profile *p, hs_id subtree, hs_weight time_weight, hs_buf *out,
                             char *err) {
    if (!p || !out) {
        hs_render_error(err, "pstats file: missing argument");
        return -1;
    }
    if (subtree >= p->node_count) {
        hs_render_error(err, "pstats file: no node %u in the profile", (unsigned)subtree);
        return -1;
    }
    if ((unsigned)time_weight >= HS_W_COUNT) {
        hs_render_error(err, "pstats file: unknown weight");
        return -1;
    }
    hs_stats st;
    if (hs_stats_compute(p, subtree, time_weight, &st) < 0) {
        hs_render_error(err, "pstats file: out of memory");
        return -1;
    }
    key_cache keys;
    if (cache_keys(p, &st, &keys) != 0) {
        free_keys(&keys);
        hs_stats_free(&st);
        hs_render_error(err, "pstats file: out of memory");
        return -1;
    }
    hs_weight tw = time_weight;
    hs_buf_putc(out, TYPE_DICT);
    for (size_t i = 0; i < st.func_count; i++) {
        const hs_func_stats *fs = &st.funcs[i];
        put_key(out, &keys, fs->function);
        hs_buf_putc(out, TYPE_SMALL_TUPLE);
        hs_buf_putc(out, 5);
        w_int(out, fs->primitive_calls);
        w_int(out, fs->calls);
        w_float(out, seconds(fs->self[tw], tw));
        w_float(out, seconds(fs->total[tw], tw));

        /* Edges are sorted by (callee, caller): find this callee's run. */
        size_t lo = 0, hi = st.edge_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (st.edges[mid].callee < fs->function)
                lo = mid + 1;
            else
                hi = mid;
        }
        hs_buf_putc(out, TYPE_DICT);
        for (size_t e = lo; e < st.edge_count && st.edges[e].callee == fs->function; e++) {
            const hs_edge_stats *es = &st.edges[e];
            put_key(out, &keys, es->caller);
            hs_buf_putc(out, TYPE_SMALL_TUPLE);
            hs_buf_putc(out, 4);
            w_int(out, es->calls);
            w_int(out, es->primitive_calls);
            w_float(out, seconds(es->self, tw));
            w_float(out, seconds(es->total, tw));
        }
        hs_buf_putc(out, TYPE_NULL);
    }
    hs_buf_putc(out, TYPE_NULL);
    free_keys(&keys);
    hs_stats_free(&st);
    if (out->failed) {
        hs_render_error(err, "pstats file: out of memory");
        return -1;
    }
    return 0;
}
