/*
 * hooks_monitoring.c - the line profiler's hooks on Python 3.12+, through
 * sys.monitoring (PEP 669) local events.
 *
 * LINE, PY_START, PY_RESUME, PY_RETURN and PY_YIELD are switched on for
 * the selected code objects only (set_local_events), so every other
 * function runs uninstrumented, at full speed. PY_UNWIND (a frame left by
 * an exception) and PY_THROW (an exception thrown into a generator) can
 * only be set globally (Doc/library/sys.monitoring.rst, "Other events"):
 * they fire for every frame but only on exceptions, and are ignored for
 * code that is not selected. Callback arguments: same page, "Callback
 * function arguments": (code, offset[, value]) and LINE's (code, line).
 */
#include "lines.h"
#include "../pymod/monitoring.h"

#if HS_HAVE_MONITORING

#define OWNER(hook) ((LineProfilerObject *)HS_HOOK_OWNER(hook))

static PyObject *on_start(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    LineProfilerObject *lp = OWNER(hook);
    hs_code_lines *entry = PyVectorcall_NARGS(nargsf) >= 1 ? hs_lines_find(lp, args[0]) : NULL;
    if (entry)
        hs_lines_enter(lp, entry, 1);
    Py_RETURN_NONE;
}

static PyObject *on_resume(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    LineProfilerObject *lp = OWNER(hook);
    hs_code_lines *entry = PyVectorcall_NARGS(nargsf) >= 1 ? hs_lines_find(lp, args[0]) : NULL;
    if (entry)
        hs_lines_enter(lp, entry, 0);
    Py_RETURN_NONE;
}

static PyObject *on_line(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    uint64_t now = hs_ticks(&OWNER(hook)->clock);
    LineProfilerObject *lp = OWNER(hook);
    if (PyVectorcall_NARGS(nargsf) < 2)
        Py_RETURN_NONE;
    /* Only selected code objects have LINE events switched on. */
    int line = (int)PyLong_AsLong(args[1]);
    if (line == -1 && PyErr_Occurred())
        return NULL;
    hs_lines_line(lp, args[0], line, 0, now);
    Py_RETURN_NONE;
}

/* sys.settrace reports a line again after every backward jump, even to
 * the line it is on (a loop on one line, a comprehension), and LINE
 * events do not: hits count as settrace counts, so a backward jump to the
 * line it is on counts that line (the rule of Python/legacy_tracing.c,
 * 3.12). Every other jump is switched off where it is, after its first
 * event: forward jumps, and backward jumps to another line, which the
 * target's LINE event reports. (Left on, the loop's jump back would start
 * the loop's line one event early, charging it a whole LINE callback per
 * iteration that belongs to no line: a `for` line came out hotter than
 * its body.) */
static PyObject *on_jump(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    uint64_t now = hs_ticks(&OWNER(hook)->clock);
    LineProfilerObject *lp = OWNER(hook);
    if (PyVectorcall_NARGS(nargsf) < 3)
        Py_RETURN_NONE;
    long from = PyLong_AsLong(args[1]), to = PyLong_AsLong(args[2]);
    if ((from == -1 || to == -1) && PyErr_Occurred())
        return NULL;
    if (to > from)
        return Py_NewRef(lp->disable);
    PyCodeObject *code = (PyCodeObject *)args[0];
    int line = PyCode_Addr2Line(code, (int)to);
    if (line != PyCode_Addr2Line(code, (int)from))
        return Py_NewRef(lp->disable);
    if (line > 0)
        hs_lines_line(lp, args[0], line, 1, now);
    Py_RETURN_NONE;
}

static PyObject *on_leave(PyObject *hook, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)kwnames;
    uint64_t now = hs_ticks(&OWNER(hook)->clock);
    LineProfilerObject *lp = OWNER(hook);
    hs_code_lines *entry = PyVectorcall_NARGS(nargsf) >= 1 ? hs_lines_find(lp, args[0]) : NULL;
    if (entry)
        hs_lines_leave(lp, entry, now);
    Py_RETURN_NONE;
}

