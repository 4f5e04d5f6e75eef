"""asyncio tasks meeting the tracer's other features, each measuring what
the profile must show:

- gc_in_task(): a task "churner" allocates reference cycles (automatic
  collections) and calls gc.collect() twice, timing each call; a suspended
  coroutine held only by a cycle is closed by the second collection, inside
  the task's step; the task then calls after_gc().
- fetches(): coroutines awaiting asyncio.sleep() three times each, as
  gather's tasks and awaited one by one by another coroutine, one raising
  at the end; each times itself from its first line to its last.
- two_loops(): an event loop in each of two threads, each running a task
  "worker" that spins (timed) between sleeps.
"""

import asyncio
import gc
import threading
import time

# ---- gc inside a task ------------------------------------------------------


class Cycle:
    def __init__(self):
        self.me = self


def make_cycles(n):
    for _ in range(n):
        Cycle()


async def orphan(log):
    try:
        await asyncio.sleep(3600)
    finally:  # runs when the collector closes it
        log.append("closed")


def after_gc():
    return sum(range(1000))


async def churn(measured):
    make_cycles(20000)
    await asyncio.sleep(0)
    start = time.perf_counter()
    gc.collect()
    measured["collect"].append(time.perf_counter() - start)
    held = orphan(measured["log"])
    holder = [held]
    holder.append(holder)
    held.send(None)  # suspended in its try block, at asyncio.sleep's future
    del held, holder
    make_cycles(20000)
    start = time.perf_counter()
    gc.collect()
    measured["collect"].append(time.perf_counter() - start)
    await asyncio.sleep(0)
    after_gc()


async def gc_main():
    measured = {"collect": [], "log": []}
    await asyncio.create_task(churn(measured), name="churner")
    return measured


def gc_in_task():
    return asyncio.run(gc_main())


# ---- slow calls of coroutines ---------------------------------------------

DELAYS = {1: 0.002, 2: 0.004, 5: 0.010, 8: 0.016, 11: 0.022}


async def fetch(n, measured):
    start = time.perf_counter()
    for _ in range(3):
        await asyncio.sleep(DELAYS[n])
    measured.setdefault(n, []).append(time.perf_counter() - start)
    return n


async def failing(measured):
    start = time.perf_counter()
    await asyncio.sleep(0.012)
    measured["failing"] = time.perf_counter() - start
    raise ValueError("done")


async def batch(measured):
    await asyncio.gather(fetch(1, measured), fetch(8, measured), fetch(2, measured))
    for n in (5, 1, 11):
        await fetch(n, measured)
    try:
        await failing(measured)
    except ValueError:
        pass


def fetches():
    measured = {}
    asyncio.run(batch(measured))
    return measured


# ---- a loop per thread -------------------------------------------------------

SPIN = 0.004


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def work(rounds, measured):
    for _ in range(rounds):
        start = time.perf_counter()
        spin(SPIN)
        measured.append(time.perf_counter() - start)
        await asyncio.sleep(0.001)


async def loop_main(rounds, measured):
    await asyncio.create_task(work(rounds, measured), name="worker")


def two_loops():
    measured = {3: [], 5: []}
    threads = [threading.Thread(target=asyncio.run, args=(loop_main(n, measured[n]),), name="loop%d" % n)
               for n in measured]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return measured


def main():
    gc_in_task()
    fetches()
    two_loops()


if __name__ == "__main__":
    main()
