/*
 * linetable.h - the line a code object is executing, from its line table,
 * for the line table formats of each CPython version the sampler reads.
 *
 * The sampler copies a code object's line table out of the target once
 * (code cache, sampler.c) and then maps instruction offsets to lines with
 * these functions, which touch only that local copy.
 *
 * Formats (facts from CPython's own documentation of them):
 *  - 3.10: co_linetable, PEP 626: (byte delta, signed line delta) pairs,
 *    line delta -128 = no line; Objects/lnotab_notes.txt (3.10).
 *  - 3.11+: the location table, Objects/locations.md (3.11, 3.12, 3.13):
 *    entries of 1-8 code units with a code in bits 3-6 of the first byte.
 */
#ifndef HOTSCOPE_LINETABLE_H
#define HOTSCOPE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HS_LINETABLE_310 = 0,  /* PEP 626 co_linetable */
    HS_LINETABLE_311 = 1,  /* location table, 3.11 and later */
} hs_linetable_format;

/* The line executing at byte offset `offset` in the code (offset in bytes
 * from the start of the bytecode, i.e. code unit index * 2), or -1 when the
 * table gives no line for it (or the offset is past the end). */
int hs_linetable_line(hs_linetable_format format, const uint8_t *table, size_t len,
                      int first_line, size_t offset);

#endif
