"""hotscope mem --native: malloc, calloc, realloc and free called from C,
here libc's own called through ctypes at known lines with sizes known by
construction (ctypes.CDLL releases the GIL around the call, ctypes.PyDLL
keeps it, so both paths are seen), attributed to the Python line that
called into C with the native frames below it; frees and leaks; no double
counting with the Python allocators (numpy, when installed); the program's
output, environment and exit status unchanged; fork, os._exit, threads."""

import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

import hotscope
from hotscope import _core

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--native is Linux-only"),
    # Under AddressSanitizer (make test-asan preloads libasan, which must
    # come first) the program's malloc calls reach ASan's interceptor, never
    # hotscope's: --native cannot see them by construction.
    pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                       reason="malloc belongs to AddressSanitizer in this run"),
]

# ctypes itself allocates at a calling line (argument and result objects,
# through the Python allocators); far below the sizes used here.
SLACK = 4096

LIBC = """\
import ctypes
nogil = ctypes.CDLL(None)   # foreign calls release the GIL
gil = ctypes.PyDLL(None)    # these keep it
for lib in (nogil, gil):
    for name in ("malloc", "calloc", "realloc"):
        getattr(lib, name).restype = ctypes.c_void_p
    lib.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.free.argtypes = [ctypes.c_void_p]
"""


def run_hotscope(*args, cwd=None, env=None, input=None):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, input=input, timeout=120)


def write(tmp_path, name, body, libc=True):
    path = tmp_path / name
    path.write_text((LIBC if libc else "") + textwrap.dedent(body))
    return path


def line_of(path, marker):
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.rstrip().endswith("# " + marker):
            return number
    raise AssertionError("no line marked %s" % marker)


