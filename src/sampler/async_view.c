/*
 * async_view.c - the asyncio tasks being stepped in a target process (see
 * async_view.h).
 */
#include "async_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pydict.h"
#include "pyobj.h"

#define TASK_BYTES 320          /* searched for task_coro: FutureObj_HEAD and the task's own fields */
/* When to look for asyncio while it is not imported. A program imports it
 * by running code not run before, and runs the loop's functions after: so
 * a pass whose stacks held code the sampler had not met is followed by a
 * look (at most every NEW_CODE_LOOK_NS), which finds asyncio soon after it
 * comes however late that is. Besides, a look now and then, less and less
 * often (FIRST_ to LAST_LOOK_EVERY_NS), for what the stacks missed; a
 * look reads sys.modules (a few system calls). */
#define NEW_CODE_LOOK_NS 10000000LL
#define FIRST_LOOK_EVERY_NS 5000000LL
#define LAST_LOOK_EVERY_NS 1000000000LL
#define CALIBRATION_TRIES 8     /* tasks tried for task_coro's offset before giving up */

void hs_async_view_init(hs_async_view *v) {
    memset(v, 0, sizeof *v);
    v->lookup_every_ns = FIRST_LOOK_EVERY_NS;
    v->coro_offset = -1;
}

void hs_async_view_forget_tasks(hs_async_view *v) {
    memset(v->running, 0, sizeof v->running);
    memset(v->cache, 0, sizeof v->cache);
    v->running_count = 0;
}

/* asyncio names unnamed tasks "Task-<n>" (3.13 keeps just the number until
 * asked): one root per coroutine for those, as the tracer does. */
static hs_id task_name(const hs_target *t, hs_profile *p, uint64_t name) {
    char text[256];
    uint64_t number;
    if (hs_py_u64(t, name, &number) == 0)
        return hs_intern_cstr(p, "Task-*");
    if (!hs_py_is_type(t, name, "str") || hs_read_str(&t->proc, &t->layout, name, text, sizeof text) <= 0)
        return hs_intern_cstr(p, "*");
    if (strncmp(text, "Task-", 5) == 0 && text[5] && strspn(text + 5, "0123456789") == strlen(text + 5))
        return hs_intern_cstr(p, "Task-*");
    return hs_intern_cstr(p, text);
}

/* Learns where task_coro sits from one Task's bytes. */
static void calibrate(hs_async_view *v, const hs_target *t, const uint8_t *bytes) {
    v->calibration_tries++;
    for (int off = 16; off + 16 <= TASK_BYTES; off += 8) {
        uint64_t word;
        memcpy(&word, bytes + off, sizeof word);
        if (word && hs_py_is_type(t, word, "coroutine")) {
            v->coro_offset = off;
            return;
        }
    }
}

/* The cache slot of a task: its own if it has one, else a free one of the
 * PROBE after its home slot, else one of those in turn. Not one slot per
 * address: two tasks of a program often share a home (their addresses 1 KiB
 * apart), and each would evict the other at every pass. */
#define PROBE 8
static hs_async_task *cache_slot(hs_async_view *v, uint64_t task) {
    for (size_t i = 0; i < HS_ASYNC_CACHE; i++)
        if (v->cache[i].task == task)
            return &v->cache[i];
    size_t home = (size_t)(task >> 4) % HS_ASYNC_CACHE;
    for (size_t k = 0; k < PROBE; k++)
        if (!v->cache[(home + k) % HS_ASYNC_CACHE].task)
            return &v->cache[(home + k) % HS_ASYNC_CACHE];
    return &v->cache[(home + v->evictions++ % PROBE) % HS_ASYNC_CACHE];
}

