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

#include <stddef.h>
#include <stdint.h>

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
