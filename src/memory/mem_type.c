/*
 * mem_type.c - hotscope._core.MemTracer, the Python face of the memory
 * engine (mem.h): start, stop, live figures, and the recording as a
 * profile model (ProfileData). One recording per object; only one
 * MemTracer can record at a time in a process (the allocator hooks are
 * process-wide).
 */
#include "mem.h"
#include "mem_export.h"
#include "mem_type.h"
#include "../pymod/evalhook.h"
#include "../pymod/module.h"

#include <stdlib.h>
#include <unistd.h>


/* Applies events queued by threads without the GIL, so figures read now
 * include them (as the engine: what it allocates meanwhile is not the
 * program's, and must not come back into it through malloc). */
static void catch_up(MemTracerObject *self) {
    if (self->engine && self->started && !self->stopped) {
        hs_mem_set_busy(self->engine, 1);
        hs_mem_drain(self->engine);
        hs_mem_set_busy(self->engine, 0);
    }
}

static PyObject *mt_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"interval_ms", "native", NULL};
    double interval_ms = 10.0;
    int native = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|dp:MemTracer", kwlist, &interval_ms, &native))
        return NULL;
    if (!(interval_ms > 0) || interval_ms > 3.6e6) {
        PyErr_SetString(PyExc_ValueError, "interval_ms must be more than 0 and at most 3600000");
        return NULL;
    }
    MemTracerObject *self = (MemTracerObject *)type->tp_alloc(type, 0);
    if (self) {
        self->interval_ms = interval_ms;
        self->native = native;
        self->watch_tool = -1;
        if (!(self->chosen = PyList_New(0)))
            Py_CLEAR(self);
    }
    return (PyObject *)self;
}

static PyObject *mt_start(MemTracerObject *self, PyObject *unused) {
    (void)unused;
    if (self->started) {
        PyErr_SetString(PyExc_RuntimeError, "this MemTracer has already recorded; make a new one");
        return NULL;
    }
    char err[256] = {0};
    hs_mem *m = malloc(sizeof *m);
    if (!m)
        return PyErr_NoMemory();
    if (hs_mem_init(m, (int64_t)(self->interval_ms * 1e6), err, sizeof err) != 0) {
        free(m);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->chosen); i++) {
        if (hs_mem_lines_choose(&m->lines, PyList_GET_ITEM(self->chosen, i)) < 0) {
            hs_mem_release_codes(m);
            hs_mem_free(m);
            free(m);
            return NULL;
        }
    }
    m->native = self->native;
    /* The engine's own allocations (its hooks' blocks, what starting
     * sys.monitoring costs) are not the program's: malloc is watched
     * from the start with --native. */
    hs_mem_set_busy(m, 1);
    if (hs_mem_install(m, err, sizeof err) != 0) {
        hs_mem_set_busy(m, 0);
        hs_mem_release_codes(m);
        hs_mem_free(m);
        free(m);
        PyErr_SetString(PyExc_RuntimeError, err);
        return NULL;
    }
    self->engine = m;
    self->started = 1;
    self->watch_tool = hs_mem_watch_start(self);
    if (self->watch_tool < 0)
        m->evalhook = hs_evalhook_acquire(1);
    if (m->lines_gated) /* chosen frames already running here are counted */
        hs_mem_recount_chosen(m);
    hs_mem_set_busy(m, 0);
    Py_RETURN_NONE;
}

/* choose(code): per-line figures for this code object (mem_lines.h),
 * before or while recording. Chosen while recording, its frames already
 * running on other threads count from their next start or resumption. */
static PyObject *mt_choose(MemTracerObject *self, PyObject *code) {
    if (!PyCode_Check(code)) {
        PyErr_Format(PyExc_TypeError, "choose() wants a code object, not %.100s", Py_TYPE(code)->tp_name);
        return NULL;
    }
    /* By identity: equal code objects (same body, name and first line in
     * two files) are still two functions. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->chosen); i++)
        if (PyList_GET_ITEM(self->chosen, i) == code)
            Py_RETURN_FALSE;
    hs_mem *m = self->engine && self->started && !self->stopped ? self->engine : NULL;
    if (m) {
        /* The engine's own allocations are not the program's. */
        hs_mem_set_busy(m, 1);
        int rc = hs_mem_lines_choose(&m->lines, code);
        if (rc > 0 && m->lines_gated && hs_mem_watch_code(self, code) != 0) {
            /* Its frames cannot be counted: every free reads the stack
             * from now on, as when no tool id is free. */
            PyErr_Clear();
            m->lines_gated = 0;
        }
        if (rc > 0 && m->lines_gated)
            hs_mem_recount_chosen(m); /* other threads count it from its next start */
        hs_mem_set_busy(m, 0);
        if (rc < 0)
            return NULL;
    } else if (self->started) {
        PyErr_SetString(PyExc_RuntimeError, "this MemTracer has stopped recording");
        return NULL;
    }
    if (PyList_Append(self->chosen, code) < 0)
        return NULL;
    Py_RETURN_TRUE;
}