static const struct {
    const char *event;
    vectorcallfunc callback;
    int local; /* switched on per selected code object */
} event_table[] = {
    {"PY_START", on_start, 1},   {"PY_RESUME", on_resume, 1}, {"PY_THROW", on_resume, 0},
    {"LINE", on_line, 1},        {"PY_RETURN", on_leave, 1},  {"PY_YIELD", on_leave, 1},
    {"PY_UNWIND", on_leave, 0},  {"JUMP", on_jump, 1},
};
#define EVENT_COUNT (sizeof event_table / sizeof event_table[0])

/* The event masks, from sys.monitoring.events; -1 with an exception set. */
static int event_masks(PyObject *mon, long *local, long *global) {
    *local = *global = 0;
    for (size_t i = 0; i < EVENT_COUNT; i++) {
        long bit = hs_monitoring_event_bit(mon, event_table[i].event);
        if (bit < 0)
            return -1;
        *(event_table[i].local ? local : global) |= bit;
    }
    return 0;
}

static int set_local(PyObject *mon, int tool, PyObject *code, long mask) {
    PyObject *r = PyObject_CallMethod(mon, "set_local_events", "iOl", tool, code, mask);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int hs_lines_hooks_watch(LineProfilerObject *lp, hs_code_lines *entry) {
    PyObject *mon = hs_monitoring_module();
    long local, global;
    if (!mon || event_masks(mon, &local, &global) < 0)
        return -1;
    return set_local(mon, lp->tool_id, entry->code, local);
}

int hs_lines_hooks_install(LineProfilerObject *lp) {
    PyObject *mon = hs_monitoring_module();
    long local, global;
    if (!mon || event_masks(mon, &local, &global) < 0)
        return -1;
    if (!lp->disable && !(lp->disable = PyObject_GetAttrString(mon, "DISABLE")))
        return -1;
    int tool = hs_monitoring_claim_tool(mon);
    if (tool < 0)
        return -1;
    lp->tool_id = tool;
    for (size_t i = 0; i < EVENT_COUNT; i++) {
        long bit = hs_monitoring_event_bit(mon, event_table[i].event);
        PyObject *callback = bit < 0 ? NULL : hs_hook_new(Py_TYPE(lp), event_table[i].callback, (PyObject *)lp);
        if (!callback)
            goto fail;
        PyObject *r = PyObject_CallMethod(mon, "register_callback", "ilO", tool, bit, callback);
        Py_DECREF(callback);
        if (!r)
            goto fail;
        Py_DECREF(r);
    }
    PyObject *r = PyObject_CallMethod(mon, "set_events", "il", tool, global);
    if (!r)
        goto fail;
    Py_DECREF(r);
    for (size_t i = 0; i < lp->code_count; i++)
        if (set_local(mon, tool, lp->codes[i]->code, local) < 0)
            goto fail;
    return 0;
fail:;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    hs_lines_hooks_remove(lp);
    PyErr_Restore(type, value, tb);
    return -1;
}

int hs_lines_hooks_remove(LineProfilerObject *lp) {
    PyObject *mon = hs_monitoring_module();
    if (!mon || lp->tool_id < 0)
        return mon ? 0 : -1;
    int status = 0;
    /* free_tool_id does not clear local events in 3.12/3.13: switch them
     * off so the code objects run uninstrumented again. */
    for (size_t i = 0; i < lp->code_count; i++)
        if (set_local(mon, lp->tool_id, lp->codes[i]->code, 0) < 0) {
            PyErr_Clear();
            status = -1;
        }
    const char *events[EVENT_COUNT];
    for (size_t i = 0; i < EVENT_COUNT; i++)
        events[i] = event_table[i].event;
    if (hs_monitoring_release(mon, lp->tool_id, events, EVENT_COUNT) < 0)
        status = -1;
    else if (status < 0)
        PyErr_SetString(PyExc_RuntimeError, "could not switch off line events on every function");
    lp->tool_id = -1;
    return status;
}

#endif /* HS_HAVE_MONITORING */
