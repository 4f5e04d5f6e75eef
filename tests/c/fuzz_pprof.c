/*
 * fuzz_pprof.c - a fuzz harness for the pprof reader (src/read) and the
 * gzip/inflate and protobuf layers under it (src/codec).
 *
 * The entry point is libFuzzer's, so with clang:
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -DHS_LIBFUZZER \
 *         tests/c/fuzz_pprof.c src/{model,render,codec,read}/?*.c -lm -o fuzz_pprof
 *     ./fuzz_pprof corpus/
 * Without libFuzzer (gcc), main() below is a small deterministic mutation
 * fuzzer of its own, used by tests/test_c_codec.py under ASan and UBSan:
 *     fuzz_pprof [-n ITERATIONS] [-s SEED] FILE...
 * It runs each seed file, then ITERATIONS mutants (bit flips, truncations,
 * splices, interesting bytes) of random seeds; half of the mutants of a
 * gzip seed are made on its decompressed protobuf and gzipped again, so
 * they reach the parser rather than stopping at the CRC check.
 *
 * Every input must either load or be refused with a one-line message; a
 * loaded profile is rendered (pprof, collapsed) and read back, which must
 * succeed. Anything else aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/gzip.h"
#include "../../src/read/pprof_read.h"
#include "../../src/render/render.h"

/* 1 if the input loaded, 0 if it was refused; aborts on anything else. */
static int run_one(const uint8_t *data, size_t size) {
    char err[256] = {0};
    hs_profile *p = hs_read_pprof(data, size, err);
    if (!p) {
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort(); /* a refusal must say why, in one line */
        return 0;
    }
    hs_buf out;
    hs_buf_init(&out);
    if (hs_render_collapsed(p, HS_W_SAMPLES, &out, err) != 0)
        abort();
    out.len = 0;
    if (hs_render_pprof(p, &out, err) != 0)
        abort();
    hs_profile *again = hs_read_pprof(out.data, out.len, err);
    if (!again) {
        fprintf(stderr, "our own output of a loaded profile was refused: %s\n", err);
        abort();
    }
    hs_profile_free(again);
    hs_buf_free(&out);
    hs_profile_free(p);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run_one(data, size);
    return 0;
}

#ifndef HS_LIBFUZZER

static uint64_t state;

static uint32_t rnd(void) { /* xorshift64 */
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static void mutate(hs_buf *b) {
    if (b->len == 0) {
        hs_buf_putc(b, (char)rnd());
        return;
    }
    size_t i = rnd() % b->len;
    switch (rnd() % 5) {
    case 0: /* flip bits */
        for (int k = rnd() % 4; k >= 0; k--)
            b->data[rnd() % b->len] ^= (char)(1u << (rnd() % 8));
        break;
    case 1: /* truncate */
        b->len = i;
        break;
    case 2: { /* splice in a copy of another stretch */
        size_t from = rnd() % b->len, n = 1 + rnd() % 64;
        if (n > b->len - from)
            n = b->len - from;
        if (hs_buf_reserve(b, n) == 0) {
            memmove(b->data + i + n, b->data + i, b->len - i);
            memmove(b->data + i, b->data + (from >= i ? from + n : from), n);
            b->len += n;
        }
        break;
    }
    case 3: { /* cut a stretch out */
        size_t n = 1 + rnd() % 32;
        if (n > b->len - i)
            n = b->len - i;
        memmove(b->data + i, b->data + i + n, b->len - i - n);
        b->len -= n;
        break;
    }
    default: { /* interesting bytes */
        static const unsigned char bytes[] = {0, 1, 0x7f, 0x80, 0xff};
        b->data[i] = (char)bytes[rnd() % sizeof bytes];
        break;
    }
    }
}

static int read_file(const char *path, hs_buf *b) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hs_buf_append(b, chunk, n);
    fclose(f);
    return b->failed ? -1 : 0;
}

int main(int argc, char **argv) {
    long iterations = 10000;
    state = 0x9E3779B97F4A7C15ull;
    int first = 1;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "-n") == 0)
            iterations = atol(argv[first + 1]);
        else if (strcmp(argv[first], "-s") == 0)
            state ^= strtoull(argv[first + 1], NULL, 10) * 0xBF58476D1CE4E5B9ull;
    }
    int seed_count = argc - first;
    if (seed_count <= 0) {
        fprintf(stderr, "usage: fuzz_pprof [-n ITERATIONS] [-s SEED] FILE...\n");
        return 2;
    }
    hs_buf *seeds = calloc((size_t)seed_count, sizeof *seeds);
    hs_buf *plain = calloc((size_t)seed_count, sizeof *plain); /* a gzip seed's protobuf */
    char err[256];
    for (int s = 0; s < seed_count; s++) {
        if (read_file(argv[first + s], &seeds[s]) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[first + s]);
            return 2;
        }
        if (!run_one((const uint8_t *)seeds[s].data, seeds[s].len))
            fprintf(stderr, "note: seed %s does not load\n", argv[first + s]);
        if (hs_gzip_detect(seeds[s].data, seeds[s].len))
            hs_gzip_decompress(seeds[s].data, seeds[s].len, &plain[s], (size_t)1 << 30, err);
    }
    hs_buf input, zipped;
    hs_buf_init(&input);
    hs_buf_init(&zipped);
    long loaded = 0;
    for (long i = 0; i < iterations; i++) {
        int s = (int)(rnd() % (unsigned)seed_count);
        int deep = plain[s].len && rnd() % 2;
        const hs_buf *from = deep ? &plain[s] : &seeds[s];
        input.len = 0;
        hs_buf_append(&input, from->data, from->len);
        for (int k = (int)(rnd() % 3); k >= 0; k--)
            mutate(&input);
        const hs_buf *test = &input;
        if (deep) {
            zipped.len = 0;
            hs_gzip_compress(input.data ? input.data : "", input.len, &zipped);
            test = &zipped;
        }
        loaded += run_one((const uint8_t *)(test->data ? test->data : ""), test->len);
    }
    printf("fuzz_pprof: %ld inputs, %ld loaded, no crash\n", iterations, loaded);
    for (int s = 0; s < seed_count; s++) {
        hs_buf_free(&seeds[s]);
        hs_buf_free(&plain[s]);
    }
    free(seeds);
    free(plain);
    hs_buf_free(&input);
    hs_buf_free(&zipped);
    return 0;
}

#endif
