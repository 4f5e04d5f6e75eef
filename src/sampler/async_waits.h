/*
 * async_waits.h - where each waiting asyncio task of a target process is
 * suspended, read from outside: the await chain from the task's own
 * coroutine down to the innermost one, and what that one waits for. The
 * sampler puts it under the task's root, as `hotscope trace` does:
 * "task NAME (COROUTINE)" -> coroutine frames -> "[await WHAT] line N".
 *
 * A waiting task is on no thread's stack; its coroutines hold its state.
 * asyncio keeps every pending task in a WeakSet (asyncio.tasks._all_tasks,
 * 3.10 and 3.11; _scheduled_tasks, 3.12 and 3.13, eager tasks being the
 * running ones): a set of weak references to them, read every
 * LIST_EVERY_NS (async_waits.c) and at once when its number of entries
 * changes. A Task (TaskObj, Modules/_asynciomodule.c,
 * 3.10-3.13) has its loop first after the object header (fut_loop) and
 * the future it waits on right before its coroutine (task_fut_waiter,
 * task_coro), whose place async_view.c learns. A suspended coroutine
 * awaiting another keeps the awaited object on top of its value stack
 * (what genobject.c's _PyGen_yf returns, 3.10-3.13): followed while it is a
 * coroutine, or a generator (`@types.coroutine`, as asyncio.sleep(0)'s);
 * the innermost one's frame is where the task waits, and the Task's
 * fut_waiter what for: a task by its name, gather, a Future's type, or
 * nothing named for a bare yield, the labels trace uses.
 *
 * Which thread: the one running the task's loop, as seen stepping one of
 * its tasks, or else as the loop says (loop._thread_id, set by asyncio's
 * run_forever), or else (uvloop's loops have no such attribute to read)
 * the only thread of the process if it has one, so the waits go under
 * that thread, next to its running tasks.
 *
 * Cost is bounded: all waiting tasks are read together every M passes, M
 * chosen so that no more than VISITS_PER_SECOND task reads are made a
 * second, and each is weighted M passes (unbiased: each task's state is
 * sampled every M passes); beyond HS_WAITS_MAX_TASKS tasks, a rotating
 * share is read and weighted up.
 */
#ifndef HOTSCOPE_ASYNC_WAITS_H
#define HOTSCOPE_ASYNC_WAITS_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "async_view.h"
#include "target.h"

#define HS_WAITS_MAX_TASKS 256 /* waiting tasks read at one visit, at most */
#define HS_WAITS_MAX_CHAIN 32  /* coroutines of one await chain followed, at most */
#define HS_WAITS_LOOPS 8       /* event loops whose thread is remembered */

/* A loop whose thread is not known yet: the sampler takes the target's
 * only thread if it has one. */
#define HS_WAITS_THREAD_UNKNOWN UINT64_MAX

typedef struct {
    uint64_t code;    /* the coroutine's code object */
    int32_t offset;   /* byte offset of the instruction it is suspended at */
} hs_wait_frame;

/* One waiting task as read at a visit. */
typedef struct {
    uint64_t pthread_id;                   /* the thread running its loop, or
                                              HS_WAITS_THREAD_UNKNOWN */
    hs_id task_name;                       /* as async_view.c names tasks */
    hs_wait_frame frames[HS_WAITS_MAX_CHAIN]; /* its own coroutine first */
    size_t depth;
    hs_id awaited;                         /* "[await WHAT]" without the line */
    int64_t weight;                        /* passes it stands for */
} hs_waiting_task;

typedef struct {
    uint64_t task_set;        /* the WeakSet of pending tasks; 0 until found */
    uint64_t *tasks;          /* the tasks it held at the last list read */
    size_t task_count, task_cap;
    size_t total;             /* how many it held (beyond HS_WAITS_MAX_TASKS too) */
    size_t rotate;            /* where the next truncated visit starts */
    int64_t listed_ns;        /* when it was read */
    uint64_t listed_used;     /* and how many entries the set had then */
    int64_t passes_to_visit;  /* passes until the next visit */
    struct {
        uint64_t loop, pthread_id;
        int seen;             /* seen stepping a task on that thread (kept), */
    } loops[HS_WAITS_LOOPS];  /* else read from loop._thread_id with each list */
    uint64_t weakref_type, coroutine_type, generator_type; /* learnt by name */
    hs_waiting_task *found;   /* the visit's waiting tasks */
    size_t found_count, found_cap;
} hs_async_waits;

void hs_async_waits_init(hs_async_waits *w);
void hs_async_waits_free(hs_async_waits *w);

/* Forgets what held profile ids (a profile handed over). */
void hs_async_waits_forget(hs_async_waits *w);

/* A thread was seen stepping a task of `loop`: that loop's waiting tasks
 * belong to it (uvloop's loops keep no _thread_id attribute to read). */
void hs_async_waits_saw_loop(hs_async_waits *w, uint64_t loop, uint64_t pthread_id);

/* At a pass (now_ns, `interval_ns` apart): when a visit is due, reads
 * every waiting task's chain into w->found (found_count of them); else
 * found_count is 0. v: the pass's running tasks (skipped) and task names. */
void hs_async_waits_pass(hs_async_waits *w, hs_async_view *v, const hs_target *t, hs_profile *p,
                         int64_t now_ns, int64_t interval_ns);

#endif
