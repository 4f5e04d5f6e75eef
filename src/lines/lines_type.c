/*
 * lines_type.c - hotscope._core.LineProfiler, the Python face of the line
 * profiler (lines.h): select code objects, enable/disable, and export what
 * was recorded as a profile model.
 *
 * The model it exports: under one synthetic thread "all threads" (lines
 * are summed over threads, as kernprof does), a node per selected function
 * (line 0), and under it a node per executed line (the frame's line set)
 * with the line's hits as calls and its time as wall nanoseconds. So the
 * function's total is the sum of its lines, and every renderer, the
 * kernprof-style text (src/render/lines_text.c) included, reads the same
 * data.
 */
#include "lines.h"
#include "../pymod/module.h"
#include <structmember.h>

#include <stdlib.h>

static PyObject *lp_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)args, (void)kwds;
    LineProfilerObject *lp = (LineProfilerObject *)type->tp_alloc(type, 0);
    if (!lp)
        return NULL;
    hs_clock_init(&lp->clock);
    lp->tool_id = -1;
    return (PyObject *)lp;
}

static PyObject *lp_add_code(LineProfilerObject *lp, PyObject *code) {
    int added = hs_lines_select(lp, code);
    if (added < 0)
        return NULL;
    if (added && lp->enabled && hs_lines_hooks_watch(lp, lp->codes[lp->code_count - 1]) < 0)
        return NULL;
    return PyBool_FromLong(added);
}

/* add_function(func): selects func.__code__ and keeps the function object
 * as a door to it (chosen_func.c: on 3.11 its calls then tell when the
 * frame evaluation hook is needed). */
static PyObject *lp_add_function(LineProfilerObject *lp, PyObject *func) {
    if (!PyFunction_Check(func) && !PyObject_TypeCheck(func, &PyFunction_Type)) {
        PyErr_SetString(PyExc_TypeError, "expected a function");
        return NULL;
    }
    if (!lp->doors && !(lp->doors = PyList_New(0)))
        return NULL;
    int known = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lp->doors) && !known; i++)
        known = PyList_GET_ITEM(lp->doors, i) == func;
    if (!known && PyList_Append(lp->doors, func) < 0)
        return NULL;
    int added = hs_lines_select(lp, PyFunction_GET_CODE(func));
    if (added < 0)
        return NULL;
    if (added && lp->enabled && hs_lines_hooks_watch(lp, lp->codes[lp->code_count - 1]) < 0)
        return NULL;
#if !HS_HAVE_MONITORING
    /* A new door of a code object already selected is marked too. */
    if (!added && !known && lp->enabled && hs_lines_hooks_watch(lp, NULL) < 0)
        return NULL;
#endif
    return PyBool_FromLong(added);
}

static PyObject *lp_enable(LineProfilerObject *lp, PyObject *unused) {
    (void)unused;
    if (lp->enabled)
        Py_RETURN_NONE;
    if (hs_lines_hooks_install(lp) < 0)
        return NULL;
    lp->enabled = 1;
    lp->enable_mark = hs_ticks(&lp->clock);
    if (!lp->started_ticks)
        lp->started_ticks = lp->enable_mark;
    Py_RETURN_NONE;
}

static int stop(LineProfilerObject *lp) {
    if (!lp->enabled)
        return 0;
    uint64_t now = hs_ticks(&lp->clock);
    lp->enabled = 0;
    lp->enabled_ticks += now - lp->enable_mark;
    /* Lines still running, in every thread, are charged up to now, as if
     * their frames left. */
    hs_lines_close_all(lp, now);
    hs_clock_refine(&lp->clock);
    return hs_lines_hooks_remove(lp);
}

