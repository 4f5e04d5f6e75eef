"""Exceptions: raised several frames deep and caught above, finally blocks,
re-raise, exception chaining, exceptions unwinding out of generators and a
with-block __exit__ that sees the exception."""


class AppError(Exception):
    pass


def level3(n):
    if n % 3 == 0:
        raise AppError(n)
    return n


def level2(n):
    try:
        return level3(n) * 2
    finally:
        note(n)


def level1(n):
    try:
        return level2(n)
    except AppError:
        raise


def note(n):
    return n


def safe(n):
    try:
        return level1(n)
    except AppError as e:
        return -e.args[0]


def chained(n):
    try:
        level3(0)
    except AppError as e:
        try:
            raise ValueError(n) from e
        except ValueError as v:
            return v.__cause__ is e


def exploding_gen(n):
    try:
        for i in range(n):
            if i == 4:
                raise AppError("gen")
            yield i
    finally:
        note(-1)


def consume():
    got = []
    try:
        for v in exploding_gen(10):
            got.append(v)
    except AppError:
        got.append("caught")
    return got


class Guard:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is AppError


def guarded(n):
    with Guard():
        level3(n)
    return n


def main():
    out = [safe(n) for n in range(30)]
    out.append(chained(7))
    out.append(consume())
    out.append([guarded(n) for n in range(6)])
    try:
        level1(3)
    except AppError:
        out.append("top")
    return out


if __name__ == "__main__":
    print(main())
