"""hotscope record --native and dump --native: C frames of another process
with its Python frames, against ground truth: a program whose C function
(a shared library compiled here, tests/targets/native_busy.c) runs for a
share of the time the program measures itself; a program whose only Python
stacks are known by construction; a thread asleep in time.sleep; and the
target never left stopped, nor any of its signals lost, whatever happens to
the sampler (stop, Ctrl-C, threads coming and going)."""

import ctypes
import glob
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from hotscope import _core

import test_sample
from recordkit import ended, recorder
from test_sample import CHAINS, chains_verdict, hotscope, marker_line

TARGETS = test_sample.TARGETS
BUSY = TARGETS / "native_busy.py"
BLOCKED = TARGETS / "sample_blocked.py"
CHURN = TARGETS / "sample_thread_churn.py"

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() != "x86_64",
    reason="--native reads registers with ptrace on x86-64 Linux only")

PYTHON_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")
LIBC_WAITS = ("clock_nanosleep", "nanosleep", "select", "pselect", "poll", "ppoll", "epoll_wait")


@pytest.fixture(scope="module")
def busy_lib(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lib = tmp_path_factory.mktemp("native") / "libhsbusy.so"
    subprocess.run([cc, "-O1", "-fno-optimize-sibling-calls", "-shared", "-fPIC",
                    str(TARGETS / "native_busy.c"), "-o", str(lib)], check=True)
    return str(lib)


def start(*argv):
    """A target that prints "ready" when in place."""
    proc = subprocess.Popen([sys.executable, *map(str, argv)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def native_sampler(pid, **kwargs):
    try:
        return _core.Sampler(pid, native=True, **kwargs)
    except PermissionError as e:
        pytest.skip("this machine does not let us trace the target: %s" % e)


def parse(collapsed):
    """[(frames, count)], frames as (name, file, line); native frames
    "name (library)" have line None, synthetic ones ([gc]) no file either."""
    rows = []
    for row in collapsed.splitlines():
        stack, count = row.rsplit(" ", 1)
        frames = []
        for text in stack.split(";")[1:]:  # the first is the thread
            m = PYTHON_FRAME.match(text)
            if m:
                frames.append((m.group(1), m.group(2), int(m.group(3))))
            elif text.endswith(")") and " (" in text:
                name, _, lib = text.rpartition(" (")
                frames.append((name, lib[:-1], None))
            else:
                frames.append((text, "", None))
        rows.append((frames, int(count)))
    return rows


def interpreter_between_python(frames):
    """Native frames of the interpreter itself between two Python frames."""
    python = [i for i, f in enumerate(frames) if f[2] is not None]
    if not python:
        return []
    return [f for f in frames[python[0]:python[-1]]
            if f[2] is None and ("libpython" in f[1] or re.match(r"python3(\.\d+)?$", f[1]))]


def process_states(pid):
    """(state letter, tracer pid) of each thread of a process."""
    states = []
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            fields = dict(line.split(":\t", 1) for line in open(path).read().splitlines()
                          if ":\t" in line)
        except OSError:
            continue  # the thread has just exited
        states.append((fields["State"][0], int(fields["TracerPid"])))
    return states


def assert_running_untraced(pid):
    states = process_states(pid)
    assert states, "process %d is gone" % pid
    for state, tracer in states:
        assert state not in "tT" and tracer == 0, states


def test_c_frames_under_their_python_caller_for_the_time_in_c(busy_lib):
    proc = start(BUSY, busy_lib, 2.0)
    sampler = native_sampler(proc.pid, rate=200, idle=True)
    sampler.start()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    in_c = float(proc.stdout.readline().split()[1])
    sampler.stop()
    proc.wait(timeout=30)
    rows = parse(sampler.snapshot().collapsed(clock="samples").decode())
    total = sum(n for _, n in rows)
    caller_line = marker_line(BUSY, "C_CALL")
    stack, _ = max(rows, key=lambda r: r[1])
    names = [f[0] for f in stack]
    # the dominant stack: python_caller at its call, then the library's two
    # functions in order, the leaf last
    assert names[-1] == "hs_test_busy_leaf" and stack[-1][1] == "libhsbusy.so", stack
    i = names.index("python_caller")
    assert stack[i][2] == caller_line, stack
    assert names.index("hs_test_busy_outer") == len(names) - 2 > i, stack
    assert names[:i].count("main") == 1 and "<module>" in names[:i], stack
    # the time in C the program measured itself is the share of samples in C
    in_leaf = sum(n for frames, n in rows if frames and frames[-1][0] == "hs_test_busy_leaf")
    assert total > 200, sampler.stats
    assert abs(in_leaf / total - in_c) < 0.07, (in_leaf, total, in_c)
    # no interpreter frame between two Python frames, in any sample
    assert not [f for frames, _ in rows for f in interpreter_between_python(frames)]
    # samples with no C frame below their Python frames are the ones counted
    # as without C frames (not stopped in time) or not unwound to their end
    # (a thread caught in hand-written assembly: libffi's, the loader's)
    stats = sampler.stats
    without = [(frames, n) for frames, n in rows if not frames or frames[0][2] is not None]
    assert sum(n for _, n in without) <= stats["native_unavailable"] + stats["native_incomplete"], (
        without, stats)


def test_record_native_command_and_its_status(busy_lib, tmp_path):
    out = tmp_path / "busy.collapsed"
    plain = tmp_path / "plain.collapsed"
    run = hotscope("record", "--native", "--idle", "--rate", "200", "-o", str(out), "--",
                   sys.executable, str(BUSY), busy_lib, "1.0", "nowait")
    if "already traced" in run.stderr or "permission denied" in run.stderr:
        pytest.skip(run.stderr.strip())
    assert run.returncode == 3, run.stderr  # the program's own status
    assert "in_c" in run.stdout
    caller_line = marker_line(BUSY, "C_CALL")
    text = out.read_text()
    expected = re.compile(r"python_caller \(%s:%d\);.*;hs_test_busy_outer \(libhsbusy\.so\);"
                          r"hs_test_busy_leaf \(libhsbusy\.so\) \d+$" % (re.escape(str(BUSY)), caller_line))
    rows = parse(text)
    busy = sum(n for line, (_, n) in zip(text.splitlines(), rows) if expected.search(line))
    assert busy > sum(n for _, n in rows) / 3, text
    # without --native the same samples end at python_caller
    run = hotscope("record", "--idle", "--rate", "200", "-o", str(plain), "--",
                   sys.executable, str(BUSY), busy_lib, "1.0", "nowait")
    assert run.returncode == 3, run.stderr
    rows = parse(plain.read_text())
    stack, _ = max(rows, key=lambda r: r[1])
    assert stack[-1][:1] == ("python_caller",) and stack[-1][2] == caller_line, stack
    natives = [f for frames, _ in rows for f in frames if f[2] is None and f[1]]  # [gc] has no file
    assert not natives, "native frames without --native"


def static_interpreters():
    """Interpreters of this machine (3.10-3.13) that link libpython into the
    executable (Debian's /usr/bin/python3.x), where the eval loop and the
    interpreter's frames are the executable's own."""
    found = []
    for minor in (10, 11, 12, 13):
        path = "/usr/bin/python3.%d" % minor
        if os.path.exists(path) and os.path.realpath(path) != os.path.realpath(sys.executable):
            ldd = subprocess.run(["ldd", path], capture_output=True, text=True)
            if ldd.returncode == 0 and "libpython" not in ldd.stdout:
                found.append(path)
    return found


@pytest.mark.parametrize("python", static_interpreters() or [None])
def test_interpreter_linked_into_the_executable(busy_lib, python):
    if python is None:
        pytest.skip("no Python with libpython linked into its executable here")
    proc = subprocess.Popen([python, str(BUSY), busy_lib, "1.0"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        sampler = native_sampler(proc.pid, rate=200, idle=True)
        sampler.start()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.stdout.readline()
        sampler.stop()
    finally:
        proc.kill()
        proc.wait()
    rows = parse(sampler.snapshot().collapsed(clock="samples").decode())
    stack, _ = max(rows, key=lambda r: r[1])
    names = [f[0] for f in stack]
    assert names[-2:] == ["hs_test_busy_outer", "hs_test_busy_leaf"], stack
    assert "python_caller" in names and names[0] == "_start", stack
    exe = os.path.basename(python)
    assert not [f for frames, _ in rows for f in interpreter_between_python(frames)
                if f[1] == exe or "libpython" in f[1]]


def test_python_stacks_are_the_same_with_native_frames():
    """sample_chains.py's only Python stacks are known by construction; with
    --native each sample's Python frames are one of them (the thread is
    stopped while read: none is torn, on any version), in order, with no
    interpreter frame between them, and native frames below the outermost."""
    proc = start(CHAINS, 30)
    try:
        sampler = native_sampler(proc.pid, rate=500, idle=True)
        sampler.start()
        time.sleep(1.5)
        sampler.stop()
    finally:
        proc.kill()
        proc.wait()
    text = sampler.snapshot().collapsed(clock="samples").decode()
    rows = parse(text)
    python_only = []
    below = 0
    for (frames, count), line in zip(rows, text.splitlines()):
        assert not interpreter_between_python(frames), line
        thread = line.split(";", 1)[0]
        python = ["%s (%s:%d)" % f for f in frames if f[2] is not None]
        python_only.append("%s;%s %d" % (thread, ";".join(python), count))
        below += count * (bool(frames) and frames[0][2] is None)
    possible, impossible, bad = chains_verdict("\n".join(python_only).encode())
    assert possible > 300, sampler.stats
    assert impossible == 0, bad
    assert below == possible + impossible  # main() and the C start of the program
    stats = sampler.stats
    assert stats["native_mismatched"] <= stats["thread_samples"] * 0.05, stats


def test_dump_native_shows_the_libc_call_a_thread_sleeps_in():
    proc = start(BLOCKED, 60)
    try:
        time.sleep(0.3)
        run = hotscope("dump", "--native", "--pid", str(proc.pid))
        if "already traced" in run.stderr or "permission denied" in run.stderr:
            pytest.skip(run.stderr.strip())
        assert run.returncode == 0, run.stderr
        main = run.stdout.split("\n\n")[[i for i, block in enumerate(run.stdout.split("\n\n"))
                                          if "MainThread" in block][0]]
        lines = [l.strip() for l in main.splitlines()[1:]]
        sleep_line = marker_line(BLOCKED, "SLEEP_LINE")
        inner = lines.index("inner (%s:%d)" % (BLOCKED, sleep_line))
        waits = [i for i, l in enumerate(lines) if l.split(" (")[0] in LIBC_WAITS]
        assert waits and waits[0] < inner, lines  # innermost first: libc above inner()
        assert re.search(r"\(libc[.\-]", lines[waits[0]]), lines
        assert [l.split(" (")[0] for l in lines[inner:inner + 3]] == ["inner", "middle", "outer"], lines
        # dump let it go: still sleeping where it was, untraced
        assert_running_untraced(proc.pid)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_never_left_stopped_with_threads_coming_and_going(tmp_path):
    """Threads start and exit all the time while sampled at 1 kHz; after
    --duration ends, and after Ctrl-C, every thread of the target runs
    untraced, and the program ends when it meant to."""
    proc = start(CHURN, 6)
    started = time.monotonic()
    try:
        run = hotscope("record", "--native", "--rate", "1000", "--duration", "1", "--pid",
                       str(proc.pid), "-o", str(tmp_path / "a.collapsed"))
        if "already traced" in run.stderr or "permission denied" in run.stderr:
            pytest.skip(run.stderr.strip())
        assert run.returncode == 0, run.stderr
        assert_running_untraced(proc.pid)
        # Ctrl-C in the middle of sampling
        rec = recorder("--native", "--rate", "1000", "--pid", str(proc.pid), "-o", str(tmp_path / "b.collapsed"))
        time.sleep(1.0)
        rec.send_signal(signal.SIGINT)
        _, err = ended(rec, timeout=60)
        assert rec.returncode == 130, err
        assert "stopped by Ctrl-C" in err
        assert_running_untraced(proc.pid)
        assert (tmp_path / "b.collapsed").read_text().strip()
        # and the program finishes on its own, on time
        proc.wait(timeout=60)
        assert proc.returncode == 0
        assert time.monotonic() - started < 6 + 30
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


SIGNALS = """
import signal, socket, sys, time
r, w = socket.socketpair()
r.setblocking(False)
w.setblocking(False)
signal.set_wakeup_fd(w.fileno(), warn_on_full_buffer=False)
signal.signal(signal.SIGRTMIN, lambda *a: None)
got = 0
def drain():
    # often: each byte takes a buffer of its own in the socket
    global got
    while True:
        try:
            got += len(r.recv(65536))
        except BlockingIOError:
            return
print("ready", flush=True)
for line in iter(sys.stdin.readline, ""):
    if line.strip() == "count":
        time.sleep(0.2)
        break
    s = 0
    for i in range(20000):
        s += i
    drain()
drain()
print(got, flush=True)
"""


def test_no_signal_lost_while_threads_are_stopped(tmp_path):
    """A thread that stops on its way to take a signal gets it back when let
    go: every real-time signal sent while the target is sampled at 2 kHz
    reaches its handler (the C handler writes one byte per signal to the
    wakeup fd; real-time signals are queued, not merged)."""
    script = tmp_path / "signals.py"
    script.write_text(SIGNALS)
    proc = start(script)
    try:
        sampler = native_sampler(proc.pid, rate=2000)
        sampler.start()
        sent = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            os.kill(proc.pid, signal.SIGRTMIN)
            sent += 1
            proc.stdin.write("spin\n")
            proc.stdin.flush()
            time.sleep(0.002)
        sampler.stop()
        proc.stdin.write("count\n")
        proc.stdin.flush()
        got = int(proc.stdout.readline())
        assert sampler.stats["native_stops"] > 100, sampler.stats
        assert got == sent
    finally:
        proc.kill()
        proc.wait()


TRACER = """
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE = 0x4206
if libc.ptrace(PTRACE_SEIZE, int(sys.argv[1]), None, None) != 0:
    print("failed %d" % ctypes.get_errno(), flush=True)
    sys.exit(1)
print("tracing", flush=True)
time.sleep(60)
"""


def test_a_target_traced_by_someone_else_is_explained_in_one_line(tmp_path):
    target = start(BLOCKED, 60)
    tracer = subprocess.Popen([sys.executable, "-c", TRACER, str(target.pid)], stdout=subprocess.PIPE,
                              text=True)
    try:
        if tracer.stdout.readline().strip() != "tracing":
            pytest.skip("cannot trace here")
        run = hotscope("record", "--native", "--duration", "0.5", "--pid", str(target.pid))
        assert run.returncode == 2, run  # as for any process that cannot be sampled
        assert run.stderr.count("\n") == 1, run.stderr
        assert "already traced by process %d" % tracer.pid in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    finally:
        for p in (tracer, target):
            p.kill()
            p.wait()


def test_native_is_refused_for_this_very_process():
    with pytest.raises(ValueError, match="this very process"):
        _core.Sampler(os.getpid(), native=True)
