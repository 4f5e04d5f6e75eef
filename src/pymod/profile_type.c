/*
 * profile_type.c - hotscope._core.ProfileData: a profile model (model.h)
 * seen from Python. Every report is rendered here by the C renderers of
 * src/render/; Python only picks the format and writes the bytes.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../render/render.h"
#include "pd_mem.h"

typedef struct {
    PyObject_HEAD
    hs_profile *profile;
} ProfileDataObject;

PyObject *hs_profile_data_new(PyTypeObject *type, hs_profile *profile) {
    ProfileDataObject *self = PyObject_GC_New(ProfileDataObject, type);
    if (!self) {
        hs_profile_free(profile);
        return NULL;
    }
    self->profile = profile;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* ---- argument helpers ---------------------------------------------------- */

static int parse_clock(PyObject *clock, hs_weight *out) {
    if (!clock || clock == Py_None || (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "wall") == 0)) {
        *out = HS_W_WALL_NS;
        return 0;
    }
    if (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "cpu") == 0) {
        *out = HS_W_CPU_NS;
        return 0;
    }
    if (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "samples") == 0) {
        *out = HS_W_SAMPLES;
        return 0;
    }
    if (PyUnicode_Check(clock) && PyUnicode_CompareWithASCIIString(clock, "calls") == 0) {
        *out = HS_W_CALLS;
        return 0;
    }
    static const struct { const char *name; hs_weight w; } memory[] = {
        {"bytes", HS_W_BYTES}, {"allocs", HS_W_ALLOCS}, {"peak_bytes", HS_W_PEAK_BYTES},
        {"peak_allocs", HS_W_PEAK_ALLOCS}, {"leak_bytes", HS_W_LEAK_BYTES}, {"leak_allocs", HS_W_LEAK_ALLOCS}};
    for (size_t i = 0; PyUnicode_Check(clock) && i < sizeof memory / sizeof memory[0]; i++) {
        if (PyUnicode_CompareWithASCIIString(clock, memory[i].name) == 0) {
            *out = memory[i].w;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "clock must be 'wall', 'cpu', 'samples', 'calls' or a memory weight "
                 "(bytes, allocs, peak_bytes, peak_allocs, leak_bytes, leak_allocs), not %R", clock);
    return -1;
}

/* thread=None: every thread; an int: that thread's index in threads(). */
static int parse_subtree(const hs_profile *p, PyObject *thread, hs_id *out) {
    if (!thread || thread == Py_None) {
        *out = HS_ROOT;
        return 0;
    }
    Py_ssize_t index = PyLong_AsSsize_t(thread);
    if (index == -1 && PyErr_Occurred())
        return -1;
    if (index < 0 || (size_t)index >= p->thread_count) {
        PyErr_Format(PyExc_IndexError, "no thread %zd: this profile has %zu", index, p->thread_count);
        return -1;
    }
    *out = p->threads[index].root;
    return 0;
}

PyObject *hs_py_value_error(const char *msg, const char *fallback) {
    const char *text = msg && msg[0] ? msg : fallback;
    PyObject *value = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    if (value) {
        PyErr_SetObject(PyExc_ValueError, value);
        Py_DECREF(value);
    }
    return NULL;
}

/* hs_buf storage in a Python bytes object (buf.h): a renderer writes
 * where the result will live, and the bytes need no copy at the end. The
 * GIL is held while renderers run (they may read the model set_meta
 * changes), so growing a Python object there is allowed. */
static char *grow_bytes(hs_buf *b, size_t cap) {
    PyObject *bytes = b->owner;
    if (cap > (size_t)PY_SSIZE_T_MAX - 1)
        return NULL;
    if (bytes == NULL)
        bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    else if (_PyBytes_Resize(&bytes, (Py_ssize_t)cap) != 0)
        bytes = NULL; /* freed by _PyBytes_Resize */
    b->owner = bytes;
    if (bytes == NULL) {
        PyErr_Clear(); /* the buffer fails; buf_result raises MemoryError */
        return NULL;
    }
    return PyBytes_AS_STRING(bytes);
}

