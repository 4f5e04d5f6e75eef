"""asyncio tasks whose split is known by construction, measured in the run:
"cruncher" spins on the CPU between sleep(0)s, "napper" awaits
asyncio.sleep(SLEEP) in a loop; each measures its own spins and waits.
kinds() runs the other ways tasks start: gather, TaskGroup (3.11+), a
named to_thread task, a task awaiting another; eager() an eager task. split()
returns what it measured, so the profile can be checked against it."""

import asyncio
import sys
import time

ROUNDS = 6
SPIN = 0.01
SLEEP = 0.01


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def crunch(measured):
    for _ in range(ROUNDS):
        start = time.perf_counter()
        spin(SPIN)
        measured["spun"] += time.perf_counter() - start
        await asyncio.sleep(0)


async def nap(measured):
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await asyncio.sleep(SLEEP)
        measured["waited"] += time.perf_counter() - start


async def split():
    measured = {"spun": 0.0, "waited": 0.0}
    cruncher = asyncio.create_task(crunch(measured), name="cruncher")
    napper = asyncio.create_task(nap(measured), name="napper")
    await cruncher
    await napper
    return measured


def blocking(seconds):
    time.sleep(seconds)
    return seconds


async def child(i):
    await asyncio.sleep(0.002 * i)
    return i


async def kinds():
    await asyncio.gather(child(1), child(2), child(3))
    if sys.version_info >= (3, 11):
        async with asyncio.TaskGroup() as group:
            group.create_task(child(1), name="grouped-one")
            group.create_task(child(2), name="grouped-two")
    await asyncio.create_task(asyncio.to_thread(blocking, 0.005), name="threaded")


async def eager():
    """3.12+: an eager task runs its first step inside create_task, which
    names it only afterwards."""
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    await asyncio.create_task(child(2), name="eager-one")


def run(coro_func, loop="asyncio"):
    if loop == "uvloop":
        import uvloop

        return uvloop.run(coro_func())
    return asyncio.run(coro_func())


def main():
    return run(split)


if __name__ == "__main__":
    print(main())
