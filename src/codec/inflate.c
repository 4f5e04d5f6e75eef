/*
 * inflate.c - a DEFLATE decompressor (RFC 1951): stored (3.2.4), fixed
 * Huffman (3.2.6) and dynamic Huffman (3.2.7) blocks, for the gzip reader
 * (gzip.c) and through it the pprof reader.
 *
 * The input is untrusted, so: every bit read checks the input's end
 * (a truncated stream is an error, never a read past the buffer), every
 * code length set is checked (over-subscribed codes are refused; codes
 * the stream uses but the set leaves unassigned are refused when met),
 * every back-reference is checked against the output produced so far,
 * and the output is capped by the caller.
 *
 * Decoding a Huffman code looks up FAST_BITS bits in a table; the rare
 * longer codes are decoded bit by bit from the canonical code's counts
 * (RFC 1951 3.2.2: codes of one length are consecutive integers, shorter
 * codes lexicographically first).
 */
#include "inflate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deflate_tables.h"

#define FAST_BITS 10
#define FAST_MASK ((1u << FAST_BITS) - 1)
/* RFC 1951 3.2.6: the fixed code has 288 literal/length and 32 distance
 * symbols (the last two of each never occur in valid data). */
#define MAX_LITLEN_SYMBOLS 288
#define MAX_DIST_SYMBOLS 32

typedef struct {
    /* By the next FAST_BITS input bits: symbol | length << 16, or 0 when
     * the code is longer than FAST_BITS bits (or unassigned). */
    uint32_t fast[1u << FAST_BITS];
    uint16_t count[HS_DEFLATE_MAX_BITS + 1]; /* number of codes of each length */
    uint16_t symbols[MAX_LITLEN_SYMBOLS];    /* symbols by (length, symbol) */
} huffman;

typedef struct {
    const uint8_t *in;
    size_t n, pos;  /* input and the next byte to load */
    uint64_t bits;  /* loaded bits not yet used, the next one lowest */
    unsigned count; /* how many */
    hs_buf *out;
    size_t base;    /* out->len when this stream started */
    size_t max_out;
    char *err;
} inflater;

