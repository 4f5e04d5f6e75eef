/*
 * deflate.c - a DEFLATE compressor (RFC 1951), so that hotscope writes
 * gzip (gzip.c) without linking zlib.
 *
 * Two stages, as RFC 1951 section 4 sketches them:
 *   - LZ77: each position's first four bytes are hashed; a hash chain
 *     (head[] / prev[], the last 32K positions) lists earlier positions
 *     with the same hash, and at most MAX_CHAIN of them are tried, the
 *     longest match winning (a match of NICE_LENGTH ends the search early).
 *     The result is a list of tokens: literal bytes and (length, distance)
 *     pairs. Bounding the chain keeps the time linear in the input, which
 *     matters more here than the last few percent of size: profiles are
 *     written at the end of a run that someone is waiting for.
 *   - Huffman: every BLOCK_TOKENS tokens end a block, written in whichever
 *     of the three block types of RFC 1951 3.2.3 is smallest for it:
 *     stored (3.2.4), fixed codes (3.2.6) or dynamic codes (3.2.7) built
 *     from the block's own symbol counts.
 *
 * Everything lives in one heap-allocated `compressor` per call: no global
 * state. Positions are kept as 32-bit numbers, hence the 4 GiB limit.
 */
#include "deflate.h"

#include <stdlib.h>
#include <string.h>

#include "deflate_tables.h"

#define HASH_BITS 15
#define HASH_SIZE (1u << HASH_BITS)
#define WINDOW_MASK (HS_DEFLATE_WINDOW - 1)
/* Earlier positions tried per position, and the match length that is
 * good enough to stop looking: a speed/size trade-off (zlib's level 4 or
 * so). */
#define MAX_CHAIN 24
#define NICE_LENGTH 128
/* The positions inside a match are indexed only for matches this short:
 * long matches are repeats, whose inner positions rarely start better
 * matches than the repeat itself, and skipping them is what makes highly
 * repetitive input fast. The last TAIL_INSERT positions of a long match
 * are indexed all the same, so a run continues at a short distance (a
 * run of one byte codes as distance 1, no extra bits). */
#define MAX_INSERT_LENGTH 32
#define TAIL_INSERT 3
/* Tokens per block: enough for a dynamic header (~100 bytes) to pay off,
 * few enough for the codes to follow changes in the data. */
#define BLOCK_TOKENS 32768
/* RFC 1951 3.2.4: a stored block holds at most 65535 bytes. */
#define STORED_MAX 65535u

typedef struct {
    uint16_t litlen; /* the byte of a literal, or a match's length */
    uint16_t dist;   /* a match's distance; 0 for a literal */
} token;

typedef struct {
    uint64_t bits;  /* pending bits, the first ones in the low end */
    unsigned count; /* how many bits are pending (< 32 between calls) */
} bitwriter;

typedef struct {
    uint32_t head[HASH_SIZE];          /* hash -> 1 + last position, 0 = none */
    uint32_t prev[HS_DEFLATE_WINDOW];  /* position & WINDOW_MASK -> 1 + previous one */
    token tokens[BLOCK_TOKENS];
    size_t token_count;
    uint32_t litlen_freq[HS_DEFLATE_LITLEN_SYMBOLS];
    uint32_t dist_freq[HS_DEFLATE_DIST_SYMBOLS];
    /* symbol lookups (index into the RFC 1951 3.2.5 tables) */
    uint8_t length_index[HS_DEFLATE_MAX_MATCH + 1]; /* length -> 0..28 */
    uint8_t dist_index_small[256];                  /* dist-1 < 256 -> 0..15 */
    uint8_t dist_index_large[256];                  /* (dist-1) >> 7 -> 16..29 */
    bitwriter w;
} compressor;

/* ---- bit output ----------------------------------------------------------
 * RFC 1951 3.1.1: data elements are packed starting with the least
 * significant bit of each byte; Huffman codes start with their most
 * significant bit, so codes are stored bit-reversed (reverse_bits). The
 * caller reserves room in `out` before writing a block, so these never
 * reallocate. */

static inline void put_bits(bitwriter *w, hs_buf *out, uint32_t value, unsigned n) {
    w->bits |= (uint64_t)value << w->count;
    w->count += n;
    if (w->count >= 32) {
        unsigned char *p = (unsigned char *)out->data + out->len;
        p[0] = (unsigned char)w->bits;
        p[1] = (unsigned char)(w->bits >> 8);
        p[2] = (unsigned char)(w->bits >> 16);
        p[3] = (unsigned char)(w->bits >> 24);
        out->len += 4;
        w->bits >>= 32;
        w->count -= 32;
    }
}

