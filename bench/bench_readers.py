"""Reading and writing big profiles: 1,000,000 samples over 100,000 distinct
stacks, in every format hotscope reads back (model JSON, speedscope,
collapsed, pstats). Prints one line per step with its wall time (best of 3);
the goal is under 1 s each.

    python bench/bench_readers.py [STACKS] [SAMPLES]
"""

import random
import sys
import time

from hotscope import _core


def big_collapsed(stacks=100000, samples=1000000, seed=7):
    """Collapsed text of `stacks` distinct stacks (a random tree of calls
    over 2,000 functions, 2 to 40 frames deep) whose counts sum to `samples`."""
    rng = random.Random(seed)
    funcs = ["f%d (mod%d.py:%d)" % (i, i % 200, 10 + i) for i in range(2000)]
    paths = [("thread MainThread", )]
    seen = set()
    while len(seen) < stacks:
        base = paths[rng.randrange(len(paths))]
        if len(base) >= 40:
            continue
        path = base + (rng.choice(funcs),)
        if path in seen:
            continue
        seen.add(path)
        paths.append(path)
    stacks_list = sorted(seen)
    counts = [1] * len(stacks_list)
    for _ in range(samples - len(stacks_list)):
        counts[rng.randrange(len(counts))] += 1
    return "".join("%s %d\n" % (";".join(p), c) for p, c in zip(stacks_list, counts)).encode()


def best(fn, repeat=3):
    times = []
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    stacks = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    text = big_collapsed(stacks, samples)
    print("profile: %d stacks, %d samples, collapsed %.1f MB" % (stacks, samples, len(text) / 1e6))
    t, data = best(lambda: _core.load(text, "collapsed"))
    print("read collapsed      %.3f s" % t)
    outputs = {}
    for name, fn in [
        ("collapsed", lambda: data.collapsed(clock="samples")),
        ("speedscope", lambda: data.speedscope(clock="samples")),
        ("json", lambda: data.json()),
        ("pstats", lambda: data.prof(clock="samples")),
    ]:
        t, out = best(fn)
        outputs[name] = out
        print("write %-13s %.3f s  (%.1f MB)" % (name, t, len(out) / 1e6))
    for name in ("speedscope", "json", "pstats"):
        t, _ = best(lambda: _core.load(outputs[name], name))
        print("read  %-13s %.3f s" % (name, t))
    # As a tool that writes every sample on its own would: 1,000,000 samples.
    flat = one_sample_each(outputs["speedscope"])
    t, again = best(lambda: _core.load(flat, "speedscope"))
    print("read  speedscope with every sample separate (%.1f MB) %.3f s" % (len(flat) / 1e6, t))
    assert again.total(clock="samples") == samples


def one_sample_each(speedscope):
    """The same profile with each sample written separately, weight 1."""
    import json

    doc = json.loads(speedscope)
    prof = doc["profiles"][0]
    parts = []
    for stack, weight in zip(prof["samples"], prof["weights"]):
        text = json.dumps(stack, separators=(",", ":"))
        parts.extend([text] * weight)
    total = len(parts)
    head = json.dumps({k: v for k, v in doc.items() if k != "profiles"})[:-1]
    body = '"profiles":[{"type":"sampled","name":"MainThread","unit":"none","startValue":0,"endValue":%d,' % total
    return (head + "," + body + '"samples":[' + ",".join(parts) + '],"weights":[' +
            ",".join(["1"] * total) + "]}]}").encode()


if __name__ == "__main__":
    main()
