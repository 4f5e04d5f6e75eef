"""A loop that keeps exact time: every 10 ms period (absolute deadlines on
the monotonic clock) it spins 7 ms in a() and 3 ms in b(). A sampler at
100 Hz with a fixed interval would land at the same point of every period
(aliasing) and see only one of them. Prints "ready", runs argv[1] seconds."""
import sys
import time

PERIOD = 0.010


def spin_until(deadline):
    while time.monotonic() < deadline:
        pass


def a(deadline):
    spin_until(deadline)


def b(deadline):
    spin_until(deadline)


def main(seconds):
    print("ready", flush=True)
    start = time.monotonic()
    n = 0
    while time.monotonic() < start + seconds:
        t = start + n * PERIOD
        a(t + 0.7 * PERIOD)
        b(t + PERIOD)
        n += 1


if __name__ == "__main__":
    main(float(sys.argv[1]))
