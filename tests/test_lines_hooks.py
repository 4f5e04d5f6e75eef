"""hotscope lines: how selected frames are found, against sys.settrace.

Before 3.12 the line profiler installs its trace function around the
evaluation of each selected frame (a frame evaluation hook, PEP 523), and
takes it away around frames of other code that run meanwhile; with another
evaluation function in place it falls back to a profile function. These
tests drive selected frames every way they can start or resume (generators
and coroutines resumed from code not selected, callbacks from C, threads
that were running before profiling began, exceptions crossing code not
selected) and compare every line's hits with the interpreter's own line
events, on every interpreter; and check what a program's own trace function
or a second profiler sees.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import threading
import warnings

import pytest

import hotscope
from lineskit import all_codes, counting_trace, hotscope_counts, settrace_counts

HERE = os.path.dirname(os.path.abspath(__file__))
LEGACY = sys.version_info < (3, 12)


def profiled(functions, run):
    with hotscope.lines(*functions) as lp:
        run()
    return hotscope_counts(lp.data)[0]


def check_against_settrace(functions, run):
    """run() under sys.settrace, then under hotscope: every line's hits equal."""
    expected = settrace_counts(all_codes(functions), run)
    hits = profiled(functions, run)
    assert hits == expected
    return hits


# ---- selected frames resumed or called from code that is not selected ------------

def gen_selected(n):
    total = 0
    for i in range(n):
        try:
            got = yield i
        except KeyError:
            got = -1
        total += got or 0
    return total


def drive_generator(g):
    """Not selected: resumes a selected generator every way there is."""
    out = [next(g)]
    for v in range(1, 4):
        out.append(g.send(v))
    out.append(g.throw(KeyError))
    out.extend(g)
    return out


class Tick:
    def __await__(self):
        got = yield "tick"
        return got


async def coro_selected(n):
    total = 0
    for i in range(n):
        total += await Tick()
    return total


def drive_coroutine():
    """Not selected: drives a selected coroutine by hand, no event loop."""
    c = coro_selected(5)
    c.send(None)
    try:
        while True:
            c.send(2)
    except StopIteration as stop:
        return stop.value


def test_generators_and_coroutines_resumed_from_code_not_selected():
    def run():
        assert drive_generator(gen_selected(7)) == [0, 1, 2, 3, 4, 5, 6]
        assert drive_coroutine() == 10

    hits = check_against_settrace([gen_selected, coro_selected], run)
    first = gen_selected.__code__.co_firstlineno
    assert hits[(gen_selected.__code__.co_filename, first, first + 2)] == 8  # the for line: 7 + 1
    assert not any(k[1] in (drive_generator.__code__.co_firstlineno, Tick.__await__.__code__.co_firstlineno)
                   for k in hits)


def test_a_generator_started_before_profiling_counts_from_its_next_resumption():
    def run_with(start_profiling):
        g = gen_selected(6)
        next(g)  # running before profiling (or tracing) starts
        return start_profiling(lambda: list(g))

    expected = run_with(lambda rest: settrace_counts(all_codes([gen_selected]), rest))
    hits = run_with(lambda rest: profiled([gen_selected], rest))
    assert hits == expected and sum(hits.values()) > 0


def sel_outer(n):
    total = 0
    for i in range(n):
        try:
            total += middle_not_selected(i)
        except ValueError:
            total -= 1
    return total


def middle_not_selected(i):
    seen_trace.append(sys.gettrace())
    order = sorted(range(i), key=sel_key)  # a selected function called back from C
    if i == 3:
        raise ValueError(i)  # crosses a frame not selected into a selected one
    return sel_leaf(i) + len(order)


def sel_key(v):
    return -v


def sel_leaf(i):
    if i <= 1:
        return 1
    return sel_leaf(i - 1) + 1


seen_trace = []


def test_selected_frames_below_and_above_code_not_selected():
    hits = check_against_settrace([sel_outer, sel_key, sel_leaf], lambda: sel_outer(6))
    assert not any(k[1] == middle_not_selected.__code__.co_firstlineno for k in hits)
    # The code between them ran without a trace function of hotscope's.
    seen_trace.clear()
    profiled([sel_outer, sel_key, sel_leaf], lambda: sel_outer(4))
    assert seen_trace == [None] * 4


def work(n):
    total = 0
    for i in range(n):
        if i % 4 == 0:
            total += i
    return total


