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
#define FIRST_LOOKUP_EVERY 16   /* passes between looks for asyncio while it is not imported ... */
#define LAST_LOOKUP_EVERY 8192  /* ... doubling up to this */
#define CALIBRATION_TRIES 8     /* tasks tried for task_coro's offset before giving up */

void hs_async_view_init(hs_async_view *v) {
    memset(v, 0, sizeof *v);
    v->lookup_every = FIRST_LOOKUP_EVERY;
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

/* The cached entry of a task (its coroutine and name), read on first meeting. */
static const hs_async_task *task_entry(hs_async_view *v, const hs_target *t, hs_profile *p, uint64_t task) {
    hs_async_task *slot = &v->cache[(task >> 4) % HS_ASYNC_CACHE];
    uint8_t bytes[TASK_BYTES];
    if (hs_proc_read(&t->proc, task, bytes, sizeof bytes) != 0)
        return NULL;
    if (v->coro_offset < 0 && v->calibration_tries < CALIBRATION_TRIES)
        calibrate(v, t, bytes);
    if (v->coro_offset < 0)
        return NULL;
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

void hs_async_view_pass(hs_async_view *v, const hs_target *t, hs_profile *p, int64_t pass) {
    v->running_count = 0;
    if (!v->current_tasks) {
        if (pass < v->next_lookup)
            return;
        v->current_tasks = hs_py_module_global(t, "asyncio.tasks", "_current_tasks");
        if (!v->current_tasks) {
            v->next_lookup = pass + v->lookup_every;
            if (v->lookup_every < LAST_LOOKUP_EVERY)
                v->lookup_every *= 2;
            return;
        }
    }
    hs_py_item *items = NULL;
    long count = hs_py_dict_items(t, v->current_tasks, &items);
    if (count < 0) {
        v->current_tasks = 0; /* not a dict any more: look again later */
        v->next_lookup = pass + FIRST_LOOKUP_EVERY;
    }
    for (long i = 0; i < count && v->running_count < HS_ASYNC_RUNNING; i++) {
        const hs_async_task *e = task_entry(v, t, p, items[i].value);
        if (e)
            v->running[v->running_count++] = *e;
    }
    free(items);
}

const hs_async_task *hs_async_view_task_of(const hs_async_view *v, uint64_t frame_addr) {
    for (size_t i = 0; i < v->running_count; i++)
        if (v->running[i].frame == frame_addr)
            return &v->running[i];
    return NULL;
}
