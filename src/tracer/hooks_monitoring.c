/*
 * hooks_monitoring.c - the tracer's interpreter hooks on Python 3.12+,
 * through sys.monitoring (PEP 669).
 *
 * Callbacks are C functions behind small vectorcall objects that point to
 * the tracer, registered for the same events cProfile registers in
 * Modules/_lsprof.c (3.12): PY_START, PY_RESUME and PY_THROW enter a frame;
 * PY_RETURN, PY_YIELD and PY_UNWIND leave it; CALL enters a C function,
 * C_RETURN and C_RAISE leave it. So a generator is "called" once per
 * resumption, as in cProfile. sys.monitoring is process-wide: every thread,
 * including those already running, reports to the same callbacks.
 * Callback argument layouts: Doc/library/sys.monitoring.rst, "Callback
 * function arguments".
 */
#include "tracer.h"
#include "../pymod/module.h"
#include <structmember.h>

#if HS_HAVE_MONITORING

/* Tool ids to try, in order: the two with no assigned meaning first
 * (sys.monitoring reserves 0 debugger, 1 coverage, 2 profiler, 5 optimizer),
 * so that a program using cProfile (which insists on PROFILER_ID, 2) still
 * runs under hotscope; PROFILER_ID last. */
static const int candidate_tools[] = {4, 3, 2};

/* The callbacks are objects of a small heap type with its own vectorcall
 * slot, not builtin functions: the interpreter calls them directly, without
 * the recursion-depth bookkeeping a builtin function's call goes through,
 * which is measurable at three callbacks per Python call. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    TracerObject *tracer;
} HookObject;

#define HOOK_TRACER(callable) (((HookObject *)(callable))->tracer)

static PyObject *on_py_enter(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 1)
        hs_tracer_enter(HOOK_TRACER(hook), args[0], args[0], HS_CALLEE_CODE, NULL);
    Py_RETURN_NONE;
}

static PyObject *on_py_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 1)
        hs_tracer_leave(HOOK_TRACER(hook), args[0]);
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

static PyObject *on_call(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        TracerObject *self = HOOK_TRACER(hook);
        hs_callee_kind kind;
        const void *key = c_callee_key(self, args[2], args[3], &kind);
        if (key)
            hs_tracer_enter(self, key, args[2], kind, args[3]);
    }
    Py_RETURN_NONE;
}

static PyObject *on_c_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    if (PyVectorcall_NARGS(nargsf) >= 4) {
        TracerObject *self = HOOK_TRACER(hook);
        hs_callee_kind kind;
        const void *key = c_callee_key(self, args[2], args[3], &kind);
        if (key)
            hs_tracer_leave(self, key);
    }
    Py_RETURN_NONE;
}

static const vectorcallfunc callback_funcs[] = {on_py_enter, on_py_leave, on_call, on_c_leave};

static int hook_traverse(HookObject *hook, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(hook));
    Py_VISIT(hook->tracer);
    return 0;
}

static int hook_clear(HookObject *hook) {
    Py_CLEAR(hook->tracer);
    return 0;
}

static void hook_dealloc(HookObject *hook) {
    PyTypeObject *type = Py_TYPE(hook);
    PyObject_GC_UnTrack(hook);
    hook_clear(hook);
    type->tp_free((PyObject *)hook);
    Py_DECREF(type);
}

static PyMemberDef hook_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(HookObject, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot hook_slots[] = {
    {Py_tp_doc, "A sys.monitoring callback of a hotscope tracer."},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_dealloc, hook_dealloc},
    {Py_tp_traverse, hook_traverse},
    {Py_tp_clear, hook_clear},
    {Py_tp_members, hook_members},
    {0, NULL},
};

static PyType_Spec hook_spec = {
    .name = "hotscope._core._MonitoringHook",
    .basicsize = sizeof(HookObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hook_slots,
};

PyTypeObject *hs_hook_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &hook_spec, NULL);
}

static PyObject *hook_new(TracerObject *tracer, int callback) {
    hs_module_state *state = hs_state_from_type(Py_TYPE(tracer));
    if (!state)
        return NULL;
    HookObject *hook = PyObject_GC_New(HookObject, state->hook_type);
    if (!hook)
        return NULL;
    hook->vectorcall = callback_funcs[callback];
    hook->tracer = (TracerObject *)Py_NewRef(tracer);
    PyObject_GC_Track(hook);
    return (PyObject *)hook;
}

static const struct {
    const char *event;
    int callback; /* index in callback_funcs */
    int builtin;  /* only when tracing C functions */
} event_table[] = {
    {"PY_START", 0, 0},  {"PY_RESUME", 0, 0}, {"PY_THROW", 0, 0},
    {"PY_RETURN", 1, 0}, {"PY_YIELD", 1, 0},  {"PY_UNWIND", 1, 0},
    {"CALL", 2, 1},      {"C_RETURN", 3, 1},  {"C_RAISE", 3, 1},
};
#define EVENT_COUNT (sizeof event_table / sizeof event_table[0])

