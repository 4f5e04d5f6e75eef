/*
 * strtab.c - the interned string table of a profile (strtab.h), and the
 * two hash functions every hash table of the model shares.
 *
 * Ids are dense indexes into `strings`/`lengths`, handed out in insertion
 * order, so renderers can keep per-string side arrays. The hash index is an
 * open-addressing array of ids (linear probing, power-of-two size) rather
 * than of entries: it stays small, and rebuilding it only touches ids.
 * Strings are compared by length and bytes, so names holding NUL bytes are
 * distinct from their prefixes; each copy is still NUL-terminated so the
 * common case can be passed to C string functions directly.
 */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

#define HS_STRTAB_MIN_SLOTS 64

uint64_t hs_hash_bytes(const void *p, size_t n, uint64_t seed) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325u ^ seed; /* FNV-1a offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3u; /* FNV-1a 64-bit prime */
    }
    return h;
}

uint64_t hs_hash_mix(uint64_t h, uint64_t v) {
    /* Combine, then the splitmix64 finalizer: FNV-1a's low bits (the ones a
     * power-of-two table uses) are weak, and ids combined by plain xor
     * would collide for swapped pairs. */
    uint64_t x = h ^ (v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2));
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

static uint64_t string_hash(const char *s, size_t len) {
    return hs_hash_mix(hs_hash_bytes(s, len, 0), len);
}

void hs_strtab_init(hs_strtab *t) {
    t->strings = NULL;
    t->lengths = NULL;
    t->count = 0;
    t->cap = 0;
    t->slots = NULL;
    t->slot_count = 0;
}

void hs_strtab_free(hs_strtab *t) {
    for (size_t i = 0; i < t->count; i++)
        free(t->strings[i]);
    free(t->strings);
    free(t->lengths);
    free(t->slots);
    hs_strtab_init(t);
}

/* Rebuilds the index with `slot_count` slots; the table is untouched on
 * failure. */
static int rehash(hs_strtab *t, size_t slot_count) {
    if (slot_count > SIZE_MAX / sizeof(hs_id))
        return -1;
    hs_id *slots = malloc(slot_count * sizeof(hs_id));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < slot_count; i++)
        slots[i] = HS_NONE;
    size_t mask = slot_count - 1;
    for (size_t id = 0; id < t->count; id++) {
        size_t i = (size_t)string_hash(t->strings[id], t->lengths[id]) & mask;
        while (slots[i] != HS_NONE)
            i = (i + 1) & mask;
        slots[i] = (hs_id)id;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_count = slot_count;
    return 0;
}

/* Makes room for one more string in both the entry arrays and the index
 * (kept at most 2/3 full so probe runs stay short). */
static int reserve_one(hs_strtab *t) {
    /* HS_NONE is the empty-slot marker, so it can never be an id. */
    if (t->count >= (size_t)HS_NONE)
        return -1;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(char *) || cap > SIZE_MAX / sizeof(size_t))
            return -1;
        char **strings = realloc(t->strings, cap * sizeof(char *));
        if (strings == NULL)
            return -1;
        t->strings = strings;
        size_t *lengths = realloc(t->lengths, cap * sizeof(size_t));
        if (lengths == NULL)
            return -1;
        t->lengths = lengths;
        t->cap = cap;
    }
    if (t->slot_count == 0 || (t->count + 1) * 3 > t->slot_count * 2) {
        size_t slots = t->slot_count ? t->slot_count * 2 : HS_STRTAB_MIN_SLOTS;
        if (slots < t->slot_count || rehash(t, slots) != 0)
            return -1;
    }
    return 0;
}

hs_id hs_strtab_intern(hs_strtab *t, const char *s, size_t len) {
    if (s == NULL && len != 0)
        return HS_NONE;
    if (s == NULL)
        s = "";
    uint64_t h = string_hash(s, len);
    if (t->slot_count) {
        size_t mask = t->slot_count - 1;
        for (size_t i = (size_t)h & mask; t->slots[i] != HS_NONE; i = (i + 1) & mask) {
            hs_id id = t->slots[i];
            if (t->lengths[id] == len && memcmp(t->strings[id], s, len) == 0)
                return id;
        }
    }
    if (len == SIZE_MAX || reserve_one(t) != 0)
        return HS_NONE;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return HS_NONE;
    memcpy(copy, s, len);
    copy[len] = '\0';
    hs_id id = (hs_id)t->count;
    t->strings[id] = copy;
    t->lengths[id] = len;
    t->count++;
    /* The index may have been rebuilt by reserve_one: probe it afresh. */
    size_t mask = t->slot_count - 1;
    size_t i = (size_t)h & mask;
    while (t->slots[i] != HS_NONE)
        i = (i + 1) & mask;
    t->slots[i] = id;
    return id;
}

const char *hs_strtab_get(const hs_strtab *t, hs_id id, size_t *len) {
    if (id >= t->count) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = t->lengths[id];
    return t->strings[id];
}
