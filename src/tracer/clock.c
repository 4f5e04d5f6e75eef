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

void hs_clock_init(hs_clock *c) {
    c->use_tsc = HS_HAVE_TSC && kernel_uses_tsc();
    c->ticks_per_ns = 1.0;
    c->anchor_ns = hs_monotonic_ns();
    c->anchor_ticks = hs_ticks(c);
    if (!c->use_tsc)
        return;
    /* A first rate over ~0.2 ms: within ~0.1%, good enough until refined. */
    int64_t now;
    do {
        now = hs_monotonic_ns();
    } while (now - c->anchor_ns < 200000);
    c->ticks_per_ns = (double)(hs_ticks(c) - c->anchor_ticks) / (double)(now - c->anchor_ns);
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
    int64_t ns = hs_monotonic_ns();
    uint64_t ticks = hs_ticks(c);
    if (ns - c->anchor_ns > 1000000) /* below 1 ms the first estimate is better */
        c->ticks_per_ns = (double)(ticks - c->anchor_ticks) / (double)(ns - c->anchor_ns);
}
