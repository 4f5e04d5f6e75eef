/*
 * evalhook.h - hotscope's frame evaluation hook (PEP 523) before 3.12,
 * shared by the memory engine (src/memory/mem_stack.c) and the line
 * profiler (src/lines/hooks_evalframe.c).
 *
 * The hook wraps _PyEval_EvalFrameDefault: each call evaluates one frame
 * (a new one, or a generator resumed) and returns when that frame returns,
 * yields or unwinds. One C call per frame, and unlike a profile or trace
 * function it does not put the interpreter on its tracing path (a profile
 * function makes every instruction of every frame go through the tracing
 * dispatch: tstate->cframe->use_tracing, Python/ceval.c 3.10 and 3.11).
 *
 * It does two things:
 *
 * 1. Levels, for the memory engine. Per thread it counts its calls running
 * ("levels", 1 = the outermost), keeps the lowest count reached since the
 * memory engine last read the stack, and notes the frame each call
 * evaluates in a ring of slots, slot[level % HS_EVAL_SLOTS] = (level,
 * frame), so a slot still names its level's call while no deeper call
 * HS_EVAL_SLOTS levels up has overwritten it.
 * What that tells: a call of level c <= the lowest count since the last
 * read entered before that read (entering at level c needs the count at
 * c - 1 first, which only an exit brings it down to, lowering the mark)
 * and has not left since (leaving sets the count to c - 1). So its frame
 * was alive at the read and has not run any caller since: the frames below
 * it are those read then, and only the frames from the leaf down to it
 * need reading again. The engine still finds that frame both on the stack
 * now and in what it read then before trusting anything (so greenlets,
 * which switch stacks under the count, or frames evaluated without the
 * hook, only cost a whole read).
 * The levels are the thread's, not an engine's (calls that entered the
 * hook keep leaving through it after an engine stopped; a fixed array, so
 * nothing to free); an engine notes itself as the reader that last reset
 * the mark. Only the calls that enter while an engine reading the levels
 * holds the hook are counted (each leaves as it entered): the others are
 * like frames evaluated without the hook, which the engine's checks allow
 * for (a counted call still running still means that nothing below it
 * has changed).
 *
 * 2. An "around" function, for the line profiler: when one is set, the
 * hook lets it evaluate every frame (it calls hs_evalhook_default itself,
 * with whatever it does around that), instead of calling the default.
 *
 * The interpreter keeps one evaluation function per interpreter, and calls
 * it with no room for data of ours: which engines use it is therefore
 * process state (one record, for the one interpreter that has the hook;
 * GIL held for every change). Engines take it with hs_evalhook_acquire and
 * give it back with hs_evalhook_release; the last one out puts the default
 * function back.
 *
 * 3. On demand (3.11). While any evaluation function is set, 3.11's CALL
 * does not run Python-to-Python calls inline in the caller's evaluation
 * (Python/ceval.c, CALL: Py_TYPE(function) == &PyFunction_Type &&
 * tstate->interp->eval_frame == NULL), so the mere presence of a hook
 * makes every call of every function go through a C call of
 * _PyEval_EvalFrameDefault: call-heavy code nobody chose ran 1.19x slower.
 * A user that can tell when it needs the hook (the line profiler, whose
 * chosen functions report their calls, src/lines/chosen_func.c) takes it
 * on demand (hs_evalhook_acquire's `on_demand`): the hook is then the
 * interpreter's only while some hs_evalhook_demand is running without
 * its hs_evalhook_undemand, or while another user holds it for good.
 */
#ifndef HOTSCOPE_EVALHOOK_H
#define HOTSCOPE_EVALHOOK_H

#include "../compat.h"

#include <stdint.h>
#include <string.h>

/* The frame evaluation hook is used before 3.12 (from 3.12 on,
 * sys.monitoring reports what the engines need). */
#if PY_VERSION_HEX < 0x030C0000
#define HS_HAVE_EVALHOOK 1
#else
#define HS_HAVE_EVALHOOK 0
#endif

#if HS_HAVE_EVALHOOK

#if PY_VERSION_HEX >= 0x030B0000 /* 3.11 */
#include "../sampler/py311.h"
/* PEP 523 and Include/cpython/pystate.h (3.11): _PyFrameEvalFunction takes
 * a struct _PyInterpreterFrame * (Include/internal/pycore_frame.h). */
typedef struct _PyInterpreterFrame hs_eval_frame;
#else
#include <frameobject.h>
/* 3.10: a PyFrameObject * (Include/cpython/pystate.h, frameobject.h). */
typedef PyFrameObject hs_eval_frame;
#endif

/* The code object the frame runs (borrowed). 3.10: f_code of the public
 * PyFrameObject; 3.11: _PyInterpreterFrame.f_code, at the offset of the
 * sampler's 3.11 layout (src/sampler/py311.h, checked against the
 * interpreter by tests/test_sampler_layouts.py). */
static inline PyObject *hs_eval_frame_code(hs_eval_frame *frame) {
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *code;
    memcpy(&code, (const char *)frame + hs_layout_311.frame_code, sizeof code);
    return code;
#else
    return (PyObject *)frame->f_code;
#endif
}

/* The function object the frame runs (borrowed), 3.11: f_func, the first
 * field of struct _PyInterpreterFrame (Include/internal/pycore_frame.h,
 * v3.11.0; a function for every frame there, exec'd code included). */
