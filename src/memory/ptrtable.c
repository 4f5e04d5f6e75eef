/*
 * ptrtable.c - address -> (size, node) for every live traced block (see
 * ptrtable.h): what the inline put and take leave out of line (growth,
 * the side list of blocks of 4 GiB and more). Linear probing keeps a
 * lookup to one or two cache lines.
 */
#include "ptrtable.h"

#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 4096

#define slot_of hs_ptrtable_slot_of

int hs_ptrtable_init(hs_ptrtable *t) {
    memset(t, 0, sizeof *t);
    t->slots = calloc(MIN_SLOTS, sizeof *t->slots);
    t->mask = MIN_SLOTS - 1;
    t->limit = MIN_SLOTS * 7 / 10;
    return t->slots ? 0 : -1;
}

void hs_ptrtable_free(hs_ptrtable *t) {
    free(t->slots);
    free(t->big);
    memset(t, 0, sizeof *t);
}

/* ---- the side list of blocks of 4 GiB and more ----------------------- */

uint64_t hs_ptrtable_big_take(hs_ptrtable *t, uintptr_t addr) {
    for (size_t i = 0; i < t->big_count; i++) {
        if (t->big[i].addr == addr) {
            uint64_t size = t->big[i].size;
            t->big[i] = t->big[--t->big_count];
            return size;
        }
    }
    return HS_PTR_BIG; /* not reached: every HS_PTR_BIG slot has an entry */
}

static int big_put(hs_ptrtable *t, uintptr_t addr, uint64_t size) {
    if (t->big_count == t->big_cap) {
        size_t cap = t->big_cap ? t->big_cap * 2 : 8;
        hs_ptr_entry *grown = realloc(t->big, cap * sizeof *grown);
        if (!grown)
            return -1;
        t->big = grown;
        t->big_cap = cap;
    }
    t->big[t->big_count++] = (hs_ptr_entry){addr, size, 0};
    return 0;
}

static int grow(hs_ptrtable *t) {
    size_t old_n = t->mask + 1, n = old_n * 2;
    if (n < old_n || n > SIZE_MAX / sizeof(hs_ptr_entry))
        return -1;
    hs_ptr_slot *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    size_t mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        const hs_ptr_slot *e = &t->slots[i];
        if (!e->addr)
            continue;
        size_t s = slot_of(e->addr, mask);
        while (slots[s].addr)
            s = (s + 1) & mask;
        slots[s] = *e;
    }
    free(t->slots);
    t->slots = slots;
    t->mask = mask;
    t->limit = n * 7 / 10;
    return 0;
}

int hs_ptrtable_put_slow(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                         hs_ptr_entry *replaced) {
    replaced->addr = 0;
    /* at most 70% full: probe runs stay short, mostly within one cache line */
    if (t->count >= t->limit && grow(t) != 0)
        return -1;
    if (size >= HS_PTR_BIG) { /* rare: the old entry out first, then the side list */
        hs_ptr_entry old;
        if (hs_ptrtable_take(t, addr, &old))
            *replaced = old;
        if (big_put(t, addr, size) != 0)
            return -1;
    }
    size_t s = slot_of(addr, t->mask);
    while (t->slots[s].addr && t->slots[s].addr != addr)
        s = (s + 1) & t->mask;
    hs_ptr_slot *e = &t->slots[s];
    if (e->addr) {
        uint64_t old = e->size == HS_PTR_BIG ? hs_ptrtable_big_take(t, addr) : e->size;
        *replaced = (hs_ptr_entry){addr, old, e->node};
    } else {
        t->count++;
    }
    *e = (hs_ptr_slot){addr, node, size >= HS_PTR_BIG ? HS_PTR_BIG : (uint32_t)size};
    return 0;
}
