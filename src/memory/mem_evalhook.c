/*
 * mem_evalhook.c - the frame evaluation hook of the memory engine before
 * 3.12 (see mem_evalhook.h).
 *
 * Sources: PEP 523 and Include/cpython/pystate.h for
 * _PyInterpreterState_Get/SetEvalFrameFunc and the _PyFrameEvalFunction
 * signature (3.10: a PyFrameObject *; 3.11: a struct
 * _PyInterpreterFrame *); Include/cpython/ceval.h (3.10) and
 * Include/internal/pycore_ceval.h (3.11: _PyEval_EvalFrame) for
 * _PyEval_EvalFrameDefault, which every evaluation goes through when no
 * hook is set. In 3.11 setting the default function stores NULL
 * (Python/pystate.c), and Python-to-Python calls are only run inline in
 * the caller's evaluation when that is NULL (Python/ceval.c, CALL), so
 * with the hook each Python frame gets its own evaluation, which is what
 * costs the hook its time: a C call per Python call.
 */
#include "mem_evalhook.h"

#if HS_HAVE_EVALHOOK

#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame hs_eval_frame;
#else
typedef PyFrameObject hs_eval_frame;
#endif

/* Initial-exec: one load from the thread pointer. The module's thread-
 * locals are in the static TLS block anyway (src/tracer/tracer.h asks
 * for initial-exec), so this only adds its 272 bytes there. */
static __thread hs_eval_levels levels __attribute__((tls_model("initial-exec")));

hs_eval_levels *hs_evalhook_levels(void) {
    return &levels;
}

static PyObject *eval_hook(PyThreadState *tstate, hs_eval_frame *frame, int throwflag) {
    hs_eval_levels *h = &levels;
    int level = ++h->depth;
    h->slot[level & (HS_EVAL_SLOTS - 1)] = (hs_eval_slot){(uintptr_t)frame, level};
    PyObject *result = _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    /* The frame has returned, yielded or unwound: its caller runs again. */
    h->depth = level - 1;
    if (h->low >= level)
        h->low = level - 1;
    return result;
}

int hs_evalhook_install(void) {
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyFrameEvalFunction now = _PyInterpreterState_GetEvalFrameFunc(interp);
    if (now == eval_hook)
        return 1;
    if (now != _PyEval_EvalFrameDefault)
        return 0;
    _PyInterpreterState_SetEvalFrameFunc(interp, eval_hook);
    return 1;
}

void hs_evalhook_uninstall(void) {
    PyInterpreterState *interp = PyInterpreterState_Get();
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_hook)
        _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
}

#else /* 3.12+: sys.monitoring reports exits (mem_watch.c) */

hs_eval_levels *hs_evalhook_levels(void) {
    return NULL;
}

int hs_evalhook_install(void) {
    return 0;
}

void hs_evalhook_uninstall(void) {
}

#endif
