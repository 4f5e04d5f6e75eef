/*
 * walk.h - one pass over a target's Python threads and their frames:
 * which threads exist, which holds the GIL, and for each frame the code
 * object's address and the byte offset of the instruction executing.
 *
 * Nothing is resolved to names here (codecache.c does that, once per code
 * object), so a pass costs a few small reads per frame. Reads race with
 * the running program: chains are bounded, pointers checked, and a thread
 * whose chain breaks is reported torn so its sample is dropped.
 */
#ifndef HOTSCOPE_WALK_H
#define HOTSCOPE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

#define HS_WALK_MAX_DEPTH 16384   /* deeper stacks are cut (and flagged) */
#define HS_WALK_MAX_THREADS 4096
#define HS_WALK_WINDOW 8192       /* bytes of data stack read in one go (3.11+) */

typedef struct {
    uint64_t code;       /* PyCodeObject address */
    int32_t offset;      /* byte offset of the current instruction; -1 unknown */
    uint64_t frame;      /* frame address (for locals) */
} hs_raw_frame;

typedef struct {
    uint64_t tstate;
    uint64_t pthread_id;     /* PyThreadState.thread_id (threading.get_ident()) */
    int64_t native_tid;      /* kernel thread id, or -1 unknown */
    int holds_gil;
    int torn;                /* the frame chain broke mid-walk: drop this sample */
    int truncated;           /* deeper than HS_WALK_MAX_DEPTH */
    size_t first_frame;      /* index of its frames in hs_walk_result.frames, */
    size_t depth;            /* leaf first */
} hs_raw_thread;

typedef struct {
    uint8_t *window;         /* a copy of part of a thread's data stack chunk */
    uint64_t window_base;    /* its address in the target */
    size_t window_len;
    hs_raw_thread *threads;
    size_t thread_count, thread_cap;
    hs_raw_frame *frames;
    size_t frame_count, frame_cap;
} hs_walk_result;

void hs_walk_result_free(hs_walk_result *r);

/* Walks every thread of the main interpreter. Returns 0, or -1 when the
 * interpreter itself could not be read (the process exited or is tearing
 * down: errno tells). Per-thread failures set `torn` instead. */
int hs_walk_threads(hs_target *t, hs_walk_result *r);

#endif
