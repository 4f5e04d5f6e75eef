"""Findings: what kind of bottleneck a profile shows, where, and what usually
helps - the method every profiling guide teaches, applied to the numbers.

A profile (a trace, a sample, or both from `hotscope diagnose`) is read as
its model JSON. Every stack's own time is charged to the *culprit*: the
innermost function of the program's own code on that stack (library,
standard library and built-in frames above it are how it spends its time,
not where a change can be made). Per culprit the time splits into CPU time,
time off the CPU inside what it called (I/O, sleep), time off the CPU in
its own bytecode (a lock taken by `with`, or the GIL), and cyclic GC.

Time a thread spends waiting for work (Queue.get, Condition.wait,
Event.wait, Thread.join, Future.result: a worker with nothing to do, or a
thread waiting for the others) is idle, not a bottleneck: the work it
waits for is charged where it runs.

A hot spot is reported when it accounts for at least MIN_SHARE of the run,
so a program whose time is spread thin yields no finding. Findings are
ranked by the time that could be saved (an upper bound: the time of the
pattern found), memory findings after the time ones.
"""

import json
import os
import re

MIN_SHARE = 0.10          # of the run: smaller hot spots are not findings
CPU_BOUND = 0.8           # CPU / wall at or above which a hot spot is CPU-bound
MANY_CALLS = 10000        # calls from one site that make a "thousand calls" pattern ...
CHEAP_CALL_NS = 2000      # ... when each costs at most this (2 us, the tracer's own cost included)
ROUND_TRIPS = 100         # calls of a waiting function that make an N+1 pattern
GIL_BUSY = 0.7            # share of passes some thread held the GIL: the GIL is busy
GIL_WAITER = 0.2          # share of its passes a thread waited for the GIL: a waiter
GROWTH_BYTES = 64 << 20   # RSS growth worth a finding ...
GROWTH_RATIO = 1.5        # ... when the end is also this many times the start

# Functions that wait for work or for other threads (by file and last part
# of the name, which is all 3.10 records): time under them is idle.
IDLE_WAITS = {
    ("threading.py", "wait"), ("threading.py", "join"), ("threading.py", "_wait_for_tstate_lock"),
    ("queue.py", "get"), ("_base.py", "result"), ("_base.py", "wait"), ("_base.py", "as_completed"),
    ("thread.py", "_worker"), ("process.py", "_worker"),
}

REMEDIES = {
    "cpu": ["a better algorithm or data structure (a dict or set lookup instead of a search "
            "through a list, sorting once instead of repeatedly)",
            "caching results that are computed again (functools.lru_cache, a dict)",
            "vectorising the loop (NumPy, built-ins such as sum/map/sorted over whole sequences)",
            "moving the hot loop into compiled code (Cython, a C extension), or processes for "
            "parallel work"],
    "waiting": ["overlapping the waits (asyncio, or a thread pool: the GIL is released while "
                "waiting)",
                "batching: one request for many items instead of one per item",
                "caching answers that are asked for again",
                "timeouts and fewer round trips (keep-alive connections, bulk queries)"],
    "blocked": ["holding locks for less time (copy what is needed under the lock, do the slow "
                "work outside it)",
                "fewer threads competing for the GIL in Python code (processes for CPU work)"],
    "gc": ["creating fewer short-lived reference cycles (break parent/child back-references "
           "with weakref, avoid closures that refer to themselves)",
           "gc.freeze() after start-up, so long-lived objects are not scanned again",
           "raising the collection thresholds (gc.set_threshold) for allocation-heavy phases",
           "__slots__ or tuples for many small objects"],
    "calls": ["batching: one call for many items (the N+1 pattern: one query per item)",
              "hoisting work that does not change out of the loop, and binding "
              "methods/globals to locals",
              "inlining the tiny function into its caller, or caching its results",
              "vectorising (built-ins, comprehensions, NumPy) instead of a call per element"],
    "gil": ["processes instead of threads for CPU-bound Python work (multiprocessing, "
            "ProcessPoolExecutor)",
            "C extensions or libraries that release the GIL for the heavy part (NumPy, hashlib, "
            "zlib)",
            "fewer threads running Python code at once; the free-threaded build (3.13t)"],
    "memory": ["streaming with generators/iterators instead of building whole lists",
               "bounding caches (functools.lru_cache(maxsize=...), evicting old entries)",
               "dropping references to what is no longer needed (globals, caches, closures, "
               "exception tracebacks)",
               "smaller representations (__slots__, arrays, NumPy) for many small objects"],
}

