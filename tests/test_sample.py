"""The sampler (hotscope record / dump / sample()) against ground truth, on
the interpreter running the tests: a time split known by construction, the
exact stack and lines of a program stopped at known lines, idle and CPU
threads told apart, deep stacks, pool workers, and every bad input
answered with one line and exit status 2."""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import time

import pytest

from hotscope import _core

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
SPLIT = TARGETS / "sample_split.py"
FAST_STACKS = TARGETS / "sample_fast_stacks.py"
BLOCKED = TARGETS / "sample_blocked.py"
POOL = TARGETS / "sample_pool.py"
CHAINS = TARGETS / "sample_chains.py"
NAMED = TARGETS / "sample_named_threads.py"


def marker_line(path, marker):
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.rstrip().endswith("# " + marker):
            return number
    raise AssertionError("no %s in %s" % (marker, path))


def hotscope(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def blocked():
    """sample_blocked.py, started and in place (its threads at known lines)."""
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, str(BLOCKED), *args], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)  # let both threads reach their lines
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def cumulative_shares(data):
    """{function name: inclusive share of all samples}, from the pstats view
    of the profile (cumulative = samples with the function on the stack)."""
    stats = data.pstats(clock="samples")
    total = sum(v[2] for v in stats.values())
    return {name: v[3] / total for (_, _, name), v in stats.items()}


