"""The readers of src/read/ fuzzed in C under AddressSanitizer (leaks
included) and UBSan: tests/c/fuzz_readers.c's own mutation loop, seeded
with every format hotscope reads, runs each mutant through every reader
and, when one loads it, through the renderers and back.
"""

import json
import marshal
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import once

pytestmark = once.newest_only

from readers_helpers import trace_profile

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
# The files the harness needs, listed rather than globbed: it must not
# depend on renderers or generated sources that have nothing to do with it.
SOURCES = (
    [ROOT / "tests" / "c" / "fuzz_readers.c"]
    + sorted((SRC / "model").glob("*.c"))
    + [SRC / "read" / n for n in ("json.c", "read_util.c", "model_json_read.c", "embedded_read.c",
                                  "speedscope_read.c", "collapsed_read.c", "marshal_read.c", "pstats_read.c",
                                  "text_lines.c", "text_tree_read.c", "lines_text_read.c", "mem_text_read.c")]
    + [SRC / "render" / n for n in ("model_json.c", "speedscope.c", "collapsed.c", "pstats_marshal.c",
                                    "escape.c", "label.c", "classify.c", "text_tree.c", "short_path.c",
                                    "mem_text.c", "mem_rows.c", "mem_lines_text.c", "source_text.c")]
)
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Werror", "-O1", "-g"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]
FUZZ_SECONDS = float(os.environ.get("HOTSCOPE_FUZZ_SECONDS", "8"))


def text_seeds(data):
    """hotscope's text reports: a trace's (threads, table, tree), its tree
    in ASCII with colors, a line profile's and a memory profile's."""
    import hotscope
    from hotscope import _output

    def lined(n):
        total = 0
        for i in range(n):
            total += i % 7
        return total

    with hotscope.lines(lined) as lp:
        lined(50)
    with hotscope.memory() as m:
        keep = [bytearray(100 + i) for i in range(300)]
    del keep
    return {
        "report.txt": _output.render(data, "x.txt"),
        "tree-ascii.txt": data.text_tree(unicode=False, color=True).encode(),
        "lines.txt": lp.data.lines_text().encode(),
        "mem.txt": m.data.mem_text(limit=4).encode(),
    }


def seeds():
    data = trace_profile()
    model = data.json()
    evented = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "a", "file": "a.py", "line": 3}, {"name": "b"}]},
        "profiles": [{"type": "evented", "name": "e", "unit": "microseconds", "startValue": 0, "endValue": 9,
                      "events": [{"type": "O", "at": 0, "frame": 0}, {"type": "O", "at": 1.5, "frame": 1},
                                 {"type": "C", "at": 4, "frame": 1}, {"type": "C", "at": 9, "frame": 0}]}],
    }
    refs = marshal.dumps({("f.py", 1, "f"): (1, 2, 0.5, 1.0, {("f.py", 1, "f"): (1, 0, 0.1, 0.2)}),
                          ("g.py", 2, "g"): (1, 1, 0.25, 0.25, {("f.py", 1, "f"): 1})})
    return {
        "model.json": model,
        "embedded.html": b'<html><script type="application/json" id="hotscope-profile">' + model + b"</script></html>",
        "sampled.speedscope.json": data.speedscope(),
        "evented.speedscope.json": json.dumps(evented).encode(),
        "wall.collapsed": data.collapsed(clock="wall"),
        "foreign.collapsed": b"main (a.py:1);{built-in len} 3\r\nP1;T2;a.py:f:3;b.py:g:4 2\n# c\nx;y z 1\n",
        "hotscope.prof": data.prof(),
        "refs.prof": refs,
        "old.prof": marshal.dumps({("f.py", 1, "f"): (1, 1, 0.5, 0.5, {})}, 1),
        **text_seeds(data),
    }


def build(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    exe = tmp_path / "fuzz_readers"
    cmd = [cc] + CFLAGS + SANITIZERS + ["-o", str(exe)] + [str(s) for s in SOURCES] + ["-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, "compile failed:\n" + proc.stderr
    return exe


@pytest.mark.slow
def test_c_fuzz_readers(tmp_path):
    exe = build(tmp_path)
    paths = []
    for name, blob in seeds().items():
        (tmp_path / name).write_bytes(blob)
        paths.append(str(tmp_path / name))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1", UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    cmd = [str(exe), str(FUZZ_SECONDS), "1"] + paths
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if run.returncode != 0 and "LeakSanitizer has encountered a fatal error" in run.stderr:
        env["ASAN_OPTIONS"] = "detect_leaks=0"  # LeakSanitizer cannot run under ptrace
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, "fuzz_readers failed:\n%s\n%s" % (run.stdout, run.stderr[-6000:])
    assert "no crash" in run.stdout
    runs, loads = [int(w) for w in run.stdout.split() if w.isdigit()][:2]
    print(run.stdout.strip())
    # The mutants must reach past the first checks: a good share loads.
    assert runs > 1000 and loads > runs // 50, run.stdout
