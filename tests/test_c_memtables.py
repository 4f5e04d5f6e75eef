"""Builds and runs the C unit tests of the memory engine's tables
(tests/c/test_memtables.c: the live-block table and the stack trie, which
are plain C with no Python in them), with AddressSanitizer and UBSan where
the compiler has them, as test_c_model.py does for the model."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import once

pytestmark = once.newest_only

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "tests" / "c" / "test_memtables.c", ROOT / "src" / "memory" / "ptrtable.c",
           ROOT / "src" / "memory" / "stacktrie.c"]
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
              "-fno-sanitize-recover=undefined"]


def test_c_memtables(tmp_path):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) on PATH")
    exe = tmp_path / "test_memtables"
    build = subprocess.run([cc] + CFLAGS + SANITIZERS + ["-o", str(exe)] + [str(s) for s in SOURCES],
                           capture_output=True, text=True)
    sanitized = build.returncode == 0
    if not sanitized:
        build = subprocess.run([cc] + CFLAGS + ["-o", str(exe)] + [str(s) for s in SOURCES],
                               capture_output=True, text=True)
    assert build.returncode == 0, "compile failed:\n" + build.stderr
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=300)
    if sanitized and run.returncode != 0 and "LeakSanitizer has encountered a fatal error" in run.stderr:
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        run = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == "ok"
