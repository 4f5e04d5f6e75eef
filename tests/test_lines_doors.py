"""hotscope lines on 3.11: the frame evaluation hook held on demand.

On 3.11 any frame evaluation function stops CALL from running Python calls
inline, so the hook is in place only while a chosen function runs: the
chosen functions' objects ("doors") get a subtype of function whose calls
demand it (src/lines/chosen_func.c). These tests check that every way into
a chosen function is still seen (hits equal the interpreter's own line
events), that the functions behave as functions during and after profiling
(type, pickle, copy, inspect), which selections keep the hook for good, and
that the hook is really away between chosen calls. On 3.10 the same
programs run with the hook held for good; on 3.12+ through sys.monitoring.
"""
import copy
import functools
import inspect
import pickle
import sys
import threading
import types

import pytest

import hotscope
from lineskit import all_codes, hotscope_counts, settrace_counts
from test_lines_hooks import build_foreign_evalhook

ON_DEMAND = sys.version_info[:2] == (3, 11)
LEGACY = sys.version_info < (3, 12)


def chosen(a, b=1, *, scale=2):
    "doc of chosen"
    c = a + b
    if c % 2:
        c += 1
    return c * scale


def caller(n):
    total = 0
    for i in range(n):
        total += chosen(i)
    return total


def recursive(n):
    if n <= 1:
        return 1
    return n * recursive(n - 1)


def with_listcomp(n):
    squares = [i * i for i in range(n)]
    return sum(squares)


def with_closure(n):
    def inner(i):
        return i + n
    return inner


def gen(n):
    for i in range(n):
        yield i


class Box:
    def method(self, x):
        y = x * 2
        return y

    def __getitem__(self, k):
        return k + 1

    @classmethod
    def klass(cls, x):
        return x

    @staticmethod
    def static(x):
        return x


def profile(functions, run):
    lp = hotscope.LineProfile(*functions, decorated=False)
    with lp:
        route = lp._engine.route
        run()
    return hotscope_counts(lp.data)[0], route


def check(functions, run, on_demand=True):
    expected = settrace_counts(all_codes(functions), run)
    hits, route = profile(functions, run)
    assert hits == expected
    if ON_DEMAND:
        assert route == ("evalhook on demand" if on_demand else "evalhook")
    return hits


# ---- every way into a chosen function is seen ---------------------------------------

def test_calls_specialised_before_profiling():
    for _ in range(3):
        caller(200)  # CALL_PY_EXACT_ARGS / CALL_PY_WITH_DEFAULTS, cached with the function's version
    hits = check([chosen], lambda: caller(50))
    assert hits[(__file__, chosen.__code__.co_firstlineno, chosen.__code__.co_firstlineno + 2)] == 50


def test_keywords_partial_and_calls_from_c():
    def run():
        chosen(1, b=2, scale=3)
        functools.partial(chosen, 4)()
        list(map(chosen, range(5)))
        sorted(range(5), key=chosen)
    check([chosen], run)


def test_methods_subscripts_class_and_static_methods():
    box = Box()

    def run():
        for i in range(20):
            box.method(i)      # LOAD_METHOD
            box[i]             # BINARY_SUBSCR, specialised to an inline __getitem__ call
            Box.klass(i)
            Box.static(i)
        bound = box.method
        bound(1)
        Box.method(box, 2)
    run()
    run()  # specialised before profiling
    check([Box.method, Box.__getitem__, Box.klass, Box.static], run)


def test_recursion_and_a_chosen_function_called_by_another():
    check([recursive, caller, chosen], lambda: (recursive(30), caller(10)))


def test_a_chosen_function_in_threads():
    def run():
        threads = [threading.Thread(target=caller, args=(200,)) for _ in range(4)]
        for t in threads:
            t.start()
        caller(100)
        for t in threads:
            t.join()
    # sys.settrace sees the calling thread only: the same calls in one thread.
    expected = settrace_counts(all_codes([chosen]), lambda: [caller(n) for n in (200, 200, 200, 200, 100)])
    assert profile([chosen], run)[0] == expected


def test_exceptions_through_a_chosen_function():
    def run():
        for i in range(5):
            try:
                chosen(i, "x")
            except TypeError:
                pass
    check([chosen], run)


def test_a_comprehension_inside_a_chosen_function():
    check([with_listcomp], lambda: with_listcomp(10))


# ---- which selections keep the hook for good (3.11) -------------------------------

@pytest.mark.skipif(not ON_DEMAND, reason="the hook on demand is for 3.11")
def test_selections_that_keep_the_hook_for_good():
    check([gen], lambda: list(gen(5)), on_demand=False)   # resumed without a call
    check([with_closure], lambda: with_closure(1)(2), on_demand=False)  # made anew each time
    check([lambda x: x + 1], lambda: None, on_demand=False)
    lp = hotscope.LineProfile(decorated=False)
    lp.add_code(chosen.__code__)  # the function found from its code object
    with lp:
        assert lp._engine.route == "evalhook on demand"
        lp.add_function(gen)  # chosen while profiling: the hook is held from then on
        assert lp._engine.route == "evalhook"
        caller(3)
    assert hotscope_counts(lp.data)[0] == settrace_counts(all_codes([chosen]), lambda: caller(3))


LOOK = []


def chosen_looking():
    LOOK[0]()


