/*
 * pd_bench.c - the Python bindings of `hotscope bench`: module functions
 * of hotscope._core over the timed loop (src/bench/timer_loop.h) and the
 * statistics (src/bench/stats.h). hotscope/_bench.py is their only user.
 */
#include "pd_bench.h"
#include "module.h"
#include "../bench/stats.h"
#include "../bench/timer_loop.h"

#include <stdlib.h>

static Py_ssize_t loops_arg(PyObject *arg) {
    Py_ssize_t loops = PyLong_AsSsize_t(arg);
    if (loops == -1 && PyErr_Occurred())
        return -1;
    if (loops < 1) {
        PyErr_SetString(PyExc_ValueError, "loops must be 1 or more");
        return -1;
    }
    return loops;
}

PyObject *hs_bench_py_time(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "bench_time(inner, loops) takes 2 arguments");
        return NULL;
    }
    Py_ssize_t loops = loops_arg(args[1]);
    if (loops < 0)
        return NULL;
    hs_module_state *state = PyModule_GetState(module);
    int64_t ns = hs_timed_loop_run(state->bench_loop_type, args[0], loops);
    return ns < 0 ? NULL : PyLong_FromLongLong(ns);
}

PyObject *hs_bench_py_call_loop(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "bench_call_loop(func, loops) takes 2 arguments");
        return NULL;
    }
    Py_ssize_t loops = loops_arg(args[1]);
    if (loops < 0)
        return NULL;
    int64_t ns = hs_call_loop_run(args[0], loops);
    return ns < 0 ? NULL : PyLong_FromLongLong(ns);
}

/* A new array of the floats in `seq` (*n of them), or NULL with an error. */
static double *doubles_of(PyObject *seq, size_t *n) {
    PyObject *fast = PySequence_Fast(seq, "times must be a sequence of numbers");
    if (!fast)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
    double *values = malloc((count ? (size_t)count : 1) * sizeof *values);
    if (!values) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        values[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i));
        if (values[i] == -1.0 && PyErr_Occurred()) {
            free(values);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    *n = (size_t)count;
    return values;
}

static PyObject *status_error(int status) {
    switch (status) {
    case HS_BENCH_NOMEM:
        return PyErr_NoMemory();
    case HS_BENCH_EMPTY:
        PyErr_SetString(PyExc_ValueError, "no times given");
        return NULL;
    default:
        PyErr_SetString(PyExc_ValueError, "times must be finite numbers above zero");
        return NULL;
    }
}

PyObject *hs_bench_py_summary(PyObject *module, PyObject *times) {
    (void)module;
    size_t n;
    double *x = doubles_of(times, &n);
    if (!x)
        return NULL;
    hs_bench_summary s;
    int status = hs_bench_summarize(x, n, &s);
    free(x);
    if (status != HS_BENCH_OK)
        return status_error(status);
    return Py_BuildValue("{sn sd sd sd sd sd sd sd sn sn}", "n", (Py_ssize_t)s.n, "min", s.min, "max",
                         s.max, "mean", s.mean, "stdev", s.stdev, "median", s.median, "q1", s.q1, "q3",
                         s.q3, "outliers_low", (Py_ssize_t)s.outliers_low, "outliers_high",
                         (Py_ssize_t)s.outliers_high);
}

static int compare_doubles(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

PyObject *hs_bench_py_percentile(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "bench_percentile(times, p) takes 2 arguments");
        return NULL;
    }
    double p = PyFloat_AsDouble(args[1]);
    if (p == -1.0 && PyErr_Occurred())
        return NULL;
    if (!(p >= 0.0 && p <= 100.0)) {
        PyErr_SetString(PyExc_ValueError, "a percentile is between 0 and 100");
        return NULL;
    }
    size_t n;
    double *x = doubles_of(args[0], &n);
    if (!x)
        return NULL;
    if (n == 0) {
        free(x);
        return status_error(HS_BENCH_EMPTY);
    }
    qsort(x, n, sizeof *x, compare_doubles);
    double value = hs_bench_percentile_sorted(x, n, p);
    free(x);
    return PyFloat_FromDouble(value);
}

PyObject *hs_bench_py_compare_times(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "bench_compare(a, b, confidence=0.95) takes 2 or 3 arguments");
        return NULL;
    }
    double confidence = 0.95;
    if (nargs == 3) {
        confidence = PyFloat_AsDouble(args[2]);
        if (confidence == -1.0 && PyErr_Occurred())
            return NULL;
        if (!(confidence > 0.0 && confidence < 1.0)) {
            PyErr_SetString(PyExc_ValueError, "confidence must be between 0 and 1");
            return NULL;
        }
    }
    size_t na, nb;
    double *a = doubles_of(args[0], &na);
    if (!a)
        return NULL;
    double *b = doubles_of(args[1], &nb);
    if (!b) {
        free(a);
        return NULL;
    }
    hs_bench_comparison c;
    int status = hs_bench_compare(a, na, b, nb, confidence, &c);
    free(a);
    free(b);
    if (status != HS_BENCH_OK)
        return status_error(status);
    return Py_BuildValue("{sd sd sO sd sd sd}", "u", c.u, "p_value", c.p_value, "exact",
                         c.exact ? Py_True : Py_False, "ratio", c.ratio, "ratio_low", c.ratio_low,
                         "ratio_high", c.ratio_high);
}
