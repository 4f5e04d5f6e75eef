"""hotscope.Profile's interface and its edge cases: refusing a second
profiler, not keeping the program's objects alive, accumulating over
enable/disable cycles, stable snapshots, @traced, and argument errors."""

import cProfile
import pstats
import subprocess
import sys
import textwrap
import weakref

import pytest

import hotscope


def leaf(n):
    return n + 1


def calls_of(stats, name):
    return [v[:2] for k, v in stats.items() if k[2] == name]


def test_second_profiler_in_the_same_thread_is_refused():
    first = hotscope.Profile()
    first.enable()
    try:
        with pytest.raises(ValueError, match="already running"):
            hotscope.Profile().enable()
    finally:
        first.disable()
    # and once the first stops, another may start
    second = hotscope.Profile()
    second.enable()
    second.disable()


def test_coexists_with_cprofile_where_the_interpreter_allows_it():
    prof = hotscope.Profile()
    other = cProfile.Profile()
    if sys.version_info >= (3, 12):
        # sys.monitoring gives each tool its own id: a program that uses
        # cProfile keeps working under hotscope, and both see the calls.
        prof.enable()
        other.enable()
        for i in range(7):
            leaf(i)
        other.disable()
        prof.disable()
        other.create_stats()
        prof.create_stats()
        assert calls_of(prof.stats, "leaf") == [(7, 7)]
        assert calls_of(other.stats, "leaf") == [(7, 7)]
    else:
        # one profile function per thread: refuse rather than silently
        # take cProfile's place
        other.enable()
        try:
            with pytest.raises(ValueError, match="already running"):
                prof.enable()
        finally:
            other.disable()


def test_instances_whose_methods_were_called_are_not_kept_alive():
    class Box(set):
        pass

    box = Box()
    ref = weakref.ref(box)
    prof = hotscope.Profile()
    prof.enable()
    box.add(1)
    box.discard(1)
    len(box)
    prof.disable()
    del box
    assert ref() is None
    prof.create_stats()
    assert calls_of(prof.stats, "<method 'add' of 'set' objects>") == [(1, 1)]


def test_calls_accumulate_over_enable_disable_cycles():
    prof = hotscope.Profile()
    for _ in range(3):
        prof.enable()
        leaf(1)
        leaf(2)
        prof.disable()
    prof.create_stats()
    assert calls_of(prof.stats, "leaf") == [(6, 6)]
    prof.clear()
    prof.create_stats()
    assert calls_of(prof.stats, "leaf") == []


def test_snapshots_of_stopped_profile_are_identical():
    prof = hotscope.Profile()
    prof.runcall(sum, range(10000))
    a, b = prof.snapshot(), prof.snapshot()
    assert a.total("wall") == b.total("wall") > 0
    assert a.total("cpu") == b.total("cpu")
    assert a.prof() == b.prof()


def test_disable_and_enable_add_no_frames_of_hotscope():
    prof = hotscope.Profile()
    with prof:
        leaf(3)
    prof.create_stats()
    names = {k[2] for k in prof.stats}
    assert names == {"leaf"}, names


def test_argument_errors():
    with pytest.raises(TypeError, match="custom timer"):
        hotscope.Profile(timer=lambda: 0)
    with pytest.raises(ValueError, match="clock"):
        hotscope.Profile(clock="sundial")
    prof = hotscope.Profile()
    prof.runcall(leaf, 1)
    with pytest.raises(ValueError, match="unknown sort key"):
        prof.snapshot().table(sort="bogus")
    with pytest.raises(IndexError):
        prof.snapshot().pstats(thread=99)
    with pytest.raises(hotscope.UnsupportedFormat):
        prof.save("profile.unknown-extension")


def test_traced_decorator_writes_at_exit(tmp_path):
    out = tmp_path / "traced.prof"
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import hotscope

        def helper(x):
            return x * 2

        @hotscope.traced(output=%r)
        def handler(n):
            return sum(helper(i) for i in range(n))

        handler(10)
        handler(5)
        print("done")
    """ % str(out)))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"
    stats = pstats.Stats(str(out)).stats
    assert calls_of(stats, "helper") == [(15, 15)]
    # handler's wrapper enables the profile inside itself: handler is traced
    assert calls_of(stats, "handler") == [(2, 2)]
