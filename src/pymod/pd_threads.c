/*
 * pd_threads.c - ProfileData.merge_threads(): the profile with its threads
 * folded into one (src/model/merge_threads.c), for `--threads merged`.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include "../model/merge.h"

PyObject *hs_pd_merge_threads(PyObject *self, PyObject *unused) {
    (void)unused;
    hs_profile *merged = hs_profile_merge_threads(hs_profile_data_get(self));
    if (!merged)
        return PyErr_NoMemory();
    return hs_profile_data_new(Py_TYPE(self), merged);
}
