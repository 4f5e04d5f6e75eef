/*
 * timer_loop.h - the timing loop of `hotscope bench`: a C iterator that is
 * also the stopwatch.
 *
 * The statement runs inside a generated Python function, as in timeit:
 *
 *     def inner(_loop):
 *         <setup>
 *         for _ in _loop:
 *             <statement>          (repeated `unroll` times when small)
 *
 * `_loop` is an hs_timed_loop. Its tp_iter (the GET_ITER right before the
 * loop, after the setup) reads the clock, and its tp_iternext returns None
 * `loops` times and then, on the call that ends the loop, reads the clock
 * again. So the timed span is exactly the loop: no timer call, attribute
 * lookup or subtraction in Python, and each iteration costs one C call that
 * decrements a counter (the same as timeit's itertools.repeat).
 *
 * Why not a C loop calling a function n times (vectorcall): each call then
 * pushes a Python frame from C, measured at several times the cost of one
 * FOR_ITER step; `bench/bench_bench.py --only designs` shows both.
 */
#ifndef HOTSCOPE_TIMER_LOOP_H
#define HOTSCOPE_TIMER_LOOP_H

#include "../compat.h"
#include <stdint.h>

/* The iterator type, created once per module (module state). */
PyTypeObject *hs_timed_loop_type_new(PyObject *module);

/* Calls inner(loop) with a fresh timed loop of `loops` iterations and
 * returns the nanoseconds the loop took, or -1 with an exception set: the
 * statement's own exception, or RuntimeError when the loop did not run to
 * its end (a `break` or `return` in the statement) or `inner` did not
 * return None (a `yield` made it a generator). */
int64_t hs_timed_loop_run(PyTypeObject *loop_type, PyObject *inner, Py_ssize_t loops);

/* Design (b), kept for the comparison in bench/: calls func() `loops`
 * times from a C loop through vectorcall; nanoseconds, or -1 with an
 * exception set. */
int64_t hs_call_loop_run(PyObject *func, Py_ssize_t loops);

#endif
