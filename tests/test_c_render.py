"""The C renderers (src/render/) on hand-built profiles.

Builds tests/c/test_render.c with the model and the renderers, runs it
(it asserts the exact text of every format itself), then checks what it
wrote with Python's own readers: the .prof loads with pstats.Stats and
holds exactly the numbers the hand-built tree implies, and hotscope's
pstats table is identical, line for line, to what pstats prints for
that same file.
"""

import io
import marshal
import pstats
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import once

pytestmark = once.newest_only

ROOT = Path(__file__).resolve().parent.parent
# The flame graph and HTML renderers embed src/render/assets/ as C strings
# (src/render/assets_gen.c), which setup.py generates before compiling.
sys.path.insert(0, str(ROOT / "tools"))
import embed_assets  # noqa: E402

embed_assets.write()
SOURCES = (
    [ROOT / "tests" / "c" / "test_render.c"]
    + sorted((ROOT / "src" / "model").glob("*.c"))
    + sorted((ROOT / "src" / "render").glob("*.c"))
    + sorted((ROOT / "src" / "codec").glob("*.c"))
)
BASE_FLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Werror", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]

# Must match TABLE_CASES in tests/c/test_render.c: (sort keys, limit, callers).
TABLE_CASES = [
    ((), 0, True),
    (("cumulative",), 0, True),
    (("time", "name"), 0, False),
    (("calls",), 3, True),
    (("nfl",), 0, False),
    (("pcalls", "file"), 0, False),
    (("line", "stdname"), 0, False),
    (("tottime", "cumu", "module"), 0, False),
]

MS = 0.001
MAIN = ("app.py", 1, "main")
FIB = ("app.py", 10, "fib")
HELPER = ("lib.py", 20, "helper")
LEN = ("~", 0, "<built-in method builtins.len>")
APPEND = ("~", 0, "<method 'append' of 'list' objects>")


def _seconds(ms):
    # The C side computes ns / 1e9 in double; do the same for exact equality.
    return (ms * 1000000) / 1e9


# What profile A of test_render.c implies, in cProfile.create_stats' shape:
# {func: (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}.
EXPECTED_A = {
    MAIN: (1, 1, _seconds(100), _seconds(181), {}),
    # fib recurses: 7 calls, 1 primitive; cumtime counts the outermost call only.
    FIB: (1, 7, _seconds(70), _seconds(70), {
        MAIN: (1, 1, _seconds(10), _seconds(70)),
        # fib -> fib: 6 calls; the 2 made from the outermost fib are primitive.
        FIB: (6, 2, _seconds(60), _seconds(60)),
    }),
    HELPER: (2, 2, _seconds(5), _seconds(8), {MAIN: (2, 2, _seconds(5), _seconds(8))}),
    LEN: (5, 5, _seconds(5), _seconds(5), {
        MAIN: (3, 3, _seconds(3), _seconds(3)),
        HELPER: (2, 2, _seconds(2), _seconds(2)),
    }),
    # More calls than an int32 holds: written as marshal TYPE_LONG.
    APPEND: (3000000000, 3000000000, _seconds(1), _seconds(1),
             {HELPER: (3000000000, 3000000000, _seconds(1), _seconds(1))}),
}


def _compile(out_dir):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    exe = out_dir / "test_render"
    sources = [str(s) for s in SOURCES]
    attempts = [BASE_FLAGS + SANITIZERS, BASE_FLAGS]
    errors = []
    for flags in attempts:
        proc = subprocess.run([cc, *flags, "-o", str(exe), *sources, "-lm"],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return exe
        errors.append(proc.stderr)
        # A warning or error in our code fails both ways; only fall back when
        # the sanitizer runtime itself is what is missing.
        if "sanitize" not in proc.stderr and "asan" not in proc.stderr:
            break
    pytest.fail("compiling test_render.c failed:\n" + "\n".join(errors))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("render")
    exe = _compile(out_dir)
    prof = out_dir / "a.prof"
    proc = subprocess.run([str(exe), str(prof)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return prof


def test_c_checks_pass(rendered):
    assert rendered.exists()


def test_prof_numbers(rendered):
    stats = pstats.Stats(str(rendered)).stats
    assert stats == EXPECTED_A
    # The same through marshal directly: the file is exactly one dict.
    with open(rendered, "rb") as f:
        data = f.read()
    assert marshal.loads(data) == EXPECTED_A


def test_prof_totals(rendered):
    s = pstats.Stats(str(rendered))
    assert s.total_calls == 3000000015
    assert s.prim_calls == 3000000009
    assert s.total_tt == pytest.approx(0.181, abs=1e-12)


def test_print_stats_works(rendered):
    out = io.StringIO()
    s = pstats.Stats(str(rendered), stream=out)
    s.strip_dirs().sort_stats("cumulative").print_stats().print_callers().print_callees()
    text = out.getvalue()
    assert "3000000015 function calls (3000000009 primitive calls) in 0.181 seconds" in text
    assert "      7/1    0.070    0.010    0.070    0.070 app.py:10(fib)" in text
    assert "{built-in method builtins.len}" in text


@pytest.mark.parametrize("case", range(len(TABLE_CASES)))
def test_table_matches_pstats(rendered, case):
    keys, limit, callers = TABLE_CASES[case]
    out = io.StringIO()
    s = pstats.Stats(str(rendered), stream=out)
    s.files = []  # pstats prints the file's name first; hotscope has no file
    s.sort_stats(*(keys or ("stdname",)))
    amount = (limit,) if limit > 0 else ()
    s.print_stats(*amount)
    if callers:
        s.print_callers(*amount)
    ours = Path(f"{rendered}.table.{case}.txt").read_text(encoding="utf-8")
    assert ours == out.getvalue()


def test_odd_names_survive(rendered):
    stats = pstats.Stats(f"{rendered}.weird.prof").stats
    # Control characters are kept in the .prof (only text output blanks
    # them); an undecodable byte comes back as a surrogate escape, as
    # Python itself carries undecodable file names.
    odd = ("bad\udcff.py", 7, "we\nird;x")
    uni = ("\u20ac.py", 70000, "caf\u00e9")
    assert set(stats) == {odd, uni}
    assert stats[odd] == (1, 1, _seconds(3), _seconds(3), {})
    # A negative count takes marshal's TYPE_LONG with a negative size.
    assert stats[uni] == (-5000000000, -5000000000, 0.0, 0.0,
                          {odd: (-5000000000, -5000000000, 0.0, 0.0)})
