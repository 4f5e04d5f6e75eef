/*
 * deflate.h - a DEFLATE compressor (RFC 1951), written for hotscope so the
 * build needs no zlib. gzip.h wraps its output in a gzip member.
 */
#ifndef HOTSCOPE_DEFLATE_H
#define HOTSCOPE_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

/* Appends the raw DEFLATE stream of data[0..n) (final block included) to
 * `out`. Returns 0, or -1 when memory runs out or n is 2^32 or more. */
int hs_deflate(const void *data, size_t n, hs_buf *out);

#endif
