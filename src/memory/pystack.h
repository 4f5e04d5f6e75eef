/*
 * pystack.h - the current thread's Python stack, read from the
 * interpreter's own frame structs without creating a Python object (the
 * memory engine runs inside the allocator, where PyEval_GetFrame could
 * itself allocate a frame object on 3.11+).
 *
 * Frames come out leaf first as (code object address, instruction offset
 * in bytes). The frame struct offsets are the sampler's per-version
 * layouts (src/sampler/pylayout.h): static tables for 3.10-3.12, the
 * interpreter's _Py_DebugOffsets for 3.13, read once from this very
 * process at start.
 */
#ifndef HOTSCOPE_PYSTACK_H
#define HOTSCOPE_PYSTACK_H

#include "../compat.h"

#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h> /* 3.10: PyFrameObject's fields are public */
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uintptr_t code;
    int32_t offset;
    uintptr_t frame; /* the frame struct's address (_PyInterpreterFrame; PyFrameObject on 3.10) */
} hs_frame_key;

typedef struct {
    int64_t previous, code, instr, owner; /* offsets in _PyInterpreterFrame (3.11+) */
    int64_t code_adaptive;                /* offset of the bytecode in a code object */
    int owned_by_cstack;                  /* owner value of shim frames, or -1 */
} hs_pystack_layout;

/* ---- one frame, for the engine's fast paths (pystack.c walks with them) ---- */

/* 3.11 and 3.12: the static layouts, so the offsets fold into the
 * instructions; 3.13 reads them from the layout filled at start. */
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
#include "../sampler/py311.h"
#define HS_PYSTACK_FIXED hs_layout_311
#elif PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
#include "../sampler/py312.h"
#define HS_PYSTACK_FIXED hs_layout_312
#endif
#ifdef HS_PYSTACK_FIXED
#define HS_OFF_PREVIOUS(l) ((void)(l), HS_PYSTACK_FIXED.frame_previous)
#define HS_OFF_CODE(l) ((void)(l), HS_PYSTACK_FIXED.frame_code)
#define HS_OFF_INSTR(l) ((void)(l), HS_PYSTACK_FIXED.frame_instr)
#define HS_OFF_OWNER(l) ((void)(l), HS_PYSTACK_FIXED.frame_owner)
#define HS_OFF_ADAPTIVE(l) ((void)(l), HS_PYSTACK_FIXED.code_code_adaptive)
#define HS_OWNED_BY_CSTACK(l) ((void)(l), HS_PYSTACK_FIXED.owned_by_cstack)
#else
#define HS_OFF_PREVIOUS(l) ((l)->previous)
#define HS_OFF_CODE(l) ((l)->code)
#define HS_OFF_INSTR(l) ((l)->instr)
#define HS_OFF_OWNER(l) ((l)->owner)
#define HS_OFF_ADAPTIVE(l) ((l)->code_adaptive)
#define HS_OWNED_BY_CSTACK(l) ((l)->owned_by_cstack)
#endif

static inline uintptr_t hs_pystack_word(uintptr_t base, int64_t off) {
    uintptr_t v;
    memcpy(&v, (const char *)base + off, sizeof v);
    return v;
}

/* The thread's innermost frame (its struct's address), 0 when none. */
static inline uintptr_t hs_pystack_top(PyThreadState *tstate) {
#if PY_VERSION_HEX >= 0x030D0000
    return (uintptr_t)tstate->current_frame;
#elif PY_VERSION_HEX >= 0x030B0000
    return tstate->cframe ? (uintptr_t)tstate->cframe->current_frame : 0;
#else
    return (uintptr_t)tstate->frame;
#endif
}

static inline uintptr_t hs_pystack_code(const hs_pystack_layout *l, uintptr_t frame) {
#if PY_VERSION_HEX >= 0x030B0000
    return hs_pystack_word(frame, HS_OFF_CODE(l));
#else
    (void)l;
    return (uintptr_t)((PyFrameObject *)frame)->f_code;
#endif
}

