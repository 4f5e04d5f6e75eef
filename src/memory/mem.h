/*
 * mem.h - the memory engine: CPython's allocators (raw, mem and object
 * domains) wrapped by hooks that record every block's size and the Python
 * stack that asked for it, matched with its free.
 *
 * Pieces: hooks.c (the allocator wrappers and what one event costs),
 * mem_stack.c (an allocation's node in the tree, from this thread's cache
 * of its last stack), pystack.c (the stack, read from the interpreter's
 * frames), src/pymod/evalhook.c (3.10 and 3.11: frame entries and exits seen
 * through the frame evaluation hook), stacktrie.c (stacks deduplicated
 * into a call tree with counters), ptrtable.c (live blocks),
 * mem_lines.c (per-line figures of chosen functions),
 * mem_export.c (the tree resolved to files, functions and lines in the
 * profile model), mem_type.c (hotscope._core.MemTracer), mem_watch.c
 * (sys.monitoring events on 3.12+), native.c (malloc and friends,
 * reported by hotscope's interposer under `hotscope mem --native`, with
 * native frames; native_symbols.c names those frames).
 *
 * Concurrency: the mem and object domains are only called with the GIL
 * held; the raw domain and malloc may be called without it. The tree, the
 * table and the counters belong to the GIL holder; events of threads
 * without the GIL go through a queue under a spin lock (hooks.c).
 * Per-thread state (a reentrancy flag, the frame buffer and the last
 * stack) hangs off a pthread key the engine owns, so nothing here is a
 * process global.
 */
#ifndef HOTSCOPE_MEM_H
#define HOTSCOPE_MEM_H

#include "../compat.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "../preload/native_hook.h"
#include "mem_lines.h"
#include "ptrtable.h"
#include "pystack.h"
#include "stacktrie.h"

typedef struct hs_mem hs_mem;

/* One hooked domain: the engine and the allocator it wraps. */
typedef struct {
    hs_mem *engine;
    PyMemAllocatorDomain domain;
    PyMemAllocatorEx prev;
    int inflight;           /* raw domain: calls inside the hook now */
} hs_mem_domain;

/* The last stack a thread recorded, root first, with its node ids: the
 * next allocation only looks up the frames that differ. */
typedef struct {
    uintptr_t code;
    int32_t offset;
    uint32_t node;
    uintptr_t frame;  /* the frame's address when last read (3.11+) */
} hs_mem_cached_frame;

/* A node looked up lately by this thread: (parent, code, offset) -> node.
 * The tree's index serves any key; this one-way cache answers the few a
 * running leaf moves between in one compare (mem_stack.h, hs_mem_child_node). */
typedef struct {
    uintptr_t code;  /* 0: empty */
    uint32_t parent;
    int32_t offset;
    uint32_t node;
} hs_mem_memo;

#define HS_MEM_MEMO 64 /* a power of two */

typedef struct hs_mem_tls {
    int busy;       /* inside a hook: nested allocator calls pass through */
    uint32_t root;  /* this thread's node under the root, or HS_TRIE_NONE */
    hs_frame_key *frames;
    size_t frame_cap;
    hs_mem_cached_frame *cache;
    size_t cache_len, cache_cap;
    hs_mem_memo memo[HS_MEM_MEMO];
    int low;        /* with exits watched: frames below this depth have not run
                     * since the last event; 0 = read the whole stack */
    int chosen_depth; /* frames of chosen code running on this thread, counted
                       * when m->lines_gated (mem_lines.h) */
    unsigned long ident; /* the thread's threading.get_ident() and kernel id, */
    uint64_t os_tid;     /* noted by the thread itself (its events may be
                          * applied by another thread: native.c) */
    /* Native unwinding (native.c): step rules by address, the stack's bounds. */
    struct hs_step_rule_cache *rules;
    uintptr_t stack_lo, stack_hi; /* 0, 0: not known yet; 1, 0: unknown */
    uint64_t unwinds_fast, unwinds_slow, unwind_mismatches;
    struct hs_mem_tls *next;
} hs_mem_tls;

typedef struct {
    unsigned long ident;  /* threading.get_ident() */
    uint64_t os_tid;
} hs_mem_thread;

typedef struct {
    int64_t t_ns, heap, rss;
} hs_mem_point;

/* An event of a thread without the GIL, waiting for the GIL holder to
 * apply it. Raw-domain events have no frames and go to the "[no GIL]"
 * thread; native allocations (native.c) carry their frames in
 * pending_frames: the Python stack (leaf first; charged to their thread)
 * then the native frames (leaf first). */
