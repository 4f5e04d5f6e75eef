/*
 * stacktrie.h - the memory engine's call tree while recording: one node
 * per distinct call path, keyed by (parent node, code object address,
 * instruction offset), with the counters an allocation or a free updates.
 *
 * Frames are kept as raw (code, offset) keys because resolving them to
 * file, function and line costs a line-table decode; that happens once
 * per node when the profile model is built (mem_export.c). The engine
 * holds a strong reference to every code object a node names, so an
 * address is never reused for another code object while recording.
 *
 * Node 0 is the root. Its children are thread roots (code 0, offset = the
 * engine's thread slot). Memory from libc only; not thread-safe (the
 * engine's lock guards it).
 */
#ifndef HOTSCOPE_STACKTRIE_H
#define HOTSCOPE_STACKTRIE_H

#include <stddef.h>
#include <stdint.h>

#define HS_TRIE_NONE 0xFFFFFFFFu

/* The offset of a native frame's key, whose `code` is a return address
 * into native code (src/memory/native.c), not a code object. */
#define HS_TRIE_NATIVE INT32_MIN

typedef struct {
    uintptr_t code;  /* PyCodeObject *, or 0 for a thread root, or a return address (HS_TRIE_NATIVE) */
    int32_t offset;  /* instruction offset in bytes (-1: not started), or the thread slot, or HS_TRIE_NATIVE */
    uint32_t parent; /* HS_TRIE_NONE for the root */
} hs_trie_key;

/* What one node holds: everything ever allocated there, and what is still
 * allocated now. */
typedef struct {
    int64_t total_bytes, total_count;
    int64_t live_bytes, live_count;
} hs_trie_counts;

typedef struct {
    hs_trie_key *keys;
    hs_trie_counts *counts;
    int64_t *peak_bytes;  /* live bytes and blocks per node at the last peak snapshot */
    int64_t *peak_count;
    size_t count, cap;
    uint32_t *slots;      /* open-addressing index of node ids; HS_TRIE_NONE = empty */
    size_t slot_mask;
} hs_stacktrie;

/* 0, or -1 when memory runs out. Creates the root. */
int hs_stacktrie_init(hs_stacktrie *t);
void hs_stacktrie_free(hs_stacktrie *t);

/* The child of `parent` for (code, offset); created if absent, with
 * *created set to 1. HS_TRIE_NONE when memory runs out. */
uint32_t hs_stacktrie_child(hs_stacktrie *t, uint32_t parent, uintptr_t code, int32_t offset,
                            int *created);

/* Copies every node's live counters into its peak counters. */
void hs_stacktrie_snapshot_peak(hs_stacktrie *t);

#endif
