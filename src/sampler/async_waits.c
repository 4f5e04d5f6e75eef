/*
 * async_waits.c - the await chains of a target's waiting asyncio tasks
 * (see async_waits.h).
 */
#include "async_waits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "pydict.h"
#include "pyobj.h"
#include "walk.h"

#define LIST_EVERY_NS 100000000LL /* the set of pending tasks read again */
#define VISITS_PER_SECOND 250     /* task reads a second, at most: ~10 system calls,
                                     ~40 us each: 1% of a core */
#define KEY_BATCH 128             /* weak references read per system call */
#define FRAME_BYTES 512           /* a 3.10 frame object's head, at most */

enum { KIND_OTHER = 0, KIND_COROUTINE, KIND_GENERATOR };

void hs_async_waits_init(hs_async_waits *w) {
    memset(w, 0, sizeof *w);
}

void hs_async_waits_free(hs_async_waits *w) {
    free(w->tasks);
    free(w->found);
    hs_async_waits_init(w);
}

void hs_async_waits_forget(hs_async_waits *w) {
    w->found_count = 0;
}

static int word(const hs_target *t, uint64_t addr, uint64_t *out) {
    return hs_proc_read(&t->proc, addr, out, sizeof *out);
}

/* Whether `type` (a type object's address) is the one named `name`,
 * learning its address on the first match. */
static int is_named_type(const hs_target *t, uint64_t obj, uint64_t type, uint64_t *learnt, const char *name) {
    if (*learnt)
        return type == *learnt;
    char text[64];
    if (hs_read_type_name(&t->proc, &t->layout, obj, text, sizeof text) != 0 || strcmp(text, name) != 0)
        return 0;
    *learnt = type;
    return 1;
}

/* What an awaited object is: a coroutine, a generator, or anything else
 * (the end of the chain); -1 when it does not read. */
static int object_kind(hs_async_waits *w, const hs_target *t, uint64_t obj) {
    uint64_t type;
    if (!obj || word(t, obj + (uint64_t)t->layout.object_type, &type) != 0)
        return -1;
    if (is_named_type(t, obj, type, &w->coroutine_type, "coroutine"))
        return KIND_COROUTINE;
    if (is_named_type(t, obj, type, &w->generator_type, "generator"))
        return KIND_GENERATOR;
    return KIND_OTHER;
}

/* Reads the set of pending tasks: the referents of its weak references. */
static void list_tasks(hs_async_waits *w, const hs_target *t) {
    const hs_pylayout *l = &t->layout;
    w->task_count = 0;
    w->total = 0;
    for (size_t i = 0; i < HS_WAITS_LOOPS; i++)
        if (!w->loops[i].seen)
            w->loops[i].loop = 0;
    if (!w->task_set) {
        uint64_t weak_set = hs_py_module_global(t, "asyncio.tasks", l->minor <= 11 ? "_all_tasks"
                                                                                   : "_scheduled_tasks");
        w->task_set = weak_set ? hs_py_attr(t, weak_set, "data") : 0;
        if (!w->task_set)
            return;
    }
    uint64_t *keys = NULL;
    long count = hs_py_set_keys(t, w->task_set, &keys);
    if (count < 0) {
        w->task_set = 0; /* looked up again at the next list */
        return;
    }
    /* Each key: a weakref.ReferenceType; {ob_type, ...} then wr_object. */
    uint64_t heads[KEY_BATCH][2];
    hs_remote_iov iov[KEY_BATCH];
    size_t want = (size_t)count, done = 0, references = 0;
    size_t start = want > HS_WAITS_MAX_TASKS ? w->rotate % want : 0;
    while (done < want && w->task_count < HS_WAITS_MAX_TASKS) {
        size_t n = 0;
        for (; n < KEY_BATCH && done + n < want; n++) {
            uint64_t key = keys[(start + done + n) % want];
            iov[n] = (hs_remote_iov){key + (uint64_t)l->object_type, heads[n], sizeof heads[n]};
        }
        size_t got = hs_proc_readv(&t->proc, iov, n);
        for (size_t k = 0; k < got; k++) {
            uint64_t key = keys[(start + done + k) % want];
            if (!is_named_type(t, key, heads[k][0], &w->weakref_type, "weakref.ReferenceType"))
                continue; /* a dummy entry of the set */
            references++;
            if (w->task_count < HS_WAITS_MAX_TASKS &&
                hs_grow((void **)&w->tasks, &w->task_cap, w->task_count + 1, sizeof *w->tasks) == 0)
                w->tasks[w->task_count++] = heads[k][1];
        }
        done += got < n ? got + 1 : n; /* past a key that did not read */
    }
    /* The keys not read (beyond HS_WAITS_MAX_TASKS tasks) are as many
     * tasks as their share of the table says. */
    w->total = done ? (size_t)((double)references * (double)want / (double)done + 0.5) : 0;
    if (w->total > w->task_count)
        w->rotate += done;
    free(keys);
}

