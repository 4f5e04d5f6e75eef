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
    PyTypeObject *hook_type;    /* sys.monitoring callbacks; NULL before 3.12 */
} hs_module_state;

extern PyModuleDef hs_module_def;

hs_module_state *hs_state_from_type(PyTypeObject *type);

PyTypeObject *hs_tracer_type_new(PyObject *module);
PyTypeObject *hs_profile_type_new(PyObject *module);
PyTypeObject *hs_sampler_type_new(PyObject *module);
#if HS_HAVE_MONITORING
PyTypeObject *hs_hook_type_new(PyObject *module);
#endif

/* Wraps a profile (taking ownership) in a new ProfileData object. */
PyObject *hs_profile_data_new(PyTypeObject *type, hs_profile *profile);

/* For ProfileData methods written in their own files (pd_*.c): the model
 * of a ProfileData, and the parsing of the clock= and thread= arguments
 * every renderer takes (profile_type.c). */
hs_profile *hs_profile_data_model(PyObject *self);
int hs_profile_data_parse_clock(PyObject *clock, hs_weight *out);
int hs_profile_data_parse_thread(const hs_profile *p, PyObject *thread, hs_id *out);

/* ProfileData.svg() and .html() (pd_flame.c). */
PyObject *hs_pd_svg(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *hs_pd_html(PyObject *self, PyObject *args, PyObject *kwds);

#endif
