/*
 * native_sample.h - what the sampler does per target for --native
 * (native_sample.c): stop the target's threads around each pass
 * (ptrace_stop.c), unwind each sampled thread's native stack
 * (native_unwind.c) and put it together with the thread's Python frames
 * (native_merge.c), as model frames of kind native named by
 * native_objects.c: `function (library)`, or `0xADDR (library)`.
 *
 * Order within a pass: every thread is stopped, then the Python frames
 * are read (walk.c, which finds them unchanged: a stopped thread does not
 * move) and each thread's native frames unwound (their return addresses
 * kept), then every thread is let go; naming the frames, resolving code
 * objects and building the profile happen after, while the program runs.
 * A thread that could not be stopped in time keeps its Python frames alone
 * (counted as `native_unavailable`).
 *
 * All ptrace calls of a target happen in one thread, the sampling thread;
 * hs_native_release, called as it ends, lets go of anything still held.
 */
#ifndef HOTSCOPE_NATIVE_SAMPLE_H
#define HOTSCOPE_NATIVE_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "native_merge.h"
#include "native_objects.h"
#include "native_unwind.h"
#include "ptrace_stop.h"
#include "target.h"
#include "walk.h"

/* One thread's native frames as unwound in this pass. */
typedef struct {
    int64_t tid;
    size_t first, count;      /* its return addresses in hs_native_target.pcs */
    int complete;             /* unwound to the outermost frame */
    char run_state;           /* its state letter before it was stopped */
} hs_native_unwound;

typedef struct hs_native_target {
    hs_stopper stopper;
    hs_native_objects objects;
    hs_native_stack stack;    /* scratch: one thread's native frames */
    uint64_t *pcs;            /* this pass's native frames, every thread's, leaf first */
    size_t pc_count, pc_cap;
    hs_native_unwound *unwound; /* this pass's unwound threads */
    size_t unwound_count, unwound_cap;
    size_t unwound_hint;      /* where the next thread's record likely is */
    uint8_t *kinds;           /* scratch: HS_NATIVE_* per native frame */
    size_t kinds_cap;
    uint8_t *entry;           /* scratch: hs_raw_frame.entry per Python frame */
    size_t entry_cap;
    hs_merged_frame *merged;  /* scratch: the merged stack */
    size_t merged_cap;
    hs_id *python;            /* scratch: the Python frames' model ids */
    size_t python_cap;
    int64_t pass;
    int stopped;              /* threads stopped in this pass */
    /* what happened, for the report */
    int64_t unavailable;      /* thread samples without native frames (not stopped) */
    int64_t mismatched;       /* merges whose eval-loop frames and Python calls differed */
    int64_t incomplete;       /* native stacks not unwound to their outermost frame */
    char error[256];          /* why the target could not be stopped, if it could not */
} hs_native_target;

/* NULL when memory runs out. */
hs_native_target *hs_native_target_new(const hs_target *t);
void hs_native_target_free(hs_native_target *n);

/* Around a pass over the target: stop its threads; once their Python
 * frames are read (walk), unwind the native frames of each and let them
 * go (hs_native_unwind_all); hs_native_pass_end lets go of whatever is
 * still held (a pass that could not read the threads) and collects threads
 * that exited while held. */
void hs_native_pass_begin(hs_native_target *n);
void hs_native_unwind_all(hs_native_target *n, const hs_walk_result *w);
void hs_native_pass_end(hs_native_target *n);

/* Lets go of everything still held (threads that stopped late), waiting
 * up to wait_ns; called by the thread that made the passes, as it ends. */
void hs_native_release(hs_native_target *n, int64_t wait_ns);

/* A thread's sample: replaces its Python stack, `*depth` model frames root
 * first in *stack (the Python frames of `raw`, the leaf-most `*depth` of
 * them), with the merged stack. Leaves it as it is when the thread was not
 * stopped and unwound in this pass (counted). 0, or -1 when memory runs
 * out. */
int hs_native_thread_stack(hs_native_target *n, hs_profile *p, const hs_walk_result *w,
                           const hs_raw_thread *raw, hs_id **stack, size_t *cap, size_t *depth);

/* The scheduler state letter of thread tid as it was before this pass
 * stopped it (/proc says 't' while it is stopped, and what it says after
 * is of after the pass); `now` when it was not stopped. */
char hs_native_run_state(hs_native_target *n, int64_t tid, char now);

/* A native frame's name and file: the function (or "0x..." in buf) and
 * the path of its object. `leaf`: pc is the leaf's own, not a return
 * address. */
const char *hs_native_frame_name(hs_native_target *n, uint64_t pc, int leaf, char *buf,
                                 size_t buflen, const char **file);

/* hotscope dump --native: every thread's merged frames, leaf first, read
 * while the target is stopped (in a thread of its own, see
 * hs_native_in_own_thread). `walk` receives the Python frames; frames are
 * the merged ones of all threads, threads[i] saying where those of
 * walk->threads[i] are. Both malloc'ed. 0, or -1 (errno: the process
 * could not be read; message in n->error when it could not be stopped). */
typedef struct {
    uint8_t python;           /* 1: walk->frames[index]; 0: native pc */
    uint8_t leaf;             /* the native leaf (its pc is its own) */
    uint32_t index;
    uint64_t pc;
} hs_native_dump_frame;
/* (The threads are let go before the frames are named.) */

typedef struct {
    size_t first, count;
    int native;               /* stopped and unwound: these frames are merged */
} hs_native_dump_thread;

int hs_native_dump(hs_native_target *n, hs_target *t, hs_walk_result *walk,
                   hs_native_dump_frame **frames, hs_native_dump_thread **threads);

/* Runs fn(arg) in a thread of its own and waits for it: the ptrace
 * attachments it leaves end with that thread. 0, or -1 when no thread
 * could be started. */
int hs_native_in_own_thread(void (*fn)(void *), void *arg);

#endif
