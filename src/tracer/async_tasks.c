/*
 * async_tasks.c - asyncio tasks in the tracer's call tree: each task's
 * frames under a root of its own, and the time it waits at an await.
 *
 * Without this, a task's coroutine shows wherever the event loop resumed
 * it (run_until_complete -> _run_once -> Handle._run -> Context.run ->
 * coroutine), every task mixed with every other, and a coroutine's time
 * ends at each await: what it waits for is nowhere.
 *
 * How a task step is recognised. The hooks send the events of coroutine
 * frames here (code flags HS_ASYNC_CODE_FLAGS; every other frame takes the
 * unchanged path, at the cost of one flag test). A coroutine resumed from a
 * frame that is not itself a coroutine is where a task step may begin: we
 * then ask asyncio for the running loop's current task (the dict
 * asyncio.tasks._current_tasks, which the C and the Python Task both keep,
 * and uvloop's loops use through them) and take it if its coroutine has
 * this code and the task has no step open on this thread. Its root
 * "task NAME (COROUTINE)" goes on the stack and into the tree as a child of
 * the thread's root, so the coroutine and its callees are recorded under
 * it. Call counts are cProfile's: the roots and awaits are not calls.
 *
 * How waiting is measured. When a task waits, every coroutine of its await
 * chain yields the same object in turn, innermost first, each from the
 * frame right below the previous one (hs_await_chain in calltree.h). When
 * the task's own coroutine yields, the step ends: the task records the
 * innermost frame, the awaited object's description and the time. At its
 * next step the time since goes to a child "[await WHAT] line N" of that
 * innermost frame, as wall time only: the flame graph in wall time shows
 * where tasks wait; in CPU time waits weigh nothing. Waits overlap other
 * tasks' running and the loop's own waiting, so with tasks the wall totals
 * of a thread exceed the time it ran (the README says so).
 *
 * The same path serves slow calls (slow_calls.c), which time a coroutine
 * from its first step to its end: coroutine frames come here when either
 * is on (tracer.h, async_flags), and with asyncio off only the plain
 * enter and leave and that timing are done.
 *
 * Python objects are touched only to find the task, its name and its
 * coroutine: once per task step, never per call. No pointer into the
 * calltree or the task table is held across those calls.
 */
#include "tracer.h"

#include <string.h>

#include "../model/strtab.h"

/* Beyond this many synthetic frames (task roots and awaits), task names
 * are no longer told apart: a server naming a task per connection would
 * otherwise grow a root per connection. */
#define MAX_SYNTHETIC_FRAMES 2000
#define NAME_SIZE 256
#define LABEL_SIZE 640

/* ---- finding asyncio ------------------------------------------------------ */

/* asyncio's own objects, taken from the modules the program imported (we
 * never import asyncio). 0 when found, -1 when not (yet) usable. */
static int find_asyncio(hs_async_state *a) {
    if (a->lookup)
        return a->lookup > 0 ? 0 : -1;
    PyObject *tasks_name = PyUnicode_FromString("asyncio.tasks");
    PyObject *events_name = PyUnicode_FromString("asyncio.events");
    PyObject *tasks = tasks_name ? PyImport_GetModule(tasks_name) : NULL;
    PyObject *events = events_name ? PyImport_GetModule(events_name) : NULL;
    Py_XDECREF(tasks_name);
    Py_XDECREF(events_name);
    int status = -1;
    if (tasks && events) {
        a->current_tasks = PyObject_GetAttrString(tasks, "_current_tasks");
        a->task_type = PyObject_GetAttrString(tasks, "Task");
        a->get_running_loop = PyObject_GetAttrString(events, "_get_running_loop");
        a->coro_name = PyUnicode_InternFromString("_coro");
        /* Present in 3.10-3.13; a later asyncio without them is not read. */
        if (a->current_tasks && PyDict_Check(a->current_tasks) && a->task_type &&
            PyType_Check(a->task_type) && a->get_running_loop && PyCallable_Check(a->get_running_loop) &&
            a->coro_name) {
            a->lookup = 1;
            status = 0;
        } else {
            a->lookup = -1;
            Py_CLEAR(a->current_tasks);
            Py_CLEAR(a->task_type);
            Py_CLEAR(a->get_running_loop);
            Py_CLEAR(a->coro_name);
        }
    }
    /* Not imported yet: asked again at the next candidate step. */
    Py_XDECREF(tasks);
    Py_XDECREF(events);
    PyErr_Clear();
    return status;
}

