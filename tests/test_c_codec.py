"""Builds and runs the C tests of src/codec and the pprof writer/reader
(tests/c/test_codec.c) as a standalone program, under AddressSanitizer and
UBSan where the compiler has them: CRC-32 check values, DEFLATE round trips
over every block type and edge size, gzip truncations and bit flips, the
output cap, and an exact pprof round trip of a hand-built profile (same
names with NUL bytes, negative and extreme weights, duplicate thread
names), every truncation of which must fail cleanly.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TEST_SOURCE = ROOT / "tests" / "c" / "test_codec.c"
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Werror", "-O1", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]


def _compile(cc, out, extra):
    sources = [str(TEST_SOURCE)]
    for sub in ("model", "render", "codec", "read"):
        sources += sorted(str(p) for p in (ROOT / "src" / sub).glob("*.c"))
    return subprocess.run([cc] + CFLAGS + extra + ["-o", str(out)] + sources + ["-lm"],
                          capture_output=True, text=True)


def test_c_codec(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    exe = tmp_path / "test_codec"
    build = _compile(cc, exe, SANITIZERS)
    if build.returncode != 0:
        build = _compile(cc, exe, [])
    assert build.returncode == 0, "compile failed:\n" + build.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=300)
    if run.returncode != 0 and "LeakSanitizer has encountered a fatal error" in run.stderr:
        env["ASAN_OPTIONS"] = "detect_leaks=0"  # LeakSanitizer cannot run under ptrace
        run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, "C codec tests failed:\n%s\n%s" % (run.stdout, run.stderr)
    assert " passed, 0 failed" in run.stdout
