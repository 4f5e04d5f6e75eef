"""hotscope's sampler (`hotscope record`) against py-spy and Austin, in one run.

All three read a Python process from outside.  Every measurement is a fresh
target process (this file run with --target) and a fresh tool process;
the tools are interleaved (repeat -> tool) and the median over the repeats
is kept.  This is a benchmark, not a test: it is never part of `make test`.

    python bench/bench_sampler.py                      # ~4-5 minutes
    python bench/bench_sampler.py --quick              # smoke run, < 1 minute
    python bench/bench_sampler.py --markdown           # tables for the README
    python bench/bench_sampler.py --python .venvs/3.13/bin/python --only rate

--python is the interpreter of the targets and of hotscope (it must import
hotscope._core; default: this interpreter if it can, else .venvs/3.12 ...).
py-spy and austin are looked up next to it, then on PATH, then in the other
.venvs (install them with `pip install py-spy austin-dist`); a tool that is
missing or fails prints "n/a" and a one-line reason.

1. Highest sustained rate ("rate"): the target recurses until its Python
   stack is exactly 50 frames deep (<module> included) and then spins on the
   CPU forever.  Each tool is asked for 100 kHz (hotscope's maximum; austin
   -i 10us) for S seconds: hotscope record --duration S, austin -x S, and
   py-spy is sent SIGINT after S seconds, because its --duration is a sample
   count (duration x rate), not a time, so at a rate it cannot reach it runs
   for minutes.  py-spy's S therefore includes its own start-up.
     samples/s    = samples the tool recorded / S (hotscope and py-spy: sum
                    of the counts of the collapsed output; austin: the sample
                    count it prints on exit)
     CPU %        = (user + system) CPU seconds of the tool process / its wall
                    time, in % of one core (from wait4, start-up included)
     CPU us/sample = the tool's CPU time / samples
   The target keeps one core busy; the tool has the other (on 2 CPUs).
   austin writes its samples to a file here and in part 2, as it would in use.
2. Target slowdown ("slowdown"): the target waits on stdin; the tool is
   attached by --pid and given a moment to start, then the target does a
   fixed amount of call-heavy work (recursive fib + loops) and prints the
   seconds it took, timed inside the target.  x = median time under the
   tool / median unprofiled time (1.00 = no slowdown).  "got Hz" = samples
   whose stack is inside the work / the work's seconds: what the tool really
   delivered at the asked rate.  py-spy runs both --nonblocking and in its
   default mode, which stops the target (ptrace) for every sample.  A tool
   that slows the work down 8x or more is run once, not N times ("(n=1)").
3. Memory ("memory"): the target cycles through 50 recursion depths (a
   bounded set of distinct stacks) and the tool samples it as fast as it can
   (100 kHz asked).  Figures are the tool process's VmHWM (peak resident
   memory, /proc/PID/status; not ru_maxrss, which for a child starts at the
   RSS of the process that forked it): "start MB" just after it attached,
   "at 1/10 MB" when a tenth of the samples were taken (hotscope: exactly,
   the count in brackets; py-spy and austin: at a tenth of the run time),
   "at end MB" when sampling stopped, "peak MB" at exit, after the profile
   was built (hotscope: snapshot + collapsed text; py-spy: output written;
   py-spy and austin are polled every 10 ms until they exit).  hotscope
   runs through its Python API (hotscope._core.Sampler, as `hotscope
   record` does) so it can stop at exactly 100k and 1M samples (or at its
   time cap); py-spy and austin run for a fixed time at their own pace
   (austin writes to /dev/null: it streams every sample, holding none).
   "samples" = samples recorded; "stacks" = distinct stacks in the profile.
   Memory bounded by distinct stacks, not by samples, shows as "at end"
   ~= "at 1/10" although ten times the samples were taken.

The machine is noisy: compare only ratios measured side by side in one run.
"""

import argparse
import glob
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

