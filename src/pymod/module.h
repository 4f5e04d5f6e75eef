/*
 * module.h - what the parts of the extension module hotscope._core share:
 * the module state (its heap types) and each type's constructor.
 * Multi-phase initialisation, module state and heap types, so two
 * interpreters or two imports never share hidden globals.
 */
#ifndef HOTSCOPE_MODULE_H
#define HOTSCOPE_MODULE_H

#include "../compat.h"
#include "../model/model.h"

typedef struct {
    PyTypeObject *tracer_type;
    PyTypeObject *profile_type;
    PyTypeObject *sampler_type;
    PyTypeObject *lines_type;
    PyTypeObject *bench_loop_type; /* the timed loop of hotscope bench */
    PyTypeObject *mem_type;
    PyTypeObject *hook_type;    /* sys.monitoring callbacks; NULL before 3.12 */
} hs_module_state;

extern PyModuleDef hs_module_def;

hs_module_state *hs_state_from_type(PyTypeObject *type);

PyTypeObject *hs_tracer_type_new(PyObject *module);
PyTypeObject *hs_profile_type_new(PyObject *module);
PyTypeObject *hs_sampler_type_new(PyObject *module);
PyTypeObject *hs_lines_type_new(PyObject *module);
PyTypeObject *hs_mem_type_new(PyObject *module);

/* Wraps a profile (taking ownership) in a new ProfileData object. */
PyObject *hs_profile_data_new(PyTypeObject *type, hs_profile *profile);

/* pd_pprof.c: ProfileData.pprof() and _core.load_pprof(). */
PyObject *hs_pd_pprof(PyObject *self, PyObject *unused);
PyObject *hs_load_pprof(PyObject *module, PyObject *data);

/* ---- ProfileData methods defined outside profile_type.c (pd_*.c) ---------- */

#include "../model/buf.h"

/* The profile inside a ProfileData object (no type check). */
hs_profile *hs_profile_data_get(PyObject *obj);
/* profile_type.c's argument helpers: clock= (wall, cpu, samples, calls or a
 * memory weight),
 * thread=None|index, and a rendered buffer as str or bytes (freed). */
int hs_py_parse_clock(PyObject *clock, hs_weight *out);
int hs_py_parse_thread(const hs_profile *p, PyObject *thread, hs_id *out);
PyObject *hs_py_buf_result(hs_buf *buf, int status, const char *err, int as_text);
/* An hs_buf whose storage is a Python bytes object, for a renderer whose
 * output hs_py_buf_result returns as bytes: no copy of a big output. */
void hs_py_bytes_buf_init(hs_buf *b);
/* Raises ValueError(msg), or ValueError(fallback) when msg is empty. The
 * message may quote bytes of a file being read, or be cut in the middle of
 * a UTF-8 sequence: it is decoded with errors="replace", so the error is
 * never lost to a decoding failure. Returns NULL. */
PyObject *hs_py_value_error(const char *msg, const char *fallback);

/* pd_text_tree.c */
PyObject *hs_pd_text_tree(PyObject *self, PyObject *args, PyObject *kwds);
#define HS_PD_TEXT_TREE_DOC                                                                         \
    "text_tree(thread=None, clock='wall', min_percent=1.0, show_all=False, color=False,\n"         \
    "          unicode=True) -> str: the pyinstrument-style tree, library frames collapsed"

/* pd_slow.c */
PyObject *hs_pd_slow_calls(PyObject *self, PyObject *unused);
PyObject *hs_pd_slow_calls_text(PyObject *self, PyObject *args, PyObject *kwds);

/* pd_threads.c */
PyObject *hs_pd_merge_threads(PyObject *self, PyObject *unused);

/* pd_dot.c */
PyObject *hs_pd_dot(PyObject *self, PyObject *args, PyObject *kwds);
#define HS_PD_DOT_DOC                                                                               \
    "dot(thread=None, clock='wall', node_threshold=0.5, edge_threshold=0.1) -> str:\n"             \
    "the call graph in Graphviz's DOT language"

/* pd_diff.c: hotscope._core.diff() */
PyObject *hs_py_diff(PyObject *module, PyObject *args, PyObject *kwds);
#define HS_PY_DIFF_DOC                                                                              \
    "diff(before, after, clock='wall', format='figures', limit=0, title=None, icicle=False):\n"   \
    "AFTER compared with BEFORE, paths matched by function. format: 'figures' (dict of totals\n"  \
    "and per-function rows, largest self change first), 'text' (the table), 'svg' (differential\n" \
    "flame graph; icicle: top-down), 'html' (both), 'profile' (the merged tree with AFTER's\n"   \
    "weights, as a ProfileData)."

/* pd_readers.c: _core.load() and ProfileData.speedscope(). */
PyObject *hs_load(PyObject *module, PyObject *args);
PyObject *hs_pd_speedscope(PyObject *self, PyObject *args, PyObject *kwds);

/* pd_focus.c */
PyObject *hs_pd_focus(PyObject *self, PyObject *args, PyObject *kwds);
#define HS_PD_FOCUS_DOC                                                                             \
    "focus(name, file=None, whole_threads=()) -> ProfileData: only the call paths through the\n"  \
    "function `name` (in `file`, when given), each starting at its outermost call under its\n"   \
    "thread; threads that never ran it are left out, except those whose ident is in\n"          \
    "whole_threads, which are kept entire"

/* pd_merge.c: hotscope._core.merge() */
PyObject *hs_py_merge(PyObject *module, PyObject *profiles);

/* ProfileData.svg() and .html() (pd_flame.c). */
PyObject *hs_pd_svg(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *hs_pd_html(PyObject *self, PyObject *args, PyObject *kwds);

#endif
