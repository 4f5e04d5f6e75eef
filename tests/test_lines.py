"""hotscope lines: hits against the interpreter's own line events, times
against time measured around the line, the CLI and its bad input."""
import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hotscope
from lineskit import all_codes, hotscope_counts, settrace_counts

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- functions with known line counts ------------------------------------------

def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i
        else:
            total -= 1
    while total > 0:
        total -= 7
    return total


def nested(n):
    def inner(k):
        return k * 2
    return sum(inner(i) for i in range(n))


def recursive(n):
    if n <= 1:
        return 1
    return n * recursive(n - 1)


def generator(n):
    for i in range(n):
        yield i
    return


def raises(n):
    try:
        for i in range(n):
            if i == n - 1:
                raise KeyError(i)
    except KeyError:
        pass
    raise ValueError("out")


async def coroutine(n):
    total = 0
    for i in range(n):
        await asyncio.sleep(0)
        total += i
    return total


class Shape:
    def area(self, w, h):
        result = 0
        for _ in range(h):
            result += w
        return result


def workload():
    loops(50)
    loops(7)
    nested(6)
    recursive(8)
    list(generator(5))
    for _ in range(3):
        try:
            raises(4)
        except ValueError:
            pass
    Shape().area(3, 4)
    asyncio.run(coroutine(4))


TARGETS = [loops, nested, recursive, generator, raises, Shape.area, coroutine]


def test_hits_equal_the_interpreters_line_events():
    expected = settrace_counts(all_codes(TARGETS), workload)
    with hotscope.lines(*TARGETS) as lp:
        workload()
    hits, _ = hotscope_counts(lp.data)
    assert hits == expected
    # and the known trip counts, spelled out: the for line of loops() runs
    # n + 1 times per call (the last time to leave), its body n times.
    first = loops.__code__.co_firstlineno
    key = (loops.__code__.co_filename, first, first + 2)
    assert hits[key] == 51 + 8


def test_a_sleeping_line_is_charged_its_measured_time():
    measured = []

    def sleeper():
        t0 = time.perf_counter()
        time.sleep(0.2)
        measured.append(time.perf_counter() - t0)
        return len(measured)

    with hotscope.lines(sleeper) as lp:
        sleeper()
    _, times = hotscope_counts(lp.data)
    line = sleeper.__code__.co_firstlineno + 2
    ns = times[(sleeper.__code__.co_filename, sleeper.__code__.co_firstlineno, line)]
    assert abs(ns / 1e9 - measured[0]) <= 0.05 * measured[0]
    # the line's time holds the call it makes; other lines are cheap
    total = sum(v for k, v in times.items() if k[1] == sleeper.__code__.co_firstlineno)
    assert ns / total > 0.95


def test_threads_are_summed():
    def count(n):
        x = 0
        for i in range(n):
            x += i
        return x

    with hotscope.lines(count) as lp:
        ts = [threading.Thread(target=count, args=(100,)) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        count(100)
    hits, _ = hotscope_counts(lp.data)
    first = count.__code__.co_firstlineno
    assert hits[(count.__code__.co_filename, first, first + 3)] == 4 * 100


def test_unselected_functions_are_not_recorded_and_decorator_is_a_no_op():
    def plain(n):
        return n + 1

    @hotscope.profile
    def marked(n):
        return n * 2

    assert marked(3) == 6  # no profiler running: the function is itself
    with hotscope.lines() as lp:
        marked(2)
        plain(2)
    report = lp.report()
    assert "Function: test_unselected_functions_are_not_recorded_and_decorator_is_a_no_op.<locals>.marked" in report or "Function: marked" in report
    assert "plain" not in report
    hits, _ = hotscope_counts(lp.data)
    assert sum(hits.values()) == 1


def test_report_layout_and_never_called():
    def never():
        return 1

    with hotscope.lines(loops, never) as lp:
        loops(3)
    report = lp.report()
    assert report.startswith("Timer unit: 1e-06 s")
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in report
    assert "(never called)" in report
    row = [l for l in report.splitlines() if l.strip().endswith("for i in range(n):")][0]
    assert row.split()[1] == "4"  # hits column: 3 iterations + the exit


def run_cli(args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "hotscope"] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=120, **kw)