void hs_async_waits_saw_loop(hs_async_waits *w, uint64_t loop, uint64_t pthread_id) {
    size_t slot = (size_t)(loop >> 4) % HS_WAITS_LOOPS;
    w->loops[slot].loop = loop;
    w->loops[slot].pthread_id = pthread_id;
    w->loops[slot].seen = 1;
}

/* The thread running `loop`: as seen, or its _thread_id (remembered until
 * the next list read); 0 when the loop is not running (_thread_id None),
 * HS_WAITS_THREAD_UNKNOWN when it has no such attribute (uvloop's). */
static uint64_t loop_thread(hs_async_waits *w, const hs_target *t, uint64_t loop) {
    size_t slot = (size_t)(loop >> 4) % HS_WAITS_LOOPS;
    if (w->loops[slot].loop == loop)
        return w->loops[slot].pthread_id;
    uint64_t ident = 0, attr = hs_py_attr(t, loop, "_thread_id");
    if (!attr)
        ident = HS_WAITS_THREAD_UNKNOWN;
    else if (hs_py_u64(t, attr, &ident) != 0)
        ident = 0; /* None: the loop is not running */
    w->loops[slot].loop = loop;
    w->loops[slot].pthread_id = ident;
    w->loops[slot].seen = 0;
    return ident;
}

/* One link of an await chain: the coroutine (or generator) at `gen`,
 * suspended: where (code, offset) and the address of the top of its value
 * stack (0 when empty). Returns 0, or -1 when it is not suspended or does
 * not read. */
static int read_link(const hs_target *t, uint64_t gen, hs_wait_frame *at, uint64_t *top) {
    const hs_pylayout *l = &t->layout;
    uint8_t buf[FRAME_BYTES];
    uint64_t frame;
    int8_t state;
    size_t head = (size_t)l->frame_localsplus;
    if (l->gen_frame_is_pointer) { /* 3.10: gi_frame, a frame object */
        if (word(t, gen + (uint64_t)l->gen_frame, &frame) != 0 || !frame || head > sizeof buf ||
            hs_proc_read(&t->proc, frame, buf, head) != 0)
            return -1;
        state = (int8_t)buf[l->frame_state];
    } else { /* 3.11+: gi_iframe inside the coroutine, its state before it */
        frame = gen + (uint64_t)l->gen_frame;
        uint8_t state_byte;
        hs_remote_iov iov[2] = {{gen + (uint64_t)l->gen_frame_state, &state_byte, 1}, {frame, buf, head}};
        if (head > sizeof buf || hs_proc_readv(&t->proc, iov, 2) != 2)
            return -1;
        state = (int8_t)state_byte;
    }
    if (state <= l->frame_state_created || state >= 0)
        return -1; /* not started, running, or done */
    uint64_t code;
    memcpy(&code, buf + l->frame_code, sizeof code);
    *at = (hs_wait_frame){code, hs_frame_instr_offset(l, buf, code)};
    int32_t depth;
    memcpy(&depth, buf + l->frame_saved_stack_depth, sizeof depth);
    uint64_t stack = frame + (uint64_t)l->frame_localsplus;
    if (l->frame_valuestack >= 0)
        memcpy(&stack, buf + l->frame_valuestack, sizeof stack);
    *top = depth > 0 && depth < 1 << 20 ? stack + (uint64_t)(depth - 1) * 8 : 0;
    return 0;
}

/* "[await WHAT]" for the object a task's innermost coroutine yielded (its
 * fut_waiter): the labels src/tracer/async_tasks.c gives. */
