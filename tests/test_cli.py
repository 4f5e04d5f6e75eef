"""`python -m hotscope trace` end to end, in subprocesses.

Output formats by -o extension, the program's own stdout, argv and exit
status preserved, and every bad input answered with exit status 2 and one
line on stderr starting "hotscope:" (never a traceback from hotscope)."""

import marshal
import os
import pathlib
import pstats
import re
import subprocess
import sys
import textwrap

import pytest

TARGETS = pathlib.Path(__file__).resolve().parent / "targets"

FIB_SCRIPT = '''\
import sys

def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)

def main():
    print("args:", sys.argv[1:])
    print("name:", __name__)
    print("fib:", fib(15))
    print("len:", len([1, 2, 3]))

main()
'''
FIB15_CALLS = 1973  # F(n) = 1 + F(n-1) + F(n-2), F(0) = F(1) = 1
PROGRAM_OUT = "args: {args}\nname: __main__\nfib: 610\nlen: 3\n"


def hotscope(*args, cwd=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "hotscope", *args],
        capture_output=True, text=True, cwd=cwd, timeout=timeout,
    )


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "fibprog.py"
    path.write_text(FIB_SCRIPT)
    return path


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


# A row of the pstats table: ncalls tottime percall cumtime percall where.
ROW = re.compile(r"^\s*(\d+)(?:/(\d+))?\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\S.*)$")


def table_rows(text):
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            rows.append((int(m.group(1)), m.group(3)))
    return rows


