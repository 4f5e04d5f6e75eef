/*
 * hooks_legacy.c - the line profiler's hooks before Python 3.12: the C
 * trace function, and how selected frames are found.
 *
 * A C trace function makes the interpreter check every instruction of
 * every frame of its thread for a new line (Python/ceval.c,
 * maybe_call_line_trace), which would slow the whole program down, the
 * functions nobody asked about included. So the trace function is only
 * installed in a thread while a selected function runs there:
 *   - found by hotscope's frame evaluation hook, which installs it around
 *     each evaluation of a selected frame (hooks_evalframe.c);
 *   - or, when another frame evaluation function is the interpreter's (a
 *     debugger's), by a C profile function in every thread
 *     (src/pymod/legacy_profile.c), which sees calls and returns: when a
 *     selected frame starts or resumes it records the start and installs
 *     the trace function in that thread; when the thread's last selected
 *     frame returns or yields, it removes it again. A profile function
 *     puts the whole thread on the interpreter's tracing path, so code not
 *     selected runs slower this way.
 * The trace function counts and times LINE events of selected frames, and
 * turns line events off (f_trace_lines, legacy_frame.h) in frames of other
 * code started meanwhile, e.g. what a selected function calls.
 * The interpreter calls the trace function before the profile function
 * for the same event (Python/ceval.c, call_trace_protected call sites), so
 * a frame's start is recorded by the profile function alone.
 * Events: Doc/c-api/init.rst, "Profiling and Tracing".
 */
#include "lines.h"
#include "legacy_hooks.h"
#include "legacy_frame.h"
#include "../pymod/legacy_profile.h"

#if !HS_HAVE_MONITORING

/* The frame's code object through the C-API, borrowed: the frame keeps
 * it alive. */
static const void *frame_code_checked(PyFrameObject *frame) {
    PyCodeObject *code = PyFrame_GetCode(frame);
    Py_DECREF(code);
    return code;
}

int hs_lines_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)arg;
    LineProfilerObject *lp = (LineProfilerObject *)obj;
    if (what == PyTrace_LINE) {
        uint64_t now = hs_ticks(&lp->clock); /* first: the line's start */
        if (lp->frame_layout_ok)
            hs_lines_line(lp, hs_frame_code(frame), hs_frame_event_line(frame), 1, now);
        else
            hs_lines_line(lp, frame_code_checked(frame), PyFrame_GetLineNumber(frame), 1, now);
        return 0;
    }
    /* Found by the frame evaluation hook, a frame of other code runs
     * without this trace function: only the profile function's way needs
     * line events stopped in the frames a selected one calls. */
    if (what == PyTrace_CALL && !lp->via_evalhook && lp->frame_layout_ok &&
        !hs_lines_find(lp, hs_frame_code(frame)))
        hs_frame_stop_line_events(frame);
    return 0;
}

static int profile_function(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)arg;
    if (what != PyTrace_CALL && what != PyTrace_RETURN)
        return 0;
    LineProfilerObject *lp = (LineProfilerObject *)obj;
    PyCodeObject *code = PyFrame_GetCode(frame);
    hs_code_lines *entry = hs_lines_find(lp, code);
    Py_DECREF(code);
    if (!entry)
        return 0;
    PyThreadState *ts = PyThreadState_Get();
    if (what == PyTrace_CALL) {
        /* A generator's resumption is a CALL too; only a frame that has
         * not run yet (f_lasti < 0) is a new call. */
        hs_lines_enter(lp, entry, hs_frame_lasti(frame) < 0);
        if (ts->c_tracefunc == NULL)
            PyEval_SetTrace(hs_lines_trace, obj);
        else if (!hs_lines_trace_is_ours(ts, lp))
            lp->unrecorded_runs++; /* another trace function has the thread */
    } else {
        hs_lines_leave(lp, entry, hs_ticks(&lp->clock));
        if (hs_lines_depth(lp) == 0 && hs_lines_trace_is_ours(ts, lp))
            PyEval_SetTrace(NULL, NULL);
    }
    return 0;
}

int hs_lines_hooks_watch(LineProfilerObject *lp, hs_code_lines *entry) {
    (void)entry;
    if (lp->via_evalhook) /* a profile function sees every code object */
        hs_lines_evalframe_watch(lp);
    return 0;
}

int hs_lines_hooks_install(LineProfilerObject *lp) {
    lp->frame_layout_ok = hs_legacy_frame_layout_ok();
    lp->session++;
    lp->unrecorded_runs = 0;
    int started = hs_lines_evalframe_start(lp);
    if (started < 0)
        return -1;
    lp->via_evalhook = started;
    if (started)
        return 0;
    return hs_legacy_profile_install(profile_function, (PyObject *)lp, &lp->thread_hook,
                                     &lp->saved_thread_hook, "line profiler");
}

int hs_lines_hooks_remove(LineProfilerObject *lp) {
    /* Trace functions still installed (a selected frame was running when
     * profiling stopped) go too. */
    PyThreadState *current = PyThreadState_Get();
    PyThreadState *ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(current));
    int status = 0;
    for (; ts; ts = PyThreadState_Next(ts)) {
        if (hs_lines_trace_is_ours(ts, lp) && _PyEval_SetTrace(ts, NULL, NULL) < 0)
            status = -1;
    }
    if (lp->via_evalhook) {
        lp->via_evalhook = 0;
        if (!hs_lines_evalframe_stop(lp) &&
            PyErr_WarnEx(PyExc_RuntimeWarning,
                         "hotscope: another frame evaluation function (a debugger's) replaced "
                         "hotscope's while it ran: selected functions started after that are "
                         "missing from the line profile", 1) < 0)
            status = -1;
    } else if (hs_legacy_profile_remove(profile_function, (PyObject *)lp, &lp->saved_thread_hook) < 0) {
        status = -1;
    }
    if (status == 0 && lp->unrecorded_runs > 0 &&
        PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                         "hotscope: %lld run(s) of selected functions could not be line-profiled: another "
                         "trace function (sys.settrace, a debugger, coverage) had their thread; "
                         "on Python 3.12+ both work together",
                         (long long)lp->unrecorded_runs) < 0)
        status = -1;
    return status;
}

#endif /* !HS_HAVE_MONITORING */