TITLES = {
    "cpu": "CPU-bound",
    "waiting": "waiting on I/O or sleep",
    "blocked": "blocked on a lock or the GIL",
    "gc": "GC-heavy",
    "calls": "death by a thousand calls",
    "gil": "GIL-contended",
    "memory": "memory growth",
}


class _Model:
    """The parts of a profile's model JSON the findings need."""

    def __init__(self, data):
        doc = json.loads(data.json())
        self.meta = doc.get("meta", {})
        self.strings = doc["strings"]
        self.frames = doc["frames"]
        self.weights = doc["weights"]
        self.threads = doc.get("threads", [])
        self.series = doc.get("series", [])
        stride = 2 + len(self.weights)
        flat = doc["nodes"]
        count = len(flat) // stride
        # node 0 is the root (no record); node i + 1 is record i
        self.parent = [-1] + [flat[i * stride] for i in range(count)]
        self.frame = [-1] + [flat[i * stride + 1] for i in range(count)]
        self.self = {}
        for k, name in enumerate(self.weights):
            self.self[name] = [0] + [flat[i * stride + 2 + k] for i in range(count)]
        self.engine = self.meta.get("engine", "")
        self.duration_ns = int(self.meta.get("duration_ns") or 0)

    def has(self, weight):
        return weight in self.self

    def name(self, frame):
        return self.strings[self.frames[frame][0]]

    def file(self, frame):
        return self.strings[self.frames[frame][1]]

    def function(self, frame):
        """(name, file, first line): a function, whatever line it was at."""
        f = self.frames[frame]
        return (self.strings[f[0]], self.strings[f[1]], f[2])

    def line(self, frame):
        return self.frames[frame][3]

    def kind(self, frame):
        return self.frames[frame][4]

    def category(self, frame):
        return self.frames[frame][5]

    def thread_of_nodes(self):
        """node -> index of its thread (the thread node is a child of the root)."""
        roots = {t["root"]: i for i, t in enumerate(self.threads)}
        out = [-1] * len(self.parent)
        for n in range(1, len(self.parent)):
            p = self.parent[n]
            out[n] = roots.get(n, -1) if p == 0 else out[p]
        return out


def _is_idle_wait(model, frame):
    if model.kind(frame) != "python":
        return False
    base = os.path.basename(model.file(frame))
    return (base, model.name(frame).rsplit(".", 1)[-1]) in IDLE_WAITS


class _Culprit:
    def __init__(self, function):
        self.function = function
        self.cpu = 0            # on the CPU, own code and callees
        self.io_wait = 0        # off the CPU inside callees (I/O, sleep)
        self.blocked = 0        # off the CPU in its own bytecode (lock via `with`, GIL)
        self.gc = 0             # cyclic GC triggered under it
        self.wall = 0
        self.cpu_by_callee = {}  # callee name -> on-CPU ns
        self.wait_by_callee = {}
        self.lines = {}         # line -> wall ns with the culprit at that line (sampled)
        self.threads = set()


class _Split:
    """A profile's time charged to culprits (see _split_time)."""

    def __init__(self):
        self.culprits = {}      # function -> _Culprit
        self.gc_ns = 0
        self.idle_by_thread = {}  # thread index -> ns waiting for work or other threads
        self.wall_by_thread = {}


