/*
 * tracer.h - the deterministic tracer as a Python object (hotscope._core.Tracer)
 * and the two event handlers every interpreter hook calls.
 *
 * The hooks differ by Python version (hooks_monitoring.c for sys.monitoring
 * on 3.12+, hooks_legacy.c for PyEval_SetProfile before) but both reduce an
 * event to "enter key" or "leave key", where the key is the code object of a
 * Python function or the PyMethodDef of a C function: the same keys cProfile
 * (Modules/_lsprof.c) uses, so our functions are its functions.
 *
 * Per-thread state is found through a small thread-local cache keyed by
 * the tracer's unique id, so two tracers and many threads never share it.
 */
#ifndef HOTSCOPE_TRACER_H
#define HOTSCOPE_TRACER_H

#include "../compat.h"
#include "async_tasks.h"
#include "calltree.h"
#include "slow_calls.h"

typedef enum {
    HS_CALLEE_CODE = 0,   /* obj is a code object */
    HS_CALLEE_CFUNC = 1,  /* obj is a PyCFunctionObject */
    HS_CALLEE_DESCR = 2,  /* obj is a method descriptor called on self_arg */
} hs_callee_kind;

typedef struct {
    PyObject_HEAD
    hs_calltree ct;
    uint64_t uid;          /* never reused: keys the thread-local cache */
    uint64_t fast_uid;     /* uid while the fast paths may run, else
                            * HS_UID_NEVER (hs_tracer_fast_update) */
    int ready;             /* ct initialised */
    int enabled;
    int builtins;          /* record C functions too */
    int asyncio;           /* asyncio tasks get roots of their own */
    int async_flags;       /* HS_ASYNC_CODE_FLAGS while coroutine frames take
                            * async_tasks.c's path (asyncio or slow calls), else 0 */
    hs_async_state async;
    int default_clock;     /* HS_W_WALL_NS or HS_W_CPU_NS, for reports */
    PyObject *keepalive;   /* list: every object whose address is a key */
    PyObject *stats;       /* the pstats dict, after create_stats() */
    PyObject *weakreflist;
    int64_t enabled_ns;    /* monotonic time of the first enable, for metadata */
    int64_t traced_ns;     /* wall time spent enabled, over all enable/disable */
    int64_t enable_mark_ns;
    /* sys.monitoring (3.12+) */
    int tool_id;
    PyObject *missing;     /* sys.monitoring.MISSING */
    /* PyEval_SetProfile (before 3.12) */
    PyObject *thread_hook; /* installs the profile function in new threads */
    PyObject *saved_thread_hook;
    PyTypeObject *profile_type; /* hotscope._core.ProfileData, for snapshots */
    /* cyclic garbage collections (gc_hook.c) */
    int record_gc;         /* show collections as [gc] frames */
    PyObject *gc_callback; /* our entry in gc.callbacks */
    int gc_open;           /* a collection began while tracing and has not ended */
    const void *gc_keys[2];/* the keys of its [gc] and [gc] gen N frames */
    uint64_t gc_start_ticks;
    int64_t gc_collections[3]; /* per generation */
    int64_t gc_collected;  /* unreachable objects found */
    int64_t gc_wall_ticks; /* wall time inside collections */
    /* the slowest calls of each function (slow_calls.c) */
    int slow_n;            /* calls kept per function; 0: off */
    PyObject *slow_describe; /* callable(frame) -> str: the arguments as text */
    PyObject *slow_only;   /* list of the code objects watched; NULL: every function */
    hs_slow_table slow;
} TracerObject;

/* ---- provided by tracer_type.c ---------------------------------------- */
/* No tracer has this uid (they count up from 1; a free thread-cache slot
 * holds 0). */
#define HS_UID_NEVER UINT64_MAX
/* Sets fast_uid: the uid when the ticks are TSC cycles and no slow calls
 * are watched (the fast paths' conditions that do not change per event),
 * else HS_UID_NEVER, so one comparison with the thread cache tests all. */
void hs_tracer_fast_update(TracerObject *self);
hs_tthread *hs_tracer_thread_slow(TracerObject *self);
uint32_t hs_tracer_new_path(TracerObject *self, hs_tthread *t, const void *key,
                            PyObject *obj, hs_callee_kind kind, PyObject *self_arg);

/* ---- provided by labels.c --------------------------------------------- */
/* cProfile's label for a C function, as a new str; NULL with an error set. */
PyObject *hs_cfunc_label(PyCFunctionObject *fn);
PyObject *hs_descr_label(PyMethodDescrObject *descr, PyObject *self_arg);
/* UTF-8 copy of a str (surrogates escaped), malloc'ed; NULL on failure. */
char *hs_utf8_dup(PyObject *s);

/* ---- provided by gc_hook.c --------------------------------------------- */
struct hs_profile;
/* Adds / removes the tracer's callback in gc.callbacks (nothing when
 * record_gc is off). 0, or -1 with an exception. */
int hs_gc_hook_install(TracerObject *self);
int hs_gc_hook_remove(TracerObject *self);
/* Forgets the collections counted so far. */
void hs_gc_clear(TracerObject *self);
/* Metadata gc_collections ("gen0 gen1 gen2"), gc_collected, gc_wall_ns. */
void hs_gc_add_metadata(TracerObject *self, struct hs_profile *p);

