/*
 * test_memtables.c - the memory engine's pure-C tables against a simple
 * reference: the live-block table (src/memory/ptrtable.c) through a
 * million random puts and takes, with growth, replacement, addresses
 * that collide in the hash and sizes of 4 GiB and more; and the stack
 * trie (stacktrie.c): the same (parent, code, offset) always gives the
 * same node, distinct keys distinct nodes, and a peak snapshot copies the
 * live counters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/memory/ptrtable.h"
#include "../../src/memory/stacktrie.h"

static int failures;
#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) { /* xorshift64 (Marsaglia 2003) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define UNIVERSE 50000 /* reference: address i*16+4096 has size ref_size[i], or 0 = absent */

static void test_ptrtable(void) {
    hs_ptrtable t;
    CHECK(hs_ptrtable_init(&t) == 0);
    uint64_t *ref_size = calloc(UNIVERSE, sizeof *ref_size);
    uint32_t *ref_node = calloc(UNIVERSE, sizeof *ref_node);
    size_t live = 0;
    for (int step = 0; step < 1000000; step++) {
        uint64_t r = next_rand();
        size_t i = (size_t)(r % UNIVERSE);
        uintptr_t addr = 4096 + (uintptr_t)i * 16;
        if ((r >> 32) % 3) {
            uint64_t size = (r >> 40) % 5000 + 1;
            if ((r >> 20) % 5000 == 0)
                size = 0x100000000ull + (r >> 36); /* 4 GiB and more: the side list */
            uint32_t node = (uint32_t)(r >> 8) & 0xFFFF;
            hs_ptr_entry old;
            CHECK(hs_ptrtable_put(&t, addr, size, node, &old) == 0);
            if (ref_size[i]) {
                CHECK(old.addr == addr && old.size == ref_size[i] && old.node == ref_node[i]);
            } else {
                CHECK(old.addr == 0);
                live++;
            }
            ref_size[i] = size;
            ref_node[i] = node;
        } else {
            hs_ptr_entry e;
            int found = hs_ptrtable_take(&t, addr, &e);
            CHECK(found == (ref_size[i] != 0));
            if (found) {
                CHECK(e.size == ref_size[i] && e.node == ref_node[i]);
                ref_size[i] = 0;
                live--;
            }
        }
        CHECK(t.count == live);
    }
    /* everything left comes out exactly once */
    for (size_t i = 0; i < UNIVERSE; i++) {
        hs_ptr_entry e;
        int found = hs_ptrtable_take(&t, 4096 + (uintptr_t)i * 16, &e);
        CHECK(found == (ref_size[i] != 0));
        if (found)
            CHECK(e.size == ref_size[i] && e.node == ref_node[i]);
    }
    CHECK(t.count == 0 && t.big_count == 0);
    free(ref_size);
    free(ref_node);
    hs_ptrtable_free(&t);
}

static void test_stacktrie(void) {
    hs_stacktrie t;
    CHECK(hs_stacktrie_init(&t) == 0);
    CHECK(t.count == 1);
    /* a tree 3 levels deep, 20 codes x 5 offsets per level, twice */
    uint32_t first[20][5];
    for (int pass = 0; pass < 2; pass++) {
        size_t before = t.count;
        for (int c = 0; c < 20; c++) {
            for (int o = 0; o < 5; o++) {
                int created;
                uint32_t a = hs_stacktrie_child(&t, 0, 0x1000 + (uintptr_t)c * 64, o * 2, &created);
                CHECK(a != HS_TRIE_NONE && created == !pass);
                uint32_t b = hs_stacktrie_child(&t, a, 0x1000 + (uintptr_t)c * 64, o * 2, &created);
                CHECK(b != a && created == !pass && t.keys[b].parent == a);
                if (pass == 0)
                    first[c][o] = a;
                else
                    CHECK(first[c][o] == a);
            }
        }
        CHECK(pass == 0 ? t.count == before + 200 : t.count == before);
    }
    /* many children of one node: the index grows and keeps every node */
    for (int i = 0; i < 5000; i++) {
        int created;
        CHECK(hs_stacktrie_child(&t, 1, 0x9000, i, &created) != HS_TRIE_NONE && created);
    }
    for (int i = 0; i < 5000; i++) {
        int created;
        uint32_t n = hs_stacktrie_child(&t, 1, 0x9000, i, &created);
        CHECK(!created && t.keys[n].offset == i);
    }
    t.counts[5].live_bytes = 123;
    t.counts[5].live_count = 2;
    hs_stacktrie_snapshot_peak(&t);
    CHECK(t.peak_bytes[5] == 123 && t.peak_count[5] == 2 && t.peak_bytes[6] == 0);
    hs_stacktrie_free(&t);
}

int main(void) {
    test_ptrtable();
    test_stacktrie();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
