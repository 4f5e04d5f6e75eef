"""hotscope.Profile(asyncio=True) (what `hotscope trace` and hotscope.trace()
record by default) against ground truth.

Each asyncio task gets a root "task NAME (COROUTINE)" under its thread,
with its coroutine's frames under it, and the time it waits at an await
shows as "[await WHAT] line N" under the innermost frame that waited, as
wall time only. Checked here:
  - the roots carry the names the program gave (create_task(name=...),
    TaskGroup), default-named tasks are grouped per coroutine;
  - times known by construction, measured by the program in the same run:
    the spinning task's spin time, the sleeping task's waits, which weigh
    nothing in CPU time;
  - call counts equal cProfile's, since the roots and awaits are not calls;
  - gather, TaskGroup (3.11+), to_thread, a task awaiting a task, uvloop
    (when installed);
  - a program without asyncio records the same call tree as without the
    option, and `hotscope trace --no-asyncio` turns it off;
  - with the tracer's other features (targets/async_mixed.py): a collection
    during a task's step is a [gc] frame under the task, its time measured
    around gc.collect(); --threads merged folds the roots of two loops'
    tasks, their times added; a coroutine's slow call spans its first step
    to its end, as long as the coroutine measured itself.
"""

import cProfile
import gc
import pathlib
import re
import subprocess
import sys

import pytest

import hotscope
from hotscope import _view

from test_trace_counts import (
    TARGETS,
    assert_same,
    edge_counts,
    function_counts,
    load_target,
    profiled,
    selector,
)

MAIN_THREAD = "thread MainThread"


def stacks(data, clock="wall"):
    """{(frame, frame, ...): self weight} from the collapsed stacks
    (microseconds for times; frames named as the collapsed format names
    them: synthetic frames by their name alone)."""
    out = {}
    for line in data.collapsed(clock=clock).decode().splitlines():
        if not line or line.startswith("#"):
            continue
        stack, _, weight = line.rpartition(" ")
        out[tuple(stack.split(";"))] = int(weight)
    return out


def total(found, *prefix):
    return sum(w for s, w in found.items() if s[: len(prefix)] == prefix)


def waits(found, *prefix):
    """Weight of the [await ...] frames at or below prefix."""
    return sum(w for s, w in found.items() if s[: len(prefix)] == prefix and s[-1].startswith("[await"))


def task_roots(found, thread=MAIN_THREAD):
    return {s[1] for s in found if len(s) > 1 and s[0] == thread and s[1].startswith("task ")}


def frame(found, name):
    """The collapsed label of the one Python frame called `name` (with file and line)."""
    labels = {f for s in found for f in s if f.startswith(name + " (")}
    assert len(labels) == 1, (name, labels)
    return labels.pop()


def line_of(path, text):
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(text)


def traced(func, *args):
    prof = hotscope.Profile(asyncio=True)
    prof.enable()
    try:
        result = func(*args)
    finally:
        prof.disable()
    return prof.snapshot(), result


# --------------------------------------------------------------------------
# tasks and times known by construction


def test_task_roots_and_the_split_known_by_construction():
    module = load_target("async_split")
    data, measured = traced(module.main)
    wall, cpu = stacks(data, "wall"), stacks(data, "cpu")

    roots = task_roots(wall)
    assert {"task cruncher (crunch)", "task napper (nap)", "task Task-* (split)"} <= roots, roots
    # The event loop no longer holds the tasks' frames.
    loop_frames = [s for s in wall if s[1:2] != ("task cruncher (crunch)",) and any(f.startswith("crunch (") for f in s)]
    assert not loop_frames, loop_frames[:3]

    # The spinning task: its spin time is what it measured around spin().
    cruncher = (MAIN_THREAD, "task cruncher (crunch)", frame(wall, "crunch"))
    spun = total(wall, *cruncher, frame(wall, "spin"))
    expected = measured["spun"] * 1e6
    assert abs(spun - expected) <= 0.05 * expected, (spun, expected)

    # The sleeping task: its waits are the sleeps it measured, less the
    # little it ran inside them; it ran little, and waiting costs no CPU.
    napper = (MAIN_THREAD, "task napper (nap)")
    waited = waits(wall, *napper)
    ran = total(wall, *napper) - waited
    expected = measured["waited"] * 1e6
    assert waited <= expected * 1.01 + 100, (waited, expected)
    assert waited >= expected - ran - 100, (waited, ran, expected)
    assert ran < 0.25 * expected, (ran, expected)
    assert total(cpu, *napper) < 0.25 * expected
    # It waits inside asyncio.sleep, on the future sleep awaits.
    sleep_waits = [s for s in wall if s[:2] == napper and s[-1].startswith("[await Future] line ")]
    assert sleep_waits and all(s[-2].startswith("sleep (") for s in sleep_waits), sleep_waits

    # In CPU time waits weigh nothing: no [await ...] stack has any.
    assert not [s for s in cpu if s[-1].startswith("[await")]
    assert waits(wall, MAIN_THREAD) > 0