def test_cli_profile_decorator_func_option_and_exit_status(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent("""
        import sys

        @profile
        def hot(n):
            s = 0
            for i in range(n):
                s += i
            return s

        def helper(xs):
            out = []
            for x in xs:
                out.append(x + 1)
            return out

        hot(10)
        helper([1, 2, 3])
        sys.exit(3)
    """))
    r = run_cli(["lines", "--func", "app:helper", "--func", "app:missing", "app.py"], tmp_path)
    assert r.returncode == 3, r.stderr
    assert "Function: hot at line 4" in r.stdout
    assert "Function: helper at line 11" in r.stdout
    assert "app:missing" in r.stderr and "Traceback" not in r.stderr
    hot_for = [l for l in r.stdout.splitlines() if l.rstrip().endswith("for i in range(n):")][0]
    assert hot_for.split()[:2] == ["7", "11"]
    out = tmp_path / "lines.txt"
    r = run_cli(["lines", "-o", str(out), "app.py"], tmp_path)
    assert r.returncode == 3
    assert "Function: hot at line 4" in out.read_text()


def test_cli_missing_source_still_shows_figures(tmp_path):
    (tmp_path / "gen.py").write_text(textwrap.dedent("""
        src = "def made(n):\\n    t = 0\\n    for i in range(n):\\n        t += i\\n    return t\\n"
        ns = {}
        exec(compile(src, "/nonexistent/made.py", "exec"), ns)
        profile(ns["made"])
        ns["made"](5)
    """))
    r = run_cli(["lines", "gen.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "(source not available)" in r.stdout
    row = [l for l in r.stdout.splitlines() if l.strip().startswith("3 ")][0]
    assert row.split()[1] == "6"


def test_cli_bad_usage(tmp_path):
    r = run_cli(["lines"], tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("hotscope:") and "Traceback" not in r.stderr
    r = run_cli(["lines", "--func", "nocolon", "x.py"], tmp_path)
    assert r.returncode == 2 and "MODULE:QUALNAME" in r.stderr
    r = run_cli(["lines", "missing.py"], tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_cli_hot_samples_first_then_profiles_the_hottest(tmp_path):
    (tmp_path / "hot.py").write_text(textwrap.dedent("""
        import time

        def crunch(n):
            t = 0
            for i in range(n):
                t += i * i % 7
            return t

        def cold():
            return 1

        start = time.perf_counter()
        while time.perf_counter() - start < 0.6:
            crunch(20000)
        cold()
        print("program-output-marker")
    """))
    r = run_cli(["lines", "--hot", "1", "hot.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "--hot 1 chose: __main__:crunch" in r.stderr
    assert "Function: crunch at line 4" in r.stdout
    assert "Function: cold" not in r.stdout
    assert r.stdout.count("program-output-marker") == 1  # the sampling run's output is not shown


def test_disable_while_another_thread_runs_a_selected_function():
    """Stopping the profile while a selected function runs in another
    thread charges that thread's running line up to the stop, and returns."""
    started = threading.Event()
    release = threading.Event()

    def waiter():
        started.set()
        release.wait(5)
        return 1

    lp = hotscope.lines(waiter)
    lp.enable()
    t = threading.Thread(target=waiter)
    t.start()
    started.wait(5)
    time.sleep(0.05)
    lp.disable()  # must not hang on the other thread's open frame
    release.set()
    t.join(5)
    _, times = hotscope_counts(lp.data)
    line = waiter.__code__.co_firstlineno + 2
    assert times[(waiter.__code__.co_filename, waiter.__code__.co_firstlineno, line)] >= 0.04e9
