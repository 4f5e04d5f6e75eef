"""`hotscope bench` against `python -m timeit` and pyperf, in one run.

    python bench/bench_bench.py                          # .venvs/3.12, 10 invocations
    python bench/bench_bench.py --python .venvs/3.13/bin/python --invocations 5
    python bench/bench_bench.py --quick

Three tables:

designs   per-loop cost of timing `pass` inside one process, for the ways a
          timing loop can be built: timeit's (a Python for loop over
          itertools.repeat, perf_counter around it), ours (a for loop over
          the C timed iterator, without and with the x10 unrolling), and a
          C loop calling a function through vectorcall. The cost of `pass`
          is the timer's own overhead per loop.
overhead  the same through each tool's command line, each invocation a
          fresh process: `python -m timeit pass` (best and median of its
          raw repeats), `python -m pyperf timeit --fast pass` and
          `hotscope bench pass`. Target: ours at most timeit's.
spread    how much the reported median of `sorted(range(1000))` moves
          over N invocations of each tool, at about equal total time per
          invocation: pyperf's own length (--fast unless --pyperf-default)
          sets it, and timeit's -r and ours -r are chosen to match it.
          Spread = standard deviation / mean of the N medians (and the
          max/min ratio). Target: ours at most pyperf's. Tools take turns,
          invocation by invocation, so a busy spell of the machine falls
          on all of them alike.

pyperf must be installed in the interpreter (pip install pyperf); it is a
dependency of this benchmark only.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SPREAD_STMT = "sorted(range(1000))"
UNITS = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}
# Every tool runs outside the source tree, where `python -m hotscope` would
# import the unbuilt package instead of the installed one.
NEUTRAL_DIR = tempfile.gettempdir()


def fmt_ns(seconds):
    return "%8.2f ns" % (seconds * 1e9)


def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return "%.4g %s" % (seconds / scale, unit)
    return "%.4g ns" % (seconds * 1e9)


# ---- designs (in a child process of the interpreter under test) ------------------

def designs_child(loops, rounds):
    import gc
    import timeit

    from hotscope import _bench, _core

    def f():
        pass

    plain = _bench.Statement("pass")
    plain_fn = plain.function(1)
    unrolled_fn = plain.function(10)
    rows = [
        ("timeit: for loop over itertools.repeat, perf_counter",
         lambda: timeit.Timer("pass").timeit(loops) / loops),
        ("(a) for loop over the C timed iterator",
         lambda: _core.bench_time(plain_fn, loops) / 1e9 / loops),
        ("(a) the same, statement unrolled x10 (hotscope's choice)",
         lambda: _core.bench_time(unrolled_fn, loops // 10) / 1e9 / loops),
        ("(b) C loop calling def f(): pass by vectorcall",
         lambda: _core.bench_call_loop(f, loops) / 1e9 / loops),
        ("    for comparison: timeit of the callable f (f() in its loop)",
         lambda: timeit.Timer(f).timeit(loops) / loops),
    ]
    gc.disable()
    values = {name: [] for name, _ in rows}
    for _ in range(rounds):
        for name, fn in rows:
            values[name].append(fn())
    print(json.dumps({name: [statistics.median(v), min(v)] for name, v in values.items()}))


def run_designs(python, quick):
    loops, rounds = (200000, 7) if quick else (2000000, 21)
    out = subprocess.run([python, os.path.abspath(__file__), "--child-designs", str(loops), str(rounds)],
                         capture_output=True, text=True, check=True, cwd=NEUTRAL_DIR).stdout
    rows = json.loads(out)
    print("designs: per-loop cost of `pass` in one process (%d rounds of %d loops; median, min)" % (rounds, loops))
    for name, (median, best) in rows.items():
        print("  %-62s %s %s" % (name, fmt_ns(median), fmt_ns(best)))
    print()


# ---- the tools -----------------------------------------------------------------------------

def run_timeit(python, stmt, setup=None, repeat=None):
    """(best, median) seconds per loop, wall seconds."""
    cmd = [python, "-m", "timeit", "-v"]
    if setup:
        cmd += ["-s", setup]
    if repeat:
        cmd += ["-r", str(repeat)]
    started = time.perf_counter()
    out = subprocess.run(cmd + [stmt], capture_output=True, text=True, check=True, cwd=NEUTRAL_DIR).stdout
    wall = time.perf_counter() - started
    number = int(re.search(r"^(\d+) loops?, best of", out, re.M).group(1))
    raw = re.search(r"^raw times: (.*)$", out, re.M).group(1)
    per_loop = []
    for item in raw.split(","):
        value, unit = item.split()
        per_loop.append(float(value) * UNITS[unit] / number)
    return min(per_loop), statistics.median(per_loop), wall


def run_pyperf(python, stmt, setup=None, fast=True):
    """(min, median) seconds per loop, wall seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pyperf.json")
        cmd = [python, "-m", "pyperf", "timeit", "-q", "-o", path]
        if fast:
            cmd.append("--fast")
        if setup:
            cmd += ["-s", setup]
        started = time.perf_counter()
        subprocess.run(cmd + [stmt], capture_output=True, text=True, check=True, cwd=NEUTRAL_DIR)
        wall = time.perf_counter() - started
        with open(path) as f:
            doc = json.load(f)
    values = [v for run in doc["benchmarks"][0]["runs"] for v in run.get("values", [])]
    return min(values), statistics.median(values), wall


