/*
 * pd_focus.c - ProfileData.focus(name, file=None): the profile below one
 * function (src/model/focus.h), as a new ProfileData. The web middleware
 * uses it to keep only the profiled request's own work.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include "../model/focus.h"

PyObject *hs_pd_focus(PyObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"name", "file", NULL};
    const char *name, *file = NULL;
    Py_ssize_t name_len, file_len = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#|z#:focus", kwlist, &name, &name_len, &file, &file_len))
        return NULL;
    hs_profile *focused = hs_profile_focus(hs_profile_data_get(self), name, (size_t)name_len, file,
                                           (size_t)file_len);
    if (!focused)
        return PyErr_NoMemory();
    return hs_profile_data_new(Py_TYPE(self), focused);
}
