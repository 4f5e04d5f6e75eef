/*
 * thread_names.h - the Python name of a thread of a target process
 * (threading.Thread.name, e.g. "worker-alpha"), read from outside:
 * sys.modules["threading"]._active is a dict {ident: Thread} and each
 * Thread keeps its name in the attribute _name.
 *
 * That means reading dicts (PyDictObject and its keys, in the layout of
 * each version) and an instance's attributes (a __dict__, or a managed
 * dict's split values), all through pylayout.h. It costs tens of reads, so
 * the sampler asks only when it meets a thread it has not named yet, never
 * per sample. Any read that fails or any object of an unexpected type
 * means "no name" (the caller falls back to Thread-<tid>).
 */
#ifndef HOTSCOPE_THREAD_NAMES_H
#define HOTSCOPE_THREAD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

/* The name of the thread whose threading.get_ident() is `ident`, as UTF-8
 * into out. *active caches the address of threading._active between calls
 * (0 at first; reset to 0 when it stops reading as a dict). Returns 0, or
 * -1 when the name cannot be read (threading not imported, a thread that
 * is not in _active yet, a torn read). */
int hs_thread_python_name(const hs_target *t, uint64_t *active, uint64_t ident, char *out,
                          size_t outlen);

#endif
