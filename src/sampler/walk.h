/*
 * walk.h - one pass over a target's Python threads and their frames:
 * which threads exist, which holds the GIL, and for each frame the code
 * object's address and the byte offset of the instruction executing.
 *
 * Nothing is resolved to names here (codecache.c does that, once per code
 * object), so a pass costs a few small reads per frame. Reads race with
 * the running program, which pushes and pops frames at the same addresses
 * again and again, and a read of another process is not instantaneous: a
 * stack is kept only when nothing says it mixes two moments.
 *  - 3.12+: one system call reads the current-frame pointer and a window
 *    of the data stack; these versions mark the running frame (stacktop
 *    -1), so a caller found running in the copy (its callee had returned)
 *    fails the read.
 *  - 3.11 (no such mark): window, pointer, window again in one system
 *    call; every frame of the chain from that pointer must read the same
 *    in both copies (caller, code, owner and, but for the leaf,
 *    instruction), so it held at the moment the pointer was read.
 *  - 3.10: each heap frame is read between two reads of its callee, which
 *    must agree, still link to it and, for a caller, be unchanged since
 *    the read that found it.
 *  - 3.10, 3.11: a frame that fails is cut off with the frames above it
 *    and the walk goes on from the next one down as the leaf (counted as
 *    `cut`). Dropping such samples instead, as earlier versions did, lost
 *    the stacks that change fastest and biased the profile against them:
 *    a fib() phase of 22% of the time showed as 3% (3.10) and 14% (3.11)
 *    in bench/bench_sampler_accuracy.py, while py-spy and Austin were
 *    within a point.
 *  - 3.11+: frames read apart from the window (generators, C-stack shims,
 *    deeper chunks) are read all again in one system call and must not
 *    have changed. Every caller must be past its first instruction.
 * A thread that fails is read again, at least HS_WALK_ATTEMPTS times in
 * all and for as long as the caller's retry budget allows, then reported
 * torn so its sample is dropped and counted, never recorded. The budget
 * matters for the same reason as cutting: the reads that fail are those of
 * fast-changing stacks, and giving up early drops exactly those.
 * tests/test_sample.py measures what gets through on a program whose
 * possible stacks are known.
 */
#ifndef HOTSCOPE_WALK_H
#define HOTSCOPE_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "target.h"

#define HS_WALK_MAX_DEPTH 16384   /* deeper stacks are cut (and flagged) */
#define HS_WALK_MAX_THREADS 4096
#define HS_WALK_WINDOW 8192       /* bytes of data stack read in one go (3.11+) */
#define HS_WALK_ATTEMPTS 3        /* reads of a thread's stack before giving up */
#define HS_WALK_MAX_RETRIES 1000  /* reads of one stack within a retry budget, at most */

typedef enum {
    HS_TORN_NONE = 0,
    HS_TORN_MOVED = 1,    /* the current frame changed while the stack was read */
    HS_TORN_INVALID = 2,  /* a frame failed a check (bad pointer, owner, instruction) */
} hs_torn_reason;

typedef struct {
    uint64_t code;       /* PyCodeObject address */
    int32_t offset;      /* byte offset of the current instruction; -1 unknown */
    uint8_t entry;       /* the first frame a call of the eval loop (a C function,
                            _PyEval_EvalFrameDefault) ran: 3.10 runs one frame per
                            call, 3.11+ run the frames it calls in the same call;
                            native_merge.c puts the Python frames in its place */
    uint64_t frame;      /* frame address (for locals) */
} hs_raw_frame;

typedef struct {
    uint64_t tstate;
    uint64_t pthread_id;     /* PyThreadState.thread_id (threading.get_ident()) */
    int64_t native_tid;      /* kernel thread id, or -1 unknown */
    int holds_gil;
    int torn;                /* no consistent read of the stack: drop this sample */
    hs_torn_reason torn_reason;
    int attempts;            /* reads it took (1 = the first was consistent) */
    int truncated;           /* deeper than HS_WALK_MAX_DEPTH */
    int cut;                 /* frames above one that changed while read were left
                                out (3.10, 3.11): the sample starts lower */
    size_t first_frame;      /* index of its frames in hs_walk_result.frames, */
    size_t depth;            /* leaf first */
} hs_raw_thread;

#define HS_WALK_FRAME_SPAN 128    /* bytes of a frame's header read (at most) */

