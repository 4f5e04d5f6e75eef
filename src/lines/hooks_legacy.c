/*
 * hooks_legacy.c - the line profiler's hooks before Python 3.12, through a
 * C trace function (PyEval_SetTrace).
 *
 * A trace function sees every frame of its thread, so it returns at once
 * for code that is not selected (one pointer compare in the common case,
 * lines.h hs_lines_find). Events: CALL starts a frame or resumes a
 * generator; LINE reaches a new line; RETURN leaves by return, yield or
 * exception (Doc/c-api/init.rst, "Profiling and Tracing").
 * Threads, as the tracer's hooks_legacy.c: the enabling thread and those
 * already running get the function directly, new threads through
 * threading.settrace.
 */
#include "lines.h"

#if !HS_HAVE_MONITORING

#include <frameobject.h>

static int trace_function(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)arg;
    LineProfilerObject *lp = (LineProfilerObject *)obj;
    if (what != PyTrace_CALL && what != PyTrace_LINE && what != PyTrace_RETURN)
        return 0;
    uint64_t now = hs_ticks(&lp->clock);
    PyCodeObject *code = PyFrame_GetCode(frame);
    hs_code_lines *entry = hs_lines_find(lp, code);
    Py_DECREF(code); /* the frame keeps it alive */
    if (!entry)
        return 0;
    if (what == PyTrace_CALL) {
        /* A generator's resumption is a CALL too; only a frame that has
         * not run yet (f_lasti < 0) is a new call. */
        hs_lines_enter(lp, entry, hs_frame_lasti(frame) < 0, now);
    } else if (what == PyTrace_LINE) {
        hs_lines_line(lp, entry, PyFrame_GetLineNumber(frame), 1, now);
    } else {
        hs_lines_leave(lp, entry, now);
    }
    return 0;
}

/* threading's per-thread hook: called as hook(frame, event, arg) by the
 * Python-level trace trampoline in a new thread. */
static PyObject *thread_start_hook(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    PyEval_SetTrace(trace_function, self);
    if (nargs == 3 && PyFrame_Check(args[0]) && PyUnicode_Check(args[1]) &&
        PyUnicode_CompareWithASCIIString(args[1], "call") == 0)
        trace_function(self, (PyFrameObject *)args[0], PyTrace_CALL, args[2]);
    Py_RETURN_NONE;
}

static PyMethodDef thread_hook_def = {
    "_hotscope_lines_thread_start", (PyCFunction)(void (*)(void))thread_start_hook, METH_FASTCALL, NULL};

int hs_lines_hooks_watch(LineProfilerObject *lp, hs_code_lines *entry) {
    (void)lp, (void)entry;
    return 0; /* the trace function sees every code object already */
}

int hs_lines_hooks_install(LineProfilerObject *lp) {
    PyThreadState *current = PyThreadState_Get();
    if (current->c_tracefunc != NULL) {
        PyErr_SetString(PyExc_ValueError,
                        current->c_tracefunc == trace_function
                            ? "another hotscope line profiler is already running in this thread; disable it first"
                            : "a debugger or tracer (sys.settrace) is already running in this thread; stop it first");
        return -1;
    }
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    if (!lp->thread_hook) {
        lp->thread_hook = PyCFunction_New(&thread_hook_def, (PyObject *)lp);
        if (!lp->thread_hook) {
            Py_DECREF(threading);
            return -1;
        }
    }
    Py_CLEAR(lp->saved_thread_hook);
    lp->saved_thread_hook = PyObject_GetAttrString(threading, "_trace_hook");
    if (!lp->saved_thread_hook)
        PyErr_Clear();
    PyObject *r = PyObject_CallMethod(threading, "settrace", "O", lp->thread_hook);
    Py_DECREF(threading);
    if (!r)
        return -1;
    Py_DECREF(r);
    PyEval_SetTrace(trace_function, (PyObject *)lp);
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (ts != current && ts->c_tracefunc == NULL && _PyEval_SetTrace(ts, trace_function, (PyObject *)lp) < 0)
            return -1;
    }
    return 0;
}

int hs_lines_hooks_remove(LineProfilerObject *lp) {
    int status = 0;
    PyThreadState *current = PyThreadState_Get();
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (ts->c_tracefunc == trace_function && ts->c_traceobj == (PyObject *)lp &&
            _PyEval_SetTrace(ts, NULL, NULL) < 0)
            status = -1;
    }
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading) {
        PyObject *restore = lp->saved_thread_hook ? lp->saved_thread_hook : Py_None;
        PyObject *r = PyObject_CallMethod(threading, "settrace", "O", restore);
        Py_XDECREF(r);
        if (!r)
            status = -1;
        Py_DECREF(threading);
    } else {
        status = -1;
    }
    Py_CLEAR(lp->saved_thread_hook);
    return status;
}

#endif /* !HS_HAVE_MONITORING */
