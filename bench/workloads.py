"""Benchmark workloads for bench_trace.py.  Each takes a size factor
(1.0 = full, ~0.2-0.5 s unprofiled on 3.11) and returns a checksum."""

import threading
import time


# ---- call_heavy: recursive fib + an object-oriented scheduler of tiny methods

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Task:
    __slots__ = ("name", "left", "prio")

    def __init__(self, name, left, prio):
        self.name = name
        self.left = left
        self.prio = prio

    def done(self):
        return self.left <= 0

    def step(self):
        self.left -= 1
        return self.left

    def priority(self):
        return self.prio


class Scheduler:
    def __init__(self):
        self.tasks = []
        self.ticks = 0

    def add(self, task):
        self.tasks.append(task)

    def pick(self):
        best = self.tasks[0]
        for t in self.tasks:
            if t.priority() < best.priority():
                best = t
        return best

    def tick(self):
        self.ticks += 1
        t = self.pick()
        t.step()
        if t.done():
            self.tasks.remove(t)
        else:
            t.prio += 1

    def run(self):
        while self.tasks:
            self.tick()
        return self.ticks


def call_heavy(size):
    total = fib(27 if size >= 1 else 20)
    for _ in range(max(1, int(300 * size))):
        s = Scheduler()
        for i in range(40):
            s.add(Task(i, 1 + i % 9, i % 5))
        total += s.run()
    return total


# ---- builtins: string/dict/list processing calling many C builtins

TEXT = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
        "tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam").split()


def builtins(size):
    total = 0
    for r in range(max(1, int(20000 * size))):
        words = [w.upper() if len(w) > 4 else w.lower() for w in TEXT]
        counts = {}
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        keys = sorted(counts, key=len)
        joined = ",".join(keys)
        parts = joined.split(",")
        parts.append(str(r))
        total += len(parts) + joined.count("U") + max(map(len, parts)) + int(str(r)[:1])
        total += sum(1 for p in parts if p.startswith("D"))
    return total


# ---- numeric: long loops, few calls

def numeric(size):
    n = max(1000, int(2_000_000 * size))
    acc = 0
    x = 1
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        acc += x % 7 if i & 1 else -(x % 5)
    return acc


# ---- threads: 4 threads mixing CPU work and short sleeps

def _thread_work(size, out, slot):
    total = 0
    for r in range(max(1, int(200 * size))):
        total += sum(fib(14) for _ in range(3))
        time.sleep(0.001)
    out[slot] = total


def threads(size):
    out = [0] * 4
    ts = [threading.Thread(target=_thread_work, args=(size, out, i)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(out)


WORKLOADS = {
    "call_heavy": call_heavy,
    "builtins": builtins,
    "numeric": numeric,
    "threads": threads,
}
