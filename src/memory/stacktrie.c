/*
 * stacktrie.c - the recording call tree of the memory engine (see
 * stacktrie.h). Nodes are arrays indexed by id (keys, hot counters, peak
 * counters apart, so a peak snapshot is a strided copy and an allocation
 * touches one counters record); children are found through one hash index
 * over all nodes, kept at most half full.
 */
#include "stacktrie.h"

#include <stdlib.h>
#include <string.h>

#define MIN_NODES 1024

static inline size_t key_hash(uint32_t parent, uintptr_t code, int32_t offset) {
    uint64_t h = (uint64_t)code * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)parent << 32 | (uint32_t)offset) * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static int alloc_index(hs_stacktrie *t, size_t slots) {
    uint32_t *s = malloc(slots * sizeof *s);
    if (!s)
        return -1;
    memset(s, 0xFF, slots * sizeof *s);
    for (size_t id = 0; id < t->count; id++) {
        const hs_trie_key *k = &t->keys[id];
        size_t i = key_hash(k->parent, k->code, k->offset) & (slots - 1);
        while (s[i] != HS_TRIE_NONE)
            i = (i + 1) & (slots - 1);
        s[i] = (uint32_t)id;
    }
    free(t->slots);
    t->slots = s;
    t->slot_mask = slots - 1;
    return 0;
}

static int grow_nodes(hs_stacktrie *t) {
    size_t cap = t->cap ? t->cap * 2 : MIN_NODES;
    if (cap >= HS_TRIE_NONE)
        return -1;
    hs_trie_key *keys = realloc(t->keys, cap * sizeof *keys);
    if (!keys)
        return -1;
    t->keys = keys;
    hs_trie_counts *counts = realloc(t->counts, cap * sizeof *counts);
    if (!counts)
        return -1;
    t->counts = counts;
    int64_t *pb = realloc(t->peak_bytes, cap * sizeof *pb);
    if (!pb)
        return -1;
    t->peak_bytes = pb;
    int64_t *pc = realloc(t->peak_count, cap * sizeof *pc);
    if (!pc)
        return -1;
    t->peak_count = pc;
    t->cap = cap;
    return 0;
}

static uint32_t add_node(hs_stacktrie *t, uint32_t parent, uintptr_t code, int32_t offset) {
    if (t->count == t->cap && grow_nodes(t) != 0)
        return HS_TRIE_NONE;
    uint32_t id = (uint32_t)t->count++;
    t->keys[id] = (hs_trie_key){code, offset, parent};
    memset(&t->counts[id], 0, sizeof t->counts[id]);
    t->peak_bytes[id] = 0;
    t->peak_count[id] = 0;
    return id;
}

int hs_stacktrie_init(hs_stacktrie *t) {
    memset(t, 0, sizeof *t);
    if (add_node(t, HS_TRIE_NONE, 0, 0) == HS_TRIE_NONE || alloc_index(t, 2 * MIN_NODES) != 0) {
        hs_stacktrie_free(t);
        return -1;
    }
    return 0;
}

void hs_stacktrie_free(hs_stacktrie *t) {
    free(t->keys);
    free(t->counts);
    free(t->peak_bytes);
    free(t->peak_count);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

uint32_t hs_stacktrie_child(hs_stacktrie *t, uint32_t parent, uintptr_t code, int32_t offset,
                            int *created) {
    size_t i = key_hash(parent, code, offset) & t->slot_mask;
    for (;;) {
        uint32_t id = t->slots[i];
        if (id == HS_TRIE_NONE)
            break;
        const hs_trie_key *k = &t->keys[id];
        if (k->code == code && k->offset == offset && k->parent == parent) {
            *created = 0;
            return id;
        }
        i = (i + 1) & t->slot_mask;
    }
    if ((t->count + 1) * 2 > t->slot_mask + 1) {
        if (alloc_index(t, (t->slot_mask + 1) * 2) != 0)
            return HS_TRIE_NONE;
        i = key_hash(parent, code, offset) & t->slot_mask;
        while (t->slots[i] != HS_TRIE_NONE)
            i = (i + 1) & t->slot_mask;
    }
    uint32_t id = add_node(t, parent, code, offset);
    if (id == HS_TRIE_NONE)
        return id;
    t->slots[i] = id;
    *created = 1;
    return id;
}

void hs_stacktrie_snapshot_peak(hs_stacktrie *t) {
    for (size_t i = 0; i < t->count; i++) {
        t->peak_bytes[i] = t->counts[i].live_bytes;
        t->peak_count[i] = t->counts[i].live_count;
    }
}
