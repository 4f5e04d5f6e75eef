/*
 * slow_calls.h - the tracer's record of individual calls: for each
 * function, the N slowest calls seen, each with its duration, its caller,
 * its thread and a short text of its arguments (hotscope trace
 * --slow-calls N). A profile's mean per call hides the function that is
 * slow only for some inputs; these show which inputs.
 *
 * One min-heap of at most N entries per function, indexed like the call
 * tree's function table: a return checks its duration against the
 * fastest call kept (heap[0]) and is done in the common case; only a call
 * that enters the top N pays for its arguments' text (slow_calls.c).
 *
 * A coroutine's call is not one stack entry: the event loop resumes it at
 * every step and it leaves the stack at every await. Its call runs from
 * its first step to its return (or the exception that ends it), waits
 * included, as the latency of an async request is; the start of each
 * coroutine still running is kept by its frame's address.
 */
#ifndef HOTSCOPE_SLOW_CALLS_H
#define HOTSCOPE_SLOW_CALLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t ticks;    /* how long the call took, callees included */
    uint32_t caller;  /* the caller's function index; HS_CT_NONE at a thread's top */
    uint32_t thread;  /* the call tree's thread index */
    char *args;       /* the arguments as text (malloc'ed) */
} hs_slow_entry;

enum { HS_SLOW_UNDECIDED = 0, HS_SLOW_WATCHED = 1, HS_SLOW_IGNORED = 2 };

typedef struct {
    hs_slow_entry *heap; /* min-heap on ticks, `count` of at most N entries */
    uint32_t count;
    uint8_t state;       /* HS_SLOW_* */
} hs_slow_func;

/* A watched coroutine that has started and not ended. */
typedef struct {
    const void *frame;   /* its frame object's address; NULL: a free slot */
    uint64_t started;    /* its first step, in clock ticks */
} hs_slow_coro;

typedef struct {
    hs_slow_func *funcs; /* by function index */
    size_t cap;
    hs_slow_coro *coros; /* open addressing on the frame's address, linear probing */
    size_t coro_slots, coro_count;
} hs_slow_table;

/* Forgets every call kept (and which functions are watched). */
void hs_slow_table_clear(hs_slow_table *table);
/* Forgets the coroutines under way (tracing stops: they are not timed
 * across a pause). */
void hs_slow_coros_forget(hs_slow_table *table);

#endif