def _split_time(model):
    """Charges every node's own time to its culprit."""
    out = _Split()
    wall = model.self.get("wall_ns")
    cpu = model.self.get("cpu_ns")
    if wall is None:
        return out
    n_nodes = len(model.parent)
    culprit = [-1] * n_nodes   # node of the culprit's frame on the path
    fallback = [-1] * n_nodes  # innermost Python frame of any category
    idle = [False] * n_nodes
    thread_of = model.thread_of_nodes()
    culprits = out.culprits
    for n in range(1, n_nodes):
        p = model.parent[n]
        f = model.frame[n]
        kind = model.kind(f)
        own = kind == "python" and model.category(f) == "user"
        culprit[n] = n if own else (culprit[p] if p > 0 else -1)
        fallback[n] = n if kind == "python" else (fallback[p] if p > 0 else -1)
        idle[n] = (idle[p] if p > 0 else False) or _is_idle_wait(model, f)
        w = wall[n]
        if not w:
            continue
        t = thread_of[n]
        out.wall_by_thread[t] = out.wall_by_thread.get(t, 0) + w
        if idle[n]:
            out.idle_by_thread[t] = out.idle_by_thread.get(t, 0) + w
            continue
        c = culprit[n] if culprit[n] >= 0 else fallback[n]
        if c < 0:
            continue
        key = model.function(model.frame[c])
        entry = culprits.get(key)
        if entry is None:
            entry = culprits[key] = _Culprit(key)
        entry.threads.add(t)
        on_cpu = min(cpu[n], w) if cpu is not None else w
        entry.wall += w
        line = model.line(model.frame[c])
        if line:
            entry.lines[line] = entry.lines.get(line, 0) + w
        name = model.name(f)
        if name.startswith("[gc]"):
            entry.gc += w
            out.gc_ns += w
            continue
        entry.cpu += on_cpu
        if c == n and model.engine == "sample":
            # The sampler sees no C function: off the CPU at one of the
            # culprit's own lines is inside whatever that line calls.
            entry.io_wait += w - on_cpu
            label = "line %d" % line if line else "its own code"
            entry.wait_by_callee[label] = entry.wait_by_callee.get(label, 0) + w - on_cpu
        elif c == n:
            entry.blocked += w - on_cpu
        else:
            entry.io_wait += w - on_cpu
            entry.cpu_by_callee[name] = entry.cpu_by_callee.get(name, 0) + on_cpu
            entry.wait_by_callee[name] = entry.wait_by_callee.get(name, 0) + w - on_cpu
    return out


def _edges(model):
    """{(caller function, callee function): [calls, total wall ns, wait ns]}
    over every call path, for a trace (calls recorded), plus {function:
    calls}. The total of an edge is the callee's subtree below it."""
    calls = model.self.get("calls")
    wall = model.self.get("wall_ns")
    cpu = model.self.get("cpu_ns")
    if calls is None or wall is None:
        return {}, {}
    n_nodes = len(model.parent)
    total = list(wall)
    waited = [max(0, wall[n] - (cpu[n] if cpu is not None else wall[n])) for n in range(n_nodes)]
    for n in range(n_nodes - 1, 0, -1):  # children after parents: fold upwards
        p = model.parent[n]
        if p > 0:
            total[p] += total[n]
            waited[p] += waited[n]
    edges, called = {}, {}
    for n in range(1, n_nodes):
        p = model.parent[n]
        if p <= 0 or model.kind(model.frame[p]) != "python":
            continue
        callee = model.function(model.frame[n])
        if callee[0].startswith("[") or model.kind(model.frame[n]) == "thread":
            continue
        key = (model.function(model.frame[p]), callee)
        e = edges.setdefault(key, [0, 0, 0])
        e[0] += calls[n]
        e[1] += total[n]
        e[2] += waited[n]
        called[callee] = called.get(callee, 0) + calls[n]
    return edges, called


def _where(function, line=None):
    name, file, first = function
    return {"function": name, "file": file, "line": line or first}


def _seconds(ns):
    return ns / 1e9


def _finding(kind, function, ns, run_ns, evidence, line=None, threads=1):
    share = min(1.0, ns / run_ns) if run_ns else 0.0
    out = {"kind": kind, "title": TITLES[kind], "seconds": _seconds(ns), "share": share,
           "evidence": evidence, "remedies": REMEDIES[kind]}
    if function is not None:
        out.update(_where(function, line))
    if threads > 1:
        out["threads"] = threads
    return out


def _top(mapping, n=2):
    return sorted(((v, k) for k, v in mapping.items() if v > 0), reverse=True)[:n]


def _ms(ns):
    s = ns / 1e9
    return "%.3f s" % s if s >= 0.1 else "%.1f ms" % (s * 1e3)


def _run_ns(model):
    """The run's length: the profile's duration, else its longest thread."""
    if model.duration_ns:
        return model.duration_ns
    return max((t.get("wall_ns", 0) for t in model.threads), default=0)


def model_of(data):
    """The model of a profile, for the functions below; None when unreadable."""
    try:
        return _Model(data)
    except (ValueError, KeyError, IndexError):
        return None


def cpu_hot_spots(model):
    """The program's own functions that are CPU-bound hot spots, hottest
    first: the ones worth timing line by line."""
    run_ns = _run_ns(model)
    culprits = _split_time(model).culprits
    hot = [c for c in culprits.values() if run_ns and c.cpu >= MIN_SHARE * run_ns]
    return [c.function for c in sorted(hot, key=lambda c: -c.cpu)]


