/*
 * legacy_hooks.h - what the line profiler's two ways of finding selected
 * frames before 3.12 share: the C trace function that counts and times
 * their lines (hooks_legacy.c), installed in a thread only while one runs,
 * either around its evaluation by the frame evaluation hook
 * (hooks_evalframe.c, the usual way) or from a C profile function's call
 * and return events (hooks_legacy.c, when another frame evaluation
 * function is in place).
 */
#ifndef HOTSCOPE_LINES_LEGACY_HOOKS_H
#define HOTSCOPE_LINES_LEGACY_HOOKS_H

#include "lines.h"

#if !HS_HAVE_MONITORING

/* The trace function, with the LineProfilerObject as its object. */
int hs_lines_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);

/* Whether `lp`'s trace function is the thread's. */
static inline int hs_lines_trace_is_ours(PyThreadState *ts, LineProfilerObject *lp) {
    return ts->c_tracefunc == hs_lines_trace && ts->c_traceobj == (PyObject *)lp;
}

/* Starts finding selected frames with the frame evaluation hook: 1, 0 when
 * the hook is not available here (another evaluation function is the
 * interpreter's: use the profile function), -1 with ValueError when
 * another line profiler has it. */
int hs_lines_evalframe_start(LineProfilerObject *lp);
/* Stops; returns whether the hook was still the interpreter's evaluation
 * function until then (0: something replaced it, and what started since
 * was not seen). */
int hs_lines_evalframe_stop(LineProfilerObject *lp);
/* Tells the hook about the code objects selected since the start. */
void hs_lines_evalframe_watch(LineProfilerObject *lp);

#endif
#endif