def run_ours(python, stmt, setup=None, repeat=None, processes=0):
    """(min, median) seconds per loop, wall seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ours.json")
        cmd = [python, "-m", "hotscope", "bench", "--json", path]
        if setup:
            cmd += ["-s", setup]
        if repeat:
            cmd += ["-r", str(repeat)]
        if processes:
            cmd += ["--processes", str(processes)]
        started = time.perf_counter()
        subprocess.run(cmd + [stmt], capture_output=True, text=True, check=True, cwd=NEUTRAL_DIR)
        wall = time.perf_counter() - started
        with open(path) as f:
            times = json.load(f)["results"][0]["times"]
    return min(times), statistics.median(times), wall


# ---- overhead --------------------------------------------------------------------------------

def run_overhead(python, invocations, have_pyperf):
    tools = [("python -m timeit pass", lambda: run_timeit(python, "pass"))]
    if have_pyperf:
        tools.append(("python -m pyperf timeit --fast pass", lambda: run_pyperf(python, "pass")))
    tools.append(("hotscope bench pass", lambda: run_ours(python, "pass")))
    got = {name: [] for name, _ in tools}
    for _ in range(invocations):
        for name, fn in tools:
            got[name].append(fn())
    print("overhead: per-loop time of `pass` through each command line, %d invocations each" % invocations)
    print("  %-40s %13s %13s %9s" % ("tool", "median", "best", "wall"))
    for name, rows in got.items():
        print("  %-40s %s %s %8.1fs" % (name, fmt_ns(statistics.median(r[1] for r in rows)),
                                         fmt_ns(min(r[0] for r in rows)),
                                         statistics.median(r[2] for r in rows)))
    print("  (median: the median over invocations of each one's median per-loop time; "
          "best: the lowest value seen)")
    print()
    return got


# ---- spread -----------------------------------------------------------------------------------

def fit_repeats(wall_of, budget, few, many, least):
    """Repeats for which a run takes `budget` seconds: two runs (of `few`
    and `many` repeats) give a repeat's cost and the fixed part."""
    short, long_ = wall_of(few), wall_of(many)
    per_repeat = max((long_ - short) / (many - few), 1e-3)
    fixed = max(short - per_repeat * few, 0.0)
    return max(least, int(round((budget - fixed) / per_repeat)))