const hs_async_task *hs_async_view_entry(hs_async_view *v, const hs_target *t, hs_profile *p, uint64_t task,
                                         hs_task_state *now) {
    hs_async_task *slot = cache_slot(v, task);
    uint8_t bytes[TASK_BYTES];
    if (hs_proc_read(&t->proc, task, bytes, sizeof bytes) != 0)
        return NULL;
    if (v->coro_offset < 0 && v->calibration_tries < CALIBRATION_TRIES)
        calibrate(v, t, bytes);
    if (v->coro_offset < 0)
        return NULL;
    if (now) { /* fut_loop first after the header; task_fut_waiter before task_coro */
        memcpy(&now->loop, bytes + t->layout.object_type + 8, sizeof now->loop);
        memcpy(&now->waiter, bytes + v->coro_offset - 8, sizeof now->waiter);
    }
    uint64_t coro, name;
    memcpy(&coro, bytes + v->coro_offset, sizeof coro);
    memcpy(&name, bytes + v->coro_offset + 8, sizeof name);
    /* The same task at the same address keeps its coroutine: a freed task
     * whose address was reused has another one. */
    if (slot->task == task && slot->coro == coro)
        return slot;
    if (!coro || !hs_py_is_type(t, coro, "coroutine"))
        return NULL;
    hs_async_task fresh = {.task = task, .coro = coro, .frame = coro + (uint64_t)t->layout.gen_frame};
    if (t->layout.gen_frame_is_pointer &&
        hs_proc_read(&t->proc, fresh.frame, &fresh.frame, sizeof fresh.frame) != 0)
        return NULL;
    fresh.name = task_name(t, p, name);
    if (fresh.name == HS_NONE)
        return NULL;
    *slot = fresh;
    return slot;
}

void hs_async_view_pass(hs_async_view *v, const hs_target *t, hs_profile *p, int64_t now_ns,
                        uint64_t code_met) {
    v->running_count = 0;
    if (!v->current_tasks) {
        int new_code = code_met != v->code_met_at_look && now_ns >= v->looked_ns + NEW_CODE_LOOK_NS;
        if (now_ns < v->next_lookup_ns && !new_code)
            return;
        v->looked_ns = now_ns;
        v->code_met_at_look = code_met;
        v->current_tasks = hs_py_module_global(t, "asyncio.tasks", "_current_tasks");
        if (!v->current_tasks) {
            if (now_ns >= v->next_lookup_ns) {
                v->next_lookup_ns = now_ns + v->lookup_every_ns;
                if (v->lookup_every_ns < LAST_LOOK_EVERY_NS)
                    v->lookup_every_ns *= 2;
            }
            return;
        }
    }
    hs_py_item *items = NULL;
    long count = hs_py_dict_items(t, v->current_tasks, &items);
    if (count < 0) {
        v->current_tasks = 0; /* not a dict any more: look again later */
        v->next_lookup_ns = now_ns + FIRST_LOOK_EVERY_NS;
        v->lookup_every_ns = FIRST_LOOK_EVERY_NS;
    }
    for (long i = 0; i < count && v->running_count < HS_ASYNC_RUNNING; i++) {
        const hs_async_task *e = hs_async_view_entry(v, t, p, items[i].value, NULL);
        if (e) {
            v->running[v->running_count] = *e;
            v->running[v->running_count++].loop = items[i].key;
        }
    }
    free(items);
}

int hs_async_view_active(const hs_async_view *v) {
    return v->current_tasks != 0;
}

/* A task met at an earlier pass is still the owner of its coroutine (so
 * the frame is that task's): its task_coro still points at it, and on
 * 3.10, where the frame is an object of its own (reused from the code
 * object's spare frame), the coroutine still at that frame. A task freed
 * since, and its memory reused, fails this but for a one-in-2^64 word. */
static int still_owns(const hs_async_view *v, const hs_target *t, const hs_async_task *e) {
    uint64_t coro, frame;
    if (hs_proc_read(&t->proc, e->task + (uint64_t)v->coro_offset, &coro, sizeof coro) != 0 || coro != e->coro)
        return 0;
    if (!t->layout.gen_frame_is_pointer)
        return 1;
    return hs_proc_read(&t->proc, e->coro + (uint64_t)t->layout.gen_frame, &frame, sizeof frame) == 0 &&
           frame == e->frame;
}

const hs_async_task *hs_async_view_task_of(const hs_async_view *v, const hs_target *t, uint64_t frame_addr) {
    for (size_t i = 0; i < v->running_count; i++)
        if (v->running[i].frame == frame_addr)
            return &v->running[i];
    for (size_t i = 0; i < HS_ASYNC_CACHE; i++)
        if (v->cache[i].task && v->cache[i].frame == frame_addr)
            return still_owns(v, t, &v->cache[i]) ? &v->cache[i] : NULL;
    return NULL;
}
