"""pytest --hotscope (hotscope/pytest_plugin.py), run on small test suites
with pytester, pytest's own fixture for testing plugins.

Ground truth by construction: one test spins for a known time in a known
function, so it is the slowest and that function its hottest; helpers are
called a known number of times, which the per-test reports and the merged
profile must count exactly.
"""

import pytest

from hotscope import _core

pytest_plugins = ["pytester"]

SUITE = """
import time

def helper(i):
    return sum(range(i))

def spin_for(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

def test_slow():
    spin_for(0.25)

def test_three_helpers():
    for i in range(3):
        helper(i)

def test_four_helpers():
    for i in range(4):
        helper(i)
"""


def counts(data, name):
    return sum(v[1] for k, v in data.pstats().items() if k[2] == name and k[0].endswith("test_suite.py"))


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def slowest_section(result):
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "hotscope: the" in line and "slowest tests" in line)
    return lines[start:]


def test_without_the_flag_nothing_changes(suite):
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert not any("hotscope" in line for line in result.outlines if not line.startswith("plugins:"))
    assert sorted(p.name for p in suite.path.iterdir()) == ["test_suite.py"]


def test_trace_lists_the_slow_test_first_with_its_function(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "--hotscope", "--hotscope-top", "2")
    result.assert_outcomes(passed=3)
    section = slowest_section(result)
    assert "the 2 slowest tests (call phase, traced)" in section[0]
    assert section[1].strip().endswith("test_suite.py::test_slow")
    assert "spin_for" in section[2] or "perf_counter" in section[2]
    assert any("spin_for  (test_suite.py:" in line for line in section[2:5])
    tests = [line.split()[-1] for line in section[1:] if "::" in line]
    assert len(tests) == 2


def test_record_samples_and_still_finds_the_slow_function(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "--hotscope=record")
    result.assert_outcomes(passed=3)
    section = slowest_section(result)
    assert "sampled at 1000 Hz" in section[0]
    assert section[1].strip().endswith("test_suite.py::test_slow")
    assert "spin_for  (test_suite.py:" in section[2]


def test_one_report_per_test_and_a_merged_profile(suite):
    reports = suite.path / "reports"
    result = suite.runpytest("-p", "no:cacheprovider", "--hotscope-dir", str(reports),
                             "--hotscope-merged", "all.json")
    result.assert_outcomes(passed=3)
    names = sorted(p.name for p in reports.iterdir())
    assert names == ["test_suite.py_test_four_helpers.html", "test_suite.py_test_slow.html",
                     "test_suite.py_test_three_helpers.html"]
    four = _core.load((reports / names[0]).read_bytes(), "html")
    assert counts(four, "helper") == 4
    assert counts(_core.load((reports / names[2]).read_bytes(), "html"), "helper") == 3
    merged = _core.load((suite.path / "all.json").read_bytes(), "json")
    assert counts(merged, "helper") == 7
    assert counts(merged, "spin_for") == 1
    result.stdout.fnmatch_lines(["hotscope: 3 reports in *reports", "hotscope: 3 tests merged into all.json"])


def test_bad_options_are_usage_errors(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "--hotscope-merged", "out.unknown")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--hotscope-merged: cannot tell the format*"])
    result = suite.runpytest("-p", "no:cacheprovider", "--hotscope", "test_suite.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'test_suite.py' is not trace or record*"])
