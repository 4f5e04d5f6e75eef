"""asyncio: coroutines awaiting coroutines, gather, sleep(0) switches,
an async generator consumed with async for, async context manager, and a
task that raises and is caught by the awaiting coroutine."""

import asyncio


async def leaf(i):
    await asyncio.sleep(0)
    return i * 2


async def worker(name, n):
    total = 0
    for i in range(n):
        total += await leaf(i)
        if i % 3 == 0:
            await asyncio.sleep(0)
    return name, total


async def ticker(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


class Resource:
    async def __aenter__(self):
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc):
        await asyncio.sleep(0)
        return False


async def failing():
    await asyncio.sleep(0)
    raise KeyError("nope")


async def amain():
    results = await asyncio.gather(worker("a", 8), worker("b", 5), worker("c", 3))
    ticks = [t async for t in ticker(6)]
    async with Resource():
        extra = await leaf(21)
    try:
        await failing()
    except KeyError:
        extra += 1
    return results, ticks, extra


def main():
    return asyncio.run(amain())


if __name__ == "__main__":
    print(main())
