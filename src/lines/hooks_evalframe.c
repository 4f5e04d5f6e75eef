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
 * What a selected frame calls (and any frame it resumes) runs with no
 * trace function, at full speed, unless it is selected itself: around the
 * evaluation of a frame of other code, in a thread where ours is
 * installed, it is taken away and put back. So while some thread has a
 * selected frame running, every frame comes here (the hook's filter is
 * all ones); otherwise only frames whose code passes the filter of the
 * selected code objects' address bits (src/pymod/evalhook.h).
 * On 3.11 the hook is held on demand when the chosen functions' objects
 * can report their calls (chosen_func.c): it is then in place only while
 * one runs, which is all that the above needs.
 * Installing or removing a trace function raises the audit event
 * sys.settrace (Python/ceval.c, _PyEval_SetTrace), whose hooks may run
 * Python code: the frames evaluated meanwhile are left as they are.
 *
 * A thread whose trace function is another's (sys.settrace, a debugger,
 * coverage) keeps it: the selected frames it evaluates then are not
 * recorded, and are counted (lp->unrecorded_runs) for the warning at
 * disable; the same when the program replaces or removes ours while a
 * selected frame runs. On 3.12+ sys.monitoring lets both run.
 */
#include "legacy_hooks.h"
#include "chosen_func.h"
#include "../pymod/evalhook.h"

#if !HS_HAVE_MONITORING

/* Set while this thread changes its trace function here (see above). */
static __thread int changing_trace __attribute__((tls_model("initial-exec")));

static void set_trace(LineProfilerObject *lp) {
    changing_trace = 1;
    PyEval_SetTrace(lp ? hs_lines_trace : NULL, (PyObject *)lp); /* an audit hook may refuse */
    changing_trace = 0;
}

/* The hook's filter: the bits of the selected code objects, or every
 * frame while a selected one runs somewhere. */
static void update_filter(LineProfilerObject *lp) {
    uint64_t filter = ~(uint64_t)0;
    if (lp->open_windows == 0) {
        filter = 0;
        for (size_t i = 0; i < lp->code_count; i++)
            filter |= hs_evalhook_code_bit(lp->codes[i]->code);
    }
    hs_evalhook_set_filter(lp, filter);
}

static PyObject *evaluate_selected(LineProfilerObject *lp, hs_code_lines *entry, PyThreadState *ts,
                                   hs_eval_frame *frame, int throwflag) {
    int installed = 0;
    if (!hs_lines_trace_is_ours(ts, lp)) {
        if (ts->c_tracefunc == NULL)
            set_trace(lp);
        if (!hs_lines_trace_is_ours(ts, lp)) {
            lp->unrecorded_runs++;
            return hs_evalhook_default(ts, frame, throwflag);
        }
        installed = 1;
        if (lp->open_windows++ == 0)
            update_filter(lp);
    }
    /* The program may drop the profiler (disable, del) while the frame
     * runs. */
    Py_INCREF(lp);
    uint64_t session = lp->session;
    int is_new = hs_eval_frame_is_new(frame);
    hs_lines_enter(lp, entry, is_new);
#if HS_HAVE_CHOSEN_FUNC
    /* Held for good, a new frame whose code has no door yet: its function
     * becomes one, and once they cover the selection the hook is held on
     * demand, this frame demanding it as a door's call would. Only when it
     * is the one selected frame running with our trace function (its own
     * window the only one open): another, entered without a door, would go
     * on without the hook. */
    int claimed = 0;
    if (lp->claiming && installed && lp->open_windows == 1 && !entry->door_sought && is_new && !throwflag &&
        !PyErr_Occurred() && hs_chosen_func_claim(lp, entry, hs_eval_frame_func(frame))) {
        hs_evalhook_demand();
        hs_evalhook_hold_on_demand();
        lp->hook_on_demand = 1;
        claimed = 1;
    }
#endif
    PyObject *result = hs_evalhook_default(ts, frame, throwflag);
    uint64_t now = hs_ticks(&lp->clock);
    /* Profiling stopped meanwhile: the stop charged the lines and took the
     * trace functions away. */
    if (lp->enabled && lp->session == session) {
        hs_lines_leave(lp, entry, now);
        if (installed) {
            if (hs_lines_trace_is_ours(ts, lp))
                set_trace(NULL); /* keeps a pending exception (Python/sysmodule.c, audit) */
            else
                lp->unrecorded_runs++; /* the program replaced it meanwhile: theirs stays */
            if (--lp->open_windows == 0)
                update_filter(lp);
        }
    }
#if HS_HAVE_CHOSEN_FUNC
    if (claimed)
        hs_evalhook_undemand(); /* paired, whether profiling stopped meanwhile or not */
#endif
    Py_DECREF(lp);
    return result;
}

