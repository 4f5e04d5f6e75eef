"""asyncio tasks whose waits are known by construction, for record's
await chains: "napper" spends its whole life in nap -> nap_once ->
asyncio.sleep (NAP_LINE), "spinner" spins between sleep(0)s (SPIN_LINE),
and the main task awaits spinner (AWAIT_SPINNER_LINE) then napper; both
end after argv[1] seconds. Prints "ready" first."""
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


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0))
