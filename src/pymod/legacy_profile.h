/*
 * legacy_profile.h - installing a C profile function in every thread
 * before Python 3.12, shared by the tracer (src/tracer/hooks_legacy.c) and
 * the line profiler (src/lines/hooks_legacy.c).
 *
 * A profile function belongs to one thread, so:
 *   - the calling thread gets it with PyEval_SetProfile;
 *   - threads already running get it with _PyEval_SetProfile(tstate, ...),
 *     as the interpreter allows while we hold the GIL;
 *   - threads started later get it from threading.setprofile(): the
 *     threading module calls sys.setprofile(hook) in each new thread, and
 *     our hook (a builtin that calls PyEval_SetProfile in that thread)
 *     replaces itself there, and passes on the first event, the new
 *     thread's first call, to the profile function.
 */
#ifndef HOTSCOPE_LEGACY_PROFILE_H
#define HOTSCOPE_LEGACY_PROFILE_H

#include "../compat.h"

#if !HS_HAVE_MONITORING

/* Installs `func` with `obj` everywhere. `*thread_hook` holds the
 * threading hook made for (func, obj), created on first use; `*saved_hook`
 * receives the threading module's previous per-thread hook, to give back
 * on removal.
 * Refuses (ValueError, nothing installed) when this thread already has a
 * profile function: another profiler is running. `what` names the engine
 * in that message. Returns 0 or -1. */
int hs_legacy_profile_install(Py_tracefunc func, PyObject *obj, PyObject **thread_hook,
                              PyObject **saved_hook, const char *what);

/* Removes `func`/`obj` from every thread that has it and restores the
 * threading hook. Warns (RuntimeWarning) if the program replaced it in
 * the calling thread. Returns 0 or -1. */
int hs_legacy_profile_remove(Py_tracefunc func, PyObject *obj, PyObject **saved_hook);

#endif
#endif
