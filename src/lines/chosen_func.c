/*
 * chosen_func.c - on 3.11, the line profiler's chosen functions tell it
 * when they are called, so that the frame evaluation hook is in place only
 * while one runs, and code nobody chose keeps 3.11's inline calls.
 *
 * Why: while any frame evaluation function is set, 3.11's CALL does not
 * run a Python function inline in the caller's evaluation (Python/ceval.c,
 * CALL; CALL_PY_EXACT_ARGS and CALL_PY_WITH_DEFAULTS DEOPT_IF(eval_frame)),
 * so every call costs a C-level _PyEval_EvalFrameDefault: about 200 more
 * instructions per call, 1.19x on call-heavy code, even with a hook that
 * does nothing but pass the frame on.
 *
 * How: a chosen function's object (a "door": given to add_function, or
 * found for a selected code object) gets, while profiling runs, a C
 * subtype of function whose only difference is its vectorcall: it demands
 * the hook (src/pymod/evalhook.h), calls the function as the plain type
 * would (_PyFunction_Vectorcall) and undemands it. The subtype keeps the
 * object's layout (nothing is added), so swapping ob_type both ways is
 * safe; 3.11 runs a call inline only for the exact PyFunction_Type and
 * does not look at func->vectorcall there (checked with 3.11.7: an object
 * whose vectorcall alone was changed is still run inline), so the type is
 * what sends the calls here. The hook then evaluates the chosen frame as
 * before (hooks_evalframe.c), and sees every frame while one runs.
 * func_version is zeroed when marking: specialised instructions cached
 * with the old version (CALL_PY_EXACT_ARGS, BINARY_SUBSCR_GETITEM for a
 * chosen __getitem__) then deoptimise, and no new ones are made for the
 * subtype (the specialiser wants PyFunction_Type); the interpreter hands
 * out a new version once the plain type is back.
 *
 * When that would miss frames, the hook stays in place for good, as
 * before (hs_chosen_func_cover): a chosen generator or coroutine resumes
 * without a call; a function made again and again by MAKE_FUNCTION
 * (nested functions, lambdas) gets new objects of the plain type; a code
 * object with no door known cannot be caught at all. Comprehensions (3.11
 * still calls them as functions) run only inside their parent's call, so
 * a chosen parent with a door covers them.
 */
#include "chosen_func.h"

#include <stddef.h>

#if HS_HAVE_CHOSEN_FUNC
#include "../pymod/evalhook.h"

static PyObject *chosen_call(PyObject *func, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    hs_evalhook_demand();
    PyObject *result = _PyFunction_Vectorcall(func, args, nargsf, kwnames);
    hs_evalhook_undemand();
    return result;
}

/* Static, not a heap type: PyFunction_Type is not an acceptable base for
 * PyType_FromSpec (no Py_TPFLAGS_BASETYPE), while PyType_Ready does not
 * ask. Everything but the call is the function type's: its slots are
 * inherited, its attributes found through the base. */
static PyTypeObject chosen_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hotscope._core.chosen_function",
    .tp_basicsize = sizeof(PyFunctionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(PyFunctionObject, vectorcall),
    .tp_call = PyVectorcall_Call,
};

PyTypeObject *hs_chosen_func_type(void) {
    if (chosen_type.tp_flags & Py_TPFLAGS_READY)
        return &chosen_type;
    chosen_type.tp_base = &PyFunction_Type;
    /* Checked before inheritance, for a type with Py_TPFLAGS_HAVE_GC. */
    chosen_type.tp_traverse = PyFunction_Type.tp_traverse;
    chosen_type.tp_clear = PyFunction_Type.tp_clear;
    if (PyType_Ready(&chosen_type) < 0)
        return NULL;
    /* PyType_Ready gave the type a __doc__ of None, which would hide the
     * function's own (func_doc, a member of the base): the base's
     * descriptor takes its place. */
    PyObject *doc = PyDict_GetItemString(PyFunction_Type.tp_dict, "__doc__"); /* borrowed */
    if (!doc || PyDict_SetItemString(chosen_type.tp_dict, "__doc__", doc) < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_SystemError, "function type without __doc__");
        return NULL;
    }
    PyType_Modified(&chosen_type);
    return &chosen_type;
}

static void mark(PyObject *func) {
    PyFunctionObject *f = (PyFunctionObject *)func;
    /* Only the plain type with its own call: another tool's vectorcall
     * (none in CPython 3.11, which has no PyFunction_SetVectorcall) is
     * left alone, and such a door covers nothing. */
    if (Py_TYPE(func) != &PyFunction_Type || f->vectorcall != _PyFunction_Vectorcall)
        return;
    Py_SET_TYPE(func, &chosen_type);
    f->vectorcall = chosen_call;
    f->func_version = 0;
}

