/*
 * pd_merge.c - hotscope._core.merge(profiles): several profiles added into
 * one along their call paths (src/model/merge.h), frames matched with
 * their first line and threads by name; the pytest plugin's
 * merged report of every test. Metadata comes from the first profile that
 * has each key.
 */
#include "module.h" /* Python.h first: it sets the feature macros */

#include "../model/merge.h"

PyObject *hs_py_merge(PyObject *module, PyObject *profiles) {
    hs_module_state *state = PyModule_GetState(module);
    PyObject *seq = PySequence_Fast(profiles, "merge() takes a sequence of ProfileData objects");
    if (!seq)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!PyObject_TypeCheck(PySequence_Fast_GET_ITEM(seq, i), state->profile_type)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "merge() takes a sequence of ProfileData objects");
            return NULL;
        }
    }
    hs_profile *dst = hs_profile_new();
    hs_merger *m = dst ? hs_merger_new(dst, 1) : NULL;
    int ok = m != NULL && hs_merger_match_threads_by_name(m) == 0;
    for (Py_ssize_t i = 0; ok && i < count; i++)
        ok = hs_merger_add(m, hs_profile_data_get(PySequence_Fast_GET_ITEM(seq, i)), 1, NULL) == 0;
    hs_merger_free(m);
    Py_DECREF(seq);
    if (!ok) {
        hs_profile_free(dst);
        return PyErr_NoMemory();
    }
    return hs_profile_data_new(state->profile_type, dst);
}
