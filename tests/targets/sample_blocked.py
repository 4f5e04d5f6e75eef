"""Stops at known lines so `hotscope dump` can be checked: the main thread
sleeps inside outer() -> middle() -> inner(), a second thread spins on the
CPU in spin(). Prints "ready" once both are in place, then waits."""
import sys
import threading
import time

stop = threading.Event()


def spin():
    n = 0
    while not stop.is_set():
        n += 1  # SPIN_LINE


def inner(seconds):
    local_text = "hello"
    local_number = 12345
    time.sleep(seconds)  # SLEEP_LINE
    return local_text, local_number


def middle(seconds):
    return inner(seconds)  # MIDDLE_LINE


def outer(seconds):
    return middle(seconds)  # OUTER_LINE


def deep(n, seconds):
    if n == 0:
        time.sleep(seconds)  # DEEP_LINE
        return 0
    return deep(n - 1, seconds)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    worker = threading.Thread(target=spin, name="spinner", daemon=True)
    worker.start()
    print("ready", flush=True)
    try:
        if depth:
            sys.setrecursionlimit(depth + 1000)
            deep(depth, seconds)
        else:
            outer(seconds)
    finally:
        stop.set()