static hs_id awaited_label(hs_async_view *v, const hs_target *t, hs_profile *p, uint64_t waiter) {
    char type[128], label[400];
    if (!waiter || hs_read_type_name(&t->proc, &t->layout, waiter, type, sizeof type) != 0 ||
        strcmp(type, "NoneType") == 0)
        return hs_intern_cstr(p, "[await]");
    const char *dot = strrchr(type, '.');
    const char *bare = dot ? dot + 1 : type;
    const hs_async_task *awaited = strcmp(bare, "Task") == 0 ? hs_async_view_entry(v, t, p, waiter, NULL) : NULL;
    if (awaited)
        snprintf(label, sizeof label, "[await task %s]", hs_str(p, awaited->name, NULL));
    else
        snprintf(label, sizeof label, "[await %s]", strcmp(bare, "_GatheringFuture") == 0 ? "gather" : bare);
    return hs_intern_cstr(p, label);
}

static int running_now(const hs_async_view *v, uint64_t task) {
    for (size_t i = 0; i < v->running_count; i++)
        if (v->running[i].task == task)
            return 1;
    return 0;
}

/* Reads one task; appends it to w->found when it waits on a running loop. */
static void visit_task(hs_async_waits *w, hs_async_view *v, const hs_target *t, hs_profile *p,
                       uint64_t task, int64_t weight) {
    if (running_now(v, task))
        return;
    char type[64];
    if (v->coro_offset < 0 && (hs_read_type_name(&t->proc, &t->layout, task, type, sizeof type) != 0 ||
                               !strstr(type, "Task")))
        return; /* not a Task (a dead reference's None): no use to learn the layout from */
    hs_task_state now;
    const hs_async_task *e = hs_async_view_entry(v, t, p, task, &now);
    if (!e)
        return;
    hs_id task_name = e->name;
    uint64_t coro = e->coro, waiter = now.waiter;
    uint64_t pthread_id = loop_thread(w, t, now.loop);
    if (!pthread_id ||
        hs_grow((void **)&w->found, &w->found_cap, w->found_count + 1, sizeof *w->found) != 0)
        return;
    hs_waiting_task *out = &w->found[w->found_count];
    out->depth = 0;
    uint64_t link = coro, top = 0;
    while (out->depth < HS_WAITS_MAX_CHAIN && read_link(t, link, &out->frames[out->depth], &top) == 0) {
        out->depth++;
        int kind = KIND_OTHER;
        if (!top || word(t, top, &link) != 0 || (kind = object_kind(w, t, link)) <= KIND_OTHER)
            break; /* the innermost: it waits on its task's fut_waiter */
    }
    if (!out->depth)
        return; /* not suspended: done, or not started yet */
    out->pthread_id = pthread_id;
    out->task_name = task_name;
    out->awaited = awaited_label(v, t, p, waiter);
    out->weight = weight;
    if (out->awaited != HS_NONE)
        w->found_count++;
}

void hs_async_waits_pass(hs_async_waits *w, hs_async_view *v, const hs_target *t, hs_profile *p,
                         int64_t now_ns, int64_t interval_ns) {
    w->found_count = 0;
    if (--w->passes_to_visit > 0)
        return;
    /* Read again every LIST_EVERY_NS, and at once when the set's number
     * of entries (`used`, the field before `mask`: Include/cpython/
     * setobject.h) changed: a task just made is waited for from then on. */
    uint64_t used = 0;
    if (w->task_set)
        word(t, w->task_set + (uint64_t)t->layout.set_mask - 8, &used);
    if (!w->listed_ns || now_ns - w->listed_ns >= LIST_EVERY_NS || used != w->listed_used) {
        list_tasks(w, t);
        w->listed_ns = now_ns;
        w->listed_used = used;
    }
    /* Visit every M passes, M such that the reads stay under
     * VISITS_PER_SECOND; each task read stands for those M passes (and,
     * when only a share of the tasks is read, for the others too). */
    int64_t rate = interval_ns > 0 ? 1000000000LL / interval_ns : 100;
    int64_t every = ((int64_t)w->task_count * rate + VISITS_PER_SECOND - 1) / VISITS_PER_SECOND;
    if (every < 1)
        every = 1;
    w->passes_to_visit = every;
    if (!w->task_count)
        return;
    int64_t weight = (every * (int64_t)w->total + (int64_t)w->task_count / 2) / (int64_t)w->task_count;
    for (size_t i = 0; i < w->task_count; i++)
        visit_task(w, v, t, p, w->tasks[i], weight);
}
