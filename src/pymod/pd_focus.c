/*
 * pd_focus.c - ProfileData.focus(name, file=None, whole_threads=()): the
 * profile below one function (src/model/focus.h), as a new ProfileData.
 * The web middleware uses it to keep only the profiled request's own work.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include <stdlib.h>

#include "../model/focus.h"

/* The idents of `threads` (an iterable of ints) in a new array; *count set. */
static uint64_t *idents_of(PyObject *threads, size_t *count) {
    PyObject *seq = PySequence_Fast(threads, "whole_threads must be a sequence of thread idents");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    uint64_t *idents = malloc((size_t)(n ? n : 1) * sizeof *idents);
    if (!idents) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long v = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == (unsigned long long)-1 && PyErr_Occurred()) {
            free(idents);
            Py_DECREF(seq);
            return NULL;
        }
        idents[i] = v;
    }
    Py_DECREF(seq);
    *count = (size_t)n;
    return idents;
}

PyObject *hs_pd_focus(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"name", "file", "whole_threads", NULL};
    const char *name, *file = NULL;
    Py_ssize_t name_len, file_len = 0;
    PyObject *threads = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#|z#O:focus", kwlist, &name, &name_len, &file, &file_len,
                                     &threads))
        return NULL;
    size_t whole_count = 0;
    uint64_t *whole = NULL;
    if (threads && !(whole = idents_of(threads, &whole_count)))
        return NULL;
    hs_profile *focused = hs_profile_focus(hs_profile_data_get(self), name, (size_t)name_len, file,
                                           (size_t)file_len, whole, whole_count);
    free(whole);
    if (!focused)
        return PyErr_NoMemory();
    return hs_profile_data_new(Py_TYPE(self), focused);
}
