/*
 * gzip.c - gzip members (RFC 1952) around the DEFLATE streams of
 * deflate.c and inflate.c.
 *
 * A member (RFC 1952 2.3) is: a 10-byte header (ID1 ID2 CM FLG MTIME XFL
 * OS), optional fields selected by FLG (FEXTRA, FNAME, FCOMMENT, FHCRC,
 * in that order), the DEFLATE data, then CRC32 and ISIZE (the data's
 * length mod 2^32), both little-endian. A file is one or more members one
 * after another; their contents are concatenated (2.2).
 *
 * Reading checks everything a corrupt file could get wrong: the magic,
 * the method, reserved flag bits, the header CRC when present, the data
 * CRC and ISIZE, and that nothing but further members follows.
 */
#include "gzip.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32.h"
#include "deflate.h"
#include "inflate.h"

/* RFC 1952 2.3.1 */
#define GZIP_ID1 0x1f
#define GZIP_ID2 0x8b
#define GZIP_CM_DEFLATE 8
#define GZIP_FTEXT 0x01
#define GZIP_FHCRC 0x02
#define GZIP_FEXTRA 0x04
#define GZIP_FNAME 0x08
#define GZIP_FCOMMENT 0x10
#define GZIP_FRESERVED 0xe0
#define GZIP_OS_UNKNOWN 255

int hs_gzip_detect(const void *data, size_t n) {
    const uint8_t *p = data;
    return n >= 2 && p[0] == GZIP_ID1 && p[1] == GZIP_ID2;
}

static void put_u32le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32le(const uint8_t *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int hs_gzip_compress(const void *data, size_t n, hs_buf *out) {
    /* MTIME 0 means "no time stamp" (2.3.1); XFL 0; OS unknown. */
    const uint8_t header[10] = {GZIP_ID1, GZIP_ID2, GZIP_CM_DEFLATE, 0, 0, 0, 0, 0, 0, GZIP_OS_UNKNOWN};
    hs_buf_append(out, header, sizeof header);
    if (out->failed || hs_deflate(data, n, out) != 0)
        return -1;
    uint8_t trailer[8];
    put_u32le(trailer, hs_crc32(0, data, n));
    put_u32le(trailer + 4, (uint32_t)n); /* ISIZE: the size mod 2^32 */
    hs_buf_append(out, trailer, sizeof trailer);
    return out->failed ? -1 : 0;
}

static int fail(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int fail(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, 200, fmt, ap);
    va_end(ap);
    return -1;
}

/* The length of the zero-terminated field at in[pos..n), terminator
 * included, or 0 if the input ends first. */
static size_t zero_terminated(const uint8_t *in, size_t n, size_t pos) {
    const uint8_t *end = memchr(in + pos, 0, n - pos);
    return end ? (size_t)(end - (in + pos)) + 1 : 0;
}

/* Reads the member starting at in[0..n); sets *used to its length. */
static int read_member(const uint8_t *in, size_t n, size_t *used, hs_buf *out, size_t max_out, char *err) {
    if (n < 10)
        return fail(err, "gzip: truncated header");
    if (in[0] != GZIP_ID1 || in[1] != GZIP_ID2)
        return fail(err, "gzip: not gzip data (bad magic bytes)");
    if (in[2] != GZIP_CM_DEFLATE)
        return fail(err, "gzip: unknown compression method %u", in[2]);
    unsigned flags = in[3];
    if (flags & GZIP_FRESERVED)
        return fail(err, "gzip: reserved header flags set (0x%02x)", flags);
    size_t pos = 10;
    if (flags & GZIP_FEXTRA) { /* 2.3.1.1: XLEN, then XLEN bytes */
        if (n - pos < 2)
            return fail(err, "gzip: truncated header");
        size_t xlen = in[pos] | (size_t)in[pos + 1] << 8;
        pos += 2;
        if (n - pos < xlen)
            return fail(err, "gzip: truncated header");
        pos += xlen;
    }
    if (flags & GZIP_FNAME) {
        size_t len = zero_terminated(in, n, pos);
        if (len == 0)
            return fail(err, "gzip: truncated header (file name)");
        pos += len;
    }
    if (flags & GZIP_FCOMMENT) {
        size_t len = zero_terminated(in, n, pos);
        if (len == 0)
            return fail(err, "gzip: truncated header (comment)");
        pos += len;
    }
    if (flags & GZIP_FHCRC) { /* the two low bytes of the header's CRC-32 */
        if (n - pos < 2)
            return fail(err, "gzip: truncated header");
        unsigned stored = in[pos] | (unsigned)in[pos + 1] << 8;
        if (stored != (hs_crc32(0, in, pos) & 0xFFFFu))
            return fail(err, "gzip: header CRC mismatch");
        pos += 2;
    }
    size_t start = out->len, consumed = 0;
    if (hs_inflate(in + pos, n - pos, &consumed, out, max_out, err) != 0)
        return -1;
    pos += consumed;
    if (n - pos < 8)
        return fail(err, "gzip: truncated data (CRC-32 and size missing)");
    size_t size = out->len - start;
    if (get_u32le(in + pos) != hs_crc32(0, size ? out->data + start : "", size))
        return fail(err, "gzip: CRC-32 mismatch: the data is corrupt");
    if (get_u32le(in + pos + 4) != (uint32_t)size)
        return fail(err, "gzip: size mismatch: the data is corrupt");
    *used = pos + 8;
    return 0;
}

int hs_gzip_decompress(const void *input, size_t n, hs_buf *out, size_t max_out, char *err) {
    const uint8_t *in = input;
    size_t pos = 0, start = out->len;
    do {
        size_t used = 0;
        if (read_member(in + pos, n - pos, &used, out, max_out - (out->len - start), err) != 0)
            return -1;
        pos += used;
    } while (pos < n && hs_gzip_detect(in + pos, n - pos));
    if (pos < n)
        return fail(err, "gzip: %zu bytes of trailing garbage after the compressed data", n - pos);
    return 0;
}
