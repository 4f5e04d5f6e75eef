"""Benchmarking glue: hotscope.bench() and the work behind `hotscope bench`.

The timing loop and the statistics are C (hotscope._core.bench_time,
bench_summary, bench_percentile, bench_compare; src/bench/). This module
turns statements into the function the C loop times, calibrates the loop
count, interleaves the repeats of several statements, spreads repeats over
worker processes, and formats results.

How a statement is timed (as timeit does, with two differences):

    def inner(_hs_loop, _hs_func=None, _hs_setup=None):
        <setup>
        for _hs_i in _hs_loop:          # _hs_loop: the C timed iterator
            <statement>                 # x10 when the statement is small

1. The loop is an iterator written in C that reads the clock itself when
   the loop starts (after the setup) and when it ends, so no Python timer
   call is inside the timed span.
2. A small statement is repeated 10 times in the loop body (and the loop
   runs a tenth as often), so the loop's own cost per execution of the
   statement is a tenth of timeit's. Not for statements with break,
   continue, return, yield or await, whose meaning that would change.
Times are not corrected by subtracting an empty loop (neither timeit nor
pyperf does): a statement that does nothing measures the loop's own cost,
and is flagged.
"""

import ast
import builtins
import copy
import datetime
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time

from . import _core
from ._runner import hotscope_again

DEFAULT_TARGET_TIME = 0.1   # seconds per repeat
DEFAULT_REPEAT = 20
UNROLL = 10
UNROLL_MAX_NODES = 60       # bigger statements gain nothing from unrolling
FILE_FORMAT = "hotscope-bench"
FILE_VERSION = 1

# Line numbers in the generated function: statement lines as written,
# setup lines from SETUP_BASE, the template's own from TEMPLATE_BASE, so a
# traceback line tells which text it came from.
SETUP_BASE = 100000
TEMPLATE_BASE = 200000
GENERATED_FILE = "<hotscope bench>"

TEMPLATE = """\
def inner(_hs_loop, _hs_func=None, _hs_setup=None):
    pass
    for _hs_i in _hs_loop:
        pass
"""


class BenchError(Exception):
    """A statement or setup that cannot be timed. str() is one line;
    `detail` holds the statement's own traceback, when it raised."""

    def __init__(self, message, detail="", status=1):
        super().__init__(message)
        self.detail = detail
        self.status = status  # 2: bad input (syntax); 1: it raised


# ---- compiling a statement ---------------------------------------------------

EMPTY_LABEL = "(empty statement)"


def shown(stmt):
    """A statement's text as reports name it: an empty or blank one
    (timed as `pass`) gets a visible name instead of nothing."""
    return stmt if stmt.strip() else EMPTY_LABEL


def _describe(kind, index):
    return kind if index is None else "%s %d" % (kind, index)


def _parse(text, what):
    try:
        return ast.parse(text, filename="<%s>" % what, mode="exec")
    except SyntaxError as e:
        lines = ["%s has a syntax error: %s" % (what, e.msg)]
        detail = ""
        if e.text is not None:
            line = e.text.rstrip("\n")
            detail = "    %s\n" % line
            if e.offset:
                detail += "    %s^\n" % (" " * (max(e.offset, 1) - 1))
            if text.count("\n") and e.lineno:
                lines[0] += " (line %d)" % e.lineno
        raise BenchError(lines[0], detail, status=2)
    except (ValueError, TypeError) as e:  # e.g. a NUL byte
        raise BenchError("%s cannot be compiled: %s" % (what, e), status=2)


FORBIDDEN_IN_UNROLL = (ast.Break, ast.Continue, ast.Return, ast.Yield, ast.YieldFrom, ast.Await,
                       ast.Global, ast.Nonlocal)


def _unroll_factor(body):
    nodes = [n for stmt in body for n in ast.walk(stmt)]
    if len(nodes) > UNROLL_MAX_NODES:
        return 1
    if any(isinstance(n, FORBIDDEN_IN_UNROLL) for n in nodes):
        return 1
    return UNROLL