void hs_py_bytes_buf_init(hs_buf *b) {
    hs_buf_init(b);
    b->grow = grow_bytes;
}

static PyObject *buf_result(hs_buf *buf, int status, const char *err, int as_text) {
    PyObject *result = NULL;
    PyObject *bytes = buf->grow == grow_bytes ? buf->owner : NULL;
    if (status != 0) {
        hs_py_value_error(err, "rendering failed");
    } else if (buf->failed) {
        PyErr_NoMemory();
    } else if (as_text) {
        result = PyUnicode_DecodeUTF8(buf->data ? buf->data : "", (Py_ssize_t)buf->len, "replace");
    } else if (bytes) {
        /* Shrink to the length: realloc, in place for big blocks. */
        if (_PyBytes_Resize(&bytes, (Py_ssize_t)buf->len) == 0)
            result = bytes;
        bytes = NULL; /* now the result, or freed */
    } else {
        result = PyBytes_FromStringAndSize(buf->data ? buf->data : "", (Py_ssize_t)buf->len);
    }
    Py_XDECREF(bytes);
    hs_buf_free(buf);
    return result;
}

/* ---- renderers ------------------------------------------------------------ */

static PyObject *pd_table(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"sort", "limit", "thread", "clock", "callers", "extra", "waiting", NULL};
    PyObject *sort = Py_None, *thread = Py_None, *clock = Py_None;
    long limit = 0;
    int callers = 0, extra = 1, waiting = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OlOOppp:table", kwlist, &sort, &limit, &thread,
                                     &clock, &callers, &extra, &waiting))
        return NULL;
    hs_table_opts opts;
    memset(&opts, 0, sizeof opts);
    if (parse_subtree(self->profile, thread, &opts.subtree) < 0 || parse_clock(clock, &opts.time_weight) < 0)
        return NULL;
    opts.other_weight = HS_W_COUNT;
    if (extra && (self->profile->weights_present & (1u << HS_W_WALL_NS)) &&
        (self->profile->weights_present & (1u << HS_W_CPU_NS)))
        opts.other_weight = opts.time_weight == HS_W_WALL_NS ? HS_W_CPU_NS : HS_W_WALL_NS;
    opts.limit = limit;
    opts.show_callers = callers;
    opts.show_waiting = extra && waiting;
    PyObject *keys = NULL;
    if (sort != Py_None) {
        keys = PyUnicode_Check(sort) ? PyTuple_Pack(1, sort) : PySequence_Tuple(sort);
        if (!keys)
            return NULL;
        Py_ssize_t n = PyTuple_GET_SIZE(keys);
        if (n >= HS_MAX_SORT_KEYS) {
            Py_DECREF(keys);
            PyErr_SetString(PyExc_ValueError, "too many sort keys");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *key = PyTuple_GET_ITEM(keys, i);
            opts.sort_keys[i] = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
            if (!opts.sort_keys[i]) {
                Py_DECREF(keys);
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "sort keys must be strings");
                return NULL;
            }
        }
    }
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_pstats_table(self->profile, &opts, &buf, err);
    Py_XDECREF(keys);
    return buf_result(&buf, status, err, 1);
}

static PyObject *pd_tree(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", "min_percent", "max_depth", "unicode", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    double min_percent = 0.5;
    Py_ssize_t max_depth = 0;
    int unicode = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOdnp:tree", kwlist, &thread, &clock, &min_percent,
                                     &max_depth, &unicode))
        return NULL;
    hs_tree_opts opts;
    memset(&opts, 0, sizeof opts);
    if (parse_subtree(self->profile, thread, &opts.subtree) < 0 || parse_clock(clock, &opts.weight) < 0)
        return NULL;
    opts.min_percent = min_percent;
    opts.max_depth = max_depth > 0 ? (size_t)max_depth : 0;
    opts.unicode = unicode;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_call_tree(self->profile, &opts, &buf, err);
    return buf_result(&buf, status, err, 1);
}