static int fail(inflater *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(inflater *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, 200, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- bits (RFC 1951 3.1.1: least significant bit first) ---------------- */

static inline void refill(inflater *s) {
    while (s->count <= 56 && s->pos < s->n) {
        s->bits |= (uint64_t)s->in[s->pos++] << s->count;
        s->count += 8;
    }
}

/* The next k (<= 32) bits as a number; -1 when the input ends first. */
static inline int64_t get_bits(inflater *s, unsigned k) {
    if (s->count < k) {
        refill(s);
        if (s->count < k)
            return fail(s, "deflate: truncated data");
    }
    uint64_t v = s->bits & ((1ull << k) - 1);
    s->bits >>= k;
    s->count -= k;
    return (int64_t)v;
}

/* ---- Huffman codes ----------------------------------------------------- */

/* Builds the decoding tables of the canonical code with lengths
 * lens[0..n) (RFC 1951 3.2.2). Returns 0, or -1 if the lengths describe
 * more codes than fit (over-subscribed). */
static int build_huffman(huffman *h, const uint8_t *lens, unsigned n) {
    memset(h->count, 0, sizeof h->count);
    for (unsigned s = 0; s < n; s++)
        h->count[lens[s]]++;
    h->count[0] = 0;
    int left = 1;
    for (unsigned len = 1; len <= HS_DEFLATE_MAX_BITS; len++) {
        left = left * 2 - h->count[len];
        if (left < 0)
            return -1;
    }
    uint16_t offset[HS_DEFLATE_MAX_BITS + 2];
    uint32_t next_code[HS_DEFLATE_MAX_BITS + 1];
    offset[1] = 0;
    uint32_t code = 0;
    for (unsigned len = 1; len <= HS_DEFLATE_MAX_BITS; len++) {
        offset[len + 1] = (uint16_t)(offset[len] + h->count[len]);
        code = (code + (len > 1 ? h->count[len - 1] : 0)) << 1;
        next_code[len] = code;
    }
    memset(h->fast, 0, sizeof h->fast);
    for (unsigned s = 0; s < n; s++) {
        unsigned len = lens[s];
        if (len == 0)
            continue;
        h->symbols[offset[len]++] = (uint16_t)s;
        uint32_t c = next_code[len]++;
        if (len > FAST_BITS)
            continue;
        /* The code goes out most significant bit first, so in the bit
         * buffer it appears reversed; fill every entry it prefixes. */
        uint32_t reversed = 0;
        for (unsigned i = 0; i < len; i++)
            reversed |= ((c >> i) & 1u) << (len - 1 - i);
        for (uint32_t e = reversed; e <= FAST_MASK; e += 1u << len)
            h->fast[e] = s | (uint32_t)len << 16;
    }
    return 0;
}

/* The next symbol coded with h; -1 on truncated input or an unassigned code. */
static int decode_symbol(inflater *s, const huffman *h) {
    if (s->count < HS_DEFLATE_MAX_BITS)
        refill(s);
    uint32_t entry = h->fast[s->bits & FAST_MASK];
    if (entry) {
        unsigned len = entry >> 16;
        if (len > s->count)
            return fail(s, "deflate: truncated data");
        s->bits >>= len;
        s->count -= len;
        return (int)(entry & 0xFFFF);
    }
    /* Canonical decoding, one bit at a time: `code` is the code read so
     * far, `first` the first code of this length, `index` the position
     * of that code's symbol in h->symbols. */
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= HS_DEFLATE_MAX_BITS; len++) {
        if (len > s->count)
            return fail(s, "deflate: truncated data");
        code |= (int)((s->bits >> (len - 1)) & 1);
        int count = h->count[len];
        if (code - first < count) {
            s->bits >>= len;
            s->count -= len;
            return h->symbols[index + code - first];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return fail(s, "deflate: invalid Huffman code");
}

/* ---- blocks --------------------------------------------------------------- */

static inline int room_for(inflater *s, size_t n) {
    size_t produced = s->out->len - s->base;
    if (n > s->max_out - produced)
        return fail(s, "deflate: data decompresses to more than %zu bytes", s->max_out);
    if (s->out->cap - s->out->len <= n && hs_buf_reserve(s->out, n < 4096 ? 4096 : n) != 0)
        return fail(s, "deflate: out of memory");
    return 0;
}

/* RFC 1951 3.2.4: skip to a byte boundary; LEN, NLEN = ~LEN; LEN bytes. */
static int stored_block(inflater *s) {
    /* Whole bytes loaded ahead into the bit buffer go back to the input. */
    s->pos -= s->count / 8;
    s->bits = 0;
    s->count = 0;
    if (s->n - s->pos < 4)
        return fail(s, "deflate: truncated data");
    const uint8_t *p = s->in + s->pos;
    unsigned len = p[0] | (unsigned)p[1] << 8, nlen = p[2] | (unsigned)p[3] << 8;
    if (len != (~nlen & 0xFFFFu))
        return fail(s, "deflate: stored block length check failed");
    s->pos += 4;
    if (s->n - s->pos < len)
        return fail(s, "deflate: truncated data");
    if (room_for(s, len) != 0)
        return -1;
    memcpy(s->out->data + s->out->len, s->in + s->pos, len);
    s->out->len += len;
    s->pos += len;
    return 0;
}

/* The symbols of a Huffman-coded block (RFC 1951 3.2.5), until end of block. */
static int coded_block(inflater *s, const huffman *litlen, const huffman *dist) {
    for (;;) {
        int sym = decode_symbol(s, litlen);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            if (room_for(s, 1) != 0)
                return -1;
            s->out->data[s->out->len++] = (char)sym;
            continue;
        }
        if (sym == HS_DEFLATE_END_OF_BLOCK)
            return 0;
        sym -= 257;
        if (sym >= 29)
            return fail(s, "deflate: invalid length symbol %d", sym + 257);
        int64_t extra = get_bits(s, hs_deflate_length_extra[sym]);
        if (extra < 0)
            return -1;
        size_t len = hs_deflate_length_base[sym] + (size_t)extra;
        int dsym = decode_symbol(s, dist);
        if (dsym < 0)
            return -1;
        if (dsym >= HS_DEFLATE_DIST_SYMBOLS)
            return fail(s, "deflate: invalid distance symbol %d", dsym);
        extra = get_bits(s, hs_deflate_dist_extra[dsym]);
        if (extra < 0)
            return -1;
        size_t distance = hs_deflate_dist_base[dsym] + (size_t)extra;
        if (distance > s->out->len - s->base)
            return fail(s, "deflate: back-reference to before the start of the data");
        if (room_for(s, len) != 0)
            return -1;
        char *to = s->out->data + s->out->len;
        const char *from = to - distance;
        /* Byte by byte: the source may overlap what is being written
         * (a distance shorter than the length repeats a pattern). */
        for (size_t i = 0; i < len; i++)
            to[i] = from[i];
        s->out->len += len;
    }
}

static int fixed_block(inflater *s) {
    uint8_t lens[MAX_LITLEN_SYMBOLS + MAX_DIST_SYMBOLS];
    for (unsigned i = 0; i < MAX_LITLEN_SYMBOLS; i++)
        lens[i] = (uint8_t)hs_deflate_fixed_litlen_bits(i);
    memset(lens + MAX_LITLEN_SYMBOLS, HS_DEFLATE_FIXED_DIST_BITS, MAX_DIST_SYMBOLS);
    huffman litlen, dist;
    build_huffman(&litlen, lens, MAX_LITLEN_SYMBOLS);
    build_huffman(&dist, lens + MAX_LITLEN_SYMBOLS, MAX_DIST_SYMBOLS);
    return coded_block(s, &litlen, &dist);
}

/* RFC 1951 3.2.7: HLIT, HDIST, HCLEN, the code length code, then the
 * run-length coded literal/length and distance code lengths. */
static int dynamic_block(inflater *s) {
    int64_t hlit = get_bits(s, 5), hdist = get_bits(s, 5), hclen = get_bits(s, 4);
    if (hlit < 0 || hdist < 0 || hclen < 0)
        return -1;
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > HS_DEFLATE_LITLEN_SYMBOLS || hdist > HS_DEFLATE_DIST_SYMBOLS)
        return fail(s, "deflate: too many length or distance codes");
    uint8_t cl_lens[HS_DEFLATE_CODELEN_SYMBOLS] = {0};
    for (int i = 0; i < hclen; i++) {
        int64_t v = get_bits(s, 3);
        if (v < 0)
            return -1;
        cl_lens[hs_deflate_codelen_order[i]] = (uint8_t)v;
    }
    huffman cl;
    if (build_huffman(&cl, cl_lens, HS_DEFLATE_CODELEN_SYMBOLS) != 0)
        return fail(s, "deflate: invalid code length code");
    uint8_t lens[HS_DEFLATE_LITLEN_SYMBOLS + HS_DEFLATE_DIST_SYMBOLS];
    int total = (int)(hlit + hdist);
    for (int i = 0; i < total;) {
        int sym = decode_symbol(s, &cl);
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lens[i++] = (uint8_t)sym;
            continue;
        }
        uint8_t value = 0;
        int64_t repeat;
        if (sym == 16) {
            if (i == 0)
                return fail(s, "deflate: length repeat with no previous length");
            value = lens[i - 1];
            repeat = get_bits(s, 2);
            repeat = repeat < 0 ? -1 : 3 + repeat;
        } else if (sym == 17) {
            repeat = get_bits(s, 3);
            repeat = repeat < 0 ? -1 : 3 + repeat;
        } else {
            repeat = get_bits(s, 7);
            repeat = repeat < 0 ? -1 : 11 + repeat;
        }
        if (repeat < 0)
            return -1;
        if (repeat > total - i)
            return fail(s, "deflate: code lengths run past their end");
        memset(lens + i, value, (size_t)repeat);
        i += (int)repeat;
    }
    if (lens[HS_DEFLATE_END_OF_BLOCK] == 0)
        return fail(s, "deflate: no end-of-block code");
    huffman litlen, dist;
    if (build_huffman(&litlen, lens, (unsigned)hlit) != 0)
        return fail(s, "deflate: invalid literal/length code lengths");
    if (build_huffman(&dist, lens + hlit, (unsigned)hdist) != 0)
        return fail(s, "deflate: invalid distance code lengths");
    return coded_block(s, &litlen, &dist);
}

int hs_inflate(const uint8_t *in, size_t n, size_t *consumed, hs_buf *out, size_t max_out, char *err) {
    inflater s = {
        .in = in, .n = n, .pos = 0, .bits = 0, .count = 0,
        .out = out, .base = out->len, .max_out = max_out, .err = err,
    };
    /* RFC 1951 3.2.3: blocks of BFINAL (1 bit), BTYPE (2 bits), data. */
    for (;;) {
        int64_t final = get_bits(&s, 1);
        int64_t type = get_bits(&s, 2);
        if (final < 0 || type < 0)
            return -1;
        int rc;
        if (type == 0)
            rc = stored_block(&s);
        else if (type == 1)
            rc = fixed_block(&s);
        else if (type == 2)
            rc = dynamic_block(&s);
        else
            rc = fail(&s, "deflate: invalid block type 3");
        if (rc != 0)
            return -1;
        if (final)
            break;
    }
    /* What is left of the last byte is padding; whole bytes loaded ahead
     * belong to whatever follows the stream. */
    *consumed = s.pos - s.count / 8;
    return 0;
}
