"""Spends its time in a Python __init__ called many times: from the second
call or so, 3.13 runs it through a specialized CALL that puts a shim frame
(_Py_InitCleanup) between the caller and __init__. Prints "ready", runs
for argv[1] seconds."""
import sys
import time


class Slow:
    def __init__(self):
        end = time.monotonic() + 0.002
        while time.monotonic() < end:  # INIT_LOOP
            pass


def main(seconds):
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        Slow()  # MAIN_CALL


if __name__ == "__main__":
    main(float(sys.argv[1]))