def test_call_counts_match_cprofile():
    """The roots and awaits are not calls: every function's count is
    cProfile's, and so is every edge but the one from the event loop into a
    task's coroutine, which now comes from the task's root."""
    module = load_target("async_tasks")
    keep = selector(module.__file__)
    ref = profiled(cProfile.Profile(), module.main).stats
    hot = profiled(hotscope.Profile(asyncio=True), module.main).stats

    synthetic = {k for k in hot if k[2].startswith(("task ", "[await"))}
    assert any(k[2].startswith("task ") for k in synthetic) and any(k[2].startswith("[await") for k in synthetic)
    assert all(hot[k][0] == 0 and hot[k][1] == 0 for k in synthetic), [(k, hot[k][:2]) for k in synthetic]
    real = {k: v for k, v in hot.items() if k not in synthetic}
    assert_same(function_counts(ref, keep), function_counts(real, keep), "function call counts")

    # Which coroutines ran as tasks, and how often they were resumed by them.
    from_roots = {}
    for callee, v in real.items():
        for caller, sub in v[4].items():
            if caller in synthetic:
                from_roots[callee] = from_roots.get(callee, 0) + sub[0]
    assert {k[2] for k in from_roots} >= {"worker", "amain"}
    context_run = [k for k in ref if k[0] == "~" and "_contextvars.Context" in k[2]]
    assert len(context_run) == 1
    ref_edges = edge_counts(ref, keep)
    loop_edges = {e: ref_edges.pop(e) for e in list(ref_edges) if e[0] == context_run[0] and e[1] in from_roots}
    assert {e[1]: n[0] for e, n in loop_edges.items()} == {k: n for k, n in from_roots.items() if k[0] == module.__file__}
    hot_edges = {e: n for e, n in edge_counts(real, keep).items() if e[0] not in synthetic}
    assert_same(ref_edges, hot_edges, "caller -> callee call counts")


# --------------------------------------------------------------------------
# the ways tasks start


def check_kinds(module, data):
    wall = stacks(data, "wall")
    roots = task_roots(wall)
    assert "task Task-* (child)" in roots, roots  # gather's three, one root
    assert "task threaded (to_thread)" in roots, roots
    if sys.version_info >= (3, 11):
        assert {"task grouped-one (child)", "task grouped-two (child)"} <= roots, roots

    # The main task's awaits name what it waited for, at their lines (uvloop.run
    # wraps the main coroutine in one of its own).
    path = module.__file__
    kinds = frame(wall, "kinds")
    under_main = {s[s.index(kinds) + 1] for s in wall if kinds in s[:-1]}
    assert all(s[1].startswith("task Task-* (") for s in wall if kinds in s)
    assert "[await gather] line %d" % line_of(path, "await asyncio.gather(") in under_main, under_main
    assert "[await task threaded] line %d" % line_of(path, "asyncio.to_thread(blocking") in under_main, under_main
    if sys.version_info >= (3, 11):
        assert any(s.startswith("TaskGroup.__aexit__ (") for s in under_main), under_main

    # gather's children each waited about 2, 4 and 6 ms: their waits are in the tree.
    assert waits(wall, MAIN_THREAD, "task Task-* (child)") > 0
    # to_thread's function ran in a worker thread, with its own root.
    assert any(s[0] != MAIN_THREAD and any(f.startswith("blocking (") for f in s) for s in wall)


def test_gather_taskgroup_to_thread():
    module = load_target("async_split")
    data, _ = traced(module.run, module.kinds)
    check_kinds(module, data)


def test_uvloop():
    pytest.importorskip("uvloop")
    module = load_target("async_split")
    data, _ = traced(module.run, module.kinds, "uvloop")
    check_kinds(module, data)
    data, measured = traced(module.run, module.split, "uvloop")
    wall = stacks(data, "wall")
    assert {"task cruncher (crunch)", "task napper (nap)"} <= task_roots(wall)
    napper = (MAIN_THREAD, "task napper (nap)")
    assert 0 < waits(wall, *napper) <= measured["waited"] * 1e6 * 1.01 + 100


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager tasks are new in 3.12")
def test_eager_task_named_after_its_first_step():
    module = load_target("async_split")
    data, _ = traced(module.run, module.eager)
    wall = stacks(data, "wall")
    assert "task eager-one (child)" in task_roots(wall), task_roots(wall)
    # Its wait began in its first step, before it had its name; it is its own.
    assert waits(wall, MAIN_THREAD, "task eager-one (child)") > 0
    assert waits(wall, MAIN_THREAD, "task Task-* (child)") == 0


