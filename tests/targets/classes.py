"""Classes: __init__, properties (get/set), staticmethod, classmethod,
dunder methods invoked by the interpreter and by C code (sorted, hash, ==),
inheritance with super(), __getattr__, __len__/__iter__/__getitem__."""

import functools


@functools.total_ordering
class Vector:
    count = 0

    def __init__(self, x, y):
        self._x = x
        self.y = y
        Vector.count += 1

    @property
    def x(self):
        return self._x

    @x.setter
    def x(self, value):
        self._x = value

    @staticmethod
    def zero():
        return Vector(0, 0)

    @classmethod
    def from_tuple(cls, t):
        return cls(*t)

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return Vector(self.x * k, self.y * k)

    __rmul__ = __mul__

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)

    def __hash__(self):
        return hash((self._x, self.y))

    def __repr__(self):
        return "Vector(%r, %r)" % (self._x, self.y)

    def __abs__(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5


class Labelled(Vector):
    def __init__(self, x, y, label):
        super().__init__(x, y)
        self.label = label

    def __repr__(self):
        return self.label + ":" + super().__repr__()


class Bag:
    def __init__(self, items):
        self._items = list(items)

    def __len__(self):
        return len(self._items)

    def __getitem__(self, i):
        return self._items[i]

    def __iter__(self):
        return iter(self._items)

    def __contains__(self, item):
        return item in self._items

    def __getattr__(self, name):
        if name.startswith("n_"):
            return len(self._items)
        raise AttributeError(name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def main():
    vs = [Vector.from_tuple((i % 7, i % 5)) for i in range(60)]
    acc = Vector.zero()
    for v in vs:
        acc = acc + v
        v.x = v.x + 1
    acc = 2 * acc
    ordered = sorted(vs)
    unique = set(vs)
    lab = [Labelled(i, -i, "p%d" % i) for i in range(10)]
    text = [repr(p) for p in lab]
    with Bag(vs) as bag:
        n = len(bag) + bag.n_items
        first = bag[0]
        hit = first in bag
        try:
            bag.missing
        except AttributeError:
            pass
        norms = sum(abs(v) for v in bag)
    biggest = max(vs)
    return acc, len(ordered), len(unique), text, n, hit, round(norms, 3), biggest >= first


if __name__ == "__main__":
    print(main())
