"""A thread whose name holds a lone surrogate (a Python str may, UTF-8 may
not) and a character outside the BMP, spinning in a function of its own.
Prints "ready", runs argv[1] seconds."""
import sys
import threading
import time


def odd_spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


if __name__ == "__main__":
    seconds = float(sys.argv[1])
    worker = threading.Thread(target=odd_spin, args=(seconds,), name="odd-\udcff-\U0001F600")
    worker.start()
    print("ready", flush=True)
    worker.join()