/* The running loop's current task (new reference), or NULL. */
static PyObject *current_task(hs_async_state *a) {
    if (find_asyncio(a) != 0)
        return NULL;
    PyObject *loop = PyObject_CallNoArgs(a->get_running_loop);
    PyObject *task = NULL;
    if (loop && loop != Py_None) {
        task = PyDict_GetItemWithError(a->current_tasks, loop);
        Py_XINCREF(task);
    }
    Py_XDECREF(loop);
    PyErr_Clear();
    return task;
}

/* Whether the task's coroutine runs `code`: a task step resumes it. */
static int task_runs(hs_async_state *a, PyObject *task, PyCodeObject *code) {
    PyObject *coro = PyObject_GetAttr(task, a->coro_name);
    PyObject *coro_code = NULL;
    if (coro && PyCoro_CheckExact(coro))
        coro_code = PyObject_GetAttrString(coro, "cr_code");
    else if (coro && PyGen_Check(coro))
        coro_code = PyObject_GetAttrString(coro, "gi_code");
    int runs = coro_code == (PyObject *)code;
    Py_XDECREF(coro_code);
    Py_XDECREF(coro);
    PyErr_Clear();
    return runs;
}

/* ---- labels ----------------------------------------------------------------- */

/* asyncio names unnamed tasks "Task-<n>": one root per such coroutine is
 * more telling than one per task, so their number is left out. Returns
 * whether the name was such a default one. */
static int put_task_name(PyObject *task, int distinct, char *out, size_t size) {
    PyObject *name = distinct ? PyObject_CallMethod(task, "get_name", NULL) : NULL;
    const char *utf8 = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    int is_default = 0;
    if (!utf8) {
        snprintf(out, size, "*");
    } else if (strncmp(utf8, "Task-", 5) == 0 && utf8[5] && strspn(utf8 + 5, "0123456789") == strlen(utf8 + 5)) {
        snprintf(out, size, "Task-*");
        is_default = 1;
    } else {
        snprintf(out, size, "%.200s", utf8);
    }
    Py_XDECREF(name);
    PyErr_Clear();
    return is_default;
}

static void put_code_name(PyCodeObject *code, char *out, size_t size) {
#if HS_HAVE_CO_QUALNAME
    PyObject *name = code->co_qualname;
#else
    PyObject *name = code->co_name;
#endif
    const char *utf8 = PyUnicode_AsUTF8(name);
    snprintf(out, size, "%.200s", utf8 ? utf8 : "?");
    PyErr_Clear();
}

/* "[await WHAT]": a bare yield (asyncio.sleep(0)) waits for nothing named;
 * a task by its name; gather's future as gather; any other future by its
 * type. */
static void put_awaited(hs_async_state *a, PyObject *value, int distinct, char *out, size_t size) {
    if (!value || value == Py_None) {
        snprintf(out, size, "[await]");
        return;
    }
    if (a->task_type && PyObject_TypeCheck(value, (PyTypeObject *)a->task_type)) {
        char name[NAME_SIZE];
        put_task_name(value, distinct, name, sizeof name);
        snprintf(out, size, "[await task %s]", name);
        return;
    }
    const char *type = Py_TYPE(value)->tp_name;
    const char *dot = strrchr(type, '.');
    if (dot)
        type = dot + 1;
    snprintf(out, size, "[await %.100s]", strcmp(type, "_GatheringFuture") == 0 ? "gather" : type);
}

static char *code_file(PyCodeObject *code) {
    return hs_utf8_dup(code->co_filename);
}