typedef struct {
    uintptr_t addr;
    uint64_t size;
    uint8_t is_free;
    uint8_t held;        /* the tree held every code object of its Python frames */
    uint16_t py_frames, native_frames;
    uint32_t frames_at;  /* index in pending_frames */
    hs_mem_tls *tls;     /* the thread of a native allocation with Python frames */
    PyThreadState *tstate; /* and its thread state */
} hs_mem_pending;

/* An allocation of a thread with the GIL whose table entry waits for the
 * next flush (hooks.c): most blocks are freed before it, and never touch
 * the table. */
typedef struct {
    uintptr_t addr;
    uint64_t size;
    uint32_t node;
    uint32_t freed;   /* freed since: nothing left to put */
} hs_mem_event;

#define HS_MEM_BATCH 256

/* Thread slot 0 stands for raw-domain calls made without the GIL, whose
 * Python stack cannot be read safely. */
#define HS_MEM_NOGIL_SLOT 0

struct hs_mem {
    uint64_t id;                /* unique per engine in this process */
    hs_mem_domain *domains;     /* raw, mem, object; never freed (see hooks.c) */
    int installed;
    int lock;                   /* spin lock over the pending queue and the thread list */
    hs_mem_pending *pending;
    size_t pending_count, pending_cap;
    hs_frame_key *pending_frames;
    size_t pending_frame_count, pending_frame_cap;
    hs_frame_key *live_frames;  /* scratch: a stack read while draining */
    size_t live_frame_cap;
    int64_t pending_lost;
    pthread_key_t key;
    int key_created;
    hs_mem_tls *tls_list;       /* every thread's state, freed with the engine */

    hs_pystack_layout layout;
    int watching;               /* frame exits are reported (mem_watch.c) */
    int evalhook;               /* before 3.12: the evaluation hook reports them (src/pymod/evalhook.h) */
    int64_t full_walks;         /* events whose partial read failed its check */
    hs_stacktrie trie;
    hs_ptrtable table;
    hs_mem_lines lines;         /* chosen functions (mem_lines.h) */
    int lines_gated;            /* threads count their chosen frames (chosen_depth),
                                 * so frees outside them skip the stack */
    hs_mem_thread *threads;
    size_t thread_count, thread_cap;
    uint32_t nogil_root;

    /* The GIL holder's table work waiting for a flush (hooks.c). */
    hs_mem_event batch[HS_MEM_BATCH];      /* allocations */
    uint16_t batch_index[2 * HS_MEM_BATCH]; /* by address: 1 + index in batch, 0: none */
    uintptr_t frees_waiting[HS_MEM_BATCH]; /* frees of blocks from before the batch */
    unsigned batch_count, free_count;

    int64_t current_bytes;      /* live traced bytes, and the waiting frees' (hooks.c, flush) */
    int64_t current_blocks;
    int64_t peak_bytes, peak_blocks;
    int64_t peak_ns;            /* when the peak was reached, since start */
    int64_t snap_bytes;         /* current_bytes at the last peak snapshot */
    int64_t total_bytes, total_allocs, frees;
    int64_t lost;               /* events not recorded: the engine's own memory ran out */

    int64_t start_ns, stop_ns;
    int64_t interval_ns;        /* memory-over-time sampling period */
    int64_t next_point_ns;
    unsigned events_to_clock;   /* allocations left before the clock is read again */
    int statm_fd;               /* /proc/self/statm, for the RSS */
    long page_size;
    hs_mem_point *points;
    size_t point_count, point_cap;

    pid_t pid;                  /* the process that started recording */

    /* Native allocations (native.c), when asked for. */
    int native;                 /* malloc and friends are recorded */
    int verify_unwind;          /* unwind each stack both ways and compare (tests) */
    int native_registered;      /* the interposer calls this engine */
    hs_native_hooks native_hooks;
    hs_native_set_hooks_fn native_set_hooks;
    uintptr_t interp_lo, interp_hi; /* the interpreter's code: native stacks stop there */
    uintptr_t *held_codes;      /* set of the code objects the tree holds (under the lock) */
    size_t held_count, held_cap;
};

/* Sets up an engine (not yet hooked). 0, or -1 with a message in err. */
int hs_mem_init(hs_mem *m, int64_t interval_ns, char *err, size_t errlen);
/* Frees everything but the code object references (mem_type.c drops those
 * and the chosen functions with the GIL held first: hs_mem_release_codes). */
void hs_mem_free(hs_mem *m);
void hs_mem_release_codes(hs_mem *m);

/* Installs / removes the hooks (GIL held). Install fails when another
 * hotscope engine's hooks are in place. 0 or -1 with a message. */
