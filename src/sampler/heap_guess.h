/*
 * heap_guess.h - 3.10: the frames a thread was seen running lately, read
 * all at once (twice) before its stack is walked.
 *
 * 3.10's frames are heap objects chained through f_back, and the walk
 * (walk.c) reads them one system call each, every caller between two reads
 * of its callee: 20-40 us for a stack of 16 frames on this kind of machine,
 * so a deep stack that changes fast (recursion) is rarely read in one
 * moment. Its samples were cut, dropped or, read again later, taken from
 * another phase of the program: on tests/targets/sample_fast_stacks.py a
 * fib() phase of 22% was recorded as 13-17%.
 * Frames are reused at the same addresses (each code object keeps one for
 * its next call, the rest come from a LIFO free list: Objects/frameobject.c
 * 3.10, _PyFrame_New_NoTrack and frame_dealloc), so the addresses a thread
 * used in the last passes cover most of its next stack. This keeps, per
 * thread state, the frame addresses its last walks met, and before a walk
 * reads the thread state's frame pointer and all of them, then all again,
 * in one system call: a frame whose two copies agree, in a read that was
 * not slow (preempted), is known as of that moment. walk.c uses a copy
 * only down a chain that starts at the thread's current frame as this
 * read saw it, so the frames it takes from here all belong to one moment.
 */
#ifndef HOTSCOPE_HEAP_GUESS_H
#define HOTSCOPE_HEAP_GUESS_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

#define HS_GUESS_FRAMES 127  /* addresses kept per thread: 2 x 128 ranges, one readv */
#define HS_GUESS_THREADS 16  /* thread states remembered; more evict in turn */
#define HS_GUESS_SPAN 128    /* bytes of a frame read (HS_WALK_FRAME_SPAN) */

typedef struct hs_heap_guess hs_heap_guess;

/* Reads the thread state's current frame pointer (at tstate + frame_field)
 * and the frames `tstate` met lately, twice, in one system call. `*g` is
 * created on first use (NULL when memory runs out: nothing is read). */
void hs_heap_guess_read(hs_heap_guess **g, const hs_target *t, uint64_t tstate, int64_t frame_field,
                        size_t span);

/* The thread's current frame as that read saw it (0: not known). */
uint64_t hs_heap_guess_current(const hs_heap_guess *g);

/* The read's first copy of the frame at `addr` (span bytes), and its
 * second in `*again`; NULL when it was not read. Whether the two agree
 * enough is the walk's to judge (the current frame moves on between
 * them, its callers must not). */
const uint8_t *hs_heap_guess_frame(const hs_heap_guess *g, uint64_t addr, const uint8_t **again);

/* Remembers that `tstate` ran a frame at `addr` (after a walk). */
void hs_heap_guess_add(hs_heap_guess **g, uint64_t tstate, uint64_t addr);

/* Forgets what `tstate` ran: its stack is deeper than the addresses kept,
 * and a read of part of it would only cost a system call more. */
void hs_heap_guess_drop(hs_heap_guess *g, uint64_t tstate);

void hs_heap_guess_free(hs_heap_guess *g);

/* Whether a read that took `ns` was slow: more than twice the usual time
 * (plus a microsecond), the usual being a running estimate (`*usual`) that
 * follows the fastest reads at once and slower ones slowly. How long a read
 * takes depends on the machine, so no fixed figure. A slow read may have
 * been preempted, long enough for a frame to change and change back. */
static inline int hs_read_was_slow(int64_t *usual, int64_t ns) {
    int64_t before = *usual;
    if (before == 0 || ns < before)
        *usual = ns;
    else
        *usual = before + (ns - before) / 64;
    return before && ns > 2 * before + 1000;
}

#endif
