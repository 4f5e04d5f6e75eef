/*
 * calltree.h - the deterministic tracer's hot data: a call tree keyed by
 * what was called, one call stack per thread, and the charging of time.
 *
 * This is the part of the tracer that runs on every call and return, so it
 * is plain C with no Python in it; the hooks (hooks_monitoring.c for 3.12+,
 * hooks_legacy.c before) turn interpreter events into calls of the inline
 * functions below, and tracer_type.c exports the result into the profile
 * model (model.h) when a report is asked for.
 *
 * How time is charged: at every event the time since the thread's previous
 * event goes to the node on top of that thread's stack, as its SELF time.
 * Totals are derived later (a node's total is its subtree's self), so self
 * times add up to the total exactly and no start time is kept per frame.
 *
 * How CPU time stays cheap: reading the thread CPU clock costs ~500 ns here,
 * so each thread runs a virtual CPU clock that advances with the wall ticks,
 * and is corrected against the real CPU clock once at least `cpu_quantum`
 * of wall time has passed since the last reading. The correction (the time
 * the thread spent off the CPU: sleeping, blocked, waiting for the GIL) is
 * charged to the interval that just ended. A wait longer than the quantum
 * always ends such an interval, so at most one quantum of off-CPU time per
 * correction can be charged to a neighbouring interval; per-thread CPU
 * totals are exact.
 */
#ifndef HOTSCOPE_CALLTREE_H
#define HOTSCOPE_CALLTREE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

#define HS_CT_NONE 0xFFFFFFFFu

typedef struct {
    const void *key;        /* code object or PyMethodDef: what was called */
    const void *cache_key[2]; /* the last two children looked up from here, */
    uint32_t cache_child[2];  /* so loops, recursion and a loop calling two */
                              /* functions in turn skip the hash */
    uint32_t parent;
    uint32_t func;          /* index in the function table; HS_CT_NONE for roots */
    uint32_t thread;        /* index of the owning thread */
    int64_t calls;          /* completed calls of this call path */
    int64_t wall_ticks;     /* self wall time, in clock ticks */
    int64_t cpu_extra_ticks;/* self CPU time (virtual clock) minus self wall
                             * time: it changes only at CPU corrections and
                             * waits, so most charges add to wall_ticks alone */
} hs_tnode;

/* A node's self CPU time, in clock ticks. */
static inline int64_t hs_tnode_cpu_ticks(const hs_tnode *node) {
    return node->wall_ticks + node->cpu_extra_ticks;
}

/* What a function table entry is: exported as the model's frame kinds
 * (Python and async functions both as Python frames). */
typedef enum {
    HS_TFUNC_PYTHON = 0,    /* a Python function or plain generator */
    HS_TFUNC_ASYNC = 1,     /* a coroutine, async generator or @types.coroutine */
    HS_TFUNC_NATIVE = 2,    /* a builtin or C function */
    HS_TFUNC_SYNTHETIC = 3, /* not code: [gc] (gc_hook.c), asyncio task roots and
                             * [await ...] (async_tasks.c) */
} hs_tfunc_kind;

/* Whether the function is Python code (its key is a code object). */
static inline int hs_tfunc_is_code(hs_tfunc_kind kind) {
    return kind == HS_TFUNC_PYTHON || kind == HS_TFUNC_ASYNC;
}

typedef struct {
    char *name;             /* qualified name, or the cProfile label of a builtin */
    char *file;             /* "~" for builtins and synthetic frames */
    int first_line;
    hs_tfunc_kind kind;
} hs_tfunc;

/* A task step open on a thread's stack (async_tasks.c): the task, and the
 * stack depth at which its synthetic root sits. */
typedef struct {
    const void *task;       /* compared, never dereferenced */
    size_t depth;
} hs_task_step;

/* The yields of one suspension, innermost first: when a task waits, every
 * coroutine of its await chain yields the same object in turn, each from
 * the frame just below the previous one. */
typedef struct {
    uint32_t node;          /* the innermost frame that yielded, or HS_CT_NONE */
    size_t depth;           /* stack depth after the latest yield of the chain */
    const void *value;      /* what the chain yields (compared, never dereferenced) */
    const void *code;       /* the innermost frame's code object */
    int offset;             /* and the offset of its yield, in bytes */
} hs_await_chain;

