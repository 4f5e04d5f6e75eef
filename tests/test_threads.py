"""Threads seen truly: waiting (wall minus CPU) per function in traces,
--threads merged and separate, and the sampler's per-thread GIL states.

Ground truth: each traced thread measures its own wall and CPU time
(perf_counter, thread_time) around its work, in the same run; a merged
profile must hold exactly the sum of the per-thread ones; the GIL program
(tests/targets/sample_gil.py) has threads whose relation to the GIL is
known by construction: two pure-Python spinners that take turns holding it,
a hasher that runs without it (hashlib releases the GIL), a sleeper."""

import json
import pathlib
import re
import subprocess
import sys
import textwrap
import threading
import time

import hotscope
from hotscope import _core

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"
GIL_TARGET = TARGETS / "sample_gil.py"

measured = {}


def sleeper_body():
    w0, c0 = time.perf_counter(), time.thread_time()
    time.sleep(0.12)
    measured["sleeper_body"] = (time.perf_counter() - w0) - (time.thread_time() - c0)


def spinner_body():
    w0, c0 = time.perf_counter(), time.thread_time()
    end = w0 + 0.12
    x = 0
    while time.perf_counter() < end:
        for i in range(200):
            x += i
    measured["spinner_body"] = (time.perf_counter() - w0) - (time.thread_time() - c0)


def traced_pair():
    measured.clear()
    with hotscope.trace() as t:
        a = threading.Thread(target=sleeper_body, name="sleeper")
        b = threading.Thread(target=spinner_body, name="spinner")
        a.start()
        b.start()
        a.join()
        b.join()
    return t.snapshot()


def test_waiting_is_wall_minus_cpu_per_function():
    data = traced_pair()
    wall, cpu = data.pstats(clock="wall"), data.pstats(clock="cpu")
    for key in wall:
        if key[2] in measured:
            waiting = wall[key][3] - cpu[key][3]
            truth = measured[key[2]]
            assert abs(waiting - truth) <= 0.002 + 0.02 * truth, (key[2], waiting, truth)
    # the sleeper waits nearly all its time, and more than the spinner's share
    assert measured["sleeper_body"] > 0.1
    # the table's cumwait column is cumtime minus cumcpu
    table = data.table(clock="wall")
    header = next(line for line in table.splitlines() if "cumwait" in line).split()
    assert header[5:7] == ["cumcpu", "cumwait"]
    for line in table.splitlines():
        if line.rstrip().endswith("(sleeper_body)"):
            cols = line.split()
            assert abs(float(cols[3]) - float(cols[5]) - float(cols[6])) <= 0.0015
            break
    else:
        raise AssertionError("no sleeper_body row:\n" + table)


def test_merged_is_the_sum_of_the_threads():
    data = traced_pair()
    merged = data.merge_threads()
    (only,) = merged.threads()
    assert only["name"] == "all threads"
    assert only["cpu_ns"] == sum(t["cpu_ns"] for t in data.threads())
    assert only["wall_ns"] == max(t["wall_ns"] for t in data.threads())
    total = merged.pstats(clock="wall")
    per_thread = [data.pstats(clock="wall", thread=t["index"]) for t in data.threads()]
    for key, value in total.items():
        parts = [p[key] for p in per_thread if key in p]
        assert value[1] == sum(p[1] for p in parts), key
        assert abs(value[2] - sum(p[2] for p in parts)) < 1e-9 * (1 + len(parts)), key
    assert set(total) == set().union(*per_thread)
    assert merged.meta()["threads"] == "merged" and merged.meta()["threads_merged"] == str(len(data.threads()))
    lines = merged.collapsed().decode().splitlines()
    assert all(line.startswith("thread all threads") for line in lines if not line.startswith("#"))