/* Writes out the pending bits, the last byte padded with zeros. */
static void flush_to_byte(bitwriter *w, hs_buf *out) {
    while (w->count > 0) {
        out->data[out->len++] = (char)(unsigned char)w->bits;
        w->bits >>= 8;
        w->count = w->count > 8 ? w->count - 8 : 0;
    }
    w->bits = 0;
}

static uint32_t reverse_bits(uint32_t code, unsigned n) {
    uint32_t r = 0;
    for (unsigned i = 0; i < n; i++, code >>= 1)
        r = (r << 1) | (code & 1);
    return r;
}

/* ---- Huffman codes -------------------------------------------------------- */

/* Fills lens[0..n) with the code lengths of a Huffman code for freq[0..n),
 * no length above `limit` (15, or 7 for the code length code), and the
 * code complete (Kraft sum exactly 1): zlib's inflate rejects incomplete
 * codes, so a lone used symbol is paired with an unused one. */
static void build_code_lengths(const uint32_t *freq, unsigned n, unsigned limit, uint8_t *lens) {
    unsigned sym[HS_DEFLATE_LITLEN_SYMBOLS];
    unsigned used = 0;
    memset(lens, 0, n);
    for (unsigned s = 0; s < n; s++)
        if (freq[s])
            sym[used++] = s;
    if (used < 2) {
        unsigned a = used ? sym[0] : 0, b = a == 0 ? 1 : 0;
        lens[a] = lens[b] = 1;
        return;
    }
    /* Leaves in increasing frequency (insertion sort: at most 286). */
    for (unsigned i = 1; i < used; i++) {
        unsigned s = sym[i], j = i;
        while (j > 0 && freq[sym[j - 1]] > freq[s]) {
            sym[j] = sym[j - 1];
            j--;
        }
        sym[j] = s;
    }
    /* Huffman's construction with two queues: the sorted leaves, and the
     * internal nodes, which are created in non-decreasing weight order. */
    uint64_t weight[2 * HS_DEFLATE_LITLEN_SYMBOLS];
    unsigned parent[2 * HS_DEFLATE_LITLEN_SYMBOLS];
    unsigned depth[2 * HS_DEFLATE_LITLEN_SYMBOLS];
    for (unsigned i = 0; i < used; i++)
        weight[i] = freq[sym[i]];
    unsigned next_leaf = 0, next_inner = used, created = used;
    while (created < 2 * used - 1) {
        unsigned pick[2];
        for (int k = 0; k < 2; k++) {
            if (next_leaf < used && (next_inner >= created || weight[next_leaf] <= weight[next_inner]))
                pick[k] = next_leaf++;
            else
                pick[k] = next_inner++;
        }
        weight[created] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = parent[pick[1]] = created;
        created++;
    }
    unsigned root = 2 * used - 2;
    depth[root] = 0;
    for (unsigned i = root; i-- > 0;)
        depth[i] = depth[parent[i]] + 1;
    unsigned longest = 0;
    for (unsigned i = 0; i < used; i++) {
        lens[sym[i]] = (uint8_t)(depth[i] > limit ? limit : depth[i]);
        if (depth[i] > longest)
            longest = depth[i];
    }
    if (longest <= limit)
        return;

    /* Too deep: the clamped lengths over-subscribe the code (Kraft sum,
     * counted in units of 2^-limit, above 2^limit). Lengthen the longest
     * codes still under the limit (rare symbols, cheapest to lengthen)
     * until it fits, then hand any slack back by shortening codes, most
     * frequent first. The slack is always a multiple of the smallest
     * term, so the code ends exactly complete. */
    uint32_t capacity = 1u << limit, kraft = 0;
    for (unsigned i = 0; i < used; i++)
        kraft += 1u << (limit - lens[sym[i]]);
    while (kraft > capacity) {
        unsigned best = used;
        for (unsigned i = 0; i < used; i++)
            if (lens[sym[i]] < limit && (best == used || lens[sym[i]] > lens[sym[best]]))
                best = i;
        kraft -= 1u << (limit - lens[sym[best]] - 1);
        lens[sym[best]]++;
    }
    while (kraft < capacity) {
        for (unsigned i = used; i-- > 0 && kraft < capacity;) {
            unsigned s = sym[i];
            if (lens[s] > 1 && kraft + (1u << (limit - lens[s])) <= capacity) {
                kraft += 1u << (limit - lens[s]);
                lens[s]--;
            }
        }
    }
}

