/*
 * evalhook.c - hotscope's frame evaluation hook before 3.12 (see
 * evalhook.h): the hook itself, the per-thread levels, and which engines
 * use it.
 *
 * Sources: PEP 523 and Include/cpython/pystate.h for
 * _PyInterpreterState_Get/SetEvalFrameFunc and the _PyFrameEvalFunction
 * signature (3.10: a PyFrameObject *; 3.11: a struct
 * _PyInterpreterFrame *); Include/cpython/ceval.h for
 * _PyEval_EvalFrameDefault, which every evaluation goes through when no
 * hook is set. In 3.11 setting the default function stores NULL
 * (Python/pystate.c), and Python-to-Python calls are only run inline in
 * the caller's evaluation when that is NULL (Python/ceval.c, CALL), so
 * with the hook each Python frame gets its own evaluation, which is what
 * costs the hook its time: a C call per Python call (hence the hook on
 * demand, evalhook.h).
 */
#include "evalhook.h"

#if HS_HAVE_EVALHOOK

/* Initial-exec: one load from the thread pointer. The module's thread-
 * locals are in the static TLS block anyway (src/tracer/tracer.h asks
 * for initial-exec), so this only adds its 272 bytes there. */
static __thread hs_eval_levels levels __attribute__((tls_model("initial-exec")));

/* Who uses the hook: the interpreter it is installed in, how many
 * engines took it, how many of them on demand and how many read the
 * levels, the demands running, and the around function (evalhook.h says
 * why this is process state). Changed with the GIL held only. */
static struct {
    PyInterpreterState *interp;
    int users;
    int on_demand;
    int level_users;
    int installed;      /* ours was put in place last by us (not yet taken away) */
    int displaced;      /* since the first user took it, another evaluation
                         * function was met where ours was wanted */
    int64_t demand;     /* hs_evalhook_demand calls running, all threads */
    hs_eval_around around;
    void *around_owner;
    uint64_t around_filter;
} hook;

hs_eval_levels *hs_evalhook_levels(void) {
    return &levels;
}

static inline PyObject *evaluate(PyThreadState *tstate, hs_eval_frame *frame, int throwflag) {
    if (hook.around && (hook.around_filter & hs_evalhook_code_bit(hs_eval_frame_code(frame))))
        return hook.around(hook.around_owner, tstate, frame, throwflag);
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}

static PyObject *eval_hook(PyThreadState *tstate, hs_eval_frame *frame, int throwflag) {
    /* Nobody reads the levels: not counted (their TLS stores cost a few
     * per cent of a call-heavy program). */
    if (!hook.level_users)
        return evaluate(tstate, frame, throwflag);
    hs_eval_levels *h = &levels;
    int level = ++h->depth;
    h->slot[level & (HS_EVAL_SLOTS - 1)] = (hs_eval_slot){(uintptr_t)frame, level};
    PyObject *result = evaluate(tstate, frame, throwflag);
    /* The frame has returned, yielded or unwound: its caller runs again. */
    h->depth = level - 1;
    if (h->low >= level)
        h->low = level - 1;
    return result;
}

/* Puts the hook in place, or takes it away, as its users want it now: a
 * user holding it for good, or one on demand with a demand running.
 * Another evaluation function found in place is left alone (a debugger's;
 * it may have replaced ours). */
static void follow_users(void) {
    _PyFrameEvalFunction now = _PyInterpreterState_GetEvalFrameFunc(hook.interp);
    if (hook.installed && now != eval_hook) {
        hook.installed = 0;
        hook.displaced = 1;
    }
    int wanted = hook.users > hook.on_demand || (hook.users > 0 && hook.demand > 0);
    if (wanted && !hook.installed) {
        if (now == _PyEval_EvalFrameDefault) {
            _PyInterpreterState_SetEvalFrameFunc(hook.interp, eval_hook);
            hook.installed = 1;
        } else if (now != eval_hook) {
            hook.displaced = 1;
        }
    } else if (!wanted && hook.installed) {
        _PyInterpreterState_SetEvalFrameFunc(hook.interp, _PyEval_EvalFrameDefault);
        hook.installed = 0;
    }
}

