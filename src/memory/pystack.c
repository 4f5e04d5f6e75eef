/*
 * pystack.c - reading the current thread's Python frames in-process (see
 * pystack.h).
 *
 * 3.10: PyFrameObject is public (Include/cpython/frameobject.h): f_back,
 * f_code, and f_lasti as an index in code units. 3.11+: the thread's
 * current _PyInterpreterFrame (tstate->cframe->current_frame in 3.11 and
 * 3.12, tstate->current_frame in 3.13; Include/cpython/pystate.h) chained
 * through `previous`, with a pointer to the executing instruction inside
 * the code object's co_code_adaptive; frames owned by the C stack (3.12+)
 * are shims with no Python code and are skipped. This is the walk
 * tracemalloc does (Modules/_tracemalloc.c, traceback_get_frames), but
 * without calling into the interpreter, whose frame accessors are
 * internal.
 */
#include "pystack.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "../sampler/pylayout.h"
#include "../sampler/proc.h"

int hs_pystack_layout_init(hs_pystack_layout *l, char *err, size_t errlen) {
    memset(l, 0, sizeof *l);
    l->owned_by_cstack = -1;
#if PY_VERSION_HEX >= 0x030B0000 /* 3.11: _PyInterpreterFrame */
    int minor = (PY_VERSION_HEX >> 16) & 0xFF;
    hs_pylayout dynamic;
    const hs_pylayout *pl = hs_pylayout_static(minor);
    if (!pl) {
        /* 3.13+: the interpreter describes itself at the start of _PyRuntime. */
        void *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
        hs_proc self;
        if (!runtime) {
            snprintf(err, errlen, "cannot find _PyRuntime in this interpreter");
            return -1;
        }
        if (hs_proc_open(&self, getpid(), err, errlen) != 0 ||
            hs_pylayout_from_debug_offsets(&self, (uint64_t)(uintptr_t)runtime, &dynamic, err,
                                           errlen) != 0)
            return -1;
        pl = &dynamic;
    }
    l->previous = pl->frame_previous;
    l->code = pl->frame_code;
    l->instr = pl->frame_instr;
    l->owner = pl->frame_owner;
    l->code_adaptive = pl->code_code_adaptive;
    l->owned_by_cstack = pl->owned_by_cstack;
    if (l->previous < 0 || l->code < 0 || l->instr < 0 || l->code_adaptive < 0) {
        snprintf(err, errlen, "the frame layout of Python 3.%d is not known", minor);
        return -1;
    }
#else
    (void)err, (void)errlen;
#endif
    return 0;
}

static int reserve(hs_frame_key **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    hs_frame_key *grown = realloc(*buf, n * sizeof *grown);
    if (!grown)
        return -1;
    *buf = grown;
    *cap = n;
    return 0;
}

/* The walk, keeping the frames whose code address passes `filter` (bit
 * (code >> 4) & 63; all ones keeps every frame) and stopping after the
 * frame at address `stop` (0: none). Inlined into the public walks, so
 * the ones that keep everything pay no filter test. */
static inline __attribute__((always_inline)) size_t
walk(const hs_pystack_layout *l, PyThreadState *tstate, hs_frame_key **buf, size_t *cap, size_t max,
     uint64_t filter, uintptr_t stop) {
    size_t depth = 0;
    for (uintptr_t frame = hs_pystack_top(tstate); frame && depth < max;) {
        uintptr_t code = hs_pystack_code(l, frame);
        uintptr_t previous = hs_pystack_previous(l, frame);
        if (!(filter >> ((code >> 4) & 63) & 1) || hs_pystack_is_shim(l, frame)) {
            frame = previous;
            continue;
        }
        if (depth == *cap && reserve(buf, cap, depth + 1) != 0)
            return (size_t)-1;
        (*buf)[depth++] = (hs_frame_key){code, hs_pystack_offset(l, frame, code), frame};
        if (frame == stop)
            break;
        frame = previous;
    }
    return depth;
}

size_t hs_pystack_walk(const hs_pystack_layout *l, PyThreadState *tstate, hs_frame_key **buf,
                       size_t *cap, size_t max) {
    return walk(l, tstate, buf, cap, max, ~(uint64_t)0, 0);
}

size_t hs_pystack_walk_until(const hs_pystack_layout *l, PyThreadState *tstate, uintptr_t stop,
                             hs_frame_key **buf, size_t *cap) {
    return walk(l, tstate, buf, cap, SIZE_MAX, ~(uint64_t)0, stop);
}

size_t hs_pystack_walk_matching(const hs_pystack_layout *l, PyThreadState *tstate, uint64_t filter,
                                hs_frame_key **buf, size_t *cap) {
    return walk(l, tstate, buf, cap, SIZE_MAX, filter, 0);
}
