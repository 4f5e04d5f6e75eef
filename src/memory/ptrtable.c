/*
 * ptrtable.c - address -> (size, node) for every live traced block (see
 * ptrtable.h). Linear probing keeps a lookup to one or two cache lines;
 * backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, Algorithm R) moves
 * later entries of a probe run back into the freed slot instead of leaving
 * a tombstone.
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
    return t->slots ? 0 : -1;
}

void hs_ptrtable_free(hs_ptrtable *t) {
    free(t->slots);
    free(t->big);
    memset(t, 0, sizeof *t);
}

/* ---- the side list of blocks of 4 GiB and more ----------------------- */

static uint64_t big_take(hs_ptrtable *t, uintptr_t addr) {
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
    return 0;
}

int hs_ptrtable_put(hs_ptrtable *t, uintptr_t addr, uint64_t size, uint32_t node,
                    hs_ptr_entry *replaced) {
    replaced->addr = 0;
    /* at most 70% full: probe runs stay short, mostly within one cache line */
    if ((t->count + 1) * 10 > (t->mask + 1) * 7 && grow(t) != 0)
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
        uint64_t old = e->size == HS_PTR_BIG ? big_take(t, addr) : e->size;
        *replaced = (hs_ptr_entry){addr, old, e->node};
    } else {
        t->count++;
    }
    *e = (hs_ptr_slot){addr, node, size >= HS_PTR_BIG ? HS_PTR_BIG : (uint32_t)size};
    return 0;
}

int hs_ptrtable_take(hs_ptrtable *t, uintptr_t addr, hs_ptr_entry *out) {
    size_t mask = t->mask;
    size_t s = slot_of(addr, mask);
    while (t->slots[s].addr != addr) {
        if (!t->slots[s].addr)
            return 0;
        s = (s + 1) & mask;
    }
    const hs_ptr_slot *e = &t->slots[s];
    *out = (hs_ptr_entry){addr, e->size == HS_PTR_BIG ? big_take(t, addr) : e->size, e->node};
    t->count--;
    /* Backward shift: pull each later entry of the run into the hole when
     * its home slot does not lie cyclically in (hole, its slot]. */
    size_t hole = s, j = s;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slots[j].addr)
            break;
        size_t home = slot_of(t->slots[j].addr, mask);
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        t->slots[hole] = t->slots[j];
        hole = j;
    }
    t->slots[hole].addr = 0;
    return 1;
}
