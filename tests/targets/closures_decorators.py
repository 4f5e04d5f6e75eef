"""Closures and decorators: nested functions, a counting decorator, a
decorator with arguments, functools.wraps/partial/reduce/lru_cache, lambdas
returned from functions, nonlocal state."""

import functools


def counted(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return func(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


def repeat(times):
    def decorate(func):
        def inner(*args):
            result = None
            for _ in range(times):
                result = func(*args)
            return result

        return inner

    return decorate


@counted
def add(a, b):
    return a + b


@repeat(3)
@counted
def mul(a, b):
    return a * b


def make_counter():
    count = 0

    def incr(step=1):
        nonlocal count
        count += step
        return count

    return incr


def make_adders(n):
    return [lambda x, k=k: x + k for k in range(n)]


@functools.lru_cache(maxsize=None)
def cached_square(n):
    return n * n


def compose(*funcs):
    def composed(x):
        for f in reversed(funcs):
            x = f(x)
        return x

    return composed


def main():
    cached_square.cache_clear()
    total = 0
    for i in range(40):
        total = add(total, i)
        total = mul(total, 1)
    counter = make_counter()
    for _ in range(25):
        counter()
    counter(10)
    adders = make_adders(8)
    summed = [f(1) for f in adders]
    squares = [cached_square(i % 10) for i in range(50)]
    double = functools.partial(mul, 2)
    pipeline = compose(double, lambda v: v + 1, abs)
    product = functools.reduce(lambda a, b: a * b, range(1, 10))
    return total, counter(0), summed, sum(squares), pipeline(-5), product


if __name__ == "__main__":
    print(main())