static PyObject *pd_top(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", "limit", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    long limit = 0;
    hs_id subtree;
    hs_weight weight;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOl:top", kwlist, &thread, &clock, &limit) ||
        parse_subtree(self->profile, thread, &subtree) < 0 || parse_clock(clock, &weight) < 0)
        return NULL;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_top(self->profile, subtree, weight, limit, &buf, err);
    return buf_result(&buf, status, err, 1);
}

static PyObject *pd_collapsed(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"clock", NULL};
    PyObject *clock = Py_None;
    hs_weight weight;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:collapsed", kwlist, &clock) || parse_clock(clock, &weight) < 0)
        return NULL;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_collapsed(self->profile, weight, &buf, err);
    return buf_result(&buf, status, err, 0);
}

static PyObject *pd_prof(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    hs_id subtree;
    hs_weight weight;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:prof", kwlist, &thread, &clock) ||
        parse_subtree(self->profile, thread, &subtree) < 0 || parse_clock(clock, &weight) < 0)
        return NULL;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_pstats_marshal(self->profile, subtree, weight, &buf, err);
    return buf_result(&buf, status, err, 0);
}

/* ---- the pstats dictionary ----------------------------------------------- */

static PyObject *str_of(const hs_profile *p, hs_id id) {
    size_t len;
    const char *s = hs_str(p, id, &len);
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "surrogateescape");
}

/* cProfile's key of a function: (file, first line, co_name); the model
 * keeps qualified names, whose last dotted part is co_name. */
static PyObject *pstats_key(const hs_profile *p, hs_id function) {
    const hs_frame *f = hs_frame_get(p, function);
    size_t len;
    const char *s = hs_pstats_name(p, function, &len);
    PyObject *name = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "surrogateescape");
    PyObject *file = str_of(p, f->file);
    PyObject *key = NULL;
    if (name && file)
        key = Py_BuildValue("(NiN)", file, (int)f->first_line, name);
    else {
        Py_XDECREF(name);
        Py_XDECREF(file);
    }
    return key;
}

static PyObject *pd_pstats(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"thread", "clock", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    hs_id subtree;
    hs_weight w;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:pstats", kwlist, &thread, &clock) ||
        parse_subtree(self->profile, thread, &subtree) < 0 || parse_clock(clock, &w) < 0)
        return NULL;
    hs_profile *p = self->profile;
    hs_stats st;
    if (hs_stats_compute(p, subtree, w, &st) != 0)
        return PyErr_NoMemory();
    PyObject *result = PyDict_New();
    PyObject **keys = calloc(st.func_count ? st.func_count : 1, sizeof *keys);
    PyObject **callers = calloc(st.func_count ? st.func_count : 1, sizeof *callers);
    size_t *index_of = malloc((p->frame_count ? p->frame_count : 1) * sizeof *index_of);
    if (!result || !keys || !callers || !index_of)
        goto fail;
    for (size_t i = 0; i < st.func_count; i++) {
        const hs_func_stats *f = &st.funcs[i];
        index_of[f->function] = i;
        keys[i] = pstats_key(p, f->function);
        callers[i] = PyDict_New();
        if (!keys[i] || !callers[i])
            goto fail;
        PyObject *value = Py_BuildValue("(LLddO)", (long long)f->primitive_calls, (long long)f->calls,
                                        f->self[w] / 1e9, f->total[w] / 1e9, callers[i]);
        if (!value || PyDict_SetItem(result, keys[i], value) < 0) {
            Py_XDECREF(value);
            goto fail;
        }
        Py_DECREF(value);
    }
    for (size_t e = 0; e < st.edge_count; e++) {
        const hs_edge_stats *edge = &st.edges[e];
        PyObject *value = Py_BuildValue("(LLdd)", (long long)edge->calls, (long long)edge->primitive_calls,
                                        edge->self / 1e9, edge->total / 1e9);
        if (!value || PyDict_SetItem(callers[index_of[edge->callee]], keys[index_of[edge->caller]], value) < 0) {
            Py_XDECREF(value);
            goto fail;
        }
        Py_DECREF(value);
    }
    goto done;
