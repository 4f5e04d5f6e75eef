/*
 * pd_mem.c - ProfileData methods for memory profiles: the text report
 * (src/render/mem_text.c), the rows behind hotscope.memory()'s top()
 * and leaks() (src/render/mem_rows.c), and the line tables behind its
 * lines() (model.h, hs_line_table).
 */
#include "module.h" /* Python.h first */

#include <stdlib.h>
#include <string.h>

#include "../render/render.h"
#include "pd_mem.h"

/* ProfileData's layout: the profile pointer right after the header
 * (profile_type.c). */
typedef struct {
    PyObject_HEAD
    hs_profile *profile;
} pd_view;

PyObject *hs_pd_mem_text(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"limit", NULL};
    long limit = 10;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l:mem_text", kwlist, &limit))
        return NULL;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    if (hs_render_mem_text(((pd_view *)self)->profile, limit, &buf, err) != 0 || buf.failed) {
        hs_buf_free(&buf);
        PyErr_SetString(PyExc_MemoryError, err[0] ? err : "out of memory");
        return NULL;
    }
    PyObject *r = PyUnicode_DecodeUTF8(buf.data ? buf.data : "", (Py_ssize_t)buf.len, "replace");
    hs_buf_free(&buf);
    return r;
}

static PyObject *frame_tuple(const hs_profile *p, hs_id fid) {
    const hs_frame *f = hs_frame_get(p, fid);
    size_t nlen = 0, flen = 0;
    const char *name = hs_str(p, f->name, &nlen), *file = hs_str(p, f->file, &flen);
    return Py_BuildValue("(s#is#)", file ? file : "", (Py_ssize_t)(file ? flen : 0),
                         (int)(f->line ? f->line : f->first_line), name ? name : "",
                         (Py_ssize_t)(name ? nlen : 0));
}

static PyObject *stack_list(const hs_profile *p, hs_id node) {
    PyObject *list = PyList_New(0);
    for (; list && node != HS_ROOT && node != HS_NONE; node = hs_node_get(p, node)->parent) {
        PyObject *t = frame_tuple(p, hs_node_get(p, node)->frame);
        if (!t || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    if (list && PyList_Reverse(list) < 0)
        Py_CLEAR(list);
    return list;
}

PyObject *hs_pd_mem_rows(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"what", "by", "sort", "limit", NULL};
    const char *what = "allocated", *by = "line", *sort = "bytes";
    Py_ssize_t limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sssn:mem_rows", kwlist, &what, &by, &sort, &limit))
        return NULL;
    hs_weight bw, cw;
    if (!strcmp(what, "allocated"))
        bw = HS_W_BYTES, cw = HS_W_ALLOCS;
    else if (!strcmp(what, "peak"))
        bw = HS_W_PEAK_BYTES, cw = HS_W_PEAK_ALLOCS;
    else if (!strcmp(what, "leaked"))
        bw = HS_W_LEAK_BYTES, cw = HS_W_LEAK_ALLOCS;
    else {
        PyErr_Format(PyExc_ValueError, "what must be 'allocated', 'peak' or 'leaked', not %R",
                     PyTuple_GET_SIZE(args) ? PyTuple_GET_ITEM(args, 0) : Py_None);
        return NULL;
    }
    int by_stack;
    if (!strcmp(by, "line") || !strcmp(by, "stack"))
        by_stack = by[0] == 's';
    else {
        PyErr_SetString(PyExc_ValueError, "by must be 'line' or 'stack'");
        return NULL;
    }
    if (strcmp(sort, "bytes") && strcmp(sort, "count")) {
        PyErr_SetString(PyExc_ValueError, "sort must be 'bytes' or 'count'");
        return NULL;
    }
    const hs_profile *p = ((pd_view *)self)->profile;
    hs_mem_row *rows;
    size_t n;
    if (hs_mem_rows(p, bw, cw, by_stack, sort[0] == 'c', &rows, &n) != 0)
        return PyErr_NoMemory();
    if (limit > 0 && (size_t)limit < n)
        n = (size_t)limit;
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *where = by_stack ? stack_list(p, rows[i].id) : frame_tuple(p, rows[i].id);
        PyObject *row = where ? Py_BuildValue("(NLL)", where, (long long)rows[i].bytes,
                                              (long long)rows[i].count)
                              : NULL;
        if (!row || PyList_Append(list, row) < 0)
            Py_CLEAR(list);
        Py_XDECREF(row);
    }
    free(rows);
    return list;
}

PyObject *hs_pd_line_tables(PyObject *self, PyObject *unused) {
    (void)unused;
    const hs_profile *p = ((pd_view *)self)->profile;
    PyObject *out = PyDict_New();
    for (size_t i = 0; out && i < p->line_table_count; i++) {
        const hs_line_table *t = &p->line_tables[i];
        PyObject *rows = PyList_New((Py_ssize_t)t->count);
        for (size_t k = 0; rows && k < t->count; k++) {
            const hs_frame *f = hs_frame_get(p, t->rows[k].frame);
            size_t nlen = 0, flen = 0;
            const char *name = hs_str(p, f->name, &nlen), *file = hs_str(p, f->file, &flen);
            PyObject *row = Py_BuildValue("(s#s#iiL)", file ? file : "", (Py_ssize_t)(file ? flen : 0),
                                          name ? name : "", (Py_ssize_t)(name ? nlen : 0),
                                          (int)f->first_line, (int)f->line, (long long)t->rows[k].value);
            if (!row)
                Py_CLEAR(rows);
            else
                PyList_SET_ITEM(rows, (Py_ssize_t)k, row);
        }
        size_t len = 0;
        const char *name = hs_str(p, t->name, &len);
        PyObject *key = rows ? PyUnicode_DecodeUTF8(name ? name : "", (Py_ssize_t)(name ? len : 0), "replace") : NULL;
        if (!key || PyDict_SetItem(out, key, rows) < 0)
            Py_CLEAR(out);
        Py_XDECREF(key);
        Py_XDECREF(rows);
    }
    return out;
}