def test_tracing_that_starts_inside_a_task():
    """Started and stopped inside a coroutine: later steps of every task get
    their roots, and a task still waiting when tracing stops is charged its
    wait up to then."""
    import asyncio

    async def idle():
        await asyncio.sleep(10)

    async def main():
        with hotscope.trace() as prof:
            late = asyncio.create_task(idle(), name="late")
            await asyncio.sleep(0.01)
        late.cancel()
        return prof

    data = asyncio.run(main()).snapshot()
    wall = stacks(data, "wall")
    late = [r for r in task_roots(wall) if r.startswith("task late (") and r.endswith("idle)")]
    assert len(late) == 1, task_roots(wall)
    late = late[0]
    assert 0 < waits(wall, MAIN_THREAD, late) <= data.total("wall") / 1e3


# --------------------------------------------------------------------------
# nothing changes without tasks


@pytest.mark.parametrize("name", ["classes", "generators", "exceptions_flow"])
def test_programs_without_asyncio_record_the_same_tree(name):
    module = load_target(name)
    on = profiled(hotscope.Profile(asyncio=True), module.main).snapshot()
    off = profiled(hotscope.Profile(), module.main).snapshot()
    assert stacks(on, "calls") == stacks(off, "calls")


def test_cli_on_by_default_and_off_with_no_asyncio(tmp_path):
    script = str(TARGETS / "async_split.py")
    found = {}
    for flag in ("", "--no-asyncio"):
        out = tmp_path / ("trace%s.json" % flag)
        args = [sys.executable, "-m", "hotscope", "trace", "-o", str(out)] + ([flag] if flag else []) + [script]
        run = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        found[flag] = stacks(_view.load(str(out)), "wall")
    assert {"task cruncher (crunch)", "task napper (nap)"} <= task_roots(found[""])
    assert not task_roots(found["--no-asyncio"])
    assert not [s for s in found["--no-asyncio"] if re.match(r"\[await", s[-1])]


# --------------------------------------------------------------------------
# with the tracer's other features: [gc] frames, slow calls, merged threads


def collections_inside(prefix, found):
    """{stack below prefix ending in a [gc] gen N frame: weight}."""
    return {s: w for s, w in found.items() if s[: len(prefix)] == prefix and s[-1].startswith("[gc] gen ")}


def test_gc_inside_a_task_is_under_the_task():
    """A collection that happens during a task's step is a [gc] frame under
    the task's frames, its time the time the task measured around
    gc.collect(); a coroutine the collection closes runs under it, and the
    task's later frames are still under its root."""
    module = load_target("async_mixed")
    gc.collect()
    gc.disable()  # automatic collections only inside the trace
    try:
        prof = hotscope.Profile(asyncio=True)
        prof.enable()
        gc.enable()
        measured = module.gc_in_task()
        gc.disable()
        prof.disable()
    finally:
        gc.enable()
    data = prof.snapshot()
    wall, calls = stacks(data, "wall"), stacks(data, "calls")
    assert measured["log"] == ["closed"]

    root = (MAIN_THREAD, "task churner (churn)", frame(wall, "churn"))
    collect = root + ("{built-in method gc.collect}", "[gc]")
    explicit = collections_inside(collect, wall)
    assert set(s[-1] for s in explicit) == {"[gc] gen 2"}, explicit
    assert calls[collect + ("[gc] gen 2",)] == len(measured["collect"]) == 2
    # the two collections took the time the task measured around them
    gc_time = total(wall, *collect)
    expected = sum(measured["collect"]) * 1e6
    assert 0.8 * expected <= gc_time <= expected + 50, (gc_time, expected)
    # the suspended coroutine the collector closed (in whichever collection
    # found it) ran under that collection, inside the task's step
    orphan = frame(wall, "orphan")
    closed = [s for s in wall if orphan in s and "[gc]" in s]
    assert closed and all(s[: len(root)] == root and s[s.index(orphan) - 1].startswith("[gc] gen ")
                          for s in closed), closed
    # no collection of the task's work happened anywhere but under its root
    churned = [s for s in wall if any(f.startswith(("churn (", "make_cycles (", "orphan (")) for f in s)]
    assert all(s[:2] == root[:2] for s in churned), [s for s in churned if s[:2] != root[:2]][:3]
    automatic = {s: w for s, w in collections_inside(root, wall).items() if s[: len(collect)] != collect}
    if automatic:  # the 40,000 cycles made gen 0 collections under make_cycles
        assert all(any(f.startswith("make_cycles (") for f in s) for s in automatic), automatic
    # after the collection the task's step goes on under its root
    assert any(s[: len(root)] == root and s[-1].startswith("after_gc (") for s in wall)
    assert calls[root + (frame(wall, "after_gc"),)] == 1


def coroutine_calls(calls, name):
    return [c for c in calls if c["function"][1] == name]


