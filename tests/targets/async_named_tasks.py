"""Three asyncio tasks, each burning CPU in a function of its own: "alpha"
runs crunch_a, "beta" crunch_b, and a task with asyncio's default name
(a child of gather) crunch_c; they take turns at each await. Prints
"ready" once the loop runs, then goes on for argv[1] seconds. With
argv[2], sleeps that long before it imports asyncio (a program that gets
to asyncio late)."""
import sys
import time

if __name__ == "__main__" and len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))

import asyncio  # noqa: E402


def crunch_a(n):
    return sum(i % 7 for i in range(n))


def crunch_b(n):
    return sum(i % 5 for i in range(n))


def crunch_c(n):
    return sum(i % 3 for i in range(n))


async def work_a(end):
    while time.monotonic() < end:
        crunch_a(5000)
        await asyncio.sleep(0)


async def work_b(end):
    while time.monotonic() < end:
        crunch_b(5000)
        await asyncio.sleep(0)


async def work_c(end):
    while time.monotonic() < end:
        crunch_c(5000)
        await asyncio.sleep(0)


async def main(seconds):
    print("ready", flush=True)
    end = time.monotonic() + seconds
    alpha = asyncio.create_task(work_a(end), name="alpha")
    beta = asyncio.create_task(work_b(end), name="beta")
    await asyncio.gather(alpha, beta, work_c(end))


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0))
