"""A program that spends a known part of its time in cyclic garbage
collections: automatic collection is off, and collect() calls gc.collect()
on many reference cycles, timing each call. Prints, at the end, the time
main() ran and the time spent inside gc.collect(), both in seconds."""
import gc
import sys
import time


class Cycle:
    def __init__(self):
        self.me = self


def spin():
    x = 0
    for i in range(100000):
        x += i
    return x


def churn(n):
    return [Cycle() for _ in range(n)]


def collect():
    t0 = time.perf_counter()
    gc.collect()
    return time.perf_counter() - t0


def main(seconds):
    gc.disable()
    start = time.perf_counter()
    in_gc = 0.0
    while time.perf_counter() - start < seconds:
        spin()
        churn(20000)  # dropped at once: cycles only the collector frees
        in_gc += collect()
    print(time.perf_counter() - start, in_gc, flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
