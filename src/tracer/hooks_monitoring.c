/*
 * hooks_monitoring.c - the tracer's interpreter hooks on Python 3.12+,
 * through sys.monitoring (PEP 669).
 *
 * Callbacks are C functions behind small vectorcall objects that point to
 * the tracer, registered for the same events cProfile registers in
 * Modules/_lsprof.c (3.12): PY_START, PY_RESUME and PY_THROW enter a frame;
 * PY_RETURN, PY_YIELD and PY_UNWIND leave it; CALL enters a C function,
 * C_RETURN and C_RAISE leave it. So a generator is "called" once per
 * resumption, as in cProfile. Coroutine frames (async_tasks.c) take their
 * own path, which PY_YIELD, having its own callback, tells from a return,
 * and PY_START, having its own, tells a first step from a resume.
 * sys.monitoring is process-wide: every thread, including those already
 * running, reports to the same callbacks.
 * Callback argument layouts: Doc/library/sys.monitoring.rst, "Callback
 * function arguments".
 */
#include "tracer.h"
#include "../pymod/monitoring.h"

#if HS_HAVE_MONITORING

#define HOOK_TRACER(callable) ((TracerObject *)HS_HOOK_OWNER(callable))

/*
 * Each callback below starts with the common case: a plain Python function
 * (or, for CALL, a C function) already in the top node's cache, on a
 * thread that is first in the thread-local cache, with TSC ticks, no slow
 * calls watched and no CPU correction due (hs_tracer_enter_fast /
 * hs_tracer_leave_fast in tracer.h, hs_ct_enter_fast in calltree.h). Anything
 * else goes, as a tail call, to the general handler (the *_general
 * functions, kept out of line), which starts the event afresh: the fast
 * path changes nothing when it declines. Returning Py_None needs no
 * reference: it is immortal from 3.12 (PEP 683), and Py_RETURN_NONE is
 * a plain `return Py_None` there (Include/object.h).
 */
#define HS_OUT_OF_LINE __attribute__((noinline))

static void py_enter(TracerObject *self, PyCodeObject *code, int first) {
    if (code->co_flags & self->async_flags)
        hs_async_enter(self, code, first, NULL);
    else
        hs_tracer_enter(self, code, (PyObject *)code, HS_CALLEE_CODE, NULL);
}

static HS_OUT_OF_LINE PyObject *py_start_general(PyObject *hook, PyObject *const *args,
                                                 size_t nargsf) {
    if (PyVectorcall_NARGS(nargsf) >= 1)
        py_enter(HOOK_TRACER(hook), (PyCodeObject *)args[0], 1);
    Py_RETURN_NONE;
}

/* PY_START: (code, instruction_offset) */
static PyObject *on_py_start(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 1) {
        TracerObject *self = HOOK_TRACER(hook);
        PyCodeObject *code = (PyCodeObject *)args[0];
        if (!(code->co_flags & self->async_flags) && hs_tracer_enter_fast(self, code))
            Py_RETURN_NONE;
    }
    return py_start_general(hook, args, nargsf);
}

/* PY_RESUME, PY_THROW: (code, instruction_offset[, exception]) */
static PyObject *on_py_enter(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 1)
        py_enter(HOOK_TRACER(hook), (PyCodeObject *)args[0], 0);
    Py_RETURN_NONE;
}

static HS_OUT_OF_LINE PyObject *py_leave_general(PyObject *hook, PyObject *const *args,
                                                 size_t nargsf) {
    if (PyVectorcall_NARGS(nargsf) >= 1) {
        TracerObject *self = HOOK_TRACER(hook);
        PyCodeObject *code = (PyCodeObject *)args[0];
        if (code->co_flags & self->async_flags)
            hs_async_leave(self, code, NULL, 0, -1, NULL);
        else
            hs_tracer_leave(self, code);
    }
    Py_RETURN_NONE;
}

/* PY_RETURN, PY_UNWIND: (code, instruction_offset, retval or exception) */
static PyObject *on_py_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 1) {
        TracerObject *self = HOOK_TRACER(hook);
        PyCodeObject *code = (PyCodeObject *)args[0];
        if (!(code->co_flags & self->async_flags) && hs_tracer_leave_fast(self, code))
            Py_RETURN_NONE;
    }
    return py_leave_general(hook, args, nargsf);
}

/* PY_YIELD: (code, instruction_offset, retval) */
static PyObject *on_py_yield(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 3) {
        TracerObject *self = HOOK_TRACER(hook);
        PyCodeObject *code = (PyCodeObject *)args[0];
        if (code->co_flags & self->async_flags)
            hs_async_leave(self, code, args[2], 1, (int)PyLong_AsLong(args[1]), NULL);
        else
            hs_tracer_leave(self, code);
    }
    Py_RETURN_NONE;
}

/* What cProfile would record for a call of `callable` with first argument
 * `arg0`: a C function (key: its PyMethodDef) or nothing. */
static const void *c_callee_key(TracerObject *self, PyObject *callable, PyObject *arg0,
                                hs_callee_kind *kind) {
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyFunction_Type || type == &PyMethod_Type)
        return NULL; /* Python code: PY_START will tell */
    if (type == &PyCFunction_Type || PyCFunction_Check(callable)) {
        *kind = HS_CALLEE_CFUNC;
        return ((PyCFunctionObject *)callable)->m_ml;
    }
    if (type == &PyMethodDescr_Type && arg0 != self->missing) {
        PyMethodDescrObject *descr = (PyMethodDescrObject *)callable;
        /* cProfile binds the descriptor to arg0, which fails when arg0 is
         * not an instance: then it records nothing, and neither do we. */
        if (!PyObject_TypeCheck(arg0, descr->d_common.d_type))
            return NULL;
        *kind = HS_CALLEE_DESCR;
        return descr->d_method;
    }
    return NULL;
}

