/*
 * timer_loop.c - the timed iterator of `hotscope bench` (see timer_loop.h
 * for why the loop is shaped this way).
 *
 * The clock is CLOCK_MONOTONIC, the clock time.perf_counter reads on
 * Linux: a repeat lasts tens of milliseconds, so its two reads (about
 * 25 ns each) do not matter and a steady, NTP-slewed-only clock does.
 */
#include "timer_loop.h"

#include <time.h>

typedef struct {
    PyObject_HEAD
    Py_ssize_t remaining;  /* iterations still to hand out */
    int64_t started_ns;    /* read by tp_iter; 0 = not started */
    int64_t ended_ns;      /* read when the loop ends; 0 = not ended */
} hs_timed_loop;

static inline int64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* GET_ITER: the setup is done and the loop is about to start. */
static PyObject *loop_iter(PyObject *self) {
    hs_timed_loop *loop = (hs_timed_loop *)self;
    loop->started_ns = monotonic_ns();
    return Py_NewRef(self);
}

static PyObject *loop_next(PyObject *self) {
    hs_timed_loop *loop = (hs_timed_loop *)self;
    if (loop->remaining > 0) {
        loop->remaining--;
        return Py_NewRef(Py_None);
    }
    /* NULL without an exception set ends the for loop (no StopIteration
     * object is made). Only the first end is the loop's end. */
    if (!loop->ended_ns)
        loop->ended_ns = monotonic_ns();
    return NULL;
}

static void loop_dealloc(PyObject *self) {
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyType_Slot loop_slots[] = {
    {Py_tp_doc, "The timed loop of hotscope bench: an iterator that reads the clock when the "
                "loop starts and when it ends."},
    {Py_tp_iter, loop_iter},
    {Py_tp_iternext, loop_next},
    {Py_tp_dealloc, loop_dealloc},
    {0, NULL},
};

static PyType_Spec loop_spec = {
    .name = "hotscope._core.TimedLoop",
    .basicsize = sizeof(hs_timed_loop),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = loop_slots,
};

PyTypeObject *hs_timed_loop_type_new(PyObject *module) {
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &loop_spec, NULL);
}

int64_t hs_timed_loop_run(PyTypeObject *loop_type, PyObject *inner, Py_ssize_t loops) {
    hs_timed_loop *loop = PyObject_New(hs_timed_loop, loop_type);
    if (!loop)
        return -1;
    loop->remaining = loops;
    loop->started_ns = 0;
    loop->ended_ns = 0;
    PyObject *result = PyObject_CallOneArg(inner, (PyObject *)loop);
    int64_t started = loop->started_ns, ended = loop->ended_ns;
    int finished = loop->remaining == 0;
    Py_DECREF(loop);
    if (!result)
        return -1;
    int returned_none = result == Py_None;
    Py_DECREF(result);
    if (!returned_none) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the statement made the timing function a generator (yield), so it never ran");
        return -1;
    }
    if (!started || !ended || !finished) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the statement left the timing loop early (break or return), so the loop "
                        "count is unknown");
        return -1;
    }
    return ended - started;
}

int64_t hs_call_loop_run(PyObject *func, Py_ssize_t loops) {
    vectorcallfunc call = PyVectorcall_Function(func);
    int64_t started = monotonic_ns();
    for (Py_ssize_t i = 0; i < loops; i++) {
        PyObject *r = call ? call(func, NULL, 0, NULL) : PyObject_CallNoArgs(func);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    return monotonic_ns() - started;
}
