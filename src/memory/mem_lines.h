/*
 * mem_lines.h - the memory engine's line-by-line view of chosen functions
 * (`hotscope mem --func`, @profile, hotscope.memory(func)): for each line
 * of each chosen code object, the bytes allocated and freed while that
 * line was the executing line of one of its frames, callees included, as
 * memory_profiler's per-line table shows it but from the exact events.
 *
 * Allocations need nothing at run time: every allocation's stack is in the
 * engine's tree already, and each chosen frame on it is there with its
 * instruction, so hs_mem_lines_export sums the tree's counters per
 * (code, line) when the profile is built. Frees carry no stack in the
 * tree, so a free of a traced block reads the current stack and charges
 * the chosen frames on it (hs_mem_lines_charge_free). To spare code that
 * is not chosen, on 3.12+ sys.monitoring counts the chosen frames running
 * on each thread (PY_START/PY_RESUME/PY_THROW in, exits out; mem_watch.c)
 * and a free reads the stack only while that count is above zero;
 * without that count (before 3.12, or no free sys.monitoring tool id)
 * every traced free reads the stack while anything is chosen.
 *
 * One event is charged once per (code, line) and once per function even
 * when recursion puts several frames of the same code on the stack, so a
 * line's figures mean "while some frame of this function was at this
 * line"; under recursion the lines of one function can overlap.
 *
 * All of it runs with the GIL held; memory from libc only.
 */
#ifndef HOTSCOPE_MEM_LINES_H
#define HOTSCOPE_MEM_LINES_H

#include "../compat.h"

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "pystack.h"
#include "stacktrie.h"

/* The figures of one line (or of the whole function). */
typedef struct {
    int64_t alloc_bytes, allocs;  /* filled from the tree at export */
    int64_t freed_bytes, frees;   /* charged as frees happen */
    uint64_t stamp;               /* the last event charged here */
} hs_mem_line_counts;

/* One chosen code object. */
typedef struct {
    PyObject *code;          /* strong reference; its address is the key */
    int32_t lo;              /* lines lo .. lo + line_count - 1 */
    int32_t line_count;
    int32_t *line_of_unit;   /* line of each 2-byte code unit, 0 where none */
    size_t unit_count;
    hs_mem_line_counts *lines;
    hs_mem_line_counts whole;
} hs_mem_chosen;

typedef struct {
    hs_mem_chosen **codes;   /* in the order chosen */
    size_t count, cap;
    hs_mem_chosen **slots;   /* open-addressing index by code address */
    size_t slot_count;
    uint64_t filter;         /* one bit per (address >> 4) & 63 of a chosen code */
    uint64_t event;          /* stamps events, for charging each line once */
} hs_mem_lines;

/* Chooses a code object (GIL held; the caller keeps the engine's hooks
 * from recording meanwhile). 1 if added, 0 if chosen already, -1 with an
 * exception set. */
int hs_mem_lines_choose(hs_mem_lines *l, PyObject *code);
/* Drops the code references (GIL held) and frees everything. */
void hs_mem_lines_free(hs_mem_lines *l);

static inline hs_mem_chosen *hs_mem_lines_find(const hs_mem_lines *l, uintptr_t code) {
    if (!(l->filter >> ((code >> 4) & 63) & 1))
        return NULL;
    size_t mask = l->slot_count - 1;
    for (size_t i = (code >> 4) & mask; l->slots[i]; i = (i + 1) & mask)
        if ((uintptr_t)l->slots[i]->code == code)
            return l->slots[i];
    return NULL;
}

/* How many frames of chosen code are among `frames` (a walk of the
 * current stack). */
size_t hs_mem_lines_count_frames(const hs_mem_lines *l, const hs_frame_key *frames, size_t n);

/* Charges a free of `size` bytes to every chosen (code, line) among
 * `frames` (a walk of the freeing thread's stack). */
void hs_mem_lines_charge_free(hs_mem_lines *l, const hs_frame_key *frames, size_t n, int64_t size);

/* Sums the tree's allocations per chosen (code, line) and writes the line
 * tables alloc_bytes, allocs, freed_bytes, frees (model.h) into `p`: per
 * chosen function one row at line 0 (the function as a whole, also
 * present when it never ran) and one per line with any figure. 0, or -1
 * when memory runs out. GIL held. */
int hs_mem_lines_export(hs_mem_lines *l, const hs_stacktrie *trie, hs_profile *p);

#endif
