/*
 * buf.h - a growable byte buffer, the one output sink of every renderer.
 *
 * Renderers append text or binary records to an hs_buf; the caller decides
 * whether the bytes go to a file, to Python as bytes/str, or to a test.
 * An allocation failure is sticky (buf->failed) so renderers can append
 * freely and check once at the end instead of after every call.
 */
#ifndef HOTSCOPE_BUF_H
#define HOTSCOPE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are no-ops */
} hs_buf;

void hs_buf_init(hs_buf *b);
void hs_buf_free(hs_buf *b);
/* Ensures room for `extra` more bytes; returns 0 on success, -1 on failure. */
int hs_buf_reserve(hs_buf *b, size_t extra);
void hs_buf_append(hs_buf *b, const void *bytes, size_t n);
void hs_buf_puts(hs_buf *b, const char *s);
void hs_buf_putc(hs_buf *b, char c);
/* printf-style append. */
void hs_buf_printf(hs_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Little-endian fixed-width integers, for binary formats. */
void hs_buf_put_u32le(hs_buf *b, uint32_t v);
void hs_buf_put_u64le(hs_buf *b, uint64_t v);
/* Appends `n` spaces (for column alignment and tree indentation). */
void hs_buf_pad(hs_buf *b, size_t n);

#endif
