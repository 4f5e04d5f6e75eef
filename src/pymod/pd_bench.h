/*
 * pd_bench.h - the module functions of `hotscope bench` (pd_bench.c), for
 * the method table of module.c.
 */
#ifndef HOTSCOPE_PD_BENCH_H
#define HOTSCOPE_PD_BENCH_H

#include "../compat.h"

/* bench_time(inner, loops) -> ns: inner(loop) timed by the C loop. */
PyObject *hs_bench_py_time(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
/* bench_call_loop(func, loops) -> ns: func() called loops times from C. */
PyObject *hs_bench_py_call_loop(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
/* bench_summary(times) -> dict: n min max mean stdev median q1 q3 outliers_low outliers_high. */
PyObject *hs_bench_py_summary(PyObject *module, PyObject *times);
/* bench_percentile(times, p) -> float. */
PyObject *hs_bench_py_percentile(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
/* bench_compare(a, b, confidence=0.95) -> dict: u p_value exact ratio ratio_low ratio_high. */
PyObject *hs_bench_py_compare_times(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
