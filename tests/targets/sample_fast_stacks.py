"""Time split known by construction between a fast-changing stack and a
still one: each round runs fib(N), whose frames are pushed and popped every
few hundred nanoseconds, then a plain loop in one frame, and times both
itself. Prints "ready", runs for argv[1] seconds, then prints the true share
of fib as "fib SHARE"."""
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def loop(n):
    x = 0
    for i in range(n):
        x += i
    return x


def main(seconds, depth):
    t_fib = t_loop = 0.0
    clock = time.perf_counter
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = clock()
        fib(depth)
        t1 = clock()
        loop(20000)
        t2 = clock()
        t_fib += t1 - t0
        t_loop += t2 - t1
    print("fib %.4f" % (t_fib / (t_fib + t_loop)), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 16)
