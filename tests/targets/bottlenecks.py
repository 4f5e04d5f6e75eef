"""Programs built to be one kind of bottleneck each, for `hotscope diagnose`
(tests/test_diagnose.py): `python bottlenecks.py KIND`.

  cpu      a quadratic search: one function burns the CPU
  waiting  one call per item to a slow service (sleep): wall >> CPU, N+1
  blocked  the main thread waits for a lock another thread holds while it sleeps
  gc       many reference cycles over a large live heap: the collector's time
  calls    a tiny function called from one loop hundreds of thousands of times
  gil      three threads running Python code at once
  memory   a cache that only grows
  none     work spread thin over many functions, no waits, flat memory
"""
import sys
import threading
import time


# ---- cpu ----------------------------------------------------------------------

def find_duplicates(items):
    found = []
    for i, a in enumerate(items):
        for b in items[:i]:  # the quadratic comparison
            if a == b:
                found.append(a)
    return found


def cpu():
    items = [(i * 7919) % 4001 for i in range(3500)]
    print(len(find_duplicates(items)))


# ---- waiting ------------------------------------------------------------------

def lookup(key):
    time.sleep(0.004)  # a round trip to a slow service
    return key * 2


def waiting():
    print(sum(lookup(k) for k in range(120)))


# ---- blocked ------------------------------------------------------------------

def blocked():
    lock = threading.Lock()
    started = threading.Event()

    def holder():
        for _ in range(8):
            with lock:
                started.set()
                time.sleep(0.04)  # slow work done holding the lock
            time.sleep(0.001)

    thread = threading.Thread(target=holder)
    thread.start()
    started.wait()
    total = 0
    for i in range(8):
        with lock:  # the main thread waits here
            total += i
        time.sleep(0.001)
    thread.join()
    print(total)


# ---- gc -----------------------------------------------------------------------

class Node:
    def __init__(self, parent):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def build_trees(count):
    for _ in range(count):
        root = Node(None)
        for _ in range(6):
            Node(root)  # each child points back at the root: a cycle


def gc_heavy():
    import gc

    gc.set_threshold(200, 2, 2)  # a tight schedule, as an allocation-heavy phase meets
    # A large live heap every full collection walks, built with the
    # collector off: its dicts count as allocations, and the collections
    # they would trigger here would make this function, not build_trees,
    # the one that triggers most (seen on 3.12 under load).
    gc.disable()
    keep = [{"n": i} for i in range(150000)]
    gc.enable()
    build_trees(25000)
    print(len(keep))


# ---- calls --------------------------------------------------------------------

def scale(value):
    return value * 3


def calls():
    total = 0
    for i in range(400000):
        total += scale(i)  # one call per element
    print(total)


# ---- gil ----------------------------------------------------------------------

def spin(n):
    x = 0
    for i in range(n):
        x += i % 7
    return x


def gil():
    threads = [threading.Thread(target=spin, args=(2500000,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


# ---- memory -------------------------------------------------------------------

CACHE = {}


def remember(key):
    CACHE[key] = bytearray(400000)  # never evicted


def memory():
    for key in range(400):
        remember(key)
        time.sleep(0.002)
    print(len(CACHE))


# ---- none ----------------------------------------------------------------------

def step_0(n):
    x = 0
    for i in range(n):
        x += i % 7
    return x


def step_1(n):
    x = 0
    for i in range(n):
        x ^= i * 3
    return x


def step_2(n):
    x = 0
    for i in range(n):
        x += (i << 1) & 255
    return x


def step_3(n):
    x = 0
    for i in range(n):
        x = (x + i) % 1000003
    return x


def step_4(n):
    x = 0
    for i in range(n):
        x += i * 5 % 3
    return x


def step_5(n):
    x = 0
    for i in range(n):
        x += i // 3
    return x


def step_6(n):
    x = 0
    for i in range(n):
        x -= i % 5
    return x


def step_7(n):
    x = 0
    for i in range(n):
        x += (i - 500) * 2
    return x


def step_8(n):
    x = 0
    for i in range(n):
        x = (x * 3 + i) % 65521
    return x


def step_9(n):
    x = 0
    for i in range(n):
        x += i * i % 13
    return x


def step_10(n):
    x = 0
    for i in range(n):
        x |= i & 1023
    return x


def step_11(n):
    x = 0
    for i in range(n):
        x += (i % 9) * 2
    return x


def step_12(n):
    x = 0
    for i in range(n):
        x += i >> 2
    return x


def step_13(n):
    x = 0
    for i in range(n):
        x += i % 17
    return x


def step_14(n):
    x = 0
    for i in range(n):
        x += i % 19
    return x


def step_15(n):
    x = 0
    for i in range(n):
        x ^= i * 7
    return x


def step_16(n):
    x = 0
    for i in range(n):
        x += (i << 2) & 511
    return x


def step_17(n):
    x = 0
    for i in range(n):
        x = (x + 3 * i) % 999983
    return x


def step_18(n):
    x = 0
    for i in range(n):
        x += i * 11 % 7
    return x


def step_19(n):
    x = 0
    for i in range(n):
        x += i // 5
    return x


def step_20(n):
    x = 0
    for i in range(n):
        x -= i % 11
    return x


def step_21(n):
    x = 0
    for i in range(n):
        x += (i - 900) * 3
    return x


def step_22(n):
    x = 0
    for i in range(n):
        x = (x * 5 + i) % 65519
    return x


def step_23(n):
    x = 0
    for i in range(n):
        x += i * i % 23
    return x


STEPS = [step_0, step_1, step_2, step_3, step_4, step_5, step_6, step_7, step_8, step_9, step_10, step_11, step_12, step_13, step_14, step_15, step_16, step_17, step_18, step_19, step_20, step_21, step_22, step_23]


def none():
    total = 0
    for _ in range(4):
        for step in STEPS:
            total += step(15000)
    print(total)


if __name__ == "__main__":
    {"cpu": cpu, "waiting": waiting, "blocked": blocked, "gc": gc_heavy, "calls": calls, "gil": gil,
     "memory": memory, "none": none}[sys.argv[1]]()
