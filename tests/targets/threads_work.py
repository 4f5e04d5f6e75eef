"""Threads: K worker threads each run work() once; the main thread only
starts and joins them.  work() is deterministic, so hotscope's merged
counts for the worker functions must be exactly K times the counts of
running work() once, and each thread's own stats exactly 1x."""

import threading
import time

K = 4


def crunch(n):
    return sum(i * i for i in range(n))


def helper(i):
    return crunch(50 + i % 7)


def work(seed=0):
    total = 0
    for i in range(40):
        total += helper(i + seed * 0)
        if i % 10 == 0:
            time.sleep(0.001)
    return total


def main(k=K):
    results = [None] * k
    # Keeps every worker alive until all are done, so no two workers can
    # share a thread ident (idents are reused once a thread has exited).
    all_done = threading.Barrier(k)

    def run(slot):
        results[slot] = work()
        all_done.wait()

    threads = [threading.Thread(target=run, args=(i,), name="worker-%d" % i) for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


if __name__ == "__main__":
    print(main())