def test_a_thread_running_before_profiling_began():
    ready, go = threading.Event(), threading.Event()

    def runner():
        ready.set()
        go.wait(10)
        work(30)

    expected = settrace_counts(all_codes([work]), lambda: work(30))
    t = threading.Thread(target=runner)
    t.start()
    ready.wait(10)
    with hotscope.lines(work) as lp:
        go.set()
        t.join(10)
    assert hotscope_counts(lp.data)[0] == expected


# ---- the program's own trace function, more than one profile --------------------

def traced_target(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_a_trace_function_of_the_program_is_left_in_place():
    codes = all_codes([traced_target])
    expected = settrace_counts(codes, lambda: traced_target(9))
    program_trace, counts = counting_trace(codes)
    sys.settrace(program_trace)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with hotscope.lines(traced_target) as lp:
                traced_target(9)
        after = sys.gettrace()
    finally:
        sys.settrace(None)
    assert after is program_trace
    assert counts == expected  # the program's tracer saw every line
    hits = hotscope_counts(lp.data)[0]
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if LEGACY:
        # one trace function per thread: the program's keeps it, and says so
        assert sum(hits.values()) == 0
        assert any("1 run(s) of selected functions could not be line-profiled" in m for m in messages), messages
    else:
        assert hits == expected and not messages


def sets_a_trace_midway(fn):
    a = 1
    sys.settrace(fn)
    b = 2
    return a + b


def test_the_program_setting_a_trace_function_while_a_selected_one_runs():
    def program_trace(frame, event, arg):
        return None

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with hotscope.lines(sets_a_trace_midway) as lp:
                sets_a_trace_midway(program_trace)
        after = sys.gettrace()
    finally:
        sys.settrace(None)
    assert after is program_trace  # the program's choice stands
    first = sets_a_trace_midway.__code__.co_firstlineno
    hits = {k[2] - first: v for k, v in hotscope_counts(lp.data)[0].items()}
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if LEGACY:
        assert hits == {1: 1, 2: 1}  # up to the line that replaced hotscope's
        assert any("could not be line-profiled" in m for m in messages), messages
    else:
        assert hits == {1: 1, 2: 1, 3: 1, 4: 1} and not messages


def profiles_itself(n):
    with hotscope.lines(work) as lp:
        work(n)
    return lp


def test_profile_as_a_context_manager_inside_the_program_again_and_again():
    once = settrace_counts(all_codes([work]), lambda: work(9))
    lp = profiles_itself(9)
    assert hotscope_counts(lp.data)[0] == once
    # the same profile enabled twice adds up; what runs between is not seen
    lp = hotscope.lines(work)
    with lp:
        work(9)
    work(9)
    lp.enable()
    work(9)
    lp.disable()
    assert hotscope_counts(lp.data)[0] == {k: 2 * v for k, v in once.items()}
    # a second profile after it starts from nothing, and the first is unchanged
    second = hotscope.lines(work)
    with second:
        work(9)
    assert hotscope_counts(second.data)[0] == once
    assert hotscope_counts(lp.data)[0] == {k: 2 * v for k, v in once.items()}


def test_a_second_line_profile_at_the_same_time_is_refused():
    first = hotscope.lines(work)
    with first:
        with pytest.raises(ValueError, match="already running"):
            hotscope.lines(traced_target).enable()
        work(5)
    with hotscope.lines(work) as again:
        work(5)
    assert hotscope_counts(first.data)[0] == hotscope_counts(again.data)[0]


def allocates_selected(n):
    keep = []
    for i in range(n):
        keep.append(bytearray(256 * 1024))
    return len(keep)


def test_line_profile_and_memory_profile_together():
    expected = settrace_counts(all_codes([allocates_selected]), lambda: allocates_selected(8))
    with hotscope.memory() as m:
        with hotscope.lines(allocates_selected) as lp:
            allocates_selected(8)
    assert hotscope_counts(lp.data)[0] == expected
    me = os.path.abspath(__file__)
    line = allocates_selected.__code__.co_firstlineno + 3
    sizes = {(loc.file, loc.line): size for loc, size, _c in m.top(0)}
    assert sizes[(me, line)] >= 8 * 256 * 1024


# ---- another frame evaluation function; audit hooks (3.10, 3.11) ----------------

def build_foreign_evalhook(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    target = tmp_path / ("foreign_evalhook" + sysconfig.get_config_var("EXT_SUFFIX"))
    r = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-I", sysconfig.get_paths()["include"],
                        "-o", str(target), os.path.join(HERE, "c", "foreign_evalhook.c")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    spec = importlib.util.spec_from_file_location("foreign_evalhook", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not LEGACY, reason="3.12+ uses sys.monitoring, not the evaluation hook")
def test_with_another_evaluation_function_in_place(tmp_path):
    foreign = build_foreign_evalhook(tmp_path)
    run = lambda: (sel_outer(6), drive_generator(gen_selected(5)), drive_coroutine())  # noqa: E731
    functions = [sel_outer, sel_key, sel_leaf, gen_selected, coro_selected]
    expected = settrace_counts(all_codes(functions), run)
    foreign.install()
    try:
        before = foreign.frames()
        hits = profiled(functions, run)  # through a profile function instead
        assert foreign.frames() > before  # and the other function stayed the interpreter's
        assert not foreign.is_default()
    finally:
        foreign.uninstall()
    assert hits == expected


@pytest.mark.skipif(not LEGACY, reason="3.12+ uses sys.monitoring, not the evaluation hook")
def test_the_evaluation_hook_is_given_back_by_its_last_user(tmp_path):
    foreign = build_foreign_evalhook(tmp_path)
    assert foreign.is_default()
    # A generator chosen: the hook is held for good, also on 3.11 (held on
    # demand: test_lines_doors.py).
    lp = hotscope.LineProfile(work, gen_selected, decorated=False)
    m = hotscope.memory()
    lp.enable()
    assert not foreign.is_default()
    m.__enter__()
    lp.disable()
    assert not foreign.is_default()  # the memory profile still uses it
    work(3)
    m.__exit__(None, None, None)
    assert foreign.is_default()
    m = hotscope.memory()
    m.__enter__()
    lp.enable()
    m.__exit__(None, None, None)
    assert not foreign.is_default()
    lp.disable()
    assert foreign.is_default()


AUDITED = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, %(tests)r)
    import hotscope
    from lineskit import all_codes, counting_trace, hotscope_counts, settrace_counts

    def not_selected(event):
        return len(event)

    def audit(event, args):
        if event == "sys.settrace":
            audited.append(not_selected(event))  # Python code run by every change of trace function

    audited = []
    sys.addaudithook(audit)

    def helper(i):
        return i * 2

    def chosen(n):
        t = 0
        for i in range(n):
            t += helper(i)
        return t

    expected = settrace_counts(all_codes([chosen]), lambda: chosen(5))
    with hotscope.lines(chosen) as lp:
        chosen(5)
    hits, _ = hotscope_counts(lp.data)
    print(json.dumps({"same": hits == expected, "hits": sum(hits.values()), "audited": len(audited)}))
""")


def test_audit_hooks_that_run_python_code(tmp_path):
    prog = tmp_path / "audited.py"
    prog.write_text(AUDITED % {"tests": HERE})
    r = subprocess.run([sys.executable, str(prog)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["same"] and out["hits"] > 0 and out["audited"] >= 2


@pytest.mark.skipif(not LEGACY, reason="3.12+ uses sys.monitoring, not the evaluation hook")
def test_another_evaluation_function_put_in_place_while_profiling(tmp_path):
    foreign = build_foreign_evalhook(tmp_path)
    lp = hotscope.lines(work)
    lp.enable()
    work(5)
    foreign.install()  # a debugger attaching: hotscope's hook is no longer called
    try:
        work(5)
        with pytest.warns(RuntimeWarning, match="replaced hotscope's while it ran"):
            lp.disable()
        assert not foreign.is_default()  # theirs is left in place
    finally:
        foreign.uninstall()
    assert hotscope_counts(lp.data)[0] == settrace_counts(all_codes([work]), lambda: work(5))


def test_a_function_chosen_while_profiling_counts_from_then():
    expected = settrace_counts(all_codes([traced_target]), lambda: traced_target(7))
    with hotscope.lines(work) as lp:
        traced_target(7)  # not chosen yet
        lp.add_function(traced_target)
        traced_target(7)
    hits = hotscope_counts(lp.data)[0]
    assert {k: v for k, v in hits.items() if k[1] == traced_target.__code__.co_firstlineno} == expected