def sample_running(script, *args, rate, seconds, read_after=0):
    """Starts `script` (which prints "ready" when it is in place), samples
    it at `rate` with idle threads kept for `seconds`, reads the next
    `read_after` lines it prints, then kills it. (sampler, those lines)."""
    proc = subprocess.Popen([sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        sampler = _core.Sampler(proc.pid, rate=rate, idle=True)
        sampler.start()
        time.sleep(seconds)
        sampler.stop()
        lines = [proc.stdout.readline() for _ in range(read_after)]
    finally:
        proc.kill()
        proc.wait()
    return sampler, lines


def test_names_that_are_not_utf8_come_out_as_utf8():
    """A lone surrogate in a thread's name becomes U+FFFD (a Python str can
    hold it, UTF-8 cannot), a character beyond the BMP stays itself: every
    output decodes as UTF-8."""
    sampler, _ = sample_running(TARGETS / "sample_odd_names.py", 2.0, rate=500, seconds=0.5)
    text = sampler.snapshot().collapsed(clock="samples").decode("utf-8")  # strict
    assert "thread odd-\ufffd-\U0001F600 (tid " in text, text[:2000]


def test_no_aliasing_with_a_loop_at_the_sampling_period():
    """A loop whose period is the sampling interval (10 ms at 100 Hz),
    70% in a() and 30% in b() by its own clock: each is seen in its share
    (a sampler at a fixed interval sees one of them only)."""
    sampler, _ = sample_running(TARGETS / "sample_periodic.py", 4.0, rate=100, seconds=3.0)
    counts = {"a": 0, "b": 0}
    for row in sampler.snapshot().collapsed(clock="samples").decode().splitlines():
        stack, count = row.rsplit(" ", 1)
        leaf = stack.split(";")[-1].split(" (")[0]
        if leaf == "spin_until":
            counts[stack.split(";")[-2].split(" (")[0]] += int(count)
    total = counts["a"] + counts["b"]
    assert total > 150, counts
    # 0.30 +- 0.12: over 10 standard errors of a share of 300 samples
    assert 0.18 <= counts["b"] / total <= 0.42, counts


def test_known_split_within_three_points():
    proc = subprocess.Popen([sys.executable, str(SPLIT), "2.5", "--report"], stdout=subprocess.PIPE,
                            text=True)
    # 1 kHz for 2.5 s: even a loaded machine that delivers half the rate
    # leaves enough samples for a 3-point tolerance (standard error of a
    # 70% share over 600 samples: 1.9 points).
    sampler = _core.Sampler(proc.pid, rate=1000, wait=10)
    sampler.start()
    out, _ = proc.communicate()
    sampler.stop()
    true_a, true_b = map(float, out.split()[1:3])
    cum = cumulative_shares(sampler.snapshot())
    assert sampler.stats["thread_samples"] > 600
    # By construction the split is 70/30 of the work; the wall-clock split
    # the program measured itself is the truth (contention may tilt it).
    assert abs(true_a - 0.70) < 0.05, out
    # unit() runs under both: a() and b() are told apart by inclusive
    # shares, of main()'s time (the split is main's; interpreter start-up
    # and imports are outside it).
    assert abs(cum["a"] / cum["main"] - true_a) < 0.03, (cum, out)
    assert abs(cum["b"] / cum["main"] - true_b) < 0.03, (cum, out)
    assert cum["main"] > 0.9, cum


def marker_lines(path, marker):
    return {number for number, text in enumerate(path.read_text().splitlines(), 1)
            if text.rstrip().endswith("# " + marker)}


def chains_verdict(collapsed):
    """(possible, impossible, {impossible stack: count}) for sample_chains.py:
    its only stacks are <module> -> main -> a -> b and <module> -> main -> c
    -> d and their prefixes, every caller on the line of its call, the leaf
    on any line of its own function."""
    lines = CHAINS.read_text().splitlines()
    starts = sorted((n, m.group(1)) for n, t in enumerate(lines, 1)
                    for m in [re.match(r"def (\w+)", t)] if m)
    spans = {name: (n, (starts[i + 1][0] - 1) if i + 1 < len(starts) else len(lines))
             for i, (n, name) in enumerate(starts)}
    module_line = marker_line(CHAINS, "MODULE_MAIN")
    spans["<module>"] = (module_line, module_line)
    calls = {("<module>", "main"): {module_line}, ("main", "a"): marker_lines(CHAINS, "MAIN_A"),
             ("main", "c"): marker_lines(CHAINS, "MAIN_C"), ("a", "b"): marker_lines(CHAINS, "A_CALL"),
             ("c", "d"): marker_lines(CHAINS, "C_CALL")}
    possible = impossible = 0
    bad = {}
    for row in collapsed.decode().splitlines():
        stack, count = row.rsplit(" ", 1)
        frames = []
        for text in stack.split(";")[1:]:  # the first is the thread
            m = re.match(r"(.*) \((.*):(\d+)\)$", text)
            frames.append((m.group(1), int(m.group(3))))
        ok = bool(frames) and frames[0][0] == "<module>"
        for i, (name, line) in enumerate(frames):
            if name not in spans:
                ok = False
            elif i + 1 < len(frames):
                ok = ok and line in calls.get((name, frames[i + 1][0]), ())
            else:
                ok = ok and spans[name][0] <= line <= spans[name][1]
        if ok:
            possible += int(count)
        else:
            impossible += int(count)
            bad[stack] = int(count)
    return possible, impossible, bad


# Impossible stacks that may still get through, as a share of the samples,
# on sample_chains.py (a million calls a second) sampled at 100 kHz. 3.12+
# mark the running frame, so a stale caller is seen (measured before the
# checks: 12.8% on 3.12; after: 0 to 0.004%). 3.10 and 3.11 have no such
# mark; since frames that change while read are cut instead of the sample
# being dropped (src/sampler/walk.h), runs on this machine measured 0-1.4%
# on 3.10. 3.11 showed 0.3-1.6% popped frames (left at RETURN_VALUE) above
# the real top until the sampler ended stacks below them: 0 in 7 runs.
# One full suite run saw 0.041% on 3.13 (58 of 140,021; 11 runs here, idle
# and loaded, 0-0.0045%): the bound is 0.1%, still 9x below what 3.13 and
# 100x below what 3.12 showed without the checks.
# 3.10 on an idle machine measured 0.7-5.5% (0.8-3.5% over 5 runs later,
# one 11%): an expected failure there.
IMPOSSIBLE_BOUND = {10: 0.03, 11: 0.001, 12: 0.001, 13: 0.001}


@pytest.mark.xfail(sys.version_info < (3, 11), strict=False,
                   reason="3.10 on an idle machine: 0.7-5.5% impossible stacks at 100 kHz between runs, "
                          "one of 11% (bound 3%; 0-1.4% under load): open in issue 3")
def test_no_impossible_stacks_at_the_highest_rate():
    sampler, _ = sample_running(CHAINS, rate=100000, seconds=3.0)
    possible, impossible, bad = chains_verdict(sampler.snapshot().collapsed(clock="samples"))
    stats = sampler.stats
    assert possible > (100 if sys.version_info < (3, 12) else 1000), stats
    # Every pass met the one thread: its stack was recorded or dropped, and
    # the dropped ones are counted by reason.
    assert stats["thread_samples"] == possible + impossible
    assert stats["passes"] == stats["thread_samples"] + stats["dropped"], stats
    assert stats["dropped"] == stats["dropped_moved"] + stats["dropped_invalid"], stats
    assert stats["dropped"] == int(sampler.snapshot().meta()["dropped"])
    share = impossible / (possible + impossible)
    bound = IMPOSSIBLE_BOUND[sys.version_info.minor]
    if bound is not None:
        assert share <= bound, (share, stats, sorted(bad.items(), key=lambda kv: -kv[1])[:5])


@pytest.mark.xfail(sys.version_info < (3, 11), strict=False,
                   reason="3.10 on a quiet machine: fib recorded 6.5-10 points under its true share "
                          "(measured with 2 idle cores; within 1-4 points under load): open in issue 3")
def test_fast_changing_stacks_keep_their_share():
    """A sampler that drops the reads it cannot trust loses fast-changing
    stacks more often than still ones: before frames that changed were cut
    instead, a fib() phase of 22% of the time was recorded as 3% on 3.10 and
    14% on 3.11. The target measures the true split itself."""
    sampler, printed = sample_running(FAST_STACKS, 3.0, rate=1000, seconds=2.5, read_after=1)
    truth = float(printed[0].split()[1])
    fib = other = 0
    for row in sampler.snapshot().collapsed(clock="samples").decode().splitlines():
        stack, count = row.rsplit(" ", 1)
        if ";fib (" in stack:
            fib += int(count)
        else:
            other += int(count)
    assert fib + other > 1000, sampler.stats
    # ~2000 samples: the standard error of a 20% share is under 1 point.
    tolerance = 0.08 if sys.version_info < (3, 11) else 0.05
    assert abs(fib / (fib + other) - truth) < tolerance, (fib / (fib + other), truth, sampler.stats)


def test_thread_names_in_dump_and_record(tmp_path):
    """Names as the program gave them (threading.Thread(name=...), and the
    main thread renamed), read from the target; Thread-<tid> for a thread
    threading never knew."""
    proc = subprocess.Popen([sys.executable, str(NAMED), "30"], stdout=subprocess.PIPE, text=True)
    try:
        raw_tid = int(proc.stdout.readline().split()[1])
        expected = {"conductor", "worker-alpha", "worker-beta", "Thread-%d" % raw_tid}
        threads = _core.Sampler(proc.pid).dump()
        assert {t["name"] for t in threads} == expected
        by_name = {t["name"]: t for t in threads}
        assert by_name["conductor"]["tid"] == proc.pid
        assert by_name["Thread-%d" % raw_tid]["tid"] == raw_tid
        for name in ("worker-alpha", "worker-beta"):
            assert "named" in [f["name"] for f in by_name[name]["frames"]]
        out = hotscope("dump", "--pid", str(proc.pid))
        assert out.returncode == 0, out.stderr
        for name in expected:
            assert re.search(r"^Thread %s \(pid %d, tid \d+" % (name, proc.pid), out.stdout, re.M), \
                out.stdout
        out = hotscope("record", "--pid", str(proc.pid), "--rate", "200", "--duration", "1",
                       "--idle", "-o", str(tmp_path / "named.txt"))
        assert out.returncode == 0, out.stderr
    finally:
        proc.kill()
        proc.wait()
    table = (tmp_path / "named.txt").read_text().split("\n\n", 1)[0]
    assert table.startswith("Threads (samples):")
    rows = {re.match(r"\s+(\S+) \(tid (\d+)\)", line).groups() for line in table.splitlines()[1:]}
    assert {name for name, _ in rows} == expected
    assert ("conductor", str(proc.pid)) in rows and ("Thread-%d" % raw_tid, str(raw_tid)) in rows


def test_python_init_under_a_specialized_call():
    """3.13 runs a class's Python __init__ under a shim frame whose static
    code object sits at its first instruction: the stack is kept (it was
    dropped as torn, every sample) and shows main -> Slow.__init__."""
    target = TARGETS / "sample_init_calls.py"
    sampler, _ = sample_running(target, 3, rate=500, seconds=1.0)
    stats = sampler.stats
    assert stats["dropped"] <= 0.02 * stats["passes"], stats
    # (3.10 names code objects without their class: __init__)
    init = re.compile(r"main \(%s:%d\);(Slow\.)?__init__ \(" % (re.escape(str(target)),
                                                               marker_line(target, "MAIN_CALL")))
    rows = sampler.snapshot().collapsed(clock="samples").decode().splitlines()
    in_init = sum(int(r.rsplit(" ", 1)[1]) for r in rows if init.search(r))
    assert in_init >= 0.8 * stats["thread_samples"], rows[:5]


def test_threads_met_while_starting_get_their_names():
    """Threads sampled in their first moments, before threading knows their
    name (and, 3.11+, before the interpreter has their kernel id), end up
    under their own names: no Thread-<tid> stand-ins, no thread with tid 0."""
    sampler, _ = sample_running(TARGETS / "sample_thread_churn.py", 2.0, rate=5000, seconds=1.5)
    counts = {}
    for row in sampler.snapshot().collapsed(clock="samples").decode().splitlines():
        stack, count = row.rsplit(" ", 1)
        thread = stack.split(";", 1)[0]
        counts[thread] = counts.get(thread, 0) + int(count)
    assert len(counts) > 10, counts
    assert not [n for n in counts if not re.match(r"thread \S+ \(tid [1-9]\d*\)$", n)], counts
    # A thread met only after threading dropped it (its last moments) keeps
    # a stand-in name. On 3.13 some churn threads were seen unnamed for
    # their whole life in one run of three (about 2% of samples; their
    # Thread objects' attributes did not read: not understood yet); the
    # build before this fix left most of them unnamed.
    stand_ins = {n: c for n, c in counts.items()
                 if not re.match(r"thread (MainThread|churn-\d+) ", n)}
    assert sum(stand_ins.values()) <= 0.05 * sum(counts.values()), stand_ins


def test_dump_shows_exact_stack_and_lines(blocked):
    proc = blocked()
    threads = _core.Sampler(proc.pid).dump(locals=True)
    main = [t for t in threads if t["tid"] == proc.pid]
    assert len(main) == 1
    frames = [(f["name"], f["line"]) for f in main[0]["frames"]]
    assert frames[:4] == [
        ("inner", marker_line(BLOCKED, "SLEEP_LINE")),
        ("middle", marker_line(BLOCKED, "MIDDLE_LINE")),
        ("outer", marker_line(BLOCKED, "OUTER_LINE")),
        ("<module>", frames[3][1]),
    ]
    assert all(f["file"] == str(BLOCKED) for f in main[0]["frames"][:4])
    inner_locals = dict(main[0]["frames"][0]["locals"])
    assert inner_locals["local_text"] == "'hello'"
    assert inner_locals["local_number"] == "12345"
    assert inner_locals["seconds"] == "30.0"
    assert main[0]["state"] in "SD"  # asleep in time.sleep
    spinner = [t for t in threads if t["tid"] != proc.pid]
    assert len(spinner) == 1
    assert spinner[0]["frames"][-1]["name"].endswith("_bootstrap")
    assert any(f["name"] == "spin" for f in spinner[0]["frames"])


def test_dump_command(blocked):
    proc = blocked()
    out = hotscope("dump", "--pid", str(proc.pid), "--locals")
    assert out.returncode == 0, out.stderr
    assert "inner (%s:%d)" % (BLOCKED, marker_line(BLOCKED, "SLEEP_LINE")) in out.stdout
    assert "local_text = 'hello'" in out.stdout
    assert re.search(r"Thread MainThread \(pid %d, tid %d" % (proc.pid, proc.pid), out.stdout)


def test_idle_threads_left_out_unless_asked(blocked):
    proc = blocked("30")
    results = {}
    for idle in (False, True):
        sampler = _core.Sampler(proc.pid, rate=200, idle=idle)
        sampler.start()
        time.sleep(1.0)
        sampler.stop()
        names = set(k[2] for k in sampler.snapshot().pstats(clock="samples"))
        results[idle] = names
    assert "spin" in results[False] and "inner" not in results[False]
    assert "spin" in results[True] and "inner" in results[True]


def test_gil_mode_keeps_only_the_holder(blocked):
    proc = blocked("30")
    sampler = _core.Sampler(proc.pid, rate=200, mode="gil")
    sampler.start()
    time.sleep(1.0)
    sampler.stop()
    names = set(k[2] for k in sampler.snapshot().pstats(clock="samples"))
    assert "spin" in names and "inner" not in names


def test_deep_stack_5000(blocked):
    proc = blocked("30", "5000")
    threads = _core.Sampler(proc.pid).dump()
    main = [t for t in threads if t["tid"] == proc.pid][0]
    deep = [f for f in main["frames"] if f["name"] == "deep"]
    assert len(deep) == 5001
    assert main["frames"][0]["line"] == marker_line(BLOCKED, "DEEP_LINE")
    sampler = _core.Sampler(proc.pid, rate=100, idle=True)
    sampler.start()
    time.sleep(0.5)
    sampler.stop()
    assert sampler.stats["thread_samples"] > 0
    assert sampler.stats["truncated"] == 0


def test_record_command_writes_collapsed(tmp_path):
    out_file = tmp_path / "split.collapsed"
    # 1 kHz for 2 s: ~2000 samples, so the 4-point tolerance is about four
    # standard errors of a 70% share (at 300 Hz for 1.5 s it was under two,
    # and failed about one run in fifteen).
    out = hotscope("record", "--rate", "1000", "-o", str(out_file), "--", sys.executable,
                   str(SPLIT), "2.0")
    assert out.returncode == 0, out.stderr
    lines = out_file.read_text().splitlines()
    counts = {}
    for line in lines:
        stack, n = line.rsplit(" ", 1)
        leaf_function = stack.split(";")[-2 if "unit (" in stack.split(";")[-1] else -1]
        counts[leaf_function.split(" (")[0]] = counts.get(leaf_function.split(" (")[0], 0) + int(n)
    share_a = counts.get("a", 0) / max(1, counts.get("a", 0) + counts.get("b", 0))
    assert abs(share_a - 0.70) < 0.04, counts


def test_record_passes_exit_status(tmp_path):
    prog = tmp_path / "exit3.py"
    prog.write_text("import sys, time\nt = time.time()\nwhile time.time() - t < 0.3: pass\nsys.exit(3)\n")
    out = hotscope("record", "--", sys.executable, str(prog))
    assert out.returncode == 3, out.stderr
    assert "hotscope record:" in out.stdout


def test_record_pid_until_exit(tmp_path):
    proc = subprocess.Popen([sys.executable, str(SPLIT), "1.0"])
    time.sleep(0.3)
    out = hotscope("record", "--pid", str(proc.pid), "-o", str(tmp_path / "p.txt"))
    proc.wait()
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "p.txt").read_text()
    assert "a (%s" % SPLIT in text


def test_record_subprocesses_sees_pool_workers():
    out = hotscope("record", "--subprocesses", "--rate", "200", "--", sys.executable, str(POOL), "30")
    assert out.returncode == 0, out.stderr
    assert "crunch (%s" % POOL in out.stdout
    assert re.search(r"of (\d+) processes", out.stdout), out.stdout


def test_record_subprocesses_under_a_shell(tmp_path):
    """--subprocesses under a command that is not Python (sh -c running two
    Python programs one after the other, after a pause): both are sampled,
    each thread labelled with its pid, and the shell's exit status stands."""
    py = shlex.quote(sys.executable)
    script = "sleep 0.3; %s %s 0.8; %s %s 0.8; exit 3" % (py, shlex.quote(str(SPLIT)), py,
                                                         shlex.quote(str(FAST_STACKS)))
    out_file = tmp_path / "tree.collapsed"
    out = hotscope("record", "--subprocesses", "--rate", "200", "-o", str(out_file), "--",
                   "sh", "-c", script)
    assert out.returncode == 3, out.stderr
    assert "of 2 processes" in out.stderr, out.stderr
    pids = {}
    for row in out_file.read_text().splitlines():
        thread = row.rsplit(" ", 1)[0].split(";", 1)[0]
        m = re.match(r"thread MainThread \(pid (\d+), tid \d+\)$", thread)
        assert m, row
        pids.setdefault(m.group(1), set()).add(row)
    assert len(pids) == 2, pids.keys()
    programs = [{"split" if "sample_split" in r else "fast" if "sample_fast" in r else "?"
                 for r in rows} - {"?"} for rows in pids.values()]
    assert sorted(map(sorted, programs)) == [["fast"], ["split"]], programs


def test_record_subprocesses_no_python_under_the_shell():
    out = hotscope("record", "--subprocesses", "--", "sh", "-c", "sleep 0.2; exit 4")
    assert out.returncode == 4, out.stderr
    assert out.stderr.startswith("hotscope: ") and "Traceback" not in out.stderr, out.stderr


def test_sample_api_on_own_process():
    import hotscope

    sys.path.insert(0, str(TARGETS))
    try:
        import sample_split
    finally:
        sys.path.pop(0)
    with hotscope.sample(rate=500) as s:
        sample_split.main(1.5)
    cum = cumulative_shares(s.data)
    assert abs(cum["a"] / (cum["a"] + cum["b"]) - 0.70) < 0.04, cum


@pytest.mark.parametrize("args, message", [
    (["record", "--pid", "999999999"], "no process with PID 999999999"),
    (["record"], "nothing to sample"),
    (["record", "--pid", "1", "--", "x"], "not both"),
    (["record", "--rate", "0", "--pid", "1"], "must be more than 0"),
    (["record", "--", "/nonexistent/cmd"], "command not found"),
    (["dump"], "--pid"),
    (["dump", "--pid", "abc"], "not a process id"),
])
def test_bad_input_one_line_exit_2(args, message):
    out = hotscope(*args)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert message in out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("hotscope:")


def test_not_python_process():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        out = hotscope("dump", "--pid", str(proc.pid))
        assert out.returncode == 2
        assert "does not look like Python" in out.stderr
    finally:
        proc.kill()
        proc.wait()


def test_permission_denied_explains_ptrace():
    if os.geteuid() == 0:
        pytest.skip("root may read every process")
    out = hotscope("dump", "--pid", "1")
    assert out.returncode == 2
    assert "ptrace" in out.stderr or "permission" in out.stderr


def test_top_on_a_pipe_prints_snapshots():
    out = hotscope("top", "--rate", "200", "--", sys.executable, str(SPLIT), "2.5")
    assert out.returncode == 0, out.stderr
    views = out.stdout.count("hotscope top - ")
    assert views >= 2, out.stdout
    last = out.stdout.rsplit("hotscope top - ", 1)[1]
    assert "a (%s" % SPLIT in last and "%Own" in last


def test_timeline_counts_every_recorded_sample():
    """The sampler's timeline (a "samples" series per thread, 50 ms
    buckets) adds up to the samples recorded for that thread, and its
    buckets follow the run: a 1.5 s run spans about 30 of them."""
    proc = subprocess.Popen([sys.executable, str(SPLIT), "1.5"])
    sampler = _core.Sampler(proc.pid, rate=500, wait=10)
    sampler.start()
    proc.wait()
    sampler.stop()
    data = sampler.snapshot()
    doc = json.loads(data.json())
    series = [s for s in doc["series"] if s["name"] == "samples"]
    assert series
    for s in series:
        counts = s["points"][1::2]
        times = s["points"][0::2]
        assert sum(counts) == data.total(clock="samples", thread=s["thread"])
        assert times == sorted(times) and all(t % 50_000_000 == 0 for t in times)
    longest = max(s["points"][-2] for s in series)
    assert 1.0e9 <= longest <= 2.5e9


SAMPLE_GC = TARGETS / "sample_gc.py"


def test_gc_samples_under_the_caller_with_the_measured_share():
    """Samples taken while a cyclic collection runs end in a [gc] frame
    under the function that called gc.collect(), and their share of main()'s
    samples is the share of main()'s time the program measured inside
    gc.collect()."""
    proc = subprocess.Popen([sys.executable, str(SAMPLE_GC), "2.5"], stdout=subprocess.PIPE, text=True)
    sampler = _core.Sampler(proc.pid, rate=1000, wait=10)
    sampler.start()
    out, _ = proc.communicate()
    sampler.stop()
    main_s, gc_s = (float(x) for x in out.split())
    data = sampler.snapshot()
    stats = data.pstats(clock="samples")
    cum = cumulative_shares(data)
    gc_key = ("~", 0, "[gc]")
    assert sampler.stats["gc_samples"] == round(stats[gc_key][2] * 1e9) > 0
    # main() turns automatic collection off: inside it, [gc] is only under
    # collect() (start-up imports may collect before that)
    callers = {k[2]: v for k, v in stats[gc_key][4].items()}
    assert not set(callers) & {"main", "spin", "churn"}, callers
    main_samples = stats[next(k for k in stats if k[2] == "main" and k[0].endswith("sample_gc.py"))][3]
    share = callers["collect"][3] / main_samples
    assert abs(share - gc_s / main_s) < 0.03, (share, gc_s / main_s)


GROWING = r"""
import os, time
page = os.sysconf("SC_PAGESIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
print(rss(), flush=True)
keep = []
for _ in range(60):
    keep.append(bytearray(2_000_000))  # written: resident
    time.sleep(0.01)
print(rss(), flush=True)
time.sleep(0.3)
"""


def test_record_follows_the_process_memory(tmp_path):
    """The RSS series against what the program reads of itself: from about
    its start figure to about its end figure (120 MB kept in between)."""
    script = tmp_path / "growing.py"
    script.write_text(GROWING)
    out = tmp_path / "r.json"
    proc = hotscope("record", "--rate", "200", "-o", str(out), "--", sys.executable, str(script))
    assert proc.returncode == 0, proc.stderr
    first, last = (int(x) for x in proc.stdout.split())
    doc = json.loads(out.read_text())
    series = [s for s in doc["series"] if s["name"] == "rss_bytes"]
    assert len(series) == 1 and series[0]["unit"] == "bytes" and series[0]["thread"] == -1, doc["series"]
    times, values = series[0]["points"][0::2], series[0]["points"][1::2]
    assert times == sorted(times) and len(values) >= 10, series
    # A point every 50 ms of a run of about a second; the last ones after
    # the program's own last reading (it sleeps 0.3 s with all kept).
    assert abs(max(values) - last) <= 0.05 * last, (max(values), last)
    # the sampler attaches once the interpreter runs: allocations may have begun
    assert min(values) <= first + (last - first) / 2, (min(values), first, last)


def read_collapsed(path):
    rows = []
    for row in path.read_text().splitlines():
        stack, count = row.rsplit(" ", 1)
        rows.append((stack.split(";"), int(count)))
    return rows


def test_record_idle_shows_where_waiting_tasks_wait(tmp_path):
    """--idle: each waiting task's await chain, read from its coroutines,
    under its root, with what it waits for: by construction napper waits
    in nap -> nap_once -> asyncio.sleep for the whole run, and the main
    task awaits spinner; each is sampled as often as the thread itself."""
    target = TARGETS / "async_waits.py"
    out = tmp_path / "waits.collapsed"
    proc = hotscope("record", "--idle", "--rate", "500", "-o", str(out), "--", sys.executable, str(target),
                    "1.5")
    assert proc.returncode == 0, proc.stderr
    assert "samples of waiting asyncio tasks" in proc.stderr
    rows = read_collapsed(out)
    waits = [(frames, n) for frames, n in rows if frames[-1].startswith("[await")]
    own = sum(n for frames, n in rows if not frames[-1].startswith("[await"))
    napper = [(frames, n) for frames, n in waits if frames[1] == "task napper (nap)"]
    napped = sum(n for _, n in napper)
    main_waits = {frames[-1]: n for frames, n in waits if frames[1] == "task Task-* (main)"}
    # napper's chain: its coroutines, outermost first, to asyncio.sleep's
    # await of its Future, on the line of that sleep frame
    frames, _ = max(napper, key=lambda row: row[1])
    names = [f.split(" (")[0] for f in frames[2:-1]]
    assert names == ["nap", "nap_once", "sleep"], frames
    assert frames[3].endswith("async_waits.py:%d)" % marker_line(target, "NAP_LINE")), frames
    sleep_line = int(frames[4].rsplit(":", 1)[1].rstrip(")"))
    assert frames[-1] == "[await Future] line %d" % sleep_line, frames
    # One sample of each waiting task per pass while the tasks live: as
    # many as spinner's, which runs (or is ready) all that time; the
    # thread's own samples also count its start-up.
    spinning = sum(n for frames, n in rows if frames[1:2] == ["task spinner (spinner)"] and
                   not frames[-1].startswith("[await"))
    assert 0.9 * spinning <= napped <= min(own, 1.1 * spinning), (napped, spinning, own)
    spinner_wait = "[await task spinner] line %d" % marker_line(target, "AWAIT_SPINNER_LINE")
    assert 0.9 * spinning <= main_waits.get(spinner_wait, 0) <= min(own, 1.1 * spinning), (main_waits, spinning)
    # without --idle no waiting is shown, tasks' or threads'
    plain = tmp_path / "plain.collapsed"
    proc = hotscope("record", "--rate", "500", "-o", str(plain), "--", sys.executable, str(target), "0.5")
    assert proc.returncode == 0, proc.stderr
    assert not [f for f, _ in read_collapsed(plain) if f[-1].startswith("[await")]


def test_record_idle_names_what_tasks_wait_for(tmp_path):
    """gather, a TaskGroup's exit and a task in a thread, each waited on
    for 0.4 s: the main task waits at each line, for what each is."""
    target = TARGETS / "async_waits.py"
    out = tmp_path / "kinds.collapsed"
    proc = hotscope("record", "--idle", "--rate", "200", "-o", str(out), "--", sys.executable, str(target),
                    "0.4", "kinds")
    assert proc.returncode == 0, proc.stderr
    waits = [(frames[1:], n) for frames, n in read_collapsed(out) if frames[-1].startswith("[await")]

    def samples(root, *path):
        return sum(n for frames, n in waits if frames[0] == root and
                   all(f is None or g.startswith(f) for f, g in zip(path, frames[1:])) and
                   len(frames) == len(path) + 1)

    main = "task Task-* (kinds)"
    here = "kinds (%s:" % target
    # 0.4 s at 200 Hz: 80 passes each; a third of that at least, on any load
    assert samples(main, here + "%d)" % marker_line(target, "GATHER_LINE"),
                   "[await gather] line %d" % marker_line(target, "GATHER_LINE")) >= 25, waits
    assert samples(main, here + "%d)" % marker_line(target, "THREAD_LINE"),
                   "[await task threaded] line %d" % marker_line(target, "THREAD_LINE")) >= 25, waits
    assert samples("task threaded (to_thread)", None, "[await Future]") >= 25, waits
    # gather's two children wait in asyncio.sleep: twice the samples of one
    assert samples("task Task-* (child)", "child", "sleep", "[await Future]") >= 50, waits
    if sys.version_info >= (3, 11):
        assert samples(main, here + "%d)" % marker_line(target, "GROUP_LINE"), "TaskGroup.__aexit__",
                       "[await Future]") >= 25, waits
        assert samples("task grouped (child)", "child", "sleep", "[await Future]") >= 25, waits


def test_record_idle_waits_on_uvloop(tmp_path):
    """The same on uvloop, whose loop has no _thread_id to read: the waits
    go to the process's only thread."""
    pytest.importorskip("uvloop")
    target = TARGETS / "async_waits.py"
    out = tmp_path / "uvloop.collapsed"
    proc = hotscope("record", "--idle", "--rate", "200", "-o", str(out), "--", sys.executable, str(target),
                    "0.4", "kinds", "uvloop")
    assert proc.returncode == 0, proc.stderr
    leaves = {}
    for frames, n in read_collapsed(out):
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
    assert leaves.get("[await gather] line %d" % marker_line(target, "GATHER_LINE"), 0) >= 25, leaves
    children = sum(n for frames, n in read_collapsed(out)
                   if frames[1:2] == ["task Task-* (child)"] and frames[-1].startswith("[await Future]"))
    assert children >= 50, leaves


@pytest.mark.parametrize("import_after", [0, 1.2])
def test_record_puts_asyncio_tasks_under_their_roots(tmp_path, import_after):
    """Each task's frames under "task NAME (COROUTINE)", as trace shows
    them: by construction alpha runs only crunch_a, beta crunch_b, and the
    default-named child of gather crunch_c. Also when the program imports
    asyncio only after a while: the sampler keeps looking for it."""
    target = TARGETS / "async_named_tasks.py"
    out = tmp_path / "tasks.collapsed"
    proc = hotscope("record", "--rate", "1000", "-o", str(out), "--", sys.executable, str(target), "1.5",
                    str(import_after))
    assert proc.returncode == 0, proc.stderr
    expected = {"crunch_a": "task alpha (work_a)", "crunch_b": "task beta (work_b)",
                "crunch_c": "task Task-* (work_c)"}
    under = {name: 0 for name in expected}
    total = dict(under)
    for row in out.read_text().splitlines():
        stack, count = row.rsplit(" ", 1)
        frames = stack.split(";")[1:]
        for name, root in expected.items():
            if any(f.startswith(name + " (") for f in frames):
                total[name] += int(count)
                roots = [f for f in frames if f.startswith("task ")]
                # never under another task's root; under its own as the
                # outermost frame of the thread
                assert roots in ([], [root]), stack
                if roots:
                    assert frames[0] == root, stack
                    under[name] += int(count)
    for name in expected:
        # samples before the sampler found asyncio keep the loop's frames
        # instead (it looks again once new code runs, so that is soon
        # after asyncio comes): 99.9% were under their roots with two
        # busy loops beside, 94.6% at worst with a whole test suite running
        # beside; 75-80% before the task cache held more than one task
        # per slot and the lookups went by time
        assert total[name] > 50 and under[name] >= 0.9 * total[name], (name, under, total)