/* ---- the task table ------------------------------------------------------------ */

static size_t slot_of(const hs_async_state *a, const void *task) {
    return (size_t)hs_hash_mix(0, (uint64_t)(uintptr_t)task) & (a->slot_count - 1);
}

/* The entry of this task object, or NULL. An entry whose task has died
 * (and whose address a new object may have) does not count. */
static hs_task_entry *find_entry(hs_async_state *a, PyObject *task) {
    if (!a->slot_count)
        return NULL;
    for (size_t i = slot_of(a, task);; i = (i + 1) & (a->slot_count - 1)) {
        hs_task_entry *e = &a->slots[i];
        if (!e->task)
            return NULL;
        if (e->task == task)
            return hs_weakref_target(e->ref) == task ? e : NULL;
    }
}

/* Linear probing's deletion: later entries of the run move back. */
static void remove_entry(hs_async_state *a, hs_task_entry *e) {
    size_t mask = a->slot_count - 1;
    size_t hole = (size_t)(e - a->slots);
    Py_CLEAR(a->slots[hole].ref);
    a->slots[hole].task = NULL;
    a->count--;
    for (size_t i = (hole + 1) & mask; a->slots[i].task; i = (i + 1) & mask) {
        size_t home = slot_of(a, a->slots[i].task);
        /* movable when its home is not within (hole, i] */
        if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
            a->slots[hole] = a->slots[i];
            a->slots[i].task = NULL;
            a->slots[i].ref = NULL;
            hole = i;
        }
    }
}

static int table_grow(hs_async_state *a) {
    size_t n = a->slot_count ? a->slot_count * 2 : 64;
    hs_task_entry *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    hs_task_entry *old = a->slots;
    size_t old_count = a->slot_count;
    a->slots = slots;
    a->slot_count = n;
    a->count = 0;
    for (size_t k = 0; k < old_count; k++) {
        if (!old[k].task)
            continue;
        if (!hs_weakref_target(old[k].ref)) { /* died while waiting */
            Py_DECREF(old[k].ref);
            continue;
        }
        size_t i = slot_of(a, old[k].task);
        while (slots[i].task)
            i = (i + 1) & (n - 1);
        slots[i] = old[k];
        a->count++;
    }
    free(old);
    return 0;
}

/* A new entry for `task` (whose old entry, if any, was for a dead task at
 * the same address). Takes the reference `ref`; NULL on failure. */
static hs_task_entry *add_entry(hs_async_state *a, PyObject *task, PyObject *ref, PyCodeObject *code,
                                uint32_t root_func) {
    if ((a->count + 1) * 2 > a->slot_count && table_grow(a) != 0) {
        Py_DECREF(ref);
        return NULL;
    }
    size_t i = slot_of(a, task);
    while (a->slots[i].task && a->slots[i].task != task)
        i = (i + 1) & (a->slot_count - 1);
    hs_task_entry *e = &a->slots[i];
    if (e->task)
        Py_DECREF(e->ref);
    else
        a->count++;
    *e = (hs_task_entry){task, ref, code, root_func, HS_CT_NONE, HS_CT_NONE, HS_CT_NONE, HS_CT_NONE, 0, 0};
    return e;
}

void hs_async_forget(TracerObject *self) {
    hs_async_state *a = &self->async;
    for (size_t i = 0; i < a->slot_count; i++)
        Py_CLEAR(a->slots[i].ref);
    free(a->slots);
    a->slots = NULL;
    a->slot_count = a->count = 0;
}

int hs_async_traverse(TracerObject *self, visitproc visit, void *arg) {
    hs_async_state *a = &self->async;
    for (size_t i = 0; i < a->slot_count; i++)
        Py_VISIT(a->slots[i].ref);
    Py_VISIT(a->get_running_loop);
    Py_VISIT(a->current_tasks);
    Py_VISIT(a->task_type);
    Py_VISIT(a->coro_name);
    return 0;
}

/* ---- task steps ------------------------------------------------------------------ */