static int take(int reads_levels, int on_demand) {
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyFrameEvalFunction now = _PyInterpreterState_GetEvalFrameFunc(interp);
    if (hook.users > 0 ? hook.interp != interp || (now != eval_hook && now != _PyEval_EvalFrameDefault)
                       : now != _PyEval_EvalFrameDefault)
        return 0;
    if (hook.users == 0) {
        hook.interp = interp;
        hook.displaced = 0;
    }
    hook.users++;
    hook.on_demand += on_demand;
    hook.level_users += reads_levels != 0;
    follow_users();
    return 1;
}

static void give_back(int reads_levels, int on_demand) {
    if (hook.users <= 0)
        return;
    hook.level_users -= reads_levels != 0;
    hook.on_demand -= on_demand;
    if (--hook.users > 0) {
        follow_users();
        return;
    }
    if (_PyInterpreterState_GetEvalFrameFunc(hook.interp) == eval_hook)
        _PyInterpreterState_SetEvalFrameFunc(hook.interp, _PyEval_EvalFrameDefault);
    /* Not `demand`: calls running still undemand when they return. */
    hook.interp = NULL;
    hook.installed = 0;
    hook.on_demand = 0;
    hook.level_users = 0;
    hook.around = NULL;
    hook.around_owner = NULL;
    hook.around_filter = 0;
}

int hs_evalhook_acquire(int reads_levels) {
    return take(reads_levels, 0);
}

void hs_evalhook_release(int reads_levels) {
    give_back(reads_levels, 0);
}

int hs_evalhook_acquire_on_demand(void) {
    return take(0, 1);
}

void hs_evalhook_release_on_demand(void) {
    give_back(0, 1);
}

void hs_evalhook_hold_for_good(void) {
    if (hook.on_demand > 0) {
        hook.on_demand--;
        follow_users();
    }
}

void hs_evalhook_hold_on_demand(void) {
    if (hook.on_demand < hook.users) {
        hook.on_demand++;
        follow_users();
    }
}

/* Only the first demand and the last undemand change anything: the calls
 * in between pay an increment. */
void hs_evalhook_demand(void) {
    if (hook.demand++ == 0 && hook.users > 0)
        follow_users();
}

void hs_evalhook_undemand(void) {
    if (--hook.demand == 0 && hook.users > 0)
        follow_users();
}

int hs_evalhook_in_place(void) {
    if (hook.users <= 0 || hook.displaced)
        return 0;
    return !hook.installed || _PyInterpreterState_GetEvalFrameFunc(hook.interp) == eval_hook;
}

int hs_evalhook_set_around(hs_eval_around around, void *owner, uint64_t filter) {
    if (hook.around && hook.around_owner != owner)
        return 0;
    hook.around_owner = owner;
    hook.around_filter = filter;
    hook.around = around;
    return 1;
}

void hs_evalhook_set_filter(void *owner, uint64_t filter) {
    if (hook.around_owner == owner)
        hook.around_filter = filter;
}

void hs_evalhook_clear_around(void *owner) {
    if (hook.around_owner == owner) {
        hook.around = NULL;
        hook.around_owner = NULL;
        hook.around_filter = 0;
    }
}

#else /* 3.12+: sys.monitoring reports what the engines need */

hs_eval_levels *hs_evalhook_levels(void) {
    return NULL;
}

int hs_evalhook_acquire(int reads_levels) {
    (void)reads_levels;
    return 0;
}

void hs_evalhook_release(int reads_levels) {
    (void)reads_levels;
}

int hs_evalhook_acquire_on_demand(void) {
    return 0;
}

void hs_evalhook_release_on_demand(void) {
}

void hs_evalhook_hold_for_good(void) {
}

void hs_evalhook_hold_on_demand(void) {
}

#endif