def peak_rss(data):
    """The highest RSS a sampled profile's series saw, or None."""
    model = model_of(data)
    rss = next((s for s in model.series if s.get("name") == "rss_bytes"), None) if model else None
    values = rss["points"][1::2] if rss else []
    return max(values) if values else None


def _thread_name(name):
    """A thread's name without the sampler's " (tid N)" label, to match the
    same thread across runs."""
    return re.sub(r" \(tid \d+\)$", "", name or "")


def off_cpu_shares(model):
    """{thread name: share of the sampler's passes that found it off the
    CPU} from a sample's GIL states, or None. Unlike wall minus CPU time,
    this does not count the time a thread was ready to run but another
    process had the CPU (a loaded machine)."""
    out = {}
    for t in model.threads:
        states = t.get("gil_states")
        if states and sum(states):
            out[_thread_name(t.get("name"))] = sum(states[2:]) / sum(states)  # GIL, other, lock waits
    return out or None


def time_findings(model, lines=None, off_cpu=None):
    """CPU-bound, waiting, blocked, GC-heavy and thousand-calls findings of
    one profile. `lines`: {function: (line, share of the function, text)}
    from a line profile, the hottest line of the functions it covered.
    `off_cpu` (off_cpu_shares of a sampled run of the same program): a
    wait is reported only if its threads were seen off the CPU for at
    least half the share of the run it claims, so that time lost to other
    processes on a busy machine is not taken for waiting."""
    run_ns = _run_ns(model)
    if not run_ns:
        return []
    floor = MIN_SHARE * run_ns
    split = _split_time(model)
    culprits, gc_ns = split.culprits, split.gc_ns
    edges, called = _edges(model)
    python_functions = {model.function(f) for f in range(len(model.frames)) if model.kind(f) == "python"}
    callers = {}
    for (caller, callee), (n, total, _w) in edges.items():
        if n:
            callers.setdefault(callee, []).append((n, caller, total))
    findings = []

    def hottest_line(c):
        if lines and c.function in lines:
            line, share, text = lines[c.function]
            return line, "hottest line %d: %s (%.0f%% of the function's time, line profile)" % (
                line, text.strip() or "?", 100 * share)
        if c.lines:
            line = max(c.lines, key=c.lines.get)
            share = c.lines[line] / max(1, sum(c.lines.values()))
            return line, "hottest line %d (%.0f%% of its samples)" % (line, 100 * share)
        return None, None

    def call_note(function):
        sites = sorted(callers.get(function, []), reverse=True)
        if not sites:
            return None, 0
        n, caller, _total = sites[0]
        times = "once" if n == 1 else "%d times" % n
        return "called %s from %s (%s:%d)" % (times, caller[0], caller[1], caller[2]), n

    def seen_waiting(c, ns):
        if off_cpu is None:
            return True
        names = {_thread_name(model.threads[t].get("name")) for t in c.threads if 0 <= t < len(model.threads)}
        seen = max((off_cpu[n] for n in names if n in off_cpu), default=None)
        return seen is None or seen >= 0.5 * min(1.0, ns / run_ns)

    for c in culprits.values():
        threads = len(c.threads)
        if c.cpu >= floor:
            line, text = hottest_line(c)
            evidence = ["%s on the CPU of %s wall (%.0f%%)" % (_ms(c.cpu), _ms(c.wall),
                                                               100 * c.cpu / max(1, c.wall))]
            if text:
                evidence.append(text)
            spent = _top(c.cpu_by_callee)
            if spent:
                evidence.append("of which in what it calls: " + ", ".join(
                    "%s %s" % (name, _ms(ns)) for ns, name in spent))
            note, _n = call_note(c.function)
            if note:
                evidence.append(note)
            findings.append(_finding("cpu", c.function, c.cpu, run_ns, evidence, line, threads))
        if c.io_wait >= floor and seen_waiting(c, c.io_wait):
            waits = _top(c.wait_by_callee)
            evidence = ["%s off the CPU of %s wall, waiting in %s" % (
                _ms(c.io_wait), _ms(c.wall), ", ".join("%s (%s)" % (name, _ms(ns)) for ns, name in waits))]
            note, n = call_note(c.function)
            if note:
                evidence.append(note + (": one round trip per call, the N+1 pattern" if n >= ROUND_TRIPS
                                        else ""))
            findings.append(_finding("waiting", c.function, c.io_wait, run_ns, evidence, None, threads))
        if c.blocked >= floor and seen_waiting(c, c.blocked):
            line, _text = hottest_line(c)
            evidence = ["%s off the CPU in its own code (a lock taken with `with`, or waiting "
                        "for the GIL), of %s wall" % (_ms(c.blocked), _ms(c.wall))]
            if line:
                evidence.append("at line %d" % line)
            findings.append(_finding("blocked", c.function, c.blocked, run_ns, evidence, line, threads))
    if gc_ns >= floor:
        worst = max(culprits.values(), key=lambda c: c.gc)
        evidence = ["%s in cyclic garbage collection, %.0f%% of the run" % (_ms(gc_ns), 100 * gc_ns / run_ns)]
        counts = model.meta.get("gc_collections")
        if counts:
            evidence.append("collections per generation (0 1 2): %s" % counts)
        evidence.append("triggered most under %s (%s)" % (worst.function[0], _ms(worst.gc)))
        findings.append(_finding("gc", worst.function, gc_ns, run_ns, evidence))
    for (caller, callee), (n, total, _waited) in edges.items():
        # Python callees: calling them is what costs (a frame, arguments);
        # a built-in called in a loop is the loop's CPU time.
        if callee not in python_functions or callee[0].startswith("<"):
            continue
        # (Not `waited`: round trips cost far more than CHEAP_CALL_NS each,
        # and on a busy machine other processes' time shows up as waiting.)
        if n >= MANY_CALLS and total >= floor and total / n <= CHEAP_CALL_NS:
            evidence = ["%d calls to %s (%s:%d), %.2f us each, %s in all (%.0f%% of the run)" % (
                n, callee[0], callee[1], callee[2], total / n / 1e3, _ms(total), 100 * total / run_ns)]
            # The callee's own CPU-bound finding is this time seen from
            # inside: folded in when this site makes most of its calls.
            for f in list(findings):
                if (f["kind"] == "cpu" and (f["function"], f["file"]) == callee[:2]
                        and n >= 0.8 * called.get(callee, n)):
                    findings.remove(f)
                    evidence += [e for e in f["evidence"][1:] if not e.startswith("called ")]
            found = _finding("calls", caller, total, run_ns, evidence)
            found["callee"] = list(callee)
            findings.append(found)
    # Nested patterns (a calls b many times, b calls c as many): the inner
    # one is the more specific when it holds most of the outer one's time.
    calls = [f for f in findings if f["kind"] == "calls"]
    for outer in calls:
        for inner in calls:
            if (inner is not outer and (inner["function"], inner["file"]) == tuple(outer["callee"][:2])
                    and inner["seconds"] >= 0.5 * outer["seconds"] and outer in findings):
                findings.remove(outer)
    return findings