/* Steps whose frames have been closed under them (an exception unwound
 * past events we never saw, tracing stopped) are over. */
static void drop_closed_steps(hs_tthread *t) {
    while (t->step_count && t->steps[t->step_count - 1].depth > t->depth)
        t->step_count--;
}

static int step_is_open(const hs_tthread *t, const void *task) {
    for (size_t i = 0; i < t->step_count; i++)
        if (t->steps[i].task == task)
            return 1;
    return 0;
}

static int push_step(hs_tthread *t, const void *task) {
    if (t->step_count == t->step_cap) {
        size_t cap = t->step_cap ? t->step_cap * 2 : 4;
        hs_task_step *steps = realloc(t->steps, cap * sizeof *steps);
        if (!steps)
            return -1;
        t->steps = steps;
        t->step_cap = cap;
    }
    t->steps[t->step_count++] = (hs_task_step){task, t->depth};
    return 0;
}

/* The wait that ends now: wall time under "[await ...]", CPU time none. */
static void charge_wait(hs_calltree *ct, hs_tthread *t, hs_task_entry *e, uint64_t now) {
    if (e->await_node == HS_CT_NONE)
        return;
    if (e->thread == t->index && now > e->suspended_at) {
        uint32_t node = hs_ct_child_get(ct, e->await_node, e->await_func);
        if (node != HS_CT_NONE) {
            int64_t wait = (int64_t)(now - e->suspended_at);
            ct->nodes[node].wall_ticks += wait;
            ct->nodes[node].cpu_extra_ticks -= wait;
        }
    }
    e->await_node = HS_CT_NONE;
}

/* The node for the path of `node` below `old_root`, below `new_root`. */
static uint32_t same_path_below(hs_calltree *ct, uint32_t node, uint32_t old_root, uint32_t new_root) {
    uint32_t funcs[256];
    size_t depth = 0;
    for (uint32_t n = node; n != old_root; n = ct->nodes[n].parent) {
        if (n == HS_CT_NONE || ct->nodes[n].func == HS_CT_NONE || depth == sizeof funcs / sizeof *funcs)
            return HS_CT_NONE;
        funcs[depth++] = ct->nodes[n].func;
    }
    uint32_t at = new_root;
    while (depth && at != HS_CT_NONE)
        at = hs_ct_child_get(ct, at, funcs[--depth]);
    return at;
}

/* A task renamed after its first step gets its new root from now on; the
 * wait it is in moves there too. */
static void rename_task(hs_calltree *ct, hs_task_entry *e, uint32_t root_func) {
    uint32_t old_root = e->root_node;
    e->root_func = root_func;
    e->root_node = HS_CT_NONE;
    if (e->await_node == HS_CT_NONE || old_root == HS_CT_NONE || e->thread >= ct->thread_count)
        return;
    uint32_t new_root = hs_ct_child_get(ct, ct->threads[e->thread]->root, root_func);
    uint32_t moved = new_root != HS_CT_NONE ? same_path_below(ct, e->await_node, old_root, new_root) : HS_CT_NONE;
    if (moved != HS_CT_NONE)
        e->await_node = moved;
}

/* The root "task NAME (COROUTINE)" of a task; *is_default tells whether
 * it had asyncio's default name. HS_CT_NONE on failure. */
static uint32_t root_func_for(TracerObject *self, PyObject *task, PyCodeObject *code, int *is_default) {
    char name[NAME_SIZE], coro[NAME_SIZE], label[LABEL_SIZE];
    *is_default = put_task_name(task, self->ct.synth_count < MAX_SYNTHETIC_FRAMES, name, sizeof name);
    put_code_name(code, coro, sizeof coro);
    snprintf(label, sizeof label, "task %s (%s)", name, coro);
    char *file = code_file(code);
    uint32_t func = file ? hs_ct_synthetic_func(&self->ct, label, file, code->co_firstlineno) : HS_CT_NONE;
    free(file);
    return func;
}

