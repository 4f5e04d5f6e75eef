/*
 * inflate.h - a DEFLATE decompressor (RFC 1951) for files hotscope reads,
 * which may be truncated, corrupt or hostile: every read is bounds-checked
 * and the output is capped.
 */
#ifndef HOTSCOPE_INFLATE_H
#define HOTSCOPE_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/buf.h"

/* Decodes one raw DEFLATE stream at the start of in[0..n), appending what
 * it decodes to `out`. Back-references reach only into this stream's own
 * output. At most `max_out` bytes are produced: a stream that would make
 * more is refused (a small file can claim gigabytes).
 * On success returns 0 and sets *consumed to the number of input bytes the
 * stream took (its last byte included). On failure returns -1 with a
 * one-line message in err (at least 200 bytes); `out` may then hold part
 * of the output. */
int hs_inflate(const uint8_t *in, size_t n, size_t *consumed, hs_buf *out, size_t max_out, char *err);

#endif
