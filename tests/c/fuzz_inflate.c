/*
 * fuzz_inflate.c - a libFuzzer harness for the DEFLATE decoder and the
 * gzip layer around it (src/codec/), under the pprof reader. Fuzzing
 * .pb.gz files through fuzz_pprof.c rarely gets far into a stream: a
 * mutated member fails its CRC-32 check after inflating; here the bytes
 * are the raw DEFLATE stream itself, so coverage guides the mutations
 * through block types, Huffman tables and back-references.
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *         tests/c/fuzz_inflate.c src/codec/?*.c src/model/buf.c -lm -o fuzz_inflate
 *
 * Each input must decode or be refused with a one-line message; what
 * decodes must come back the same through our own deflate and inflate;
 * the same bytes as a gzip member body must not crash either. Anything
 * else aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/deflate.h"
#include "../../src/codec/gzip.h"
#include "../../src/codec/inflate.h"

#define MAX_OUT ((size_t)1 << 24)

static void refused_in_one_line(const char *err) {
    if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        fprintf(stderr, "fuzz_inflate: a refusal without a one-line reason: %s\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256] = {0};
    size_t consumed = 0;
    hs_buf out, again, packed;
    hs_buf_init(&out);
    hs_buf_init(&again);
    hs_buf_init(&packed);
    if (hs_inflate(data, size, &consumed, &out, MAX_OUT, err) == 0) {
        if (consumed == 0 || consumed > size)
            abort();
        /* Our own deflate of what decoded must inflate to the same bytes. */
        if (hs_deflate(out.data ? out.data : "", out.len, &packed) != 0)
            abort();
        if (hs_inflate((const uint8_t *)packed.data, packed.len, &consumed, &again, MAX_OUT, err) != 0 ||
            again.len != out.len || (out.len && memcmp(again.data, out.data, out.len) != 0)) {
            fprintf(stderr, "fuzz_inflate: deflate/inflate round trip differs (%s)\n", err);
            abort();
        }
    } else {
        refused_in_one_line(err);
    }
    /* The same bytes behind a gzip header: decoded, then refused at the
     * CRC unless the fuzzer found the right one. */
    hs_buf gz, plain;
    hs_buf_init(&gz);
    hs_buf_init(&plain);
    static const char header[10] = {0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    hs_buf_append(&gz, header, sizeof header);
    hs_buf_append(&gz, data, size);
    err[0] = '\0';
    if (!gz.failed && hs_gzip_decompress(gz.data, gz.len, &plain, MAX_OUT, err) != 0)
        refused_in_one_line(err);
    hs_buf_free(&out);
    hs_buf_free(&again);
    hs_buf_free(&packed);
    hs_buf_free(&gz);
    hs_buf_free(&plain);
    return 0;
}
