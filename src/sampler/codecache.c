/*
 * codecache.c - code object address -> resolved function (see codecache.h).
 * Open addressing with linear probing; entries are never deleted, only
 * refreshed in place when their address comes to hold another object, so
 * memory is bounded by the number of distinct code objects seen.
 */
#include "codecache.h"

#include <stdlib.h>
#include <string.h>

#include "linetable.h"
#include "pyobj.h"

#define MAX_LINETABLE (1u << 20)

int hs_codecache_init(hs_code_cache *c) {
    memset(c, 0, sizeof *c);
    c->cap = 256;
    c->slots = calloc(c->cap, sizeof *c->slots);
    return c->slots ? 0 : -1;
}

void hs_codecache_free(hs_code_cache *c) {
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].linetable);
        free(c->slots[i].returns);
    }
    free(c->slots);
    memset(c, 0, sizeof *c);
}

static size_t slot_of(uint64_t addr, size_t cap) {
    uint64_t h = addr >> 3;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static int rehash(hs_code_cache *c) {
    size_t cap = c->cap * 2;
    hs_code_entry *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->slots[i].addr)
            continue;
        size_t j = slot_of(c->slots[i].addr, cap);
        while (slots[j].addr)
            j = (j + 1) & (cap - 1);
        slots[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->cap = cap;
    return 0;
}

static uint64_t field(const uint8_t *header, int64_t off, size_t size) {
    uint64_t v = 0;
    if (off >= 0)
        memcpy(&v, header + off, size);
    return v;
}

static void fingerprint_of(const hs_pylayout *l, const uint8_t *header, uint64_t fp[4]) {
    fp[0] = field(header, l->object_type, 8);
    fp[1] = field(header, l->code_filename, 8) ^ (field(header, l->code_firstlineno, 4) << 48);
    fp[2] = field(header, l->code_qualname >= 0 ? l->code_qualname : l->code_name, 8);
    fp[3] = field(header, l->code_linetable, 8);
}

/* The bitmap of code units holding the return opcode, from a copy of the
 * bytecode (co_code_adaptive, ob_size code units: _PyCode_NBYTES in
 * Include/cpython/code.h, 3.11). Specializing rewrites opcodes in place but
 * never into or out of the return opcode, so one copy stays true. Bytes of
 * inline caches can read as the opcode too: a frame is never left on one
 * but a caller's last (3.11's CALL stores prev_instr there), where the
 * byte is a count of arguments; 83 of them is a false alarm worth no more. */
static int find_returns(hs_code_entry *e, const hs_target *t, uint64_t addr, const uint8_t *header) {
    const hs_pylayout *l = &t->layout;
    int64_t units = (int64_t)field(header, l->varobject_size, 8);
    if (units <= 0 || units > (int64_t)MAX_LINETABLE)
        return -1;
    uint8_t *code = malloc((size_t)units * 2);
    uint8_t *bits = calloc(((size_t)units + 7) / 8, 1);
    if (!code || !bits ||
        hs_proc_read(&t->proc, addr + (uint64_t)l->code_code_adaptive, code, (size_t)units * 2) != 0) {
        free(code);
        free(bits);
        return -1;
    }
    for (int64_t u = 0; u < units; u++)
        if (code[2 * u] == l->return_opcode)
            bits[u / 8] |= (uint8_t)(1u << (u % 8));
    free(code);
    free(e->returns);
    e->returns = bits;
    e->code_units = (size_t)units;
    return 0;
}

int hs_codecache_at_return(const hs_code_entry *e, int32_t offset) {
    if (!e->returns || offset < 0 || (size_t)offset / 2 >= e->code_units)
        return 0;
    size_t unit = (size_t)offset / 2;
    return (e->returns[unit / 8] >> (unit % 8)) & 1;
}

static int resolve(hs_code_entry *e, const hs_target *t, hs_profile *p, uint64_t addr,
                   const uint8_t *header) {
    const hs_pylayout *l = &t->layout;
    char name[512], file[1024];
    uint64_t name_ptr = field(header, l->code_qualname >= 0 ? l->code_qualname : l->code_name, 8);
    if (hs_read_str(&t->proc, l, name_ptr, name, sizeof name) < 0)
        return -1;
    if (hs_read_str(&t->proc, l, field(header, l->code_filename, 8), file, sizeof file) < 0)
        return -1;
    uint8_t *table = NULL;
    size_t table_len = 0;
    if (hs_read_bytes(&t->proc, l, field(header, l->code_linetable, 8), MAX_LINETABLE, &table,
                      &table_len) != 0)
        return -1;
    hs_id name_id = hs_intern_cstr(p, name), file_id = hs_intern_cstr(p, file);
    if (name_id == HS_NONE || file_id == HS_NONE) {
        free(table);
        return -1;
    }
    if (l->return_opcode && find_returns(e, t, addr, header) != 0) {
        free(table);
        return -1;
    }
    free(e->linetable);
    e->name = name_id;
    e->file = file_id;
    e->first_line = (int32_t)field(header, l->code_firstlineno, 4);
    e->linetable = table;
    e->linetable_len = table_len;
    for (int i = 0; i < HS_CODE_MEMO; i++)
        e->memo_frame[i] = HS_NONE;
    e->memo_next = 0;
    return 0;
}

hs_code_entry *hs_codecache_get(hs_code_cache *c, const hs_target *t, hs_profile *p,
                                uint64_t addr, const uint8_t *header) {
    const hs_pylayout *l = &t->layout;
    uint64_t fp[4];
    fingerprint_of(l, header, fp);
    if (t->code_type && fp[0] != t->code_type)
        return NULL; /* not a code object (any more): a torn read */
    size_t i = slot_of(addr, c->cap);
    while (c->slots[i].addr && c->slots[i].addr != addr)
        i = (i + 1) & (c->cap - 1);
    hs_code_entry *e = &c->slots[i];
    if (e->addr == addr) {
        if (memcmp(e->fingerprint, fp, sizeof fp) == 0)
            return e;
        c->invalidated++;
        if (resolve(e, t, p, addr, header) != 0) {
            /* keep the slot, but make sure it never matches stale data */
            memset(e->fingerprint, 0, sizeof e->fingerprint);
            return NULL;
        }
        memcpy(e->fingerprint, fp, sizeof fp);
        c->resolved++;
        return e;
    }
    hs_code_entry fresh;
    memset(&fresh, 0, sizeof fresh);
    if (resolve(&fresh, t, p, addr, header) != 0)
        return NULL;
    if ((c->count + 1) * 2 > c->cap) {
        if (rehash(c) != 0) {
            free(fresh.linetable);
            free(fresh.returns);
            return NULL;
        }
        i = slot_of(addr, c->cap);
        while (c->slots[i].addr)
            i = (i + 1) & (c->cap - 1);
    }
    fresh.addr = addr;
    memcpy(fresh.fingerprint, fp, sizeof fp);
    c->slots[i] = fresh;
    c->count++;
    c->resolved++;
    return &c->slots[i];
}

hs_id hs_codecache_frame(hs_code_entry *e, const hs_target *t, hs_profile *p, int32_t offset) {
    for (int i = 0; i < HS_CODE_MEMO; i++)
        if (e->memo_frame[i] != HS_NONE && e->memo_offset[i] == offset)
            return e->memo_frame[i];
    int line = offset < 0 ? e->first_line
                          : hs_linetable_line(t->layout.linetable, e->linetable, e->linetable_len,
                                              e->first_line, (size_t)offset);
    if (line < 0)
        line = e->first_line;
    hs_id frame = hs_frame_intern(p, e->name, e->file, e->first_line, line, HS_KIND_PYTHON);
    if (frame != HS_NONE) {
        unsigned k = e->memo_next++ % HS_CODE_MEMO;
        e->memo_offset[k] = offset;
        e->memo_frame[k] = frame;
    }
    return frame;
}
