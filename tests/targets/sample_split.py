"""A CPU-bound program whose time split is known by construction: a() does
7 units of identical work for every 3 that b() does (70% / 30%). On a
loaded machine the wall-clock split can drift from 70/30 (one phase meets
more contention than the other), so with "--report" it also times both
itself and prints "split A B" (shares of the time in a() and b()) at the
end: the ground truth a sampler's shares are checked against."""
import sys
import time


def unit():
    x = 0
    for i in range(20000):
        x += i
    return x


def a():
    for _ in range(7):
        unit()


def b():
    for _ in range(3):
        unit()


def main(seconds, report=False):
    clock = time.perf_counter
    in_a = in_b = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = clock()
        a()
        t1 = clock()
        b()
        in_a += t1 - t0
        in_b += clock() - t1
    if report:
        print("split %.4f %.4f" % (in_a / (in_a + in_b), in_b / (in_a + in_b)), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0, "--report" in sys.argv)