def stacks(path):
    """hotscope's JSON parsed independently: [(stack, self weights)], each
    stack a tuple of (kind, name, file, line) from the thread down."""
    doc = json.loads(path.read_text())
    strings, frames, weights = doc["strings"], doc["frames"], doc["weights"]
    width = 2 + len(weights)
    flat = doc["nodes"]
    by_node = {0: ()}
    rows = []
    for i in range(len(flat) // width):
        parent, frame = flat[i * width], flat[i * width + 1]
        name, file, _first, line, kind, _cat = frames[frame]
        by_node[i + 1] = by_node[parent] + ((kind, strings[name], strings[file], line),)
        rows.append((by_node[i + 1], dict(zip(weights, flat[i * width + 2:(i + 1) * width]))))
    return doc, rows


def python_leaf(stack):
    """The innermost Python frame of a stack and the native frames under it."""
    for k in range(len(stack) - 1, -1, -1):
        if stack[k][0] == "python":
            return stack[k], stack[k + 1:]
    return None, stack


def at_line(rows, script, line):
    """[(native frames under the line, weights)] of the stacks whose
    innermost Python frame is `script`:`line`."""
    out = []
    for stack, w in rows:
        leaf, native = python_leaf(stack)
        if leaf and os.path.basename(leaf[2]) == script and leaf[3] == line:
            out.append((native, w))
    return out


def native_bytes(rows, script, line, weight="bytes"):
    return sum(w.get(weight, 0) for native, w in at_line(rows, script, line) if native)


def one_block(rows, script, line, size):
    """The stack that allocated exactly one block of `size` bytes at the
    line, with native frames (the malloc call itself); its weights."""
    found = [(native, w) for native, w in at_line(rows, script, line)
             if native and w.get("bytes") == size and w.get("allocs") == 1]
    assert len(found) == 1, (line, size, at_line(rows, script, line))
    return found[0]


KNOWN = """\
def work():
    kept = gil.malloc(3_000_001)  # kept-gil
    gone = gil.malloc(1_000_003)  # freed-gil
    gil.free(gone)
    kept2 = nogil.calloc(1000, 2_001)  # kept-nogil
    gone2 = nogil.malloc(700_001)  # freed-nogil
    nogil.free(gone2)
    grown = gil.malloc(100_000)  # before-realloc
    grown = gil.realloc(grown, 2_500_000)  # realloc
    return kept, kept2, grown
keep = work()  # call
print("done")
"""


def test_known_sizes_at_known_lines(tmp_path):
    prog = write(tmp_path, "known.py", KNOWN)
    r = run_hotscope("mem", "--native", "-o", "known.json", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    doc, rows = stacks(tmp_path / "known.json")
    assert doc["meta"].get("native") == "1"
    line = lambda marker: line_of(prog, marker)  # noqa: E731
    cases = [("kept-gil", 3_000_001, True), ("freed-gil", 1_000_003, False),
             ("kept-nogil", 2_001_000, True), ("freed-nogil", 700_001, False),
             ("realloc", 2_500_000, True)]
    for marker, size, kept in cases:
        native, w = one_block(rows, "known.py", line(marker), size)
        assert w.get("leak_bytes", 0) == (size if kept else 0), marker
        # nothing else of that size at the line: counted once
        assert size <= native_bytes(rows, "known.py", line(marker)) <= size + SLACK, marker
        # native frames under the Python line: ctypes' call machinery
        assert all(f[0] == "native" for f in native)
        assert any("_ctypes" in os.path.basename(f[2]) for f in native), native
    # the block realloc moved was freed by it: no longer live at its line
    native, w = one_block(rows, "known.py", line("before-realloc"), 100_000)
    assert w.get("leak_bytes", 0) == 0
    # the Python stack above: work() called from the module, on the main thread
    stack = next(s for s, w in rows if w.get("bytes") == 3_000_001)
    python = [f for f in stack if f[0] == "python"]
    assert [(f[1], f[3]) for f in python] == [("<module>", line("call")), ("work", line("kept-gil"))]
    assert stack[0][:2] == ("thread", "MainThread")


def test_without_native_none_of_it(tmp_path):
    prog = write(tmp_path, "known.py", KNOWN)
    r = run_hotscope("mem", "-o", "plain.json", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _doc, rows = stacks(tmp_path / "plain.json")
    assert all(f[0] != "native" for s, _w in rows for f in s)
    for marker in ("kept-gil", "freed-gil", "kept-nogil", "freed-nogil", "realloc"):
        total = sum(w.get("bytes", 0) for _n, w in at_line(rows, "known.py", line_of(prog, marker)))
        assert total < SLACK, marker


def test_numpy_array_counted_once(tmp_path):
    pytest.importorskip("numpy")
    prog = write(tmp_path, "arr.py", """\
        import numpy as np
        def make():
            return np.ones(1_000_000)
        a = make()  # ones
        """, libc=False)
    results = {}
    for mode in ("native", "plain"):
        args = ["--native"] if mode == "native" else []
        r = run_hotscope("mem", *args, "-o", mode + ".json", prog.name, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        _doc, rows = stacks(tmp_path / (mode + ".json"))
        # everything allocated under make() called from that line: numpy's
        # own frames (numeric.py's ones) included
        total = 0
        for stack, w in rows:
            py = [f for f in stack if f[0] == "python"]
            if len(py) >= 2 and py[0][1] == "<module>" and py[0][3] == line_of(prog, "ones") \
                    and py[1][1] == "make":
                total += w.get("bytes", 0)
        results[mode] = total
    # 8,000,000 bytes of data: once with --native, whether numpy takes them
    # from malloc or from the Python allocators (which --native must not
    # count again when they ask malloc)
    assert 8_000_000 <= results["native"] <= 8_000_000 + SLACK
    assert results["plain"] < SLACK or 8_000_000 <= results["plain"] <= 8_000_000 + SLACK


def test_output_environment_and_exit_status_unchanged(tmp_path):
    prog = write(tmp_path, "same.py", """\
        import os, subprocess, sys
        data = sys.stdin.read()
        block = gil.malloc(1_000_000)
        print("read", len(data), "args", sys.argv[1:])
        print("LD_PRELOAD", repr(os.environ.get("LD_PRELOAD")))
        print("marks", sorted(k for k in os.environ if k.startswith("HOTSCOPE")))
        child = subprocess.run([sys.executable, "-c", "import os; print(repr(os.environ.get('LD_PRELOAD')))"],
                               capture_output=True, text=True)
        print("child LD_PRELOAD", child.stdout.strip())
        sys.stderr.write("to stderr\\n")
        sys.exit(7)
        """)
    for preload in (None, "/nonexistent-but-harmless.so"):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if preload:
            env["LD_PRELOAD"] = preload
        plain = subprocess.run([sys.executable, prog.name, "a", "-o", "b"], capture_output=True, text=True,
                               cwd=tmp_path, env=env, input="x" * 1000, timeout=60)
        r = run_hotscope("mem", "--native", "-o", "same.json", prog.name, "a", "-o", "b", cwd=tmp_path,
                         env=env, input="x" * 1000)
        assert r.returncode == plain.returncode == 7
        assert r.stdout == plain.stdout
        assert ("LD_PRELOAD %r" % preload) in r.stdout
        assert "child LD_PRELOAD %r" % preload in r.stdout
        # no variable of hotscope's own reaches the program (make test itself
        # sets HOTSCOPE_CFLAGS, which the plain run sees too)
        assert "marks %r" % sorted(k for k in env if k.startswith("HOTSCOPE")) in r.stdout
        assert r.stderr.endswith("to stderr\nhotscope: memory profile written to same.json\n")
        _doc, rows = stacks(tmp_path / "same.json")
        assert any(w.get("bytes") == 1_000_000 and s[-1][0] == "native" for s, w in rows)


def test_fork_and_os_exit_still_write(tmp_path):
    prog = write(tmp_path, "forks.py", """\
        import os
        before = gil.malloc(2_000_003)  # parent-before
        pid = os.fork()
        if pid == 0:
            child = gil.malloc(9_000_007)  # child
            os._exit(0)
        os.waitpid(pid, 0)
        after = nogil.malloc(1_000_009)  # parent-after
        os._exit(5)
        """)
    r = run_hotscope("mem", "--native", "-o", "forks.json", prog.name, cwd=tmp_path)
    assert r.returncode == 5, r.stderr
    assert r.stderr.count("memory profile written") == 1
    _doc, rows = stacks(tmp_path / "forks.json")
    for marker, size in (("parent-before", 2_000_003), ("parent-after", 1_000_009)):
        _native, w = one_block(rows, "forks.py", line_of(prog, marker), size)
        assert w.get("leak_bytes") == size
    assert not at_line(rows, "forks.py", line_of(prog, "child"))


def test_fork_while_threads_allocate_without_the_gil(tmp_path):
    # The engine's lock is held across fork(): a child forked while other
    # threads queue their events must not find it taken forever.
    prog = write(tmp_path, "busy.py", """\
        import os, threading
        stop = threading.Event()
        def churn():
            while not stop.is_set():
                for _ in range(200):
                    nogil.free(nogil.malloc(64))
        threads = [threading.Thread(target=churn) for _ in range(2)]
        for t in threads:
            t.start()
        for _ in range(20):
            pid = os.fork()
            if pid == 0:
                nogil.free(nogil.malloc(100))
                gil.free(gil.malloc(100))
                os._exit(0)
            assert os.waitpid(pid, 0)[1] == 0
        stop.set()
        for t in threads:
            t.join()
        print("forked 20")
        """)
    r = run_hotscope("mem", "--native", "-o", "busy.json", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "forked 20\n"


def test_threads_allocating_without_the_gil(tmp_path):
    prog = write(tmp_path, "threads.py", """\
        import threading
        blocks = []
        def alloc(n):
            blocks.append(nogil.malloc(n))  # thread-alloc
        threads = [threading.Thread(target=alloc, args=(1_000_000 + i,), name="worker-%d" % i)
                   for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        """)
    r = run_hotscope("mem", "--native", "-o", "threads.json", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _doc, rows = stacks(tmp_path / "threads.json")
    seen = {}
    for stack, w in rows:
        if w.get("allocs") == 1 and 1_000_000 <= w.get("bytes", 0) < 1_000_003:
            leaf, native = python_leaf(stack)
            assert native and leaf[1] == "alloc" and leaf[3] == line_of(prog, "thread-alloc")
            seen[w["bytes"]] = stack[0][1]
    assert seen == {1_000_000 + i: "worker-%d" % i for i in range(3)}


def test_thread_python_does_not_know(tmp_path):
    # A thread started by C (pthread_create, with malloc itself as its
    # start routine) has no Python frames: its allocations go to "[no GIL]"
    # with their native frames, and are matched with their frees.
    prog = write(tmp_path, "cthread.py", """\
        import ctypes
        for name in ("pthread_create", "pthread_join"):
            getattr(nogil, name).argtypes = [ctypes.c_void_p] * (4 if name == "pthread_create" else 2)
        def c_thread_malloc(size):
            tid = ctypes.c_ulong()
            start = ctypes.cast(nogil.malloc, ctypes.c_void_p)
            assert nogil.pthread_create(ctypes.byref(tid), None, start, ctypes.c_void_p(size)) == 0
            result = ctypes.c_void_p()
            assert nogil.pthread_join(tid.value, ctypes.byref(result)) == 0
            return result.value
        kept = c_thread_malloc(1_234_567)
        gil.free(c_thread_malloc(2_345_679))
        """)
    r = run_hotscope("mem", "--native", "-o", "cthread.json", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _doc, rows = stacks(tmp_path / "cthread.json")
    # both made by the same call in libc's thread start: one stack
    (stack, w), = [(s, w) for s, w in rows if w.get("bytes") == 1_234_567 + 2_345_679]
    assert stack[0][:2] == ("thread", "[no GIL]") and w["allocs"] == 2
    assert len(stack) > 1 and all(f[0] == "native" for f in stack[1:])
    assert (w["leak_bytes"], w["leak_allocs"]) == (1_234_567, 1)


def test_cached_unwinding_agrees_with_libgcc(tmp_path):
    # Stacks are unwound from cached step rules (eh_frame.c); with
    # HOTSCOPE_NATIVE_VERIFY_UNWIND=1 every one is unwound by
    # _Unwind_Backtrace too and compared. C code of several kinds: SQLite
    # (without the GIL), OpenSSL through hashlib, libffi, on two threads.
    prog = write(tmp_path, "many.py", """\
        import hashlib, sqlite3, threading
        def work():
            db = sqlite3.connect(":memory:")
            db.execute("create table t (id integer primary key, name text)")
            db.executemany("insert into t (name) values (?)", (("x%d" % i,) for i in range(3000)))
            assert len(list(db.execute("select * from t order by name"))) == 3000
            db.close()
            for i in range(500):
                hashlib.sha256(b"%d" % i).digest()
                gil.free(gil.malloc(100 + i))
                nogil.free(nogil.calloc(3, 100 + i))
        work()
        t = threading.Thread(target=work)
        t.start()
        t.join()
        """)
    env = dict(os.environ, HOTSCOPE_NATIVE_VERIFY_UNWIND="1")
    r = run_hotscope("mem", "--native", "-o", "many.json", prog.name, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    doc, _rows = stacks(tmp_path / "many.json")
    meta = doc["meta"]
    cached, libgcc = int(meta["native_unwinds_cached"]), int(meta["native_unwinds_libgcc"])
    assert cached + libgcc > 5000
    assert int(meta["native_unwind_mismatches"]) == 0
    if platform.machine() == "x86_64":  # ordinary code: every stack from the cache, near enough
        assert libgcc <= 0.01 * (cached + libgcc)


def test_report_text_shows_native_frames(tmp_path):
    prog = write(tmp_path, "text.py", """\
        kept = gil.malloc(5_000_000)  # text
        """)
    r = run_hotscope("mem", "--native", prog.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sizes asked of the Python allocators and of malloc" in r.stdout
    by_line = r.stdout.split("Allocated over the whole run, by line")[1].split("\n\n")[0]
    first = by_line.splitlines()[2]  # the biggest: the 5 MB at its line
    assert "text.py:%d  <module>" % line_of(prog, "text") in first
    assert "(_ctypes" in r.stdout  # native frames named with their object


def test_api_needs_the_interposer():
    assert _core.MemTracer.native_available() is False  # pytest did not start under it
    with pytest.raises(RuntimeError, match="hotscope mem --native"):
        hotscope.memory(native=True).start()
    # a failed start leaves nothing behind: a plain recording still works
    with hotscope.memory() as m:
        x = bytearray(100_000)
    assert m.peak >= 100_000
    del x


def test_usage_errors_stay_one_line(tmp_path):
    r = run_hotscope("mem", "--native", "missing.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("hotscope: ") and "no such file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
