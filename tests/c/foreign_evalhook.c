/*
 * foreign_evalhook.c - a frame evaluation function (PEP 523) that is not
 * hotscope's, as a debugger or a JIT would install one, for
 * tests/test_lines_hooks.py (Python 3.10 and 3.11): it counts the frame
 * evaluations it sees and passes each one to _PyEval_EvalFrameDefault;
 * is_default() says whether no hook at all is in place.
 * Built by the test as the extension module foreign_evalhook.
 * Signatures: Include/cpython/pystate.h (3.10, 3.11).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#if PY_VERSION_HEX >= 0x030B0000
typedef struct _PyInterpreterFrame eval_frame;
#else
#include <frameobject.h>
typedef PyFrameObject eval_frame;
#endif

static long long frames_seen;

static PyObject *passing_hook(PyThreadState *tstate, eval_frame *frame, int throwflag) {
    frames_seen++;
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}

static PyObject *install(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), passing_hook);
    Py_RETURN_NONE;
}

static PyObject *uninstall(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), _PyEval_EvalFrameDefault);
    Py_RETURN_NONE;
}

static PyObject *frames(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    return PyLong_FromLongLong(frames_seen);
}

static PyObject *is_default(PyObject *module, PyObject *unused) {
    (void)module, (void)unused;
    return PyBool_FromLong(_PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get()) ==
                           _PyEval_EvalFrameDefault);
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, "make passing_hook the interpreter's evaluation function"},
    {"uninstall", uninstall, METH_NOARGS, "put the default one back"},
    {"frames", frames, METH_NOARGS, "frame evaluations seen so far"},
    {"is_default", is_default, METH_NOARGS, "whether the default evaluation function is the interpreter's"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "foreign_evalhook", NULL, -1, methods,
                                        NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_foreign_evalhook(void) {
    return PyModule_Create(&module_def);
}
