/*
 * protowire.c - the protocol buffers wire format: the out-of-line halves
 * of protowire.h. Reference: https://protobuf.dev/programming-guides/encoding/
 * ("Base 128 Varints", "Message Structure", "Length-Delimited Records").
 */
#include "protowire.h"

#include <stdio.h>

void hs_pb_put_varint(hs_buf *b, uint64_t v) {
    uint8_t tmp[HS_PB_MAX_VARINT];
    hs_buf_append(b, tmp, hs_pb_encode_varint(tmp, v));
}

void hs_pb_put_uint_field(hs_buf *b, uint32_t field, uint64_t v) {
    uint8_t tmp[2 * HS_PB_MAX_VARINT];
    size_t n = hs_pb_encode_varint(tmp, (uint64_t)field << 3 | HS_PB_VARINT);
    n += hs_pb_encode_varint(tmp + n, v);
    hs_buf_append(b, tmp, n);
}

void hs_pb_put_bytes_field(hs_buf *b, uint32_t field, const void *data, size_t len) {
    uint8_t tmp[2 * HS_PB_MAX_VARINT];
    size_t n = hs_pb_encode_varint(tmp, (uint64_t)field << 3 | HS_PB_LEN);
    n += hs_pb_encode_varint(tmp + n, len);
    hs_buf_append(b, tmp, n);
    hs_buf_append(b, data, len);
}

int hs_pb_read_varint(hs_pb_reader *r, uint64_t *v, char *err) {
    uint64_t value = 0;
    for (unsigned i = 0; i < HS_PB_MAX_VARINT; i++) {
        if (r->p >= r->end) {
            snprintf(err, 200, "protobuf: truncated varint");
            return -1;
        }
        uint8_t byte = *r->p++;
        /* The tenth byte holds bit 63 only. */
        if (i == HS_PB_MAX_VARINT - 1 && byte > 1) {
            snprintf(err, 200, "protobuf: varint overflows 64 bits");
            return -1;
        }
        value |= (uint64_t)(byte & 0x7F) << (7 * i);
        if (!(byte & 0x80)) {
            *v = value;
            return 0;
        }
    }
    snprintf(err, 200, "protobuf: varint longer than 10 bytes");
    return -1;
}

int hs_pb_next(hs_pb_reader *r, hs_pb_field *f, char *err) {
    if (r->p >= r->end)
        return 0;
    uint64_t key;
    if (hs_pb_read_varint(r, &key, err) != 0)
        return -1;
    uint64_t field = key >> 3;
    f->wire = (int)(key & 7);
    /* Field numbers are 1 .. 2^29 - 1. */
    if (field == 0 || field > 0x1FFFFFFF) {
        snprintf(err, 200, "protobuf: invalid field number %llu", (unsigned long long)field);
        return -1;
    }
    f->field = (uint32_t)field;
    f->data = NULL;
    f->len = 0;
    f->u = 0;
    switch (f->wire) {
    case HS_PB_VARINT:
        return hs_pb_read_varint(r, &f->u, err) == 0 ? 1 : -1;
    case HS_PB_FIXED64:
    case HS_PB_FIXED32: {
        size_t size = f->wire == HS_PB_FIXED64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < size) {
            snprintf(err, 200, "protobuf: truncated field %u", f->field);
            return -1;
        }
        for (size_t i = 0; i < size; i++)
            f->u |= (uint64_t)r->p[i] << (8 * i);
        r->p += size;
        return 1;
    }
    case HS_PB_LEN: {
        uint64_t len;
        if (hs_pb_read_varint(r, &len, err) != 0)
            return -1;
        if (len > (uint64_t)(r->end - r->p)) {
            snprintf(err, 200, "protobuf: field %u declares %llu bytes but only %zu remain", f->field,
                     (unsigned long long)len, (size_t)(r->end - r->p));
            return -1;
        }
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    default:
        snprintf(err, 200, "protobuf: unsupported wire type %d (field %u)", f->wire, f->field);
        return -1;
    }
}