static PyObject *mt_get_chosen(MemTracerObject *self, void *unused) {
    (void)unused;
    return PyList_GetSlice(self->chosen, 0, PY_SSIZE_T_MAX);
}

static void stop(MemTracerObject *self) {
    if (!self->engine || self->stopped)
        return;
    self->stopped = 1;
    hs_mem_uninstall(self->engine);
    hs_mem_finish(self->engine);
    hs_mem_watch_stop(self);
    if (self->engine->evalhook)
        hs_evalhook_release(1);
    self->engine->evalhook = 0;
}

static PyObject *mt_stop(MemTracerObject *self, PyObject *unused) {
    (void)unused;
    stop(self);
    Py_RETURN_NONE;
}

/* os.register_at_fork(after_in_child=...): the child records nothing and
 * never reports (the parent's recording is the parent's). */
static PyObject *mt_after_fork_child(MemTracerObject *self, PyObject *unused) {
    (void)unused;
    if (self->engine && !self->stopped) {
        hs_mem_forget_after_fork(self->engine);
        self->stopped = 1;
        hs_mem_watch_stop(self);
        if (self->engine->evalhook)
            hs_evalhook_release(1);
        self->engine->evalhook = 0;
    }
    Py_RETURN_NONE;
}

static PyObject *mt_profile(MemTracerObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread_names", "hide", "base_thread", "base_frames", NULL};
    PyObject *names = Py_None;
    hs_mem_export_opts opts = {NULL, NULL, 0, 0};
    unsigned int base_frames = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OzkI:profile", kwlist, &names, &opts.hide_prefix,
                                     &opts.base_thread, &base_frames))
        return NULL;
    opts.thread_names = names == Py_None ? NULL : names;
    opts.base_frames = base_frames;
    if (!self->engine) {
        PyErr_SetString(PyExc_RuntimeError, "nothing recorded: start() was not called");
        return NULL;
    }
    hs_module_state *state = hs_state_from_type(Py_TYPE(self));
    if (!state)
        return NULL;
    hs_profile *p = hs_profile_new();
    if (!p)
        return PyErr_NoMemory();
    char err[256] = {0};
    hs_mem_set_busy(self->engine, 1);
    catch_up(self);
    int rc = hs_mem_export(self->engine, p, &opts, err, sizeof err);
    hs_mem_set_busy(self->engine, 0);
    if (rc != 0) {
        hs_profile_free(p);
        PyErr_SetString(PyExc_MemoryError, err);
        return NULL;
    }
    return hs_profile_data_new(state->profile_type, p);
}

static PyObject *mt_stats(MemTracerObject *self, PyObject *unused) {
    (void)unused;
    catch_up(self);
    hs_mem *m = self->engine;
    if (!m)
        return Py_BuildValue("{s:L,s:L}", "current_bytes", 0LL, "peak_bytes", 0LL);
    uint64_t unwinds[3];
    hs_mem_lock(m);
    hs_mem_native_unwind_counts(m, unwinds);
    hs_mem_unlock(m);
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:n,s:n,s:O,s:O,s:L,s:O,s:i,s:O,s:K,s:K,s:K}",
                         "current_bytes", (long long)m->current_bytes,
                         "current_blocks", (long long)m->current_blocks,
                         "peak_bytes", (long long)m->peak_bytes,
                         "peak_blocks", (long long)m->peak_blocks,
                         "allocated_bytes", (long long)m->total_bytes,
                         "allocations", (long long)m->total_allocs,
                         "frees", (long long)m->frees,
                         "unrecorded_events", (long long)m->lost,
                         "stacks", (Py_ssize_t)m->trie.count,
                         "points", (Py_ssize_t)m->point_count,
                         "recording", (self->started && !self->stopped) ? Py_True : Py_False,
                         "watching_exits", m->watching || m->evalhook ? Py_True : Py_False,
                         "full_walks_after_failed_check", (long long)m->full_walks,
                         "counting_chosen_frames", m->lines_gated ? Py_True : Py_False,
                         "chosen_frames_here", hs_mem_chosen_depth(m),
                         "native", m->native ? Py_True : Py_False,
                         "native_unwinds_cached", (unsigned long long)unwinds[0],
                         "native_unwinds_libgcc", (unsigned long long)unwinds[1],
                         "native_unwind_mismatches", (unsigned long long)unwinds[2]);
}