static PyObject *lp_disable(LineProfilerObject *lp, PyObject *unused) {
    (void)unused;
    if (stop(lp) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *lp_exit(LineProfilerObject *lp, PyObject *args) {
    (void)args;
    return lp_disable(lp, NULL);
}

static PyObject *lp_self(LineProfilerObject *lp, PyObject *unused) {
    (void)unused;
    if (!lp->enabled && !lp_enable(lp, NULL))
        return NULL;
    return Py_NewRef(lp);
}

/* The code object's qualified name (co_qualname from 3.11) or name, and
 * file name, as UTF-8 owned by the returned references. */
static int code_names(PyObject *code, PyObject **name, PyObject **file) {
    *name = PyObject_GetAttrString(code, HS_HAVE_CO_QUALNAME ? "co_qualname" : "co_name");
    *file = PyObject_GetAttrString(code, "co_filename");
    if (*name && *file && PyUnicode_Check(*name) && PyUnicode_Check(*file))
        return 0;
    Py_CLEAR(*name);
    Py_CLEAR(*file);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "code object without a name or file name");
    return -1;
}

static int export_code(LineProfilerObject *lp, hs_profile *p, hs_id thread_node, hs_code_lines *e) {
    PyObject *name_obj, *file_obj;
    if (code_names(e->code, &name_obj, &file_obj) < 0)
        return -1;
    Py_ssize_t name_len, file_len;
    const char *name = PyUnicode_AsUTF8AndSize(name_obj, &name_len);
    const char *file = name ? PyUnicode_AsUTF8AndSize(file_obj, &file_len) : NULL;
    int status = -1;
    if (file) {
        hs_id name_id = hs_intern(p, name, (size_t)name_len);
        hs_id file_id = hs_intern(p, file, (size_t)file_len);
        int32_t first = ((PyCodeObject *)e->code)->co_firstlineno;
        hs_id fn = hs_frame_intern(p, name_id, file_id, first, 0, HS_KIND_PYTHON);
        hs_id fn_node = fn == HS_NONE ? HS_NONE : hs_node_child(p, thread_node, fn);
        status = fn_node == HS_NONE ? -1 : 0;
        for (int i = 0; status == 0 && i < e->line_count; i++) {
            if (!e->hits[i] && !e->ticks[i])
                continue;
            hs_id frame = hs_frame_intern(p, name_id, file_id, first, e->first_line + i, HS_KIND_PYTHON);
            hs_id node = frame == HS_NONE ? HS_NONE : hs_node_child(p, fn_node, frame);
            if (node == HS_NONE) {
                status = -1;
                break;
            }
            hs_node_add(p, node, HS_W_CALLS, e->hits[i]);
            hs_node_add(p, node, HS_W_WALL_NS, hs_ticks_to_ns(&lp->clock, (int64_t)e->ticks[i]));
        }
        if (status < 0)
            PyErr_NoMemory();
    }
    Py_DECREF(name_obj);
    Py_DECREF(file_obj);
    return status;
}

static PyObject *lp_snapshot(LineProfilerObject *lp, PyObject *unused) {
    (void)unused;
    hs_module_state *state = hs_state_from_type(Py_TYPE(lp));
    if (!state)
        return NULL;
    hs_profile *p = hs_profile_new();
    int thread = p ? hs_thread_add(p, "all threads", 0, 0) : -1;
    if (thread < 0) {
        hs_profile_free(p);
        return PyErr_NoMemory();
    }
    for (size_t i = 0; i < lp->code_count; i++) {
        if (export_code(lp, p, p->threads[thread].root, lp->codes[i]) < 0) {
            hs_profile_free(p);
            return NULL;
        }
    }
    /* Weights are marked present even when nothing ran, so reports say
     * "never called" rather than "no data". */
    p->weights_present |= (1u << HS_W_CALLS) | (1u << HS_W_WALL_NS);
    uint64_t enabled = lp->enabled_ticks + (lp->enabled ? hs_ticks(&lp->clock) - lp->enable_mark : 0);
    char value[64];
    snprintf(value, sizeof value, "%lld", (long long)hs_ticks_to_ns(&lp->clock, (int64_t)enabled));
    hs_meta_set(p, "engine", "lines");
    hs_meta_set(p, "clock", "wall");
    hs_meta_set(p, "duration_ns", value);
    hs_meta_set(p, "python", Py_GetVersion());
    return hs_profile_data_new(state->profile_type, p);
}

static PyObject *lp_codes(LineProfilerObject *lp, void *closure) {
    (void)closure;
    PyObject *list = PyList_New((Py_ssize_t)lp->code_count);
    for (size_t i = 0; list && i < lp->code_count; i++)
        PyList_SET_ITEM(list, (Py_ssize_t)i, Py_NewRef(lp->codes[i]->code));
    return list;
}

static PyObject *lp_get_enabled(LineProfilerObject *lp, void *closure) {
    (void)closure;
    return PyBool_FromLong(lp->enabled);
}

static PyMethodDef lp_methods[] = {
    {"add_code", (PyCFunction)lp_add_code, METH_O,
     "add_code(code) -> bool: profile this code object's lines (False if it already was)"},
    {"add_function", (PyCFunction)lp_add_function, METH_O,
     "add_function(func) -> bool: profile func.__code__'s lines (False if it already was); on 3.11 func's "
     "calls also tell the profiler when its frame evaluation hook is needed"},
    {"enable", (PyCFunction)lp_enable, METH_NOARGS, "Start recording line events."},
    {"disable", (PyCFunction)lp_disable, METH_NOARGS, "Stop recording; lines running are charged up to now."},
    {"snapshot", (PyCFunction)lp_snapshot, METH_NOARGS,
     "What was recorded, as a hotscope._core.ProfileData (one node per function and line)."},
    {"__enter__", (PyCFunction)lp_self, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)lp_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

/* How selected frames are found now (for tests and diagnosis). */
static PyObject *lp_get_route(LineProfilerObject *lp, void *closure) {
    (void)closure;
    const char *route = "off";
    if (lp->enabled) {
#if HS_HAVE_MONITORING
        route = "monitoring";
#else
        route = !lp->via_evalhook ? "profile" : lp->hook_on_demand ? "evalhook on demand" : "evalhook";
#endif
    }
    return PyUnicode_FromString(route);
}

static PyGetSetDef lp_getset[] = {
    {"route", (getter)lp_get_route, NULL,
     "how selected frames are found: 'monitoring' (3.12+), 'evalhook', 'evalhook on demand' (3.11: only "
     "while a chosen function runs), 'profile' (another evaluation function is in place), 'off'",
     NULL},
    {"codes", (getter)lp_codes, NULL, "the selected code objects, in selection order", NULL},
    {"enabled", (getter)lp_get_enabled, NULL, "whether recording is on", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static int lp_traverse(LineProfilerObject *lp, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(lp));
    for (size_t i = 0; i < lp->code_count; i++)
        Py_VISIT(lp->codes[i]->code);
    Py_VISIT(lp->doors);
    Py_VISIT(lp->thread_hook);
    Py_VISIT(lp->saved_thread_hook);
    Py_VISIT(lp->disable);
    return 0;
}

static int lp_clear_refs(LineProfilerObject *lp) {
    Py_CLEAR(lp->disable);
    Py_CLEAR(lp->doors);
    Py_CLEAR(lp->thread_hook);
    Py_CLEAR(lp->saved_thread_hook);
    return 0;
}

static void lp_dealloc(LineProfilerObject *lp) {
    PyTypeObject *type = Py_TYPE(lp);
    PyObject_GC_UnTrack(lp);
    if (lp->enabled) /* unreachable in practice: the hooks hold a reference */
        stop(lp);
    if (lp->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)lp);
    lp_clear_refs(lp);
    hs_lines_clear(lp);
    type->tp_free((PyObject *)lp);
    Py_DECREF(type);
}

static PyMemberDef lp_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(LineProfilerObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot lp_slots[] = {
    {Py_tp_doc, "The line profiler: per-line hits and time of selected code objects."},
    {Py_tp_new, lp_new},
    {Py_tp_dealloc, lp_dealloc},
    {Py_tp_traverse, lp_traverse},
    {Py_tp_clear, lp_clear_refs},
    {Py_tp_methods, lp_methods},
    {Py_tp_getset, lp_getset},
    {Py_tp_members, lp_members},
    {0, NULL},
};

static PyType_Spec lp_spec = {
    .name = "hotscope._core.LineProfiler",
    .basicsize = sizeof(LineProfilerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = lp_slots,
};

PyTypeObject *hs_lines_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &lp_spec, NULL);
}
