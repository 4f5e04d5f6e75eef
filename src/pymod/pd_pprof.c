/*
 * pd_pprof.c - pprof from Python: ProfileData.pprof() renders the profile
 * as a gzip-compressed profile.proto (render/pprof.c), and
 * _core.load_pprof(data) reads one back (read/pprof_read.c), raising
 * ValueError with the reader's one-line message on a bad file.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <string.h>

#include "../read/pprof_read.h"
#include "../render/render.h"

PyObject *hs_pd_pprof(PyObject *self, PyObject *unused) {
    (void)unused;
    hs_buf buf;
    hs_py_bytes_buf_init(&buf);
    char err[256] = {0};
    int status = hs_render_pprof(hs_profile_data_get(self), &buf, err);
    return hs_py_buf_result(&buf, status, err, 0);
}

PyObject *hs_load_pprof(PyObject *module, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    char err[256] = {0};
    hs_profile *p;
    /* The buffer is exported (a bytearray cannot be resized meanwhile), so
     * other threads may run while a large file is parsed. */
    Py_BEGIN_ALLOW_THREADS
    p = hs_read_pprof(view.buf, (size_t)view.len, err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (!p) {
        if (strcmp(err, "pprof: out of memory") == 0)
            return PyErr_NoMemory();
        hs_py_value_error(err, "pprof: unreadable file");
        return NULL;
    }
    hs_module_state *state = PyModule_GetState(module);
    return hs_profile_data_new(state->profile_type, p);
}