fail:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    Py_CLEAR(result);
done:
    for (size_t i = 0; keys && callers && i < st.func_count; i++) {
        Py_XDECREF(keys[i]);
        Py_XDECREF(callers[i]);
    }
    free(keys);
    free(callers);
    free(index_of);
    hs_stats_free(&st);
    return result;
}

/* ---- threads, totals, metadata -------------------------------------------- */

static PyObject *pd_threads(ProfileDataObject *self, PyObject *unused) {
    (void)unused;
    hs_profile *p = self->profile;
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < p->thread_count; i++) {
        const hs_thread *t = &p->threads[i];
        PyObject *name = str_of(p, t->name);
        PyObject *item = name ? Py_BuildValue("{s:n,s:N,s:K,s:K,s:L,s:L}", "index", (Py_ssize_t)i, "name", name,
                                              "ident", (unsigned long long)t->ident, "os_tid",
                                              (unsigned long long)t->os_tid, "wall_ns", (long long)t->wall_ns,
                                              "cpu_ns", (long long)t->cpu_ns)
                              : NULL;
        int64_t counted = 0;
        for (int k = 0; k < HS_GIL_STATE_COUNT; k++)
            counted |= t->gil_states[k];
        if (item && counted) {
            /* the sampler's cpu and gil modes: passes in each state */
            PyObject *states = Py_BuildValue(
                "{s:L,s:L,s:L,s:L,s:L}", "held", (long long)t->gil_states[HS_GIL_HELD], "running",
                (long long)t->gil_states[HS_GIL_RUNNING], "gil_wait", (long long)t->gil_states[HS_GIL_WAIT],
                "lock_wait", (long long)t->gil_states[HS_GIL_LOCK_WAIT], "other_wait",
                (long long)t->gil_states[HS_GIL_OTHER_WAIT]);
            if (!states || PyDict_SetItemString(item, "gil_states", states) < 0)
                Py_CLEAR(item);
            Py_XDECREF(states);
        }
        if (!item || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    return list;
}

static PyObject *pd_total(ProfileDataObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"clock", "thread", NULL};
    PyObject *thread = Py_None, *clock = Py_None;
    hs_id subtree;
    hs_weight w;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:total", kwlist, &clock, &thread) ||
        parse_subtree(self->profile, thread, &subtree) < 0 || parse_clock(clock, &w) < 0)
        return NULL;
    int64_t *totals = malloc(self->profile->node_count * sizeof *totals);
    if (!totals)
        return PyErr_NoMemory();
    hs_node_totals(self->profile, w, totals);
    PyObject *r = PyLong_FromLongLong((long long)totals[subtree]);
    free(totals);
    return r;
}

