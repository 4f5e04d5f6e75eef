/*
 * labels.c - names of what the tracer sees, computed once per function.
 *
 * C functions are named exactly as cProfile names them, so that reports and
 * .prof files match it line for line: this reproduces normalizeUserObj()
 * of CPython's Modules/_lsprof.c ("<built-in method builtins.len>",
 * "<method 'append' of 'list' objects>"). Python functions are named by the
 * tracer from their code object in tracer_type.c.
 *
 * Care: these run inside interpreter event callbacks, so they never call
 * Python-level code (a __repr__ written in Python could switch threads
 * while the tracer holds pointers into its tables): repr() is taken only of
 * objects whose repr is C code.
 */
#include "tracer.h"

char *hs_utf8_dup(PyObject *s) {
    if (!s || !PyUnicode_Check(s))
        return strdup("?");
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(s, &len);
    if (utf8)
        return strndup(utf8, (size_t)len);
    /* Lone surrogates (e.g. undecodable file names): keep them visible. */
    PyErr_Clear();
    PyObject *bytes = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    if (!bytes) {
        PyErr_Clear();
        return strdup("?");
    }
    char *copy = strndup(PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    return copy;
}

static int repr_is_c_code(PyObject *obj) {
    PyTypeObject *type = Py_TYPE(obj);
    return type == &PyMethodDescr_Type || type == &PyClassMethodDescr_Type ||
           type == &PyWrapperDescr_Type || type == &PyCFunction_Type ||
           type == &PyFunction_Type || PyCFunction_Check(obj);
}

/* repr(getattr(type(self), name)) when that is C code, else NULL. */
static PyObject *method_repr_via_type(PyObject *self_arg, const char *name) {
    PyObject *name_obj = PyUnicode_FromString(name);
    if (!name_obj)
        return NULL;
    PyObject *found = _PyType_Lookup(Py_TYPE(self_arg), name_obj); /* borrowed */
    Py_DECREF(name_obj);
    if (found && repr_is_c_code(found))
        return PyObject_Repr(found);
    return NULL;
}

PyObject *hs_cfunc_label(PyCFunctionObject *fn) {
    const char *name = fn->m_ml->ml_name;
    PyObject *module = fn->m_module;
    if (fn->m_self == NULL) {
        /* a plain built-in function: "<module.name>", or "<name>" in builtins */
        PyObject *modname = NULL;
        if (module && PyUnicode_Check(module)) {
            modname = Py_NewRef(module);
        } else if (module && PyModule_Check(module)) {
            modname = PyModule_GetNameObject(module);
            if (!modname)
                PyErr_Clear();
        }
        if (modname) {
            PyObject *label = NULL;
            if (PyUnicode_CompareWithASCIIString(modname, "builtins") != 0)
                label = PyUnicode_FromFormat("<%U.%s>", modname, name);
            Py_DECREF(modname);
            if (label)
                return label;
        }
        return PyUnicode_FromFormat("<%s>", name);
    }
    /* a built-in method: how its type shows it, else "<built-in method m.name>" */
    PyObject *label = method_repr_via_type(fn->m_self, name);
    if (label)
        return label;
    PyErr_Clear();
    if (module && PyUnicode_Check(module))
        return PyUnicode_FromFormat("<built-in method %U.%s>", module, name);
    return PyUnicode_FromFormat("<built-in method %s>", name);
}

PyObject *hs_descr_label(PyMethodDescrObject *descr, PyObject *self_arg) {
    /* cProfile binds the descriptor to self and names the bound method,
     * which resolves to the method as found on type(self). */
    PyObject *label = method_repr_via_type(self_arg, descr->d_method->ml_name);
    if (label)
        return label;
    PyErr_Clear();
    return PyObject_Repr((PyObject *)descr);
}
