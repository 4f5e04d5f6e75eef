/*
 * pd_readers.c - Python bindings of the readers of src/read/ and of the
 * speedscope renderer:
 *   _core.load(data, format) -> ProfileData
 *   ProfileData.speedscope(clock='wall', exporter=None) -> bytes
 * Which reader a file needs is decided in Python (hotscope/_view.py, from
 * the content); here `format` names it.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../read/read.h"
#include "../render/render.h"

typedef hs_profile *(*reader_fn)(const char *data, size_t len, char *err);

static const struct {
    const char *name;
    reader_fn read;
} readers[] = {
    {"json", hs_read_model_json},  {"html", hs_read_embedded},     {"svg", hs_read_embedded},
    {"speedscope", hs_read_speedscope}, {"collapsed", hs_read_collapsed}, {"pstats", hs_read_pstats},
    {"text", hs_read_text_tree}, {"lines", hs_read_lines_text},
    {"mem", hs_read_mem_text},
};

PyObject *hs_load(PyObject *module, PyObject *args) {
    Py_buffer view;
    const char *format;
    if (!PyArg_ParseTuple(args, "y*s:load", &view, &format))
        return NULL;
    reader_fn read = NULL;
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
        if (strcmp(format, readers[i].name) == 0)
            read = readers[i].read;
    if (!read) {
        PyBuffer_Release(&view);
        PyErr_Format(PyExc_ValueError,
                     "unknown format '%s' (json, html, svg, speedscope, collapsed, pstats, text, lines, mem)", format);
        return NULL;
    }
    char err[HS_READ_ERR_SIZE] = {0};
    hs_profile *p;
    /* The buffer is exported (it cannot change size meanwhile), so other
     * threads may run while a large file is read. */
    Py_BEGIN_ALLOW_THREADS
    p = read(view.buf, (size_t)view.len, err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (!p) {
        if (strcmp(err, "out of memory") == 0)
            return PyErr_NoMemory();
        hs_py_value_error(err, "unreadable file");
        return NULL;
    }
    hs_module_state *state = PyModule_GetState(module);
    return hs_profile_data_new(state->profile_type, p);
}

PyObject *hs_pd_speedscope(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"clock", "exporter", NULL};
    PyObject *clock = Py_None;
    const char *exporter = NULL;
    hs_weight weight;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Oz:speedscope", kwlist, &clock, &exporter) ||
        hs_py_parse_clock(clock, &weight) < 0)
        return NULL;
    PyObject *version = NULL;
    if (!exporter) {
        /* "hotscope <version>", as the package states it. */
        PyObject *pkg = PyImport_ImportModule("hotscope");
        PyObject *v = pkg ? PyObject_GetAttrString(pkg, "__version__") : NULL;
        Py_XDECREF(pkg);
        version = v ? PyUnicode_FromFormat("hotscope %S", v) : NULL;
        Py_XDECREF(v);
        PyErr_Clear();
        exporter = version ? PyUnicode_AsUTF8(version) : "hotscope";
        if (!exporter) {
            PyErr_Clear();
            exporter = "hotscope";
        }
    }
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_speedscope(hs_profile_data_get(self), weight, exporter, &buf, err);
    Py_XDECREF(version);
    return hs_py_buf_result(&buf, status, err, 0);
}
