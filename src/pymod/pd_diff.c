/*
 * pd_diff.c - hotscope._core.diff(before, after, ...): two ProfileData
 * objects compared (src/model/diff.h), returned as the figures, the text
 * table, the differential flame graph, the HTML page, or the merged
 * profile itself. Loading the files is hotscope/_diff.py's job.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../model/diff.h"
#include "../render/render.h"

static PyObject *str_of(const hs_profile *p, hs_id id) {
    size_t len = 0;
    const char *s = hs_str(p, id, &len);
    return PyUnicode_DecodeUTF8(s ? s : "", s ? (Py_ssize_t)len : 0, "surrogateescape");
}

/* {"before": total, "after": total, "rows": [{"name", "file", "line",
 * "label", "self_before", ...}, ...]} in hs_diff_rows' order. */
static PyObject *figures(hs_diff *d, hs_weight w) {
    hs_diff_row *rows;
    size_t count;
    int64_t before, after;
    if (hs_diff_rows(d, w, &rows, &count, &before, &after) != 0)
        return PyErr_NoMemory();
    PyObject *list = PyList_New(0);
    hs_buf label;
    hs_buf_init(&label);
    for (size_t i = 0; list && i < count; i++) {
        const hs_diff_row *r = &rows[i];
        const hs_frame *f = hs_frame_get(d->after, r->function);
        label.len = 0;
        hs_render_diff_function_name(d->after, r->function, &label);
        PyObject *row = label.failed ? NULL
            : Py_BuildValue("{s:N,s:N,s:i,s:s#,s:L,s:L,s:L,s:L,s:L,s:L}", "name", str_of(d->after, f->name),
                            "file", str_of(d->after, f->file), "line", (int)f->first_line, "label",
                            label.data ? label.data : "", (Py_ssize_t)label.len, "self_before",
                            (long long)r->self_before, "self_after", (long long)r->self_after, "total_before",
                            (long long)r->total_before, "total_after", (long long)r->total_after,
                            "calls_before", (long long)r->calls_before, "calls_after", (long long)r->calls_after);
        if (!row || PyList_Append(list, row) < 0)
            Py_CLEAR(list);
        Py_XDECREF(row);
    }
    hs_buf_free(&label);
    free(rows);
    if (!list)
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    return Py_BuildValue("{s:L,s:L,s:N}", "before", (long long)before, "after", (long long)after, "rows", list);
}

PyObject *hs_py_diff(PyObject *module, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"before", "after", "clock", "format", "limit", "title", "icicle", NULL};
    PyObject *before, *after, *clock = Py_None;
    const char *format = "figures", *title = NULL;
    long limit = 0;
    int icicle = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|Oslzp:diff", kwlist, &before, &after, &clock, &format,
                                     &limit, &title, &icicle))
        return NULL;
    hs_module_state *state = PyModule_GetState(module);
    if (!PyObject_TypeCheck(before, state->profile_type) || !PyObject_TypeCheck(after, state->profile_type)) {
        PyErr_SetString(PyExc_TypeError, "diff() compares two ProfileData objects");
        return NULL;
    }
    hs_weight w;
    if (hs_py_parse_clock(clock, &w) < 0)
        return NULL;
    static const char *const formats[] = {"figures", "text", "svg", "html", "profile", NULL};
    int which = -1;
    for (int i = 0; formats[i]; i++)
        if (strcmp(format, formats[i]) == 0)
            which = i;
    if (which < 0) {
        PyErr_Format(PyExc_ValueError, "format must be figures, text, svg, html or profile, not %s", format);
        return NULL;
    }
    hs_diff d;
    if (hs_diff_build(hs_profile_data_get(before), hs_profile_data_get(after), &d) != 0)
        return PyErr_NoMemory();
    PyObject *result = NULL;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    switch (which) {
    case 0:
        result = figures(&d, w);
        break;
    case 1:
        result = hs_py_buf_result(&buf, hs_render_diff_table(&d, w, limit, &buf, err), err, 1);
        break;
    case 2:
        result = hs_py_buf_result(&buf, hs_render_diff_svg(&d, w, title, icicle, &buf, err), err, 0);
        break;
    case 3:
        result = hs_py_buf_result(&buf, hs_render_diff_html(&d, w, limit, title, icicle, &buf, err), err, 0);
        break;
    default:
        result = hs_profile_data_new(state->profile_type, d.after); /* takes it */
        d.after = NULL;
        break;
    }
    hs_buf_free(&buf);
    hs_diff_free(&d);
    return result;
}
