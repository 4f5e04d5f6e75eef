/*
 * mem_evalhook.h - before 3.12 (no sys.monitoring): frame entries and
 * exits seen through the interpreter's frame evaluation function (PEP
 * 523), so that an allocation reads only the frames that may have changed
 * since the thread's last one instead of the whole stack (mem_stack.c,
 * hooked_stack_node).
 *
 * The hook wraps _PyEval_EvalFrameDefault: each call evaluates one frame
 * (a new one, or a generator resumed) and returns when that frame
 * returns, yields or unwinds. Per thread it counts its calls running
 * ("levels", 1 = the outermost), keeps the lowest count reached since the
 * memory engine last read the stack, and notes the frame each call
 * evaluates in a ring of slots, slot[level % HS_EVAL_SLOTS] = (level,
 * frame), so a slot still names its level's call while no deeper call
 * HS_EVAL_SLOTS levels up has overwritten it.
 *
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
 *
 * The state is the thread's, not an engine's (calls that entered the hook
 * keep leaving through it after an engine stopped; a fixed array, so
 * nothing to free); an engine notes itself as the reader that last reset
 * the mark.
 */
#ifndef HOTSCOPE_MEM_EVALHOOK_H
#define HOTSCOPE_MEM_EVALHOOK_H

#include "../compat.h"

#include <stdint.h>

/* The frame evaluation hook is used before 3.12. */
#if PY_VERSION_HEX < 0x030C0000
#define HS_HAVE_EVALHOOK 1
#else
#define HS_HAVE_EVALHOOK 0
#endif

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

/* The calling thread's levels. */
hs_eval_levels *hs_evalhook_levels(void);

/* Puts the hook in place on the calling thread's interpreter (GIL held):
 * 1, or 0 when that interpreter already has an evaluation function other
 * than the default one (a debugger's, left alone), or from 3.12 on. */
int hs_evalhook_install(void);
/* Puts the default evaluation function back if the hook is still the
 * interpreter's (GIL held). */
void hs_evalhook_uninstall(void);

#endif
