"""Known time split: busy(0.10) spins on time.perf_counter for 0.10 s,
sleeper(0.05) sleeps 0.05 s.  Under the wall clock cumtime(busy) is ~0.10
and cumtime(sleeper) ~0.05; under a CPU clock sleeper is ~0 and busy is the
CPU time the spin really got.  On a loaded machine a 0.10 s spin may get
only part of a CPU, so main() also measures each call's wall and thread CPU
time itself (outside the calls) into MEASURED: that is the ground truth the
profiler's CPU clock is checked against."""

import time

BUSY = 0.10
SLEEP = 0.05
MEASURED = {}


def busy(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def sleeper(seconds):
    time.sleep(seconds)


def main():
    for func, arg in ((busy, BUSY), (sleeper, SLEEP)):
        w0, c0 = time.perf_counter(), time.thread_time()
        func(arg)
        c1, w1 = time.thread_time(), time.perf_counter()
        MEASURED[func.__name__] = (w1 - w0, c1 - c0)
    return MEASURED


if __name__ == "__main__":
    print(main())
