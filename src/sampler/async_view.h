/*
 * async_view.h - the asyncio task each loop of a target process is
 * stepping, read from outside, so that `hotscope record` shows a task's
 * frames under a root "task NAME (COROUTINE)" as `hotscope trace` does
 * (src/tracer/async_tasks.c), instead of under the loop's own frames
 * (run_until_complete -> _run_once -> Handle._run -> ...).
 *
 * asyncio.tasks._current_tasks is the dict {loop: task} of the task each
 * running loop is stepping right now, kept by the C and the Python Task
 * alike (3.10-3.13; uvloop's loops go through it too). A Task refers to
 * its coroutine, with its name next to it (TaskObj in
 * Modules/_asynciomodule.c, 3.10-3.13: ... task_fut_waiter, task_coro,
 * task_name, task_context ...). Where task_coro sits is learnt once per
 * target from the first task met: the word of the Task that points at an
 * object of type "coroutine". The coroutine's frame lies inside the
 * coroutine object on 3.11+ (gi_iframe) and is pointed to by it on 3.10
 * (gi_frame) (pylayout.h, gen_frame), so the frame of a thread's stack
 * that is a running task's own coroutine is found by its address.
 *
 * The dict is read after the stacks, and the program goes on meanwhile:
 * a loop may have stepped on to another task by then (often, on a loaded
 * machine, where the sampler can be put off the CPU between the two). So a
 * frame that is no running task's is also looked up among the tasks met
 * before, and believed when that Task still points at that coroutine (and,
 * 3.10, the coroutine at that frame): a read of a word or two. A task met
 * never between two reads keeps the loop's frames. Per pass this costs a
 * read of the dict (a few system calls) while asyncio is imported; before
 * that, a look for it after new code was met, and now and then.
 */
#ifndef HOTSCOPE_ASYNC_VIEW_H
#define HOTSCOPE_ASYNC_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "../model/model.h"
#include "target.h"

#define HS_ASYNC_RUNNING 16  /* loops stepping a task at one moment, at most */
#define HS_ASYNC_CACHE 64    /* tasks remembered (their coroutine and name) */

typedef struct {
    uint64_t task;                       /* the Task's address; 0: empty slot */
    uint64_t coro;                       /* its coroutine's */
    uint64_t frame;                      /* the coroutine's frame's */
    uint64_t loop;                       /* the loop stepping it (running tasks only), or 0 */
    hs_id name;                          /* its name, "Task-*" for asyncio's default names */
} hs_async_task;

typedef struct {
    uint64_t current_tasks;   /* asyncio.tasks._current_tasks; 0 until found */
    int64_t next_lookup_ns;   /* when to look for it next, new code or not */
    int64_t lookup_every_ns;  /* time between those looks (doubles while not found) */
    int64_t looked_ns;        /* the last look */
    uint64_t code_met_at_look; /* code objects the sampler had met by then */
    int coro_offset;          /* offset of task_coro in a Task; -1 until learnt */
    int calibration_tries;    /* tasks tried for it so far */
    hs_async_task running[HS_ASYNC_RUNNING];
    size_t running_count;
    hs_async_task cache[HS_ASYNC_CACHE];
    unsigned evictions;       /* turns the victim among a full probe's slots */
} hs_async_view;

void hs_async_view_init(hs_async_view *v);

/* Forgets the tasks met (their names are ids of a profile handed over):
 * what was learnt of asyncio and of the Task layout stays. */
void hs_async_view_forget_tasks(hs_async_view *v);

/* Reads which tasks are being stepped now (a pass at now_ns; code_met:
 * how many code objects the sampler has met in the target's stacks). */
void hs_async_view_pass(hs_async_view *v, const hs_target *t, hs_profile *p, int64_t now_ns,
                        uint64_t code_met);

/* What a Task holds that changes as it runs, read with its entry: its loop
 * (fut_loop, first after the object header) and the future it waits on
 * (task_fut_waiter, right before task_coro), TaskObj in
 * Modules/_asynciomodule.c, 3.10-3.13. */
typedef struct {
    uint64_t loop, waiter;
} hs_task_state;

/* A task's coroutine, its frame and its name (cached by address, read on
 * first meeting), or NULL when it does not read as a Task; with `now`,
 * also its state as read this time. */
const hs_async_task *hs_async_view_entry(hs_async_view *v, const hs_target *t, hs_profile *p, uint64_t task,
                                         hs_task_state *now);

/* Whether there is asyncio to look for tasks in (it is imported). */
int hs_async_view_active(const hs_async_view *v);

/* The task whose own coroutine's frame is at frame_addr (a frame of a
 * thread's stack): one being stepped at this pass, else one met before
 * that still owns that coroutine; NULL when none. */
const hs_async_task *hs_async_view_task_of(const hs_async_view *v, const hs_target *t, uint64_t frame_addr);

#endif