/* The entry of a task about to run a step that resumes `code`, created at
 * its first step; NULL when `code` is not the task's own coroutine (a
 * coroutine the task drives by hand, say). A task that had its default
 * name at its first step is asked again at its second: an eager task
 * (3.12's eager_task_factory) runs its first step inside create_task,
 * before create_task names it. */
static hs_task_entry *entry_for_step(TracerObject *self, PyObject *task, PyCodeObject *code) {
    hs_async_state *a = &self->async;
    hs_task_entry *e = find_entry(a, task);
    int is_default;
    if (e && e->code == code && e->default_name) {
        e->default_name = 0;
        uint32_t func = root_func_for(self, task, code, &is_default);
        e = find_entry(a, task); /* get_name may have run Python code */
        if (e && !is_default && func != HS_CT_NONE)
            rename_task(&self->ct, e, func);
        return e;
    }
    if (e)
        return e->code == code ? e : NULL;
    if (!task_runs(a, task, code))
        return NULL;
    PyObject *ref = PyWeakref_NewRef(task, NULL);
    uint32_t root_func = root_func_for(self, task, code, &is_default);
    if (!ref || root_func == HS_CT_NONE) {
        Py_XDECREF(ref);
        PyErr_Clear();
        return NULL;
    }
    e = add_entry(a, task, ref, code, root_func);
    if (e)
        e->default_name = is_default;
    return e;
}

/* A coroutine resumed from a frame that is not a coroutine: if it is the
 * current task's own, a step of that task begins, under the task's root. */
static void begin_step(TracerObject *self, hs_tthread *t, PyCodeObject *code, uint64_t now) {
    PyObject *task = current_task(&self->async);
    if (!task)
        return;
    hs_task_entry *e = step_is_open(t, task) ? NULL : entry_for_step(self, task, code);
    if (e) {
        hs_calltree *ct = &self->ct;
        charge_wait(ct, t, e, now);
        if (e->thread != t->index || e->root_node == HS_CT_NONE) {
            e->thread = t->index;
            e->root_node = hs_ct_child_get(ct, t->root, e->root_func);
        }
        if (e->root_node != HS_CT_NONE && hs_ct_push(t, e->root_node, now) == 0 && push_step(t, task) != 0)
            t->depth--;
    }
    Py_DECREF(task);
}

static int top_is_async(const hs_calltree *ct, const hs_tthread *t) {
    uint32_t func = ct->nodes[t->stack[t->depth - 1]].func;
    return func != HS_CT_NONE && ct->funcs[func].kind == HS_TFUNC_ASYNC;
}

void hs_async_enter(TracerObject *self, PyCodeObject *code, int first, PyFrameObject *frame) {
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    if (self->asyncio) {
        t->chain.node = HS_CT_NONE;
        drop_closed_steps(t);
        if (!top_is_async(ct, t))
            begin_step(self, t, code, now);
    }
    uint32_t node = hs_ct_lookup(ct, t, code);
    if (node == HS_CT_NONE) {
        node = hs_tracer_new_path(self, t, code, (PyObject *)code, HS_CALLEE_CODE, NULL);
        if (node == HS_CT_NONE)
            return;
    }
    if (hs_ct_push(t, node, now) == 0 && first && self->slow_n)
        hs_slow_coro_start(self, t, frame, now);
}

/* ---- waits ------------------------------------------------------------------------ */

/* A yield of the frame on top of the stack (not yet popped): it continues
 * the chain being unwound when it comes from the frame right below the
 * chain's last one with the same object, else it starts a new chain. */
static void follow_chain(hs_tthread *t, PyCodeObject *code, PyObject *value, int offset) {
    hs_await_chain *c = &t->chain;
    if (c->node != HS_CT_NONE && c->depth == t->depth && c->value == value) {
        c->depth = t->depth - 1;
        return;
    }
    c->node = t->stack[t->depth - 1];
    c->depth = t->depth - 1;
    c->value = value;
    c->code = code;
    c->offset = offset;
}

