"""A multiprocessing pool whose workers burn CPU in crunch(): what
`hotscope record --subprocesses` must see."""
import multiprocessing
import sys


def crunch(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with multiprocessing.Pool(2) as pool:
        print(sum(pool.map(crunch, [300000] * rounds)))