@pytest.mark.parametrize("asyncio_roots", [True, False])
def test_slow_calls_of_a_coroutine_span_its_awaits(asyncio_roots):
    """A coroutine's slow call runs from its first step to its return, its
    awaits included (README): the duration the coroutine measured itself,
    with or without task roots, whether a task runs it or another
    coroutine awaits it, and when it ends with an exception."""
    module = load_target("async_mixed")
    prof = hotscope.Profile(asyncio=asyncio_roots, slow_calls=3)
    prof.enable()
    try:
        measured = module.fetches()
    finally:
        prof.disable()
    calls = prof.slow_calls()

    fetches = coroutine_calls(calls, "fetch")
    truth = sorted(((max(v), n) for n, v in measured.items() if n != "failing"), reverse=True)[:3]
    assert [c["args"].split(",")[0] for c in fetches] == ["n=%d" % n for _, n in truth], fetches
    for c, (seconds, _) in zip(fetches, truth):
        # each of the three awaits was one step; a step alone would be ~0
        assert seconds <= c["seconds"] <= seconds * 1.1 + 0.001, (c, seconds)
    awaited_by = {int(c["args"].split(",")[0][2:]): c["caller"][1] for c in fetches}
    batch = "batch"
    gathered = "task Task-* (fetch)" if asyncio_roots else "<method 'run' of '_contextvars.Context' objects>"
    assert awaited_by == {11: batch, 8: gathered, 5: batch}, awaited_by

    failing = coroutine_calls(calls, "failing")
    assert len(failing) == 1
    assert measured["failing"] <= failing[0]["seconds"] <= measured["failing"] * 1.1 + 0.001


def test_a_coroutine_begun_before_tracing_is_no_slow_call():
    """A coroutine that began before tracing did is not timed from the
    first step tracing sees (a resume): it has no slow call, as a function
    entered before tracing has none."""
    import asyncio

    module = load_target("async_mixed")
    measured = {}

    async def scenario():
        early = asyncio.create_task(module.fetch(5, measured))
        await asyncio.sleep(0)  # early's first step ran: it waits in its first sleep
        with hotscope.trace(slow_calls=3, funcs=[module.fetch]) as prof:
            late = asyncio.create_task(module.fetch(2, measured))
            await early
            await late
        return prof

    calls = asyncio.run(scenario()).slow_calls()
    assert [c["args"].split(",")[0] for c in calls] == ["n=2"], calls
    assert measured[2][0] <= calls[0]["seconds"] <= measured[2][0] * 1.1 + 0.001


def test_merged_threads_fold_task_roots():
    """--threads merged: the task roots of event loops in two threads fold
    into one, whose times are the two threads' added."""
    module = load_target("async_mixed")
    with hotscope.trace() as t:
        measured = module.two_loops()
    data = t.snapshot()
    separate, merged = stacks(data, "wall"), stacks(data.merge_threads(), "wall")
    loops = {s[0] for s in separate if s[1:2] == ("task worker (work)",)}
    assert loops == {"thread loop3", "thread loop5"}, loops
    work, spin = frame(separate, "work"), frame(separate, "spin")
    per_thread = [total(separate, loop, "task worker (work)", work, spin) for loop in sorted(loops)]
    folded = total(merged, "thread all threads", "task worker (work)", work, spin)
    assert abs(folded - sum(per_thread)) <= len(per_thread)  # whole microseconds, rounded
    expected = sum(sum(v) for v in measured.values()) * 1e6
    assert abs(folded - expected) <= 0.05 * expected, (folded, expected)
    # one root per task name and coroutine, whichever thread ran it
    assert task_roots(merged, "thread all threads") == set().union(*(task_roots(separate, loop) for loop in loops))


def test_cli_merged_threads_with_slow_calls_and_gc(tmp_path):
    """The options of both sides together on the command line."""
    out = tmp_path / "mixed.json"
    run = subprocess.run([sys.executable, "-m", "hotscope", "trace", "--threads", "merged", "--slow-calls", "2",
                          "--func", "__main__:fetch", "--func", "__main__:work", "-o", str(out),
                          str(TARGETS / "async_mixed.py")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = _view.load(str(out))
    wall = stacks(data, "wall")
    assert {s[0] for s in wall} == {"thread all threads"}
    roots = task_roots(wall, "thread all threads")
    assert {"task worker (work)", "task churner (churn)", "task Task-* (fetch)"} <= roots, roots
    assert any(s[1:2] == ("task churner (churn)",) and s[-1] == "[gc] gen 2" for s in wall)
    slow = data.slow_calls()
    assert sorted({c["function"][1] for c in slow}) == ["fetch", "work"]
    assert [c["args"].split(",")[0] for c in slow if c["function"][1] == "fetch"] == ["n=11", "n=8"]
    assert all(c["thread"] == "all threads" for c in slow)