static PyObject *pd_meta(ProfileDataObject *self, PyObject *unused) {
    (void)unused;
    hs_profile *p = self->profile;
    PyObject *dict = PyDict_New();
    for (size_t i = 0; dict && i < p->meta_count; i++) {
        PyObject *k = str_of(p, p->meta[i].key), *v = str_of(p, p->meta[i].value);
        if (!k || !v || PyDict_SetItem(dict, k, v) < 0)
            Py_CLEAR(dict);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    return dict;
}

static PyObject *pd_set_meta(ProfileDataObject *self, PyObject *args) {
    const char *key, *value;
    if (!PyArg_ParseTuple(args, "ss:set_meta", &key, &value))
        return NULL;
    if (hs_meta_set(self->profile, key, value) != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *pd_json(ProfileDataObject *self, PyObject *unused) {
    (void)unused;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_model_json(self->profile, &buf, err);
    return buf_result(&buf, status, err, 0);
}

static PyObject *pd_lines_text(ProfileDataObject *self, PyObject *unused) {
    (void)unused;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_lines_text(self->profile, &buf, err);
    return buf_result(&buf, status, err, 1);
}

static PyObject *pd_counts(ProfileDataObject *self, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("{s:n,s:n,s:n}", "nodes", (Py_ssize_t)self->profile->node_count, "frames",
                         (Py_ssize_t)self->profile->frame_count, "threads", (Py_ssize_t)self->profile->thread_count);
}

/* ---- for the methods defined in src/pymod/pd_*.c (module.h) --------------- */

hs_profile *hs_profile_data_get(PyObject *obj) {
    return ((ProfileDataObject *)obj)->profile;
}

int hs_py_parse_clock(PyObject *clock, hs_weight *out) {
    return parse_clock(clock, out);
}

int hs_py_parse_thread(const hs_profile *p, PyObject *thread, hs_id *out) {
    return parse_subtree(p, thread, out);
}

PyObject *hs_py_buf_result(hs_buf *buf, int status, const char *err, int as_text) {
    return buf_result(buf, status, err, as_text);
}

static PyMethodDef pd_methods[] = {
    {"table", (PyCFunction)(void (*)(void))pd_table, METH_VARARGS | METH_KEYWORDS,
     "table(sort=None, limit=0, thread=None, clock='wall', callers=False, extra=True, waiting=True) -> str\n"
     "The pstats-style table."},
    {"tree", (PyCFunction)(void (*)(void))pd_tree, METH_VARARGS | METH_KEYWORDS,
     "tree(thread=None, clock='wall', min_percent=0.5, max_depth=0, unicode=True) -> str"},
    {"top", (PyCFunction)(void (*)(void))pd_top, METH_VARARGS | METH_KEYWORDS,
     "top(thread=None, clock='wall', limit=0) -> str: hottest functions by own weight"},
    {"mem_text", (PyCFunction)(void (*)(void))hs_pd_mem_text, METH_VARARGS | METH_KEYWORDS, "mem_text(limit=10) -> str: a memory profile's report"},
    {"mem_rows", (PyCFunction)(void (*)(void))hs_pd_mem_rows, METH_VARARGS | METH_KEYWORDS, "mem_rows(what='allocated'|'peak'|'leaked', by='line'|'stack', sort='bytes'|'count', limit=0) -> [(where, bytes, count)]"},
    {"line_tables", (PyCFunction)hs_pd_line_tables, METH_NOARGS,
     "line_tables() -> {name: [(file, function, first_line, line, value)]}: the per-line figures "
     "of chosen functions (line 0: the function as a whole)"},
    {"lines_text", (PyCFunction)pd_lines_text, METH_NOARGS,
     "lines_text() -> str: a line profile as kernprof's report"},
    {"json", (PyCFunction)pd_json, METH_NOARGS,
     "json() -> bytes: the whole model as hotscope's own JSON (read back by view)"},
    {"collapsed", (PyCFunction)(void (*)(void))pd_collapsed, METH_VARARGS | METH_KEYWORDS,
     "collapsed(clock='wall') -> bytes: FlameGraph's collapsed stacks (microseconds)"},
    {"pprof", hs_pd_pprof, METH_NOARGS, "pprof() -> bytes: gzip-compressed pprof profile.proto"},
    {"prof", (PyCFunction)(void (*)(void))pd_prof, METH_VARARGS | METH_KEYWORDS,
     "prof(thread=None, clock='wall') -> bytes: a pstats .prof file"},
    {"pstats", (PyCFunction)(void (*)(void))pd_pstats, METH_VARARGS | METH_KEYWORDS,
     "pstats(thread=None, clock='wall') -> dict, as cProfile.Profile.create_stats builds"},
    {"threads", (PyCFunction)pd_threads, METH_NOARGS,
     "threads() -> list of dicts: index, name, ident, os_tid, wall_ns, cpu_ns, and for a profile\n"
     "sampled in the cpu or gil mode gil_states: passes that found the thread holding the GIL\n"
     "(held), on a CPU without it (running), waiting for it (gil_wait), for a lock, condition or\n"
     "join (lock_wait) or otherwise (other_wait: sleep, I/O)"},
    {"merge_threads", (PyCFunction)hs_pd_merge_threads, METH_NOARGS,
     "merge_threads() -> ProfileData: a copy with every thread folded into one, 'all threads'"},
    {"slow_calls", (PyCFunction)hs_pd_slow_calls, METH_NOARGS,
     "slow_calls() -> list of dicts: the slowest calls a trace kept (function and caller as\n"
     "(file, name, first line), thread, seconds, wall_ns, args), each function's slowest first"},
    {"slow_calls_text", (PyCFunction)(void (*)(void))hs_pd_slow_calls_text, METH_VARARGS | METH_KEYWORDS,
     "slow_calls_text(limit=0) -> str: the 'Slowest calls' section of the text report"},
    {"total", (PyCFunction)(void (*)(void))pd_total, METH_VARARGS | METH_KEYWORDS,
     "total(clock='wall', thread=None) -> int: nanoseconds under the root"},
    {"meta", (PyCFunction)pd_meta, METH_NOARGS, "meta() -> dict of metadata"},
    {"set_meta", (PyCFunction)pd_set_meta, METH_VARARGS, "set_meta(key, value)"},
    {"text_tree", (PyCFunction)(void (*)(void))hs_pd_text_tree, METH_VARARGS | METH_KEYWORDS, HS_PD_TEXT_TREE_DOC},
    {"dot", (PyCFunction)(void (*)(void))hs_pd_dot, METH_VARARGS | METH_KEYWORDS, HS_PD_DOT_DOC},
    {"focus", (PyCFunction)(void (*)(void))hs_pd_focus, METH_VARARGS | METH_KEYWORDS, HS_PD_FOCUS_DOC},
    {"counts", (PyCFunction)pd_counts, METH_NOARGS, "sizes of the model"},
    {"speedscope", (PyCFunction)(void (*)(void))hs_pd_speedscope, METH_VARARGS | METH_KEYWORDS, "speedscope(clock='wall', exporter=None) -> bytes: speedscope's JSON file format"},
    {"svg", (PyCFunction)(void (*)(void))hs_pd_svg, METH_VARARGS | METH_KEYWORDS, "svg(clock='wall', icicle=False, title=None, thread=None, min_width=0.1, model=True) -> bytes: the flame graph"},
    {"html", (PyCFunction)(void (*)(void))hs_pd_html, METH_VARARGS | METH_KEYWORDS, "html(clock=None, title=None) -> bytes: the self-contained HTML report"},
    {NULL, NULL, 0, NULL},
};

static int pd_traverse(ProfileDataObject *self, visitproc visit, void *arg) {
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void pd_dealloc(ProfileDataObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->profile)
        hs_profile_free(self->profile);
    PyObject_GC_Del(self);
    Py_DECREF(type);
}

static PyType_Slot pd_slots[] = {
    {Py_tp_doc, "A recorded profile (hotscope's model) and its renderers."},
    {Py_tp_dealloc, pd_dealloc},
    {Py_tp_traverse, pd_traverse},
    {Py_tp_methods, pd_methods},
    {0, NULL},
};

static PyType_Spec pd_spec = {
    .name = "hotscope._core.ProfileData",
    .basicsize = sizeof(ProfileDataObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = pd_slots,
};

PyTypeObject *hs_profile_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &pd_spec, NULL);
}

