"""Deep recursion: descend() recurses DEPTH (50,000) frames deep.

Run in a thread created after threading.stack_size(512 MiB) with the
recursion limit raised, because 3.10 recurses on the C stack.  Ground
truth by construction: descend is called DEPTH + 1 times, 1 primitive."""

import sys
import threading

DEPTH = 50_000


def descend(n):
    if n == 0:
        return 0
    return descend(n - 1) + 1


def work():
    return descend(DEPTH)


def main():
    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size()
    result = []
    sys.setrecursionlimit(DEPTH + 50_000)
    threading.stack_size(512 * 1024 * 1024)
    try:
        t = threading.Thread(target=lambda: result.append(work()), name="deep")
        t.start()
        t.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if result != [DEPTH]:
        raise RuntimeError("deep recursion failed: %r" % (result,))
    return result[0]


if __name__ == "__main__":
    print(main())
