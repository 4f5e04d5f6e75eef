"""Overhead of `hotscope lines` against line_profiler (kernprof), in one run.

Every measurement is a fresh process (this file run with --child): it
selects the workload's functions for line profiling, times ONLY the
workload with time.perf_counter and prints the seconds. Runs are
interleaved (repeat -> workload -> mode); medians over repeats.

    python bench/bench_lines.py                  # every .venvs/3.X found
    python bench/bench_lines.py --python .venvs/3.12/bin/python --repeat 7
    python bench/bench_lines.py --python main=/tmp/main311/bin/python \
                                --python branch=.venvs/3.11/bin/python
    python bench/bench_lines.py --workload unselected --workload unsel_calls
    python bench/bench_lines.py --quick

Every interpreter is measured in turn within each repeat, so ratios of
several interpreters (or two builds of one) are taken under the same load.

Workloads:
  loops       many cheap lines in one selected function
  calls       a selected function calling a small selected function
  callee      the calls workload with only the caller selected: a selected
              function calling one that is not
  unselected  the loops workload NOT selected, while the profiler runs on
              another function: should run at unprofiled speed
  unsel_calls the calls workload NOT selected (a call per iteration): the
              same, for code whose cost is calls
For the two unselected workloads the "x" columns are measured in one
process: the code runs with and without the profiler taking turns, 6
pairs per process (either first in turn), and the median of the pairs' ratios is that process's
figure (separate processes differ by more than what is measured, see
paired_ratio); the median over repeats is shown.
Columns: none (s) unprofiled; "line_profiler x", "hotscope x" = time under
the tool / unprofiled; "added" = (t_hot - t_none) / (t_lp - t_none), the
share of line_profiler's added cost hotscope adds (target: <= 0.33);
"floor" (3.10/3.11; loops and calls) = the same share for a C trace function
that does nothing (bench/floor_trace.c, built on the fly with gcc): what the
interpreter's own line tracing costs, which no profiler on that path avoids.
line_profiler must be installed in the interpreter (pip install line_profiler).
"""

import argparse
import glob
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS = ["loops", "calls", "callee", "unselected", "unsel_calls"]
FLOOR_WORKLOADS = ("loops", "calls")  # the others trace what the floor does not
MODES = ["none", "line_profiler", "hotscope", "floor"]
PAIRS = 6  # per process, for the unchosen workloads (paired_ratio)


def loops(n):
    total = 0
    for i in range(n):
        x = i * 2
        if x % 3 == 0:
            total += x
        else:
            total -= 1
        total ^= i
    return total


def small(a, b):
    c = a + b
    return c * 2


def calls(n):
    total = 0
    for i in range(n):
        total += small(i, 1)
    return total


def other():
    return 0


