/*
 * pydict.h - reading dicts, instance attributes and module globals of
 * another process's Python objects, through pylayout.h: what the sampler
 * needs to find a thread's name (thread_names.c) and the asyncio task a
 * thread runs (async_view.c). Tens of reads per lookup: callers cache what
 * they find and never look up per sample. Any failed read or unexpected
 * type gives "nothing" (0 or -1), never a wrong object.
 */
#ifndef HOTSCOPE_PYDICT_H
#define HOTSCOPE_PYDICT_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

typedef struct {
    uint64_t key, value;
} hs_py_item;

/* Whether the object at obj has the type named `name` (tp_name). */
int hs_py_is_type(const hs_target *t, uint64_t obj, const char *name);

/* The live items of a dict, malloc'ed into *out; their number, or -1. */
long hs_py_dict_items(const hs_target *t, uint64_t dict, hs_py_item **out);

/* The keys of a set's table, malloc'ed into *out; their number, or -1.
 * Dummy entries (left by removals) are in: callers check the keys' type. */
long hs_py_set_keys(const hs_target *t, uint64_t set, uint64_t **out);

/* The value of the str key `name` in a dict, or 0. */
uint64_t hs_py_dict_get(const hs_target *t, uint64_t dict, const char *name);

/* An instance attribute kept in its __dict__ (or managed values), or 0. */
uint64_t hs_py_attr(const hs_target *t, uint64_t obj, const char *name);

/* A non-negative int below 2^64 into *out: 0, or -1. */
int hs_py_u64(const hs_target *t, uint64_t addr, uint64_t *out);

/* sys.modules[module].__dict__[name] of the main interpreter, or 0 (the
 * module not imported, or no such global). */
uint64_t hs_py_module_global(const hs_target *t, const char *module, const char *name);

#endif
