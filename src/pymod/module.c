/*
 * module.c - the extension module hotscope._core: its state and its types.
 * Everything user-facing is in the Python package; this only exposes the
 * engines (Tracer) and the profile model with its renderers (ProfileData).
 */
#include "module.h"
#include "monitoring.h"
#include "../lines/chosen_func.h"
#include "pd_bench.h"
#include "../bench/timer_loop.h"

hs_module_state *hs_state_from_type(PyTypeObject *type) {
    PyObject *module = PyType_GetModuleByDef(type, &hs_module_def);
    if (!module)
        return NULL;
    return (hs_module_state *)PyModule_GetState(module);
}

static int module_exec(PyObject *module) {
    hs_module_state *state = PyModule_GetState(module);
    state->profile_type = hs_profile_type_new(module);
    if (!state->profile_type || PyModule_AddType(module, state->profile_type) < 0)
        return -1;
    state->tracer_type = hs_tracer_type_new(module);
    if (!state->tracer_type || PyModule_AddType(module, state->tracer_type) < 0)
        return -1;
    state->sampler_type = hs_sampler_type_new(module);
    if (!state->sampler_type || PyModule_AddType(module, state->sampler_type) < 0)
        return -1;
    state->lines_type = hs_lines_type_new(module);
    if (!state->lines_type || PyModule_AddType(module, state->lines_type) < 0)
        return -1;
    /* 3.11: the type the line profiler gives chosen functions while it
     * runs (hotscope/_lines.py tells copyreg to pickle them by name). */
    PyTypeObject *chosen = hs_chosen_func_type();
    if (chosen ? PyModule_AddType(module, chosen) < 0 : PyErr_Occurred() != NULL)
        return -1;
    state->bench_loop_type = hs_timed_loop_type_new(module);
    if (!state->bench_loop_type)
        return -1;
    state->mem_type = hs_mem_type_new(module);
    if (!state->mem_type || PyModule_AddType(module, state->mem_type) < 0)
        return -1;
#if HS_HAVE_MONITORING
    state->hook_type = hs_hook_type_new(module);
    if (!state->hook_type)
        return -1;
#endif
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg) {
    hs_module_state *state = PyModule_GetState(module);
    Py_VISIT(state->tracer_type);
    Py_VISIT(state->profile_type);
    Py_VISIT(state->hook_type);
    Py_VISIT(state->sampler_type);
    Py_VISIT(state->lines_type);
    Py_VISIT(state->bench_loop_type);
    Py_VISIT(state->mem_type);
    return 0;
}

static int module_clear(PyObject *module) {
    hs_module_state *state = PyModule_GetState(module);
    Py_CLEAR(state->tracer_type);
    Py_CLEAR(state->profile_type);
    Py_CLEAR(state->hook_type);
    Py_CLEAR(state->sampler_type);
    Py_CLEAR(state->lines_type);
    Py_CLEAR(state->bench_loop_type);
    Py_CLEAR(state->mem_type);
    return 0;
}

static PyMethodDef module_methods[] = {
    {"load_pprof", hs_load_pprof, METH_O, "load_pprof(data: bytes) -> ProfileData; ValueError if malformed"},
    {"diff", (PyCFunction)(void (*)(void))hs_py_diff, METH_VARARGS | METH_KEYWORDS, HS_PY_DIFF_DOC},
    {"merge", hs_py_merge, METH_O, "merge(profiles) -> ProfileData: the profiles added along their call paths"},
    {"load", hs_load, METH_VARARGS, "load(data: bytes, format: str) -> ProfileData; format: json, html, speedscope, collapsed, pstats; ValueError if malformed"},
    {"bench_time", (PyCFunction)(void (*)(void))hs_bench_py_time, METH_FASTCALL, "bench_time(inner, loops) -> ns of inner(timed loop)"},
    {"bench_call_loop", (PyCFunction)(void (*)(void))hs_bench_py_call_loop, METH_FASTCALL, "bench_call_loop(func, loops) -> ns of func() called loops times from C"},
    {"bench_summary", hs_bench_py_summary, METH_O, "bench_summary(times) -> dict of min, max, mean, stdev, median, q1, q3, outliers"},
    {"bench_percentile", (PyCFunction)(void (*)(void))hs_bench_py_percentile, METH_FASTCALL, "bench_percentile(times, p) -> float"},
    {"bench_compare", (PyCFunction)(void (*)(void))hs_bench_py_compare_times, METH_FASTCALL, "bench_compare(a, b, confidence=0.95) -> dict of u, p_value, exact, ratio, ratio_low, ratio_high"},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
    {0, NULL},
};

PyModuleDef hs_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "hotscope._core",
    .m_doc = "hotscope's C engines, profile model and renderers.",
    .m_size = sizeof(hs_module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
};

PyMODINIT_FUNC PyInit__core(void) {
    return PyModuleDef_Init(&hs_module_def);
}
