/*
 * legacy_profile.c - a C profile function in every thread, before 3.12
 * (legacy_profile.h). PyThreadState's c_profilefunc/c_profileobj are
 * public in Include/cpython/pystate.h (3.10, 3.11).
 */
#include "legacy_profile.h"

#if !HS_HAVE_MONITORING

#include <frameobject.h>

/* The threading hook's state: (engine object, capsule of the profile
 * function), as the builtin's self. */
static PyObject *thread_start_hook(PyObject *state, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *obj = PyTuple_GET_ITEM(state, 0);
    Py_tracefunc func = (Py_tracefunc)PyCapsule_GetPointer(PyTuple_GET_ITEM(state, 1), NULL);
    if (!func)
        return NULL;
    PyEval_SetProfile(func, obj);
    /* Called as hook(frame, event, arg) by the Python-level profile
     * trampoline of the new thread. */
    if (nargs == 3 && PyFrame_Check(args[0]) && PyUnicode_Check(args[1]) &&
        PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        func(obj, (PyFrameObject *)args[0], PyTrace_CALL, args[2]);
    Py_RETURN_NONE;
}

static PyMethodDef thread_hook_def = {
    "_hotscope_thread_start", (PyCFunction)(void (*)(void))thread_start_hook, METH_FASTCALL, NULL};

static PyObject *thread_hook_new(Py_tracefunc func, PyObject *obj) {
    PyObject *capsule = PyCapsule_New((void *)func, NULL, NULL);
    PyObject *state = capsule ? PyTuple_Pack(2, obj, capsule) : NULL;
    Py_XDECREF(capsule);
    PyObject *hook = state ? PyCFunction_New(&thread_hook_def, state) : NULL;
    Py_XDECREF(state);
    return hook;
}

int hs_legacy_profile_install(Py_tracefunc func, PyObject *obj, PyObject **thread_hook,
                              PyObject **saved_hook, const char *what) {
    if (!*thread_hook && !(*thread_hook = thread_hook_new(func, obj)))
        return -1;
    PyThreadState *current = PyThreadState_Get();
    if (current->c_profilefunc != NULL) {
        if (current->c_profilefunc == func)
            PyErr_Format(PyExc_ValueError,
                         "another hotscope %s is already running in this thread; disable it first", what);
        else
            PyErr_SetString(PyExc_ValueError,
                            "another profiler (cProfile, sys.setprofile) is already running "
                            "in this thread; stop it first");
        return -1;
    }
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    Py_CLEAR(*saved_hook);
    *saved_hook = PyObject_GetAttrString(threading, "_profile_hook");
    if (!*saved_hook)
        PyErr_Clear();
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", *thread_hook);
    Py_DECREF(threading);
    if (!r)
        return -1;
    Py_DECREF(r);
    PyEval_SetProfile(func, obj);
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (ts != current && ts->c_profilefunc == NULL && _PyEval_SetProfile(ts, func, obj) < 0)
            return -1;
    }
    return 0;
}

int hs_legacy_profile_remove(Py_tracefunc func, PyObject *obj, PyObject **saved_hook) {
    int status = 0;
    PyThreadState *current = PyThreadState_Get();
    if (current->c_profilefunc != func || current->c_profileobj != obj) {
        /* sys.setprofile() or another profiler replaced ours in this thread:
         * what ran after that was not seen. Say so rather than let the
         * profile look complete. */
        if (PyErr_WarnEx(PyExc_RuntimeWarning,
                         "hotscope: the program replaced hotscope's profile function in this "
                         "thread (sys.setprofile or another profiler): calls after that are "
                         "missing from the profile", 1) < 0)
            status = -1;
    }
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (ts->c_profilefunc == func && ts->c_profileobj == obj && _PyEval_SetProfile(ts, NULL, NULL) < 0)
            status = -1;
    }
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading) {
        PyObject *restore = *saved_hook ? *saved_hook : Py_None;
        PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", restore);
        Py_XDECREF(r);
        if (!r)
            status = -1;
        Py_DECREF(threading);
    } else {
        status = -1;
    }
    Py_CLEAR(*saved_hook);
    return status;
}

#endif /* !HS_HAVE_MONITORING */
