/*
 * clock.c - choosing and calibrating the tracer's tick source (clock.h).
 *
 * The TSC is trusted only when the kernel trusts it: its current
 * clocksource is "tsc", which Linux only keeps when the TSC is invariant
 * and synchronised across CPUs (it falls back to hpet/acpi_pm otherwise).
 */
#include "clock.h"

#include <stdio.h>
#include <string.h>

static int kernel_uses_tsc(void) {
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return 0;
    char name[32] = {0};
    int ok = fgets(name, sizeof name, f) != NULL && strncmp(name, "tsc", 3) == 0;
    fclose(f);
    return ok;
}

/* Reads the monotonic clock and the TSC at one moment: the TSC before and
 * after the clock, again if the two are far apart (the thread was preempted
 * between them, which on a loaded machine happens and, in a calibration
 * anchor, would skew every conversion that follows by milliseconds). */
static void read_pair(const hs_clock *c, int64_t *ns, uint64_t *ticks) {
    for (int tries = 0;; tries++) {
        uint64_t before = hs_ticks(c);
        *ns = hs_monotonic_ns();
        uint64_t after = hs_ticks(c);
        *ticks = before + (after - before) / 2;
        if (after - before < 20000 || tries == 20) /* ~10 us at 2 GHz */
            return;
    }
}

void hs_clock_init(hs_clock *c) {
    c->use_tsc = HS_HAVE_TSC && kernel_uses_tsc();
    c->ticks_per_ns = 1.0;
    if (!c->use_tsc) {
        c->anchor_ns = hs_monotonic_ns();
        c->anchor_ticks = hs_ticks(c);
        return;
    }
    read_pair(c, &c->anchor_ns, &c->anchor_ticks);
    /* A first rate over ~0.2 ms: within ~0.1%, good enough until refined. */
    int64_t now;
    uint64_t ticks;
    do {
        read_pair(c, &now, &ticks);
    } while (now - c->anchor_ns < 200000);
    c->ticks_per_ns = (double)(ticks - c->anchor_ticks) / (double)(now - c->anchor_ns);
    if (!(c->ticks_per_ns > 0.01 && c->ticks_per_ns < 100.0)) {
        /* A rate outside 10 MHz..100 GHz means the TSC is not usable here. */
        c->use_tsc = 0;
        c->ticks_per_ns = 1.0;
        c->anchor_ns = hs_monotonic_ns();
        c->anchor_ticks = hs_ticks(c);
    }
}

void hs_clock_refine(hs_clock *c) {
    if (!c->use_tsc)
        return;
    int64_t ns;
    uint64_t ticks;
    read_pair(c, &ns, &ticks);
    if (ns - c->anchor_ns > 1000000) /* below 1 ms the first estimate is better */
        c->ticks_per_ns = (double)(ticks - c->anchor_ticks) / (double)(ns - c->anchor_ns);
}
