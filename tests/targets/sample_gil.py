"""Threads whose relation to the GIL is known by construction, for the
sampler's cpu and gil modes: two threads that run pure Python and so take
turns holding the GIL ("spin-a", "spin-b"), one that hashes a large buffer
(hashlib releases the GIL while it hashes: "hasher"), one that sleeps
("sleeper"). Each runs for the seconds given (default 2). At the end it
prints {thread name: native thread id} as JSON, so a sampler can tell the
threads apart whatever names it read."""
import hashlib
import json
import sys
import threading
import time


native_ids = {}


def known(function):
    def run(*args):
        native_ids[threading.current_thread().name] = threading.get_native_id()
        function(*args)
    return run


@known
def spin(seconds):
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        for i in range(1000):
            x += i


@known
def hasher(seconds, data):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        hashlib.sha256(data).digest()


@known
def sleeper(seconds):
    time.sleep(seconds)


@known
def locked(lock):
    with lock:
        pass


def main(seconds):
    data = b"x" * (16 << 20)
    threads = [threading.Thread(target=spin, args=(seconds,), name="spin-a"),
               threading.Thread(target=spin, args=(seconds,), name="spin-b"),
               threading.Thread(target=hasher, args=(seconds, data), name="hasher"),
               threading.Thread(target=sleeper, args=(seconds,), name="sleeper")]
    lock = threading.Lock()
    lock.acquire()
    waiter = threading.Thread(target=locked, args=(lock,), name="locked")
    waiter.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lock.release()
    waiter.join()
    print(json.dumps(native_ids), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)
