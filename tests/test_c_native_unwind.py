"""Builds and runs the C tests of --native's stopping and unwinding
(tests/c/test_native_unwind.c against src/sampler/ptrace_stop.c,
native_objects.c, native_unwind.c, elf.c and src/memory/eh_frame.c): a
forked child's stack unwound from outside must be the one glibc's
backtrace() gave it, and the step rules read from a file on disk those
read from the same object mapped in this process. Compiled with every
warning as an error and, where the compiler has them, AddressSanitizer and
UBSan."""

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import once

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
SOURCES = [ROOT / "tests" / "c" / "test_native_unwind.c"] + [
    SRC / "sampler" / name for name in ("ptrace_stop.c", "native_unwind.c", "native_objects.c",
                                        "proc.c", "elf.c")] + [SRC / "memory" / "eh_frame.c"]
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-pthread"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=undefined"]

pytestmark = [pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() != "x86_64",
    reason="--native is x86-64 Linux only"), once.newest_only]


def _compile(cc, out, extra):
    cmd = [cc] + CFLAGS + extra + ["-o", str(out)] + [str(s) for s in SOURCES] + ["-ldl"]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_c_native_unwind(tmp_path):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    exe = tmp_path / "test_native_unwind"
    build = _compile(cc, exe, SANITIZERS)
    if build.returncode != 0:  # no sanitizer runtimes here: a plain build still checks behaviour
        build = _compile(cc, exe, [])
    assert build.returncode == 0, "compile failed:\n" + build.stderr
    env = dict(os.environ)
    # LeakSanitizer traces its own process at exit, which fails under a tracer
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
    if "stopped -1 (permission denied" in run.stdout:
        pytest.skip("this machine does not let a process trace its child")
    assert run.returncode == 0, "C native unwind tests failed:\n%s\n%s" % (run.stdout, run.stderr)
    assert " passed, 0 failed" in run.stdout, run.stdout
