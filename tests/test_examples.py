"""The worked example of docs/tutorial.md (examples/logpipe).

fast.py must print slow.py's report byte for byte, and faster. And each of
the five bottlenecks planted in slow.py must be found by the hotscope
command the tutorial uses for it, with figures checked against what the
program does by construction: the input log is rebuilt here from the same
seed (logdata.write_log) and replayed to count what slow.py must have done.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

import hotscope

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "logpipe"
SLOW = EXAMPLE / "slow.py"
# Days small enough to be quick, the quadratic search still first. The trace
# runs on a longer day: four checkpoints within the loop, of which a loaded
# machine may delay one past the loop, never (in this session's runs) all.
RECORDS = 6000
TRACE_RECORDS = 10000
# The sampler's rate: at least a few hundred samples of the search, on a
# TRACE_RECORDS day, even when a loaded machine slows the sampler down.
RECORD_RATE = 1000


def load_example():
    """logdata and slow (its constants and parser; it does not run), imported
    from the example's folder, as slow.py imports logdata."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        spec = importlib.util.spec_from_file_location("logpipe_slow", SLOW)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.logdata, module
    finally:
        sys.path.remove(str(EXAMPLE))


logdata, slow = load_example()


def run(*args, timeout=120):
    proc = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc


def line_of(text):
    """The number of the line of slow.py that reads `text` (stripped)."""
    lines = [n for n, line in enumerate(SLOW.read_text().splitlines(), 1) if line.strip() == text]
    assert len(lines) == 1, text
    return lines[0]


def requests(tmp_path, records):
    """The requests slow.py reads with --records `records`, parsed by slow.py."""
    path = tmp_path / ("access-%d.log" % records)
    logdata.write_log(str(path), records)
    with open(path) as log:
        return [slow.parse_line(line) for line in log]


def stats_by_line(data, clock):
    """pstats figures (calls, self, total) of slow.py's functions, by first line."""
    out = {}
    for (file, line, _name), (_cc, calls, tt, ct, _callers) in data.pstats(clock=clock).items():
        if file.endswith("slow.py"):
            out[line] = (calls, tt, ct)
    return out


def test_fixed_version_prints_the_same_report_faster():
    records = TRACE_RECORDS  # the gain grows with the day: well above start-up and noise here
    times = {"slow.py": [], "fast.py": []}
    reports = {}
    # Interleaved twice, the best of each kept: one run of each was seen
    # upside down once on a machine busy with other jobs.
    for _ in range(2):
        for name in ("slow.py", "fast.py"):
            started = time.perf_counter()
            reports[name] = run(EXAMPLE / name, "--records", records).stdout
            times[name].append(time.perf_counter() - started)
    times = {name: min(t) for name, t in times.items()}
    assert reports["slow.py"] == reports["fast.py"]
    assert reports["slow.py"].startswith("logpipe: %d requests" % records)
    assert times["fast.py"] < 0.7 * times["slow.py"], times


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace") / "slow.json"
    run("-m", "hotscope", "trace", "-o", out, SLOW, "--records", TRACE_RECORDS)
    return hotscope.load(str(out))


def test_trace_puts_the_quadratic_search_first_by_own_cpu_time(trace):
    cpu = trace.pstats(clock="cpu")
    first = max(cpu, key=lambda key: cpu[key][2])
    assert first[0].endswith("slow.py") and first[2] == "find_open_session", first


def test_trace_counts_the_function_called_once_per_request(trace, tmp_path):
    calls, _, _ = stats_by_line(trace, "wall")[line_of("def bot_markers():")]
    assert calls == len(requests(tmp_path, TRACE_RECORDS)) == TRACE_RECORDS


def test_trace_shows_the_geo_lookups_waiting(trace, tmp_path):
    # One lookup per distinct address, each a round trip of GEO_LATENCY
    # spent asleep: wall time at least that, CPU time a small part of it.
    wall = trace.pstats(clock="wall")
    cpu = trace.pstats(clock="cpu")
    key = next(k for k in wall if k[0].endswith("logdata.py") and k[2] == "lookup")
    calls, wall_total, cpu_total = wall[key][1], wall[key][3], cpu[key][3]
    assert calls == len({request.address for request in requests(tmp_path, TRACE_RECORDS)})
    assert wall_total >= calls * logdata.GEO_LATENCY
    assert cpu_total < 0.25 * wall_total


