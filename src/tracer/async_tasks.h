/*
 * async_tasks.h - what the tracer keeps about asyncio tasks (async_tasks.c):
 * the tasks it has seen run, each with its synthetic root frame and, while
 * it waits, where it waits and since when.
 *
 * The state lives in the tracer object (tracer.h); per-thread parts (the
 * task steps open on a thread's stack, the await chain being unwound) live
 * in the calltree's thread (calltree.h), as plain data.
 */
#ifndef HOTSCOPE_ASYNC_TASKS_H
#define HOTSCOPE_ASYNC_TASKS_H

#include "../compat.h"
#include "calltree.h"

/* The code flags whose frames take the asyncio paths: coroutines, async
 * generators and generator-based coroutines (@types.coroutine, which
 * asyncio.sleep(0) awaits). Plain generators and functions never do. */
#define HS_ASYNC_CODE_FLAGS (CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR)

typedef struct {
    const void *task;       /* the task's address; NULL for a free slot */
    PyObject *ref;          /* a weak reference to it: a new task at a freed
                             * task's address is not taken for the old one */
    const void *code;       /* its coroutine's code: what its steps resume */
    uint32_t root_func;     /* its synthetic root, "task NAME (COROUTINE)" */
    uint32_t thread;        /* the thread it last ran on, */
    uint32_t root_node;     /* and its root's node there */
    uint32_t await_node;    /* while it waits: the innermost frame that yielded */
                            /* (HS_CT_NONE while it runs), */
    uint32_t await_func;    /* the "[await ...]" frame to charge under it, */
    uint64_t suspended_at;  /* and since when, in clock ticks */
    int default_name;       /* named "Task-<n>" at its first step: asked again */
} hs_task_entry;

/* The "[await ...]" frame last made for a yield at (code, offset) of an
 * object of this type: most waits are the same few, and labels cost. */
typedef struct {
    const void *code;
    int offset;
    const void *type;
    uint32_t func;
} hs_wait_label;

#define HS_WAIT_LABELS 64 /* a power of two */

typedef struct {
    hs_task_entry *slots;   /* open addressing on the task's address, linear probing */
    size_t slot_count, count;
    int lookup;             /* 0 asyncio not looked up yet, 1 found, -1 unusable */
    PyObject *get_running_loop; /* asyncio.events._get_running_loop */
    PyObject *current_tasks;    /* asyncio.tasks._current_tasks: {loop: task} */
    PyObject *task_type;        /* asyncio.tasks.Task */
    PyObject *coro_name;        /* "_coro", interned */
    hs_wait_label wait_labels[HS_WAIT_LABELS];
} hs_async_state;

#endif
