"""Cyclic garbage collection in a trace: each collection is a [gc] frame
under the frame that triggered it, with a "[gc] gen N" child per
generation.

Ground truth, measured in the same run: gc.get_stats()'s collection
counts per generation (automatic collections are allowed only while the
trace runs, so the deltas cover exactly the traced span), the time
measured around each gc.collect() call, and which function made it."""

import gc
import re
import subprocess
import sys
import textwrap
import time

import hotscope


class Cycle:
    def __init__(self):
        self.me = self


class Finalized:
    seen = 0

    def __init__(self):
        self.me = self

    def __del__(self):
        Finalized.seen += 1


def make_cycles(n):
    for _ in range(n):
        Cycle()


def collect_young():
    make_cycles(20000)
    t0 = time.perf_counter()
    gc.collect(0)
    return time.perf_counter() - t0


def collect_all():
    make_cycles(60000)
    t0 = time.perf_counter()
    gc.collect()
    return time.perf_counter() - t0


def gen_counts():
    return [s["collections"] for s in gc.get_stats()]


def gc_entry(stats, name):
    return stats[("~", 0, name)]


def traced_run(work):
    """Runs work() traced, automatic collections on only inside the trace;
    returns (profile, collections per generation that happened, work's result)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    before = gen_counts()
    prof = hotscope.Profile()
    prof.enable()
    gc.enable()
    result = work()
    gc.disable()
    prof.disable()
    after = gen_counts()
    if was_enabled:
        gc.enable()
    return prof, [a - b for a, b in zip(after, before)], result


def test_collections_are_gc_frames_under_their_caller():
    def work():
        young = [collect_young() for _ in range(3)]
        full = [collect_all() for _ in range(2)]
        return young, full

    prof, deltas, (young, full) = traced_run(work)
    prof.create_stats()
    stats = prof.stats
    # counts per generation equal the interpreter's own
    for gen in range(3):
        name = "[gc] gen %d" % gen
        calls = gc_entry(stats, name)[1] if ("~", 0, name) in stats else 0
        assert calls == deltas[gen], (gen, calls, deltas)
    assert gc_entry(stats, "[gc]")[1] == sum(deltas)
    # explicit collections sit under gc.collect, called by the right functions
    collect_key = next(k for k in stats if k[2] == "<built-in method gc.collect>")
    by_gc_collect = gc_entry(stats, "[gc]")[4][collect_key]
    assert by_gc_collect[0] == 5
    callers = {k[2]: v[0] for k, v in stats[collect_key][4].items()}
    assert callers == {"collect_young": 3, "collect_all": 2}
    gen2_by_gc = gc_entry(stats, "[gc] gen 2")[4][("~", 0, "[gc]")][0]
    assert gen2_by_gc >= 2  # both full collections (automatic ones may add)
    # the time of the five collections is the time measured around them,
    # and it left gc.collect's own time
    measured = sum(young) + sum(full)
    gc_time = by_gc_collect[3]
    assert 0.8 * measured <= gc_time <= measured, (gc_time, measured)
    collect_stats = stats[collect_key]
    assert collect_stats[2] < 0.2 * collect_stats[3]
    # automatic collections (gen 0 at least) were charged where they happened
    automatic = {k[2] for k in gc_entry(stats, "[gc]")[4]} - {"<built-in method gc.collect>"}
    if deltas[0] > 3:
        assert automatic & {"make_cycles", "__init__"}


def test_finalizers_run_under_the_collection():
    def work():
        for _ in range(50):
            Finalized()
        gc.collect()

    Finalized.seen = 0
    prof, deltas, _ = traced_run(work)
    prof.create_stats()
    stats = prof.stats
    assert Finalized.seen == 50
    del_key = next(k for k in stats if k[2] == "Finalized.__del__" or k[2] == "__del__")
    assert stats[del_key][1] == 50
    assert set(stats[del_key][4]) <= {("~", 0, "[gc] gen %d" % g) for g in range(3)}
    assert sum(v[0] for v in stats[del_key][4].values()) == 50


def test_gc_off_and_callbacks_left_as_found():
    before = list(gc.callbacks)
    prof = hotscope.Profile(gc=False)
    prof.enable()
    make_cycles(1000)
    gc.collect()
    prof.disable()
    prof.create_stats()
    assert not [k for k in prof.stats if k[2].startswith("[gc]")]
    with hotscope.trace() as t:
        assert len(gc.callbacks) == len(before) + 1
        gc.collect()
    assert gc.callbacks == before
    assert t.snapshot().meta()["gc_collections"].split()[2] == "1"


def test_command_line_reports_collections(tmp_path):
    script = tmp_path / "cycles.py"
    script.write_text(textwrap.dedent("""
        import gc
        class C:
            def __init__(self):
                self.me = self
        def churn():
            for _ in range(30000):
                C()
        def main():
            churn()
            gc.collect()
        main()
    """))
    out = tmp_path / "cycles.json"
    run = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(out), str(script)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = hotscope.load(str(out))
    meta = data.meta()
    counts = [int(n) for n in meta["gc_collections"].split()]
    assert counts[2] >= 1
    stats = data.pstats()
    assert stats[("~", 0, "[gc]")][1] == sum(counts)
    text = subprocess.run([sys.executable, "-m", "hotscope", "view", str(out)],
                          capture_output=True, text=True, timeout=120).stdout
    assert "[gc] gen 2" in text
    report = subprocess.run([sys.executable, "-m", "hotscope", "trace", str(script)],
                            capture_output=True, text=True, timeout=120).stdout
    assert re.search(r"GC: \d+ collections \(gen 0: \d+, gen 1: \d+, gen 2: [1-9]\d*\) in ", report), report
