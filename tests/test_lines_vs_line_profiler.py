"""hotscope lines against line_profiler, with sys.settrace as the judge.

bench/compare_line_counts.py runs the same functions (loops with known trip
counts, branches, a generator, a one-line loop, a while loop, a
comprehension, try/except) under a sys.settrace counter, hotscope.lines and
line_profiler.LineProfiler, in a fresh interpreter. Here:
  - hotscope must equal sys.settrace on every line (always checked);
  - where line_profiler differs from sys.settrace, the difference must be a
    row of README.md's table for this Python and line_profiler version,
    with the same counts; a documented row where line_profiler now agrees
    is accepted. So the test fails only if hotscope is wrong or the table
    is. A line_profiler version the table does not cover is skipped.
"""
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "bench", "compare_line_counts.py")
README = os.path.join(ROOT, "README.md")
TABLE_HEAD = "| Python | line_profiler | function | line | source | sys.settrace | hotscope | line_profiler's hits |"
NO_DIFFERENCE = "none: every line agrees"


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    r = subprocess.run([sys.executable, SCRIPT, "--json"], capture_output=True, text=True, timeout=120,
                       cwd=str(tmp_path_factory.mktemp("compare")))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def documented_table():
    """{(python "3.X", line_profiler version): {(function, "+N"): (settrace, hotscope, line_profiler)}},
    from README.md; a combination with no difference maps to {}."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    assert TABLE_HEAD in text, "README.md lost the table of line_profiler's differences"
    rows = text.split(TABLE_HEAD, 1)[1].splitlines()[2:]  # after the header and the |---| line
    table = {}
    for row in rows:
        if not row.startswith("|"):
            break
        cells = [c.strip().strip("`") for c in row.strip().strip("|").split("|")]
        pythons, version, function, offset = cells[0], cells[1], cells[2], cells[3]
        for python in (p.strip() for p in pythons.split(",")):
            entry = table.setdefault((python, version), {})
            if function != NO_DIFFERENCE:
                entry[(function, offset)] = tuple(int(c) for c in cells[5:8])
    return table


def test_hotscope_equals_settrace_on_every_line(counts):
    rows = counts["rows"]
    assert {r[0] for r in rows} == set(counts["functions"])
    for function, line, offset, truth, mine, _theirs in rows:
        assert mine == truth, "%s line %d (+%d): hotscope %d, sys.settrace %d" % (function, line, offset, mine, truth)
    # The workload's trip counts, spelled out (n = 10 then 7): a loop header
    # runs n + 1 times per call, its body n times.
    by = {(r[0], r[2]): r[3] for r in rows}
    assert by[("for_loop", 2)] == 11 + 8 and by[("for_loop", 3)] == 10 + 7
    assert by[("while_loop", 2)] == 11 + 8 and by[("generator", 2)] == 10 + 7
    assert by[("branches", 4)] == 5 + 4  # even i


def test_line_profiler_differs_only_as_documented(counts):
    if counts["line_profiler"] is None:
        pytest.skip("line_profiler is not installed (pip install line_profiler)")
    python = "%d.%d" % sys.version_info[:2]
    table = documented_table()
    key = (python, counts["line_profiler"])
    if key not in table:
        pytest.skip("README.md's table does not cover line_profiler %s on Python %s (it covers %s)"
                    % (key[1], python, ", ".join("%s on %s" % (v, p) for p, v in sorted(table))))
    documented = table[key]
    seen = {}
    for function, _line, offset, truth, mine, theirs in counts["rows"]:
        where = (function, "+%d" % offset)
        if where in documented:
            doc_truth, doc_mine, doc_theirs = documented[where]
            assert (doc_truth, doc_mine) == (truth, mine), "README's row for %s %s has the wrong counts" % where
            assert theirs in (doc_theirs, truth), "%s %s: line_profiler %d, README says %d" % (where + (theirs, doc_theirs))
        elif theirs != truth:
            seen[where] = (truth, mine, theirs)
    assert seen == {}, "line_profiler %s on Python %s differs where README.md's table does not say" % (key[1], key[0])
    missing = set(documented) - {(r[0], "+%d" % r[2]) for r in counts["rows"]}
    assert not missing, "README.md's table names lines the comparison does not have: %s" % sorted(missing)
