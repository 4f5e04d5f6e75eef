"""asyncio tasks whose waits are known by construction, for record's
await chains: "napper" spends its whole life in nap -> nap_once ->
asyncio.sleep (NAP_LINE), "spinner" spins between sleep(0)s (SPIN_LINE),
and the main task awaits spinner (AWAIT_SPINNER_LINE) then napper; both
end after argv[1] seconds. Prints "ready" first. With "kinds" after the
seconds, kinds() instead; "kinds uvloop": on uvloop's loop."""
import asyncio
import sys
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def nap_once():
    await asyncio.sleep(0.02)  # NAP_LINE


async def nap(end):
    while time.monotonic() < end:
        await nap_once()


async def spinner(end):
    while time.monotonic() < end:
        spin(0.002)
        await asyncio.sleep(0)  # SPIN_LINE


async def main(seconds):
    end = time.monotonic() + seconds
    spinning = asyncio.create_task(spinner(end), name="spinner")
    napping = asyncio.create_task(nap(end), name="napper")
    print("ready", flush=True)
    await spinning  # AWAIT_SPINNER_LINE
    await napping


async def child(seconds):
    await asyncio.sleep(seconds)


def blocking(seconds):
    time.sleep(seconds)


async def kinds(seconds):
    """The other ways to wait, each for `seconds`: a gather of two
    children (GATHER_LINE), a TaskGroup's exit (3.11+, GROUP_LINE), a task
    running a function in a thread (THREAD_LINE)."""
    print("ready", flush=True)
    await asyncio.gather(child(seconds), child(seconds))  # GATHER_LINE
    if sys.version_info >= (3, 11):
        async with asyncio.TaskGroup() as group:  # GROUP_LINE
            group.create_task(child(seconds), name="grouped")
    await asyncio.create_task(asyncio.to_thread(blocking, seconds), name="threaded")  # THREAD_LINE


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    run = asyncio.run
    if sys.argv[3:] == ["uvloop"]:
        import uvloop

        run = uvloop.run
    run(kinds(seconds) if sys.argv[2:3] == ["kinds"] else main(seconds))
