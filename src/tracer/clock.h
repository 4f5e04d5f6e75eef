/*
 * clock.h - the tracer's clocks: a cheap wall-clock tick and the thread CPU
 * clock, and the conversions between them.
 *
 * Why ticks: the tracer reads the clock twice per call. On x86-64 with an
 * invariant TSC that the kernel itself uses as its clocksource, RDTSC costs
 * about 11 ns here against 26 ns for clock_gettime(CLOCK_MONOTONIC), and it
 * is monotonic across cores. Elsewhere ticks are CLOCK_MONOTONIC
 * nanoseconds. Ticks are converted to nanoseconds when a profile is
 * exported, with a rate measured over the profile's own span (so the
 * conversion is as exact as the monotonic clock itself).
 *
 * Why the CPU clock is read rarely: CLOCK_THREAD_CPUTIME_ID is a real system
 * call on this kind of VM (about 520 ns), far too slow for every event.
 * calltree.c keeps a per-thread virtual CPU clock instead; see there.
 */
#ifndef HOTSCOPE_CLOCK_H
#define HOTSCOPE_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HS_HAVE_TSC 1
#else
#define HS_HAVE_TSC 0
#endif

typedef struct {
    int use_tsc;          /* ticks are TSC cycles, else monotonic ns */
    double ticks_per_ns;  /* current estimate; exact 1.0 without TSC */
    uint64_t anchor_ticks;/* (ticks, ns) at calibration, to refine the rate */
    int64_t anchor_ns;
} hs_clock;

static inline int64_t hs_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t hs_thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline uint64_t hs_ticks(const hs_clock *c) {
#if HS_HAVE_TSC
    if (c->use_tsc)
        return __rdtsc();
#endif
    (void)c;
    return (uint64_t)hs_monotonic_ns();
}

/* Chooses the tick source and measures a first rate (spins about 0.2 ms
 * when the TSC is used). */
void hs_clock_init(hs_clock *c);
/* Refines ticks_per_ns from the span since calibration; cheap, call it
 * rarely (a clock_gettime and a division). */
void hs_clock_refine(hs_clock *c);
/* Ticks -> nanoseconds at the current rate. */
static inline int64_t hs_ticks_to_ns(const hs_clock *c, int64_t ticks) {
    return (int64_t)((double)ticks / c->ticks_per_ns + (ticks >= 0 ? 0.5 : -0.5));
}

#endif
