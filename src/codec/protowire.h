/*
 * protowire.h - the protocol buffers wire format
 * (https://protobuf.dev/programming-guides/encoding/): writing fields to
 * an hs_buf, and a bounds-checked reader for untrusted messages. Used by
 * the pprof writer (render/pprof.c) and reader (read/pprof_read.c).
 *
 * A message is a sequence of fields, each a key varint
 * (field number << 3 | wire type) and a value: a varint (type 0), 8 bytes
 * (type 1), a length varint and that many bytes (type 2: strings,
 * sub-messages, packed repeated numbers) or 4 bytes (type 5). Types 3 and 4
 * (groups) are deprecated and unused by profile.proto; the reader refuses
 * them.
 */
#ifndef HOTSCOPE_PROTOWIRE_H
#define HOTSCOPE_PROTOWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

enum {
    HS_PB_VARINT = 0,
    HS_PB_FIXED64 = 1,
    HS_PB_LEN = 2,
    HS_PB_FIXED32 = 5,
};

/* A varint takes at most 10 bytes (64 bits, 7 per byte). */
#define HS_PB_MAX_VARINT 10

/* ---- writing -------------------------------------------------------------- */

/* Writes v as a varint at p (room for HS_PB_MAX_VARINT bytes); returns its length. */
static inline size_t hs_pb_encode_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t hs_pb_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void hs_pb_put_varint(hs_buf *b, uint64_t v);
/* A varint field; int64 values go as their two's complement (10 bytes if
 * negative), as protobuf encodes int64. */
void hs_pb_put_uint_field(hs_buf *b, uint32_t field, uint64_t v);
/* A length-delimited field: bytes, a string or an encoded sub-message. */
void hs_pb_put_bytes_field(hs_buf *b, uint32_t field, const void *data, size_t len);

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    const uint8_t *p, *end;
} hs_pb_reader;

typedef struct {
    uint32_t field;
    int wire;
    uint64_t u;           /* a varint's or fixed field's value */
    const uint8_t *data;  /* a length-delimited field's bytes ... */
    size_t len;           /* ... and their count */
} hs_pb_field;

static inline hs_pb_reader hs_pb_reader_of(const void *data, size_t len) {
    hs_pb_reader r = {(const uint8_t *)data, (const uint8_t *)data + len};
    return r;
}

/* Reads one varint. Returns 0, or -1 (message in err, at least 200 bytes)
 * when the data ends inside it or it is longer than 10 bytes or 64 bits. */
int hs_pb_read_varint(hs_pb_reader *r, uint64_t *v, char *err);

/* Reads the next field of the message. Returns 1 with *f filled, 0 at the
 * end of the message, -1 on malformed data (message in err): a truncated
 * field, a length past the end, field number 0, a group or an unknown
 * wire type. A length-delimited field's bytes lie wholly within the
 * message. */
int hs_pb_next(hs_pb_reader *r, hs_pb_field *f, char *err);

#endif
