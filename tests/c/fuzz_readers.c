/*
 * fuzz_readers.c - a fuzz harness for the readers of src/read/ (model
 * JSON, embedded HTML/SVG, speedscope, collapsed, pstats/marshal, and
 * hotscope's text reports: call tree, line report, memory report).
 *
 * The entry point is libFuzzer's, so with clang:
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -DHS_LIBFUZZER \
 *         -DHS_FUZZ_ONLY=hs_read_collapsed \
 *         tests/c/fuzz_readers.c <the sources tests/test_c_readers.py lists> -lm
 * HS_FUZZ_ONLY names one reader, so each gets a fuzzer of its own whose
 * coverage guides mutations into that reader (`make fuzz`, tools/fuzz.py);
 * without it every input goes through every reader.
 * Without libFuzzer (gcc), main() is a small mutation fuzzer of its own,
 * which tests/test_c_readers.py runs under AddressSanitizer (leaks
 * included) and UBSan:
 *     fuzz_readers SECONDS SEED FILE...
 * It runs every seed, then mutants of random seeds (bit flips, random
 * bytes, insertions and deletions, duplicated and spliced chunks, tokens
 * that matter to the formats) until SECONDS have passed.
 *
 * Every input goes through every reader. Each must load it or refuse it
 * with a one-line message; a loaded profile is rendered (model JSON,
 * speedscope, collapsed, pstats, the text tree, the memory report) and its
 * JSON read back, which must succeed and give the same JSON again; its
 * text tree must read back too when nothing in it can be mistaken for the
 * tree's own marks (names_are_plain). Anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/read/read.h"
#include "../../src/render/render.h"

typedef hs_profile *(*reader_fn)(const char *, size_t, char *);
#ifdef HS_FUZZ_ONLY
static const reader_fn readers[] = {HS_FUZZ_ONLY};
#else
static const reader_fn readers[] = {hs_read_model_json, hs_read_embedded, hs_read_speedscope,
                                    hs_read_collapsed,  hs_read_pstats,   hs_read_text_tree,
                                    hs_read_lines_text, hs_read_mem_text};
#endif
#define NREADERS (sizeof readers / sizeof readers[0])

static void check(int ok, const char *what, const char *err) {
    if (!ok) {
        fprintf(stderr, "fuzz_readers: %s (%s)\n", what, err ? err : "");
        abort();
    }
}

static int plain_string(const hs_profile *p, hs_id id) {
    static const char *const marks[] = {"  ", "Thread ", "{", "}", "[", "\x1b", "%", NULL};
    size_t len;
    const char *s = hs_str(p, id, &len);
    if (!s)
        return 1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    for (int k = 0; marks[k]; k++)
        for (size_t i = 0; i + strlen(marks[k]) <= len; i++)
            if (memcmp(s + i, marks[k], strlen(marks[k])) == 0)
                return 0;
    return 1;
}

/* Whether the text tree of p must read back: names and files hold none of
 * the tree's marks (two spaces, "Thread ", braces, brackets, control
 * characters, '%'), and every weight is a non-negative count small
 * enough for the tree's totals to stay exact. */
static int names_are_plain(const hs_profile *p) {
    for (size_t f = 0; f < p->frame_count; f++)
        if (!plain_string(p, p->frames[f].name) || !plain_string(p, p->frames[f].file))
            return 0;
    for (size_t t = 0; t < p->thread_count; t++)
        if (!plain_string(p, p->threads[t].name))
            return 0;
    for (size_t n = 0; n < p->node_count; n++)
        for (int w = 0; w < HS_W_COUNT; w++)
            if (p->nodes[n].self[w] < 0 || p->nodes[n].self[w] > ((int64_t)1 << 40))
                return 0;
    return 1;
}

/* The text reports of p: they must render, and the tree of plain names
 * must read back. */
