/*
 * test_codec.c - C unit tests of src/codec (CRC-32, DEFLATE, inflate,
 * gzip) and of the pprof writer and reader on a hand-built profile.
 * Built and run by tests/test_c_codec.py under AddressSanitizer and UBSan,
 * so every truncation and bit flip below also proves memory safety.
 * Prints "N passed, M failed"; exits non-zero on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/crc32.h"
#include "../../src/codec/deflate.h"
#include "../../src/codec/gzip.h"
#include "../../src/codec/inflate.h"
#include "../../src/read/pprof_read.h"
#include "../../src/render/render.h"

static int passed, failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

/* A deterministic generator (xorshift), so failures reproduce. */
static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)rng_state;
}

static void test_crc32(void) {
    /* The check value of CRC-32 (ISO-HDLC), as zlib's crc32 gives it. */
    CHECK(hs_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(hs_crc32(0, "", 0) == 0);
    CHECK(hs_crc32(hs_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

/* deflate then inflate; 0 if the bytes come back. */
static int round_trip(const unsigned char *data, size_t n) {
    hs_buf z, back;
    hs_buf_init(&z);
    hs_buf_init(&back);
    char err[256] = {0};
    size_t consumed = 0;
    int ok = hs_deflate(data, n, &z) == 0 &&
             hs_inflate((const uint8_t *)z.data, z.len, &consumed, &back, (size_t)1 << 30, err) == 0 &&
             consumed == z.len && back.len == n && (n == 0 || memcmp(back.data, data, n) == 0);
    if (!ok)
        fprintf(stderr, "round trip of %zu bytes failed: %s\n", n, err);
    hs_buf_free(&z);
    hs_buf_free(&back);
    return ok ? 0 : -1;
}

static void test_deflate_round_trips(void) {
    size_t max = 300000;
    unsigned char *data = malloc(max);
    CHECK(round_trip(data, 0) == 0);
    data[0] = 'x';
    CHECK(round_trip(data, 1) == 0);
    /* random: stored blocks, split at 65535 bytes */
    for (size_t i = 0; i < max; i++)
        data[i] = (unsigned char)rnd();
    size_t sizes[] = {2, 3, 4, 5, 100, 65535, 65536, 65537, 131071, 300000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        CHECK(round_trip(data, sizes[k]) == 0);
    /* one byte repeated: distance 1, length 258 matches */
    memset(data, 'a', max);
    CHECK(round_trip(data, max) == 0);
    CHECK(round_trip(data, 259) == 0);
    /* few symbols: a lone literal and a lone distance code */
    for (size_t i = 0; i < 1000; i++)
        data[i] = (unsigned char)(i % 2 ? 'a' : 'b');
    CHECK(round_trip(data, 1000) == 0);
    /* text-like data with repeats at every distance up to the window */
    static const char *words[] = {"profile", "sample", "location", "function", "(", ")", " ", "\n", "0", "42"};
    size_t n = 0;
    while (n < max - 16) {
        const char *w = words[rnd() % 10];
        size_t len = strlen(w);
        memcpy(data + n, w, len);
        n += len;
    }
    CHECK(round_trip(data, n) == 0);
    /* a random block repeated 32768 bytes later (the largest distance) */
    for (size_t i = 0; i < 32768; i++)
        data[i] = (unsigned char)rnd();
    memcpy(data + 32768, data, 32768);
    CHECK(round_trip(data, 65536) == 0);
    /* skewed frequencies: code lengths past 15 bits must be limited */
    n = 0;
    for (unsigned s = 0; s < 256 && n < max; s++) {
        size_t count = (size_t)1 << (s % 18);
        for (size_t i = 0; i < count && n < max; i++)
            data[n++] = (unsigned char)s;
    }
    for (size_t i = 0; i < n; i++) { /* shuffle so runs do not become matches */
        size_t j = rnd() % n;
        unsigned char t = data[i];
        data[i] = data[j];
        data[j] = t;
    }
    CHECK(round_trip(data, n) == 0);
    free(data);
}

static void test_gzip(void) {
    const char *text = "hotscope writes pprof; hotscope reads pprof. hotscope writes pprof!";
    size_t len = strlen(text);
    hs_buf z, back;
    hs_buf_init(&z);
    hs_buf_init(&back);
    char err[256] = {0};
    CHECK(hs_gzip_compress(text, len, &z) == 0);
    CHECK(hs_gzip_detect(z.data, z.len));
    size_t one = z.len;
    CHECK(hs_gzip_compress(text, len, &z) == 0); /* two members */
    CHECK(hs_gzip_decompress(z.data, z.len, &back, 1000, err) == 0);
    CHECK(back.len == 2 * len && memcmp(back.data, text, len) == 0 && memcmp(back.data + len, text, len) == 0);
    /* every truncation fails cleanly (the first member's end is valid) */
    for (size_t cut = 0; cut < z.len; cut++) {
        back.len = 0;
        int rc = hs_gzip_decompress(z.data, cut, &back, 1000, err);
        CHECK(cut == one ? rc == 0 : rc != 0);
    }
    /* every bit flip of the first member is caught (CRC or structure) or harmless */
    for (size_t bit = 0; bit < one * 8; bit++) {
        z.data[bit / 8] ^= (char)(1 << (bit % 8));
        back.len = 0;
        int rc = hs_gzip_decompress(z.data, one, &back, 1000, err);
        /* MTIME, XFL and OS (bytes 4..9) and the last byte's padding
         * bits are checked by nothing, and change nothing */
        CHECK(rc != 0 || (back.len == len && memcmp(back.data, text, len) == 0));
        z.data[bit / 8] ^= (char)(1 << (bit % 8));
    }
    /* the output cap */
    size_t big = 10u << 20;
    char *zeros = calloc(1, big);
    hs_buf zz;
    hs_buf_init(&zz);
    CHECK(hs_gzip_compress(zeros, big, &zz) == 0);
    CHECK(zz.len < big / 500);
    back.len = 0;
    CHECK(hs_gzip_decompress(zz.data, zz.len, &back, big - 1, err) != 0 && strstr(err, "more than") != NULL);
    back.len = 0;
    CHECK(hs_gzip_decompress(zz.data, zz.len, &back, big, err) == 0 && back.len == big);
    free(zeros);
    hs_buf_free(&zz);
    hs_buf_free(&z);
    hs_buf_free(&back);
}

/* ---- pprof on a hand-built profile ------------------------------------------ */

static hs_id frame(hs_profile *p, const char *name, size_t name_len, const char *file, int first, int line,
                   hs_frame_kind kind) {
    return hs_frame_intern(p, hs_intern(p, name, name_len), hs_intern_cstr(p, file), first, line, kind);
}

static int same_profiles(const hs_profile *a, const hs_profile *b) {
    /* Every node of a with weight has a node in b with the same path of
     * identical frames and the same self weights, and the totals agree. */
    if (a->weights_present != b->weights_present || a->thread_count != b->thread_count)
        return 0;
    for (int w = 0; w < HS_W_COUNT; w++) {
        int64_t *ta = malloc(a->node_count * sizeof *ta), *tb = malloc(b->node_count * sizeof *tb);
        hs_node_totals(a, (hs_weight)w, ta);
        hs_node_totals(b, (hs_weight)w, tb);
        int equal = ta[0] == tb[0];
        free(ta);
        free(tb);
        if (!equal)
            return 0;
    }
    for (size_t n = 1; n < a->node_count; n++) {
        const hs_node *na = hs_node_get(a, (hs_id)n);
        int any = 0;
        for (int w = 0; w < HS_W_COUNT; w++)
            any |= na->self[w] != 0;
        if (!any)
            continue;
        hs_id path[64];
        size_t depth = 0;
        for (hs_id x = (hs_id)n; x != HS_ROOT; x = hs_node_get(a, x)->parent)
            path[depth++] = hs_node_get(a, x)->frame;
        hs_id nb = HS_ROOT;
        for (size_t d = depth; d-- > 0;) {
            const hs_frame *fa = hs_frame_get(a, path[d]);
            size_t la, lb, ma, mb;
            const char *sa = hs_str(a, fa->name, &la), *ua = hs_str(a, fa->file, &ma);
            hs_id found = HS_NONE;
            for (hs_id c = hs_node_get(b, nb)->first_child; c != HS_NONE; c = hs_node_get(b, c)->next_sibling) {
                const hs_frame *fb = hs_frame_get(b, hs_node_get(b, c)->frame);
                const char *sb = hs_str(b, fb->name, &lb), *ub = hs_str(b, fb->file, &mb);
                if (la == lb && ma == mb && !memcmp(sa, sb, la) && !memcmp(ua, ub, ma) &&
                    fa->first_line == fb->first_line && fa->line == fb->line && fa->kind == fb->kind)
                    found = c;
            }
            if (found == HS_NONE)
                return 0;
            nb = found;
        }
        if (memcmp(na->self, hs_node_get(b, nb)->self, sizeof na->self) != 0)
            return 0;
    }
    return 1;
}

static void test_pprof_round_trip(void) {
    hs_profile *p = hs_profile_new();
    int t0 = hs_thread_add(p, "MainThread", 11, 22);
    int t1 = hs_thread_add(p, "MainThread", 33, 44); /* same name, another thread */
    hs_id main_f = frame(p, "main", 4, "app.py", 1, 3, HS_KIND_PYTHON);
    hs_id work_f = frame(p, "work", 4, "app.py", 10, 12, HS_KIND_PYTHON);
    hs_id work_g = frame(p, "work", 4, "app.py", 10, 15, HS_KIND_PYTHON); /* same function, another line */
    hs_id len_f = frame(p, "<built-in method builtins.len>", 30, "~", 0, 0, HS_KIND_NATIVE);
    hs_id gc_f = frame(p, "[gc]", 4, "", 0, 0, HS_KIND_OTHER);
    hs_id nul_f = frame(p, "odd\0name;x", 10, "we\xc3\xa9.py", -5, 2000000000, HS_KIND_PYTHON);
    hs_id th0 = hs_node_get(p, p->threads[t0].root)->frame, th1 = hs_node_get(p, p->threads[t1].root)->frame;
    int64_t w1[HS_W_COUNT] = {3, 1000, 900, 0, 0, 0};
    int64_t w2[HS_W_COUNT] = {1, -5, INT64_MAX, 0, 0, 0};
    int64_t w3[HS_W_COUNT] = {0, 7, 0, 0, 0, 0};
    hs_id s1[] = {th0, main_f, work_f, len_f};
    hs_id s2[] = {th0, main_f, work_g};
    hs_id s3[] = {th1, gc_f};
    hs_id s4[] = {th1};
    hs_id s5[] = {main_f, nul_f, th0}; /* no thread first; a thread frame deep down */
    hs_add_stack(p, s1, 4, w1);
    hs_add_stack(p, s2, 3, w2);
    hs_add_stack(p, s3, 2, w3);
    hs_add_stack(p, s4, 1, w1);
    hs_add_stack(p, s5, 3, w2);
    hs_meta_set(p, "command", "python app.py --x=1");
    hs_meta_set(p, "duration_ns", "123456789");
    p->threads[t1].wall_ns = 5;
    p->threads[t1].cpu_ns = 4;

    hs_buf out;
    hs_buf_init(&out);
    char err[256] = {0};
    CHECK(hs_render_pprof(p, &out, err) == 0);
    hs_profile *q = hs_read_pprof(out.data, out.len, err);
    CHECK(q != NULL);
    if (q) {
        CHECK(same_profiles(p, q));
        CHECK(same_profiles(q, p));
        CHECK(q->threads[1].os_tid == 33 && q->threads[1].ident == 44 && q->threads[1].wall_ns == 5);
        CHECK(strcmp(hs_meta_get(q, "command"), "python app.py --x=1") == 0);
        /* the second generation is the same bytes */
        hs_buf again;
        hs_buf_init(&again);
        CHECK(hs_render_pprof(q, &again, err) == 0);
        CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
        hs_buf_free(&again);
        hs_profile_free(q);
    }
    /* every truncation of the raw message is refused or reads a prefix;
     * none may crash (ASan) */
    hs_buf raw;
    hs_buf_init(&raw);
    CHECK(hs_render_pprof_proto(p, &raw, err) == 0);
    for (size_t cut = 0; cut < raw.len; cut++) {
        hs_profile *r = hs_read_pprof(raw.data, cut, err);
        if (r)
            hs_profile_free(r);
        else
            CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
    }
    hs_buf_free(&raw);
    hs_buf_free(&out);
    hs_profile_free(p);
}

int main(void) {
    test_crc32();
    test_deflate_round_trips();
    test_gzip();
    test_pprof_round_trip();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