static uint32_t make_wait_func(TracerObject *self, const hs_await_chain *c, PyObject *value) {
    PyCodeObject *code = (PyCodeObject *)c->code; /* kept alive: a function of the tree */
    int line = c->offset >= 0 ? PyCode_Addr2Line(code, c->offset) : code->co_firstlineno;
    char what[300], label[LABEL_SIZE];
    put_awaited(&self->async, value, self->ct.synth_count < MAX_SYNTHETIC_FRAMES, what, sizeof what);
    snprintf(label, sizeof label, "%s line %d", what, line);
    char *file = code_file(code);
    uint32_t func = file ? hs_ct_synthetic_func(&self->ct, label, file, line) : HS_CT_NONE;
    free(file);
    PyErr_Clear();
    return func;
}

/* The "[await ...]" frame for the chain that just ended with `value`,
 * remembered per (code, offset, type) unless a task is awaited (its name
 * is in the label). */
static uint32_t wait_func(TracerObject *self, const hs_await_chain *c, PyObject *value) {
    hs_async_state *a = &self->async;
    const void *type = value ? (const void *)Py_TYPE(value) : NULL;
    if (a->task_type && value && PyObject_TypeCheck(value, (PyTypeObject *)a->task_type))
        return make_wait_func(self, c, value);
    uint64_t h = hs_hash_mix(hs_hash_mix((uint64_t)(uintptr_t)c->code, (uint64_t)(uint32_t)c->offset),
                             (uint64_t)(uintptr_t)type);
    hs_wait_label *slot = &a->wait_labels[h & (HS_WAIT_LABELS - 1)];
    if (slot->code == c->code && slot->offset == c->offset && slot->type == type && slot->func != HS_CT_NONE)
        return slot->func;
    uint32_t func = make_wait_func(self, c, value);
    *slot = (hs_wait_label){c->code, c->offset, type, func};
    return func;
}

/* The task's own coroutine has left: the step is over. A yield means the
 * task now waits; a return or an exception, that it is done. */
static void end_step(TracerObject *self, hs_tthread *t, int yielded, PyObject *value, uint64_t now) {
    hs_task_step step = t->steps[--t->step_count];
    t->depth--; /* the task's root: not a call */
    hs_await_chain chain = t->chain;
    t->chain.node = HS_CT_NONE;
    PyObject *task = (PyObject *)step.task; /* alive: its step was running */
    hs_task_entry *e = find_entry(&self->async, task);
    if (!e)
        return;
    if (!yielded) {
        remove_entry(&self->async, e);
        return;
    }
    e->await_node = HS_CT_NONE;
    if (chain.node == HS_CT_NONE || chain.depth != step.depth)
        return;
    uint32_t func = wait_func(self, &chain, value);
    e = find_entry(&self->async, task); /* labels may have run Python code */
    if (!e || func == HS_CT_NONE)
        return;
    e->await_node = chain.node;
    e->await_func = func;
    e->thread = t->index;
    e->suspended_at = now;
}

void hs_async_leave(TracerObject *self, PyCodeObject *code, PyObject *value, int yielded,
                    int offset, PyFrameObject *frame) {
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    if (!yielded && self->slow_n)
        hs_slow_coro_leave(self, t, code, frame, now);
    if (!self->asyncio) {
        hs_ct_pop(ct, t, code);
        return;
    }
    if (yielded && t->depth > 1 && ct->nodes[t->stack[t->depth - 1]].key == code)
        follow_chain(t, code, value, offset);
    else
        t->chain.node = HS_CT_NONE;
    hs_ct_pop(ct, t, code);
    drop_closed_steps(t);
    if (t->step_count && t->steps[t->step_count - 1].depth == t->depth)
        end_step(self, t, yielded, value, now);
}

void hs_async_stop(TracerObject *self) {
    hs_async_state *a = &self->async;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    for (size_t i = 0; i < a->slot_count; i++) {
        hs_task_entry *e = &a->slots[i];
        if (e->task && e->await_node != HS_CT_NONE && e->thread < ct->thread_count)
            charge_wait(ct, ct->threads[e->thread], e, now);
    }
    hs_async_forget(self);
}
