"""Many C builtins: len, sorted, min/max with key lambdas, str methods,
dict/list methods, map/filter with lambdas, isinstance, getattr, int/str
conversions, a builtin that raises (int('x'))."""

WORDS = (
    "the quick brown fox jumps over the lazy dog while seven tired "
    "wizards quietly pack boxes of liquor jugs near the old stone bridge"
).split()


def normalise(word):
    return word.strip().lower().replace("o", "0")


def main():
    words = [normalise(w) for w in WORDS * 3]
    lengths = list(map(len, words))
    long_words = list(filter(lambda w: len(w) > 4, words))
    by_len = sorted(words, key=lambda w: (len(w), w))
    upper = [w.upper() for w in words if w.isalpha()]
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    counts.setdefault("zzz", 0)
    items = sorted(counts.items())
    keys = list(counts.keys())
    keys.sort(key=str.lower)
    keys.reverse()
    stack = []
    for i, w in enumerate(words):
        stack.append(w)
        if i % 4 == 0:
            stack.pop()
    stack.extend(upper[:5])
    stack.insert(0, "first")
    joined = ",".join(stack)
    parts = joined.split(",")
    found = joined.find("fox") + joined.count("0")
    starts = sum(1 for w in words if w.startswith("t"))
    nums = [int(s) for s in "10 20 30 40".split()]
    bad = 0
    for s in ("1", "x", "3", "y"):
        try:
            bad += int(s)
        except ValueError:
            bad -= 1
    kinds = [isinstance(x, str) for x in (1, "a", 2.0, "b")]
    attrs = [getattr(w, "upper")() for w in words[:5]]
    longest = max(words, key=len)
    shortest = min(map(lambda w: (len(w), w), words))
    total = sum(map(lambda n: n * n, range(50)))
    text = "-".join(str(n) for n in range(20))
    fmt = "{}:{}".format(len(parts), found)
    return (lengths[:3], len(long_words), by_len[:2], items[:2], keys[:2], parts[:2],
            starts, nums, bad, kinds, attrs, longest, shortest, total, text, fmt, hash(fmt) is not None)


if __name__ == "__main__":
    print(main())
