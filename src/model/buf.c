/*
 * buf.c - the growable byte buffer every renderer writes into (buf.h).
 *
 * Failure is sticky rather than returned from each append: a renderer
 * emits hundreds of small pieces, and checking each one would bury the
 * format logic under error handling. Once an allocation fails, later
 * appends do nothing and the caller sees `failed` at the end.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs_buf_init(hs_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
    b->grow = NULL;
    b->owner = NULL;
}

void hs_buf_free(hs_buf *b) {
    if (!b->grow)
        free(b->data);
    hs_buf_init(b);
}

int hs_buf_reserve(hs_buf *b, size_t extra) {
    if (b->failed)
        return -1;
    /* +1 keeps room for a terminating NUL, so data can be handed out as a
     * C string without another reallocation. */
    if (extra >= SIZE_MAX - b->len) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *data = b->grow ? b->grow(b, cap) : realloc(b->data, cap);
    if (data == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

void hs_buf_append(hs_buf *b, const void *bytes, size_t n) {
    if (n == 0 || hs_buf_reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void hs_buf_puts(hs_buf *b, const char *s) {
    hs_buf_append(b, s, strlen(s));
}

void hs_buf_putc(hs_buf *b, char c) {
    /* Room to spare (and the NUL's): the common case, without a call. */
    if (b->len + 2 <= b->cap && !b->failed) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    hs_buf_append(b, &c, 1);
}

void hs_buf_printf(hs_buf *b, const char *fmt, ...) {
    if (b->failed)
        return;
    /* Format straight into the spare capacity; only when it does not fit
     * do we grow and format a second time. */
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    char *dst = room ? b->data + b->len : NULL;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        va_end(ap2);
        return;
    }
    if ((size_t)n >= room) {
        if (hs_buf_reserve(b, (size_t)n) != 0) {
            va_end(ap2);
            return;
        }
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void hs_buf_put_u32le(hs_buf *b, uint32_t v) {
    unsigned char bytes[4];
    for (int i = 0; i < 4; i++)
        bytes[i] = (unsigned char)(v >> (8 * i));
    hs_buf_append(b, bytes, sizeof bytes);
}

void hs_buf_put_u64le(hs_buf *b, uint64_t v) {
    unsigned char bytes[8];
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(v >> (8 * i));
    hs_buf_append(b, bytes, sizeof bytes);
}

void hs_buf_pad(hs_buf *b, size_t n) {
    if (n == 0 || hs_buf_reserve(b, n) != 0)
        return;
    memset(b->data + b->len, ' ', n);
    b->len += n;
    b->data[b->len] = '\0';
}