def gil_findings(model):
    """GIL contention from a sampled profile's per-thread GIL states."""
    rate = float(model.meta.get("rate_hz") or 0)
    states = [(t, t.get("gil_states")) for t in model.threads if t.get("gil_states")]
    if not states or not rate:
        return []
    passes = max(sum(s) for _t, s in states)
    if not passes:
        return []
    held = sum(s[0] for _t, s in states)
    holders = [t for t, s in states if s[0] >= 0.1 * passes]
    # The sampler tells a wait for the GIL from one for a lock by the futex
    # word's address; files from before it did (four states) count lock
    # waits as GIL waits, and there a thread that mostly waits for work or
    # for the others (join) is left out by its stacks.
    split = _split_time(model)
    index = {id(t): i for i, t in enumerate(model.threads)}

    def idle(t):
        i = index[id(t)]
        return split.idle_by_thread.get(i, 0) >= 0.5 * max(1, split.wall_by_thread.get(i, 0))

    waiters = [(t, s) for t, s in states if s[2] >= GIL_WAITER * sum(s) and not idle(t)]
    if held < GIL_BUSY * passes or len(holders) < 2 or not waiters:
        return []
    wait_ns = sum(s[2] for _t, s in waiters) / rate * 1e9
    run_ns = _run_ns(model)
    if wait_ns < MIN_SHARE * run_ns:
        return []
    evidence = ["the GIL was held %.0f%% of the time; %s" % (100 * held / passes, ", ".join(
        "%s waited for it%s %.0f%% of its time" % (t["name"], "" if len(s) > 4 else " (or a lock)",
                                                   100 * s[2] / sum(s))
        for t, s in waiters))]
    return [_finding("gil", None, wait_ns, run_ns, evidence, threads=len(waiters))]


