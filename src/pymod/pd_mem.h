/*
 * pd_mem.h - ProfileData methods for memory profiles (pd_mem.c).
 */
#ifndef HOTSCOPE_PD_MEM_H
#define HOTSCOPE_PD_MEM_H

#include "module.h"

PyObject *hs_pd_mem_text(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *hs_pd_mem_rows(PyObject *self, PyObject *args, PyObject *kwds);
PyObject *hs_pd_line_tables(PyObject *self, PyObject *unused);

#endif