typedef struct {
    uint32_t index;         /* in the calltree's thread table */
    uint32_t root;          /* this thread's node */
    uint32_t *stack;        /* node ids; stack[0] is the root */
    uint64_t *entered;      /* the time each frame on the stack was entered (slow calls) */
    size_t depth, cap;
    uint64_t last_ticks;    /* time of the previous event */
    uint64_t cpu_mark_ticks;/* wall ticks at the last real CPU reading */
    int64_t cpu_mark_ns;    /* the CPU clock at that reading */
    int64_t cpu_carry;      /* correction not yet charged (<= 0) */
    uint64_t cpu_due_ticks; /* hs_ct_charge's slow path runs from here on */
    int64_t first_cpu_ns;   /* CPU clock at the first event seen */
    uint64_t first_ticks;
    clockid_t cpu_clock;    /* this thread's CPU clock, readable from others */
    int has_cpu_clock;
    uint64_t os_tid, ident;
    char name[64];          /* thread name; empty until known */
    /* asyncio bookkeeping (async_tasks.c); idle without tasks */
    hs_await_chain chain;
    hs_task_step *steps;
    size_t step_count, step_cap;
} hs_tthread;

typedef struct {
    hs_clock clock;
    int64_t cpu_quantum_ticks;

    hs_tnode *nodes;
    size_t node_count, node_cap;
    uint32_t *child_slots;  /* (parent, key) -> node */
    size_t child_slot_count;

    hs_tfunc *funcs;
    size_t func_count, func_cap;
    uint32_t *func_slots;   /* key -> func */
    size_t func_slot_count;
    const void **func_keys; /* func -> key */
    uint32_t *synth_slots;  /* (name, file, line) -> synthetic func */
    size_t synth_slot_count, synth_count;

    hs_tthread **threads;
    size_t thread_count, thread_cap;
} hs_calltree;

int hs_ct_init(hs_calltree *ct, int64_t cpu_quantum_ns);
void hs_ct_free(hs_calltree *ct);
/* Drops every recorded call; threads keep their identity but restart empty. */
void hs_ct_clear(hs_calltree *ct);

/* Function table. Returns the index, or HS_CT_NONE if absent / on failure. */
uint32_t hs_ct_func_find(const hs_calltree *ct, const void *key);
uint32_t hs_ct_func_add(hs_calltree *ct, const void *key, const char *name,
                        const char *file, int first_line, hs_tfunc_kind kind);
/* The synthetic function named (name, file, line), added if absent: the
 * one way [gc], task roots and [await ...] frames get their functions. Its
 * key is its own copy of the name, an address no Python object can have
 * while the calltree lives. HS_CT_NONE on allocation failure. */
uint32_t hs_ct_synthetic_func(hs_calltree *ct, const char *name, const char *file, int line);
/* The child of `parent` for function `func`, added if absent; HS_CT_NONE
 * on allocation failure. */
uint32_t hs_ct_child_get(hs_calltree *ct, uint32_t parent, uint32_t func);

/* A new thread with its root node; NULL on allocation failure. */
hs_tthread *hs_ct_thread_new(hs_calltree *ct, uint64_t os_tid, uint64_t ident);

/* Slow paths of the inline functions below. */
uint32_t hs_ct_child_find(hs_calltree *ct, uint32_t parent, const void *key);
/* hs_ct_child_find, remembering the answer in the parent's cache. */
uint32_t hs_ct_lookup_slow(hs_calltree *ct, uint32_t parent, const void *key);
uint32_t hs_ct_child_add(hs_calltree *ct, uint32_t parent, const void *key, uint32_t func);
int hs_ct_stack_grow(hs_tthread *t);
int64_t hs_ct_cpu_correct(hs_calltree *ct, hs_tthread *t, uint64_t now);
/* The CPU time of an interval of `wall` ticks ending now, with any
 * correction due; schedules the next one. */
int64_t hs_ct_cpu_interval(hs_calltree *ct, hs_tthread *t, uint64_t now, int64_t wall);
/* Pops down to the topmost frame of `key`, if it is on the stack at all. */
void hs_ct_pop_mismatch(hs_calltree *ct, hs_tthread *t, const void *key);
/* Charges time up to now and closes every open frame, as at a return. */
void hs_ct_flush(hs_calltree *ct, hs_tthread *t);

/* Charges the time since the thread's previous event to its top frame.
 * The CPU share equals the wall share except when a correction is due
 * (the quantum has passed, or an earlier correction is still owed): one
 * comparison on the fast path. */
