"""A CPU-bound program whose time split is known by construction: a() does
7 units of identical work for every 3 that b() does (70% / 30%)."""
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


def main(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        a()
        b()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
