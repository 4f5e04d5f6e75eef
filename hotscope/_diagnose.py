"""hotscope diagnose: measure end to end, then look closer where it matters.

Runs the program up to four times, each run a separate process with the
engine it needs:
  1. sampled from outside (the run as it is, nothing inside it): the time
     end to end, each thread's CPU and GIL states, the memory over time;
     the program's own output and exit status are this run's;
  2. traced: calls, callers, wall and CPU per call path, GC;
  3. line by line, only the functions found CPU-bound (at most three),
     for the line that costs;
  4. under the memory engine, only if memory grew, for the lines that
     hold it.
Runs 2-4 get no input and their output is discarded. The findings
(hotscope/_findings.py) combine what the runs found.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from . import _findings, _lines, _runner, _sample

SAMPLE_RATE = 1000
MAX_LINE_FUNCTIONS = 3


class Phase:
    """What one run gave: its profile (or None) and a note for the header."""

    def __init__(self, name, data=None, note=None):
        self.name, self.data, self.note = name, data, note


def _say(text):
    sys.stderr.write("hotscope diagnose: %s\n" % text)
    sys.stderr.flush()


def sample_phase(program, rate):
    """Run 1. Returns (Phase, the program's exit status)."""
    command = _lines._command_of(program)
    started = time.monotonic()
    child = _sample.start_program(command)
    try:
        sampler = _sample.attach(child.pid, rate=rate, mode="cpu", idle=True, wait=_sample.STARTUP_WAIT)
    except _sample.SampleError as e:
        status = _sample.wait_child(child, "exited")
        return Phase("sample", note="not sampled: %s" % e), status
    reason = _sample.run_sampling(sampler, child=child)
    status = _sample.wait_child(child, reason)
    data = sampler.snapshot()
    data.set_meta("command", program.describe())
    phase = Phase("sample", data)
    phase.wall_s = time.monotonic() - started  # the process's life, start-up included
    phase.interrupted = reason == "interrupted"
    return phase, status


def _child_run(args, timeout=None):
    """Runs `hotscope ARGS` (this hotscope) quietly in a new process."""
    try:
        proc = subprocess.run(_runner.hotscope_again(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    except KeyboardInterrupt:
        raise
    except (OSError, subprocess.SubprocessError) as e:
        return False, str(e)
    return True, proc.stderr.decode("utf-8", "replace")


def _load(path):
    from . import load

    try:
        return load(path)
    except Exception:  # a run that died before writing: no profile from it
        return None


def _program_args(program):
    if program.kind == "module":
        return ["-m", program.target] + program.args
    if program.kind == "code":
        return ["-c", program.target] + program.args
    return [program.target] + program.args


def trace_phase(program, workdir):
    path = os.path.join(workdir, "trace.json")
    _child_run(["trace", "-o", path] + _program_args(program))
    data = _load(path) if os.path.exists(path) else None
    return Phase("trace", data, None if data else "the traced run wrote no profile")


def _spec_of(function, program):
    """"module:qualname" for `hotscope lines --func`, or None."""
    name, file, _first = function
    main_file = os.path.abspath(program.target) if program.kind == "script" else None
    if main_file and os.path.abspath(file) == main_file:
        module = "__main__"
    else:
        roots = [os.path.dirname(main_file) if main_file else os.getcwd()] + sys.path[1:]
        module = _lines._module_name(file, roots)
    if module is None or "<" in name:
        return None
    return "%s:%s" % (module, name)


def lines_phase(program, functions, workdir):
    """Run 3, for `functions` ((name, file, first line)): {function: (line,
    share of the function's time, source text)}."""
    specs = {}
    for function in functions:
        spec = _spec_of(function, program)
        if spec:
            specs[spec] = function
    if not specs:
        return Phase("lines", note="no function to time line by line"), {}
    path = os.path.join(workdir, "lines.json")
    args = ["lines", "-o", path]
    for spec in specs:
        args += ["--func", spec]
    _child_run(args + _program_args(program))
    data = _load(path) if os.path.exists(path) else None
    if data is None:
        return Phase("lines", note="the line-by-line run wrote no profile"), {}
    return Phase("lines", data), hottest_lines(data, set(specs.values()))


def hottest_lines(data, functions):
    """The hottest line of each of `functions` in a line profile's model:
    {(name, file, first): (line, share, text)}."""
    doc = json.loads(data.json())
    strings, frames, weights = doc["strings"], doc["frames"], doc["weights"]
    if "wall_ns" not in weights:
        return {}
    stride = 2 + len(weights)
    col = 2 + weights.index("wall_ns")
    per_line = {}
    nodes = doc["nodes"]
    for i in range(0, len(nodes), stride):
        name, file, first, line, _kind, _cat = frames[nodes[i + 1]]
        key = (strings[name], strings[file], first)
        if line and key in functions:
            per_line.setdefault(key, {})
            per_line[key][line] = per_line[key].get(line, 0) + nodes[i + col]
    meta = doc.get("meta", {})
    out = {}
    for key, lines in per_line.items():
        total = sum(lines.values())
        if not total:
            continue
        line = max(lines, key=lines.get)
        source = meta.get("source:%s:%d" % (key[1], key[2]))
        text = ""
        if source:
            rows = source.split("\n")
            if 0 <= line - key[2] < len(rows):
                text = rows[line - key[2]]
        out[key] = (line, lines[line] / total, text)
    return out


def mem_phase(program, workdir):
    path = os.path.join(workdir, "mem.json")
    _child_run(["mem", "-o", path] + _program_args(program))
    data = _load(path) if os.path.exists(path) else None
    if data is None:
        return Phase("mem", note="the memory run wrote no profile"), []
    return Phase("mem", data), data.mem_rows(what="leaked", by="line", sort="bytes", limit=3)


def run_line(sample):
    """The header: the run measured end to end."""
    if sample.data is None:
        return None
    seconds = sample.wall_s
    threads = sample.data.threads()
    cpu = sum(t.get("cpu_ns", 0) for t in threads) / 1e9
    text = "Measured end to end: %.3f s wall, %.3f s CPU, %d thread%s" % (
        seconds, cpu, len(threads), "" if len(threads) == 1 else "s")
    rss = _findings.peak_rss(sample.data)
    if rss:
        text += ", peak RSS %.1f MiB" % (rss / 2**20)
    return text


def diagnose(program, rate=SAMPLE_RATE, quick=False):
    """Runs the phases. Returns (status, findings, the profile to save,
    header lines)."""
    _say("run 1: sampling the program from outside, as it runs")
    sample, status = sample_phase(program, rate)
    notes = []
    if sample.note:
        notes.append(sample.note)
    sample_model = _findings.model_of(sample.data) if sample.data is not None else None
    findings = []
    if sample_model is not None:
        findings += _findings.gil_findings(sample_model)
    interrupted = getattr(sample, "interrupted", False)
    main = sample
    time_model = sample_model
    lines = {}
    leaks = None
    # Without a sample (the sampler could not attach) the other runs still
    # tell most: only GIL contention and memory growth need the sample.
    if not quick and not interrupted:
        with tempfile.TemporaryDirectory(prefix="hotscope-diagnose-") as workdir:
            _say("run 2: tracing every call")
            trace = trace_phase(program, workdir)
            if trace.data is not None:
                main = trace
                time_model = _findings.model_of(trace.data)
            elif trace.note:
                notes.append(trace.note)
            hot = _findings.cpu_hot_spots(time_model) if time_model is not None else []
            if hot:
                _say("run 3: timing %s line by line" % ", ".join(f[0] for f in hot[:MAX_LINE_FUNCTIONS]))
                phase, lines = lines_phase(program, hot[:MAX_LINE_FUNCTIONS], workdir)
                if phase.note:
                    notes.append(phase.note)
            if sample_model is not None and _findings.memory_findings(sample_model):
                _say("run 4: memory grew; finding what holds it")
                phase, leaks = mem_phase(program, workdir)
                if phase.note:
                    notes.append(phase.note)
    if time_model is not None:
        off_cpu = _findings.off_cpu_shares(sample_model) if sample_model is not None else None
        findings += _findings.time_findings(time_model, lines, off_cpu)
    if sample_model is not None:
        findings += _findings.memory_findings(sample_model, leaks)
    findings = _findings.rank(findings)
    header = [line for line in [run_line(sample)] if line]
    if main is not sample and main.data is not None:
        header.append("Runs: %straced%s%s" % ("sampled, " if sample.data is not None else "",", lines of %d function%s" % (
            len(lines), "" if len(lines) == 1 else "s") if lines else "", ", memory" if leaks is not None else ""))
    header += ["Note: %s" % n for n in notes]
    if interrupted:
        header.append("Interrupted: the findings are from the sampled run so far")
    if main.data is not None:
        _findings.attach(main.data, findings)
    return status, findings, main.data, header
