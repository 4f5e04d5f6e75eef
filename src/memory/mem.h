/*
 * mem.h - the memory engine: CPython's allocators (raw, mem and object
 * domains) wrapped by hooks that record every block's size and the Python
 * stack that asked for it, matched with its free.
 *
 * Pieces: hooks.c (the allocator wrappers and what one event costs),
 * pystack.c (the stack, read from the interpreter's frames), stacktrie.c
 * (stacks deduplicated into a call tree with counters), ptrtable.c (live
 * blocks), mem_lines.c (per-line figures of chosen functions),
 * mem_export.c (the tree resolved to files, functions and lines in the
 * profile model), mem_type.c (hotscope._core.MemTracer), mem_watch.c
 * (sys.monitoring events on 3.12+).
 *
 * Concurrency: the mem and object domains are only called with the GIL
 * held; the raw domain may be called without it. The tree, the table and
 * the counters belong to the GIL holder; raw-domain events of threads
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

typedef struct hs_mem_tls {
    int busy;       /* inside a hook: nested allocator calls pass through */
    uint32_t root;  /* this thread's node under the root, or HS_TRIE_NONE */
    hs_frame_key *frames;
    size_t frame_cap;
    hs_mem_cached_frame *cache;
    size_t cache_len, cache_cap;
    int low;        /* with exits watched: frames below this depth have not run
                     * since the last event; 0 = read the whole stack */
    int chosen_depth; /* frames of chosen code running on this thread, counted
                       * when m->lines_gated (mem_lines.h) */
    struct hs_mem_tls *next;
} hs_mem_tls;

typedef struct {
    unsigned long ident;  /* threading.get_ident() */
    uint64_t os_tid;
} hs_mem_thread;

typedef struct {
    int64_t t_ns, heap, rss;
} hs_mem_point;

/* A raw-domain event of a thread without the GIL, waiting for the GIL
 * holder to apply it. */
typedef struct {
    uintptr_t addr;
    uint64_t size;
    int is_free;
} hs_mem_pending;

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
    int64_t pending_lost;
    pthread_key_t key;
    int key_created;
    hs_mem_tls *tls_list;       /* every thread's state, freed with the engine */

    hs_pystack_layout layout;
    int watching;               /* frame exits are reported (mem_watch.c) */
    int64_t full_walks;         /* events whose partial read failed its check */
    hs_stacktrie trie;
    hs_ptrtable table;
    hs_mem_lines lines;         /* chosen functions (mem_lines.h) */
    int lines_gated;            /* threads count their chosen frames (chosen_depth),
                                 * so frees outside them skip the stack */
    hs_mem_thread *threads;
    size_t thread_count, thread_cap;
    uint32_t nogil_root;

    int64_t current_bytes;      /* live traced bytes */
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

#endif