static void exercise_text(hs_profile *p) {
    char err[256] = {0};
    hs_buf a;
    hs_buf_init(&a);
    static const hs_weight weights[] = {HS_W_WALL_NS, HS_W_SAMPLES};
    for (size_t w = 0; w < 2; w++) {
        hs_text_tree_opts o;
        memset(&o, 0, sizeof o);
        o.weight = weights[w];
        o.min_percent = 1.0;
        o.unicode = (int)w;
        a.len = 0;
        check(hs_render_text_tree(p, &o, &a, err) == 0, "text tree failed", err);
        if (names_are_plain(p) && a.len > 0) {
            hs_profile *q = hs_read_text_tree(a.data, a.len, err);
            check(q != NULL, "own text tree refused", err);
            hs_profile_free(q);
        }
    }
    a.len = 0;
    check(hs_render_mem_text(p, 5, &a, err) == 0, "memory report failed", err);
    hs_buf_free(&a);
}

/* Renders a loaded profile every way the readers read back; its JSON must
 * load again and be a fixed point. */
static void exercise(hs_profile *p) {
    char err[256] = {0};
    hs_buf a, b;
    hs_buf_init(&a);
    hs_buf_init(&b);
    static const hs_weight weights[] = {HS_W_WALL_NS, HS_W_SAMPLES, HS_W_CALLS};
    for (size_t w = 0; w < 3; w++) {
        a.len = 0;
        check(hs_render_collapsed(p, weights[w], &a, err) == 0, "collapsed failed", err);
        a.len = 0;
        check(hs_render_speedscope(p, weights[w], "fuzz", &a, err) == 0, "speedscope failed", err);
        hs_profile *q = hs_read_speedscope(a.data, a.len, err);
        check(q != NULL, "own speedscope refused", err);
        hs_profile_free(q);
    }
    a.len = 0;
    check(hs_render_pstats_marshal(p, HS_ROOT, HS_W_WALL_NS, &a, err) == 0, "pstats failed", err);
    a.len = 0;
    check(hs_render_model_json(p, &a, err) == 0, "json failed", err);
    hs_profile *q = hs_read_model_json(a.data, a.len, err);
    check(q != NULL, "own JSON refused", err);
    check(hs_render_model_json(q, &b, err) == 0, "json of the read-back failed", err);
    hs_profile *r = hs_read_model_json(b.data, b.len, err);
    check(r != NULL, "own JSON refused the second time", err);
    a.len = 0;
    check(hs_render_model_json(r, &a, err) == 0, "json failed", err);
    check(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "JSON is not a fixed point", NULL);
    hs_profile_free(q);
    hs_profile_free(r);
    hs_buf_free(&a);
    hs_buf_free(&b);
    exercise_text(p);
}

static unsigned long loaded;

