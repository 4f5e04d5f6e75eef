/*
 * native_busy.c - a tiny shared library for tests/test_sample_native.py,
 * compiled at test time: spin_in_c(seconds) spins in hs_test_busy_leaf,
 * called by hs_test_busy_outer, so a native sample of a program calling it
 * ends "... python_caller ; ... ; hs_test_busy_outer ; hs_test_busy_leaf".
 * Built with -fno-optimize-sibling-calls and noinline so that each
 * function keeps a frame of its own.
 */
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((noinline)) double hs_test_busy_leaf(double seconds) {
    volatile double x = 0;
    double end = now() + seconds;
    while (now() < end)
        for (int i = 0; i < 1000; i++)
            x += i * 0.5;
    return x;
}

__attribute__((noinline)) double hs_test_busy_outer(double seconds) {
    return hs_test_busy_leaf(seconds) + 1;
}

double spin_in_c(double seconds) {
    return hs_test_busy_outer(seconds) * 2;
}