@pytest.mark.skipif(not LEGACY, reason="3.12+ uses sys.monitoring, not the evaluation hook")
def test_the_hook_is_in_place_only_while_a_chosen_function_runs(tmp_path):
    foreign = build_foreign_evalhook(tmp_path)  # only used to read the interpreter's evaluation function
    seen = []

    def look():
        seen.append(foreign.is_default())

    LOOK[:] = [look]
    lp = hotscope.LineProfile(chosen_looking, decorated=False)  # not nested: held on demand
    with lp:
        look()
        chosen_looking()
        look()
    look()
    # 3.11: no hook outside the chosen call; 3.10: held throughout.
    assert seen == ([True, False, True, True] if ON_DEMAND else [False, False, False, True])


@pytest.mark.skipif(not LEGACY, reason="3.12+ uses sys.monitoring, not the evaluation hook")
def test_with_a_memory_profile_holding_the_hook(tmp_path):
    foreign = build_foreign_evalhook(tmp_path)
    with hotscope.memory():
        check([chosen], lambda: caller(20))
        assert not foreign.is_default()  # the memory profile still holds it
    assert foreign.is_default()


# ---- the functions stay functions ---------------------------------------------------

def test_type_pickle_copy_inspect_during_and_after():
    chosen.attr = 7
    signature = inspect.signature(chosen)
    names = dir(chosen)
    lp = hotscope.LineProfile(chosen, decorated=False)
    for phase in ("during", "after"):
        if phase == "during":
            lp.enable()
        assert (type(chosen) is types.FunctionType) == (phase == "after" or not ON_DEMAND)
        assert isinstance(chosen, types.FunctionType) and inspect.isfunction(chosen)
        assert pickle.loads(pickle.dumps(chosen)) is chosen
        assert copy.copy(chosen) is chosen and copy.deepcopy(chosen) is chosen
        assert inspect.signature(chosen) == signature
        assert dir(chosen) == names
        assert (chosen.__name__, chosen.__qualname__, chosen.__module__, chosen.__doc__, chosen.attr) == \
            ("chosen", "chosen", __name__, "doc of chosen", 7)
        assert chosen.__defaults__ == (1,) and chosen.__kwdefaults__ == {"scale": 2}
        assert repr(chosen).startswith("<function chosen at ")
        wrapped = functools.wraps(chosen)(lambda *a, **k: chosen(*a, **k))
        assert wrapped.__wrapped__ is chosen and wrapped(3) == chosen(3) == 8
        assert Box().method(2) == 4 and Box.method.__get__(Box())(3) == 6
        if phase == "during":
            lp.disable()


def stops_profiling(lp):
    lp.disable()  # while this chosen function runs
    return caller(5)


def test_profiling_stopped_inside_a_chosen_call():
    lp = hotscope.LineProfile(stops_profiling, chosen, decorated=False)
    lp.enable()
    assert stops_profiling(lp) == caller(5)
    assert type(stops_profiling) is types.FunctionType and type(chosen) is types.FunctionType
    with hotscope.LineProfile(chosen, decorated=False) as again:  # the demand count stayed paired
        caller(4)
    assert hotscope_counts(again.data)[0] == settrace_counts(all_codes([chosen]), lambda: caller(4))


# ---- doors found later: code objects chosen before their functions exist -------------

LATER = '''
def leaf(n):
    t = 0
    for i in range(n):
        t += i
    return t

def outer(n):
    return leaf(n) + [leaf(i) for i in range(3)][-1]

def helper(i):
    return i + 1

def run(probe):
    probe()
    outer(4)      # outer's frame brings its door; leaf, called inside it, not yet
    probe()
    leaf(5)       # leaf's own frame brings the last door: held on demand from here
    probe()
    for i in range(50):
        helper(i)
    outer(6)
    probe()
'''


def test_doors_found_in_frames_of_code_chosen_before_its_functions_exist():
    """As `hotscope lines --func __main__:outer` selects code objects before
    the script makes its functions."""
    module_code = compile(LATER, __file__ + ":later", "exec")
    codes = [c for c in module_code.co_consts if isinstance(c, types.CodeType) and c.co_name in ("outer", "leaf")]

    def fresh():
        ns = {}
        exec(module_code, ns)
        return ns

    lp = hotscope.LineProfile(decorated=False)
    for code in codes:
        lp.add_code(code)  # no function has this code yet: no door
    routes = []
    with lp:
        ns = fresh()
        ns["run"](lambda: routes.append(lp._engine.route))
    expected = settrace_counts(all_codes([ns["outer"], ns["leaf"]]), lambda: ns["run"](lambda: None))
    assert hotscope_counts(lp.data)[0] == expected
    if ON_DEMAND:
        assert routes == ["evalhook", "evalhook", "evalhook on demand", "evalhook on demand"]
        assert type(ns["leaf"]) is types.FunctionType  # marked while it ran, plain again
    # The same module code run again while the hook is held on demand makes
    # new plain functions: what they run outside chosen calls is not seen,
    # and the profile says so.
    if ON_DEMAND:
        lp = hotscope.LineProfile(ns["leaf"], decorated=False)
        with pytest.warns(RuntimeWarning, match=r"1 function object\(s\) of chosen code .*\(leaf\)"):
            with lp:
                again = fresh()
                again["leaf"](3)
        assert hotscope_counts(lp.data)[0] == {}