void hs_chosen_func_mark_doors(LineProfilerObject *lp) {
    if (!lp->doors || !hs_chosen_func_type()) {
        PyErr_Clear(); /* no subtype: the doors stay plain, and cover nothing */
        return;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lp->doors); i++)
        mark(PyList_GET_ITEM(lp->doors, i));
}

void hs_chosen_func_unmark_doors(LineProfilerObject *lp) {
    for (Py_ssize_t i = 0; lp->doors && i < PyList_GET_SIZE(lp->doors); i++) {
        PyFunctionObject *f = (PyFunctionObject *)PyList_GET_ITEM(lp->doors, i);
        if (Py_TYPE(f) == &chosen_type) {
            Py_SET_TYPE(f, &PyFunction_Type);
            f->vectorcall = _PyFunction_Vectorcall;
            f->func_version = 0; /* a fresh one is drawn at the next specialisation */
        }
    }
}

static int has_marked_door(LineProfilerObject *lp, PyObject *code) {
    for (Py_ssize_t i = 0; lp->doors && i < PyList_GET_SIZE(lp->doors); i++) {
        PyFunctionObject *f = (PyFunctionObject *)PyList_GET_ITEM(lp->doors, i);
        if (Py_TYPE(f) == &chosen_type && f->func_code == code)
            return 1;
    }
    return 0;
}

/* The selected code object whose constants hold `code`, or NULL. */
static PyObject *selected_parent(LineProfilerObject *lp, PyObject *code) {
    for (size_t i = 0; i < lp->code_count; i++) {
        PyObject *consts = ((PyCodeObject *)lp->codes[i]->code)->co_consts;
        for (Py_ssize_t j = 0; PyTuple_Check(consts) && j < PyTuple_GET_SIZE(consts); j++) {
            if (PyTuple_GET_ITEM(consts, j) == code)
                return lp->codes[i]->code;
        }
    }
    return NULL;
}

static int is_comprehension(PyObject *name) {
    return PyUnicode_CompareWithASCIIString(name, "<listcomp>") == 0 ||
           PyUnicode_CompareWithASCIIString(name, "<setcomp>") == 0 ||
           PyUnicode_CompareWithASCIIString(name, "<dictcomp>") == 0;
}

/* A '<' in the qualified name ("f.<locals>.g", "<lambda>"): the code's
 * function objects are made anew by each run of the code around it, as
 * objects of the plain type. Otherwise the function is made once, where
 * its module or class body runs, and its door is the way in. (A failed
 * search counts as made anew: nothing is promised for that code.) */
static int made_anew(PyObject *code) {
    PyObject *qualname = ((PyCodeObject *)code)->co_qualname;
    Py_ssize_t at = PyUnicode_FindChar(qualname, '<', 0, PyUnicode_GET_LENGTH(qualname), 1);
    if (at == -2)
        PyErr_Clear();
    return at != -1;
}

/* Whether frames of `code` start only through a marked door's call, or
 * inside one (`depth` bounds the walk up through nested comprehensions);
 * with `any_door`, whether they would once every plain function selected
 * had a door. */
static int covered(LineProfilerObject *lp, PyObject *code, int depth, int any_door) {
    PyCodeObject *co = (PyCodeObject *)code;
    if (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR))
        return 0; /* resumed without a call */
    if (is_comprehension(co->co_name)) {
        PyObject *parent = selected_parent(lp, code);
        return parent && depth < 64 && covered(lp, parent, depth + 1, any_door);
    }
    if (made_anew(code))
        return 0;
    return any_door || has_marked_door(lp, code);
}

/* Claiming. A selection can lack doors only for want of function objects:
 * `hotscope lines --func __main__:f` selects f's code object before the
 * script runs, so f is made later, by MAKE_FUNCTION. The hook, held for
 * good meanwhile, sees f's first frame; its function object (the frame's
 * f_func) becomes the door, and once every selected code object is covered
 * the hook is held on demand from then (hooks_evalframe.c). Only a plain
 * function running that very code object, and only once per code object
 * and session: a nested function's objects, made anew each time, are not
 * worth collecting (they cover nothing). */
int hs_chosen_func_claim(LineProfilerObject *lp, hs_code_lines *entry, PyObject *func) {
    entry->door_sought = 1;
    if (!lp->claiming || Py_TYPE(func) != &PyFunction_Type || PyFunction_GET_CODE(func) != entry->code ||
        made_anew(entry->code))
        return 0;
    if ((!lp->doors && !(lp->doors = PyList_New(0))) || PyList_Append(lp->doors, func) < 0) {
        PyErr_Clear(); /* no door, no harm: the hook stays held for good */
        return 0;
    }
    mark(func);
    return hs_chosen_func_cover(lp, 0);
}

int hs_chosen_func_cover(LineProfilerObject *lp, int any_door) {
    for (size_t i = 0; i < lp->code_count; i++) {
        if (!covered(lp, lp->codes[i]->code, 0, any_door))
            return 0;
    }
    return 1;
}

#else

PyTypeObject *hs_chosen_func_type(void) {
    return NULL;
}

#endif