static PyObject *mt_get_peak(MemTracerObject *self, void *unused) {
    (void)unused;
    catch_up(self);
    return PyLong_FromLongLong(self->engine ? (long long)self->engine->peak_bytes : 0);
}

static PyObject *mt_get_current(MemTracerObject *self, void *unused) {
    (void)unused;
    catch_up(self);
    return PyLong_FromLongLong(
        self->engine ? (long long)self->engine->current_bytes : 0);
}

/* MemTracer.native_available(): whether native=True can record here. */
static PyObject *mt_native_available(PyObject *unused_cls, PyObject *unused) {
    (void)unused_cls, (void)unused;
    return PyBool_FromLong(hs_mem_native_available());
}

static PyObject *mt_get_recording(MemTracerObject *self, void *unused) {
    (void)unused;
    return PyBool_FromLong(self->started && !self->stopped);
}

static PyMethodDef mt_methods[] = {
    {"start", (PyCFunction)mt_start, METH_NOARGS, "start(): hook the allocators and record"},
    {"stop", (PyCFunction)mt_stop, METH_NOARGS, "stop(): remove the hooks (what was recorded stays)"},
    {"profile", (PyCFunction)(void (*)(void))mt_profile, METH_VARARGS | METH_KEYWORDS,
     "profile(thread_names=None (a dict {native thread id: name}), hide=None, base_thread=0, base_frames=0) -> ProfileData with weights bytes, allocs, "
     "peak_bytes, peak_allocs, leak_bytes, leak_allocs"},
    {"stats", (PyCFunction)mt_stats, METH_NOARGS, "stats() -> dict of the engine's counters"},
    {"choose", (PyCFunction)mt_choose, METH_O,
     "choose(code) -> bool: record bytes allocated and freed per line of this code object "
     "(False if chosen already); before or while recording"},
    {"native_available", (PyCFunction)mt_native_available, METH_NOARGS | METH_STATIC,
     "native_available() -> bool: whether hotscope's malloc interposer is loaded in this process "
     "(MemTracer(native=True) records malloc and free then; `hotscope mem --native` loads it)"},
    {"_after_fork_child", (PyCFunction)mt_after_fork_child, METH_NOARGS,
     "called in a forked child: stop recording there without reporting"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef mt_getset[] = {
    {"peak", (getter)mt_get_peak, NULL, "peak of the traced heap, in bytes", NULL},
    {"current", (getter)mt_get_current, NULL, "traced bytes live now", NULL},
    {"recording", (getter)mt_get_recording, NULL, "whether the hooks are recording", NULL},
    {"chosen", (getter)mt_get_chosen, NULL, "the code objects chosen for per-line figures", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static void mt_dealloc(MemTracerObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    if (self->engine) {
        if (!self->stopped && self->engine->pid != getpid())
            hs_mem_forget_after_fork(self->engine); /* a fork the at-fork hook missed */
        stop(self);
        hs_mem_release_codes(self->engine);
        hs_mem_free(self->engine);
        free(self->engine);
    }
    Py_XDECREF(self->chosen);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyType_Slot mt_slots[] = {
    {Py_tp_doc, "MemTracer(interval_ms=10, native=False): records every allocation of the Python "
                "allocators with its stack (hotscope's memory engine); native=True adds malloc "
                "and friends with native frames (needs the interposer: native_available())."},
    {Py_tp_new, mt_new},
    {Py_tp_dealloc, mt_dealloc},
    {Py_tp_methods, mt_methods},
    {Py_tp_getset, mt_getset},
    {0, NULL},
};

static PyType_Spec mt_spec = {
    .name = "hotscope._core.MemTracer",
    .basicsize = sizeof(MemTracerObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = mt_slots,
};

PyTypeObject *hs_mem_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &mt_spec, NULL);
}