#if PY_VERSION_HEX >= 0x030B0000
static inline PyObject *hs_eval_frame_func(hs_eval_frame *frame) {
    PyObject *func;
    memcpy(&func, frame, sizeof func);
    return func;
}
#endif

/* Whether the frame has not run an instruction yet: a new call, not a
 * generator resumed. 3.10: f_lasti is -1 until then (frameobject.h);
 * 3.11: prev_instr points one code unit before the code's first
 * instruction (_PyFrame_InitializeSpecials, pycore_frame.h). */
static inline int hs_eval_frame_is_new(hs_eval_frame *frame) {
#if PY_VERSION_HEX >= 0x030B0000
    const char *code = (const char *)hs_eval_frame_code(frame);
    const char *prev_instr;
    memcpy(&prev_instr, (const char *)frame + hs_layout_311.frame_instr, sizeof prev_instr);
    return prev_instr == code + hs_layout_311.code_code_adaptive - 2; /* a code unit is 2 bytes */
#else
    return frame->f_lasti < 0;
#endif
}

/* What the interpreter would have done without the hook
 * (Include/cpython/ceval.h 3.10; 3.11: it evaluates every frame when no
 * hook is set, Include/internal/pycore_ceval.h, _PyEval_EvalFrame). */
static inline PyObject *hs_evalhook_default(PyThreadState *tstate, hs_eval_frame *frame, int throwflag) {
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}

/* Evaluates `frame` in the place of the default function; `owner` is the
 * pointer given with it to hs_evalhook_set_around. */
typedef PyObject *(*hs_eval_around)(void *owner, PyThreadState *tstate, hs_eval_frame *frame, int throwflag);

/* The around function sees only the frames whose code object's bit is set
 * in its filter: one test keeps most frames from an indirect call there
 * when it wants a few code objects (an all-ones filter passes every frame).
 * Code objects are at least 16-byte aligned: the bits above vary. */
static inline uint64_t hs_evalhook_code_bit(const void *code) {
    return (uint64_t)1 << (((uintptr_t)code >> 4) & 63);
}

#endif /* HS_HAVE_EVALHOOK */

#define HS_EVAL_SLOTS 16 /* a power of two */

typedef struct {
    uintptr_t frame; /* _PyInterpreterFrame (3.11) or PyFrameObject (3.10) */
    int64_t level;   /* the level of the call that wrote the slot */
} hs_eval_slot;

typedef struct {
    int depth;       /* hook calls running on this thread */
    int low;         /* the lowest depth since `reader` last read the stack */
    uint64_t reader; /* id of the engine that did (hs_mem.id), 0: none */
    hs_eval_slot slot[HS_EVAL_SLOTS];
} hs_eval_levels;

/* The calling thread's levels (NULL from 3.12 on). */
hs_eval_levels *hs_evalhook_levels(void);

/* Takes the hook for one more user, putting it in place on the calling
 * thread's interpreter if it is not yet (GIL held); `reads_levels`: the
 * user reads the levels (they are counted while one does). Returns 1, or
 * 0 (nothing taken) when that interpreter already has an evaluation
 * function other than the default one (a debugger's, left alone), when
 * another interpreter has the hook, or from 3.12 on. */
int hs_evalhook_acquire(int reads_levels);
/* Gives back what one hs_evalhook_acquire that returned 1 took (with the
 * same `reads_levels`); the last user out puts the default evaluation
 * function back if the hook is still the interpreter's (GIL held). */
void hs_evalhook_release(int reads_levels);

/* The same for a user that needs the hook only on demand (see 3. above;
 * levels not read): returns 1, or 0 as hs_evalhook_acquire does. */
int hs_evalhook_acquire_on_demand(void);
void hs_evalhook_release_on_demand(void);
/* Turns what one user holds on demand into a plain hold (the hook stays in
 * place from now on): for a user that learns it cannot tell any more when
 * it needs the hook. */
void hs_evalhook_hold_for_good(void);
/* The other way: a plain hold becomes one on demand (the caller demands
 * first if it needs the hook until its next undemand). */
void hs_evalhook_hold_on_demand(void);

#if HS_HAVE_EVALHOOK
/* Whether the hook, taken, is still the interpreter's evaluation function
 * (a debugger may have put its own in its place since). */
int hs_evalhook_in_place(void);
/* Sets the around function and its filter (for a user that acquired the
 * hook): 1, or 0 when another owner's is set. */
int hs_evalhook_set_around(hs_eval_around around, void *owner, uint64_t filter);
/* Changes the filter, if `owner` set the around function. */
void hs_evalhook_set_filter(void *owner, uint64_t filter);
/* Clears it if `owner` set it. Calls already inside it finish there. */
void hs_evalhook_clear_around(void *owner);

/* Around each call that needs the hook, for users holding it on demand
 * (GIL held; they nest, over all threads). The hook goes in place at the
 * first and away after the last, unless held for good. A demand that
 * finds another evaluation function in place (a debugger's) leaves it,
 * and hs_evalhook_in_place says 0 from then on. Calls that outlive their
 * user (it stopped meanwhile) still undemand: the count stays paired. */
void hs_evalhook_demand(void);
void hs_evalhook_undemand(void);
#endif

#endif
