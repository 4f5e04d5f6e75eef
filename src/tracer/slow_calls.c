/*
 * slow_calls.c - keeping the N slowest calls of each function (see
 * slow_calls.h), and exporting them into the profile model.
 *
 * The arguments: read when a call returns, from its frame, and only for a
 * call that enters its function's top N, so the cost is paid rarely (about
 * N * ln(calls / N) times per function when durations come in random
 * order). They are the values the parameters hold at that moment: a
 * function that rebinds or mutates a parameter shows the new value.
 * Taking them at entry instead would mean a text for every call, or
 * holding references to the arguments, which changes when they die.
 * The text comes from a Python callable (hotscope._slow.describe_frame)
 * that bounds its length and survives a __repr__ that raises or recurses;
 * it runs inside the interpreter's profiling callback, where no events
 * are reported for the code it runs, but where another thread may run in
 * the meantime: nothing read from the call tree is trusted across it.
 * Its time is not the program's: it is cut from the thread's clock and
 * from the duration of every call still open on that thread.
 *
 * Coroutines (async_tasks.c sends their events here): a call runs from
 * the first step to the end (slow_calls.h), so the start is kept by the
 * frame's address from the first step on, in a small table of the
 * coroutines under way; the first step is told by the hooks (PY_START, or
 * the frame's position before 3.12), never guessed from the table, so a
 * coroutine closed without an event (3.12+ closes one suspended outside
 * any try block without running it) and a new frame at its address cannot
 * be mistaken for each other. A coroutine's duration is what the program
 * itself would measure around it: describer time spent while it was under
 * way is not cut from it, since while it is suspended that time may or
 * may not delay it (a timer it waits for fires all the same).
 */
#include "tracer.h"

#include <stdlib.h>
#include <string.h>

#include "../model/model.h"
#include "../model/strtab.h"

void hs_slow_table_clear(hs_slow_table *table) {
    for (size_t f = 0; f < table->cap; f++) {
        for (uint32_t i = 0; i < table->funcs[f].count; i++)
            free(table->funcs[f].heap[i].args);
        free(table->funcs[f].heap);
    }
    free(table->funcs);
    table->funcs = NULL;
    table->cap = 0;
    hs_slow_coros_forget(table);
}

/* ---- coroutines under way ------------------------------------------------ */

void hs_slow_coros_forget(hs_slow_table *table) {
    free(table->coros);
    table->coros = NULL;
    table->coro_slots = table->coro_count = 0;
}

static size_t coro_home(const hs_slow_table *table, const void *frame) {
    return (size_t)hs_hash_mix(0, (uint64_t)(uintptr_t)frame) & (table->coro_slots - 1);
}

/* The slot of `frame`, or NULL. */
static hs_slow_coro *coro_find(hs_slow_table *table, const void *frame) {
    if (!table->coro_slots)
        return NULL;
    size_t mask = table->coro_slots - 1;
    for (size_t i = coro_home(table, frame);; i = (i + 1) & mask) {
        if (table->coros[i].frame == frame)
            return &table->coros[i];
        if (!table->coros[i].frame)
            return NULL;
    }
}

static int coros_grow(hs_slow_table *table) {
    size_t n = table->coro_slots ? table->coro_slots * 2 : 64;
    hs_slow_coro *coros = calloc(n, sizeof *coros);
    if (!coros)
        return -1;
    for (size_t k = 0; k < table->coro_slots; k++) {
        if (!table->coros[k].frame)
            continue;
        size_t i = (size_t)hs_hash_mix(0, (uint64_t)(uintptr_t)table->coros[k].frame) & (n - 1);
        while (coros[i].frame)
            i = (i + 1) & (n - 1);
        coros[i] = table->coros[k];
    }
    free(table->coros);
    table->coros = coros;
    table->coro_slots = n;
    return 0;
}

/* Records (or restarts: a new frame at the address of one that ended
 * unseen) the coroutine of `frame`. 0 or -1. */
static int coro_start(hs_slow_table *table, const void *frame, uint64_t started) {
    hs_slow_coro *c = coro_find(table, frame);
    if (!c) {
        if ((table->coro_count + 1) * 2 > table->coro_slots && coros_grow(table) != 0)
            return -1;
        size_t mask = table->coro_slots - 1, i = coro_home(table, frame);
        while (table->coros[i].frame)
            i = (i + 1) & mask;
        c = &table->coros[i];
        table->coro_count++;
    }
    *c = (hs_slow_coro){frame, started};
    return 0;
}