def child(mode, workload, size):
    n = int(size)
    if workload == "loops":
        run, selected = (lambda: loops(n)), [loops]
    elif workload == "calls":
        run, selected = (lambda: calls(n // 2)), [calls, small]
    elif workload == "callee":
        run, selected = (lambda: calls(n // 2)), [calls]
    elif workload == "unsel_calls":
        run, selected = (lambda: calls(n // 2)), [other]
    else:
        run, selected = (lambda: loops(n)), [other]
    if mode == "line_profiler":
        import line_profiler

        prof = line_profiler.LineProfiler()
        for f in selected:
            prof.add_function(f)
        start, stop = prof.enable_by_count, prof.disable_by_count
    elif mode == "floor":
        sys.path.insert(0, os.environ["HS_FLOOR_DIR"])
        import _hs_floor

        if workload.startswith("unsel"):
            start = stop = lambda: None  # nothing selected: nothing to trace
        else:
            start, stop = _hs_floor.enable, _hs_floor.disable
    elif mode == "hotscope":
        import hotscope

        prof = hotscope.lines(*selected)
        start, stop = prof.enable, prof.disable
    else:
        start = stop = lambda: None
    if workload.startswith("unsel") and mode != "none":
        print(paired_ratio(run, start, stop))
        return
    start()
    t0 = time.perf_counter()
    run()
    elapsed = time.perf_counter() - t0
    stop()
    print(elapsed)


def paired_ratio(run, start, stop, pairs=PAIRS):
    """Unchosen code: its time with the profiler running (on another
    function) over its time without, in this one process, the two taking
    turns; the median of the pairs' ratios. Separate processes put the
    same code at other addresses, with other cache luck: their times
    differed by up to half on this VM, far more than what is measured."""
    run()  # warm: the specialising interpreter (3.11+) adapts on the first run
    ratios = []
    for i in range(pairs):
        times = {}
        for profiled in ((False, True) if i % 2 == 0 else (True, False)):  # either goes first in turn
            if profiled:
                start()
            t0 = time.perf_counter()
            run()
            times[profiled] = time.perf_counter() - t0
            if profiled:
                stop()
        ratios.append(times[True] / times[False])
    return statistics.median(ratios)


def build_floor(python, where):
    """Builds floor_trace.c for `python` into `where`; None where it cannot
    (3.12+ trace lines through sys.monitoring, not this hook; no gcc)."""
    probe = ("import sys, sysconfig; print(sys.version_info >= (3, 12)); "
             "print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))")
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.split("\n")
    if out[0] == "True":
        return None
    os.makedirs(where, exist_ok=True)
    target = os.path.join(where, "_hs_floor" + out[2])
    r = subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-I", out[1], "-o", target,
                        os.path.join(HERE, "floor_trace.c")], capture_output=True, text=True)
    return where if r.returncode == 0 else None


def measure(python, mode, workload, size, floor_dir=None):
    env = dict(os.environ, HS_FLOOR_DIR=floor_dir or "")
    r = subprocess.run([python, os.path.abspath(__file__), "--child", mode, workload, str(size)],
                       capture_output=True, text=True, cwd="/tmp", env=env)
    if r.returncode != 0:
        return None, (r.stderr.strip().splitlines() or ["failed"])[-1]
    return float(r.stdout.strip()), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3)
    ap.add_argument("--python", action="append")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workload", action="append", choices=WORKLOADS, help="only these (repeatable)")
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return 0
    # --python LABEL=PATH names a column (say main=... and branch=... to
    # compare two builds of one interpreter side by side).
    pythons = []
    for arg in args.python or sorted(glob.glob(os.path.join(ROOT, ".venvs", "3.*", "bin", "python"))):
        label, _, path = arg.rpartition("=") if "=" in arg else ("", "", arg)
        pythons.append((label, os.path.abspath(path)))
    size = 200_000 if args.quick else 2_000_000
    repeat = 1 if args.quick else args.repeat
    scratch = tempfile.mkdtemp(prefix="bench_lines.")
    setups = []
    for label, python in pythons:
        version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                 capture_output=True, text=True).stdout.strip()
        floor_dir = build_floor(python, os.path.join(scratch, label + version))
        setups.append(((label + " " if label else "") + version, python, floor_dir))
    width = max(6, max(len(name) for name, _, _ in setups))
    row = "%-" + str(width) + "s %-11s %9s %16s %11s %7s %7s"
    print(row % ("python", "workload", "none (s)", "line_profiler x", "hotscope x", "added", "floor"))
    for workload in args.workload or WORKLOADS:
        # Interleaved: repeat -> interpreter -> mode, so that every
        # interpreter's ratios are measured under the same load.
        times = {}
        errors = {}
        for _ in range(repeat):
            for name, python, floor_dir in setups:
                modes = MODES if floor_dir and workload in FLOOR_WORKLOADS else MODES[:-1]
                for mode in modes:
                    t, err = measure(python, mode, workload, size, floor_dir)
                    if t is None:
                        errors[(name, mode)] = err
                    else:
                        times.setdefault(name, {m: [] for m in modes})[mode].append(t)
        for name, _, _ in setups:
            mine = times.get(name, {})
            med = {m: statistics.median(v) if v else None for m, v in mine.items()}
            added, floor = [], []
            for i in range(min(len(v) for v in mine.values()) if mine and all(mine.values()) else 0):
                lp_cost = mine["line_profiler"][i] - mine["none"][i]
                if lp_cost > 0:
                    added.append((mine["hotscope"][i] - mine["none"][i]) / lp_cost)
                    if "floor" in mine:
                        floor.append((mine["floor"][i] - mine["none"][i]) / lp_cost)

            def ratio(m):
                if workload.startswith("unsel") and m != "none":
                    return "%.2f" % med[m] if med.get(m) else "n/a"  # paired in-process ratios
                return "%.2f" % (med[m] / med["none"]) if med.get(m) and med.get("none") else "n/a"

            shown = not workload.startswith("unsel")
            print(row % (
                name, workload, "%.3f" % med["none"] if med.get("none") else "n/a", ratio("line_profiler"),
                ratio("hotscope"), "%.2f" % statistics.median(added) if added and shown else "-",
                "%.2f" % statistics.median(floor) if floor and shown else "-"))
            for (who, mode), err in errors.items():
                if who == name:
                    print("       %s: %s" % (mode, err))
        sys.stdout.flush()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
