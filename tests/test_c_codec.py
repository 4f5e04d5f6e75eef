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

import once

pytestmark = once.newest_only

ROOT = Path(__file__).resolve().parent.parent
TEST_SOURCE = ROOT / "tests" / "c" / "test_codec.c"
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Werror", "-O1", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]


def _compile(cc, out, extra, source=TEST_SOURCE):
    sources = [str(source)]
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


def test_c_fuzz_pprof(tmp_path):
    """tests/c/fuzz_pprof.c's own mutation loop, seeded with our output
    (gzip and raw) and a hand-made file with inlined lines."""
    import gzip

    import hotscope
    from pprof_synth import synthetic_pprof

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    exe = tmp_path / "fuzz_pprof"
    build = _compile(cc, exe, SANITIZERS, ROOT / "tests" / "c" / "fuzz_pprof.c")
    if build.returncode != 0:
        build = _compile(cc, exe, [], ROOT / "tests" / "c" / "fuzz_pprof.c")
    assert build.returncode == 0, "compile failed:\n" + build.stderr

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    with hotscope.trace() as t:
        fib(7)
        sorted([2, 1])
    seeds = {"traced.pb.gz": t.snapshot().pprof(), "synth.pb": synthetic_pprof(stacks=40, samples=100)}
    seeds["traced.pb"] = gzip.decompress(seeds["traced.pb.gz"])
    for name, blob in seeds.items():
        (tmp_path / name).write_bytes(blob)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    run = subprocess.run([str(exe), "-n", "10000", "-s", "1"] + [str(tmp_path / n) for n in seeds],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, "fuzz_pprof failed:\n%s\n%s" % (run.stdout, run.stderr[-4000:])
    assert "no crash" in run.stdout and "does not load" not in run.stderr