int hs_mem_install(hs_mem *m, char *err, size_t errlen);
void hs_mem_uninstall(hs_mem *m);
/* In a forked child: drop the hooks without touching the lock, which a
 * thread of the parent may have held at the fork. */
void hs_mem_forget_after_fork(hs_mem *m);

/* A frame of `code` on this thread is leaving (return, yield, unwind):
 * frames down to its caller may run again (mem_watch.c; GIL held). */
void hs_mem_note_exit(hs_mem *m, PyThreadState *tstate, PyObject *code);
/* A frame of `code` starts or resumes on this thread (GIL held): counted
 * when the code is chosen. */
void hs_mem_note_entry(hs_mem *m, PyObject *code);
/* Counts the chosen frames on the calling thread's stack again (after
 * choosing code while recording, or at the start). GIL held. */
void hs_mem_recount_chosen(hs_mem *m);
/* The calling thread's count of running chosen frames (for stats()). */
int hs_mem_chosen_depth(hs_mem *m);

/* Applies raw-domain events queued by threads without the GIL (GIL held). */
void hs_mem_drain(hs_mem *m);

/* Takes the final peak snapshot when the end is the peak, and the last
 * point of the series. Called once hooks are removed. */
void hs_mem_finish(hs_mem *m);

int64_t hs_mem_now_ns(void);

/* The engine's own allocator functions: whether some domain already has
 * them (another MemTracer is running). */
int hs_mem_hooks_active(void);

/* ---- native allocations (native.c) ---------------------------------------- */

/* Whether hotscope's malloc interposer is loaded in this process. */
int hs_mem_native_available(void);
/* Has the interposer report to `m` (before the allocator hooks go in).
 * 0, or -1 with a message. */
int hs_mem_native_start(hs_mem *m, char *err, size_t errlen);
/* Stops the reports; returns once none is running. */
void hs_mem_native_stop(hs_mem *m);
/* Frees a thread's native unwinding state. */
void hs_mem_native_free_thread(hs_mem_tls *tls);
/* Stacks unwound from cached step rules, with _Unwind_Backtrace, and
 * (with verify_unwind) the stacks where the two differed. Lock held. */
void hs_mem_native_unwind_counts(const hs_mem *m, uint64_t counts[3]);
/* The node under `node` for native frames (return addresses, leaf
 * first), outermost first. GIL held. */
uint32_t hs_mem_native_chain(hs_mem *m, uint32_t node, const hs_frame_key *frames, size_t n);
/* The set of code objects the tree holds a reference to, so a thread
 * without the GIL may name them in a queued event: they cannot be freed
 * before it is applied. Both under the engine's lock. */
int hs_mem_hold_code(hs_mem *m, uintptr_t code);
int hs_mem_codes_held(const hs_mem *m, const hs_frame_key *frames, size_t n);

/* What native.c uses of hooks.c. */
hs_mem_tls *hs_mem_enter(hs_mem *m); /* NULL: do not record (nested call, no memory) */
void hs_mem_leave(hs_mem_tls *tls);
void hs_mem_lock(hs_mem *m);
void hs_mem_unlock(hs_mem *m);
/* A native allocation with the GIL: charged to this thread's Python stack
 * with `native` (leaf first) under it. */
void hs_mem_record_native(hs_mem *m, hs_mem_tls *tls, void *ptr, size_t size,
                          const hs_frame_key *native, size_t n);
/* A native free with the GIL: takes the block out of the table; 1 with
 * its entry when it was traced. hs_mem_charge_free_native then charges
 * the chosen lines on the stack (a realloc does so once it succeeded). */
int hs_mem_forget_native(hs_mem *m, hs_mem_tls *tls, void *ptr, hs_ptr_entry *was);
void hs_mem_charge_free_native(hs_mem *m, hs_mem_tls *tls, uint64_t size);
/* Puts back a block taken out by hs_mem_forget_native (a failed realloc). */
void hs_mem_restore_block(hs_mem *m, const hs_ptr_entry *was);
/* Without the GIL: queues a free, or an allocation with its thread's
 * Python frames (read from `tstate` by the thread itself) and native
 * frames. */
void hs_mem_queue_native(hs_mem *m, hs_mem_tls *tls, PyThreadState *tstate, uintptr_t addr,
                         uint64_t size, int is_free, const hs_frame_key *py, size_t py_n,
                         const hs_frame_key *native, size_t native_n);
/* An event that could not be recorded (without the GIL). */
void hs_mem_queue_lost(hs_mem *m);

#endif
