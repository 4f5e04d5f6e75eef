/*
 * legacy_frame.h - the frame fields the legacy (3.10, 3.11) line hooks
 * touch directly, because the C-API has no cheap way to them:
 *   f_trace_lines: 0 stops line events for one frame, so a function that is
 *                  not selected costs no trace call per line;
 *   f_lineno:      the line being reported, which the interpreter sets
 *                  before calling a trace function (Python/ceval.c,
 *                  call_trace, 3.10 and 3.11); PyFrame_GetLineNumber
 *                  recomputes it from the line table on 3.10;
 *   the code object, borrowed (PyFrame_GetCode is a call and a new
 *                  reference, on every line event).
 * 3.10: PyFrameObject is public (Include/cpython/frameobject.h, v3.10.0).
 * 3.11: it is private (Include/internal/pycore_frame.h, v3.11.0, "struct
 * _frame"); its head is mirrored below and checked against the running
 * interpreter once (hs_legacy_frame_layout_ok) before it is trusted.
 */
#ifndef HOTSCOPE_LEGACY_FRAME_H
#define HOTSCOPE_LEGACY_FRAME_H

#include "../compat.h"

#if !HS_HAVE_MONITORING

#include <frameobject.h>
#include "../pymod/evalhook.h"

#if PY_VERSION_HEX >= 0x030B0000 /* 3.11 */
/* Include/internal/pycore_frame.h (v3.11.0): struct _frame, up to the
 * fields used here. */
typedef struct {
    PyObject_HEAD
    PyFrameObject *f_back;
    void *f_frame;        /* struct _PyInterpreterFrame * */
    PyObject *f_trace;
    int f_lineno;         /* "Current line number. Only valid if non-zero" */
    char f_trace_lines;   /* "Emit per-line trace events?" */
    char f_trace_opcodes;
} hs_frame_head;
#define HS_FRAME(f) ((hs_frame_head *)(f))
#else
#define HS_FRAME(f) (f)
#endif

/* The code object the frame runs, borrowed: 3.10's f_code; 3.11's is in
 * the interpreter frame that f_frame points to (evalhook.h). */
static inline const void *hs_frame_code(PyFrameObject *frame) {
#if PY_VERSION_HEX >= 0x030B0000
    return hs_eval_frame_code((hs_eval_frame *)HS_FRAME(frame)->f_frame);
#else
    return frame->f_code;
#endif
}

/* Whether the mirrored layout matches this interpreter: a new frame emits
 * line events (f_trace_lines 1), its code object is the one the C-API
 * gives, and its f_back is its caller (3.11 fills f_back in lazily: NULL
 * until PyFrame_GetBack or the caller's end needs it, Objects/frameobject.c
 * and Python/frame.c). */
static inline int hs_legacy_frame_layout_ok(void) {
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed */
    if (!frame)
        return 0;
    PyFrameObject *stored_back = HS_FRAME(frame)->f_back;
    PyFrameObject *back = PyFrame_GetBack(frame);
    PyCodeObject *code = PyFrame_GetCode(frame);
    int ok = HS_FRAME(frame)->f_trace_lines == 1 && (stored_back == NULL || stored_back == back) &&
             hs_frame_code(frame) == (const void *)code;
    Py_XDECREF(back);
    Py_DECREF(code);
    return ok;
}

static inline void hs_frame_stop_line_events(PyFrameObject *frame) {
    HS_FRAME(frame)->f_trace_lines = 0;
}

/* The line a PyTrace_LINE event is for. */
static inline int hs_frame_event_line(PyFrameObject *frame) {
    int line = HS_FRAME(frame)->f_lineno;
    return line > 0 ? line : PyFrame_GetLineNumber(frame);
}

#endif /* !HS_HAVE_MONITORING */
#endif
