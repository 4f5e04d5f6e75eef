"""A hot program whose only possible stacks are known by construction:
<module> -> main -> a -> b and <module> -> main -> c -> d (and their
prefixes while calls start and return), each call on a line of its own.
b() and d() are short, so frames are pushed and popped at the same
addresses a million times a second: a sampler that mixes two moments
shows a stack outside that set (main -> c -> b, a caller not at its call
line). Prints "ready" from inside main(), then runs until killed (or for
argv[1] seconds)."""
import sys
import time


def b(n):
    x = 0
    for i in range(n):  # B_BODY
        x += i  # B_BODY
    return x  # B_BODY


def a(n):
    return b(n)  # A_CALL


def d(n):
    y = 1
    for i in range(n):  # D_BODY
        y ^= i  # D_BODY
    return y  # D_BODY


def c(n):
    return d(n)  # C_CALL


def main(seconds):
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # MAIN_LOOP
        a(12)  # MAIN_A
        c(12)  # MAIN_C


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0)  # MODULE_MAIN
