"""Overhead of `hotscope trace` against cProfile, measured in one run.

Every measurement is a fresh process (this file run with --child) that
imports the profiler, enables it, times ONLY the workload with
time.perf_counter, disables it and prints the seconds as JSON.  Runs are
interleaved (repeat -> workload -> mode), N repeats, the median is kept.

    python bench/bench_trace.py                 # all of 3.10-3.13 found
    python bench/bench_trace.py --python /path/to/python3 --repeat 7
    python bench/bench_trace.py --quick         # 1 repeat, small sizes
    python bench/bench_trace.py --markdown      # a table for the README

Columns: none (s) = unprofiled seconds; "cProfile x" and "hotscope x" =
time under the tool / unprofiled; "added" = (t_hot - t_none) /
(t_cprof - t_none) within each repeat, median over repeats: the share of cProfile's added cost hotscope still
adds (below 1.00 is better than cProfile).  A mode that fails prints "n/a"
and its one-line error.  Note: on 3.10/3.11 cProfile profiles only the
thread that enabled it, so its "threads" figure is not like for like.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["call_heavy", "builtins", "numeric", "threads"]
MODES = ["none", "cProfile", "hotscope"]
OPTIONAL_MODES = ["yappi", "pyinstrument"]
FULL_SIZE = 1.0
QUICK_SIZE = 0.1


# --------------------------------------------------------------------------
# child: one measurement


def profiler_switches(mode):
    """(start, stop, profile) for a mode: the calls that turn it on and off."""
    if mode == "none":
        return (lambda: None), (lambda: None), None
    if mode == "cProfile":
        import cProfile

        prof = cProfile.Profile()
        return prof.enable, prof.disable, prof
    if mode == "hotscope":
        import hotscope

        prof = hotscope.Profile(clock="wall")
        return prof.enable, prof.disable, prof
    if mode == "yappi":
        import yappi

        yappi.set_clock_type("wall")
        return (lambda: yappi.start(builtins=True)), yappi.stop, None
    if mode == "pyinstrument":
        import pyinstrument

        prof = pyinstrument.Profiler()
        return prof.start, prof.stop, prof
    raise SystemExit("unknown mode %r" % mode)


def child(mode, workload, size):
    sys.path.insert(0, HERE)
    import workloads

    func = workloads.WORKLOADS[workload]
    start_profiler, stop_profiler, prof = profiler_switches(mode)
    start_profiler()
    start = time.perf_counter()
    func(size)
    seconds = time.perf_counter() - start
    stop_profiler()
    extra = {}
    if mode == "hotscope":
        # hotscope records both clocks whatever the profile's clock.
        try:
            extra = {"wall": prof.total_time("wall"), "cpu": prof.total_time("cpu")}
        except Exception as exc:  # reported, not fatal: the timing stands
            extra = {"total_time_error": "%s: %s" % (type(exc).__name__, exc)}
    print(json.dumps({"seconds": seconds, **extra}))


# --------------------------------------------------------------------------
# parent


def find_pythons():
    roots = ["/root/.pyenv"]
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            roots.insert(0, out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    found = []
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        for root in roots:
            hits = sorted(glob.glob(os.path.join(root, "versions", minor + ".*", "bin", "python3")))
            hits = [h for h in hits if os.path.basename(os.path.dirname(os.path.dirname(h)))
                    .replace(minor + ".", "").isdigit()]
            if hits:
                found.append(hits[-1])
                break
    return found


def version_of(python):
    out = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "?"


def probe(python, mode):
    """None if the mode can run under this interpreter, else a one-line reason."""
    module = {"none": None, "cProfile": "cProfile"}.get(mode, mode)
    if module is None:
        return None
    # From this directory, as the children run: never the source tree's copy.
    out = subprocess.run([python, "-c", "import " + module], capture_output=True, text=True,
                         timeout=60, cwd=HERE)
    if out.returncode == 0:
        return None
    return last_line(out.stderr) or "import %s failed" % module


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


def measure(python, mode, workload, size, timeout):
    cmd = [python, os.path.abspath(__file__), "--child", mode, workload, repr(size)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %ds" % timeout
    if out.returncode != 0:
        return None, last_line(out.stderr) or "exit status %d" % out.returncode
    try:
        return json.loads(out.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, "bad child output: %r" % out.stdout[-200:]


def run_interpreter(python, args):
    size = QUICK_SIZE if args.quick else FULL_SIZE
    repeat = 1 if args.quick else args.repeat
    modes = list(MODES)
    errors = {}
    for mode in OPTIONAL_MODES:
        if probe(python, mode) is None:
            modes.append(mode)
    for mode in modes:
        reason = probe(python, mode)
        if reason:
            errors[mode] = reason
    samples = {(w, m): [] for w in args.workloads for m in modes}
    extras = {}
    failed = set()
    for _ in range(repeat):
        for workload in args.workloads:
            for mode in modes:
                if mode in errors or (workload, mode) in failed:
                    continue
                result, err = measure(python, mode, workload, size, args.timeout)
                if err:
                    failed.add((workload, mode))
                    errors["%s on %s" % (mode, workload)] = err
                    continue
                samples[(workload, mode)].append(result["seconds"])
                if mode == "hotscope":
                    extras.setdefault(workload, []).append(result)
    medians = {k: statistics.median(v) for k, v in samples.items() if v}
    # "added" is a ratio of differences, which drift on a noisy machine
    # spoils: take it within each repeat (whose three runs are adjacent)
    # and keep the median of those.
    for workload in args.workloads:
        triples = zip(samples[(workload, "none")], samples[(workload, "cProfile")],
                      samples[(workload, "hotscope")])
        added = [(hot - none) / (cp - none) for none, cp, hot in triples if cp > none]
        if added:
            medians[(workload, "added")] = statistics.median(added)
    return modes, medians, errors, extras


def fmt_ratio(t, base):
    return "n/a" if t is None or not base else "%.2f" % (t / base)


def fmt_added(added):
    return "n/a" if added is None else "%.2f" % added


def table_rows(modes, medians, workloads):
    extra_modes = [m for m in modes if m not in MODES]
    header = ["workload", "none (s)", "cProfile x", "hotscope x", "added"] + ["%s x" % m for m in extra_modes]
    rows = []
    for w in workloads:
        t_none = medians.get((w, "none"))
        t_cp = medians.get((w, "cProfile"))
        t_hot = medians.get((w, "hotscope"))
        row = [w, "n/a" if t_none is None else "%.3f" % t_none,
               fmt_ratio(t_cp, t_none), fmt_ratio(t_hot, t_none), fmt_added(medians.get((w, "added")))]
        row += [fmt_ratio(medians.get((w, m)), t_none) for m in extra_modes]
        rows.append(row)
    return header, rows


def print_text(version, python, header, rows, errors):
    print("Python %s (%s)" % (version, python))
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  " + "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                               for i, c in enumerate(r)))
    for mode, err in sorted(errors.items()):
        print("  %s: n/a (%s)" % (mode, err))
    print()


def print_markdown(version, header, rows, errors):
    print("Python %s\n" % version)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    for mode, err in sorted(errors.items()):
        print("\n%s: n/a (%s)" % (mode, err.replace("|", "\\|")))
    print()


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--child"]:
        if len(argv) != 4:
            raise SystemExit("usage: bench_trace.py --child MODE WORKLOAD SIZE")
        child(argv[1], argv[2], float(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", default=[],
                        help="interpreter to measure (repeatable; default: 3.10-3.13 under pyenv)")
    parser.add_argument("-n", "--repeat", type=int, default=5, help="repeats, median kept (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes (smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--workload", dest="workloads", action="append", choices=WORKLOADS,
                        help="workload to run (repeatable; default all)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per child process")
    args = parser.parse_args(argv)
    args.workloads = args.workloads or WORKLOADS
    # the children run in bench/: a relative interpreter path is the caller's
    pythons = [os.path.abspath(p) if os.sep in p else p for p in args.python] or find_pythons()
    if not pythons:
        parser.error("no interpreters found; pass --python")
    for python in pythons:
        version = version_of(python)
        modes, medians, errors, extras = run_interpreter(python, args)
        header, rows = table_rows(modes, medians, args.workloads)
        if args.markdown:
            print_markdown(version, header, rows, errors)
        else:
            print_text(version, python, header, rows, errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