DEPTH = 50                 # Python frames of the rate target, <module> included
HIGH_RATE = 100000         # Hz asked in the rate and memory parts
SLOW_RATES = (1000, 10000)
PARTS = ("rate", "slowdown", "memory")
TOOLS = ("hotscope", "py-spy", "austin")
SLOW_MODES = ("hotscope", "py-spy --nonblocking", "py-spy (blocking)", "austin")
WORK_FUNCTION = "sampler_work"
WORK_ROUNDS = 150          # size 1.0: ~1.2 s unprofiled on 3.12

FULL = dict(rate_seconds=3, rate_repeat=3, work_size=1.0, settle=0.7,
            mem_samples=(100000, 1000000), mem_max_seconds=70.0, mem_peer_seconds=20.0)
QUICK = dict(rate_seconds=2, rate_repeat=1, work_size=0.3, settle=0.5,
             mem_samples=(10000, 100000), mem_max_seconds=6.0, mem_peer_seconds=3.0)


# --------------------------------------------------------------------------
# targets (bench_sampler.py --target NAME [SIZE]); stdout carries "ready"
# and results, one line each


def frame_depth():
    """Python frames of the caller's stack, the caller and <module> included."""
    frame, n = sys._getframe(1), 0
    while frame is not None:
        n += 1
        frame = frame.f_back
    return n


def spin_deep(total):
    if frame_depth() < total:
        return spin_deep(total)
    print("ready %d" % frame_depth(), flush=True)
    x = 0
    while True:
        x = (x * 7 + 1) % 1000003


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def loops(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def sampler_work(size):
    total = 0
    for _ in range(max(1, int(round(WORK_ROUNDS * size)))):
        total += fib(22) + loops(60000)
    return total


def target_work(size):
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    sampler_work(size)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds}), flush=True)


def descend(depth):
    if depth > 1:
        return descend(depth - 1)
    x = 0
    for i in range(3000):
        x = (x * 7 + i) % 1000003
    return x


def target_bounded():
    print("ready", flush=True)
    while True:
        for depth in range(1, 51):
            descend(depth)


def run_target(argv):
    name = argv[0]
    if name == "deep":
        spin_deep(DEPTH)
    elif name == "work":
        target_work(float(argv[1]))
    elif name == "bounded":
        target_bounded()
    else:
        raise SystemExit("unknown target %r" % name)


# --------------------------------------------------------------------------
# hotscope memory child (bench_sampler.py --hotscope-mem PID N1 N2 MAXSEC):
# the C sampler through its Python API, stopped at exactly N1 / N2 samples


def vm_kb(pid, field):
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def hotscope_mem_child(pid, first, last, max_seconds):
    from hotscope import _core

    sampler = _core.Sampler(pid, rate=HIGH_RATE, mode="wall")
    result = {"start_kb": vm_kb("self", "VmHWM")}
    sampler.start()
    start = time.monotonic()
    try:
        while True:
            samples = sampler.stats["thread_samples"]
            if "first" not in result and samples >= first:
                result["first"] = [samples, vm_kb("self", "VmHWM")]
            if samples >= last or time.monotonic() - start >= max_seconds or sampler.finished:
                break
            time.sleep(0.01)
    finally:
        sampler.stop()
    result["seconds"] = time.monotonic() - start
    stats = sampler.stats
    result["samples"] = stats["thread_samples"]
    result["late"] = stats["late"]
    result["before_snapshot_kb"] = vm_kb("self", "VmHWM")
    text = sampler.snapshot().collapsed(clock="samples")
    result["stacks"] = sum(1 for line in text.splitlines() if line.strip())
    result["peak_kb"] = vm_kb("self", "VmHWM")
    print(json.dumps(result))


# --------------------------------------------------------------------------
# parent: processes


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def clean(text):
    return ANSI.sub("", text).replace("\r", "")


def one_line(text):
    """The line of a tool's stderr that says what went wrong."""
    lines = [l.strip() for l in clean(text).splitlines() if l.strip()]
    for l in lines:
        if l.startswith("Error") or "error:" in l.lower():
            return l[:200]
    return lines[-1][:200] if lines else ""


class Failed(Exception):
    """A measurement that could not be made; the message is its one-line reason."""


