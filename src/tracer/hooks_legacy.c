/*
 * hooks_legacy.c - the tracer's interpreter hooks before Python 3.12,
 * through a C profile function (PyEval_SetProfile) in every thread
 * (src/pymod/legacy_profile.c installs it; our threading hook replaces
 * itself in a new thread at its first event, which it also records).
 * Events follow Modules/_lsprof.c's profiler_callback: CALL and RETURN for
 * Python frames (a generator's every resumption is a CALL), C_CALL and
 * C_RETURN / C_EXCEPTION for built-in functions. Coroutine frames
 * (async_tasks.c) take their own path, which needs a yield told from a
 * return (both are RETURN events here) and, for slow calls, a first step
 * told from a resume (both are CALL events).
 */
#include "tracer.h"
#include "../pymod/legacy_profile.h"

#if !HS_HAVE_MONITORING

#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000 /* 3.11.0 */
#include <opcode.h>
#endif

/* Whether a frame's RETURN event is a yield: its generator is suspended.
 * 3.10 keeps the state in the frame (public f_state); 3.11 in the
 * generator, set to FRAME_SUSPENDED before the event (ceval.c,
 * YIELD_VALUE), whose value, -1, is in Include/internal/pycore_frame.h. */
static int frame_yielded(PyFrameObject *frame) {
#if PY_VERSION_HEX < 0x030B0000 /* 3.11.0 */
    return frame->f_state == FRAME_SUSPENDED;
#else
    PyObject *gen = PyFrame_GetGenerator(frame);
    int yielded = gen && ((PyGenObject *)gen)->gi_frame_state == -1 /* FRAME_SUSPENDED */;
    Py_XDECREF(gen);
    return yielded;
#endif
}

/* Where the frame is, in bytes from the start of its code, as
 * PyCode_Addr2Line takes it: 3.10 counts f_lasti in code units (its
 * PyFrame_GetLineNumber multiplies by sizeof(_Py_CODEUNIT)), 3.11's
 * PyFrame_GetLasti answers in bytes. */
static int frame_offset(PyFrameObject *frame) {
#if PY_VERSION_HEX < 0x030B0000 /* 3.11.0 */
    return frame->f_lasti * (int)sizeof(_Py_CODEUNIT);
#else
    return PyFrame_GetLasti(frame);
#endif
}

/* Whether a CALL event starts the frame rather than resuming it. 3.10: a
 * generator frame not yet run has f_lasti -1 (genobject.c tests the same
 * for a just-started generator). 3.11: the event comes from the RESUME
 * instruction being executed (ceval.c, DO_TRACING), whose oparg is 0 at
 * the start of the code and 1-3 after a yield, yield from or await
 * (compile.c); an event of a throw() comes at the YIELD_VALUE the frame
 * was suspended at. RESUME_QUICK is RESUME quickened, oparg kept. */
static int frame_starts(PyFrameObject *frame, PyCodeObject *code) {
#if PY_VERSION_HEX < 0x030B0000 /* 3.11.0 */
    (void)code;
    return frame->f_lasti < 0;
#else
    int lasti = PyFrame_GetLasti(frame);
    if (lasti < 0)
        return 1;
    _Py_CODEUNIT word = _PyCode_CODE(code)[(size_t)lasti / sizeof(_Py_CODEUNIT)];
    int opcode = _Py_OPCODE(word);
    return (opcode == RESUME || opcode == RESUME_QUICK) && _Py_OPARG(word) == 0;
#endif
}

static int profile_function(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    TracerObject *self = (TracerObject *)obj;
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = PyFrame_GetCode(frame);
        if (code->co_flags & self->async_flags)
            hs_async_enter(self, code, self->slow_n && frame_starts(frame, code), frame);
        else
            hs_tracer_enter(self, code, (PyObject *)code, HS_CALLEE_CODE, NULL);
        Py_DECREF(code); /* the frame keeps it alive; keepalive holds a reference too */
        break;
    }
    case PyTrace_RETURN: {
        PyCodeObject *code = PyFrame_GetCode(frame);
        if (code->co_flags & self->async_flags) {
            int yielded = frame_yielded(frame);
            hs_async_leave(self, code, arg, yielded, yielded ? frame_offset(frame) : -1, frame);
        } else {
            hs_tracer_leave(self, code);
        }
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

int hs_hooks_install(TracerObject *self) {
    return hs_legacy_profile_install(profile_function, (PyObject *)self, &self->thread_hook,
                                     &self->saved_thread_hook, "profiler");
}

int hs_hooks_remove(TracerObject *self) {
    return hs_legacy_profile_remove(profile_function, (PyObject *)self, &self->saved_thread_hook);
}

#endif /* !HS_HAVE_MONITORING */
