"""hotscope.Profile against ground truth.

Call counts: every deterministic program in tests/targets/ runs under
cProfile.Profile and then under hotscope.Profile in this same process
(never both at once).  Restricted to the target's own functions plus
builtins ('~' entries), the (ncalls, primitive calls) of every function and
of every caller -> callee edge must be EXACTLY equal.  cProfile differs
between interpreters (on 3.12+ it is built on sys.monitoring), and hotscope
must match the cProfile of the interpreter it runs in, so the reference is
always computed live, never stored.

Threads and deep recursion have ground truth by construction instead (on
3.10/3.11 cProfile only sees the thread that enabled it).

Times: self times add up to the root total, the root total is the measured
wall time, and a program whose split is known by construction (busy spin vs
sleep) comes out with that split under both clocks.
"""

import cProfile
import functools
import gc
import importlib.util
import pathlib
import pstats
import sys
import threading
import time

import pytest

import hotscope

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"

# Programs whose call counts are compared with cProfile's.  threads_work,
# deep_recursion and busy_sleep have their own tests below.
DETERMINISTIC = [
    "fib_recursion",
    "mutual_recursion",
    "classes",
    "generators",
    "async_tasks",
    "builtins_heavy",
    "exceptions_flow",
    "closures_decorators",
    "stdlib_work",
    "scheduler_oo",
]


# --------------------------------------------------------------------------
# helpers


