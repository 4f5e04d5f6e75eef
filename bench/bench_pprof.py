"""pprof output and input on a synthetic profile of 100,000 distinct stacks
and 1,000,000 samples (tests/pprof_synth.py: 2,000 functions, 4 threads,
stacks about 20 frames deep), against the issue's bar of 1 s per format.

    python bench/bench_pprof.py [--stacks N] [--samples N] [--repeat N]

Prints the best of --repeat runs of: ProfileData.pprof() (render + our
gzip), the same bytes through Python's zlib for comparison of size and
speed, and _core.load_pprof() (gunzip + parse + build the model). Needs
hotscope installed in the running interpreter. A benchmark, not a test.
"""
import argparse
import gzip
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from pprof_synth import synthetic_pprof  # noqa: E402

from hotscope import _core  # noqa: E402


def best(repeat, fn):
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stacks", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    opts = ap.parse_args()
    raw_in = synthetic_pprof(opts.stacks, opts.samples)
    data = _core.load_pprof(raw_in)
    counts = data.counts()
    print("profile: %d stacks, %d samples, %d nodes, %d frames"
          % (opts.stacks, data.total(clock="samples"), counts["nodes"], counts["frames"]))
    t_render, out = best(opts.repeat, data.pprof)
    raw = gzip.decompress(out)
    t_zlib, zout = best(opts.repeat, lambda: gzip.compress(raw, 6))
    t_load, _ = best(opts.repeat, lambda: _core.load_pprof(out))
    t_gunzip, _ = best(opts.repeat, lambda: gzip.decompress(out))
    print("pprof():        %6.3f s  -> %d bytes (profile.proto %d bytes)" % (t_render, len(out), len(raw)))
    print("  zlib level 6: %6.3f s  -> %d bytes (compression alone, for comparison)" % (t_zlib, len(zout)))
    print("load_pprof():   %6.3f s  (zlib's gunzip alone: %.3f s)" % (t_load, t_gunzip))


if __name__ == "__main__":
    main()
