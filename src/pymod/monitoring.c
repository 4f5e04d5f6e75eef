/*
 * monitoring.c - sys.monitoring plumbing shared by the tracer and the line
 * profiler (monitoring.h): the callback type, tool ids, release.
 * Documented in Doc/library/sys.monitoring.rst (3.12): use_tool_id,
 * get_tool, register_callback, set_events, free_tool_id.
 */
#include "monitoring.h"
#include "module.h"
#include <structmember.h>

#if HS_HAVE_MONITORING

/* Tool ids to try, in order: the two with no assigned meaning first
 * (sys.monitoring reserves 0 debugger, 1 coverage, 2 profiler, 5 optimizer),
 * so that a program using cProfile (which insists on PROFILER_ID, 2) still
 * runs under hotscope; PROFILER_ID last. */
static const int candidate_tools[] = {4, 3, 2};

static int hook_traverse(hs_hook_object *hook, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(hook));
    Py_VISIT(hook->owner);
    return 0;
}

static int hook_clear(hs_hook_object *hook) {
    Py_CLEAR(hook->owner);
    return 0;
}

static void hook_dealloc(hs_hook_object *hook) {
    PyTypeObject *type = Py_TYPE(hook);
    PyObject_GC_UnTrack(hook);
    hook_clear(hook);
    type->tp_free((PyObject *)hook);
    Py_DECREF(type);
}

static PyMemberDef hook_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(hs_hook_object, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot hook_slots[] = {
    {Py_tp_doc, "A sys.monitoring callback of a hotscope engine."},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_dealloc, hook_dealloc},
    {Py_tp_traverse, hook_traverse},
    {Py_tp_clear, hook_clear},
    {Py_tp_members, hook_members},
    {0, NULL},
};

static PyType_Spec hook_spec = {
    .name = "hotscope._core._MonitoringHook",
    .basicsize = sizeof(hs_hook_object),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hook_slots,
};

PyTypeObject *hs_hook_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &hook_spec, NULL);
}

PyObject *hs_hook_new(PyTypeObject *owner_type, vectorcallfunc func, PyObject *owner) {
    hs_module_state *state = hs_state_from_type(owner_type);
    if (!state)
        return NULL;
    hs_hook_object *hook = PyObject_GC_New(hs_hook_object, state->hook_type);
    if (!hook)
        return NULL;
    hook->vectorcall = func;
    hook->owner = Py_NewRef(owner);
    PyObject_GC_Track(hook);
    return (PyObject *)hook;
}

PyObject *hs_monitoring_module(void) {
    PyObject *mon = PySys_GetObject("monitoring"); /* borrowed */
    if (!mon)
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is not available");
    return mon;
}

long hs_monitoring_event_bit(PyObject *mon, const char *name) {
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

int hs_monitoring_claim_tool(PyObject *mon) {
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

/* Drops `result`; when it is NULL (a failed call, exception set) keeps the
 * first such exception in saved[] and clears later ones, so the release
 * goes as far as it can and reports what went wrong first. */
static void keep_first_error(PyObject *result, PyObject *saved[3]) {
    if (result) {
        Py_DECREF(result);
        return;
    }
    if (!saved[0])
        PyErr_Fetch(&saved[0], &saved[1], &saved[2]);
    else
        PyErr_Clear();
}

int hs_monitoring_release(PyObject *mon, int tool, const char *const *events, size_t n_events) {
    PyObject *saved[3] = {NULL, NULL, NULL};
    keep_first_error(PyObject_CallMethod(mon, "set_events", "ii", tool, 0), saved);
    for (size_t i = 0; i < n_events; i++) {
        long bit = hs_monitoring_event_bit(mon, events[i]);
        keep_first_error(bit < 0 ? NULL
                                 : PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, Py_None),
                         saved);
    }
    keep_first_error(PyObject_CallMethod(mon, "free_tool_id", "i", tool), saved);
    if (!saved[0])
        return 0;
    PyErr_Restore(saved[0], saved[1], saved[2]);
    return -1;
}

#endif /* HS_HAVE_MONITORING */
