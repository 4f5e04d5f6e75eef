/*
 * model.h - the one profile model that every engine fills and every
 * renderer reads (see DESIGN.md, "One picture").
 *
 * A profile is:
 *   - a string table (strtab.h);
 *   - interned frames: (name, file, first line, current line, kind);
 *   - a call tree: node 0 is the root; each node is one distinct call path,
 *     so a deterministic trace and a sampled profile render the same way.
 *     Each thread has its own subtree under a synthetic thread frame;
 *   - per node, SELF weights only (calls, wall ns, CPU ns, samples, bytes,
 *     allocations). Totals are derived (a node's total is its self plus its
 *     children's totals), which keeps "self times add up to the total" true
 *     by construction;
 *   - a thread table and string metadata (command, Python version, ...);
 *   - series over time (samples per interval, heap bytes, RSS) and line
 *     tables (figures per line of chosen functions, kept beside the tree).
 *
 * Per-function and per-edge statistics with cProfile's semantics are
 * derived from the tree by stats.h, not recorded separately.
 *
 * Ownership: a profile owns all its memory; nothing here touches Python.
 * Not thread-safe: one profile is filled by one engine under its own lock
 * (for the tracer, the GIL).
 */
#ifndef HOTSCOPE_MODEL_H
#define HOTSCOPE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "strtab.h"

typedef enum {
    HS_KIND_PYTHON = 0, /* a Python function */
    HS_KIND_NATIVE = 1, /* a builtin or C function, shown as cProfile shows it */
    HS_KIND_THREAD = 2, /* synthetic root of one thread's stacks */
    HS_KIND_OTHER = 3,  /* other synthetic frames ([gc], process roots, ...) */
} hs_frame_kind;

typedef struct {
    hs_id name;         /* qualified function name, or a builtin's cProfile label */
    hs_id file;         /* file name; "~" for builtins, as pstats writes them */
    int32_t first_line; /* the function's first line; for thread frames, the thread index */
    int32_t line;       /* the line executing, or 0 where only functions are tracked */
    hs_frame_kind kind;
} hs_frame;

typedef enum {
    HS_W_CALLS = 0,   /* completed calls (tracer) */
    HS_W_WALL_NS = 1, /* wall-clock nanoseconds */
    HS_W_CPU_NS = 2,  /* thread CPU nanoseconds */
    HS_W_SAMPLES = 3, /* samples (sampler) */
    HS_W_BYTES = 4,   /* bytes allocated (memory) */
    HS_W_ALLOCS = 5,  /* allocations (memory) */
    HS_W_PEAK_BYTES = 6,  /* bytes live at the peak of the heap (memory) */
    HS_W_PEAK_ALLOCS = 7, /* blocks live at the peak (memory) */
    HS_W_LEAK_BYTES = 8,  /* bytes still live at the end (memory) */
    HS_W_LEAK_ALLOCS = 9, /* blocks still live at the end (memory) */
    HS_W_COUNT = 10
} hs_weight;

/* The weight's name in files and APIs ("calls", "wall_ns", ...,
 * "leak_allocs"), or NULL for a value that is not a weight. */
const char *hs_weight_name(hs_weight w);

#define HS_ROOT ((hs_id)0)

/* a + b, clamped to the int64 range: weights are summed over millions of
 * nodes, and a clamped sum is honest where a wrapped one would lie. */
static inline int64_t hs_sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

typedef struct {
    hs_id parent;       /* HS_NONE for the root */
    hs_id frame;        /* HS_NONE for the root */
    hs_id first_child;  /* HS_NONE when a leaf */
    hs_id next_sibling; /* HS_NONE when last */
    hs_id last_child;   /* HS_NONE when a leaf; makes appending a child O(1) */
    int64_t self[HS_W_COUNT];
} hs_node;

/* What the sampler found a thread doing at each pass, in its gil and cpu
 * modes (all zero otherwise): the GIL contention of each thread. */
typedef enum {
    HS_GIL_HELD = 0,        /* it held the GIL */
    HS_GIL_RUNNING = 1,     /* on a CPU (running or runnable) without the GIL: C code
                             * that released it (hashlib, zlib, numpy...) */
    HS_GIL_WAIT = 2,        /* off the CPU in a futex wait on the GIL's own mutex or
                             * condition (in files of four states, written before
                             * the sampler told them apart, lock waits too) */
    HS_GIL_OTHER_WAIT = 3,  /* off the CPU otherwise: sleep, I/O, select */
    HS_GIL_LOCK_WAIT = 4,   /* off the CPU in any other futex wait: a threading lock,
                             * a condition, a queue, join() (last, so that files of
                             * four states keep their meaning) */
    HS_GIL_STATE_COUNT = 5
} hs_gil_state;