/* ---- provided by slow_calls.c ------------------------------------------ */
/* A return from `key` at `now`, before it is popped: keeps the call if it
 * is among the slowest of its function. */
void hs_slow_leave(TracerObject *self, hs_tthread *t, const void *key, uint64_t now);
/* The kept calls, into the model; `func_frames` maps functions to frames.
 * 0 or -1 (out of memory). */
int hs_slow_export(TracerObject *self, struct hs_profile *p, const uint32_t *func_frames);
/* A coroutine frame's first step, just pushed on the thread's stack at
 * `now`; `frame` NULL for the running frame. Its slow call runs from here
 * to hs_slow_coro_leave: its waits at awaits included. */
void hs_slow_coro_start(TracerObject *self, hs_tthread *t, PyFrameObject *frame, uint64_t now);
/* The coroutine frame on top of the stack (`key`) ends at `now` (a return
 * or an exception, not a yield), before it is popped. */
void hs_slow_coro_leave(TracerObject *self, hs_tthread *t, const void *key, PyFrameObject *frame,
                        uint64_t now);
/* Tracer.watch_slow_calls(n, describe=None, only=None). */
PyObject *hs_slow_watch(TracerObject *self, PyObject *args, PyObject *kwds);

/* ---- provided by async_tasks.c ---------------------------------------- */
/* The events of a frame whose code has one of self->async_flags, in
 * place of hs_tracer_enter / hs_tracer_leave. `first`: the frame starts
 * (its first step, not a resume). `value` is what the frame yields or
 * returns (identity only); `offset`, where in the code it yields, in
 * bytes. `frame` is the frame object when the hook has it, NULL for the
 * running frame (looked up only when a slow call needs it). */
void hs_async_enter(TracerObject *self, PyCodeObject *code, int first, PyFrameObject *frame);
void hs_async_leave(TracerObject *self, PyCodeObject *code, PyObject *value, int yielded,
                    int offset, PyFrameObject *frame);
/* Tracing stops: waits still open are charged up to now, tasks forgotten. */
void hs_async_stop(TracerObject *self);
/* Forgets every task (clear(), dealloc). */
void hs_async_forget(TracerObject *self);
int hs_async_traverse(TracerObject *self, visitproc visit, void *arg);

/* ---- provided by hooks_monitoring.c or hooks_legacy.c ----------------- */
int hs_hooks_install(TracerObject *self);   /* 0, or -1 with an exception */
int hs_hooks_remove(TracerObject *self);    /* 0, or -1 with an exception */

/* ---- the hot path ----------------------------------------------------- */

typedef struct {
    uint64_t uid;
    hs_tthread *thread;
} hs_tls_slot;

#define HS_TLS_SLOTS 4
extern __thread hs_tls_slot hs_tls_threads[HS_TLS_SLOTS]
    __attribute__((tls_model("initial-exec")));

static inline hs_tthread *hs_tracer_thread(TracerObject *self) {
    if (hs_tls_threads[0].uid == self->uid)
        return hs_tls_threads[0].thread;
    return hs_tracer_thread_slow(self);
}

/* hs_tracer_enter / hs_tracer_leave in their common case (calltree.h,
 * hs_ct_enter_fast): 1 when done, 0 having changed nothing when the caller
 * must call the general function: the thread is not first in the
 * thread-local cache, the ticks are not TSC cycles (read here inline: a
 * call of clock_gettime would cost the fast path its leaf form), slow
 * calls are watched (fast_uid covers these three), or calltree.h's rare
 * cases. When the general function follows, it reads the clock again: the
 * fast path's reading is simply dropped, nothing having been charged. */
static inline int hs_tracer_enter_fast(TracerObject *self, const void *key) {
#if HS_HAVE_TSC
    if (hs_tls_threads[0].uid != self->fast_uid)
        return 0;
    return hs_ct_enter_fast(&self->ct, hs_tls_threads[0].thread, key, __rdtsc());
#else
    (void)self;
    (void)key;
    return 0;
#endif
}

static inline int hs_tracer_leave_fast(TracerObject *self, const void *key) {
#if HS_HAVE_TSC
    if (hs_tls_threads[0].uid != self->fast_uid)
        return 0;
    return hs_ct_leave_fast(&self->ct, hs_tls_threads[0].thread, key, __rdtsc());
#else
    (void)self;
    (void)key;
    return 0;
#endif
}

static inline void hs_tracer_enter(TracerObject *self, const void *key, PyObject *obj,
                                   hs_callee_kind kind, PyObject *self_arg) {
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    uint32_t node = hs_ct_lookup(ct, t, key);
    if (node == HS_CT_NONE) {
        node = hs_tracer_new_path(self, t, key, obj, kind, self_arg);
        if (node == HS_CT_NONE)
            return;
    }
    hs_ct_push(t, node, now);
}

static inline void hs_tracer_leave(TracerObject *self, const void *key) {
    hs_tthread *t = hs_tracer_thread(self);
    if (!t)
        return;
    hs_calltree *ct = &self->ct;
    uint64_t now = hs_ticks(&ct->clock);
    hs_ct_charge(ct, t, now);
    if (self->slow_n)
        hs_slow_leave(self, t, key, now);
    hs_ct_pop(ct, t, key);
}

#endif