/* RFC 1951 3.2.2: the canonical code of each length, assigned in symbol
 * order; stored bit-reversed for put_bits. */
static void assign_codes(const uint8_t *lens, unsigned n, uint16_t *codes) {
    unsigned count[HS_DEFLATE_MAX_BITS + 1] = {0};
    uint32_t next[HS_DEFLATE_MAX_BITS + 1];
    for (unsigned s = 0; s < n; s++)
        count[lens[s]]++;
    count[0] = 0;
    uint32_t code = 0;
    for (unsigned bits = 1; bits <= HS_DEFLATE_MAX_BITS; bits++) {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (unsigned s = 0; s < n; s++)
        codes[s] = lens[s] ? (uint16_t)reverse_bits(next[lens[s]]++, lens[s]) : 0;
}

/* ---- blocks ------------------------------------------------------------- */

/* RFC 1951 3.2.6: the fixed code is defined over 288 literal/length
 * symbols (286 and 287 never occur but take part in the code assignment)
 * and 30 distance codes. */
#define FIXED_LITLEN_SYMBOLS 288

typedef struct {
    uint8_t litlen_lens[FIXED_LITLEN_SYMBOLS];
    uint8_t dist_lens[HS_DEFLATE_DIST_SYMBOLS];
    uint16_t litlen_codes[FIXED_LITLEN_SYMBOLS];
    uint16_t dist_codes[HS_DEFLATE_DIST_SYMBOLS];
} block_codes;

typedef struct {
    unsigned hlit, hdist, hclen;
    uint8_t rle_symbol[HS_DEFLATE_LITLEN_SYMBOLS + HS_DEFLATE_DIST_SYMBOLS];
    uint8_t rle_extra[HS_DEFLATE_LITLEN_SYMBOLS + HS_DEFLATE_DIST_SYMBOLS];
    unsigned rle_count;
    uint8_t cl_lens[HS_DEFLATE_CODELEN_SYMBOLS];
    uint16_t cl_codes[HS_DEFLATE_CODELEN_SYMBOLS];
} dynamic_header;

static void rle_push(dynamic_header *h, unsigned symbol, unsigned extra, uint32_t *cl_freq) {
    h->rle_symbol[h->rle_count] = (uint8_t)symbol;
    h->rle_extra[h->rle_count] = (uint8_t)extra;
    h->rle_count++;
    cl_freq[symbol]++;
}

/* RFC 1951 3.2.7: the literal/length and distance code lengths, run-length
 * coded (16: repeat the previous length 3-6 times, 17: 3-10 zeros, 18:
 * 11-138 zeros), then the code length code that codes them. Returns the
 * header's size in bits. */
static uint64_t plan_dynamic_header(const block_codes *bc, dynamic_header *h) {
    unsigned hlit = HS_DEFLATE_LITLEN_SYMBOLS, hdist = HS_DEFLATE_DIST_SYMBOLS;
    while (hlit > 257 && bc->litlen_lens[hlit - 1] == 0)
        hlit--;
    while (hdist > 1 && bc->dist_lens[hdist - 1] == 0)
        hdist--;
    uint8_t all[HS_DEFLATE_LITLEN_SYMBOLS + HS_DEFLATE_DIST_SYMBOLS];
    memcpy(all, bc->litlen_lens, hlit);
    memcpy(all + hlit, bc->dist_lens, hdist);
    unsigned total = hlit + hdist;
    uint32_t cl_freq[HS_DEFLATE_CODELEN_SYMBOLS] = {0};
    h->rle_count = 0;
    for (unsigned i = 0; i < total;) {
        unsigned len = all[i], run = 1;
        while (i + run < total && all[i + run] == len)
            run++;
        i += run;
        if (len == 0) {
            while (run >= 11) {
                unsigned n = run < 138 ? run : 138;
                rle_push(h, 18, n - 11, cl_freq);
                run -= n;
            }
            if (run >= 3) {
                rle_push(h, 17, run - 3, cl_freq);
                run = 0;
            }
        } else {
            rle_push(h, len, 0, cl_freq);
            run--;
            while (run >= 3) {
                unsigned n = run < 6 ? run : 6;
                rle_push(h, 16, n - 3, cl_freq);
                run -= n;
            }
        }
        while (run-- > 0)
            rle_push(h, len, 0, cl_freq);
    }
    build_code_lengths(cl_freq, HS_DEFLATE_CODELEN_SYMBOLS, HS_DEFLATE_MAX_CODELEN_BITS, h->cl_lens);
    assign_codes(h->cl_lens, HS_DEFLATE_CODELEN_SYMBOLS, h->cl_codes);
    unsigned hclen = HS_DEFLATE_CODELEN_SYMBOLS;
    while (hclen > 4 && h->cl_lens[hs_deflate_codelen_order[hclen - 1]] == 0)
        hclen--;
    h->hlit = hlit;
    h->hdist = hdist;
    h->hclen = hclen;
    uint64_t bits = 5 + 5 + 4 + 3 * (uint64_t)hclen;
    for (unsigned s = 0; s < HS_DEFLATE_CODELEN_SYMBOLS; s++)
        bits += (uint64_t)cl_freq[s] * h->cl_lens[s];
    bits += 2 * (uint64_t)cl_freq[16] + 3 * (uint64_t)cl_freq[17] + 7 * (uint64_t)cl_freq[18];
    return bits;
}

static void write_dynamic_header(compressor *c, hs_buf *out, const dynamic_header *h) {
    put_bits(&c->w, out, h->hlit - 257, 5);
    put_bits(&c->w, out, h->hdist - 1, 5);
    put_bits(&c->w, out, h->hclen - 4, 4);
    for (unsigned i = 0; i < h->hclen; i++)
        put_bits(&c->w, out, h->cl_lens[hs_deflate_codelen_order[i]], 3);
    static const uint8_t extra_bits[3] = {2, 3, 7}; /* of symbols 16, 17, 18 */
    for (unsigned i = 0; i < h->rle_count; i++) {
        unsigned s = h->rle_symbol[i];
        put_bits(&c->w, out, h->cl_codes[s], h->cl_lens[s]);
        if (s >= 16)
            put_bits(&c->w, out, h->rle_extra[i], extra_bits[s - 16]);
    }
}

static void write_tokens(compressor *c, hs_buf *out, const block_codes *bc) {
    bitwriter *w = &c->w;
    for (size_t i = 0; i < c->token_count; i++) {
        token t = c->tokens[i];
        if (t.dist == 0) {
            put_bits(w, out, bc->litlen_codes[t.litlen], bc->litlen_lens[t.litlen]);
            continue;
        }
        unsigned li = c->length_index[t.litlen];
        put_bits(w, out, bc->litlen_codes[257 + li], bc->litlen_lens[257 + li]);
        if (hs_deflate_length_extra[li])
            put_bits(w, out, t.litlen - hs_deflate_length_base[li], hs_deflate_length_extra[li]);
        unsigned d = t.dist - 1u;
        unsigned di = d < 256 ? c->dist_index_small[d] : c->dist_index_large[d >> 7];
        put_bits(w, out, bc->dist_codes[di], bc->dist_lens[di]);
        if (hs_deflate_dist_extra[di])
            put_bits(w, out, t.dist - hs_deflate_dist_base[di], hs_deflate_dist_extra[di]);
    }
    put_bits(w, out, bc->litlen_codes[HS_DEFLATE_END_OF_BLOCK], bc->litlen_lens[HS_DEFLATE_END_OF_BLOCK]);
}

/* RFC 1951 3.2.4: stored blocks of at most 65535 bytes, each byte-aligned
 * after its 3 header bits, with LEN and its one's complement NLEN. */
static void write_stored(compressor *c, hs_buf *out, const uint8_t *data, size_t start, size_t end,
                         int final) {
    do {
        size_t n = end - start < STORED_MAX ? end - start : STORED_MAX;
        int last = start + n == end;
        put_bits(&c->w, out, (final && last) ? 1 : 0, 3); /* BFINAL, BTYPE = 00 */
        flush_to_byte(&c->w, out);
        unsigned char *p = (unsigned char *)out->data + out->len;
        p[0] = (unsigned char)n;
        p[1] = (unsigned char)(n >> 8);
        p[2] = (unsigned char)~n;
        p[3] = (unsigned char)(~n >> 8);
        memcpy(p + 4, data + start, n);
        out->len += 4 + n;
        start += n;
    } while (start < end);
}

/* Writes the tokens collected for data[start..end) as one block (or a few
 * stored ones), in the cheapest of the three encodings. */
static int emit_block(compressor *c, hs_buf *out, const uint8_t *data, size_t start, size_t end,
                      int final) {
    size_t stored_blocks = (end - start) / STORED_MAX + 1;
    /* Worst case of each encoding: a token takes at most 15+5+15+13 bits;
     * a dynamic header at most ~320 code lengths of 7+7 bits. */
    if (hs_buf_reserve(out, c->token_count * 6 + (end - start) + 5 * stored_blocks + 1024) != 0)
        return -1;
    c->litlen_freq[HS_DEFLATE_END_OF_BLOCK] = 1;

    block_codes dyn;
    build_code_lengths(c->litlen_freq, HS_DEFLATE_LITLEN_SYMBOLS, HS_DEFLATE_MAX_BITS, dyn.litlen_lens);
    build_code_lengths(c->dist_freq, HS_DEFLATE_DIST_SYMBOLS, HS_DEFLATE_MAX_BITS, dyn.dist_lens);
    dynamic_header header;
    uint64_t dynamic_bits = 3 + plan_dynamic_header(&dyn, &header);
    uint64_t fixed_bits = 3, extra_bits = 0;
    for (unsigned s = 0; s < HS_DEFLATE_LITLEN_SYMBOLS; s++) {
        uint64_t f = c->litlen_freq[s];
        dynamic_bits += f * dyn.litlen_lens[s];
        fixed_bits += f * hs_deflate_fixed_litlen_bits(s);
        if (s > 256)
            extra_bits += f * hs_deflate_length_extra[s - 257];
    }
    for (unsigned s = 0; s < HS_DEFLATE_DIST_SYMBOLS; s++) {
        uint64_t f = c->dist_freq[s];
        dynamic_bits += f * dyn.dist_lens[s];
        fixed_bits += f * HS_DEFLATE_FIXED_DIST_BITS;
        extra_bits += f * hs_deflate_dist_extra[s];
    }
    dynamic_bits += extra_bits;
    fixed_bits += extra_bits;
    uint64_t stored_bits = 8 * (uint64_t)(end - start) + stored_blocks * (3 + 7 + 32);

    if (stored_bits < dynamic_bits && stored_bits < fixed_bits) {
        write_stored(c, out, data, start, end, final);
    } else if (fixed_bits <= dynamic_bits) {
        block_codes fixed;
        for (unsigned s = 0; s < FIXED_LITLEN_SYMBOLS; s++)
            fixed.litlen_lens[s] = (uint8_t)hs_deflate_fixed_litlen_bits(s);
        memset(fixed.dist_lens, HS_DEFLATE_FIXED_DIST_BITS, sizeof fixed.dist_lens);
        assign_codes(fixed.litlen_lens, FIXED_LITLEN_SYMBOLS, fixed.litlen_codes);
        assign_codes(fixed.dist_lens, HS_DEFLATE_DIST_SYMBOLS, fixed.dist_codes);
        put_bits(&c->w, out, final ? 1 : 0, 1); /* BFINAL */
        put_bits(&c->w, out, 1, 2);             /* BTYPE = 01, fixed */
        write_tokens(c, out, &fixed);
    } else {
        assign_codes(dyn.litlen_lens, HS_DEFLATE_LITLEN_SYMBOLS, dyn.litlen_codes);
        assign_codes(dyn.dist_lens, HS_DEFLATE_DIST_SYMBOLS, dyn.dist_codes);
        put_bits(&c->w, out, final ? 1 : 0, 1); /* BFINAL */
        put_bits(&c->w, out, 2, 2);             /* BTYPE = 10, dynamic */
        write_dynamic_header(c, out, &header);
        write_tokens(c, out, &dyn);
    }
    c->token_count = 0;
    memset(c->litlen_freq, 0, sizeof c->litlen_freq);
    memset(c->dist_freq, 0, sizeof c->dist_freq);
    return 0;
}

/* ---- LZ77 ----------------------------------------------------------------- */

static void build_symbol_lookups(compressor *c) {
    for (unsigned i = 0; i < 29; i++) {
        unsigned base = hs_deflate_length_base[i], span = 1u << hs_deflate_length_extra[i];
        for (unsigned len = base; len < base + span && len <= HS_DEFLATE_MAX_MATCH; len++)
            c->length_index[len] = (uint8_t)i;
    }
    /* RFC 1951 3.2.5 lists 258 twice (284 with all extra bits set, and
     * 285); 285 is the one meant for it. */
    c->length_index[HS_DEFLATE_MAX_MATCH] = 28;
    for (unsigned i = 0; i < 30; i++) {
        unsigned base = hs_deflate_dist_base[i], span = 1u << hs_deflate_dist_extra[i];
        for (unsigned d = base - 1; d < base - 1 + span; d++) {
            if (d < 256)
                c->dist_index_small[d] = (uint8_t)i;
            else
                c->dist_index_large[d >> 7] = (uint8_t)i;
        }
    }
}

static inline uint32_t load32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint32_t hash4(const uint8_t *p) {
    return (load32(p) * 2654435761u) >> (32 - HASH_BITS);
}

/* Length of the common prefix of a and b, at most `limit`. */
static inline unsigned match_length(const uint8_t *a, const uint8_t *b, unsigned limit) {
    unsigned n = 0;
    while (n + 8 <= limit) {
        uint64_t x, y;
        memcpy(&x, a + n, 8);
        memcpy(&y, b + n, 8);
        if (x != y) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return n + (unsigned)(__builtin_ctzll(x ^ y) >> 3);
#else
            break;
#endif
        }
        n += 8;
    }
    while (n < limit && a[n] == b[n])
        n++;
    return n;
}