static PyObject *monitoring_module(void) {
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (!mon)
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is not available");
    return mon;
}

static long event_bit(PyObject *mon, const char *name) {
    PyObject *events = PyObject_GetAttrString(mon, "events");
    if (!events)
        return -1;
    PyObject *value = PyObject_GetAttrString(events, name);
    Py_DECREF(events);
    if (!value)
        return -1;
    long bit = PyLong_AsLong(value);
    Py_DECREF(value);
    return bit;
}

/* Finds a free tool id; refuses when another hotscope tracer is active. */
static int claim_tool(PyObject *mon) {
    for (size_t i = 0; i < sizeof candidate_tools / sizeof candidate_tools[0]; i++) {
        int tool = candidate_tools[i];
        PyObject *owner = PyObject_CallMethod(mon, "get_tool", "i", tool);
        if (!owner)
            return -1;
        int is_free = owner == Py_None;
        int is_ours = PyUnicode_Check(owner) && PyUnicode_CompareWithASCIIString(owner, "hotscope") == 0;
        Py_DECREF(owner);
        if (is_ours) {
            PyErr_SetString(PyExc_ValueError,
                            "another hotscope profiler is already running; disable it first");
            return -1;
        }
        if (!is_free)
            continue;
        PyObject *r = PyObject_CallMethod(mon, "use_tool_id", "is", tool, "hotscope");
        if (!r)
            return -1;
        Py_DECREF(r);
        return tool;
    }
    PyErr_SetString(PyExc_ValueError,
                    "no free sys.monitoring tool id: other profilers or debuggers hold them all");
    return -1;
}

int hs_hooks_install(TracerObject *self) {
    PyObject *mon = monitoring_module();
    if (!mon)
        return -1;
    if (!self->missing) {
        self->missing = PyObject_GetAttrString(mon, "MISSING");
        if (!self->missing)
            return -1;
    }
    int tool = claim_tool(mon);
    if (tool < 0)
        return -1;
    self->tool_id = tool;
    long mask = 0;
    for (size_t i = 0; i < EVENT_COUNT; i++) {
        if (event_table[i].builtin && !self->builtins)
            continue;
        long bit = event_bit(mon, event_table[i].event);
        if (bit < 0)
            goto fail;
        PyObject *callback = hook_new(self, event_table[i].callback);
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
    PyObject *mon = monitoring_module();
    if (!mon || self->tool_id < 0)
        return mon ? 0 : -1;
    int tool = self->tool_id;
    int status = 0;
    PyObject *r = PyObject_CallMethod(mon, "set_events", "ii", tool, 0);
    if (r)
        Py_DECREF(r);
    else
        status = -1;
    for (size_t i = 0; i < EVENT_COUNT && status == 0; i++) {
        long bit = event_bit(mon, event_table[i].event);
        if (bit < 0) {
            status = -1;
            break;
        }
        r = PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, Py_None);
        if (r)
            Py_DECREF(r);
        else
            status = -1;
    }
    r = PyObject_CallMethod(mon, "free_tool_id", "i", tool);
    if (r)
        Py_DECREF(r);
    else
        status = -1;
    self->tool_id = -1;
    return status;
}

#endif /* HS_HAVE_MONITORING */