class Runner:
    """Starts targets and tools, remembers them all, kills leftovers."""

    def __init__(self, python, tmp):
        self.python = python
        self.tmp = tmp
        self.live = []
        self.counter = 0

    def path(self, suffix):
        self.counter += 1
        return os.path.join(self.tmp, "%d%s" % (self.counter, suffix))

    def target(self, *argv, timeout=30.0):
        """A target process, once it printed "ready"."""
        err = open(self.path(".target.err"), "wb")
        proc = subprocess.Popen([self.python, os.path.abspath(__file__), "--target"] + list(argv),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                cwd=self.tmp)
        err.close()
        proc.err_path = err.name
        self.live.append(proc)
        line = read_line(proc, timeout)
        if not line.startswith("ready"):
            self.kill(proc)
            raise Failed("target did not start: %s" % (one_line(open(proc.err_path).read())
                                                        or repr(line)))
        return proc

    def tool(self, cmd):
        out = open(self.path(".tool.out"), "wb")
        err = open(self.path(".tool.err"), "wb")
        env = dict(os.environ, RUST_BACKTRACE="0", RUST_LIB_BACKTRACE="0")
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    cwd=self.tmp, env=env)
        except OSError as e:
            raise Failed("cannot run %s: %s" % (cmd[0], e.strerror or e))
        finally:
            out.close()
            err.close()
        proc.out_path, proc.err_path = out.name, err.name
        proc.started = time.monotonic()
        self.live.append(proc)
        return proc

    def reap(self, proc, timeout, interrupt_after=None, hwm_at=()):
        """Waits for a tool: (rusage, wall seconds, {t: VmHWM kB polled at t}),
        with hwm["last"] = the last VmHWM read before it exited (polled
        every 10 ms).  SIGINT after interrupt_after seconds; SIGKILL (and
        Failed) at timeout.  Not ru_maxrss: a child's starts at the RSS of
        the process it was forked from (this one), and exec keeps it."""
        hwm = {}
        sent = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            now = time.monotonic() - proc.started
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                self.live.remove(proc)
                return usage, now, hwm
            kb = vm_kb(proc.pid, "VmHWM")
            if kb is not None:
                hwm["last"] = kb
            for t in hwm_at:
                if t not in hwm and now >= t:
                    hwm[t] = kb
            if interrupt_after is not None and not sent and now >= interrupt_after:
                proc.send_signal(signal.SIGINT)
                sent = True
            if now >= timeout:
                proc.kill()
                proc.wait()
                self.live.remove(proc)
                raise Failed("%s timed out after %ds" % (os.path.basename(proc.args[0]), timeout))
            time.sleep(0.01)

    def kill(self, proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f:
                f.close()
        if proc in self.live:
            self.live.remove(proc)

    def kill_all(self):
        for proc in list(self.live):
            self.kill(proc)


def read_line(proc, timeout):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return ""
    return proc.stdout.readline().decode(errors="replace").strip()


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def collapsed_count(path, needle=None):
    """Sum of the counts of a collapsed-stack file (hotscope, py-spy raw)."""
    total = 0
    with open(path, "rb") as f:
        for line in f:
            if needle is not None and needle not in line:
                continue
            head, _, count = line.rstrip().rpartition(b" ")
            if head and count.isdigit():
                total += int(count)
    return total


def collapsed_stacks(path):
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def austin_lines(path, needle=None):
    """Samples in austin's text output: one line each; '#' lines are metadata."""
    total = 0
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"#") or not line.strip():
                continue
            if needle is None or needle in line:
                total += 1
    return total


def austin_reported(stderr):
    """The sample count austin prints when it stops ("Error rate : e/N")."""
    m = re.search(r"Error rate\s*:\s*(\d+)\s*/\s*(\d+)", clean(stderr))
    return int(m.group(2)) if m else None


# --------------------------------------------------------------------------
# parent: tools


