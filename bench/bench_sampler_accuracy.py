"""How truly each sampler splits time: hotscope record, py-spy and Austin
against a split known by construction, side by side in one run.

The target alternates two phases and times each itself with
time.perf_counter (ground truth): fib(N), whose stack changes every few
hundred nanoseconds (frames pushed and popped at the same addresses), and a
plain loop in one frame, whose stack stays put. A sampler that reads the
process from outside races with it; one that drops the reads it cannot
trust (hotscope, py-spy --nonblocking where it notices) loses fast-changing
stacks more often than still ones, and under-reports fib. py-spy's default
mode stops the process for each sample, which costs the target but cannot
race.

    python bench/bench_sampler_accuracy.py [--python PY ...] [--seconds S]
                                           [--rate HZ] [--repeat N] [--fib N]

For each interpreter and tool it prints the fib share the tool recorded,
the true share measured in the same run, the error in points, and the
samples it recorded. The machine is noisy and the race depends on how the
scheduler places the target and the sampler, so run it several times
(--repeat) and read the spread, not one figure.
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_sampler as bs  # noqa: E402  (tool lookup and command lines)


# The target: tests/targets/sample_fast_stacks.py (prints "ready", runs for
# argv[1] seconds with fib(argv[2]) per round, then prints "fib SHARE").
TARGET = os.path.join(bs.REPO, "tests", "targets", "sample_fast_stacks.py")


def share_of(path, needle, austin=False):
    """(fib share, samples) in a tool's output."""
    if austin:
        hits, total = bs.austin_lines(path, needle), bs.austin_lines(path)
    else:
        hits, total = bs.collapsed_count(path, needle), bs.collapsed_count(path)
    return (hits / total if total else None), total


def working_tool(name, python):
    """The first copy of a peer that runs here: next to `python`, on PATH,
    in another .venvs (a wheel may need a newer C library than this one)."""
    candidates = [os.path.join(os.path.dirname(python), name), shutil.which(name)]
    candidates += sorted(glob.glob(os.path.join(bs.REPO, ".venvs", "*", "bin", name)), reverse=True)
    for exe in candidates:
        if exe and os.access(exe, os.X_OK) and bs.probe_tool([exe, "--version"])[0]:
            return os.path.abspath(exe)
    return None


def run_once(python, tool, exe, args, tmp):
    """Starts the target, attaches `tool` for args.seconds, returns a row."""
    proc = subprocess.Popen([python, TARGET, str(args.seconds + 1.5), str(args.fib)],
                            stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the target did not start")
        out = os.path.join(tmp, "%s.out" % tool.replace(" ", "_"))
        if tool == "hotscope":
            cmd = bs.hotscope_cmd(python, proc.pid, args.rate, args.seconds, out + ".collapsed")
            out += ".collapsed"
        elif tool.startswith("py-spy"):
            cmd = bs.pyspy_cmd(exe, proc.pid, args.rate, out, blocking="blocking" in tool)
        else:
            cmd = bs.austin_cmd(exe, proc.pid, args.rate, out, args.seconds)
        # cwd: not the checkout, whose hotscope/ would shadow the installed package
        sampler = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp)
        if tool.startswith("py-spy"):
            time.sleep(args.seconds)
            sampler.send_signal(2)
        _, err = sampler.communicate(timeout=args.seconds + 30)
        truth = float(proc.stdout.readline().split()[1])
    finally:
        proc.kill()
        proc.wait()
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        raise RuntimeError(bs.one_line(err.decode(errors="replace")) or "no output")
    needle = b":fib:" if tool == "austin" else b"fib ("
    share, samples = share_of(out, needle, austin=tool == "austin")
    return {"truth": truth, "share": share, "samples": samples}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", action="append", help="interpreter(s) to measure (default: .venvs/*)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fib", type=int, default=16, help="fib(N) per round (16: about 20%% of the time)")
    args = ap.parse_args(argv)
    pythons = [os.path.abspath(p) for p in args.python] if args.python else sorted(p for p in (os.path.join(bs.REPO, ".venvs", v, "bin", "python")
                                                for v in ("3.10", "3.11", "3.12", "3.13"))
                                    if os.path.exists(p))
    print("fib share recorded vs true (measured by the target itself), %g Hz, %g s, %d runs each"
          % (args.rate, args.seconds, args.repeat))
    print("%-8s %-22s %28s %22s %9s" % ("python", "tool", "recorded share (min-max)",
                                       "error, points (median)", "samples"))
    with tempfile.TemporaryDirectory(prefix="bench_accuracy.") as tmp:
        for python in pythons:
            version = bs.version_of(python)
            tools = [("hotscope", None)]
            for name, mode in (("py-spy", "py-spy --nonblocking"), ("py-spy", "py-spy (blocking)"),
                               ("austin", "austin")):
                exe = working_tool(name, python)
                if exe:
                    tools.append((mode, exe))
            for tool, exe in tools:
                rows = []
                for _ in range(args.repeat):
                    try:
                        rows.append(run_once(python, tool, exe, args, tmp))
                    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as e:
                        print("%-8s %-22s failed: %s" % (version, tool, e))
                        break
                rows = [r for r in rows if r["share"] is not None]
                if not rows:
                    continue
                shares = [100 * r["share"] for r in rows]
                errors = [100 * (r["share"] - r["truth"]) for r in rows]
                print("%-8s %-22s %12.1f%% (%4.1f-%4.1f%%) %15s%+5.1f %9d" % (
                    version, tool, statistics.median(shares), min(shares), max(shares), "",
                    statistics.median(errors), int(statistics.median(r["samples"] for r in rows))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
