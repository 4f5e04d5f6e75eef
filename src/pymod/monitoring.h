/*
 * monitoring.h - what the in-process engines share to use sys.monitoring
 * (PEP 669, Python 3.12+): callback objects with their own vectorcall slot,
 * claiming a tool id, and registering/unregistering callbacks.
 *
 * The tracer (src/tracer/hooks_monitoring.c) and the line profiler
 * (src/lines/hooks_monitoring.c) both register C callbacks; each callback
 * is a small object holding the engine that owns it.
 */
#ifndef HOTSCOPE_MONITORING_H
#define HOTSCOPE_MONITORING_H

#include "../compat.h"

#if HS_HAVE_MONITORING

/* A sys.monitoring callback: the interpreter calls `vectorcall` directly,
 * skipping the recursion-depth bookkeeping of a builtin function's call,
 * which is measurable at several callbacks per Python call. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *owner; /* the engine object the callback reports to */
} hs_hook_object;

#define HS_HOOK_OWNER(callable) (((hs_hook_object *)(callable))->owner)

PyTypeObject *hs_hook_type_new(PyObject *module);
/* A new callback calling `func` with `owner` reachable through
 * HS_HOOK_OWNER; `owner_type` is any type of this module (for its state). */
PyObject *hs_hook_new(PyTypeObject *owner_type, vectorcallfunc func, PyObject *owner);

/* sys.monitoring (borrowed), or NULL with an exception set. */
PyObject *hs_monitoring_module(void);
/* The bit of sys.monitoring.events.<name>, or -1 with an exception set. */
long hs_monitoring_event_bit(PyObject *mon, const char *name);
/* Claims a free tool id for hotscope; -1 with ValueError when another
 * hotscope engine is active or no id is free. */
int hs_monitoring_claim_tool(PyObject *mon);
/* Unregisters the callbacks of the named events, clears the tool's global
 * events and frees the id. Returns 0, or -1 with an exception set (the
 * release goes as far as it can). */
int hs_monitoring_release(PyObject *mon, int tool, const char *const *events, size_t n_events);

#endif
#endif