static inline void hs_ct_charge(hs_calltree *ct, hs_tthread *t, uint64_t now) {
    int64_t wall = (int64_t)(now - t->last_ticks);
    if (wall < 0) /* a tick source is monotonic, but never trust it blindly */
        wall = 0;
    t->last_ticks = now;
    hs_tnode *top = &ct->nodes[t->stack[t->depth - 1]];
    top->wall_ticks += wall;
    if (now >= t->cpu_due_ticks)
        top->cpu_extra_ticks += hs_ct_cpu_interval(ct, t, now, wall) - wall;
}

/* The node for calling `key` from the top of the stack, or HS_CT_NONE if
 * that call path is new (the caller then resolves the function and calls
 * hs_ct_child_add). */
static inline uint32_t hs_ct_lookup(hs_calltree *ct, hs_tthread *t, const void *key) {
    hs_tnode *top = &ct->nodes[t->stack[t->depth - 1]];
    if (top->cache_key[0] == key)
        return top->cache_child[0];
    if (top->cache_key[1] == key)
        return top->cache_child[1];
    return hs_ct_lookup_slow(ct, t->stack[t->depth - 1], key);
}

/* A call and a return in their common case, all or nothing: each returns
 * 0, having changed nothing, when a rare case applies (a CPU correction is
 * due, the callee is not in the top node's two-entry cache, the stack is
 * full; a return that is not of the top frame, or finds the stack empty),
 * and 1 having charged the time since the previous event and pushed or
 * popped the frame, exactly as hs_ct_charge followed by hs_ct_lookup and
 * hs_ct_push, or by hs_ct_pop, would have. The caller then takes that
 * general path only for the rare cases, as a tail call, so the common case
 * needs no callee-saved registers: GCC compiles the sys.monitoring
 * callbacks (hooks_monitoring.c) into leaf code without a prologue, about
 * half the instructions of the general path. Depth and the top node are
 * read once into locals: stores through int64 fields could alias them. */
/* hs_ct_charge with no CPU correction due: CPU advances with wall, which
 * cpu_extra_ticks leaves as it is. */
static inline void hs_ct_charge_fast(hs_tthread *t, hs_tnode *top, uint64_t now) {
    int64_t wall = (int64_t)(now - t->last_ticks);
    if (wall < 0) /* as in hs_ct_charge */
        wall = 0;
    t->last_ticks = now;
    top->wall_ticks += wall;
}

static inline int hs_ct_enter_fast(hs_calltree *ct, hs_tthread *t, const void *key,
                                   uint64_t now) {
    size_t depth = t->depth;
    if (now >= t->cpu_due_ticks || depth == t->cap)
        return 0;
    hs_tnode *top = &ct->nodes[t->stack[depth - 1]];
    uint32_t node;
    if (top->cache_key[0] == key)
        node = top->cache_child[0];
    else if (top->cache_key[1] == key)
        node = top->cache_child[1];
    else
        return 0;
    hs_ct_charge_fast(t, top, now);
    t->entered[depth] = now;
    t->stack[depth] = node;
    t->depth = depth + 1;
    return 1;
}

static inline int hs_ct_leave_fast(hs_calltree *ct, hs_tthread *t, const void *key,
                                   uint64_t now) {
    size_t depth = t->depth;
    if (now >= t->cpu_due_ticks || depth <= 1)
        return 0;
    hs_tnode *top = &ct->nodes[t->stack[depth - 1]];
    if (top->key != key)
        return 0;
    hs_ct_charge_fast(t, top, now);
    top->calls++;
    t->depth = depth - 1;
    return 1;
}

/* Pushes `node`, entered at `now`. */
static inline int hs_ct_push(hs_tthread *t, uint32_t node, uint64_t now) {
    if (t->depth == t->cap && hs_ct_stack_grow(t) != 0)
        return -1;
    t->entered[t->depth] = now;
    t->stack[t->depth++] = node;
    return 0;
}

/* A return from `key`: closes the top frame when it is `key`. Returns of
 * frames entered before tracing began find an empty stack and are ignored. */
static inline void hs_ct_pop(hs_calltree *ct, hs_tthread *t, const void *key) {
    if (t->depth <= 1)
        return;
    hs_tnode *top = &ct->nodes[t->stack[t->depth - 1]];
    if (top->key == key) {
        top->calls++;
        t->depth--;
    } else {
        hs_ct_pop_mismatch(ct, t, key);
    }
}

#endif