/* Linear probing's deletion: later entries of the run move back. */
static void coro_remove(hs_slow_table *table, hs_slow_coro *c) {
    size_t mask = table->coro_slots - 1;
    size_t hole = (size_t)(c - table->coros);
    table->coros[hole].frame = NULL;
    table->coro_count--;
    for (size_t i = (hole + 1) & mask; table->coros[i].frame; i = (i + 1) & mask) {
        size_t home = coro_home(table, table->coros[i].frame);
        /* movable when its home is not within (hole, i], cyclically */
        if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
            table->coros[hole] = table->coros[i];
            table->coros[i].frame = NULL;
            hole = i;
        }
    }
}

/* ---- which functions are watched ------------------------------------------ */

static int is_watched(TracerObject *self, uint32_t func) {
    const hs_tfunc *fn = &self->ct.funcs[func];
    if (fn->kind == HS_TFUNC_SYNTHETIC)
        return 0;
    if (!self->slow_only)
        return 1;
    if (!hs_tfunc_is_code(fn->kind))
        return 0;
    /* By identity: two functions with equal code are still two functions. */
    const void *key = self->ct.func_keys[func];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->slow_only); i++)
        if ((const void *)PyList_GET_ITEM(self->slow_only, i) == key)
            return 1;
    return 0;
}

/* The record of function `func`, NULL when it is not watched (or on
 * allocation failure). */
static hs_slow_func *slow_func(TracerObject *self, uint32_t func) {
    hs_slow_table *table = &self->slow;
    if (func >= table->cap) {
        size_t cap = table->cap ? table->cap : 64;
        while (cap <= func)
            cap *= 2;
        hs_slow_func *funcs = realloc(table->funcs, cap * sizeof *funcs);
        if (!funcs)
            return NULL;
        memset(funcs + table->cap, 0, (cap - table->cap) * sizeof *funcs);
        table->funcs = funcs;
        table->cap = cap;
    }
    hs_slow_func *sf = &table->funcs[func];
    if (sf->state == HS_SLOW_UNDECIDED)
        sf->state = is_watched(self, func) ? HS_SLOW_WATCHED : HS_SLOW_IGNORED;
    return sf->state == HS_SLOW_WATCHED ? sf : NULL;
}

static int enters_top(const hs_slow_func *sf, int n, int64_t ticks) {
    return sf->count < (uint32_t)n || ticks > sf->heap[0].ticks;
}

static void sift_down(hs_slow_entry *heap, uint32_t count, uint32_t i) {
    for (;;) {
        uint32_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < count && heap[l].ticks < heap[least].ticks)
            least = l;
        if (r < count && heap[r].ticks < heap[least].ticks)
            least = r;
        if (least == i)
            return;
        hs_slow_entry tmp = heap[i];
        heap[i] = heap[least];
        heap[least] = tmp;
        i = least;
    }
}

