"""hotscope diagnose: each program of tests/targets/bottlenecks.py is built
to be one kind of bottleneck, with the figures known by construction (how
long it sleeps, how many calls, how many bytes it keeps); diagnose must
name that kind at that function, and find nothing in the program whose
work is spread thin. Also: the program's output and exit status are its
own, bad usage is a one-line error, and every HTML report of a trace or a
sample carries the findings."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from flamekit import embedded_model
from test_browser import assert_clean, driver, open_page  # noqa: F401 (driver: the browser fixture)

TARGET = Path(__file__).parent / "targets" / "bottlenecks.py"
SOURCE = TARGET.read_text().splitlines()


def line_of(text):
    return next(n for n, line in enumerate(SOURCE, 1) if text in line)


def diagnose(tmp_path, *args, output="out.json"):
    out = tmp_path / output
    proc = subprocess.run([sys.executable, "-m", "hotscope", "diagnose", "-o", str(out), *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, out


def findings_of(tmp_path, kind, *extra):
    proc, out = diagnose(tmp_path, *extra, TARGET, kind)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr)
    doc = json.loads(out.read_text())
    return json.loads(doc["meta"]["findings"]), proc


def kinds(findings):
    return [f["kind"] for f in findings]


def test_cpu_bound_search(tmp_path):
    findings, proc = findings_of(tmp_path, "cpu")
    top = findings[0]
    assert (top["kind"], top["function"].split(".")[-1]) == ("cpu", "find_duplicates"), findings
    assert not {"waiting", "blocked", "gil", "memory", "gc"} & set(kinds(findings)), findings
    # the line profile of the third run names one of the two lines of the
    # inner loop, where the comparisons are
    assert top["line"] in (line_of("for b in items[:i]"), line_of("if a == b:")), top
    assert any("line profile" in e for e in top["evidence"]), top
    assert "Findings, by the time that could be saved" in proc.stdout
    assert "usually helps" in proc.stdout


def test_waiting_on_a_slow_service_one_call_per_item(tmp_path):
    findings, proc = findings_of(tmp_path, "waiting")
    top = findings[0]
    assert (top["kind"], top["function"].split(".")[-1]) == ("waiting", "lookup"), findings
    # 120 sleeps of 4 ms: at least that long off the CPU
    assert top["seconds"] >= 120 * 0.004 * 0.95, top
    assert any("called 120 times" in e and "N+1" in e for e in top["evidence"]), top
    assert any("time.sleep" in e for e in top["evidence"]), top
    # The program's own output, once: the later runs' output is discarded.
    assert proc.stdout.count(str(sum(k * 2 for k in range(120)))) == 1, proc.stdout


def test_blocked_on_a_lock_held_during_slow_work(tmp_path):
    findings, _ = findings_of(tmp_path, "blocked")
    blocked = [f for f in findings if f["kind"] == "blocked"]
    assert blocked and blocked[0]["function"].split(".")[-1] == "blocked", findings
    # The holder keeps the lock 8 x 40 ms; the main thread asks for it 8
    # times while it is held: well over 0.1 s waiting in all.
    assert blocked[0]["seconds"] >= 0.1, blocked


def test_gc_heavy(tmp_path):
    findings, _ = findings_of(tmp_path, "gc")
    gc = [f for f in findings if f["kind"] == "gc"]
    assert gc, findings
    assert any(re.match(r"collections per generation \(0 1 2\): \d+ \d+ \d+", e) for e in gc[0]["evidence"]), gc
    assert gc[0]["function"].split(".")[-1] in ("__init__", "build_trees"), gc


def test_death_by_a_thousand_calls(tmp_path):
    findings, _ = findings_of(tmp_path, "calls")
    calls = [f for f in findings if f["kind"] == "calls"]
    assert calls and calls[0]["function"] == "calls", findings
    assert any(e.startswith("400000 calls to scale ") for e in calls[0]["evidence"]), calls
    # scale's own CPU-bound finding is the same time: folded into this one
    assert not [f for f in findings if f["kind"] == "cpu" and f["function"] == "scale"], findings


def test_gil_contended_threads(tmp_path):
    findings, _ = findings_of(tmp_path, "gil")
    gil = [f for f in findings if f["kind"] == "gil"]
    assert gil, findings
    text = gil[0]["evidence"][0]
    # the three spinning threads wait for the GIL; the main thread, in
    # join(), waits for them and is not counted
    assert text.count("(spin)") == 3 and "MainThread" not in text, text
    assert gil[0]["threads"] == 3


def test_memory_growth_at_the_line_that_keeps_it(tmp_path):
    findings, _ = findings_of(tmp_path, "memory")
    memory = [f for f in findings if f["kind"] == "memory"]
    assert memory, findings
    # 400 bytearrays of 400,000 bytes are kept: 160 MB
    assert memory[0]["bytes"] >= 100 * 2**20, memory
    assert (memory[0]["function"], memory[0]["line"]) == ("remember", line_of("CACHE[key] = bytearray")), memory


def test_no_false_alarm_when_the_work_is_spread_thin(tmp_path):
    findings, proc = findings_of(tmp_path, "none")
    assert findings == [], findings
    assert "No bottleneck found" in proc.stdout


def test_single_threaded_programs_show_no_gil_contention(tmp_path):
    findings, _ = findings_of(tmp_path, "calls")
    assert "gil" not in kinds(findings)


def test_quick_runs_once_and_judges_from_the_sample(tmp_path):
    findings, proc = findings_of(tmp_path, "cpu", "--quick")
    assert "run 1" in proc.stderr and "run 2" not in proc.stderr, proc.stderr
    top = findings[0]
    assert (top["kind"], top["function"].split(".")[-1]) == ("cpu", "find_duplicates"), findings
    assert top["line"] in (line_of("for b in items[:i]"), line_of("if a == b:")), top


def test_exit_status_is_the_programs(tmp_path):
    proc, out = diagnose(tmp_path, "-c", "import sys; print('hello'); sys.exit(3)")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.count("hello") == 1
    assert out.exists()


@pytest.mark.parametrize("args, message", [
    ((), "nothing to run"),
    (("missing_script.py",), "missing_script.py"),
    (("--rate", "0", str(TARGET), "none"), "--rate"),
])
def test_usage_errors(tmp_path, args, message):
    proc = subprocess.run([sys.executable, "-m", "hotscope", "diagnose", *args], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_unknown_output_format_is_refused_before_running(tmp_path):
    proc, _ = diagnose(tmp_path, TARGET, "none", output="out.xyz")
    assert proc.returncode == 2 and "cannot tell the format" in proc.stderr, proc.stderr
    assert "run 1" not in proc.stderr


def test_every_html_report_of_a_trace_has_findings(tmp_path):
    out = tmp_path / "trace.html"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(out), str(TARGET), "waiting"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(embedded_model(out.read_bytes())["meta"]["findings"])
    assert [(f["kind"], f["function"].split(".")[-1]) for f in findings][:1] == [("waiting", "lookup")], findings


def test_findings_section_in_the_browser(tmp_path, driver):  # noqa: F811
    findings, _ = findings_of(tmp_path, "waiting")
    html = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "view", str(tmp_path / "out.json"), "-o", str(html)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(embedded_model(html.read_bytes())["meta"]["findings"]) == findings
    open_page(driver, html)
    items = driver.find_elements(By.CSS_SELECTOR, "section#findings li.finding")
    assert [i.get_attribute("data-kind") for i in items] == [f["kind"] for f in findings]
    assert "lookup" in items[0].text and "waiting on I/O or sleep" in items[0].text
    items[0].find_element(By.CSS_SELECTOR, "a.where").click()
    assert driver.find_element(By.ID, "search").get_attribute("value").endswith("lookup")
    assert driver.execute_script("return window.hotscopeReport.state.term").endswith("lookup")
    assert_clean(driver)