static inline void insert_position(compressor *c, const uint8_t *data, size_t pos) {
    uint32_t h = hash4(data + pos);
    c->prev[pos & WINDOW_MASK] = c->head[h];
    c->head[h] = (uint32_t)pos + 1;
}

int hs_deflate(const void *input, size_t n, hs_buf *out) {
    if (n >= 0xFFFFFFFFu)
        return -1;
    compressor *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    build_symbol_lookups(c);
    const uint8_t *data = input;
    size_t pos = 0, block_start = 0;
    int rc = 0;
    while (pos < n) {
        unsigned best_len = 0, best_dist = 0;
        if (n - pos >= 4) {
            unsigned limit = n - pos < HS_DEFLATE_MAX_MATCH ? (unsigned)(n - pos) : HS_DEFLATE_MAX_MATCH;
            uint32_t candidate = c->head[hash4(data + pos)];
            /* Chains only hold earlier positions, each link older than the
             * one before, so the walk ends; stop at the window's edge. */
            for (int chain = MAX_CHAIN; candidate != 0 && chain > 0; chain--) {
                size_t from = candidate - 1;
                if (pos - from > HS_DEFLATE_WINDOW)
                    break;
                if (data[from + best_len] == data[pos + best_len] &&
                    load32(data + from) == load32(data + pos)) {
                    unsigned len = match_length(data + from, data + pos, limit);
                    if (len > best_len) {
                        best_len = len;
                        best_dist = (unsigned)(pos - from);
                        if (len >= NICE_LENGTH || len == limit)
                            break;
                    }
                }
                candidate = c->prev[from & WINDOW_MASK];
            }
            insert_position(c, data, pos);
        }
        token *t = &c->tokens[c->token_count++];
        if (best_len >= HS_DEFLATE_MIN_MATCH) {
            t->litlen = (uint16_t)best_len;
            t->dist = (uint16_t)best_dist;
            c->litlen_freq[257 + c->length_index[best_len]]++;
            unsigned d = best_dist - 1;
            c->dist_freq[d < 256 ? c->dist_index_small[d] : c->dist_index_large[d >> 7]]++;
            size_t end = pos + best_len;
            size_t p = best_len <= MAX_INSERT_LENGTH ? pos + 1 : end - TAIL_INSERT;
            for (; p < end && n - p >= 4; p++)
                insert_position(c, data, p);
            pos += best_len;
        } else {
            t->litlen = data[pos];
            t->dist = 0;
            c->litlen_freq[data[pos]]++;
            pos++;
        }
        if (c->token_count == BLOCK_TOKENS && pos < n) {
            if (emit_block(c, out, data, block_start, pos, 0) != 0) {
                rc = -1;
                break;
            }
            block_start = pos;
        }
    }
    if (rc == 0 && emit_block(c, out, data, block_start, n, 1) != 0)
        rc = -1;
    if (rc == 0) {
        if (hs_buf_reserve(out, 8) != 0)
            rc = -1;
        else
            flush_to_byte(&c->w, out);
    }
    free(c);
    return rc;
}
