/*
 * strtab.h - interned strings of a profile.
 *
 * Every name and file name in a profile is stored once and referred to by a
 * small integer id, so frames compare by id and a profile of a million nodes
 * does not carry a million copies of "/usr/lib/python3.12/json/decoder.py".
 * Strings are byte strings (UTF-8 in practice, but any bytes are kept as
 * they are: renderers escape them for their format).
 */
#ifndef HOTSCOPE_STRTAB_H
#define HOTSCOPE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t hs_id;
#define HS_NONE ((hs_id)0xFFFFFFFFu)

typedef struct {
    char **strings;      /* id -> NUL-terminated copy */
    size_t *lengths;     /* id -> length in bytes (strings may hold NULs) */
    size_t count, cap;
    hs_id *slots;        /* open-addressing hash of ids; HS_NONE = empty */
    size_t slot_count;   /* power of two */
} hs_strtab;

void hs_strtab_init(hs_strtab *t);
void hs_strtab_free(hs_strtab *t);
/* Returns the id of the string, adding it if new; HS_NONE on allocation failure. */
hs_id hs_strtab_intern(hs_strtab *t, const char *s, size_t len);
const char *hs_strtab_get(const hs_strtab *t, hs_id id, size_t *len);

/* 64-bit FNV-1a; shared by every hash table of the model. */
uint64_t hs_hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t hs_hash_mix(uint64_t h, uint64_t v);

#endif
