/*
 * pprof_read.h - pprof files (profile.proto, gzip-compressed or not) back
 * into the profile model: hotscope's own, exactly, and foreign ones (Go's
 * runtime/pprof, Pyroscope, py-spy) as well as the format allows.
 */
#ifndef HOTSCOPE_PPROF_READ_H
#define HOTSCOPE_PPROF_READ_H

#include <stddef.h>

#include "../model/model.h"

/* The most bytes a compressed pprof file may decompress to. */
#define HS_PPROF_MAX_DECOMPRESSED ((size_t)1 << 30)

/* Reads data[0..n). Returns a new profile (the caller frees it), or NULL
 * with a one-line message in err (at least 200 bytes) naming what is wrong:
 * the input is untrusted and every malformation is reported, never
 * followed. */
hs_profile *hs_read_pprof(const void *data, size_t n, char *err);

#endif
