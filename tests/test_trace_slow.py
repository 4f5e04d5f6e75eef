"""hotscope trace --slow-calls N: each function's N slowest calls, with
their duration, caller and arguments.

Ground truth is measured in the same run: the program times every call of
the function itself, so the slowest calls (which inputs, in which order,
how long) are known; the sleeps are far apart so the order cannot flip.
Hostile arguments (a __repr__ that raises or recurses forever, a list
that contains itself, a huge string) must not disturb the program."""

import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hotscope

DELAYS = {1: 0.002, 2: 0.004, 3: 0.006, 9: 0.030, 12: 0.045, 15: 0.060}
measured = {}


def handle(n):
    t0 = time.perf_counter()
    time.sleep(DELAYS[n])
    measured.setdefault(n, []).append(time.perf_counter() - t0)
    return n


def light_batch():
    for n in (1, 2, 3, 1, 2, 3):
        handle(n)


def heavy_batch():
    for n in (9, 15, 12):
        handle(n)


def run():
    light_batch()
    heavy_batch()
    light_batch()


def test_the_slowest_calls_are_the_slow_inputs():
    measured.clear()
    with hotscope.trace(slow_calls=3, funcs=[handle]) as t:
        run()
    calls = t.slow_calls()
    assert {c["function"][1] for c in calls} == {"handle"}
    # exactly the three slow inputs, slowest first, each called from heavy_batch
    truth = sorted(((max(v), n) for n, v in measured.items() if n in (9, 12, 15)), reverse=True)
    assert [c["args"] for c in calls] == ["n=%d" % n for _, n in truth]
    assert [c["caller"][1] for c in calls] == ["heavy_batch"] * 3
    for c, (seconds, _) in zip(calls, truth):
        # the tracer's duration holds the call measured inside it, and little more
        assert seconds <= c["seconds"] <= seconds * 1.1 + 0.001, (c, seconds)
    assert all(c["thread"] == "MainThread" for c in calls)


def test_every_function_without_a_choice_and_the_text_report():
    with hotscope.trace(slow_calls=2) as t:
        run()
    names = {c["function"][1] for c in t.slow_calls()}
    assert {"handle", "light_batch", "heavy_batch", "run"} <= names
    assert "<built-in method time.sleep>" in names
    per_function = {}
    for c in t.slow_calls():
        per_function.setdefault(c["function"], []).append(c["seconds"])
    for seconds in per_function.values():
        assert len(seconds) <= 2 and seconds == sorted(seconds, reverse=True)
    text = t.report()
    section = text[text.index("Slowest calls"):]
    assert "handle(n=15)" in section and "<- " in section


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class EndlessRepr:
    def __repr__(self):
        return repr(self)


def hostile(a, b, c, d, *rest, **options):
    time.sleep(0.001)
    return len(rest)


def fails(n):
    time.sleep(0.015 * n)
    raise ValueError(n)


def test_hostile_arguments_and_exceptions_do_not_disturb_the_program():
    loop = [1, 2]
    loop.append(loop)
    with hotscope.trace(slow_calls=5, funcs=[hostile, fails]) as t:
        assert hostile(RaisingRepr(), EndlessRepr(), loop, "x" * 10000, 1, 2, flag=True) == 2
        for n in (1, 3, 2):
            with pytest.raises(ValueError):
                fails(n)
    calls = {c["function"][1]: c for c in t.slow_calls()}
    args = calls["hostile"]["args"]
    assert len(args) <= 200
    assert "a=<RaisingRepr object (repr failed)>" in args
    assert "b=<EndlessRepr object (repr failed)>" in args
    assert "c=[1, 2, [" in args
    parts = args.split(", d=")
    assert len(parts[1].split(", *rest=")[0]) <= 80
    # a call leaving by an exception is a call too, with its arguments
    assert [c["args"] for c in t.slow_calls() if c["function"][1] == "fails"] == ["n=3", "n=2", "n=1"]


def test_threads_are_named():
    def worker():
        handle(9)

    thread = threading.Thread(target=worker, name="slow-worker")
    with hotscope.trace(slow_calls=1, funcs=[handle]) as t:
        handle(1)
        thread.start()
        thread.join()
    (call,) = t.slow_calls()
    assert call["args"] == "n=9" and call["thread"] == "slow-worker"


def test_arguments_and_option_errors():
    with pytest.raises(ValueError, match="slow_calls"):
        hotscope.trace(funcs=[handle])
    with pytest.raises(ValueError, match="names no Python function"):
        hotscope.trace(slow_calls=2, funcs=[len])


SCRIPT = textwrap.dedent("""
    import time

    def work(n, label=None):
        time.sleep(n / 100)

    def other(n):
        time.sleep(n / 100)

    def main():
        for n in (1, 5, 2, 4, 3):
            work(n, label="job-%d" % n)
            other(n)

    main()
""")


def hotscope_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_command_line_func_and_view(tmp_path):
    (tmp_path / "job.py").write_text(SCRIPT)
    run = hotscope_cli("trace", "--slow-calls", "2", "--func", "__main__:work", "-o", "job.json", "job.py",
                       cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = hotscope.load(str(tmp_path / "job.json"))
    calls = data.slow_calls()
    assert [c["args"] for c in calls] == ["n=5, label='job-5'", "n=4, label='job-4'"]
    assert {c["caller"][1] for c in calls} == {"main"}
    # the HTML report carries them, and view reads them back
    html = hotscope_cli("view", "job.json", "-o", "job.html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert hotscope.load(str(tmp_path / "job.html")).slow_calls() == calls
    text = hotscope_cli("view", "job.html", cwd=tmp_path).stdout
    assert "work(n=5, label='job-5')" in text and "other(" not in text
    # printed at the end of the run, without --func: every function
    printed = hotscope_cli("trace", "--slow-calls", "1", "job.py", cwd=tmp_path).stdout
    assert "work(n=5, label='job-5')" in printed and "other(n=5)" in printed
    bad = hotscope_cli("trace", "--func", "__main__:work", "job.py", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("hotscope: ") and "--slow-calls" in bad.stderr
    assert bad.stderr.count("\n") == 1


def test_saved_slow_calls_are_checked_when_read(tmp_path):
    import json

    with hotscope.trace(slow_calls=2, funcs=[handle]) as t:
        handle(1)
        handle(2)
    doc = json.loads(t.snapshot().json())
    assert len(doc["slow_calls"]) == 10
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    assert hotscope.load(str(path)).slow_calls() == t.slow_calls()
    for index, bad, message in ((0, 10 ** 6, "frame"), (2, 7, "thread"), (4, -1, "string")):
        broken = json.loads(json.dumps(doc))
        broken["slow_calls"][index] = bad
        path.write_text(json.dumps(broken))
        with pytest.raises(hotscope.ViewError, match="slow call 0: .*%s" % message):
            hotscope.load(str(path))
    broken = json.loads(json.dumps(doc))
    broken["slow_calls"].pop()
    path.write_text(json.dumps(broken))
    with pytest.raises(hotscope.ViewError, match="five numbers"):
        hotscope.load(str(path))