def find_tool(name, python, explicit):
    if explicit:
        return explicit
    candidates = [os.path.join(os.path.dirname(python), name), shutil.which(name)]
    candidates += sorted(glob.glob(os.path.join(REPO, ".venvs", "*", "bin", name)), reverse=True)
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def probe_tool(cmd):
    """(version, None) or (None, reason)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except OSError as e:
        return None, "cannot run %s: %s" % (cmd[0], e.strerror or e)
    except subprocess.TimeoutExpired:
        return None, "%s timed out" % " ".join(cmd)
    if out.returncode != 0:
        return None, one_line(out.stderr + out.stdout) or "exit status %d" % out.returncode
    return clean(out.stdout + out.stderr).strip().splitlines()[0], None


def hotscope_cmd(python, pid, rate, duration=None, output=None):
    cmd = [python, "-m", "hotscope", "record", "--pid", str(pid), "--rate", "%g" % rate]
    if duration is not None:
        cmd += ["--duration", "%g" % duration]
    if output:
        cmd += ["-o", output]
    return cmd


def pyspy_cmd(pyspy, pid, rate, output, blocking=False):
    cmd = [pyspy, "record", "--pid", str(pid), "--rate", str(int(rate)), "--format", "raw",
           "-o", output]
    return cmd if blocking else cmd + ["--nonblocking"]


def austin_cmd(austin, pid, rate, output, seconds=None):
    cmd = [austin, "-i", "%dus" % max(1, int(round(1e6 / rate))), "-p", str(pid), "-o", output]
    if seconds is not None:
        cmd += ["-x", "%g" % seconds]
    return cmd


def check_output(proc, path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise Failed(one_line(read_text(proc.err_path)) or
                     "no output (exit status %s)" % proc.returncode)


# ---- 1. highest sustained rate


def measure_rate(run, tool, paths, seconds):
    target = run.target("deep")
    try:
        pid = target.pid
        if tool == "hotscope":
            out = run.path(".collapsed")
            proc = run.tool(hotscope_cmd(run.python, pid, HIGH_RATE, seconds, out))
            usage, wall, _ = run.reap(proc, seconds + 60)
            check_output(proc, out)
            samples = collapsed_count(out)
        elif tool == "py-spy":
            out = run.path(".pyspy")
            proc = run.tool(pyspy_cmd(paths["py-spy"], pid, HIGH_RATE, out))
            usage, wall, _ = run.reap(proc, seconds + 60, interrupt_after=seconds)
            check_output(proc, out)
            samples = collapsed_count(out)
        else:
            out = run.path(".austin")
            proc = run.tool(austin_cmd(paths["austin"], pid, HIGH_RATE, out, seconds))
            usage, wall, _ = run.reap(proc, seconds + 60)  # -x takes whole seconds
            check_output(proc, out)
            samples = austin_reported(read_text(proc.err_path))
            if samples is None:
                samples = austin_lines(out)
        os.unlink(out)
    finally:
        run.kill(target)
    if not samples:
        raise Failed("no samples recorded")
    cpu = usage.ru_utime + usage.ru_stime
    return {"rate": samples / seconds, "cpu_pct": 100.0 * cpu / wall, "us_per": 1e6 * cpu / samples,
            "samples": samples}


# ---- 2. slowdown


def measure_slowdown(run, mode, rate, paths, size, settle):
    target = run.target("work", repr(size))
    proc = out = None
    try:
        pid = target.pid
        if mode == "hotscope":
            out = run.path(".collapsed")
            proc = run.tool(hotscope_cmd(run.python, pid, rate, output=out))
        elif mode.startswith("py-spy"):
            out = run.path(".pyspy")
            proc = run.tool(pyspy_cmd(paths["py-spy"], pid, rate, out,
                                      blocking=mode == "py-spy (blocking)"))
        elif mode == "austin":
            out = run.path(".austin")
            proc = run.tool(austin_cmd(paths["austin"], pid, rate, out))
        if proc is not None:
            time.sleep(settle)
            if proc.poll() is not None:
                raise Failed(one_line(read_text(proc.err_path)) or
                             "exited early (status %s)" % proc.returncode)
        target.stdin.write(b"go\n")
        target.stdin.flush()
        line = read_line(target, 600)
        try:
            seconds = json.loads(line)["seconds"]
        except (ValueError, KeyError, TypeError):
            raise Failed("bad target output: %r" % line[:100])
        result = {"seconds": seconds}
        if proc is not None:
            target.wait(timeout=60)
            run.reap(proc, time.monotonic() - proc.started + 30)
            check_output(proc, out)
            needle = WORK_FUNCTION.encode()
            got = austin_lines(out, needle) if mode == "austin" else collapsed_count(out, needle)
            result["hz"] = got / seconds
            os.unlink(out)
        return result
    finally:
        run.kill(target)
        if proc is not None and proc in run.live:
            run.kill(proc)


# ---- 3. memory


def measure_memory(run, tool, paths, opts):
    target = run.target("bounded")
    try:
        pid = target.pid
        if tool == "hotscope":
            first, last = opts["mem_samples"]
            cap = opts["mem_max_seconds"]
            proc = run.tool([run.python, os.path.abspath(__file__), "--hotscope-mem", str(pid),
                             str(first), str(last), str(cap)])
            usage, wall, _ = run.reap(proc, cap + 120)
            text = read_text(proc.out_path).strip()
            if proc.returncode != 0 or not text:
                raise Failed(one_line(read_text(proc.err_path)) or
                             "exit status %s" % proc.returncode)
            r = json.loads(text.splitlines()[-1])
            at_first = r.get("first") or [None, None]
            return {"samples": r["samples"], "seconds": r["seconds"], "start_kb": r["start_kb"],
                    "first_samples": at_first[0], "first_kb": at_first[1],
                    "peak_kb": r["peak_kb"], "sampling_kb": r["before_snapshot_kb"],
                    "stacks": r["stacks"], "late": r["late"]}
        seconds = opts["mem_peer_seconds"]
        marks = (min(0.3, seconds / 20), seconds / 10, seconds - 0.05)
        if tool == "py-spy":
            out = run.path(".pyspy")
            proc = run.tool(pyspy_cmd(paths["py-spy"], pid, HIGH_RATE, out))
            usage, wall, hwm = run.reap(proc, seconds + 120, interrupt_after=seconds, hwm_at=marks)
            check_output(proc, out)
            samples, stacks = collapsed_count(out), collapsed_stacks(out)
            os.unlink(out)
        else:
            proc = run.tool(austin_cmd(paths["austin"], pid, HIGH_RATE, os.devnull, seconds))
            usage, wall, hwm = run.reap(proc, seconds + 120, hwm_at=marks)
            samples = austin_reported(read_text(proc.err_path))
            if samples is None:
                raise Failed(one_line(read_text(proc.err_path)) or "no sample count printed")
            stacks = None
        return {"samples": samples, "seconds": seconds, "start_kb": hwm.get(marks[0]),
                "first_samples": None, "first_kb": hwm.get(marks[1]),
                "sampling_kb": hwm.get(marks[2]), "peak_kb": hwm.get("last"),
                "stacks": stacks}
    finally:
        run.kill(target)


# --------------------------------------------------------------------------
# parent: the run


def run_interpreter(python, args, opts, paths, errors):
    results = {"rate": {}, "slowdown": {}, "memory": {}}
    tools = [t for t in TOOLS if t not in errors]
    with tempfile.TemporaryDirectory(prefix="bench_sampler.") as tmp:
        run = Runner(python, tmp)
        try:
            if "rate" in args.parts:
                samples = {t: [] for t in tools}
                for _ in range(opts["rate_repeat"]):
                    for tool in tools:
                        if ("rate", tool) in errors:
                            continue
                        try:
                            samples[tool].append(measure_rate(run, tool, paths, opts["rate_seconds"]))
                        except Failed as e:
                            errors[("rate", tool)] = str(e)
                for tool, rs in samples.items():
                    if rs:
                        results["rate"][tool] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            if "slowdown" in args.parts:
                modes = [("none", None)] + [(m, rate) for rate in SLOW_RATES for m in SLOW_MODES
                                            if m.split()[0] in tools]
                runs = {key: [] for key in modes}
                too_slow = set()
                for _ in range(args.repeat):
                    for key in modes:
                        if ("slowdown", key) in errors or key in too_slow:
                            continue
                        try:
                            r = measure_slowdown(run, key[0], key[1], paths, opts["work_size"],
                                                 opts["settle"])
                        except Failed as e:
                            errors[("slowdown", key)] = str(e)
                            continue
                        runs[key].append(r)
                        # A mode that slows the work down 8x or more is not
                        # repeated: its one run says enough and costs much.
                        base = runs[("none", None)]
                        if key[1] and base and r["seconds"] > 8 * statistics.median(x["seconds"] for x in base):
                            too_slow.add(key)
                for key, rs in runs.items():
                    if rs:
                        results["slowdown"][key] = {k: statistics.median(r[k] for r in rs)
                                                    for k in rs[0]}
                        results["slowdown"][key]["n"] = len(rs)
            if "memory" in args.parts:
                for tool in tools:
                    try:
                        results["memory"][tool] = measure_memory(run, tool, paths, opts)
                    except Failed as e:
                        errors[("memory", tool)] = str(e)
        finally:
            run.kill_all()
    return results


# --------------------------------------------------------------------------
# parent: output


TOOL_LABEL = {"hotscope": "hotscope", "py-spy": "py-spy --nonblocking", "austin": "austin"}


def mb(kb):
    return "n/a" if kb is None else "%.1f" % (kb / 1024.0)


def tables(results, errors, opts, args):
    out, notes = [], []
    if "rate" in args.parts:
        rows = []
        for tool in TOOLS:
            r = results["rate"].get(tool)
            rows.append([TOOL_LABEL[tool]] + (["%.0f" % r["rate"], "%.0f" % r["cpu_pct"],
                                                "%.1f" % r["us_per"]] if r else ["n/a"] * 3))
        out.append(("1. Highest sustained rate: %d-frame stack spinning on one core, %g kHz asked, "
                    "%.1f s, median of %d" % (DEPTH, HIGH_RATE / 1000.0, opts["rate_seconds"],
                                              opts["rate_repeat"]),
                    ["tool", "samples/s", "CPU %", "CPU us/sample"], rows))
    if "slowdown" in args.parts:
        base = results["slowdown"].get(("none", None))
        rows = []
        for mode in SLOW_MODES:
            row = [mode]
            for rate in SLOW_RATES:
                r = results["slowdown"].get((mode, rate))
                if r and base:
                    ratio = "%.2f" % (r["seconds"] / base["seconds"])
                    if r["n"] < args.repeat:
                        ratio += " (n=%d)" % r["n"]
                    row += [ratio, "%.0f" % r["hz"]]
                else:
                    row += ["n/a", "n/a"]
            rows.append(row)
        header = ["tool"]
        for rate in SLOW_RATES:
            header += ["%g kHz x" % (rate / 1000.0), "got Hz"]
        title = "2. Target slowdown (time under the tool / unprofiled), median of %d" % args.repeat
        title += "; unprofiled: %s" % ("%.3f s" % base["seconds"] if base else "n/a")
        out.append((title, header, rows))
    if "memory" in args.parts:
        rows = []
        for tool in TOOLS:
            r = results["memory"].get(tool)
            if not r:
                rows.append([tool] + ["n/a"] * 7)
                continue
            first = mb(r["first_kb"])
            if r.get("first_samples"):
                first += " (%s)" % "{:,}".format(r["first_samples"])
            rows.append([tool, "{:,}".format(r["samples"]), "%.1f" % r["seconds"],
                         mb(r["start_kb"]), first, mb(r["sampling_kb"]), mb(r["peak_kb"]),
                         "n/a" if r["stacks"] is None else "{:,}".format(r["stacks"])])
        out.append(("3. Tool memory (RSS high-water mark) on a target with a bounded set of "
                    "stacks, %g kHz asked" % (HIGH_RATE / 1000.0),
                    ["tool", "samples", "secs", "start MB", "at 1/10 MB", "at end MB", "peak MB",
                     "stacks"], rows))
    for key, err in sorted(errors.items(), key=str):
        if isinstance(key, tuple):
            what = key[1]
            if isinstance(what, tuple):
                what = what[0] if what[1] is None else "%s at %g Hz" % what
            notes.append("%s (%s): n/a (%s)" % (what, key[0], err))
        else:
            notes.append("%s: n/a (%s)" % (key, err))
    return out, notes


def print_text(header_line, out, notes):
    print(header_line)
    for title, header, rows in out:
        print("  " + title)
        widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
        for r in [header] + rows:
            print("    " + "  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i])
                                   for i, c in enumerate(r)))
        print()
    for n in notes:
        print("  " + n)
    if notes:
        print()


def print_markdown(header_line, out, notes):
    print(header_line + "\n")
    for title, header, rows in out:
        print("**%s**\n" % title)
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print()
    for n in notes:
        print("- " + n.replace("|", "\\|"))
    if notes:
        print()


# --------------------------------------------------------------------------


def has_hotscope(python):
    try:
        out = subprocess.run([python, "-c", "import hotscope._core"], capture_output=True,
                             text=True, timeout=60, cwd=HERE)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if out.returncode == 0 else (one_line(out.stderr) or "import hotscope._core failed")


def default_python():
    candidates = [sys.executable] + [os.path.join(REPO, ".venvs", v, "bin", "python")
                                     for v in ("3.12", "3.13", "3.11", "3.10")]
    for c in candidates:
        if os.path.exists(c) and has_hotscope(c) is None:
            return c
    return None


def version_of(python):
    out = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip() or "?"


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--target"]:
        run_target(argv[1:])
        return 0
    if argv[:1] == ["--hotscope-mem"]:
        hotscope_mem_child(int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", default=[],
                        help="interpreter of the targets and of hotscope (repeatable)")
    parser.add_argument("-n", "--repeat", type=int, default=5,
                        help="repeats of the slowdown runs, median kept (default 5; "
                        "the rate runs take min(3, N))")
    parser.add_argument("--quick", action="store_true", help="1 repeat, short runs (smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--only", dest="parts", action="append", choices=PARTS,
                        help="part to run (repeatable; default all)")
    parser.add_argument("--py-spy", dest="pyspy", help="py-spy executable")
    parser.add_argument("--austin", help="austin executable")
    args = parser.parse_args(argv)
    args.parts = args.parts or list(PARTS)
    opts = dict(QUICK if args.quick else FULL)
    if args.quick:
        args.repeat = 1
    else:
        opts["rate_repeat"] = max(1, min(3, args.repeat))
    pythons = args.python or [default_python()]
    if pythons == [None]:
        parser.error("no interpreter with hotscope found; pass --python")
    # Absolute, not resolved: a venv's python is a symlink to its base.
    pythons = [os.path.abspath(p) if os.sep in p else (shutil.which(p) or p) for p in pythons]
    began = time.monotonic()
    for python in pythons:
        errors = {}
        reason = has_hotscope(python)
        if reason:
            errors["hotscope"] = reason
        paths = {"py-spy": find_tool("py-spy", python, args.pyspy),
                 "austin": find_tool("austin", python, args.austin)}
        versions = []
        for name, flag in (("py-spy", "-V"), ("austin", "-V")):
            if not paths[name]:
                errors[name] = "not found (pip install %s)" % ("py-spy" if name == "py-spy"
                                                              else "austin-dist")
                continue
            version, reason = probe_tool([paths[name], flag])
            if reason:
                errors[name] = "%s: %s" % (paths[name], reason)
            else:
                versions.append(version)
        if "hotscope" not in errors:
            hv = subprocess.run([python, "-c", "import hotscope; print(getattr(hotscope, "
                                 "'__version__', '?'))"], capture_output=True, text=True, cwd=HERE)
            versions.insert(0, "hotscope " + (hv.stdout.strip() or "?"))
        # The targets need only Python: py-spy and austin run without hotscope.
        results = run_interpreter(python, args, opts, paths, errors)
        out, notes = tables(results, errors, opts, args)
        line = "Python %s (%s); %s; %d CPUs" % (version_of(python), python, ", ".join(versions),
                                               os.cpu_count() or 0)
        if args.markdown:
            print_markdown(line, out, notes)
        else:
            print_text(line, out, notes)
        sys.stdout.flush()
    print("(%.0f s)" % (time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