static void run_one(const uint8_t *data, size_t size) {
    for (size_t i = 0; i < NREADERS; i++) {
        char err[HS_READ_ERR_SIZE];
        memset(err, 0, sizeof err);
        hs_profile *p = readers[i]((const char *)data, size, err);
        if (!p) {
            check(err[0] != '\0' && strchr(err, '\n') == NULL, "a refusal without a one-line reason", err);
            continue;
        }
        loaded++;
        exercise(p);
        hs_profile_free(p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run_one(data, size);
    return 0;
}

#ifndef HS_LIBFUZZER

static uint64_t rng_state;

static uint64_t next_random(void) {
    /* xorshift64*: small, fast, reproducible from the seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t below(size_t n) {
    return n ? (size_t)(next_random() % n) : 0;
}

static const char *const tokens[] = {
    "[", "]", "{", "}", "\"", ",", ":", "\\u", "\\ud800", "\\udcff", "\\u0000", "-0", "1e400",
    "9223372036854775808", "-1", "0.5", "null", "true", "\"nodes\"", "\"frames\"", "\"samples\"",
    "\"weights\"", "\"events\"", "\"O\"", "\"C\"", ";", " ", "\n", "\r\n", "# hotscope collapsed weight=wall_us\n",
    "thread ", " (", ":1)", "{", "}", "\x80", "\xff", "\xed\xa0\x80", "\x00", "r\x00\x00\x00\x00", ")\x03",
    "{)", "l\x05\x00\x00\x00", "i\xff\xff\xff\xff", "g", "0", "<script id=\"hotscope-profile\">", "</script>",
    "\xe2\x94\x94\xe2\x94\x80 ", "\xe2\x94\x82  ", "   ", "[depth 99] ", "ms", "s", "  ", "%  ",
    "[3 frames hidden]", "Thread ", "... 4 more", " KiB", "\x1b[1m", "Timer unit: 1e-09 s\n",
};

typedef struct {
    uint8_t *data;
    size_t len;
} blob;

static void mutate(blob *m, const blob *seeds, size_t nseeds, size_t cap) {
    int ops = 1 + (int)below(4);
    for (int k = 0; k < ops; k++) {
        size_t at = below(m->len + 1);
        switch (below(8)) {
        case 0: /* flip a bit */
            if (m->len)
                m->data[below(m->len)] ^= (uint8_t)(1u << below(8));
            break;
        case 1: /* a random byte */
            if (m->len)
                m->data[below(m->len)] = (uint8_t)below(256);
            break;
        case 2: { /* delete a range */
            size_t n = below(m->len - at + 1);
            n = n > 64 ? below(64) : n;
            memmove(m->data + at, m->data + at + n, m->len - at - n);
            m->len -= n;
            break;
        }
        case 3: { /* insert a token */
            const char *t = tokens[below(sizeof tokens / sizeof tokens[0])];
            size_t n = strlen(t) ? strlen(t) : 1;
            if (m->len + n > cap)
                break;
            memmove(m->data + at + n, m->data + at, m->len - at);
            memcpy(m->data + at, t, n);
            m->len += n;
            break;
        }
        case 4: { /* duplicate a chunk */
            if (!m->len)
                break;
            size_t from = below(m->len), n = 1 + below(32);
            if (from + n > m->len)
                n = m->len - from;
            if (m->len + n > cap)
                break;
            uint8_t chunk[32];
            memcpy(chunk, m->data + from, n);
            memmove(m->data + at + n, m->data + at, m->len - at);
            memcpy(m->data + at, chunk, n);
            m->len += n;
            break;
        }
        case 5: /* truncate */
            m->len = at;
            break;
        case 6: { /* splice in part of another seed */
            const blob *s = &seeds[below(nseeds)];
            if (!s->len)
                break;
            size_t from = below(s->len), n = 1 + below(256);
            if (from + n > s->len)
                n = s->len - from;
            if (at + n > cap)
                break;
            memcpy(m->data + at, s->data + from, n);
            if (at + n > m->len)
                m->len = at + n;
            break;
        }
        default: /* a digit run made huge */
            for (size_t i = at; i < m->len; i++)
                if (m->data[i] >= '0' && m->data[i] <= '9') {
                    m->data[i] = '9';
                    break;
                }
            break;
        }
    }
}

static int read_file(const char *path, blob *b) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b->data = malloc(n > 0 ? (size_t)n : 1);
    b->len = n > 0 ? fread(b->data, 1, (size_t)n, f) : 0;
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: fuzz_readers SECONDS SEED FILE...\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    rng_state = strtoull(argv[2], NULL, 10) * 2654435761u + 1;
    size_t nseeds = (size_t)(argc - 3);
    blob *seeds = calloc(nseeds, sizeof *seeds);
    size_t cap = 0;
    for (size_t i = 0; i < nseeds; i++) {
        if (read_file(argv[3 + i], &seeds[i]) < 0) {
            fprintf(stderr, "cannot read %s\n", argv[3 + i]);
            return 2;
        }
        run_one(seeds[i].data, seeds[i].len);
        if (seeds[i].len > cap)
            cap = seeds[i].len;
    }
    cap = cap * 2 + 1024;
    blob m = {malloc(cap), 0};
    unsigned long runs = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        const blob *s = &seeds[below(nseeds)];
        memcpy(m.data, s->data, s->len);
        m.len = s->len;
        mutate(&m, seeds, nseeds, cap);
        /* An exact-size copy, so ASan sees reads past the end. */
        uint8_t *exact = malloc(m.len ? m.len : 1);
        memcpy(exact, m.data, m.len);
        run_one(exact, m.len);
        free(exact);
        runs++;
        if (runs % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
                break;
        }
    }
    printf("fuzz_readers: %lu inputs, %lu loads, no crash\n", runs, loaded);
    free(m.data);
    for (size_t i = 0; i < nseeds; i++)
        free(seeds[i].data);
    free(seeds);
    return 0;
}
#endif
