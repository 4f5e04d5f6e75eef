/*
 * ptrtable.h - the memory engine's table of live blocks: address ->
 * (size, stack node). One insert per allocation and one removal per free,
 * so it is an open-addressing table with linear probing and backward-shift
 * deletion (no tombstones: a table that sees millions of frees stays as
 * fast as a fresh one), kept at most half full.
 *
 * An entry is 16 bytes (address, node, size up to 4 GiB - 2; larger sizes
 * sit in a small side list), so the table costs the program's caches as
 * little as it can: it is touched on every allocation and free.
 *
 * Its memory comes from libc directly, never from the Python allocators it
 * is hooked into. Not thread-safe: the GIL holder owns it.
 */
#ifndef HOTSCOPE_PTRTABLE_H
#define HOTSCOPE_PTRTABLE_H

#include <stddef.h>
#include <stdint.h>

/* What callers see of a block. */
typedef struct {
    uintptr_t addr; /* 0 = none */
    uint64_t size;
    uint32_t node;  /* stack node (stacktrie.h) that made the block */
} hs_ptr_entry;

typedef struct {
    uintptr_t addr; /* 0 = empty slot (no allocator returns address 0) */
    uint32_t node;
    uint32_t size;  /* HS_PTR_BIG: the size is in the side list */
} hs_ptr_slot;

#define HS_PTR_BIG 0xFFFFFFFFu

typedef struct {
    hs_ptr_slot *slots;
    size_t mask;  /* slot count - 1; the count is a power of two */
    size_t count; /* live entries */
    size_t limit; /* the count that makes the table grow (70% of the slots) */
    hs_ptr_entry *big; /* blocks of HS_PTR_BIG bytes or more */
    size_t big_count, big_cap;
} hs_ptrtable;

/* The home slot of `addr`. Addresses are 16-byte aligned, so the low bits
 * carry nothing; a multiplicative hash spreads the rest (Fibonacci
 * hashing). */
static inline size_t hs_ptrtable_slot_of(uintptr_t addr, size_t mask) {
    uint64_t h = (uint64_t)(addr >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & mask;
}

/* Starts loading the cache lines where `addr`'s entry is or would go, so
 * the put or take that follows other work finds them there: the table is
 * touched at random places, and the program's own work keeps pushing it
 * out of the cache. The home slot's line and the next three slots' (a
 * probe or a take's backward shift usually reads a slot or two past the
 * home one, in the next line a quarter of the time). */
static inline void hs_ptrtable_prefetch(const hs_ptrtable *t, uintptr_t addr) {
    size_t s = hs_ptrtable_slot_of(addr, t->mask);
    __builtin_prefetch(&t->slots[s], 1, 3);
    __builtin_prefetch(&t->slots[(s + 3) & t->mask], 1, 3);
}

/* 0, or -1 when memory runs out. */
int hs_ptrtable_init(hs_ptrtable *t);
void hs_ptrtable_free(hs_ptrtable *t);

/* Records a block. If `addr` is already present (a free the engine never
 * saw), the old entry is replaced and returned in *replaced (replaced->addr
 * != 0). Returns 0, or -1 when the table cannot grow (nothing recorded).
 * Inline, as take: called once per event. */
static inline int hs_ptrtable_put(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                                  hs_ptr_entry *replaced);

/* Removes a block; returns 1 with its entry in *out, or 0 when unknown
 * (allocated before tracing started, or not recorded). */
static inline int hs_ptrtable_take(hs_ptrtable *t, uintptr_t addr, hs_ptr_entry *out);

/* ---- out of line (ptrtable.c) ---- */

/* put when the table must grow first or the size is HS_PTR_BIG or more */
int hs_ptrtable_put_slow(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                         hs_ptr_entry *replaced);
/* the size of a block of HS_PTR_BIG bytes or more, out of the side list */
uint64_t hs_ptrtable_big_take(hs_ptrtable *t, uintptr_t addr);

static inline int hs_ptrtable_put(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                                  hs_ptr_entry *replaced) {
    if (t->count >= t->limit || size >= HS_PTR_BIG)
        return hs_ptrtable_put_slow(t, addr, size, node, replaced);
    size_t mask = t->mask, s = hs_ptrtable_slot_of(addr, mask);
    hs_ptr_slot *slots = t->slots;
    while (slots[s].addr && slots[s].addr != addr)
        s = (s + 1) & mask;
    hs_ptr_slot *e = &slots[s];
    if (e->addr) {
        uint64_t old = e->size == HS_PTR_BIG ? hs_ptrtable_big_take(t, addr) : e->size;
        *replaced = (hs_ptr_entry){addr, old, e->node};
    } else {
        replaced->addr = 0;
        t->count++;
    }
    *e = (hs_ptr_slot){addr, node, (uint32_t)size};
    return 0;
}

static inline int hs_ptrtable_take(hs_ptrtable *t, uintptr_t addr, hs_ptr_entry *out) {
    size_t mask = t->mask;
    size_t s = hs_ptrtable_slot_of(addr, mask);
    hs_ptr_slot *slots = t->slots;
    while (slots[s].addr != addr) {
        if (!slots[s].addr)
            return 0;
        s = (s + 1) & mask;
    }
    const hs_ptr_slot *e = &slots[s];
    *out = (hs_ptr_entry){addr, e->size == HS_PTR_BIG ? hs_ptrtable_big_take(t, addr) : e->size,
                          e->node};
    t->count--;
    /* Backward shift (Knuth, TAOCP vol. 3, 6.4, Algorithm R): pull each
     * later entry of the run into the hole when its home slot does not lie
     * cyclically in (hole, its slot]; no tombstones. */
    size_t hole = s, j = s;
    for (;;) {
        j = (j + 1) & mask;
        if (!slots[j].addr)
            break;
        size_t home = hs_ptrtable_slot_of(slots[j].addr, mask);
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        slots[hole] = slots[j];
        hole = j;
    }
    slots[hole].addr = 0;
    return 1;
}

#endif
