"""ProfileData.focus() and _core.merge(): a profile cut to the paths below
one function (src/model/focus.c), several profiles added into one
(src/model/merge.c through src/pymod/pd_merge.c).

Ground truth: call counts fixed by construction, and the unfocused profile
of the same run (the focused function's cumulative time there is the whole
focused profile's total).
"""

import threading

import pytest

import hotscope
from hotscope import _core


def helper():
    return sum(range(50))


def entry(n):
    for _ in range(n):
        helper()


def recursive_entry(depth):
    helper()
    if depth:
        recursive_entry(depth - 1)


def other(n):
    for _ in range(n):
        helper()


def worker():
    entry(3)
    other(5)


def counts(data):
    return {key[2]: value[1] for key, value in data.pstats().items()}


def key_of(data, name):
    (key,) = [k for k in data.pstats() if k[2] == name and k[0] == __file__]
    return key


def test_focus_keeps_only_the_paths_below_the_function_in_every_thread():
    with hotscope.trace() as t:
        thread = threading.Thread(target=worker, name="side")
        thread.start()
        thread.join()
        entry(4)
        other(7)
    whole = t.snapshot()
    focused = whole.focus("entry", __file__)
    got = counts(focused)
    assert got["entry"] == 2
    assert got["helper"] == 3 + 4
    assert "other" not in got and "worker" not in got
    assert sorted(th["name"] for th in focused.threads()) == ["MainThread", "side"]
    assert focused.meta()["focus"] == "entry"
    # Each focused thread holds exactly the time entry took in that thread.
    for index, th in enumerate(focused.threads()):
        (source,) = [s for s in whole.threads() if s["ident"] == th["ident"]]
        stats = whole.pstats(thread=source["index"])
        cumulative = stats[key_of(whole, "entry")][3]
        assert focused.total(thread=index) / 1e9 == pytest.approx(cumulative, rel=1e-6, abs=1e-9)


def test_focus_drops_threads_that_never_ran_the_function_and_matches_the_file():
    with hotscope.trace() as t:
        thread = threading.Thread(target=other, args=(2,), name="bystander")
        thread.start()
        thread.join()
        entry(2)
    focused = t.snapshot().focus("entry")
    assert [th["name"] for th in focused.threads()] == ["MainThread"]
    assert counts(focused)["helper"] == 2
    assert t.snapshot().focus("entry", "/elsewhere.py").threads() == []


def test_focus_keeps_named_threads_whole():
    idents = {}

    def side():
        idents["side"] = threading.get_ident()
        other(3)

    with hotscope.trace() as t:
        thread = threading.Thread(target=side, name="pool")
        thread.start()
        thread.join()
        entry(2)
        other(4)
    whole = t.snapshot()
    focused = whole.focus("entry", __file__, whole_threads=[idents["side"]])
    by_name = {th["name"]: th["index"] for th in focused.threads()}
    assert sorted(by_name) == ["MainThread", "pool"]
    main = {k[2]: v[1] for k, v in focused.pstats(thread=by_name["MainThread"]).items()}
    pool = {k[2]: v[1] for k, v in focused.pstats(thread=by_name["pool"]).items()}
    assert "other" not in main and main["helper"] == 2
    assert pool["side"] == 1 and pool["other"] == 1 and pool["helper"] == 3
    (source,) = [th for th in whole.threads() if th["name"] == "pool"]
    assert focused.total(thread=by_name["pool"]) == whole.total(thread=source["index"])


def test_focus_on_a_recursive_function_starts_at_its_outermost_call():
    with hotscope.trace() as t:
        recursive_entry(4)
        recursive_entry(2)
    focused = t.snapshot().focus("recursive_entry", __file__)
    got = counts(focused)
    assert got["recursive_entry"] == 5 + 3
    assert got["helper"] == 5 + 3
    tree = focused.text_tree(show_all=True, min_percent=0)
    assert "test_focus_on_a_recursive" not in tree


def test_merge_adds_call_counts_and_times_path_by_path():
    with hotscope.trace() as a:
        entry(3)
    with hotscope.trace() as b:
        entry(5)
        other(2)
    first, second = a.snapshot(), b.snapshot()
    merged = _core.merge([first, second])
    got = counts(merged)
    assert got["entry"] == 2
    assert got["other"] == 1
    assert got["helper"] == 3 + 5 + 2
    assert merged.total() == first.total() + second.total()
    assert [th["name"] for th in merged.threads()] == ["MainThread"]
    with pytest.raises(TypeError):
        _core.merge([first, "not a profile"])
