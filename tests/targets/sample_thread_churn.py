"""Starts named threads one after another while the main thread spins, so a
sampler meets threads in their first moments (before threading has their
name, and on 3.11+ before the interpreter has their kernel id). Prints
"ready", runs for argv[1] seconds."""
import sys
import threading
import time


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def main(seconds):
    print("ready", flush=True)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        workers = [threading.Thread(target=spin, args=(0.02,), name="churn-%d" % (n + k))
                   for k in range(4)]
        n += 4
        for w in workers:
            w.start()
        for w in workers:
            w.join()


if __name__ == "__main__":
    main(float(sys.argv[1]))
