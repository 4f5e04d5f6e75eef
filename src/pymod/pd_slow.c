/*
 * pd_slow.c - ProfileData.slow_calls() and .slow_calls_text(): the slowest
 * calls a trace kept (model.h, hs_slow_call) as Python data and as the
 * text report's section (src/render/slow_calls_text.c).
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include "../render/render.h"

static PyObject *str_or_none(const hs_profile *p, hs_id id) {
    size_t len = 0;
    const char *s = id == HS_NONE ? NULL : hs_str(p, id, &len);
    if (!s)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "replace");
}

static PyObject *function_of(const hs_profile *p, hs_id frame) {
    if (frame == HS_NONE || frame >= p->frame_count)
        Py_RETURN_NONE;
    const hs_frame *f = hs_frame_get(p, frame);
    PyObject *name = str_or_none(p, f->name), *file = str_or_none(p, f->file);
    PyObject *result = name && file ? Py_BuildValue("(OOi)", file, name, (int)f->first_line) : NULL;
    Py_XDECREF(name);
    Py_XDECREF(file);
    return result;
}

PyObject *hs_pd_slow_calls(PyObject *self, PyObject *unused) {
    (void)unused;
    hs_profile *p = hs_profile_data_get(self);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list && i < p->slow_call_count; i++) {
        const hs_slow_call *c = &p->slow_calls[i];
        PyObject *thread = c->thread >= 0 && (size_t)c->thread < p->thread_count
                               ? str_or_none(p, p->threads[c->thread].name)
                               : Py_NewRef(Py_None);
        PyObject *item = Py_BuildValue("{s:N,s:N,s:N,s:i,s:d,s:L,s:N}", "function", function_of(p, c->function),
                                       "caller", function_of(p, c->caller), "thread", thread, "thread_index",
                                       (int)c->thread, "seconds", (double)c->wall_ns / 1e9, "wall_ns",
                                       (long long)c->wall_ns, "args", str_or_none(p, c->args));
        if (!item || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    return list;
}

PyObject *hs_pd_slow_calls_text(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"limit", NULL};
    long limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l:slow_calls_text", kwlist, &limit))
        return NULL;
    hs_buf buf;
    hs_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_slow_calls_text(hs_profile_data_get(self), limit, &buf, err);
    return hs_py_buf_result(&buf, status, err, 1);
}
