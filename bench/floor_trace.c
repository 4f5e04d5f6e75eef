/*
 * floor_trace.c - the least a line profiler can cost before 3.12: a C
 * trace function (PyEval_SetTrace) that does nothing. bench_lines.py builds
 * it on the fly and times the workload under it ("floor" column), so the
 * interpreter's own share of the cost of tracing each line (line events,
 * f_lineno upkeep, the call through the trace hook) is seen apart from what
 * a profiler adds on top. Not part of hotscope.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int do_nothing(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

static PyObject *enable(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyEval_SetTrace(do_nothing, NULL);
    Py_RETURN_NONE;
}

static PyObject *disable(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyEval_SetTrace(NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"enable", enable, METH_NOARGS, "install the do-nothing trace function"},
    {"disable", disable, METH_NOARGS, "remove it"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hs_floor", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__hs_floor(void) { return PyModule_Create(&module); }
