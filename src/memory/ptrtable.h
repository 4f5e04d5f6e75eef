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

/* Starts loading the cache line where `addr`'s entry is or would go, so
 * the put or take that follows other work finds it there: the table is
 * touched at random places, and the program's own work keeps pushing it
 * out of the cache. */
static inline void hs_ptrtable_prefetch(const hs_ptrtable *t, uintptr_t addr) {
    __builtin_prefetch(&t->slots[hs_ptrtable_slot_of(addr, t->mask)], 1, 3);
}

/* 0, or -1 when memory runs out. */
int hs_ptrtable_init(hs_ptrtable *t);
void hs_ptrtable_free(hs_ptrtable *t);

/* Records a block. If `addr` is already present (a free the engine never
 * saw), the old entry is replaced and returned in *replaced (replaced->addr
 * != 0). Returns 0, or -1 when the table cannot grow (nothing recorded). */
int hs_ptrtable_put(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                    hs_ptr_entry *replaced);

/* Removes a block; returns 1 with its entry in *out, or 0 when unknown
 * (allocated before tracing started, or not recorded). */
int hs_ptrtable_take(hs_ptrtable *t, uintptr_t addr, hs_ptr_entry *out);

#endif