def memory_findings(model, leaks=None):
    """Steady RSS growth over the run, with the lines holding the most at the
    end when a memory profile was taken (`leaks`: [(where, bytes, count)])."""
    rss = next((s for s in model.series if s.get("name") == "rss_bytes"), None)
    if not rss:
        return []
    values = rss["points"][1::2]
    if len(values) < 4:
        return []
    # The start: the median of the first tenth. The end: the highest of
    # the last quarter, as the last points may catch the process freeing
    # everything on its way out.
    k = max(1, len(values) // 10)
    start = sorted(values[:k])[k // 2]
    end = max(values[-max(1, len(values) // 4):])
    if end - start < GROWTH_BYTES or end < GROWTH_RATIO * start:
        return []
    evidence = ["RSS grew from %.1f MiB to %.1f MiB over the run (peak %.1f MiB)" % (
        start / 2**20, end / 2**20, max(values) / 2**20)]
    first = None
    for (file, line, function), size, count in (leaks or [])[:3]:
        if size < 0.01 * (end - start):
            continue
        evidence.append("still allocated at exit: %.1f MiB in %d blocks at %s (%s:%d)" % (
            size / 2**20, count, function, file, line))
        first = first or (function, file, line)
    out = _finding("memory", None, 0, _run_ns(model), evidence)
    out["bytes"] = end - start
    if first:
        out.update({"function": first[0], "file": first[1], "line": first[2]})
    return [out]


def rank(findings):
    """Time findings by the time they could save, then memory ones by bytes.
    With GIL contention found, the time threads spent off the CPU in their
    own code is that contention seen per function: folded into it."""
    gil = next((f for f in findings if f["kind"] == "gil"), None)
    if gil is not None:
        for f in [f for f in findings if f["kind"] == "blocked"]:
            findings.remove(f)
            gil["evidence"].append("in %s (%s:%d): %.3f s off the CPU in its own code" % (
                f["function"], f["file"], f["line"], f["seconds"]))
    timed = sorted((f for f in findings if f["kind"] != "memory"), key=lambda f: -f["seconds"])
    memory = sorted((f for f in findings if f["kind"] == "memory"), key=lambda f: -f.get("bytes", 0))
    return timed + memory


def of_profile(data):
    """The findings one profile supports on its own (every HTML report shows
    them): time findings of traces and samples, GIL contention and memory
    growth of samples."""
    model = model_of(data)
    if model is None or model.engine not in ("trace", "sample"):
        return []
    findings = time_findings(model, off_cpu=off_cpu_shares(model) if model.engine == "sample" else None)
    if model.engine == "sample":
        findings += gil_findings(model) + memory_findings(model)
    return rank(findings)


def attach(data, findings):
    """Stores findings in the profile's metadata, where the HTML report
    finds them."""
    data.set_meta("findings", json.dumps(findings, separators=(",", ":")))


def text(findings, run_line=None):
    """The findings as the text `hotscope diagnose` prints."""
    out = []
    if run_line:
        out.append(run_line)
        out.append("")
    if not findings:
        out.append("No bottleneck found: no function, wait, collection or pattern takes %d%% of "
                   "the run or more, and memory did not grow." % (100 * MIN_SHARE))
        return "\n".join(out) + "\n"
    out.append("Findings, by the time that could be saved:")
    for i, f in enumerate(findings, 1):
        out.append("")
        where = ""
        if f.get("file"):
            where = "%s (%s:%d)" % (f["function"], f["file"], f["line"]) if f.get("function") else \
                "%s:%d" % (f["file"], f["line"])
        if f["kind"] == "memory":
            head = "%d. %s: %.1f MiB" % (i, f["title"], f.get("bytes", 0) / 2**20)
        else:
            head = "%d. %s: %.3f s, %.0f%% of the run" % (i, f["title"], f["seconds"], 100 * f["share"])
            if f.get("threads", 1) > 1:
                head += " (in %d threads)" % f["threads"]
        out.append(head)
        if where:
            out.append("   where: " + where)
        for line in f["evidence"]:
            out.append("   - " + line)
        out.append("   usually helps: " + "; or ".join(f["remedies"][:3]))
    return "\n".join(out) + "\n"
