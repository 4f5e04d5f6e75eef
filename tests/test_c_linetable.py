"""Checks src/sampler/linetable.c against each interpreter's own co_lines().

The sampler maps an instruction offset to a line with its own decoder of
the line table (3.10's PEP 626 co_linetable, or the location table of 3.11
and later), since it reads code objects out of another process and cannot
call into it. For every CPython 3.10-3.13 installed under pyenv, this runs
a script in that interpreter which compiles many code objects (stdlib
modules, nested code found through co_consts, and synthetic sources made to
hit the corners of the formats) and writes, for each, the raw table and the
line co_lines() gives for every instruction offset. tests/c/test_linetable.c
then decodes the same tables and compares; it is built with ASan and UBSan
where the toolchain has them, and also runs hand-written garbage tables.
"""

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import once

pytestmark = once.newest_only

ROOT = Path(__file__).resolve().parent.parent
TEST_SOURCE = ROOT / "tests" / "c" / "test_linetable.c"
LINETABLE = ROOT / "src" / "sampler" / "linetable.c"

CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=undefined"]

# Fewer checks than this per interpreter means the generator lost its way.
MIN_CHECKS = 10_000


def _interpreters():
    found = []
    for minor in (10, 11, 12, 13):
        paths = sorted(glob.glob(f"/root/.pyenv/versions/3.{minor}.*/bin/python3"))
        if paths:
            found.append(pytest.param(minor, paths[-1], id=f"3.{minor}"))
        else:
            found.append(pytest.param(minor, None, id=f"3.{minor}"))
    return found


# Runs inside the interpreter under test (3.10 to 3.13), stdlib only.
# argv[1]: output path. Writes one line per code object:
#   FORMAT FIRST_LINE NAME HEX OFFSET:LINE ...
GENERATOR = r'''
import importlib.util
import sys
import types

OUT = sys.argv[1]
FORMAT = "310" if sys.version_info[:2] == (3, 10) else "311"

MODULES = ["json", "json.decoder", "json.encoder", "json.scanner", "difflib",
           "argparse", "asyncio.base_events", "asyncio.tasks", "dataclasses",
           "textwrap", "inspect", "typing"]


def synthetic():
    """Sources made to reach the corners of the formats."""
    out = {}
    out["multiline"] = """
def f(a, b,
      c=1,
      *args, **kw):
    x = (a +
         b *
         c)
    y = [i
         for i in range(x)
         if i % 2]
    z = {k: v for k, v in
         kw.items()}
    g = lambda q: (q +
                   1)
    s = {e for e in args}
    t = (w for w in
         y)
    return (x, y, z, g, s,
            list(t),
            f"{a}"
            f"{b!r:>{c}}")
"""
    out["control"] = """
def f(n):
    total = 0
    i = 0
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        elif i > 100:
            break
        try:
            total += 10 // (i - 5)
        except ZeroDivisionError as e:
            total -= 1
        except (TypeError,
                ValueError):
            raise
        else:
            total += 2
        finally:
            total *= 1
    else:
        total = -total
    for j in range(3):
        for k in range(3):
            if j == k:
                break
        else:
            pass
    with open(__file__) as fh, \\
         open(__file__) as gh:
        data = fh.read() + gh.read()
    assert total or data, "message"
    del data
    return total
"""
    out["async_gen"] = """
import asyncio

async def agen(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i

async def main():
    async with asyncio.timeout(1) if hasattr(asyncio, "timeout") else Nothing() as t:
        pass
    async for v in agen(3):
        print(v)
    r = [v async for v in agen(2)]
    try:
        await asyncio.gather(*(asyncio.sleep(0) for _ in range(2)))
    finally:
        print("done")
    return r

def gen(n):
    x = yield
    while n:
        n -= 1
        x = yield x
    yield from range(n)
    return x

class C:
    attr = 1
    def method(self):
        return super().method()
    @property
    def prop(self):
        return (lambda: self.attr)()
    @staticmethod
    def st(*a,
           **k):
        return a, k
"""
    out["match"] = """
def f(cmd):
    match cmd:
        case ["go", direction]:
            return direction
        case {"x": x, **rest}:
            return x
        case Point(x=0, y=yy) if yy > 0:
            return yy
        case [1, 2, *others] | (3, *others):
            return others
        case _:
            return None
"""
    # Far line jumps both ways (> 127 and > 255 lines), a function starting
    # far down the file, and one line with far more than 255 bytes of code.
    lines = ["def far(a):", "    x = a"]
    lines += ["    # filler"] * 300
    lines += ["    for i in range(a):", "        x += i"]
    lines += [""] * 200
    lines += ["        x -= 1", "        if x:", "            continue"]
    lines += ["    y = " + " + ".join("a * %d" % i for i in range(400))]
    lines += ["    z = [" + ", ".join("x%d" % (i % 7) for i in range(300)) + "]"]
    lines += ["    return (x,"] + ["            %d," % i for i in range(200)] + ["            y)"]
    out["far"] = "\n".join(lines) + "\n"
    out["deep"] = "\n" * 70000 + "def deep(a):\n    return a\n" + "\n" * 150 + "x = deep(1)\n"
    big = ["def big(a):"]
    for i in range(1500):
        big.append("    a = a + %d if a %% %d else a - %d" % (i, (i % 5) + 1, i))
        if i % 37 == 0:
            big.append("    # comment\n" * (i % 5))
    big.append("    return a")
    out["big"] = "\n".join(big) + "\n"
    if sys.version_info >= (3, 11):
        out["except_star"] = """
def f():
    try:
        raise ExceptionGroup("g", [ValueError(1)])
    except* ValueError as e:
        err = e
    except* (TypeError, KeyError):
        pass
"""
    if sys.version_info >= (3, 12):
        out["pep695"] = """
type Alias[T] = list[T]
def g[T: int](x: T) -> T:
    return [y for y in
            range(x)]
class K[T]:
    def m(self) -> T: ...
"""
    return out


def sources():
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        with open(spec.origin, "rb") as fh:
            yield name, fh.read(), spec.origin
    for name, src in synthetic().items():
        yield name, src, "<%s>" % name


def walk(co, prefix):
    yield prefix + "." + co.co_name.replace(" ", "_"), co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from walk(c, prefix + "." + co.co_name.replace(" ", "_"))


def main():
    codes = checks = 0
    with open(OUT, "w") as out:
        out.write("# %s\n" % sys.version.replace("\n", " "))
        for name, src, filename in sources():
            top = compile(src, filename, "exec", dont_inherit=True)
            for label, co in walk(top, name):
                pairs = []
                last_end = 0
                for start, end, line in co.co_lines():
                    want = -1 if line is None else line
                    for off in range(start, end, 2):
                        pairs.append("%d:%d" % (off, want))
                    last_end = max(last_end, end)
                pairs.append("%d:-1" % last_end)
                pairs.append("%d:-1" % (last_end + 1000))
                table = co.co_linetable.hex() or "-"
                out.write("%s %d %s %s %s\n" % (FORMAT, co.co_firstlineno, label, table,
                                                " ".join(pairs)))
                codes += 1
                checks += len(pairs)
    print("codes", codes, "checks", checks)


main()
'''


