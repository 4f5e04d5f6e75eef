"""A program that alternates between C and Python for tests/test_sample_native.py:
python_caller() calls spin_in_c() of the shared library argv[1] (ctypes),
which spins in C for 20 ms; python_work() then loops in Python for about
10 ms. Prints "ready", waits for a line on stdin (unless argv[3] is
"nowait"), runs for argv[2] seconds, prints the share of that time spent
inside the C call as measured around it, and exits with status 3."""
import ctypes
import sys
import time

lib = ctypes.CDLL(sys.argv[1])
lib.spin_in_c.argtypes = [ctypes.c_double]
lib.spin_in_c.restype = ctypes.c_double


def python_caller(seconds):
    return lib.spin_in_c(seconds)  # C_CALL


def python_work(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def main(seconds):
    in_c = 0.0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        python_caller(0.02)
        in_c += time.perf_counter() - t
        python_work(0.01)
    print("in_c %.4f" % (in_c / (time.perf_counter() - start)), flush=True)


print("ready", flush=True)
if len(sys.argv) < 4 or sys.argv[3] != "nowait":
    sys.stdin.readline()
main(float(sys.argv[2]))
sys.exit(3)