typedef struct {
    hs_id name;          /* thread name, e.g. "MainThread" */
    uint64_t os_tid;     /* kernel thread id */
    uint64_t ident;      /* threading.get_ident() */
    hs_id root;          /* the thread's node (child of HS_ROOT) */
    int64_t wall_ns;     /* wall time the engine saw this thread */
    int64_t cpu_ns;      /* CPU time the thread used while seen */
    int64_t gil_states[HS_GIL_STATE_COUNT]; /* passes that found it in each state */
} hs_thread;

typedef struct {
    hs_id key;
    hs_id value;
} hs_meta;

/* One point of a time series: a value at a moment, in nanoseconds since the
 * profile started (meta "start_ns" holds the wall clock of that moment). */
typedef struct {
    int64_t t_ns;
    int64_t value;
} hs_point;

/* A named series over time: samples per interval of one thread (the
 * sampler's timeline), heap bytes or RSS (the memory engine). Points are
 * appended in time order; renderers draw them as they are. */
typedef struct {
    hs_id name;      /* e.g. "samples", "heap_bytes", "rss_bytes" */
    hs_id unit;      /* e.g. "count", "bytes" */
    int32_t thread;  /* index into threads, or -1 for the whole process */
    hs_point *points;
    size_t count, cap;
} hs_series;

/* One row of a line table: a frame (a function at one line, or at line 0
 * for the function as a whole) and a value. */
typedef struct {
    hs_id frame;
    int64_t value;
} hs_line_value;

/* A named figure per line of chosen functions, kept beside the call tree
 * because it is not a weight of a call path: the memory engine's `--func`
 * view (bytes allocated and freed while each line of a function ran,
 * callees included, so the lines of one function can overlap under
 * recursion). Rows are appended; a frame may appear in several rows, and
 * readers sum them. */
typedef struct {
    hs_id name;      /* e.g. "alloc_bytes", "allocs", "freed_bytes", "frees" */
    hs_id unit;      /* e.g. "bytes", "count" */
    hs_line_value *rows;
    size_t count, cap;
} hs_line_table;

/* One call picked out for its duration: the tracer's --slow-calls keeps the
 * N slowest calls of each function, each with who called it and a short
 * text of its arguments, because a mean over calls hides the function that
 * is slow only for some inputs. Kept beside the tree: a call is not a
 * call path. */
typedef struct {
    hs_id function;  /* the function's frame (line 0) */
    hs_id caller;    /* the calling function's frame; HS_NONE at the top of a thread */
    int32_t thread;  /* index into threads */
    int64_t wall_ns; /* how long the call took, callees included */
    hs_id args;      /* string: the arguments, e.g. "n=5, items=[1, 2, ...]"; "" unknown */
} hs_slow_call;

/* A slot of the index of children: the key beside the node it finds, so
 * a lookup reads the slot alone. With millions of nodes each read is a
 * cache miss, and reading each node on the probe sequence to compare
 * keys was one more per step. node HS_NONE: empty. */
typedef struct {
    hs_id parent, frame, node;
} hs_child_slot;

typedef struct hs_profile {
    hs_strtab strings;

    hs_frame *frames;
    size_t frame_count, frame_cap;
    hs_id *frame_slots;      /* hash of frame ids */
    size_t frame_slot_count;

    hs_node *nodes;
    size_t node_count, node_cap;
    hs_child_slot *child_slots; /* hash of (parent, frame) -> node id */
    size_t child_slot_count;

    hs_thread *threads;
    size_t thread_count, thread_cap;

    hs_meta *meta;
    size_t meta_count, meta_cap;

    hs_series *series;
    size_t series_count, series_cap;

    hs_line_table *line_tables;
    size_t line_table_count, line_table_cap;

    hs_slow_call *slow_calls; /* grouped by function, slowest first within one */
    size_t slow_call_count, slow_call_cap;

    unsigned weights_present; /* bit (1u << hs_weight) set for each weight recorded */
} hs_profile;