def does_nothing(body):
    """True when every statement is `pass` or a lone constant: Python
    compiles such a statement to no code at all."""
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in body)


class Statement:
    """One statement (text or callable) with its setup, compiled into
    timing functions. Raises BenchError for a syntax error."""

    def __init__(self, stmt, setup="pass", namespace=None, index=None):
        self.index = index
        self.name = _describe("statement", index)
        self.callable = stmt if callable(stmt) else None
        self.setup_callable = setup if callable(setup) else None
        if self.callable is not None:
            self.text = getattr(stmt, "__qualname__", None) or repr(stmt)
            self.text += "()"
            body = ast.parse("_hs_func()").body
        elif isinstance(stmt, str):
            self.text = stmt
            body = _parse(stmt, self.name).body
        else:
            raise TypeError("a statement is a string or a callable, not %s" % type(stmt).__name__)
        if self.setup_callable is not None:
            self.setup_text = getattr(setup, "__qualname__", None) or repr(setup)
            self.setup_text += "()"
            setup_body = ast.parse("_hs_setup()").body
        elif isinstance(setup, str):
            self.setup_text = setup
            setup_body = _parse(setup, "the setup").body
        else:
            raise TypeError("a setup is a string or a callable, not %s" % type(setup).__name__)
        self.body = body or [ast.Pass()]
        self.setup_body = setup_body or [ast.Pass()]
        self.empty = self.callable is None and does_nothing(self.body)
        self.max_unroll = _unroll_factor(self.body)
        if namespace is None:
            namespace = {"__name__": "__hotscope_bench__", "__builtins__": builtins}
        self.namespace = namespace
        self._functions = {}
        self.function(1)  # compile errors (await outside async, ...) show now

    def function(self, unroll):
        """The timing function with the body repeated `unroll` times."""
        if unroll in self._functions:
            return self._functions[unroll]
        tree = ast.parse(TEMPLATE)
        ast.increment_lineno(tree, TEMPLATE_BASE)
        func = tree.body[0]
        setup_nodes = copy.deepcopy(self.setup_body)
        for node in setup_nodes:
            ast.increment_lineno(node, SETUP_BASE)
        loop = func.body[1]
        func.body = setup_nodes + [loop]
        loop.body = [copy.deepcopy(n) for _ in range(unroll) for n in self.body]
        ast.fix_missing_locations(tree)
        try:
            code = compile(tree, GENERATED_FILE, "exec")
        except SyntaxError as e:
            where = self.name if (e.lineno or 0) < SETUP_BASE else "the setup"
            raise BenchError("%s cannot be compiled: %s" % (where, e.msg), status=2)
        scope = {}
        exec(code, self.namespace, scope)
        inner = scope["inner"]
        inner.__defaults__ = (self.callable, self.setup_callable)
        self._functions[unroll] = inner
        return inner

    def unroll_for(self, loops):
        return math.gcd(loops, self.max_unroll)

    def time(self, loops, unroll=None, keep_gc=False):
        """Nanoseconds of one repeat of `loops` executions."""
        if unroll is None:
            unroll = self.unroll_for(loops)
        inner = self.function(unroll)
        gc_was_on = gc.isenabled()
        if not keep_gc:
            gc.disable()
        try:
            return _core.bench_time(inner, loops // unroll)
        except RuntimeError as e:
            if "timing loop" in str(e):
                raise BenchError("%s left the timing loop early (break or return), so the number of loops "
                                 "is unknown" % self.name, status=2)
            if "generator" in str(e):
                if not any(isinstance(n, (ast.Yield, ast.YieldFrom)) for s in self.body for n in ast.walk(s)):
                    raise BenchError("%s left the timing loop early (return), so the number of loops "
                                     "is unknown" % self.name, status=2)
                raise BenchError("%s contains yield, which turns the timing function into a generator "
                                 "that never runs" % self.name, status=2)
            raise self._raised(e)
        except (Exception, SystemExit) as e:
            raise self._raised(e)
        finally:
            if gc_was_on:
                gc.enable()

    def _raised(self, exc):
        """BenchError for an exception from the setup or the statement,
        with a traceback of their code only."""
        frames = []
        in_ours = False
        where = self.name
        for frame, lineno in _walk_tb(exc.__traceback__):
            code_file = frame.f_code.co_filename
            if code_file == GENERATED_FILE:
                in_ours = True
                if lineno >= TEMPLATE_BASE:
                    continue
                if lineno >= SETUP_BASE:
                    text, line = self.setup_text, lineno - SETUP_BASE
                    label = "<setup>"
                else:
                    text, line = self.text, lineno
                    label = "<%s>" % self.name
                source = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
                name = frame.f_code.co_name
                frames.append((label, line, "<module>" if name == "inner" else name, source.strip()))
                if name == "inner":
                    where = "the setup" if lineno >= SETUP_BASE else self.name
            elif in_ours:
                import linecache
                source = linecache.getline(code_file, lineno).strip()
                frames.append((code_file, lineno, frame.f_code.co_name, source))
        detail = "Traceback (most recent call last):\n"
        for filename, line, name, source in frames:
            detail += '  File "%s", line %d, in %s\n' % (filename, line, name)
            if source:
                detail += "    %s\n" % source
        import traceback
        detail += "".join(traceback.format_exception_only(type(exc), exc))
        first = str(exc).splitlines()[0] if str(exc) else ""
        message = "%s raised %s%s" % (where, type(exc).__name__, ": " + first if first else "")
        return BenchError(message, detail, status=1)


def _walk_tb(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


# ---- calibration --------------------------------------------------------------

def _round_loops(loops, multiple):
    """Two significant digits, a multiple of `multiple`, at least 1."""
    loops = max(1, int(loops))
    digits = len(str(loops))
    if digits > 2:
        scale = 10 ** (digits - 2)
        loops = int(round(loops / scale)) * scale
    if multiple > 1 and loops >= multiple:
        loops = (loops // multiple) * multiple
    return max(1, loops)


def calibrate(statement, target_time, keep_gc=False, after_run=None):
    """Loops per repeat so that one repeat takes about target_time: like
    timeit's autorange (1, 2, 5, 10, 20, ... loops until a run is long
    enough), but stopping at a tenth of the target, then taking the fastest
    of three runs of that length, and scaling the loop count to the target.

    The fastest run, because on a busy machine a run that was descheduled
    reads several times slower: one unlucky run would shrink the loop
    count, and statements calibrated in luckier moments would get longer
    repeats, which a loaded machine inflates more. Calibrated on their
    undisturbed speed, statements get repeats of the same length.

    Except when a single loop already takes the target time or more: the
    count is then 1 (two more runs could only make it 2, by showing the
    first run slowed down more than twice), and each of those runs would
    take longer than a repeat. after_run(), when given, is called after
    each run (the progress bar)."""
    enough = max(target_time / 10.0, 1e-4) * 1e9

    def timed(n, unroll):
        ns = statement.time(n, unroll=unroll, keep_gc=keep_gc)
        if after_run is not None:
            after_run()
        return ns

    loops = 1
    while True:
        for step in (1, 2, 5):
            n = loops * step
            unroll = 1 if n < UNROLL else statement.unroll_for(n)
            ns = timed(n, unroll)
            if ns >= enough:
                if n == 1 and ns >= target_time * 1e9:
                    return 1
                ns = min([ns] + [timed(n, unroll) for _ in range(2)])
                per_loop = ns / n
                return _round_loops(target_time * 1e9 / max(per_loop, 1e-3), statement.max_unroll)
        loops *= 10


# ---- results --------------------------------------------------------------------

def format_time(seconds):
    """Three significant digits in s, ms, us or ns."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale * 0.9995:
            break
    else:
        unit, scale = "ns", 1e-9
    value = seconds / scale
    decimals = max(0, 2 - int(math.floor(math.log10(abs(value))))) if value else 2
    return "%.*f %s" % (decimals, value, unit)


class Comparison:
    """How `other` compares with `base`: ratio other/base (Hodges-Lehmann
    estimate on log times) with its confidence interval, and the two-sided
    Mann-Whitney U p-value."""

    def __init__(self, base, other, confidence=0.95, alpha=0.05):
        for r in (base, other):
            if r.min <= 0:
                raise BenchError("%s measured 0 ns per loop: it is too fast for the clock at %d loops; "
                                 "raise -n (or leave it out to calibrate)" % (r.label(), r.loops), status=2)
        c = _core.bench_compare(base.times, other.times, confidence)
        self.ratio = c["ratio"]
        self.ratio_low = c["ratio_low"]
        self.ratio_high = c["ratio_high"]
        self.p_value = c["p_value"]
        self.u = c["u"]
        self.exact = c["exact"]
        self.confidence = confidence
        self.alpha = alpha
        self.interval_known = self.ratio_low > 0 and math.isfinite(self.ratio_high)
        self.significant = (self.p_value < alpha and self.interval_known
                            and not (self.ratio_low <= 1.0 <= self.ratio_high))

    @property
    def verdict(self):
        if not self.significant:
            return "no significant difference"
        if self.ratio >= 1.0:
            return "%.2fx slower" % self.ratio
        return "%.2fx faster" % (1.0 / self.ratio)

    def describe(self):
        if self.interval_known:
            ci = "%d%% CI %.3g .. %.3g" % (round(self.confidence * 100), self.ratio_low, self.ratio_high)
        else:
            ci = "too few repeats for a %d%% interval" % round(self.confidence * 100)
        return "%s  (ratio %.3g, %s; Mann-Whitney p = %.2g)" % (self.verdict, self.ratio, ci, self.p_value)


class BenchResult:
    """The times of one statement, in seconds per loop (one value per repeat).

        r = hotscope.bench("sorted(data)", setup="data = list(range(1000))[::-1]")
        r.median, r.mean, r.stdev, r.min, r.percentile(95)   # seconds per loop
        r.loops, r.repeats, r.times
    """

    def __init__(self, stmt, setup, times, loops, warmup=0, processes=0, unroll=1, index=None, empty=False,
                 gc=False):
        self.gc = gc
        self.stmt = stmt
        self.setup = setup
        self.times = list(times)
        self.loops = loops
        self.warmup = warmup
        self.processes = processes
        self.unroll = unroll
        self.index = index
        self.empty = empty
        self._summary = _core.bench_summary(self.times)

    repeats = property(lambda self: len(self.times))
    median = property(lambda self: self._summary["median"])
    mean = property(lambda self: self._summary["mean"])
    stdev = property(lambda self: self._summary["stdev"])
    min = property(lambda self: self._summary["min"])
    max = property(lambda self: self._summary["max"])

    @property
    def outliers(self):
        """(low, high): repeats outside Tukey's fences (1.5 IQR beyond the quartiles)."""
        return self._summary["outliers_low"], self._summary["outliers_high"]

    def percentile(self, p):
        """The p-th percentile (0..100) of the times, seconds per loop."""
        return _core.bench_percentile(self.times, p)

    def compare(self, other, confidence=0.95):
        """How `other` compares with this result: a Comparison whose
        ratio is other / self."""
        return Comparison(self, other, confidence)

    def label(self):
        return "[%d] %s" % (self.index, shown(self.stmt)) if self.index else shown(self.stmt)

    def report(self):
        low, high = self.outliers
        lines = ["%s" % self.label()]
        if self.setup.strip() not in ("pass", ""):
            lines.append("    setup: %s" % self.setup.replace("\n", "; "))
        procs = (", %d processes" % self.processes) if self.processes else ""
        lines.append("    %s per loop (median)   %d repeats x %d loops%s, %d warm-up discarded" % (
            format_time(self.median), self.repeats, self.loops, procs, self.warmup))
        spread = (" (%.1f%%)" % (100.0 * self.stdev / self.mean)) if self.mean > 0 else ""
        lines.append("    min %s   mean %s   stdev %s%s" % (
            format_time(self.min), format_time(self.mean), format_time(self.stdev), spread))
        lines.append("    P50 %s   P95 %s   P99 %s" % (
            format_time(self.percentile(50)), format_time(self.percentile(95)), format_time(self.percentile(99))))
        if low or high:
            lines.append("    outliers: %d of %d repeats (%d low, %d high) beyond 1.5 IQR" % (
                low + high, self.repeats, low, high))
        else:
            lines.append("    outliers: none")
        if self.empty:
            lines.append("    note: this statement compiles to no code; the time is the timing loop's own cost")
        if self.mean > 0 and self.stdev / self.mean > 0.1:
            lines.append("    note: unstable (stdev over 10% of the mean); try more repeats or --processes")
        return "\n".join(lines) + "\n"

    __str__ = report

    def __repr__(self):
        return "<BenchResult %r: median %s per loop, %d repeats x %d loops>" % (
            self.stmt, format_time(self.median), self.repeats, self.loops)

    def to_dict(self):
        return {"stmt": self.stmt, "setup": self.setup, "loops": self.loops, "warmup": self.warmup,
                "processes": self.processes, "unroll": self.unroll, "empty": self.empty, "gc": self.gc, "times": self.times}

    @classmethod
    def from_dict(cls, d, index=None, where="file"):
        if not isinstance(d, dict):
            raise ValueError("%s: a result is not a JSON object" % where)
        times = d.get("times")
        if not isinstance(times, list) or not times:
            raise ValueError("%s: a result has no \"times\" list" % where)
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and t >= 0
                   for t in times):
            raise ValueError("%s: \"times\" must hold non-negative numbers (seconds per loop)" % where)
        stmt = d.get("stmt")
        if not isinstance(stmt, str):
            raise ValueError("%s: a result has no \"stmt\" text" % where)
        loops = d.get("loops", 1)
        if not isinstance(loops, int) or isinstance(loops, bool) or loops < 1:
            raise ValueError("%s: \"loops\" must be a whole number above 0" % where)
        counts = {}
        for key, default, minimum in (("warmup", 0, 0), ("processes", 0, 0), ("unroll", 1, 1)):
            value = d.get(key, default)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError("%s: \"%s\" must be a whole number of %d or more" % (where, key, minimum))
            counts[key] = value
        setup = d.get("setup", "pass")
        return cls(stmt, setup if isinstance(setup, str) else "pass", [float(t) for t in times], loops,
                   index=index, empty=bool(d.get("empty", False)), gc=bool(d.get("gc", False)), **counts)


# ---- running ------------------------------------------------------------------------

class Progress:
    """A one-line bar on stderr, redrawn between runs (never inside one),
    shown once the steps done so far say the whole will take more than
    `after` seconds: so whether the loops were calibrated or given (-n).
    Before the steps, calibration redraws it without a step done (wait()),
    shown once calibrating has taken more than `after` seconds."""

    def __init__(self, total, enabled, after=1.0):
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled
        self.shown = False
        self.after = after
        self.started = time.perf_counter()
        self.width = 30

    def wait(self, label=""):
        if not self.enabled:
            return
        if not self.shown:
            if time.perf_counter() - self.started <= self.after:
                return
            self.shown = True
        self._draw(label)

    def begin(self):
        """The steps start now: their projection counts from here."""
        self.started = time.perf_counter()

    def step(self, label=""):
        self.done += 1
        if not self.enabled:
            return
        if not self.shown:
            elapsed = time.perf_counter() - self.started
            if elapsed / self.done * self.total <= self.after:
                return
            self.shown = True
        self._draw(label)

    def _draw(self, label):
        filled = int(self.width * self.done / self.total)
        sys.stderr.write("\r  [%s%s] %3d%%  %s\x1b[K" % ("#" * filled, "." * (self.width - filled),
                                                      100 * self.done // self.total, label))
        sys.stderr.flush()

    def close(self):
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _interleaved(statements, loops, unrolls, repeats, warmup, keep_gc, progress):
    """ns per repeat, per statement: the statements take turns, so a slow
    spell of the machine falls on all of them alike."""
    for _ in range(warmup):
        for st, n, u in zip(statements, loops, unrolls):
            st.time(n, u, keep_gc)
            progress.step("warm-up")
    times = [[] for _ in statements]
    for r in range(repeats):
        for i, (st, n, u) in enumerate(zip(statements, loops, unrolls)):
            times[i].append(st.time(n, u, keep_gc))
            progress.step("repeat %d/%d" % (r + 1, repeats))
    return times


def run(statements, setup="pass", number=None, repeat=None, warmup=1, processes=0,
        target_time=DEFAULT_TARGET_TIME, globals=None, gc=False, progress=False, index_from=1):
    """Times each statement; a list of BenchResult (see bench())."""
    if not statements:
        raise ValueError("no statement to time")
    repeat = DEFAULT_REPEAT if repeat is None else repeat
    if not isinstance(repeat, int) or repeat < 1:
        raise ValueError("repeat must be 1 or more")
    if number is not None and (not isinstance(number, int) or number < 1):
        raise ValueError("number must be 1 or more")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError("warmup must be 0 or more")
    if not isinstance(processes, int) or processes < 0:
        raise ValueError("processes must be 0 (this process) or more")
    if not (isinstance(target_time, (int, float)) and target_time > 0):
        raise ValueError("target_time must be above 0 seconds")
    if processes and (globals is not None or any(callable(s) for s in statements) or callable(setup)):
        raise ValueError("processes needs statements and setup given as text, without globals "
                         "(a function or a namespace cannot be sent to another process)")
    several = len(statements) > 1
    compiled = []
    for i, stmt in enumerate(statements):
        ns = globals if globals is not None else {"__name__": "__main__", "__builtins__": builtins}
        compiled.append(Statement(stmt, setup, ns, index=(i + index_from) if several else None))
    shares = [s for s in _shares(repeat, processes) if s] if processes else []
    bar = Progress(len(shares) if processes else len(compiled) * (repeat + warmup), progress)
    try:
        # Calibrate here even when workers will time: all processes use the same loops.
        loops = []
        for st in compiled:
            label = "calibrating" + (" [%d]" % st.index if several else "")
            loops.append(number if number is not None else
                         calibrate(st, target_time, keep_gc=gc, after_run=lambda: bar.wait(label)))
        unrolls = [st.unroll_for(n) for st, n in zip(compiled, loops)]
        bar.begin()
        if processes:
            ns_times = _run_workers(compiled, setup, loops, unrolls, shares, warmup, gc, bar)
        else:
            ns_times = _interleaved(compiled, loops, unrolls, repeat, warmup, gc, bar)
    finally:
        bar.close()
    results = []
    processes = min(processes, repeat)  # workers that had repeats to run
    for st, n, u, ns in zip(compiled, loops, unrolls, ns_times):
        results.append(BenchResult(st.text, st.setup_text, [t / 1e9 / n for t in ns], n, warmup=warmup,
                                   processes=processes, unroll=u, index=st.index, empty=st.empty, gc=gc))
    return results


def bench(stmt, setup="pass", number=None, repeat=None, warmup=1, processes=0, target_time=DEFAULT_TARGET_TIME,
          globals=None, gc=False):
    """Time `stmt` (a string of Python code, or a function called with no
    arguments) and return a BenchResult whose median, mean, stdev, min and
    percentile(p) are seconds per loop.

    setup        run before each repeat (text, or a function); names it
                 defines are local variables of the statement, as in timeit
    number       loops per repeat; default: calibrated so that one repeat
                 takes about target_time seconds
    repeat       how many repeats (default 20); warmup more are discarded
    processes    spread the repeats over this many fresh worker processes
                 (0: this process); text statements only
    globals      the namespace the statement runs in (default: a fresh one)
    gc           keep the garbage collector on while timing (timeit turns
                 it off, and so does this by default)

    BenchError (one-line message, the statement's traceback in .detail)
    when the statement or setup raises or does not compile.
    """
    return run([stmt], setup, number, repeat, warmup, processes, target_time, globals, gc)[0]


# ---- worker processes -------------------------------------------------------------------

def _shares(total, parts):
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _run_workers(compiled, setup, loops, unrolls, shares, warmup, keep_gc, bar):
    """Runs the repeats in fresh interpreters, one after another (never at
    once: they would compete for the CPU), `shares` of them each, each
    with its own warm-up, as pyperf does."""
    env = dict(os.environ)
    times = [[] for _ in compiled]
    for share in shares:
        spec = {"statements": [st.text for st in compiled], "setup": setup, "loops": loops,
                "unrolls": unrolls, "repeats": share, "warmup": warmup, "gc": keep_gc,
                "indexes": [st.index for st in compiled], "path": os.getcwd()}
        result = _one_worker(spec, env)
        if "error" in result:
            raise BenchError(result["error"], result.get("detail", ""), result.get("status", 1))
        for i, ns in enumerate(result["times"]):
            times[i].extend(ns)
        bar.step("process %d/%d" % (bar.done + 1, len(shares)))
    return times


def _one_worker(spec, env):
    read_fd, write_fd = os.pipe()
    try:
        # This very hotscope, whatever the current folder holds; the worker
        # puts the parent's folder on its path itself (spec "path").
        child = subprocess.Popen(hotscope_again(["bench", "--worker", str(write_fd)]),
                                 stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env)
    except OSError as e:
        os.close(read_fd)
        os.close(write_fd)
        raise BenchError("cannot start a worker process: %s" % e)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as results:
        try:
            child.stdin.write(json.dumps(spec).encode())
            child.stdin.close()
        except BrokenPipeError:
            pass
        data = results.read()
    status = child.wait()
    try:
        return json.loads(data.decode())
    except ValueError:
        raise BenchError("a worker process failed (exit status %d) without a result" % status)


def worker_main(fd):
    """`python -m hotscope bench --worker FD`: the spec as JSON on stdin,
    the times (ns per repeat, per statement) as JSON on file descriptor FD."""
    spec = json.loads(sys.stdin.read())
    sys.path.insert(0, spec.get("path") or os.getcwd())
    try:
        compiled = []
        for text, index in zip(spec["statements"], spec["indexes"]):
            ns = {"__name__": "__main__", "__builtins__": builtins}
            compiled.append(Statement(text, spec["setup"], ns, index=index))
        times = _interleaved(compiled, spec["loops"], spec["unrolls"], spec["repeats"], spec["warmup"],
                             spec["gc"], Progress(1, False))
        out = {"times": times}
    except BenchError as e:
        out = {"error": str(e), "detail": e.detail, "status": e.status}
    with os.fdopen(fd, "w") as f:
        json.dump(out, f)
    return 0


# ---- files ------------------------------------------------------------------------

def save(results, path):
    doc = {"format": FILE_FORMAT, "version": FILE_VERSION,
           "python": platform.python_version(), "implementation": platform.python_implementation(),
           "platform": platform.platform(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
           "results": [r.to_dict() for r in results]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def load(path):
    """The BenchResults saved in `path`; ValueError with one line naming
    what is wrong, OSError when it cannot be read."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError("%s is not JSON: %s" % (path, str(e).splitlines()[0]))
    if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
        raise ValueError("%s is not a hotscope bench file (no \"format\": \"%s\")" % (path, FILE_FORMAT))
    if doc.get("version") != FILE_VERSION:
        raise ValueError("%s has version %r; this hotscope reads version %d" % (path, doc.get("version"),
                                                                                FILE_VERSION))
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        raise ValueError("%s holds no results" % path)
    several = len(results) > 1
    return [BenchResult.from_dict(d, index=(i + 1) if several else None, where=path)
            for i, d in enumerate(results)]


def pair_results(before, after):
    """(pairs, by_text, unpaired): (before, after) pairs, first those with
    the same statement text and setup, then the rest of each file in order
    (statements renamed between the two); by_text: True when every pair
    has the same text; unpaired: the results left without a partner in
    the longer file, as (which file, result)."""
    key = lambda r: (r.stmt, r.setup)
    before_by_key = {key(r): r for r in before}
    same = {key(r) for r in after if key(r) in before_by_key}
    rest_before = [r for r in before if key(r) not in same]
    rest_after = [r for r in after if key(r) not in same]
    n = min(len(rest_before), len(rest_after))
    moved = dict(zip(map(id, rest_after[:n]), rest_before[:n]))
    pairs = [(before_by_key[key(r)] if key(r) in same else moved[id(r)], r)
             for r in after if key(r) in same or id(r) in moved]
    unpaired = [("BEFORE", r) for r in rest_before[n:]] + [("AFTER", r) for r in rest_after[n:]]
    return pairs, all(key(b) == key(a) for b, a in pairs), unpaired


# ---- reports ----------------------------------------------------------------------

def header(results):
    first = results[0]
    where = ("%d worker processes" % first.processes) if first.processes else "this process"
    return "hotscope bench: %s %s, %s, GC %s while timing" % (
        platform.python_implementation(), platform.python_version(), where, "on" if first.gc else "off")


def report(results, confidence=0.95):
    """The text report of one run: each statement, then (with two or
    more) each one against the first."""
    out = [header(results), ""]
    for r in results:
        out.append(r.report())
    if len(results) > 1:
        base = results[0]
        out.append("against [%d]:" % base.index)
        for r in results[1:]:
            out.append("  [%d] %s" % (r.index, Comparison(base, r, confidence).describe()))
        out.append("")
    return "\n".join(out)


def compare_report(before_path, after_path, pairs, by_text, fail_above, confidence=0.95, unpaired=()):
    """(text, regressions): the changes from BEFORE to AFTER; a regression
    is a significant slow-down by more than fail_above (a fraction)."""
    out = ["hotscope bench --compare: %s -> %s (a regression: significantly slower by more than %g%%)"
           % (before_path, after_path, fail_above * 100), ""]
    if not by_text:
        out.append("note: the statements differ; those not in both files are compared by position")
    regressions = 0
    for b, a in pairs:
        c = Comparison(b, a, confidence)
        regressed = c.significant and c.ratio > 1.0 + fail_above
        regressions += regressed
        name = shown(a.stmt) if (b.stmt, b.setup) == (a.stmt, a.setup) else "%s  ->  %s" % (shown(b.stmt),
                                                                                         shown(a.stmt))
        out.append(name)
        out.append("    before %s   after %s   %s%s" % (format_time(b.median), format_time(a.median), c.describe(),
                                                       "   REGRESSION" if regressed else ""))
    for which, r in unpaired:
        out.append("only in %s (not compared): %s" % (which, shown(r.stmt)))
    out.append("")
    if regressions:
        out.append("%d significant regression%s above %g%%" % (regressions, "s" if regressions > 1 else "",
                                                               fail_above * 100))
    else:
        out.append("no significant regression above %g%%" % (fail_above * 100))
    return "\n".join(out) + "\n", regressions