static HS_OUT_OF_LINE PyObject *call_general(PyObject *hook, PyObject *const *args,
                                             size_t nargsf) {
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        TracerObject *self = HOOK_TRACER(hook);
        hs_callee_kind kind;
        const void *key = c_callee_key(self, args[2], args[3], &kind);
        if (key)
            hs_tracer_enter(self, key, args[2], kind, args[3]);
    }
    Py_RETURN_NONE;
}

/* c_callee_key's two common cases, or NULL for "ask c_callee_key": a
 * builtin function of the exact PyCFunction type, and a method descriptor
 * called on an instance of exactly its type (`s.split()` compiles to a
 * call of str.split with s as arg0), the key being the same PyMethodDef
 * c_callee_key gives. MISSING (no argument) is a plain `object`, so it is
 * ruled out by itself. */
static inline const void *c_callee_key_fast(TracerObject *self, PyObject *callable,
                                            PyObject *arg0) {
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyCFunction_Type)
        return ((PyCFunctionObject *)callable)->m_ml;
    if (type == &PyMethodDescr_Type && arg0 != self->missing &&
        Py_TYPE(arg0) == ((PyMethodDescrObject *)callable)->d_common.d_type)
        return ((PyMethodDescrObject *)callable)->d_method;
    return NULL;
}

/* CALL: (code, instruction_offset, callable, arg0). Most calls in Python
 * code are of Python functions, recorded by their PY_START instead: that
 * test comes first. Returning DISABLE for them would spare the interpreter
 * this event at that call site, but for good: a later call of a C function
 * from the same site would go unseen, its C_RETURN and C_RAISE too, which
 * "are controlled by the CALL event" and "will only be seen if the
 * corresponding CALL event is being monitored" (Doc/library/
 * sys.monitoring.rst, 3.12 and 3.13), and counts would part from
 * cProfile's. */
static PyObject *on_call(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        PyTypeObject *type = Py_TYPE(args[2]);
        if (type == &PyFunction_Type || type == &PyMethod_Type)
            Py_RETURN_NONE;
        TracerObject *self = HOOK_TRACER(hook);
        const void *key = c_callee_key_fast(self, args[2], args[3]);
        if (key && hs_tracer_enter_fast(self, key))
            Py_RETURN_NONE;
    }
    return call_general(hook, args, nargsf);
}

static HS_OUT_OF_LINE PyObject *c_leave_general(PyObject *hook, PyObject *const *args,
                                                size_t nargsf) {
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        TracerObject *self = HOOK_TRACER(hook);
        hs_callee_kind kind;
        const void *key = c_callee_key(self, args[2], args[3], &kind);
        if (key)
            hs_tracer_leave(self, key);
    }
    Py_RETURN_NONE;
}

/* C_RETURN, C_RAISE: (code, instruction_offset, callable, arg0) */
static PyObject *on_c_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        TracerObject *self = HOOK_TRACER(hook);
        const void *key = c_callee_key_fast(self, args[2], args[3]);
        if (key && hs_tracer_leave_fast(self, key))
            Py_RETURN_NONE;
    }
    return c_leave_general(hook, args, nargsf);
}

static const vectorcallfunc callback_funcs[] = {on_py_enter, on_py_leave, on_call,
                                                on_c_leave, on_py_yield, on_py_start};

static const struct {
    const char *event;
    int callback; /* index in callback_funcs */
    int builtin;  /* only when tracing C functions */
} event_table[] = {
    {"PY_START", 5, 0},  {"PY_RESUME", 0, 0}, {"PY_THROW", 0, 0},
    {"PY_RETURN", 1, 0}, {"PY_YIELD", 4, 0},  {"PY_UNWIND", 1, 0},
    {"CALL", 2, 1},      {"C_RETURN", 3, 1},  {"C_RAISE", 3, 1},
};
#define EVENT_COUNT (sizeof event_table / sizeof event_table[0])

int hs_hooks_install(TracerObject *self) {
    PyObject *mon = hs_monitoring_module();
    if (!mon)
        return -1;
    if (!self->missing) {
        self->missing = PyObject_GetAttrString(mon, "MISSING");
        if (!self->missing)
            return -1;
    }
    int tool = hs_monitoring_claim_tool(mon);
    if (tool < 0)
        return -1;
    self->tool_id = tool;
    long mask = 0;
    for (size_t i = 0; i < EVENT_COUNT; i++) {
        if (event_table[i].builtin && !self->builtins)
            continue;
        long bit = hs_monitoring_event_bit(mon, event_table[i].event);
        if (bit < 0)
            goto fail;
        PyObject *callback = hs_hook_new(Py_TYPE(self), callback_funcs[event_table[i].callback], (PyObject *)self);
        if (!callback)
            goto fail;
        PyObject *r = PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, callback);
        Py_DECREF(callback);
        if (!r)
            goto fail;
        Py_DECREF(r);
        mask |= bit;
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", tool, mask);
    if (!r)
        goto fail;
    Py_DECREF(r);
    return 0;
fail:;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    hs_hooks_remove(self);
    PyErr_Restore(type, value, tb);
    return -1;
}

int hs_hooks_remove(TracerObject *self) {
    PyObject *mon = hs_monitoring_module();
    if (!mon || self->tool_id < 0)
        return mon ? 0 : -1;
    const char *events[EVENT_COUNT];
    for (size_t i = 0; i < EVENT_COUNT; i++)
        events[i] = event_table[i].event;
    int status = hs_monitoring_release(mon, self->tool_id, events, EVENT_COUNT);
    self->tool_id = -1;
    return status;
}

#endif /* HS_HAVE_MONITORING */
