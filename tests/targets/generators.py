"""Generators: plain, generator expressions, yield from, send, throw,
close before exhaustion, generators consumed by C builtins (sum, list, zip)."""


def count_up(n):
    i = 0
    while i < n:
        yield i
        i += 1


def squares(n):
    for i in count_up(n):
        yield i * i


def chain_all(*ns):
    for n in ns:
        yield from count_up(n)
    return len(ns)


def delegator():
    result = yield from chain_all(3, 4)
    yield result


def accumulator():
    total = 0
    while True:
        try:
            value = yield total
        except ValueError:
            total = -total
            continue
        if value is None:
            break
        total += value
    return total


def infinite():
    i = 0
    try:
        while True:
            yield i
            i += 1
    finally:
        cleanup(i)


def cleanup(i):
    return i


def pairs(n):
    return zip(count_up(n), squares(n))


def main():
    out = []
    out.append(sum(squares(50)))
    out.append(list(delegator()))
    out.append(sum(x for x in count_up(40) if x % 3))
    out.append(max((x * 2 for x in range(30)), default=0))
    acc = accumulator()
    next(acc)
    for v in range(1, 20):
        acc.send(v)
    acc.throw(ValueError)
    try:
        acc.send(None)
    except StopIteration as stop:
        out.append(stop.value)
    gen = infinite()
    for v in gen:
        if v == 25:
            break
    gen.close()
    out.append(list(pairs(10)))
    early = squares(100)
    out.append(next(early) + next(early))
    early.close()
    return out


if __name__ == "__main__":
    print(main())