static inline uintptr_t hs_pystack_previous(const hs_pystack_layout *l, uintptr_t frame) {
#if PY_VERSION_HEX >= 0x030B0000
    return hs_pystack_word(frame, HS_OFF_PREVIOUS(l));
#else
    (void)l;
    return (uintptr_t)((PyFrameObject *)frame)->f_back;
#endif
}

/* Whether the frame is a shim owned by the C stack (3.12+), with no code
 * of its own to show. */
static inline int hs_pystack_is_shim(const hs_pystack_layout *l, uintptr_t frame) {
#if PY_VERSION_HEX >= 0x030B0000
    return HS_OWNED_BY_CSTACK(l) >= 0 &&
           ((const uint8_t *)frame)[HS_OFF_OWNER(l)] == HS_OWNED_BY_CSTACK(l);
#else
    (void)l, (void)frame;
    return 0;
#endif
}

/* The frame's instruction offset in bytes in `code` (its code object),
 * -1 before its first instruction. */
static inline int32_t hs_pystack_offset(const hs_pystack_layout *l, uintptr_t frame, uintptr_t code) {
#if PY_VERSION_HEX >= 0x030B0000
    uintptr_t instr = hs_pystack_word(frame, HS_OFF_INSTR(l));
    uintptr_t start = code + (uintptr_t)HS_OFF_ADAPTIVE(l);
    /* prev_instr is one before the first instruction until the frame runs */
    return instr >= start && instr - start < (1u << 30) ? (int32_t)(instr - start) : -1;
#else
    (void)l, (void)code;
    int lasti = ((PyFrameObject *)frame)->f_lasti;
    return lasti >= 0 ? lasti * 2 : -1;
#endif
}

/* Whether the frame's instruction is at `offset` in `code` (its code
 * object): hs_pystack_offset(l, frame, code) == offset, with one compare
 * for an offset of 0 or more. */
static inline int hs_pystack_at(const hs_pystack_layout *l, uintptr_t frame, uintptr_t code,
                                int32_t offset) {
#if PY_VERSION_HEX >= 0x030B0000
    if (offset >= 0)
        return hs_pystack_word(frame, HS_OFF_INSTR(l)) == code + (uintptr_t)HS_OFF_ADAPTIVE(l) + (uintptr_t)offset;
#endif
    return hs_pystack_offset(l, frame, code) == offset;
}

/* Fills the layout for the running interpreter. 0, or -1 with a one-line
 * message in err. */
int hs_pystack_layout_init(hs_pystack_layout *l, char *err, size_t errlen);

/* Walks `tstate`'s frames into *buf (grown with libc realloc as needed),
 * leaf first, at most `max` of them; returns how many, or (size_t)-1 when
 * the buffer cannot grow. Must run on the thread that owns `tstate` or
 * with the GIL held. */
size_t hs_pystack_walk(const hs_pystack_layout *l, PyThreadState *tstate, hs_frame_key **buf,
                       size_t *cap, size_t max);

/* Like hs_pystack_walk, but stops after the frame whose struct is at
 * `stop` (the last one returned is that frame, when it is on the stack). */
size_t hs_pystack_walk_until(const hs_pystack_layout *l, PyThreadState *tstate, uintptr_t stop,
                             hs_frame_key **buf, size_t *cap);

/* Like hs_pystack_walk over the whole stack, but keeps only the frames
 * whose code object address has bit (address >> 4) & 63 set in `filter`
 * (a one-word Bloom filter of the code objects wanted): the caller checks
 * the few frames kept, and a stack without them costs the walk alone. */
size_t hs_pystack_walk_matching(const hs_pystack_layout *l, PyThreadState *tstate, uint64_t filter,
                                hs_frame_key **buf, size_t *cap);

/* The number of Python frames on `tstate`'s stack, as the interpreter
 * counts them for its recursion limit (3.12+: each frame entering the
 * eval loop counts, shim frames do not), or -1 where not known. */
static inline int hs_pystack_depth(PyThreadState *tstate) {
#if PY_VERSION_HEX >= 0x030C0000
    return tstate->py_recursion_limit - tstate->py_recursion_remaining;
#else
    (void)tstate;
    return -1;
#endif
}

#endif
