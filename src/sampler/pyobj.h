/*
 * pyobj.h - reading simple Python objects out of another process: str
 * (as UTF-8), bytes, int, float and a short repr of anything else, with the
 * target's layout. Used for code object names and line tables (codecache.c)
 * and for local variables in `hotscope dump --locals`.
 *
 * Everything read is checked against sane bounds: a torn or freed object
 * gives an error, never an unbounded read.
 */
#ifndef HOTSCOPE_PYOBJ_H
#define HOTSCOPE_PYOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "pylayout.h"
#include "proc.h"

/* A str object as UTF-8 into out (NUL-terminated, truncated to outlen-1
 * bytes on a character boundary). Returns the length written or -1. */
int hs_read_str(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out, size_t outlen);

/* A bytes object's contents, malloc'ed into *data (at most max bytes).
 * Returns 0 or -1. */
int hs_read_bytes(const hs_proc *p, const hs_pylayout *l, uint64_t addr, size_t max,
                  uint8_t **data, size_t *len);

/* The name of an object's type (tp_name) into out. Returns 0 or -1. */
int hs_read_type_name(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out,
                      size_t outlen);

/* A short, safe repr: str, int (up to 64 bits), float, bool, None, bytes
 * length, else "<TYPE object at 0xADDR>". Never runs code in the target.
 * Returns 0, or -1 when not even the type could be read. */
int hs_read_repr(const hs_proc *p, const hs_pylayout *l, uint64_t addr, char *out, size_t outlen);

#endif
