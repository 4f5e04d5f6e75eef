"""Direct recursion: naive fib plus a memo-less sum over a tree of calls.

Ground truth by construction: fib(n) makes F(n) calls where
F(0) = F(1) = 1 and F(n) = 1 + F(n-1) + F(n-2); all but the outermost are
recursive, so cProfile reports F(n)/1 for fib when called once.
"""


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def main():
    total = 0
    for n in (5, 10, 18):
        total += fib(n)
    total += fact(30) % 1000
    return total


if __name__ == "__main__":
    print(main())
