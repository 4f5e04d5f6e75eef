/*
 * native_merge.h - one stack from a thread's native frames and its Python
 * frames (native_merge.c), as hotscope record --native and dump --native
 * show it.
 *
 * Each call of the eval loop (_PyEval_EvalFrameDefault, a C frame) ran
 * Python frames: one on 3.10, on 3.11+ the frame it was called for and
 * every Python frame that one called without leaving the loop (the walk
 * marks the first of each call: hs_raw_frame.entry). The eval-loop frames
 * are replaced by their Python frames, in order. Of the other native
 * frames:
 *  - above the innermost Python frame (what the thread is doing in C: an
 *    extension, libc, a builtin of the interpreter) all are kept;
 *  - below the outermost (main, Py_RunMain, a thread's start) all are kept;
 *  - between two Python frames, the interpreter's own (its call machinery:
 *    _PyObject_Vectorcall, _PyFunction_Vectorcall, ...) are left out, as
 *    py-spy does; others (an extension that calls back into Python, libffi)
 *    are kept.
 * The eval-loop frames and the Python calls are paired one to one. When
 * their counts differ (a thread stopped while entering or leaving the
 * loop, or a native stack that could not be unwound to its end), they are
 * paired from the end that is known: the outermost when the native stack
 * was unwound to its outermost frame, else the innermost; Python frames
 * left over go where they belong (by a complete native stack: with the
 * innermost pair; by a partial one: below every native frame, the outer
 * part the unwinder did not reach), and eval-loop frames left over are
 * dropped.
 */
#ifndef HOTSCOPE_NATIVE_MERGE_H
#define HOTSCOPE_NATIVE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#define HS_NATIVE_EVAL 1        /* a call of the eval loop */
#define HS_NATIVE_INTERPRETER 2 /* code of the interpreter's own image */

typedef struct {
    uint8_t python;           /* 1: Python frame `index`; 0: native frame `index` */
    uint32_t index;           /* leaf first, in its own list */
} hs_merged_frame;

/* Merges, leaf first, into out (room for native_count + python_count).
 * native_kinds: HS_NATIVE_* bits per native frame (leaf first);
 * python_entry: per Python frame (leaf first), whether it was the first of
 * its eval-loop call. *mismatch is set when the eval-loop frames and the
 * Python calls did not pair one to one. Returns the count. */
size_t hs_native_merge(const uint8_t *native_kinds, size_t native_count, int native_complete,
                       const uint8_t *python_entry, size_t python_count, hs_merged_frame *out,
                       int *mismatch);

#endif