/* Returns a new empty profile holding just the root node, or NULL. */
hs_profile *hs_profile_new(void);
void hs_profile_free(hs_profile *p);
/* A deep copy (for a snapshot of a profile still being recorded), or NULL. */
hs_profile *hs_profile_clone(const hs_profile *src);
/* A new profile holding src's strings and frames under the same ids, and
 * only the root node: no calls, threads, weights or metadata. The next
 * period of a continuous recording, whose engine caches ids of both. NULL
 * on failure. */
hs_profile *hs_profile_tables_copy(const hs_profile *src);

hs_id hs_intern(hs_profile *p, const char *s, size_t len);
hs_id hs_intern_cstr(hs_profile *p, const char *s);
const char *hs_str(const hs_profile *p, hs_id id, size_t *len);

/* Interns a frame; the same fields always give the same id. HS_NONE on failure. */
hs_id hs_frame_intern(hs_profile *p, hs_id name, hs_id file, int32_t first_line,
                      int32_t line, hs_frame_kind kind);
static inline const hs_frame *hs_frame_get(const hs_profile *p, hs_id id) {
    return &p->frames[id];
}
/* Forgets the frames interned after the first `count`, which no node may
 * use: for a renderer that interned function frames (stats.h) only to
 * compute with them, so that rendering leaves the profile as it was.
 * Returns 0, or -1 on allocation failure (the frames are then kept). */
int hs_frames_truncate(hs_profile *p, size_t count);

/* The child of `parent` for `frame`, created if absent. HS_NONE on failure. */
hs_id hs_node_child(hs_profile *p, hs_id parent, hs_id frame);
static inline hs_node *hs_node_get(const hs_profile *p, hs_id id) {
    return &p->nodes[id];
}
/* Adds `value` to a node's self weight and marks the weight present. */
void hs_node_add(hs_profile *p, hs_id node, hs_weight w, int64_t value);
/* Adds one stack (root-most frame first) with the given weights; returns the leaf.
 * Only non-zero weights are added (and marked present); `weights` may be NULL.
 * Returns HS_NONE on failure (nodes created before the failure stay). */
hs_id hs_add_stack(hs_profile *p, const hs_id *frames, size_t depth,
                   const int64_t weights[HS_W_COUNT]);

/* Registers a thread and creates its root node; returns the thread index or -1. */
int hs_thread_add(hs_profile *p, const char *name, uint64_t os_tid, uint64_t ident);
/* A better name (and kernel id) for thread `index`, learnt after it was
 * added: the sampler may meet a thread before it has either. */
int hs_thread_rename(hs_profile *p, int index, const char *name, uint64_t os_tid);

/* Sets (replacing) a metadata string. Returns 0 or -1. */
int hs_meta_set(hs_profile *p, const char *key, const char *value);
const char *hs_meta_get(const hs_profile *p, const char *key);

/* The index of the series (name, unit, thread), created if absent; -1 on
 * failure. `thread` is a thread index or -1 for the whole process. */
int hs_series_get(hs_profile *p, const char *name, const char *unit, int32_t thread);
/* Appends a point to series `index`. Returns 0 or -1. */
int hs_series_push(hs_profile *p, int index, int64_t t_ns, int64_t value);

/* The index of the line table (name, unit), created if absent; -1 on
 * failure. */
int hs_line_table_get(hs_profile *p, const char *name, const char *unit);
/* Appends a row to line table `index`. Returns 0 or -1. */
int hs_line_table_push(hs_profile *p, int index, hs_id frame, int64_t value);
/* The index of the line table named `name`, or -1 when there is none. */
int hs_line_table_find(const hs_profile *p, const char *name);

/* Appends a slow call. Returns 0 or -1. */
int hs_slow_call_add(hs_profile *p, const hs_slow_call *call);

/* Fills totals[node] = self + all descendants' self, for every node and one
 * weight. Iterative: safe on stacks 100,000 deep. `totals` has node_count
 * entries. */
void hs_node_totals(const hs_profile *p, hs_weight w, int64_t *totals);

/* Walks the tree depth-first without recursion, children in insertion order.
 * Calls visit(node, depth) on entry (depth 0 for `start`); returning non-zero
 * skips the subtree. Returns 0, or -1 if `start` is not a node. */
typedef int (*hs_visit_fn)(const hs_profile *p, hs_id node, size_t depth, void *ctx);
int hs_walk(const hs_profile *p, hs_id start, hs_visit_fn visit, void *ctx);

#endif
