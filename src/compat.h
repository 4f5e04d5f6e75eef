/*
 * compat.h - the CPython C-API differences hotscope's in-process engines
 * depend on, each with the version it appears in. Layouts of interpreter
 * memory read from outside the process belong to the sampler, not here.
 */
#ifndef HOTSCOPE_COMPAT_H
#define HOTSCOPE_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* sys.monitoring (PEP 669), with callbacks callable through vectorcall:
 * new in 3.12. Before it, PyEval_SetProfile. */
#if PY_VERSION_HEX >= 0x030C0000 /* 3.12.0 */
#define HS_HAVE_MONITORING 1
#else
#define HS_HAVE_MONITORING 0
#endif

/* co_qualname on code objects: new in 3.11 (bpo-44530). */
#if PY_VERSION_HEX >= 0x030B0000 /* 3.11.0 */
#define HS_HAVE_CO_QUALNAME 1
#else
#define HS_HAVE_CO_QUALNAME 0
#endif

/* PyType_GetModuleByDef: public from 3.11, underscored in 3.10. */
#if PY_VERSION_HEX < 0x030B0000 /* 3.11.0 */
#define PyType_GetModuleByDef _PyType_GetModuleByDef
#endif

/* PyFrame_GetLasti: new in 3.11 (bpo-40421); in 3.10 the frame struct is
 * public and f_lasti is -1 until the frame has run an instruction. */
#if PY_VERSION_HEX < 0x030B0000 /* 3.11.0 */
#include <frameobject.h>
static inline int hs_frame_lasti(PyFrameObject *frame) { return frame->f_lasti; }
#else
#define hs_frame_lasti PyFrame_GetLasti
#endif

/* The address a weak reference points to, for comparing only; NULL once
 * the object is gone. PyWeakref_GetRef is new in 3.13, which deprecates
 * PyWeakref_GetObject. */
static inline const void *hs_weakref_target(PyObject *ref) {
#if PY_VERSION_HEX >= 0x030D0000 /* 3.13.0 */
    PyObject *target = NULL;
    if (PyWeakref_GetRef(ref, &target) < 0) {
        PyErr_Clear();
        return NULL;
    }
    Py_XDECREF(target); /* only the address is compared */
    return target;
#else
    PyObject *target = PyWeakref_GetObject(ref);
    return target == Py_None || !target ? NULL : target;
#endif
}

/* _PyEval_SetProfile(tstate, ...) sets another thread's profile function.
 * Declared in cpython/ceval.h up to 3.12 (as PyAPI_DATA by a typo in the
 * header, but it is a function), moved to the internal headers in 3.13,
 * where PyEval_SetProfileAllThreads exists anyway. Only the pre-3.12
 * hooks use it. */

#endif
