/*
 * sampler.h - the statistical profiler's engine: reads the Python stacks
 * of one or more processes at a fixed rate, from outside, into one
 * profile model (model.h). No Python in here; sampler_type.c wraps it in a
 * Python object and runs the loop in a thread of its own.
 *
 * Per sample and per target: walk every thread (walk.c), check the code
 * objects seen with one batched read of their headers (codecache.c),
 * decide which thread samples to keep (mode, idle), and add each kept
 * stack under its thread's root with its weights: 1 sample, the wall time
 * since the previous sample, the CPU time the thread used since then.
 */
#ifndef HOTSCOPE_SAMPLER_H
#define HOTSCOPE_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../model/model.h"
#include "async_view.h"
#include "async_waits.h"
#include "codecache.h"
#include "target.h"
#include "walk.h"

struct hs_native_target; /* native_sample.h: --native's state per target */

typedef enum {
    HS_MODE_WALL = 0,  /* every thread that is running (or, with idle, every thread) */
    HS_MODE_CPU = 1,   /* the same threads, weighted by the CPU time they used */
    HS_MODE_GIL = 2,   /* only the thread holding the GIL */
} hs_sample_mode;
/* In the cpu and gil modes every pass also counts what each thread was
 * doing (model.h, hs_gil_state): the per-thread GIL contention. */

typedef struct {
    int64_t native_tid;
    uint64_t pthread_id;
    int model_thread;         /* index in the profile's thread table */
    uint64_t last_cpu_ns;
    int have_cpu;
    int64_t seen_in_pass;     /* last pass that saw it (threads come and go) */
    int timeline;             /* its "samples" series in the profile, or -1 */
    int unnamed;              /* its Python name or kernel id was not known when it
                                 was met: looked for again now and then */
    hs_thread_files files;    /* its /proc files, kept open */
} hs_sampled_thread;

typedef struct {
    hs_target target;
    hs_code_cache codes;
    hs_sampled_thread *threads;
    size_t thread_count, thread_cap;
    size_t thread_hint;       /* where the next thread's record likely is */
    uint64_t threading_active; /* threading._active, found once (thread names) */
    int gone;                 /* the process exited: no more samples */
    int64_t samples;          /* passes that read this process */
    hs_async_view async;      /* the asyncio tasks being stepped (async_view.h) */
    hs_async_waits waits;     /* and those waiting (async_waits.h) */
    int statm_fd;             /* its /proc/PID/statm, for its memory over time; -1 */
    int rss_series;           /* its "rss_bytes" series in the profile, or -1 */
    int64_t rss_bucket;       /* the timeline bucket of its last RSS point */
    struct hs_native_target *native; /* --native: its threads' native frames, else NULL */
    hs_walk_memory walk_memory; /* what its last pass read, read early in the next */
} hs_sample_target;

typedef struct {
    hs_profile *profile;
    hs_sample_target *targets;
    size_t target_count, target_cap;
    hs_walk_result walk;
    uint8_t *headers;         /* code object headers read in one batch, */
    size_t headers_cap;       /* once per distinct code object of the pass */
    uint32_t *header_of;      /* frame index -> header index */
    size_t header_of_cap;
    uint64_t *dedup_keys;     /* scratch hash of code addresses */
    uint32_t *dedup_values;
    size_t dedup_cap;
    uint64_t *unique_codes;   /* header index -> code address */
    size_t unique_codes_cap;
    uint8_t *code_used;       /* header index -> some frame of the pass ran it */
    size_t code_used_cap;
    hs_id *stack;             /* frames of one stack, root first */
    size_t stack_cap;

    hs_sample_mode mode;
    int idle;                 /* keep samples of threads not on a CPU */
    int label_pids;           /* name threads with their process id: more than one
                                 process is or may be sampled */
    int native;               /* native frames too (--native: native_sample.h); set
                                 before the first hs_sampler_add */
    int64_t interval_ns;      /* the nominal interval: the first pass's weight */
    int64_t last_pass_ns;     /* monotonic time of the previous pass */
    int64_t first_pass_ns;    /* monotonic time of the first pass: the timeline's 0 */
    int64_t passes;

    /* what happened, for the report */
    int64_t thread_samples;   /* stacks added */
    int64_t idle_skipped;     /* thread samples dropped as idle (or not holding the GIL) */
    int64_t torn;             /* thread samples dropped as inconsistent reads: */
    int64_t torn_moved;       /*   the stack moved during every read of it */
    int64_t torn_invalid;     /*   a frame or code object failed its checks */
    int64_t cut;              /* samples whose changing top frames were left out */
    int64_t reread;           /* thread samples kept after a second or third read */
    int64_t truncated;        /* stacks cut at HS_WALK_MAX_DEPTH */
    int64_t gc_samples;       /* stacks recorded inside a cyclic collection ([gc] leaf) */
    int64_t task_waits;       /* samples of waiting asyncio tasks (their await chains) */
    char last_error[256];
} hs_sampler;

int hs_sampler_init(hs_sampler *s, hs_sample_mode mode, int idle, int64_t interval_ns);
void hs_sampler_free(hs_sampler *s);

/* Attaches to one more process. 0; 1 not ready yet; -1 error (message). */
int hs_sampler_add(hs_sampler *s, pid_t pid, char *err, size_t errlen);

/* One pass over every live target at monotonic time now_ns. Returns the
 * number of targets still alive. */
size_t hs_sampler_pass(hs_sampler *s, int64_t now_ns);

int64_t hs_sampler_now_ns(void);

/* Continuous recording (period.c): returns the profile recorded since the
 * previous call (or the start), which the caller now owns, and goes on
 * into an empty one; memory stays bounded however long it runs. NULL (and
 * nothing changed) when memory runs out. now_ns: the monotonic time of the
 * switch, the new period's timeline origin. */
hs_profile *hs_sampler_take_period(hs_sampler *s, int64_t now_ns);

#endif
