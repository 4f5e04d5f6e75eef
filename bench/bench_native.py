"""What `hotscope record --native` costs the program it samples, side by side
with plain `hotscope record` and py-spy (with and without --native).

--native stops every thread of the target for a moment at each sample
(ptrace: seize, interrupt, wait, read the registers and the stack, detach),
as py-spy does by default; plain `hotscope record` never stops it.  This
measures what that costs the target: its own throughput, counted by itself.

Each measurement is a fresh target (this file run with --target) and a fresh
tool attached to it by --pid.  The target waits on stdin; the tool is given
WARMUP seconds to attach and read the target's files, then the target runs
a fixed mix for S seconds (recursive Python calls, a loop, a call into C
that calls back into Python: libc's qsort by ctypes, comparing in Python) and prints
how many rounds it did and the CPU time it used.  Throughput = rounds / S;
"x" = the median throughput under no tool / the median under the tool
(1.00 = no cost).  The same per CPU second of the target ("rounds/CPU s",
"x CPU") leaves out what other processes of a busy machine take from it:
it shows the work the tool adds to the target's own CPU time (the kernel's
part of stopping and resuming it is charged to it), not the time it waits
stopped.
"samples" is what the tool recorded (sum of its collapsed output), to show
it really sampled at the asked rate; "held us" is, for record --native, the
time each thread was held per sample on average (from when it was seen
stopped to the request to go on), as its summary says.  Tools are
interleaved (repeat -> tool), each repeat starting the round one tool
further along so that no tool always runs right after the same other one,
and the median over the repeats is kept.  This is a benchmark, never run by
`make test`.

    python bench/bench_native.py [--python PY] [--rate 100] [--seconds 3] [--repeat 5]

--python: the interpreter of the target and of hotscope (must import
hotscope._core; default this one).  py-spy is looked up next to it, then on
PATH (pip install py-spy); a tool that is missing prints "n/a".

The machine is noisy: compare only the ratios of one run.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

WARMUP = 1.5


# --------------------------------------------------------------------------
# the target


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run_target(seconds):
    import ctypes

    libc = ctypes.CDLL(None)
    compare = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(
        lambda a, b: 0)
    buf = (ctypes.c_int * 64)()

    def round_():
        fib(14)
        total = 0
        for i in range(2000):
            total += i
        libc.qsort(buf, 64, ctypes.sizeof(ctypes.c_int), compare)
        return total

    round_()
    print("ready", flush=True)
    sys.stdin.readline()
    rounds = 0
    cpu = time.process_time()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        round_()
        rounds += 1
    print(rounds, time.process_time() - cpu, flush=True)


# --------------------------------------------------------------------------
# the parent


def tool_commands(python, rate, out):
    here = os.path.dirname(python)
    pyspy = shutil.which("py-spy", path=here) or shutil.which("py-spy")
    hs = [python, "-m", "hotscope", "record", "--rate", str(rate), "-o", out]
    tools = [("none", None), ("hotscope record", hs), ("hotscope record --native", hs + ["--native"])]
    spy = [pyspy, "record", "--rate", str(rate), "--format", "raw", "-o", out] if pyspy else None
    tools.append(("py-spy (blocking)", spy))
    tools.append(("py-spy --native", spy + ["--native"] if spy else None))
    return tools


def samples_in(path):
    try:
        with open(path) as f:
            return sum(int(line.rsplit(" ", 1)[1]) for line in f if line.strip())
    except (OSError, ValueError, IndexError):
        return 0


HELD = re.compile(r"held stopped (\d+) us per sample")


def measure(python, cmd, seconds, out):
    """(rounds per second, rounds per CPU second, samples, held us or None) of
    one target under one tool."""
    target = subprocess.Popen([python, os.path.abspath(__file__), "--target", str(seconds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tool = None
    try:
        if target.stdout.readline().strip() != "ready":
            raise RuntimeError("target did not start")
        if cmd:
            if os.path.exists(out):
                os.remove(out)
            # run from the output's directory: `-m hotscope` in a checkout
            # would import the source tree, which has no compiled engine
            tool = subprocess.Popen(cmd + ["--pid", str(target.pid)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    cwd=os.path.dirname(out))
        time.sleep(WARMUP)
        target.stdin.write("go\n")
        target.stdin.flush()
        rounds, cpu = target.stdout.readline().split()
        rounds, cpu = int(rounds), float(cpu)
        target.wait(timeout=30)
        err = ""
        if tool is not None:
            try:
                err = tool.communicate(timeout=30)[1]
            except subprocess.TimeoutExpired:
                tool.send_signal(signal.SIGINT)
                err = tool.communicate(timeout=30)[1]
        held = HELD.search(err)
        return (rounds / seconds, rounds / cpu, samples_in(out) if cmd else 0,
                int(held.group(1)) if held else None)
    finally:
        for p in (target, tool):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--target":
        return run_target(float(sys.argv[2]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=5)
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hs-bench-native-")
    out = os.path.join(tmp, "out.collapsed")
    tools = tool_commands(opts.python, opts.rate, out)
    results = {name: [] for name, _ in tools}
    per_cpu = {name: [] for name, _ in tools}
    samples = {name: [] for name, _ in tools}
    held = {name: [] for name, _ in tools}
    for r in range(opts.repeat):
        for name, cmd in tools[r % len(tools):] + tools[:r % len(tools)]:
            if name != "none" and cmd is None:
                continue
            rps, rpc, n, us = measure(opts.python, cmd, opts.seconds, out)
            results[name].append(rps)
            per_cpu[name].append(rpc)
            samples[name].append(n)
            if us is not None:
                held[name].append(us)
    base = statistics.median(results["none"])
    base_cpu = statistics.median(per_cpu["none"])
    version = subprocess.run([opts.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    print("target throughput under each tool, %d Hz, %gs, median of %d, Python %s"
          % (opts.rate, opts.seconds, opts.repeat, version))
    print("| tool | rounds/s | x | rounds/CPU s | x CPU | samples | held us |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in tools:
        if not results[name]:
            print("| %s | n/a | n/a | n/a | n/a | n/a | |" % name)
            continue
        med, med_cpu = statistics.median(results[name]), statistics.median(per_cpu[name])
        print("| %s | %.0f | %.3f | %.0f | %.3f | %s | %s |" % (
            name, med, base / med, med_cpu, base_cpu / med_cpu,
            int(statistics.median(samples[name])) if name != "none" else "-",
            int(statistics.median(held[name])) if held[name] else ""))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
