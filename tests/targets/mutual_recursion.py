"""Mutual recursion: is_even/is_odd call each other, plus a three-way cycle."""


def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


def ping(n):
    return 0 if n <= 0 else 1 + pong(n - 1)


def pong(n):
    return 0 if n <= 0 else 1 + pang(n - 1)


def pang(n):
    return 0 if n <= 0 else 1 + ping(n - 1)


def main():
    evens = 0
    for n in range(0, 300, 7):
        if is_even(n):
            evens += 1
    # is_odd called first: its primitive count differs from is_even's.
    odds = sum(1 for n in range(1, 200, 9) if is_odd(n))
    cycle = ping(200) + pong(31)
    return evens, odds, cycle


if __name__ == "__main__":
    print(main())