/* Frames outside the data stack (3.11+: the shim frames on the C stack
 * that enter each eval loop, 3.12+, and generators' frames) are read apart
 * from the window, one system call each. The same ones are there pass
 * after pass, so their addresses are kept and read in the window's own
 * system call the next time: a frame found there is used as if read apart
 * (and checked as such), with no call of its own. */
#define HS_WALK_EARLY 4
typedef struct {
    uint64_t tstate;
    uint64_t addr[HS_WALK_EARLY];
    size_t count;
} hs_walk_apart;

/* What a walk of a process remembers from its last pass, to read more in
 * fewer system calls: per thread (by its place in the list, checked by its
 * thread state) the frames it read apart; and the code objects the pass's
 * frames ran, whose headers (code_span bytes each, as the caller wants
 * them) are read with the interpreter's fields at the start of the next
 * pass, `codes_read` of them completely. */
typedef struct {
    hs_walk_apart *apart;
    size_t apart_len, apart_cap;
    uint64_t *codes;
    size_t code_count, code_cap;
    uint8_t *code_bytes;
    size_t code_bytes_cap, code_span, codes_read;
} hs_walk_memory;
void hs_walk_memory_free(hs_walk_memory *m);
#define HS_WALK_EARLY_CODES 256  /* at most: a readv takes 1024 ranges (IOV_MAX) */

/* One frame of the chain being read (shims included), as first read. */
typedef struct {
    uint64_t addr;
    int apart;               /* read apart from the window: checked again */
    uint8_t bytes[HS_WALK_FRAME_SPAN];
} hs_walk_node;

typedef struct {
    uint8_t *window;         /* a copy of part of a thread's data stack chunk, */
    uint8_t *window2;        /* the same read again right after, */
    uint64_t window_base;    /* their address in the target */
    size_t window_len;
    uint8_t *spill;          /* deeper parts of the chunk, read as needed */
    uint64_t spill_base;
    size_t spill_len;
    hs_walk_node *nodes;     /* scratch: the chain of the thread being read */
    size_t node_count, node_cap;
    hs_remote_iov *iov;
    size_t iov_cap;
    uint8_t *again;
    size_t again_cap;
    hs_raw_thread *threads;
    size_t thread_count, thread_cap;
    hs_raw_frame *frames;
    size_t frame_count, frame_cap;
    int max_attempts;        /* reads of a stack before giving up; 0: HS_WALK_ATTEMPTS */
    int whole_stacks;        /* a cut stack is read again (within max_attempts), for
                                one-shot dumps that keep no rate and want every frame */
    int64_t retry_budget_ns; /* and beyond those, keep reading it while this much time
                                has not passed since the first read (0: no budget) */
    int64_t usual_read_ns;   /* how long a read of two frames takes here (3.10) */
    int gc_collecting;       /* a cyclic garbage collection was running (read once per
                                pass, with the GIL holder: the thread that collects) */
    hs_walk_memory *memory;    /* the process's, set by the caller (NULL: none) */
    hs_walk_apart *apart_now;  /* the thread being read: its entry, or NULL */
    uint64_t early_addr[HS_WALK_EARLY]; /* those frames, read again with the window */
    uint8_t early[HS_WALK_EARLY][HS_WALK_FRAME_SPAN];
    size_t early_count;
} hs_walk_result;

void hs_walk_result_free(hs_walk_result *r);

/* Byte offset of the instruction a frame executes, from its header bytes
 * (read at the frame's address) and its code object's address; -1 when
 * the instruction pointer is not inside the code object. */
static inline int32_t hs_frame_instr_offset(const hs_pylayout *l, const uint8_t *buf, uint64_t code) {
    if (l->frame_instr_is_index) {
        int32_t lasti;
        memcpy(&lasti, buf + l->frame_instr, sizeof lasti);
        return lasti >= 0 ? lasti * 2 : -1;
    }
    uint64_t instr;
    memcpy(&instr, buf + l->frame_instr, sizeof instr);
    uint64_t start = code + (uint64_t)l->code_code_adaptive;
    return instr >= start && instr - start < (1u << 30) ? (int32_t)(instr - start) : -1;
}

/* Walks every thread of the main interpreter. Returns 0, or -1 when the
 * interpreter itself could not be read (the process exited or is tearing
 * down: errno tells). Per-thread failures set `torn` instead. */
int hs_walk_threads(hs_target *t, hs_walk_result *r);

#endif
