/*
 * mem_watch.c - frame exits reported to the memory engine through
 * sys.monitoring (PEP 669, 3.12+), so that an allocation need not read
 * the whole stack (see mem_type.h and partial_stack_node in hooks.c).
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
 */
#include "mem_type.h"
#include "../pymod/monitoring.h"

#if HS_HAVE_MONITORING

static const char *const watched[] = {"PY_RETURN", "PY_YIELD", "PY_UNWIND"};
#define N_WATCHED (sizeof watched / sizeof watched[0])

static PyObject *on_frame_exit(PyObject *callable, PyObject *const *args, size_t nargsf,
                         PyObject *kwnames) {
    (void)args, (void)nargsf, (void)kwnames;
    MemTracerObject *tracer = (MemTracerObject *)HS_HOOK_OWNER(callable);
    hs_mem *m = tracer->engine;
    if (m && m->watching)
        hs_mem_note_exit(m, _PyThreadState_UncheckedGet());
    Py_RETURN_NONE;
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
        PyObject *hook = bit < 0 ? NULL : hs_hook_new(Py_TYPE(self), on_frame_exit, (PyObject *)self);
        PyObject *r = hook ? PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, hook) : NULL;
        Py_XDECREF(hook);
        if (!r) {
            PyErr_Clear();
            hs_monitoring_release(mon, tool, watched, N_WATCHED);
            PyErr_Clear();
            return -1;
        }
        Py_DECREF(r);
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
    self->engine->watching = 1;
    return tool;
}

void hs_mem_watch_stop(MemTracerObject *self) {
    if (self->engine)
        self->engine->watching = 0;
    if (self->watch_tool < 0)
        return;
    PyObject *mon = hs_monitoring_module();
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

void hs_mem_watch_stop(MemTracerObject *self) {
    (void)self;
}

#endif