def test_trace_shows_the_main_thread_waiting_for_the_checkpointers_lock(trace):
    # The checkpointer sleeps DISK_DELAY holding the lock at each checkpoint
    # but the last (asked for on the last request, after which the main
    # thread takes the lock no more): Totals.add waits about that long.
    # That the checkpointer gets to run at all while the main loop does is
    # why the example reads its log whole: a loop reading a file line by line
    # lets go of the GIL at each buffer refill and takes it back at once,
    # which restarts the waiting thread's switch-interval clock, so the
    # checkpointer often slept until the loop had ended (CPython's GIL
    # convoy; seen on 3.12 in CI, on 3.11 without a profiler).
    line = line_of("def add(self, request, robot):")
    held = (TRACE_RECORDS // slow.CHECKPOINT_EVERY - 1) * logdata.DISK_DELAY
    assert held > 0
    _, wall_self, _ = stats_by_line(trace, "wall")[line]
    _, cpu_self, _ = stats_by_line(trace, "cpu")[line]
    assert wall_self - cpu_self >= 0.5 * held, (wall_self, cpu_self, held)


def record(tmp_path, *options):
    """The sampled profile of slow.py on a TRACE_RECORDS day, as the
    tutorial's first step takes it: own wall time (seconds) by function,
    keyed (file name, name, first line)."""
    out = tmp_path / ("record%s.json" % "".join(options))
    run("-m", "hotscope", "record", "--rate", RECORD_RATE, *options, "-o", out, "--", sys.executable, SLOW,
        "--records", TRACE_RECORDS)
    own = {}
    for (file, line, name), (_cc, _calls, tt, _ct, _callers) in hotscope.load(str(out)).pstats(clock="wall").items():
        key = (os.path.basename(file), name, line)
        own[key] = own.get(key, 0.0) + tt
    return own


def own_of(own, file, definition):
    """The own time of the function of `file` (slow.py or logdata.py)
    whose first line reads `definition`."""
    lines = [n for n, line in enumerate((EXAMPLE / file).read_text().splitlines(), 1)
             if line.strip() == definition]
    assert len(lines) == 1, definition
    name = definition.split()[1].split("(")[0]
    return own.get((file, name, lines[0]), 0.0)


def test_record_puts_the_quadratic_search_first_among_the_running_threads(tmp_path):
    # Without --idle only threads on a CPU are kept: the search does the
    # most work of the example's functions, and what only waits (the geo
    # lookups, the checkpoint's slow disk) is left out.
    own = record(tmp_path)
    ours = {key: t for key, t in own.items() if key[0] in ("slow.py", "logdata.py")}
    first = max(ours, key=ours.get)
    assert first[:2] == ("slow.py", "find_open_session"), sorted(ours.items(), key=lambda kv: -kv[1])[:5]
    lookups = len({request.address for request in requests(tmp_path, TRACE_RECORDS)}) * logdata.GEO_LATENCY
    flushes = (TRACE_RECORDS // slow.CHECKPOINT_EVERY) * logdata.DISK_DELAY
    # Most of their time left out, not all: a thread woken from its sleep
    # is running (or ready to) until it sleeps again, and on a loaded
    # machine it may wait that long for a CPU (0.1 of the lookups' sleep
    # was seen on a 20000-request day, under 0.06 here on this day).
    assert own_of(own, "logdata.py", "def lookup(self, address):") < 0.5 * lookups, own
    assert own_of(own, "logdata.py", "def write_slowly(path, text):") < 0.5 * flushes, own


def test_record_idle_shows_the_waiting(tmp_path):
    # With --idle waiting threads are kept: the main thread asleep in each
    # geo lookup (one per distinct address, GEO_LATENCY each), the
    # checkpointer in each flush (one per CHECKPOINT_EVERY requests,
    # DISK_DELAY each), and the main thread blocked on the lock in
    # Totals.add while the checkpointer flushes holding it (see
    # test_trace_shows_the_main_thread_waiting_for_the_checkpointers_lock).
    own = record(tmp_path, "--idle")
    lookups = len({request.address for request in requests(tmp_path, TRACE_RECORDS)}) * logdata.GEO_LATENCY
    checkpoints = TRACE_RECORDS // slow.CHECKPOINT_EVERY
    held = (checkpoints - 1) * logdata.DISK_DELAY
    assert own_of(own, "logdata.py", "def lookup(self, address):") >= 0.6 * lookups, own
    assert own_of(own, "logdata.py", "def write_slowly(path, text):") >= 0.6 * checkpoints * logdata.DISK_DELAY, own
    assert own_of(own, "slow.py", "def add(self, request, robot):") >= 0.5 * held, own


def test_lines_shows_the_comparison_as_the_hottest_line(tmp_path):
    out = tmp_path / "lines.json"
    run("-m", "hotscope", "lines", "--func", "slow:find_open_session", "-o", out, SLOW, "--records", RECORDS)
    doc = json.loads(out.read_text())
    strings, frames, weights = doc["strings"], doc["frames"], doc["weights"]
    stride = 2 + len(weights)
    hits, wall = {}, {}
    nodes = doc["nodes"]
    for i in range(0, len(nodes), stride):
        name, file, _first, line, kind, _cat = frames[nodes[i + 1]]
        if kind == "python" and line and strings[name] == "find_open_session":
            hits[line] = hits.get(line, 0) + nodes[i + 2 + weights.index("calls")]
            wall[line] = wall.get(line, 0) + nodes[i + 2 + weights.index("wall_ns")]
    # Replay the sessions: a search scans the sessions up to the user's open
    # one, or all of them when there is none.
    sessions, latest, scanned = [], {}, 0
    for request in requests(tmp_path, RECORDS):
        index = latest.get(request.user)
        if index is not None and request.time - sessions[index] <= slow.SESSION_GAP:
            scanned += index + 1
        else:
            scanned += len(sessions)
            latest[request.user] = index = len(sessions)
            sessions.append(None)
        sessions[index] = request.time
    comparison = line_of("if session.user == user and now - session.last_seen <= SESSION_GAP:")
    loop = line_of("for session in sessions:")
    assert hits[comparison] == scanned
    assert max(wall, key=wall.get) == comparison, wall
    assert wall[comparison] + wall[loop] >= 0.9 * sum(wall.values()), wall


def test_mem_puts_the_window_copy_first_by_bytes_allocated(tmp_path):
    out = tmp_path / "mem.json"
    run("-m", "hotscope", "mem", "-o", out, SLOW, "--records", RECORDS)
    (file, line, _function), size, count = hotscope.load(str(out)).mem_rows(what="allocated", by="line", limit=1)[0]
    assert os.path.samefile(file, SLOW) and line == line_of("window = self.latencies[-WINDOW:]")
    # Each request copies the last min(i, WINDOW) references (8 bytes each)
    # into a new list: those bytes, plus at most a list object per copy.
    references = sum(min(i, slow.WINDOW) for i in range(1, RECORDS + 1))
    assert 8 * references <= size <= 8 * references + 100 * RECORDS
    assert RECORDS <= count <= 2 * RECORDS
