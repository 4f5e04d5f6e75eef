/*
 * codecache.h - what the sampler knows about each code object it has met,
 * keyed by the object's address: file, qualified name, first line and a
 * copy of its line table, plus the profile frames already made for it.
 *
 * Steady-state sampling then reads only a code object's header, to check
 * that the address still holds the same code object (its type and the
 * pointers to its name, file and line table are the fingerprint; a freed
 * and reused address changes them) - never its strings or line table.
 */
#ifndef HOTSCOPE_CODECACHE_H
#define HOTSCOPE_CODECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "target.h"

#define HS_CODE_MEMO 4

typedef struct {
    uint64_t addr;            /* 0: empty slot */
    uint64_t fingerprint[4];
    hs_id name, file;         /* interned in the profile */
    int32_t first_line;
    uint8_t *linetable;
    size_t linetable_len;
    /* With a layout's return_opcode: one bit per code unit, set where the
     * bytecode held that opcode when resolved (NULL: not known). */
    uint8_t *returns;
    size_t code_units;
    int32_t memo_offset[HS_CODE_MEMO]; /* recent instruction offsets ... */
    hs_id memo_frame[HS_CODE_MEMO];    /* ... and their frames */
    unsigned memo_next;
} hs_code_entry;

typedef struct {
    hs_code_entry *slots;
    size_t cap, count;
    uint64_t resolved, invalidated;
} hs_code_cache;

int hs_codecache_init(hs_code_cache *c);
void hs_codecache_free(hs_code_cache *c);

/* The entry for the code object at addr, given `header` = the first
 * hs_pylayout_code_span() bytes read from it. Resolves (or re-resolves,
 * when the fingerprint changed) by reading the strings and line table.
 * NULL when this is not a readable code object (a torn read). */
hs_code_entry *hs_codecache_get(hs_code_cache *c, const hs_target *t, hs_profile *p,
                                uint64_t addr, const uint8_t *header);

/* Whether the instruction at a byte offset is the layout's return_opcode
 * (a frame left there has returned, or is returning). */
int hs_codecache_at_return(const hs_code_entry *e, int32_t offset);

/* The profile frame (function + line) for a byte offset in the code. */
hs_id hs_codecache_frame(hs_code_entry *e, const hs_target *t, hs_profile *p, int32_t offset);

#endif