@functools.lru_cache(maxsize=None)
def load_target(name):
    """Imports tests/targets/<name>.py by path and runs main() once
    unprofiled, so lazy imports and caches (re, asyncio, ...) are warm and
    both profilers see identical work."""
    path = TARGETS / (name + ".py")
    spec = importlib.util.spec_from_file_location("hotscope_target_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if name != "busy_sleep":
        module.main()
    return module


def profiled(prof, func, *args):
    """enable / func(*args) / disable with the cyclic GC off, so no
    finalizer runs at a moment that differs between the two runs."""
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        prof.enable()
        try:
            func(*args)
        finally:
            prof.disable()
    finally:
        if gc_was_enabled:
            gc.enable()
    prof.create_stats()
    return prof


def is_profiler_builtin(label):
    # The profilers' own enable/disable methods show up as builtins; they
    # are named differently in each profiler, so they are left out.
    return label[0] == "~" and ("_lsprof" in label[2] or "hotscope" in label[2])


def selector(filename):
    def keep(label):
        if label[0] == filename:
            return True
        return label[0] == "~" and not is_profiler_builtin(label)

    return keep


def function_counts(stats, keep):
    """{label: (ncalls, primitive calls)} of the kept functions."""
    return {label: (v[1], v[0]) for label, v in stats.items() if keep(label)}


def edge_counts(stats, keep):
    """{(caller, callee): (ncalls, primitive calls)} for kept endpoints."""
    edges = {}
    for callee, v in stats.items():
        if not keep(callee):
            continue
        for caller, sub in v[4].items():
            if keep(caller):
                edges[(caller, callee)] = (sub[0], sub[1])
    return edges


def fmt_label(label):
    if label[0] == "~":
        return label[2]
    return "%s:%d(%s)" % (pathlib.Path(label[0]).name, label[1], label[2])


def assert_same(expected, actual, what):
    """Exact equality with a readable list of the differences."""
    if expected == actual:
        return
    lines = ["%s differ from cProfile's (expected -> hotscope):" % what]
    for key in sorted(set(expected) | set(actual), key=repr):
        e, a = expected.get(key), actual.get(key)
        if e != a:
            if isinstance(key[0], tuple):
                name = "%s -> %s" % (fmt_label(key[0]), fmt_label(key[1]))
            else:
                name = fmt_label(key)
            lines.append("  %s: %s -> %s" % (name, e, a))
    pytest.fail("\n".join(lines[:60]), pytrace=False)


def find(stats, filename, name):
    matches = [k for k in stats if k[0] == filename and k[2] == name]
    assert len(matches) == 1, "expected one %r in %s, found %r" % (name, filename, matches)
    return stats[matches[0]]


# --------------------------------------------------------------------------
# exact call counts against cProfile


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_counts_match_cprofile(name):
    module = load_target(name)
    filename = module.__file__
    keep = selector(filename)

    ref = profiled(cProfile.Profile(), module.main).stats
    hot = profiled(hotscope.Profile(), module.main).stats

    ref_funcs = function_counts(ref, keep)
    # The comparison must not be vacuous: main and several of the target's
    # own functions, and some builtins, are in the reference.
    own = [k for k in ref_funcs if k[0] == filename]
    assert len(own) >= 3, own
    assert ref_funcs[[k for k in own if k[2] == "main"][0]] == (1, 1)
    if name != "fib_recursion":  # the one target that calls no builtin
        assert any(k[0] == "~" for k in ref_funcs)

    assert_same(ref_funcs, function_counts(hot, keep), "function call counts")
    assert_same(edge_counts(ref, keep), edge_counts(hot, keep), "caller -> callee call counts")


@pytest.mark.parametrize("name", ["builtins_heavy", "generators"])
def test_counts_match_cprofile_without_builtins(name):
    module = load_target(name)
    filename = module.__file__
    keep = selector(filename)

    ref = profiled(cProfile.Profile(builtins=False), module.main).stats
    hot = profiled(hotscope.Profile(builtins=False), module.main).stats

    assert not [k for k in hot if k[0] == "~" and not is_profiler_builtin(k)], \
        "builtins=False still recorded builtins"
    assert_same(function_counts(ref, keep), function_counts(hot, keep), "function call counts")
    assert_same(edge_counts(ref, keep), edge_counts(hot, keep), "caller -> callee call counts")


def test_builtin_labels_are_cprofiles():
    module = load_target("builtins_heavy")
    hot = profiled(hotscope.Profile(), module.main).stats
    for label in [
        ("~", 0, "<built-in method builtins.len>"),
        ("~", 0, "<built-in method builtins.sorted>"),
        ("~", 0, "<method 'append' of 'list' objects>"),
        ("~", 0, "<method 'get' of 'dict' objects>"),
        ("~", 0, "<method 'join' of 'str' objects>"),
    ]:
        assert label in hot, label


# --------------------------------------------------------------------------
# the drop-in API


def test_pstats_and_dump_round_trip(tmp_path):
    module = load_target("fib_recursion")
    prof = profiled(hotscope.Profile(), module.main)
    fib = find(prof.stats, module.__file__, "fib")
    # main() calls fib(5), fib(10), fib(18): F(n) = 1 + F(n-1) + F(n-2).
    calls = {0: 1, 1: 1}
    for n in range(2, 19):
        calls[n] = 1 + calls[n - 1] + calls[n - 2]
    assert (fib[1], fib[0]) == (calls[5] + calls[10] + calls[18], 3)

    st = pstats.Stats(prof)
    assert st.stats[next(k for k in st.stats if k[2] == "fib")][1] == fib[1]
    path = tmp_path / "out.prof"
    prof.dump_stats(str(path))
    loaded = pstats.Stats(str(path)).stats
    keep = selector(module.__file__)
    assert function_counts(loaded, keep) == function_counts(prof.stats, keep)
    assert edge_counts(loaded, keep) == edge_counts(prof.stats, keep)


def test_runcall_runctx_and_context_manager():
    module = load_target("fib_recursion")
    prof = hotscope.Profile()
    assert prof.runcall(module.fib, 12) == 144
    prof.create_stats()
    assert find(prof.stats, module.__file__, "fib")[1] == 465

    prof = hotscope.Profile()
    prof.runctx("fib(7)", {"fib": module.fib}, {})
    prof.create_stats()
    assert find(prof.stats, module.__file__, "fib")[1] == 41

    with hotscope.Profile() as prof:
        module.fib(3)
    prof.create_stats()
    assert find(prof.stats, module.__file__, "fib")[1] == 5


# --------------------------------------------------------------------------
# threads: ground truth = K x one run of the work in the main thread


WORKER_FUNCS = {"work", "helper", "crunch", "<genexpr>"}


def worker_view(stats, filename):
    """Counts of the functions work() runs (not main or its closure) and of
    the builtins they call, as edges from those functions."""
    def own(label):
        return label[0] == filename and label[2] in WORKER_FUNCS

    funcs = {k: (v[1], v[0]) for k, v in stats.items() if own(k)}
    edges = {}
    for callee, v in stats.items():
        if not (own(callee) or (callee[0] == "~" and not is_profiler_builtin(callee))):
            continue
        for caller, sub in v[4].items():
            if own(caller):
                edges[(caller, callee)] = (sub[0], sub[1])
    return funcs, edges


def times(view, k):
    return {key: (nc * k, cc * k) for key, (nc, cc) in view.items()}


def test_threads_counts_are_k_times_one_run():
    module = load_target("threads_work")
    filename = module.__file__
    k = module.K

    ref = profiled(cProfile.Profile(), module.work).stats
    ref_funcs, ref_edges = worker_view(ref, filename)
    assert {l[2] for l in ref_funcs} >= {"work", "helper", "crunch"}
    assert any(callee[0] == "~" for _, callee in ref_edges)

    prof = profiled(hotscope.Profile(), module.main, k)
    funcs, edges = worker_view(prof.stats, filename)
    assert_same(times(ref_funcs, k), funcs, "merged worker call counts")
    assert_same(times(ref_edges, k), edges, "merged worker caller -> callee counts")

    threads = prof.thread_stats()
    workers = [t for t in threads if t["name"].startswith("worker-")]
    assert sorted(t["name"] for t in workers) == ["worker-%d" % i for i in range(k)]
    assert len({t["ident"] for t in workers}) == k
    assert len({t["os_tid"] for t in workers}) == k
    assert all(t["os_tid"] > 0 for t in workers)
    assert threading.main_thread().ident in {t["ident"] for t in threads}
    for t in workers:
        w_funcs, w_edges = worker_view(t["stats"], filename)
        assert_same(ref_funcs, w_funcs, "%s call counts" % t["name"])
        assert_same(ref_edges, w_edges, "%s caller -> callee counts" % t["name"])
        # Each worker sleeps 4 x 1 ms inside work().
        assert t["wall_ns"] >= 4_000_000, t
        assert 0 < t["cpu_ns"] <= t["wall_ns"] + 1_000_000, t

    # The root total is the sum over the threads.
    total = prof.total_time()
    assert sum(t["wall_ns"] for t in threads) / 1e9 == pytest.approx(total, rel=0.01, abs=1e-4)


def test_thread_that_ended_is_not_charged_the_rest_of_the_run():
    # A thread's time ends with its last event. (disable() used to charge
    # every thread up to that moment: a thread that ended early got the
    # rest of the run as wall time and, its CPU clock gone, as CPU time.)
    def short():
        return sum(range(100))

    prof = hotscope.Profile()
    prof.enable()
    thread = threading.Thread(target=short, name="short-lived")
    thread.start()
    thread.join()
    started = time.perf_counter()
    time.sleep(0.2)
    slept = time.perf_counter() - started
    prof.disable()
    threads = {t["name"]: t for t in prof.thread_stats()}
    ended, main = threads["short-lived"], threads["MainThread"]
    assert main["wall_ns"] >= slept * 1e9
    assert ended["wall_ns"] < 0.25 * slept * 1e9, ended
    assert ended["cpu_ns"] < 0.25 * slept * 1e9, ended
    assert any(key[2] == "short" and value[0] == 1 for key, value in ended["stats"].items())
    assert sum(t["wall_ns"] for t in threads.values()) / 1e9 == pytest.approx(prof.total_time(), rel=0.01)


# --------------------------------------------------------------------------
# deep recursion in a thread with a big stack


def test_deep_recursion():
    module = load_target("deep_recursion")
    filename = module.__file__
    depth = module.DEPTH

    prof = profiled(hotscope.Profile(), module.main)
    descend = find(prof.stats, filename, "descend")
    assert (descend[1], descend[0]) == (depth + 1, 1)
    work = find(prof.stats, filename, "work")
    assert (work[1], work[0]) == (1, 1)
    self_edge = [v for k, v in descend[4].items() if k[0] == filename and k[2] == "descend"]
    assert [(v[0], v[1]) for v in self_edge] == [(depth, 1)]
    from_work = [v for k, v in descend[4].items() if k[0] == filename and k[2] == "work"]
    assert [(v[0], v[1]) for v in from_work] == [(1, 1)]
    # cumtime counts the recursion once, not 50,000 times over.
    assert descend[3] <= work[3] * 1.0001 + 1e-6
    assert work[3] <= prof.total_time() * 1.0001 + 1e-6

    deep = [t for t in prof.thread_stats() if t["name"] == "deep"]
    assert len(deep) == 1
    d = find(deep[0]["stats"], filename, "descend")
    assert (d[1], d[0]) == (depth + 1, 1)

    if sys.version_info >= (3, 12):
        # cProfile sees every thread on 3.12+, so its function counts compare.
        # Not its edges: it keeps one call stack for all threads, so the
        # worker's frames sit on top of the main thread's join() and it
        # reports e.g. descend -> descend as (49996, 0) and an edge
        # join -> descend.  The edges are checked by construction above.
        ref = profiled(cProfile.Profile(), module.main).stats
        own = lambda label: label[0] == filename  # noqa: E731
        assert_same(function_counts(ref, own), function_counts(prof.stats, own), "call counts")


# --------------------------------------------------------------------------
# times


def call_heavy():
    module = load_target("fib_recursion")
    sched = load_target("scheduler_oo")
    module.fib(25)
    for _ in range(15):
        sched.main()


def test_self_times_sum_to_total():
    prof = profiled(hotscope.Profile(), call_heavy)
    total = prof.total_time()
    self_sum = sum(v[2] for v in prof.stats.values())
    # The functions called from the top (no caller) hold every function's
    # self time in their cumulative times. The total also has the thread's
    # own time outside any function (between enable() and the call, which a
    # preemption on a loaded machine can make milliseconds long).
    top = sum(v[3] for v in prof.stats.values() if not v[4])
    assert total > 0.02
    assert self_sum == pytest.approx(top, rel=0.01)
    assert self_sum <= total * 1.0001


def test_total_is_measured_wall_time():
    prof = hotscope.Profile()
    gc.collect()
    t0 = time.perf_counter()
    prof.enable()
    inner0 = time.perf_counter()
    # Long enough that 1% is far above the clocks' resolution, however
    # fast the machine and the tracer are.
    while time.perf_counter() - t0 < 0.1:
        call_heavy()
    inner1 = time.perf_counter()
    prof.disable()
    elapsed = time.perf_counter() - t0
    # The recorded span lies between the two measured around and inside it
    # (a preemption in enable() or disable() on a loaded machine falls
    # between them, so no fixed tolerance around either would do).
    assert inner1 - inner0 <= prof.total_time() * 1.01
    assert prof.total_time() <= elapsed * 1.01
    assert prof.total_time("wall") == prof.total_time()


def test_known_split_wall_clock():
    module = load_target("busy_sleep")
    filename = module.__file__
    prof = profiled(hotscope.Profile(clock="wall"), module.main)
    busy = find(prof.stats, filename, "busy")
    sleeper = find(prof.stats, filename, "sleeper")
    # Ground truth: each call's wall time as the target measured it around
    # the call (a loaded machine stretches a 0.05 s sleep; the profile must
    # show what really happened, not the nominal figure).
    busy_wall, sleep_wall = module.MEASURED["busy"][0], module.MEASURED["sleeper"][0]
    assert busy_wall >= module.BUSY and sleep_wall >= module.SLEEP
    assert busy[3] == pytest.approx(busy_wall, rel=0.10)
    assert sleeper[3] == pytest.approx(sleep_wall, rel=0.10)
    # The sleep itself is the builtin's time, not sleeper's own.
    assert sleeper[2] < 0.2 * sleeper[3]
    time_sleep = prof.stats[("~", 0, "<built-in method time.sleep>")]
    assert time_sleep[3] == pytest.approx(sleep_wall, rel=0.10)

    # Both clocks are recorded whatever the profile's clock: the main
    # thread's CPU time leaves out the sleep.
    busy_cpu = module.MEASURED["busy"][1]
    main = [t for t in prof.thread_stats() if t["ident"] == threading.main_thread().ident]
    assert len(main) == 1
    wall_ns, cpu_ns = main[0]["wall_ns"], main[0]["cpu_ns"]
    assert wall_ns / 1e9 == pytest.approx(busy_wall + sleep_wall, rel=0.10)
    assert cpu_ns / 1e9 == pytest.approx(busy_cpu, rel=0.15)
    assert wall_ns - cpu_ns >= 0.8 * module.SLEEP * 1e9  # at least most of the nominal sleep
    assert prof.total_time("cpu") == pytest.approx(busy_cpu, rel=0.15)


def test_known_split_cpu_clock():
    module = load_target("busy_sleep")
    filename = module.__file__
    prof = profiled(hotscope.Profile(clock="cpu"), module.main)
    busy = find(prof.stats, filename, "busy")
    sleeper = find(prof.stats, filename, "sleeper")
    busy_wall, busy_cpu = module.MEASURED["busy"]
    sleeper_wall = module.MEASURED["sleeper"][0]
    # busy's CPU time is its wall time when it had a CPU to itself; on a
    # loaded machine it is the CPU time the spin was given, measured by
    # main() around the call.
    assert busy[3] == pytest.approx(busy_cpu, rel=0.15)
    if busy_cpu > 0.9 * busy_wall:
        assert busy[3] == pytest.approx(busy_wall, rel=0.15)
    assert sleeper[3] < 0.2 * sleeper_wall
    assert prof.total_time("cpu") == pytest.approx(busy_cpu, rel=0.15)
    measured_wall = module.MEASURED["busy"][0] + module.MEASURED["sleeper"][0]
    assert prof.total_time("wall") == pytest.approx(measured_wall, rel=0.10)