/* A frame of other code, while ours is this thread's trace function:
 * evaluated without it. */
static PyObject *evaluate_untraced(LineProfilerObject *lp, PyThreadState *ts, hs_eval_frame *frame,
                                   int throwflag) {
    Py_INCREF(lp);
    uint64_t session = lp->session;
    set_trace(NULL);
    PyObject *result = hs_evalhook_default(ts, frame, throwflag);
    /* Put back unless profiling stopped or the program set a trace
     * function of its own meanwhile. */
    if (lp->enabled && lp->session == session && ts->c_tracefunc == NULL)
        set_trace(lp);
    Py_DECREF(lp);
    return result;
}

static PyObject *evaluate(void *owner, PyThreadState *ts, hs_eval_frame *frame, int throwflag) {
    LineProfilerObject *lp = owner;
    if (changing_trace)
        return hs_evalhook_default(ts, frame, throwflag);
    hs_code_lines *entry = hs_lines_find(lp, hs_eval_frame_code(frame));
    if (entry)
        return evaluate_selected(lp, entry, ts, frame, throwflag);
    if (hs_lines_trace_is_ours(ts, lp))
        return evaluate_untraced(lp, ts, frame, throwflag);
    return hs_evalhook_default(ts, frame, throwflag);
}

/* 3.11, holding the hook on demand: marks the doors added since, and
 * holds the hook for good from the first selection that they do not
 * cover (until a claim or the next enable). */
static void check_on_demand(LineProfilerObject *lp) {
#if HS_HAVE_CHOSEN_FUNC
    if (!lp->hook_on_demand) {
        /* Held for good: doors added are marked, and claiming goes on
         * while it can still help (it switches, not this). */
        if (lp->claiming) {
            hs_chosen_func_mark_doors(lp);
            lp->claiming = hs_chosen_func_cover(lp, 1);
        }
        return;
    }
    hs_chosen_func_mark_doors(lp);
    if (!hs_chosen_func_cover(lp, 0)) {
        hs_evalhook_hold_for_good();
        lp->hook_on_demand = 0;
        lp->claiming = 0;
    }
#else
    (void)lp;
#endif
}

void hs_lines_evalframe_watch(LineProfilerObject *lp) {
    update_filter(lp);
    check_on_demand(lp);
}

int hs_lines_evalframe_start(LineProfilerObject *lp) {
    /* On demand where the doors can be marked and cover the selection
     * (chosen_func.c); marking first, as covering asks for marked doors.
     * They stay marked until the stop either way. */
    int on_demand = 0;
#if HS_HAVE_CHOSEN_FUNC
    for (size_t i = 0; i < lp->code_count; i++)
        lp->codes[i]->door_sought = 0;
    hs_chosen_func_mark_doors(lp);
    on_demand = hs_chosen_func_cover(lp, 0);
    lp->claiming = !on_demand && hs_chosen_func_cover(lp, 1);
#endif
    if (!(on_demand ? hs_evalhook_acquire_on_demand() : hs_evalhook_acquire(0))) {
#if HS_HAVE_CHOSEN_FUNC
        hs_chosen_func_unmark_doors(lp);
#endif
        return 0;
    }
    lp->hook_on_demand = on_demand;
    lp->open_windows = 0;
    if (!hs_evalhook_set_around(evaluate, lp, 0)) {
        if (on_demand)
            hs_evalhook_release_on_demand();
        else
            hs_evalhook_release(0);
#if HS_HAVE_CHOSEN_FUNC
        hs_chosen_func_unmark_doors(lp);
#endif
        PyErr_SetString(PyExc_ValueError, "another hotscope line profiler is already running; disable it first");
        return -1;
    }
    update_filter(lp);
    Py_INCREF(lp); /* the hook's, as a profile function would hold one */
    return 1;
}

int hs_lines_evalframe_stop(LineProfilerObject *lp) {
    int in_place = hs_evalhook_in_place();
    hs_evalhook_clear_around(lp);
    if (lp->hook_on_demand)
        hs_evalhook_release_on_demand();
    else
        hs_evalhook_release(0);
    lp->hook_on_demand = 0;
#if HS_HAVE_CHOSEN_FUNC
    hs_chosen_func_unmark_doors(lp);
#endif
    Py_DECREF(lp);
    return in_place;
}

#endif /* !HS_HAVE_MONITORING */