/* Puts `e` among the top N, dropping the fastest when full. 0 or -1. */
static int keep(hs_slow_func *sf, int n, hs_slow_entry e) {
    if (!sf->heap && !(sf->heap = malloc((size_t)n * sizeof *sf->heap)))
        return -1;
    if (sf->count == (uint32_t)n) {
        free(sf->heap[0].args);
        sf->heap[0] = e;
        sift_down(sf->heap, sf->count, 0);
        return 0;
    }
    uint32_t i = sf->count++;
    sf->heap[i] = e;
    while (i > 0 && sf->heap[(i - 1) / 2].ticks > sf->heap[i].ticks) {
        hs_slow_entry tmp = sf->heap[i];
        sf->heap[i] = sf->heap[(i - 1) / 2];
        sf->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
    return 0;
}

/* ---- the arguments ------------------------------------------------------------ */

/* The arguments of the Python call returning now (whose code is `code`)
 * as text, malloc'ed; "" when they cannot be told. Runs Python code. */
static char *describe_args(TracerObject *self, const void *code) {
    if (!code || !self->slow_describe)
        return strdup("");
    /* A call leaving by an exception has it set: the describer runs
     * beside it, and it is put back as it was. */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    char *text = NULL;
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed: the returning frame */
    PyCodeObject *frame_code = frame ? PyFrame_GetCode(frame) : NULL;
    if (frame_code && (const void *)frame_code == code) {
        PyObject *result = PyObject_CallOneArg(self->slow_describe, (PyObject *)frame);
        if (result && PyUnicode_Check(result))
            text = hs_utf8_dup(result);
        Py_XDECREF(result);
    }
    Py_XDECREF(frame_code);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    return text ? text : strdup("");
}

/* The watched function of the frame on top of the stack, if it is `key`:
 * its index, or HS_CT_NONE. */
static uint32_t watched_top(TracerObject *self, hs_tthread *t, const void *key) {
    hs_calltree *ct = &self->ct;
    if (t->depth <= 1)
        return HS_CT_NONE;
    const hs_tnode *node = &ct->nodes[t->stack[t->depth - 1]];
    if (node->key != key)
        return HS_CT_NONE; /* not the frame on top: hs_ct_pop repairs the stack */
    return slow_func(self, node->func) ? node->func : HS_CT_NONE;
}

/* The describer's time is hotscope's: moved out of the thread's clock and
 * out of every open call's duration. */
static void forget_time_spent(TracerObject *self, hs_tthread *t, uint64_t now) {
    uint64_t after = hs_ticks(&self->ct.clock);
    if (after <= now)
        return;
    uint64_t spent = after - now;
    for (size_t level = 1; level < t->depth; level++)
        t->entered[level] += spent;
    t->first_ticks += spent;
    t->last_ticks = after;
}

/* The call of watched function `func`, on top of the stack, that ends at
 * `now` after `ticks`: kept if it is among the slowest. */
static void end_call(TracerObject *self, hs_tthread *t, uint32_t func, const void *key, uint64_t now,
                     int64_t ticks) {
    hs_calltree *ct = &self->ct;
    hs_slow_func *sf = slow_func(self, func);
    if (!sf || !enters_top(sf, self->slow_n, ticks))
        return;
    hs_slow_entry e = {ticks, t->depth > 2 ? ct->nodes[t->stack[t->depth - 2]].func : HS_CT_NONE,
                       t->index, NULL};
    int is_python = hs_tfunc_is_code(ct->funcs[func].kind);
    e.args = describe_args(self, is_python ? key : NULL);
    if (is_python)
        forget_time_spent(self, t, now);
    /* Other threads may have run meanwhile: look again. */
    sf = slow_func(self, func);
    if (!e.args || !sf || !enters_top(sf, self->slow_n, ticks) || keep(sf, self->slow_n, e) != 0)
        free(e.args);
}

void hs_slow_leave(TracerObject *self, hs_tthread *t, const void *key, uint64_t now) {
    uint32_t func = watched_top(self, t, key);
    if (func != HS_CT_NONE)
        end_call(self, t, func, key, now, (int64_t)(now - t->entered[t->depth - 1]));
}

/* The frame of the running code `key`: `frame` if the hook had it, else
 * the interpreter's current frame (made into an object, once per frame,
 * on 3.11+), checked to run `key`. Borrowed; NULL if not found. */
static PyFrameObject *frame_of(PyFrameObject *frame, const void *key) {
    if (frame)
        return frame;
    frame = PyEval_GetFrame();
    PyCodeObject *code = frame ? PyFrame_GetCode(frame) : NULL;
    Py_XDECREF(code); /* the frame keeps it alive: compared only */
    return (const void *)code == key ? frame : NULL;
}

void hs_slow_coro_start(TracerObject *self, hs_tthread *t, PyFrameObject *frame, uint64_t now) {
    if (t->depth <= 1)
        return;
    const void *key = self->ct.nodes[t->stack[t->depth - 1]].key;
    if (watched_top(self, t, key) == HS_CT_NONE || !(frame = frame_of(frame, key)))
        return;
    coro_start(&self->slow, frame, now); /* on failure, this one is not timed */
}

void hs_slow_coro_leave(TracerObject *self, hs_tthread *t, const void *key, PyFrameObject *frame,
                        uint64_t now) {
    uint32_t func = watched_top(self, t, key);
    if (func == HS_CT_NONE)
        return;
    frame = frame_of(frame, key);
    hs_slow_coro *c = frame ? coro_find(&self->slow, frame) : NULL;
    if (!c)
        return; /* started before tracing did */
    uint64_t started = c->started;
    coro_remove(&self->slow, c);
    end_call(self, t, func, key, now, (int64_t)(now - started));
}

/* ---- export ------------------------------------------------------------------- */

typedef struct {
    uint32_t func;
    int64_t slowest;
} func_order;

static int by_slowest(const void *a, const void *b) {
    const func_order *x = a, *y = b;
    if (x->slowest != y->slowest)
        return x->slowest > y->slowest ? -1 : 1;
    return x->func < y->func ? -1 : x->func > y->func;
}

static int by_ticks_desc(const void *a, const void *b) {
    const hs_slow_entry *x = a, *y = b;
    return x->ticks > y->ticks ? -1 : x->ticks < y->ticks;
}

int hs_slow_export(TracerObject *self, hs_profile *p, const uint32_t *func_frames) {
    hs_slow_table *table = &self->slow;
    size_t nfuncs = table->cap < self->ct.func_count ? table->cap : self->ct.func_count;
    func_order *order = malloc((nfuncs ? nfuncs : 1) * sizeof *order);
    hs_slow_entry *sorted = malloc((self->slow_n > 0 ? (size_t)self->slow_n : 1) * sizeof *sorted);
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return -1;
    }
    size_t n = 0;
    for (size_t f = 0; f < nfuncs; f++) {
        const hs_slow_func *sf = &table->funcs[f];
        if (!sf->count)
            continue;
        int64_t slowest = 0;
        for (uint32_t i = 0; i < sf->count; i++)
            if (sf->heap[i].ticks > slowest)
                slowest = sf->heap[i].ticks;
        order[n++] = (func_order){(uint32_t)f, slowest};
    }
    qsort(order, n, sizeof *order, by_slowest);
    int status = 0;
    for (size_t k = 0; k < n && status == 0; k++) {
        const hs_slow_func *sf = &table->funcs[order[k].func];
        memcpy(sorted, sf->heap, sf->count * sizeof *sorted);
        qsort(sorted, sf->count, sizeof *sorted, by_ticks_desc);
        for (uint32_t i = 0; i < sf->count && status == 0; i++) {
            const hs_slow_entry *e = &sorted[i];
            hs_slow_call call = {
                func_frames[order[k].func],
                e->caller == HS_CT_NONE || e->caller >= self->ct.func_count ? HS_NONE : func_frames[e->caller],
                (int32_t)e->thread, hs_ticks_to_ns(&self->ct.clock, e->ticks), hs_intern_cstr(p, e->args)};
            if (call.function == HS_NONE || call.args == HS_NONE || hs_slow_call_add(p, &call) != 0)
                status = -1;
        }
    }
    free(order);
    free(sorted);
    return status;
}

