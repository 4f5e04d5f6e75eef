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

typedef struct hs_buf hs_buf;

/* Grows a buffer's storage to at least `cap` bytes, the first len kept:
 * returns the new data, or NULL (the buffer then fails). */
typedef char *(*hs_buf_grow_fn)(hs_buf *b, size_t cap);

struct hs_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are no-ops */
    /* NULL: the storage is malloc'd, and hs_buf_free frees it. Otherwise
     * it belongs to `owner` and grows through `grow`, and hs_buf_free
     * leaves it to whoever set them: src/pymod has renderers write into a
     * Python bytes object, so that a 200 MB output is not copied once more
     * (fresh memory is slow to touch on a VM). */
    hs_buf_grow_fn grow;
    void *owner;
};

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
