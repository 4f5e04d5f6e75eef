"""A hand-rolled protobuf encoder and a synthetic pprof profile of a chosen
size, for the pprof tests and bench/bench_pprof.py (no protoc, no
dependency: the wire format is a few lines).

synthetic_pprof(stacks, samples) builds `stacks` distinct call stacks over
2,000 functions in 100 files, in 4 threads, with `samples` samples spread
over them as evenly as they divide (samples/count and wall/nanoseconds at
1 ms per sample), as a raw (uncompressed) profile.proto.
"""

import random


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_varint(number, v):
    return varint(number << 3) + varint(v)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def synthetic_pprof(stacks=100_000, samples=1_000_000, seed=1):
    rng = random.Random(seed)
    strings = [""]
    index = {}

    def s(text):
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return index[text]

    out = []
    out.append(field_bytes(1, field_varint(1, s("samples")) + field_varint(2, s("count"))))
    out.append(field_bytes(1, field_varint(1, s("wall")) + field_varint(2, s("nanoseconds"))))
    functions = []
    for f in range(2000):
        name, file, first = s("mod%d.func%d" % (f % 100, f)), s("/app/mod%d.py" % (f % 100)), 10 + f
        functions.append(first)
        out.append(field_bytes(5, field_varint(1, f + 1) + field_varint(2, name) + field_varint(3, name)
                               + field_varint(4, file) + field_varint(5, first)))
        line = field_varint(1, f + 1) + field_varint(2, first + 3)
        out.append(field_bytes(4, field_varint(1, f + 1) + field_bytes(4, line)))
    vb = [varint(i) for i in range(2001)]

    # A random tree of `stacks` nodes; each node's stack is its path. A new
    # node extends the previous one (deepening) or hangs under a random
    # earlier node, which keeps depths in the tens, as in real programs.
    ids = [b""] * stacks          # packed location ids, leaf first
    children = [set() for _ in range(stacks)]
    roots = set()
    for i in range(stacks):
        while True:
            parent = i - 1 if i and rng.random() < 0.6 else (rng.randrange(i) if i and rng.random() < 0.9 else -1)
            loc = rng.randrange(2000) + 1
            siblings = children[parent] if parent >= 0 else roots
            if loc not in siblings:
                siblings.add(loc)
                break
        ids[i] = vb[loc] + (ids[parent] if parent >= 0 else b"")
    thread_key, index_key = s("thread"), s("thread_index")
    threads = [s(name) for name in ("MainThread", "worker-1", "worker-2", "worker-3")]
    per, extra = divmod(samples, stacks)
    for i in range(stacks):
        n = per + (1 if i < extra else 0)
        t = i % 4
        label = field_bytes(3, field_varint(1, thread_key) + field_varint(2, threads[t]))
        label += field_bytes(3, field_varint(1, index_key) + field_varint(3, t))
        values = varint(n) + varint(n * 1_000_000)
        out.append(field_bytes(2, field_bytes(1, ids[i]) + field_bytes(2, values) + label))
    for text in strings:
        out.append(field_bytes(6, text.encode()))
    return b"".join(out)
