/*
 * mem_watch.c - frame exits reported to the memory engine through
 * sys.monitoring (PEP 669, 3.12+), so that an allocation need not read
 * the whole stack (see mem_type.h and partial_stack_node in mem_stack.c).
 *
 * Why exits are enough: a frame below the top can only run again once
 * the frame above it has left, and a frame leaves by returning, yielding
 * or unwinding, which are the events PY_RETURN, PY_YIELD and PY_UNWIND
 * (calls need no event: new frames are above the old leaf and are read
 * anyway). The callbacks only lower a per-thread depth mark; the depth is
 * the interpreter's own count of Python frames (py_recursion_remaining).
 * The one silent exit, RETURN_GENERATOR on a frame's first instruction,
 * only concerns the leaf, which is always read again, and the first frame
 * kept from the previous read is checked against it (address, code,
 * instruction) before anything below it is trusted.
 *
 * The same tool counts the frames of chosen functions (mem_lines.h) on
 * each thread: PY_START and PY_RESUME switched on for the chosen code
 * objects alone (local events), PY_THROW (a generator resumed by throw(),
 * global only) once anything is chosen, and the exits above; so code
 * that is not chosen runs with exactly the events it had without any.
 */
#include "mem_type.h"
#include "../pymod/monitoring.h"

#if HS_HAVE_MONITORING

/* Exits first, then entries; N_EXITS of them are switched on globally
 * from the start. */
static const char *const watched[] = {"PY_RETURN", "PY_YIELD", "PY_UNWIND",
                                      "PY_START", "PY_RESUME", "PY_THROW"};
#define N_WATCHED (sizeof watched / sizeof watched[0])
#define N_EXITS 3

/* Callback arguments: (code, offset[, value]) for all six events
 * (Doc/library/sys.monitoring.rst, "Callback function arguments"). */
static PyObject *on_frame_exit(PyObject *callable, PyObject *const *args, size_t nargsf,
                         PyObject *kwnames) {
    (void)kwnames;
    MemTracerObject *tracer = (MemTracerObject *)HS_HOOK_OWNER(callable);
    hs_mem *m = tracer->engine;
    if (m && m->watching && PyVectorcall_NARGS(nargsf) >= 1)
        hs_mem_note_exit(m, _PyThreadState_UncheckedGet(), args[0]);
    Py_RETURN_NONE;
}

static PyObject *on_frame_entry(PyObject *callable, PyObject *const *args, size_t nargsf,
                                PyObject *kwnames) {
    (void)kwnames;
    MemTracerObject *tracer = (MemTracerObject *)HS_HOOK_OWNER(callable);
    hs_mem *m = tracer->engine;
    if (m && m->watching && PyVectorcall_NARGS(nargsf) >= 1)
        hs_mem_note_entry(m, args[0]);
    Py_RETURN_NONE;
}

static long event_mask(PyObject *mon, size_t from, size_t to) {
    long mask = 0;
    for (size_t i = from; i < to; i++) {
        long bit = hs_monitoring_event_bit(mon, watched[i]);
        if (bit < 0)
            return -1;
        mask |= bit;
    }
    return mask;
}

/* PY_START and PY_RESUME for one chosen code object, and PY_THROW
 * globally with the exits. 0, or -1 with an exception set. */
int hs_mem_watch_code(MemTracerObject *self, PyObject *code) {
    if (self->watch_tool < 0)
        return 0;
    PyObject *mon = hs_monitoring_module();
    long local = mon ? event_mask(mon, N_EXITS, N_EXITS + 2) : -1;
    long global = local < 0 ? -1 : event_mask(mon, 0, N_EXITS + 3);
    if (global < 0)
        return -1;
    global &= ~local;
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", self->watch_tool, code, local);
    Py_XDECREF(r);
    if (!r)
        return -1;
    r = PyObject_CallMethod(mon, "set_events", "il", self->watch_tool, global);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* A free tool id, claimed under its own name so hotscope's tracer and
 * line profiler (which claim "hotscope", 4 first) can still run meanwhile;
 * -1 when none is free. The ids sys.monitoring reserves for debuggers (0),
 * coverage (1) and optimizers (5) are left alone, and the profiler id (2),
 * which cProfile insists on, is the last choice. */
static int claim_tool(PyObject *mon) {
    static const int candidates[] = {3, 4, 2};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        PyObject *owner = PyObject_CallMethod(mon, "get_tool", "i", candidates[i]);
        if (!owner)
            return -1;
        int is_free = owner == Py_None;
        Py_DECREF(owner);
        if (!is_free)
            continue;
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", candidates[i], "hotscope mem");
        if (!r)
            return -1;
        Py_DECREF(r);
        return candidates[i];
    }
    return -1;
}

int hs_mem_watch_start(MemTracerObject *self) {
    PyObject *mon = hs_monitoring_module();
    int tool = mon ? claim_tool(mon) : -1;
    if (tool < 0) {
        PyErr_Clear();
        return -1;
    }
    long mask = 0;
    for (size_t i = 0; i < N_WATCHED; i++) {
        long bit = hs_monitoring_event_bit(mon, watched[i]);
        vectorcallfunc callback = i < N_EXITS ? on_frame_exit : on_frame_entry;
        PyObject *hook = bit < 0 ? NULL : hs_hook_new(Py_TYPE(self), callback, (PyObject *)self);
        PyObject *r = hook ? PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, hook) : NULL;
        Py_XDECREF(hook);
        if (!r) {
            PyErr_Clear();
            hs_monitoring_release(mon, tool, watched, N_WATCHED);
            PyErr_Clear();
            return -1;
        }
        Py_DECREF(r);
        if (i < N_EXITS)
            mask |= bit;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", tool, mask);
    if (!r) {
        PyErr_Clear();
        hs_monitoring_release(mon, tool, watched, N_WATCHED);
        PyErr_Clear();
        return -1;
    }
    Py_DECREF(r);
    self->watch_tool = tool;
    hs_mem_lines *chosen = &self->engine->lines;
    for (size_t i = 0; i < chosen->count; i++) {
        if (hs_mem_watch_code(self, chosen->codes[i]->code) != 0) {
            PyErr_Clear();
            hs_mem_watch_stop(self);
            return -1;
        }
    }
    self->engine->watching = 1;
    self->engine->lines_gated = 1;
    return tool;
}

void hs_mem_watch_stop(MemTracerObject *self) {
    if (self->engine)
        self->engine->watching = self->engine->lines_gated = 0;
    if (self->watch_tool < 0)
        return;
    PyObject *mon = hs_monitoring_module();
    /* free_tool_id leaves local events on in 3.12/3.13 (see
     * src/lines/hooks_monitoring.c): switched off first. */
    hs_mem_lines *chosen = self->engine ? &self->engine->lines : NULL;
    for (size_t i = 0; mon && chosen && i < chosen->count; i++) {
        PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOi", self->watch_tool,
                                          chosen->codes[i]->code, 0);
        if (!r)
            PyErr_WriteUnraisable(NULL);
        Py_XDECREF(r);
    }
    if (mon && hs_monitoring_release(mon, self->watch_tool, watched, N_WATCHED) != 0)
        PyErr_WriteUnraisable(NULL);
    PyErr_Clear();
    self->watch_tool = -1;
}

#else /* before 3.12: whole stacks are read */

int hs_mem_watch_start(MemTracerObject *self) {
    (void)self;
    return -1;
}

int hs_mem_watch_code(MemTracerObject *self, PyObject *code) {
    (void)self, (void)code;
    return 0;
}

void hs_mem_watch_stop(MemTracerObject *self) {
    (void)self;
}

#endif
