/*
 * gzip.h - the gzip file format (RFC 1952) around DEFLATE data
 * (deflate.h, inflate.h): what .pb.gz profiles are.
 */
#ifndef HOTSCOPE_GZIP_H
#define HOTSCOPE_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

/* True if data starts with the gzip magic bytes (RFC 1952 2.3.1). */
int hs_gzip_detect(const void *data, size_t n);

/* Appends one gzip member holding data[0..n) to `out`: no file name, no
 * time stamp, so the same data always gives the same bytes.
 * Returns 0, or -1 when memory runs out. */
int hs_gzip_compress(const void *data, size_t n, hs_buf *out);

/* Appends the decompressed contents of every gzip member of in[0..n)
 * (concatenated members are one file, RFC 1952 2.2) to `out`, checking
 * each member's header, CRC-32 and size. At most max_out bytes in all.
 * Returns 0, or -1 with a one-line message in err (at least 200 bytes). */
int hs_gzip_decompress(const void *in, size_t n, hs_buf *out, size_t max_out, char *err);

#endif
