/*
 * hooks_legacy.c - the tracer's interpreter hooks before Python 3.12,
 * through a C profile function (PyEval_SetProfile).
 *
 * A profile function belongs to one thread, so:
 *   - the enabling thread gets it with PyEval_SetProfile;
 *   - threads already running get it with _PyEval_SetProfile(tstate, ...),
 *     as the interpreter allows while we hold the GIL;
 *   - threads started later get it from threading.setprofile(): the
 *     threading module calls sys.setprofile(hook) in each new thread, and
 *     our hook replaces itself there with the C profile function at its
 *     first event, which it also records.
 * Events follow Modules/_lsprof.c's profiler_callback: CALL and RETURN for
 * Python frames (a generator's every resumption is a CALL), C_CALL and
 * C_RETURN / C_EXCEPTION for built-in functions.
 */
#include "tracer.h"

#if !HS_HAVE_MONITORING

#include <frameobject.h>

static int profile_function(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    TracerObject *self = (TracerObject *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = PyFrame_GetCode(frame);
        hs_tracer_enter(self, code, (PyObject *)code, HS_CALLEE_CODE, NULL);
        Py_DECREF(code); /* the frame keeps it alive; keepalive holds a reference too */
        break;
    }
    case PyTrace_RETURN: {
        PyCodeObject *code = PyFrame_GetCode(frame);
        hs_tracer_leave(self, code);
        Py_DECREF(code);
        break;
    }
    case PyTrace_C_CALL:
        if (self->builtins && PyCFunction_Check(arg))
            hs_tracer_enter(self, ((PyCFunctionObject *)arg)->m_ml, arg, HS_CALLEE_CFUNC, NULL);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (self->builtins && PyCFunction_Check(arg))
            hs_tracer_leave(self, ((PyCFunctionObject *)arg)->m_ml);
        break;
    default:
        break;
    }
    return 0;
}

/* threading's per-thread hook: called as hook(frame, event, arg) by the
 * Python-level profile trampoline in a new thread. */
static PyObject *thread_start_hook(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    PyEval_SetProfile(profile_function, self);
    if (nargs == 3 && PyFrame_Check(args[0]) && PyUnicode_Check(args[1]) &&
        PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        profile_function(self, (PyFrameObject *)args[0], PyTrace_CALL, args[2]);
    Py_RETURN_NONE;
}

static PyMethodDef thread_hook_def = {
    "_hotscope_thread_start", (PyCFunction)(void (*)(void))thread_start_hook, METH_FASTCALL, NULL};

static PyObject *threading_module(void) {
    return PyImport_ImportModule("threading");
}

int hs_hooks_install(TracerObject *self) {
    PyThreadState *current = PyThreadState_Get();
    if (current->c_profilefunc != NULL) {
        if (current->c_profilefunc == profile_function)
            PyErr_SetString(PyExc_ValueError,
                            "another hotscope profiler is already running in this thread; "
                            "disable it first");
        else
            PyErr_SetString(PyExc_ValueError,
                            "another profiler (cProfile, sys.setprofile) is already running "
                            "in this thread; stop it first");
        return -1;
    }
    PyObject *threading = threading_module();
    if (!threading)
        return -1;
    if (!self->thread_hook) {
        self->thread_hook = PyCFunction_New(&thread_hook_def, (PyObject *)self);
        if (!self->thread_hook) {
            Py_DECREF(threading);
            return -1;
        }
    }
    Py_CLEAR(self->saved_thread_hook);
    self->saved_thread_hook = PyObject_GetAttrString(threading, "_profile_hook");
    if (!self->saved_thread_hook)
        PyErr_Clear();
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", self->thread_hook);
    Py_DECREF(threading);
    if (!r)
        return -1;
    Py_DECREF(r);

    PyEval_SetProfile(profile_function, (PyObject *)self);
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (ts != current && ts->c_profilefunc == NULL && _PyEval_SetProfile(ts, profile_function, (PyObject *)self) < 0)
            return -1;
    }
    return 0;
}

int hs_hooks_remove(TracerObject *self) {
    int status = 0;
    PyThreadState *current = PyThreadState_Get();
    if (current->c_profilefunc != profile_function || current->c_profileobj != (PyObject *)self) {
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
        if (ts->c_profilefunc == profile_function && ts->c_profileobj == (PyObject *)self &&
            _PyEval_SetProfile(ts, NULL, NULL) < 0)
            status = -1;
    }
    PyObject *threading = threading_module();
    if (threading) {
        PyObject *restore = self->saved_thread_hook ? self->saved_thread_hook : Py_None;
        PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", restore);
        Py_XDECREF(r);
        if (!r)
            status = -1;
        Py_DECREF(threading);
    } else {
        status = -1;
    }
    Py_CLEAR(self->saved_thread_hook);
    return status;
}

#endif /* !HS_HAVE_MONITORING */
