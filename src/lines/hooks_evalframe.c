/*
 * hooks_evalframe.c - before 3.12, the line profiler finds its selected
 * frames through hotscope's frame evaluation hook (src/pymod/evalhook.h).
 *
 * Why not a profile function: while a thread has one, the interpreter runs
 * every instruction of every frame of that thread through its tracing
 * dispatch (tstate->cframe->use_tracing, Python/ceval.c 3.10 and 3.11),
 * which made code nobody selected run 1.4x (3.10) to 1.8x (3.11) slower.
 * The hook costs one C call per frame evaluation and leaves the fast
 * dispatch alone.
 *
 * Every frame evaluation (a call, or a generator or coroutine resumed,
 * thrown into included) passes here. A selected one is evaluated with
 * hs_lines_trace installed in its thread, unless it already is (a
 * selected frame running below another one's evaluation: recursion, a
 * selected callee); the previous state, no trace function, is put back
 * when the evaluation returns, yields or unwinds. The evaluation copies
 * the thread's tracing flag when it starts (Python/ceval.c 3.10 and 3.11,
 * _PyEval_EvalFrameDefault: cframe.use_tracing = prev_cframe->use_tracing),
 * so with the trace function installed before it, the interpreter reports
 * the frame's 'call' and then every line from the first, exactly as
 * sys.settrace sees them: nothing needs making up. A line's time runs
 * from its event to the next one; the last line's up to the evaluation's
 * return here.
 *
 * What the selected frames call runs under the trace function too, with
 * line events switched off in their frames (hs_lines_trace on 'call').
 *
 * A thread whose trace function is another's (sys.settrace, a debugger,
 * coverage) keeps it: the selected frames it evaluates then are not
 * recorded, and are counted (lp->unrecorded_runs) for the warning at
 * disable; the same when the program replaces or removes ours while a
 * selected frame runs. On 3.12+ sys.monitoring lets both run.
 */
#include "legacy_hooks.h"
#include "../pymod/evalhook.h"

#if !HS_HAVE_MONITORING

static PyObject *evaluate_selected(LineProfilerObject *lp, hs_code_lines *entry, PyThreadState *ts,
                                   hs_eval_frame *frame, int throwflag) {
    int installed = 0;
    if (!hs_lines_trace_is_ours(ts, lp)) {
        if (ts->c_tracefunc == NULL)
            PyEval_SetTrace(hs_lines_trace, (PyObject *)lp); /* an audit hook may refuse it */
        if (!hs_lines_trace_is_ours(ts, lp)) {
            lp->unrecorded_runs++;
            return hs_evalhook_default(ts, frame, throwflag);
        }
        installed = 1;
    }
    /* The program may drop the profiler (disable, del) while the frame
     * runs. */
    Py_INCREF(lp);
    uint64_t session = lp->session;
    hs_lines_enter(lp, entry, hs_eval_frame_is_new(frame), hs_ticks(&lp->clock));
    PyObject *result = hs_evalhook_default(ts, frame, throwflag);
    uint64_t now = hs_ticks(&lp->clock);
    /* Profiling stopped meanwhile: the stop charged the lines and took the
     * trace functions away. */
    if (lp->enabled && lp->session == session) {
        hs_lines_leave(lp, entry, now);
        if (installed) {
            if (hs_lines_trace_is_ours(ts, lp))
                PyEval_SetTrace(NULL, NULL); /* keeps a pending exception (Python/sysmodule.c, audit) */
            else
                lp->unrecorded_runs++;
        }
    }
    Py_DECREF(lp);
    return result;
}

static PyObject *evaluate(void *owner, PyThreadState *ts, hs_eval_frame *frame, int throwflag) {
    LineProfilerObject *lp = owner;
    hs_code_lines *entry = hs_lines_find(lp, hs_eval_frame_code(frame));
    if (!entry)
        return hs_evalhook_default(ts, frame, throwflag);
    return evaluate_selected(lp, entry, ts, frame, throwflag);
}

/* The hook's filter: the bits of the selected code objects. */
static uint64_t code_filter(LineProfilerObject *lp) {
    uint64_t filter = 0;
    for (size_t i = 0; i < lp->code_count; i++)
        filter |= hs_evalhook_code_bit(lp->codes[i]->code);
    return filter;
}

void hs_lines_evalframe_watch(LineProfilerObject *lp) {
    hs_evalhook_set_filter(lp, code_filter(lp));
}

int hs_lines_evalframe_start(LineProfilerObject *lp) {
    if (!hs_evalhook_acquire(0))
        return 0;
    if (!hs_evalhook_set_around(evaluate, lp, code_filter(lp))) {
        hs_evalhook_release(0);
        PyErr_SetString(PyExc_ValueError, "another hotscope line profiler is already running; disable it first");
        return -1;
    }
    Py_INCREF(lp); /* the hook's, as a profile function would hold one */
    return 1;
}

void hs_lines_evalframe_stop(LineProfilerObject *lp) {
    hs_evalhook_clear_around(lp);
    hs_evalhook_release(0);
    Py_DECREF(lp);
}

#endif /* !HS_HAVE_MONITORING */