def _build(tmp_path):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    exe = tmp_path / "test_linetable"

    def compile_with(extra):
        cmd = ([cc] + CFLAGS + extra + ["-o", str(exe), str(TEST_SOURCE), str(LINETABLE)])
        return subprocess.run(cmd, capture_output=True, text=True)

    build = compile_with(SANITIZERS)
    sanitized = build.returncode == 0
    if not sanitized:
        # Some toolchains lack the sanitizer runtimes; a plain build still
        # checks behaviour. A real compile error shows up in this build too.
        build = compile_with([])
    assert build.returncode == 0, "compile failed:\n" + build.stderr
    return exe, sanitized


def _run(exe, sanitized, args):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)] + args, capture_output=True, text=True, env=env,
                         timeout=600)
    if (sanitized and run.returncode != 0
            and "LeakSanitizer has encountered a fatal error" in run.stderr):
        # LeakSanitizer cannot run under ptrace; keep the other checks.
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        run = subprocess.run([str(exe)] + args, capture_output=True, text=True, env=env,
                             timeout=600)
    return run


def _counts(stdout):
    for line in stdout.splitlines():
        if line.endswith(" failed") and " passed, " in line:
            passed, failed = line.split(" passed, ")
            return int(passed), int(failed.split()[0])
    raise AssertionError("no summary line in:\n" + stdout)


@pytest.fixture(scope="module")
def linetable_exe(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("linetable"))


def test_c_linetable_hand_written(linetable_exe):
    exe, sanitized = linetable_exe
    run = _run(exe, sanitized, [])
    assert run.returncode == 0, (
        f"C line table tests failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    passed, failed = _counts(run.stdout)
    assert failed == 0 and passed > 1000, run.stdout


@pytest.mark.parametrize("minor,python", _interpreters())
def test_c_linetable_matches_co_lines(linetable_exe, tmp_path, minor, python):
    if python is None:
        pytest.skip(f"no CPython 3.{minor} under /root/.pyenv/versions")
    exe, sanitized = linetable_exe
    script = tmp_path / "gen_vectors.py"
    script.write_text(GENERATOR)
    vectors = tmp_path / f"vectors_3{minor}.txt"
    gen = subprocess.run([python, "-I", str(script), str(vectors)], capture_output=True,
                         text=True, timeout=600)
    assert gen.returncode == 0, gen.stderr
    codes, checks = (int(w) for w in gen.stdout.split()[1::2])
    assert codes > 500 and checks > MIN_CHECKS, gen.stdout

    run = _run(exe, sanitized, [str(vectors)])
    assert run.returncode == 0, (
        f"C line table disagrees with 3.{minor}'s co_lines() (exit {run.returncode}):\n"
        f"{run.stdout[-5000:]}\n{run.stderr[-5000:]}")
    passed, failed = _counts(run.stdout)
    assert failed == 0, run.stdout
    # Each pair is checked twice (whole table and table cut in half).
    assert passed >= 2 * checks > 2 * MIN_CHECKS, run.stdout
    print(f"3.{minor}: {codes} code objects, {checks} offsets, {passed} checks passed")
