/*
 * gc_hook.c - the tracer's view of the cyclic garbage collector: each
 * collection becomes a synthetic frame `[gc]` under the frame that was
 * running when it began, with one child per generation collected
 * (`[gc] gen 0`, `[gc] gen 1`, `[gc] gen 2`).
 *
 * How: a C function object is appended to gc.callbacks while tracing.
 * The collector calls it with ("start", info) before a collection and
 * ("stop", info) after it (Doc/library/gc.rst, "gc.callbacks"; info holds
 * "generation", and at stop "collected" and "uncollectable"). At start the
 * time so far is charged to the running frame, exactly as at a call, and
 * the two frames are pushed; at stop they are popped. So the collection's
 * wall and CPU time leave the self time of the frame that triggered it,
 * and finalizers (__del__, weakref callbacks) that the collection runs
 * show up under [gc]. `[gc]`'s calls count collections; each
 * `[gc] gen N` counts collections of that generation, the figure
 * gc.get_stats()[N]["collections"] counts.
 *
 * Why a gc callback and not an interpreter hook: it is the only public
 * signal, it costs nothing between collections, and the collector calls it
 * from C, which raises no profiling event of its own. A collection holds
 * gcstate->collecting for its whole length (Modules/gcmodule.c 3.10-3.12,
 * Python/gc.c 3.13), so collections never nest and one open collection
 * per tracer is all there is to remember.
 */
#include "tracer.h"

#include <stdio.h>

#include "../model/model.h"

/* [0] is [gc], [1 + N] is generation N. */
static const char *const gc_names[4] = {"[gc]", "[gc] gen 0", "[gc] gen 1", "[gc] gen 2"};

/* Pushes the synthetic frame `which` on the thread's stack (its function
 * made as asyncio's task roots are, calltree.h). Its key, or NULL. */
static const void *push_synthetic(TracerObject *self, hs_tthread *t, int which, uint64_t now) {
    hs_calltree *ct = &self->ct;
    uint32_t func = hs_ct_synthetic_func(ct, gc_names[which], "~", 0);
    if (func == HS_CT_NONE)
        return NULL;
    const void *key = ct->func_keys[func];
    uint32_t node = hs_ct_lookup(ct, t, key);
    if (node == HS_CT_NONE && (node = hs_ct_child_add(ct, t->stack[t->depth - 1], key, func)) == HS_CT_NONE)
        return NULL;
    return hs_ct_push(t, node, now) == 0 ? key : NULL;
}

static void collection_started(TracerObject *self, long generation) {
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    if (!(self->gc_keys[0] = push_synthetic(self, t, 0, now)))
        return;
    if (!(self->gc_keys[1] = push_synthetic(self, t, 1 + (int)generation, now))) {
        t->depth--; /* [gc] alone would be a collection of no generation */
        return;
    }
    self->gc_open = 1;
    self->gc_start_ticks = now;
}

static void collection_stopped(TracerObject *self, long generation, long collected) {
    if (!self->gc_open)
        return; /* began before tracing did */
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    hs_ct_pop(ct, t, self->gc_keys[1]);
    hs_ct_pop(ct, t, self->gc_keys[0]);
    self->gc_open = 0;
    self->gc_collections[generation]++;
    if (collected > 0)
        self->gc_collected += collected;
    if (now > self->gc_start_ticks)
        self->gc_wall_ticks += (int64_t)(now - self->gc_start_ticks);
}

/* An int in the info dict, or -1; never raises (an exception escaping a
 * gc callback would be reported as unraisable in the user's program). */
static long info_long(PyObject *info, const char *key) {
    PyObject *value = PyDict_GetItemString(info, key); /* borrowed */
    long n = value && PyLong_Check(value) ? PyLong_AsLong(value) : -1;
    if (n == -1)
        PyErr_Clear();
    return n;
}

static PyObject *on_gc(PyObject *obj, PyObject *const *args, Py_ssize_t nargs) {
    TracerObject *self = (TracerObject *)obj;
    if (nargs != 2 || !self->enabled || !PyUnicode_Check(args[0]) || !PyDict_Check(args[1]))
        Py_RETURN_NONE;
    long generation = info_long(args[1], "generation");
    if (generation < 0 || generation > 2)
        Py_RETURN_NONE;
    if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0)
        collection_started(self, generation);
    else if (PyUnicode_CompareWithASCIIString(args[0], "stop") == 0)
        collection_stopped(self, generation, info_long(args[1], "collected"));
    Py_RETURN_NONE;
}

static PyMethodDef gc_callback_def = {
    "hotscope_gc_callback", (PyCFunction)(void (*)(void))on_gc, METH_FASTCALL,
    "hotscope's gc.callbacks entry: times each collection as a [gc] frame."};

/* gc.callbacks (a new reference), or NULL with an exception. */
static PyObject *gc_callbacks(void) {
    PyObject *gc = PyImport_ImportModule("gc");
    if (!gc)
        return NULL;
    PyObject *callbacks = PyObject_GetAttrString(gc, "callbacks");
    Py_DECREF(gc);
    if (callbacks && !PyList_Check(callbacks)) {
        PyErr_SetString(PyExc_TypeError, "gc.callbacks is not a list");
        Py_CLEAR(callbacks);
    }
    return callbacks;
}

int hs_gc_hook_install(TracerObject *self) {
    if (!self->record_gc)
        return 0;
    if (!self->gc_callback) {
        self->gc_callback = PyCFunction_NewEx(&gc_callback_def, (PyObject *)self, NULL);
        if (!self->gc_callback)
            return -1;
    }
    PyObject *callbacks = gc_callbacks();
    if (!callbacks)
        return -1;
    self->gc_open = 0;
    int status = PyList_Append(callbacks, self->gc_callback);
    Py_DECREF(callbacks);
    return status;
}

int hs_gc_hook_remove(TracerObject *self) {
    if (!self->gc_callback)
        return 0;
    PyObject *callbacks = gc_callbacks();
    if (!callbacks)
        return -1;
    /* By identity, from the end: the program may have added or removed
     * callbacks of its own meanwhile (or removed ours). */
    for (Py_ssize_t i = PyList_GET_SIZE(callbacks); i-- > 0;) {
        if (PyList_GET_ITEM(callbacks, i) == self->gc_callback) {
            int status = PySequence_DelItem(callbacks, i);
            Py_DECREF(callbacks);
            return status;
        }
    }
    Py_DECREF(callbacks);
    return 0;
}

void hs_gc_clear(TracerObject *self) {
    memset(self->gc_collections, 0, sizeof self->gc_collections);
    self->gc_collected = 0;
    self->gc_wall_ticks = 0;
}

void hs_gc_add_metadata(TracerObject *self, hs_profile *p) {
    if (!self->record_gc)
        return;
    char value[96];
    snprintf(value, sizeof value, "%lld %lld %lld", (long long)self->gc_collections[0],
             (long long)self->gc_collections[1], (long long)self->gc_collections[2]);
    hs_meta_set(p, "gc_collections", value);
    snprintf(value, sizeof value, "%lld", (long long)self->gc_collected);
    hs_meta_set(p, "gc_collected", value);
    snprintf(value, sizeof value, "%lld", (long long)hs_ticks_to_ns(&self->ct.clock, self->gc_wall_ticks));
    hs_meta_set(p, "gc_wall_ns", value);
}