/* ---- the Python side -------------------------------------------------------- */

PyObject *hs_slow_watch(TracerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"n", "describe", "only", NULL};
    int n;
    PyObject *describe = Py_None, *only = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|OO:watch_slow_calls", kwlist, &n, &describe, &only))
        return NULL;
    if (self->enabled) {
        PyErr_SetString(PyExc_RuntimeError, "choose the slow calls to keep before tracing starts");
        return NULL;
    }
    if (n < 0 || n > 100000) {
        PyErr_SetString(PyExc_ValueError, "the number of slow calls kept per function must be 0 to 100000");
        return NULL;
    }
    if (describe != Py_None && !PyCallable_Check(describe)) {
        PyErr_SetString(PyExc_TypeError, "describe must be callable (a frame -> str)");
        return NULL;
    }
    PyObject *codes = NULL;
    if (only != Py_None) {
        codes = PySequence_List(only);
        if (!codes)
            return NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(codes); i++) {
            if (!PyCode_Check(PyList_GET_ITEM(codes, i))) {
                Py_DECREF(codes);
                PyErr_SetString(PyExc_TypeError, "only: a list of code objects");
                return NULL;
            }
        }
    }
    hs_slow_table_clear(&self->slow);
    self->slow_n = n;
    hs_tracer_fast_update(self);
    Py_XSETREF(self->slow_describe, describe == Py_None ? NULL : Py_NewRef(describe));
    Py_XSETREF(self->slow_only, codes);
    Py_RETURN_NONE;
}