THREADS_SCRIPT = textwrap.dedent("""
    import threading, time

    def work(n):
        time.sleep(0.002)

    def run(k):
        for i in range(k):
            work(i)

    threads = [threading.Thread(target=run, args=(k,), name="w%d" % k) for k in (2, 3, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
""")


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_command_line_threads_merged_and_separate(tmp_path):
    (tmp_path / "t.py").write_text(THREADS_SCRIPT)
    run = cli("trace", "--threads", "merged", "-o", "m.json", "t.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = hotscope.load(str(tmp_path / "m.json"))
    assert [t["name"] for t in data.threads()] == ["all threads"]
    stats = data.pstats()
    assert next(v for k, v in stats.items() if k[2] == "work")[1] == 10
    assert next(v for k, v in stats.items() if k[2] == "run")[1] == 3
    separate = cli("trace", "--threads", "separate", "--limit", "0", "t.py", cwd=tmp_path)
    assert separate.returncode == 0, separate.stderr
    sections = re.split(r"^Thread (\S+) \(wall ", separate.stdout, flags=re.M)
    tables = dict(zip(sections[1::2], sections[2::2]))
    assert {"MainThread", "w2", "w3", "w5"} <= set(tables)
    for name, k in (("w2", 2), ("w3", 3), ("w5", 5)):
        row = next(line for line in tables[name].splitlines() if line.endswith("(work)"))
        assert row.split()[0] == str(k)
    assert "(work)" not in tables["MainThread"]
    bad = cli("trace", "--threads", "sideways", "t.py", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("hotscope: ")


def gil_shares(data, output):
    """{role: {state: share of its passes}}, the threads of sample_gil.py
    found by the native ids it printed (`output`)."""
    role_of = {tid: role for role, tid in json.loads(output.strip().splitlines()[-1]).items()}
    shares = {}
    for t in data.threads():
        states = t.get("gil_states")
        if states and t["os_tid"] in role_of:
            seen = sum(states.values())
            shares[role_of[t["os_tid"]]] = {k: v / seen for k, v in states.items()}
    return shares


def check_gil_states(shares, passes, data):
    a, b = shares["spin-a"], shares["spin-b"]
    # the two spinners take turns: together they hold the GIL most of the
    # time, about equally, and are never off the CPU for anything but it
    assert a["held"] + b["held"] >= 0.8, shares
    assert abs(a["held"] - b["held"]) <= 0.15, shares
    assert a["other_wait"] < 0.05 and b["other_wait"] < 0.05, shares
    # and what they wait for off the CPU is the GIL, never a lock
    assert a["gil_wait"] + b["gil_wait"] >= 0.1 and a["lock_wait"] + b["lock_wait"] < 0.02, shares
    # hashlib releases the GIL: the hasher mostly runs without it
    assert shares["hasher"]["held"] < 0.05 and shares["hasher"]["running"] >= 0.5, shares
    # the sleeper sleeps, but for taking the GIL to start and to end
    assert shares["sleeper"]["other_wait"] >= 0.8 and shares["sleeper"]["held"] < 0.05, shares
    # the thread blocked on a lock waits in a futex that is not the GIL's
    locked = shares["locked"]
    assert locked["lock_wait"] >= 0.8 and locked["gil_wait"] < 0.05, shares
    # one holder at most per pass
    held = sum(t["gil_states"]["held"] for t in data.threads() if t.get("gil_states"))
    assert held <= passes


def test_gil_states_per_thread_cpu_mode():
    proc = subprocess.Popen([sys.executable, str(GIL_TARGET), "2"], stdout=subprocess.PIPE, text=True)
    sampler = _core.Sampler(proc.pid, rate=500, mode="cpu", wait=10)
    sampler.start()
    output, _ = proc.communicate()
    sampler.stop()
    data = sampler.snapshot()
    check_gil_states(gil_shares(data, output), sampler.stats["passes"], data)


def test_gil_states_in_record_output_and_files(tmp_path):
    run = cli("record", "--mode", "gil", "--rate", "300", "-o", "g.json", "--", sys.executable, str(GIL_TARGET),
              "1.5", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = hotscope.load(str(tmp_path / "g.json"))
    shares = gil_shares(data, run.stdout)
    assert {"spin-a", "spin-b", "hasher", "sleeper", "locked"} <= set(shares)
    doc = json.loads((tmp_path / "g.json").read_text())
    assert any(len(t.get("gil_states", [])) == 5 for t in doc["threads"])
    text = cli("view", "g.json", "-o", "g.txt", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    report = (tmp_path / "g.txt").read_text()
    assert "GIL (share of each thread's samples):" in report
    sleeper = next(t for t in data.threads() if t.get("gil_states") and shares["sleeper"] ==
                   {k: v / sum(t["gil_states"].values()) for k, v in t["gil_states"].items()})
    gil_section = report[report.index("GIL (share"):]
    row = next(line for line in gil_section.splitlines() if line.strip().startswith(sleeper["name"][:32]))
    assert row.split()[-1] == "%.1f%%" % (100 * shares["sleeper"]["other_wait"])
    # a file of an earlier version (four states: lock waits counted with
    # the GIL's) reads with no lock waits
    for t in doc["threads"]:
        if len(t.get("gil_states", [])) == 5:
            held, running, gil, other, lock = t["gil_states"]
            t["gil_states"] = [held, running, gil + lock, other]
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = {t["name"]: t.get("gil_states") for t in hotscope.load(str(tmp_path / "old.json")).threads()}
    for t in data.threads():
        if t.get("gil_states"):
            s = t["gil_states"]
            assert old[t["name"]] == dict(s, gil_wait=s["gil_wait"] + s["lock_wait"], lock_wait=0)
    merged = hotscope.load(str(tmp_path / "g.json")).merge_threads()
    (only,) = merged.threads()
    assert sum(only["gil_states"].values()) == sum(sum(t["gil_states"].values())
                                                   for t in data.threads() if t.get("gil_states"))