def run_spread(python, invocations, have_pyperf, pyperf_fast, processes):
    stmt = SPREAD_STMT
    if have_pyperf:
        # pyperf's own length sets the budget: its second run (a first run
        # here took 8.5 s where the later ones took 5.5 s, so the other
        # tools were given half as much time again as pyperf).
        run_pyperf(python, stmt, fast=pyperf_fast)
        _, _, budget = run_pyperf(python, stmt, fast=pyperf_fast)
    else:
        budget = 8.0
    # hotscope: sized from two runs of each of our two ways (a repeat's cost
    # and the fixed start-up, calibration and warm-up), which an estimate
    # of 0.1 s per repeat and 0.4 s fixed got wrong by a quarter to a half.
    ours_repeat = fit_repeats(lambda r: run_ours(python, stmt, repeat=r)[2], budget, 10, 30, 5)
    ours_proc_repeat = fit_repeats(lambda r: run_ours(python, stmt, repeat=r, processes=processes)[2],
                                   budget, processes, 3 * processes, processes)
    # timeit: autorange (one 0.2 s+ run) then repeats of at least 0.2 s.
    timeit_repeat = max(3, int(round((budget - 0.5) / 0.3)))
    tools = []
    if have_pyperf:
        tools.append(("pyperf timeit%s" % (" --fast" if pyperf_fast else ""),
                      lambda: run_pyperf(python, stmt, fast=pyperf_fast)))
    tools += [
        ("timeit -r %d (median of raw)" % timeit_repeat, lambda: run_timeit(python, stmt, repeat=timeit_repeat)),
        ("hotscope bench -r %d" % ours_repeat, lambda: run_ours(python, stmt, repeat=ours_repeat)),
        ("hotscope bench -r %d --processes %d" % (ours_proc_repeat, processes),
         lambda: run_ours(python, stmt, repeat=ours_proc_repeat, processes=processes)),
    ]
    got = {name: [] for name, _ in tools}
    for i in range(invocations):
        for name, fn in tools:
            got[name].append(fn())
        sys.stderr.write("\r  spread: invocation %d/%d" % (i + 1, invocations))
        sys.stderr.flush()
    sys.stderr.write("\r\x1b[K")
    best_timeit = [r[0] for r in got[tools[1 if have_pyperf else 0][0]]]
    print("spread: the median of `%s` over %d invocations of each tool, at about equal time "
          "per invocation" % (stmt, invocations))
    print("  %-40s %10s %8s %9s %9s" % ("tool", "mean", "CV", "max/min", "wall"))

    def row(name, medians, walls):
        mean = statistics.fmean(medians)
        cv = statistics.stdev(medians) / mean if len(medians) > 1 else 0.0
        print("  %-40s %10s %7.2f%% %9.3f %8.1fs" % (name, fmt_time(mean), 100 * cv, max(medians) / min(medians),
                                                    statistics.median(walls)))

    for name, rows in got.items():
        row(name, [r[1] for r in rows], [r[2] for r in rows])
    row("  timeit's own figure (best of)", best_timeit, [r[2] for r in got[tools[1 if have_pyperf else 0][0]]])
    print("  (CV: standard deviation / mean of the per-invocation medians; wall: median seconds per invocation)")
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=os.path.join(ROOT, ".venvs", "3.12", "bin", "python"))
    p.add_argument("--invocations", type=int, default=10, help="invocations per tool in the spread table")
    p.add_argument("--processes", type=int, default=10, help="worker processes of the second hotscope row")
    p.add_argument("--pyperf-default", action="store_true", help="pyperf without --fast (about twice as long)")
    p.add_argument("--quick", action="store_true", help="3 invocations, short designs table")
    p.add_argument("--only", choices=("designs", "overhead", "spread"))
    p.add_argument("--child-designs", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_designs:
        designs_child(*args.child_designs)
        return 0
    python = args.python
    if not os.path.exists(python):
        sys.exit("no interpreter at %s (build the venvs with make test, or give --python)" % python)
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                             text=True, check=True).stdout.strip()
    have_pyperf = subprocess.run([python, "-c", "import pyperf"], capture_output=True).returncode == 0
    invocations = 3 if args.quick else args.invocations
    print("hotscope bench against timeit and pyperf; Python %s (%s); load average %s" % (
        version, python, " ".join("%.1f" % x for x in os.getloadavg())))
    if not have_pyperf:
        print("(pyperf is not installed in that interpreter: pip install pyperf; its rows are left out)")
    print()
    if args.only in (None, "designs"):
        run_designs(python, args.quick)
    if args.only in (None, "overhead"):
        run_overhead(python, 3 if args.quick else 5, have_pyperf)
    if args.only in (None, "spread"):
        run_spread(python, invocations, have_pyperf, not args.pyperf_default, args.processes)
    print("load average at the end: %s" % " ".join("%.1f" % x for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