def assert_usage_error(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert err.startswith("hotscope:"), proc.stderr
    assert len(err.splitlines()) == 1, proc.stderr


def fib_counts(stats):
    fib = [v for k, v in stats.items() if k[2] == "fib"]
    assert len(fib) == 1, list(stats)
    return fib[0][1], fib[0][0]


# --------------------------------------------------------------------------
# output


def test_table_on_stdout_after_program_output(script):
    proc = hotscope("trace", str(script), "a1", "--b2")
    assert proc.returncode == 0, proc.stderr
    expected = PROGRAM_OUT.format(args=["a1", "--b2"])
    # The program's output comes first, whole, then the table.
    assert proc.stdout.startswith(expected), proc.stdout
    table = proc.stdout[len(expected):]
    rows = table_rows(table)
    names = " ".join(where for _, where in rows)
    assert "fib" in names and "main" in names, table
    assert "builtins.len" in names, table
    fib_rows = [(n, w) for n, w in rows if w.endswith("(fib)")]
    assert fib_rows and fib_rows[0][0] == FIB15_CALLS, table
    assert "ncalls" in table and "cumtime" in table


def test_sort_key_orders_table(script):
    proc = hotscope("trace", "-s", "ncalls", str(script))
    assert proc.returncode == 0, proc.stderr
    counts = [n for n, _ in table_rows(proc.stdout)]
    assert len(counts) >= 3
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == FIB15_CALLS


def test_no_builtins(script):
    proc = hotscope("trace", "--no-builtins", str(script))
    assert proc.returncode == 0, proc.stderr
    names = [w for _, w in table_rows(proc.stdout)]
    assert any(w.endswith("(fib)") for w in names)
    assert not [w for w in names if "built-in" in w or "builtins." in w or "method" in w], names


def test_prof_output_is_pstats(script, tmp_path):
    out = tmp_path / "x.prof"
    proc = hotscope("trace", "-o", str(out), str(script))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(PROGRAM_OUT.format(args=[])), proc.stdout
    stats = pstats.Stats(str(out)).stats
    assert fib_counts(stats) == (FIB15_CALLS, 1)
    main = [v for k, v in stats.items() if k[2] == "main" and k[0].endswith("fibprog.py")]
    assert [(v[1], v[0]) for v in main] == [(1, 1)]
    assert ("~", 0, "<built-in method builtins.len>") in stats
    fib_key = [k for k in stats if k[2] == "fib"][0]
    assert fib_key[0].endswith("fibprog.py") and fib_key[1] == 3


def test_prof_output_cpu_clock(script, tmp_path):
    out = tmp_path / "x.prof"
    proc = hotscope("trace", "--clock", "cpu", "-o", str(out), str(script))
    assert proc.returncode == 0, proc.stderr
    assert fib_counts(pstats.Stats(str(out)).stats) == (FIB15_CALLS, 1)


def test_collapsed_output(script, tmp_path):
    out = tmp_path / "x.collapsed"
    proc = hotscope("trace", "-o", str(out), str(script))
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    # Time weights are announced by hotscope's header, which collapsed
    # readers skip (it does not end in a count).
    assert lines[0] == "# hotscope collapsed weight=wall_us"
    lines = lines[1:]
    assert lines
    deepest = 0
    for line in lines:
        m = re.fullmatch(r"(\S(?:.*\S)?) (\d+)", line)
        assert m, "not 'a;b;c N': %r" % line
        frames = m.group(1).split(";")
        assert all(frames), line
        run = 0
        for f in frames:
            run = run + 1 if re.search(r"\bfib\b", f) else 0
            deepest = max(deepest, run)
    # fib(15) recurses 15 frames deep (fib(15) .. fib(1)); never deeper.
    # The weights are times, so the one deepest stack (a fraction of a
    # microsecond) may round away: allow it and its parent to be missing.
    assert 13 <= deepest <= 15, deepest
    assert len(lines) == len(set(l.rsplit(" ", 1)[0] for l in lines)), "stacks not merged"


def test_txt_output(script, tmp_path):
    out = tmp_path / "x.txt"
    proc = hotscope("trace", "-o", str(out), str(script))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "(fib)" in text or "fib" in text.split()
    assert "main" in text
    # With -o the table goes to the file, not to stdout.
    assert proc.stdout.startswith(PROGRAM_OUT.format(args=[]))
    assert "ncalls" not in proc.stdout and "cumtime" not in proc.stdout


def test_module_mode(tmp_path):
    write(tmp_path, "mymod.py", """\
        import sys

        def hello(n):
            return [n] * n

        if __name__ == "__main__":
            print("mod args:", sys.argv[1:])
            print(len(hello(3)))
        """)
    out = tmp_path / "m.prof"
    proc = hotscope("trace", "-o", str(out), "-m", "mymod", "x", "-y", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("mod args: ['x', '-y']\n3\n"), proc.stdout
    stats = pstats.Stats(str(out)).stats
    hello = [v for k, v in stats.items() if k[2] == "hello"]
    assert [(v[1], v[0]) for v in hello] == [(1, 1)]


def test_code_mode(tmp_path):
    out = tmp_path / "c.prof"
    code = "import sys\ndef f(n): return n + 1\nprint(sum(f(i) for i in range(7)), sys.argv[1:])"
    proc = hotscope("trace", "-o", str(out), "-c", code, "p", "q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("28 ['p', 'q']\n"), proc.stdout
    stats = pstats.Stats(str(out)).stats
    f = [v for k, v in stats.items() if k[2] == "f"]
    assert [(v[1], v[0]) for v in f] == [(7, 7)]


def test_target_program_as_script():
    proc = hotscope("trace", "-s", "cumulative", str(TARGETS / "generators.py"))
    assert proc.returncode == 0, proc.stderr
    names = " ".join(w for _, w in table_rows(proc.stdout))
    for fn in ("count_up", "squares", "accumulator", "delegator", "main"):
        assert "(%s)" % fn in names, fn


# --------------------------------------------------------------------------
# exit status


def test_sys_exit_status_propagates(tmp_path):
    prog = write(tmp_path, "ex.py", """\
        import sys
        def leave():
            print("leaving")
            sys.exit(3)
        leave()
        """)
    out = tmp_path / "ex.prof"
    proc = hotscope("trace", "-o", str(out), str(prog))
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.startswith("leaving\n")
    assert "Traceback" not in proc.stderr
    stats = pstats.Stats(str(out)).stats
    assert [v[1] for k, v in stats.items() if k[2] == "leave"] == [1]


def test_uncaught_exception(tmp_path):
    prog = write(tmp_path, "boom.py", """\
        def explode():
            raise ValueError("boom")
        def outer():
            explode()
        outer()
        """)
    out = tmp_path / "boom.prof"
    proc = hotscope("trace", "-o", str(out), str(prog))
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "explode" in proc.stderr and "boom.py" in proc.stderr
    assert "ValueError: boom" in proc.stderr.splitlines()
    stats = pstats.Stats(str(out)).stats
    assert sorted(k[2] for k in stats if k[0].endswith("boom.py")) == ["<module>", "explode", "outer"]


def test_keyboard_interrupt(tmp_path):
    prog = write(tmp_path, "intr.py", """\
        def stop():
            raise KeyboardInterrupt
        stop()
        """)
    out = tmp_path / "intr.prof"
    proc = hotscope("trace", "-o", str(out), str(prog))
    assert proc.returncode in (130, -2), (proc.returncode, proc.stderr)
    stats = pstats.Stats(str(out)).stats
    assert [v[1] for k, v in stats.items() if k[2] == "stop"] == [1]


# --------------------------------------------------------------------------
# bad input: exit 2, one line, no traceback


def test_missing_script(tmp_path):
    proc = hotscope("trace", str(tmp_path / "no_such_script.py"))
    assert_usage_error(proc)
    assert "no_such_script.py" in proc.stderr


def test_unknown_module(tmp_path):
    proc = hotscope("trace", "-m", "no_such_module_hotscope_xyz", cwd=tmp_path)
    assert_usage_error(proc)
    assert "no_such_module_hotscope_xyz" in proc.stderr


def test_unknown_sort_key(script):
    proc = hotscope("trace", "-s", "bogus_key", str(script))
    assert_usage_error(proc)
    assert "bogus_key" in proc.stderr
    assert "fib:" not in proc.stdout  # rejected before the program ran


def test_unwritable_output(script):
    proc = hotscope("trace", "-o", "/nonexistent-dir/x.prof", str(script))
    assert_usage_error(proc)
    assert "/nonexistent-dir/x.prof" in proc.stderr
    assert "fib:" not in proc.stdout  # rejected before the program ran


def test_no_arguments():
    assert_usage_error(hotscope())


def test_trace_without_target():
    assert_usage_error(hotscope("trace"))


def test_syntax_error_in_script(tmp_path):
    prog = write(tmp_path, "bad.py", """\
        x = 1
        y = 2
        def broken(:
            pass
        """)
    proc = hotscope("trace", str(prog))
    assert_usage_error(proc)
    assert "bad.py" in proc.stderr
    assert re.search(r"\b3\b", proc.stderr), proc.stderr


# --------------------------------------------------------------------------
# commands that start hotscope again in a new process

# The hotscope command as installed: its own folder (not the current one)
# first on the path.
AS_INSTALLED = "import sys; del sys.path[0]; from hotscope.cli import main; sys.exit(main(sys.argv[1:]))"

BUSY_SCRIPT = '''\
import time

def busy():
    end = time.perf_counter() + 0.6
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

print("busy", busy() > 0)
'''


@pytest.fixture
def checkout(tmp_path):
    """A folder holding a hotscope package that cannot be imported, as the
    repository root holds the sources, unbuilt."""
    (tmp_path / "hotscope").mkdir()
    (tmp_path / "hotscope" / "__init__.py").write_text("raise ImportError('the wrong hotscope')\n")
    return tmp_path


def test_diagnose_from_a_folder_holding_a_hotscope_package(checkout):
    # Its traced and line-by-line runs must import the hotscope that was
    # started (python -m hotscope would take the folder's): the tutorial
    # runs it from the repository root.
    write(checkout, "busy.py", BUSY_SCRIPT)
    proc = subprocess.run([sys.executable, "-c", AS_INSTALLED, "diagnose", "busy.py"], capture_output=True,
                          text=True, cwd=checkout, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "wrong hotscope" not in proc.stderr, proc.stderr
    assert "wrote no profile" not in proc.stdout, proc.stdout
    assert "Runs: sampled, traced, lines of 1 function" in proc.stdout, proc.stdout
    assert proc.stdout.count("busy True") == 1  # the program's output, once: its first run's


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="--native is Linux-only")
def test_mem_native_from_a_folder_holding_a_hotscope_package(checkout):
    # mem --native starts the interpreter again with its malloc interposer.
    proc = subprocess.run([sys.executable, "-c", AS_INSTALLED, "mem", "--native", "--limit", "1", "-c",
                           "x = bytearray(10 ** 6); print('done')"], capture_output=True, text=True,
                          cwd=checkout, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "wrong hotscope" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("done\n") and "and of malloc, --native" in proc.stdout, proc.stdout


def test_lines_func_of_a_module_beside_the_script(tmp_path):
    # --func names a function of a module the script imports from its own
    # folder (as the worked example's slow.py imports logdata): found from
    # the path the script will have, whatever the current folder.
    write(tmp_path, "helper.py", """\
        def total(n):
            t = 0
            for i in range(n):
                t += i
            return t
        """)
    write(tmp_path, "main.py", "import helper\nprint(helper.total(1000))\n")
    out = tmp_path / "lines.txt"
    proc = hotscope("lines", "--func", "helper:total", "-o", str(out), str(tmp_path / "main.py"), cwd=str(TARGETS))
    assert proc.returncode == 0 and proc.stdout == "499500\n", proc.stderr
    assert "names nothing" not in proc.stderr and "cannot import" not in proc.stderr, proc.stderr
    rows = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"^\s+(\d+)\s+(\d+)\s", out.read_text(), re.M)}
    assert rows[3] == 1001 and rows[4] == 1000, out.read_text()  # the loop's 1000 turns and its end
