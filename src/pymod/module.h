/*
 * module.h - what the parts of the extension module hotscope._core share:
 * the module state (its heap types) and each type's constructor.
 * Multi-phase initialisation, module state and heap types, so two
 * interpreters or two imports never share hidden globals.
 */
#ifndef HOTSCOPE_MODULE_H
#define HOTSCOPE_MODULE_H

#include "../compat.h"
#include "../model/model.h"

typedef struct {
    PyTypeObject *tracer_type;
    PyTypeObject *profile_type;
    PyTypeObject *sampler_type;
    PyTypeObject *lines_type;
    PyTypeObject *mem_type;
    PyTypeObject *hook_type;    /* sys.monitoring callbacks; NULL before 3.12 */
} hs_module_state;

extern PyModuleDef hs_module_def;

hs_module_state *hs_state_from_type(PyTypeObject *type);

PyTypeObject *hs_tracer_type_new(PyObject *module);
PyTypeObject *hs_profile_type_new(PyObject *module);
PyTypeObject *hs_sampler_type_new(PyObject *module);
PyTypeObject *hs_lines_type_new(PyObject *module);
PyTypeObject *hs_mem_type_new(PyObject *module);

/* Wraps a profile (taking ownership) in a new ProfileData object. */
PyObject *hs_profile_data_new(PyTypeObject *type, hs_profile *profile);

#endif
