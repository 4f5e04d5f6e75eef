"""Threads with known names: "worker-alpha" and "worker-beta" (named by
threading.Thread(name=...)), the main thread renamed "conductor", and one
thread started with _thread, which threading never names (the sampler
falls back to Thread-<tid> for it). All but the main thread spin on the CPU
in work(). Prints "ready <tid of the _thread thread>" once all run, then
runs for argv[1] seconds (default 30)."""
import _thread
import sys
import threading
import time

started = threading.Barrier(3)
raw_tid = []


def work(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1  # WORK_LINE


def named(seconds):
    started.wait()
    work(seconds)


def raw(seconds):
    raw_tid.append(threading.get_native_id())
    work(seconds)


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    threading.current_thread().name = "conductor"
    threads = [threading.Thread(target=named, args=(seconds,), name=name)
               for name in ("worker-alpha", "worker-beta")]
    for t in threads:
        t.start()
    _thread.start_new_thread(raw, (seconds,))
    started.wait()
    while not raw_tid:
        time.sleep(0.01)
    print("ready %d" % raw_tid[0], flush=True)
    for t in threads:
        t.join()
