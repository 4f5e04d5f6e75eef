"""%hotscope, %%hotscope and %hotscope_lines (hotscope/ipython.py), run in
an in-process IPython shell after %load_ext hotscope.

Ground truth by construction: the profiled statements call a helper a
known number of times; the text report's table, the line table's hits and
the profile embedded in the notebook's HTML output must show exactly that.
"""

import html
import re

import pytest

IPython = pytest.importorskip("IPython")

from IPython.core.error import UsageError  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

from hotscope import _core  # noqa: E402

DEFINITIONS = """
def helper(i):
    return sum(range(i))

def work(n):
    for i in range(n):
        helper(i)
"""


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.ipython_dir = str(tmp_path_factory.mktemp("ipython"))
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "hotscope")
    assert shell.run_cell(DEFINITIONS).success
    yield shell
    InteractiveShell.clear_instance()


def table_calls(text, function):
    """ncalls of `function` in a pstats-style table."""
    for line in text.splitlines():
        if line.rstrip().endswith("(%s)" % function):
            return int(line.split()[0].split("/")[0])
    raise AssertionError("%s is not in the table:\n%s" % (function, text))


def test_line_magic_prints_the_table_with_exact_counts(shell):
    with capture_output() as out:
        shell.run_line_magic("hotscope", "--text work(7)")
    assert table_calls(out.stdout, "work") == 1
    assert table_calls(out.stdout, "helper") == 7
    assert "run_line_magic" not in out.stdout  # IPython's own frames are left out
    assert not out.outputs


def test_cell_magic_profiles_the_whole_cell(shell):
    with capture_output() as out:
        shell.run_cell_magic("hotscope", "--text", "work(3)\nwork(4)\n")
    assert table_calls(out.stdout, "work") == 2
    assert table_calls(out.stdout, "helper") == 7


def test_notebook_output_is_the_report_in_a_sandboxed_iframe(shell, tmp_path):
    saved = tmp_path / "saved.json"
    with capture_output() as out:
        shell.run_line_magic("hotscope", "--html -o %s work(9)" % saved)
    (display,) = out.outputs
    markup = display.data["text/html"]
    match = re.fullmatch(r'<div [^>]*><iframe srcdoc="([^"]*)" sandbox="allow-scripts" [^>]*></iframe></div>',
                         markup)
    assert match, markup[:200]
    report = html.unescape(match.group(1)).encode("utf-8")
    data = _core.load(report, "html")
    calls = {k[2]: v[1] for k, v in data.pstats().items() if k[0].startswith("<ipython-input")}
    assert calls == {"work": 1, "helper": 9}
    assert data.meta()["command"] == "%hotscope work(9)"
    assert _core.load(saved.read_bytes(), "json").pstats() == data.pstats()


def test_notebook_is_detected_from_the_kernel(shell, monkeypatch):
    with capture_output() as out:
        shell.run_line_magic("hotscope", "work(2)")
    assert out.stdout and not out.outputs  # a terminal-like shell: text
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    with capture_output() as out:
        shell.run_line_magic("hotscope", "work(2)")
    assert not out.stdout and "text/html" in out.outputs[0].data


def test_sampled_cell_finds_the_busy_function(shell):
    cell = "import time\nend = time.perf_counter() + 0.2\nwhile time.perf_counter() < end:\n    work(30)\n"
    with capture_output() as out:
        shell.run_cell_magic("hotscope", "-s -r 500 --text", cell)
    hottest = [line for line in out.stdout.splitlines() if "%" in line and "(" in line][1]
    assert "helper" in hottest or "work" in hottest, out.stdout


def test_lines_magic_counts_hits_per_line(shell):
    with capture_output() as out:
        shell.run_line_magic("hotscope_lines", "-f work --text work(5)")
    hits = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[0].isdigit() and fields[1].isdigit():
            hits[line.split(None, 5)[-1].strip()] = int(fields[1])
    assert hits["for i in range(n):"] == 6
    assert hits["helper(i)"] == 5


def test_errors_are_usage_errors_and_failures_still_report(shell):
    with pytest.raises(UsageError):
        shell.run_line_magic("hotscope_lines", "work(1)")
    with pytest.raises(UsageError):
        shell.run_line_magic("hotscope_lines", "-f no_such_function work(1)")
    with pytest.raises(UsageError):
        shell.run_line_magic("hotscope", "")
    with capture_output() as out, pytest.raises(ZeroDivisionError):
        shell.run_line_magic("hotscope", "--text work(3); 1/0")
    assert table_calls(out.stdout, "helper") == 3
