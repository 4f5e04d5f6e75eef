"""The HTML report's additions for threads and calls, in chromium (see
test_browser.py for the setup): the "Slowest calls" table (the rows are the
calls the model carries, grouped by function, slowest first, arguments
shown as text, markup included; the thread selector keeps only that
thread's calls, of the function's slowest over all threads), the function
table's Waiting column (total wall minus total CPU, from the model), and
the thread selector's GIL states of a sampled profile."""

import subprocess
import sys
import textwrap
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from test_browser import assert_clean, driver, open_page  # noqa: F401 (driver is a fixture)

import hotscope

PROGRAM = textwrap.dedent("""
    import threading, time

    def step(n, note):
        time.sleep(n / 1000)

    def worker():
        for n in (3, 20, 6):
            step(n, "worker")

    t = threading.Thread(target=worker, name="helper")
    t.start()
    for n in (1, 12, 4):
        step(n, "<script>alert(1)</script>")
    t.join()
""")


def rows(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#slow-calls-table tbody tr')).map(tr =>"
        " Array.from(tr.cells).map(td => td.textContent))")


def test_slow_calls_table(driver, tmp_path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    run = subprocess.run([sys.executable, "-m", "hotscope", "trace", "--slow-calls", "2", "--func",
                          "__main__:step", "-o", "prog.html", "prog.py"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    calls = hotscope.load(str(tmp_path / "prog.html")).slow_calls()
    open_page(driver, tmp_path / "prog.html")
    shown = rows(driver)
    assert [r[2] for r in shown] == [c["args"] for c in calls]
    assert shown[0][0].startswith("step") and shown[1][0] == ""
    assert [r[4] for r in shown] == [c["thread"] for c in calls]
    assert "n=12, note='<script>alert(1)</script>'" in [r[2] for r in shown]
    assert driver.execute_script("return document.scripts.length") == 2
    select = Select(driver.find_element(By.ID, "thread"))
    options = [o.text for o in select.options]
    select.select_by_index([o.startswith("helper ") for o in options].index(True))
    # the two slowest of the function, over all threads, are 20 (helper) and 12 (main)
    assert [r[2] for r in rows(driver)] == ["n=20, note='worker'"]
    select.select_by_index([o.startswith("MainThread ") for o in options].index(True))
    assert [r[2] for r in rows(driver)] == ["n=12, note='<script>alert(1)</script>'"]
    select.select_by_index(0)
    assert len(rows(driver)) == 2
    assert_clean(driver)


def test_waiting_column_and_gil_states(driver, tmp_path):
    (tmp_path / "prog.py").write_text(PROGRAM)
    run = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", "prog.html", "prog.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = hotscope.load(str(tmp_path / "prog.html"))
    wall, cpu = data.pstats(clock="wall"), data.pstats(clock="cpu")
    step = next(k for k in wall if k[2] == "step")
    open_page(driver, tmp_path / "prog.html")
    titles = driver.execute_script("return Array.from(document.querySelectorAll('#functions th')).map(t => t.textContent)")
    column = titles.index("Waiting")
    cells = driver.execute_script(
        "return Array.from(document.querySelectorAll('#functions tbody tr')).map(tr =>"
        " Array.from(tr.cells).map(td => td.textContent))")
    row = next(r for r in cells if r[0] == "step")
    waiting_ms = (wall[step][3] - cpu[step][3]) * 1e3
    shown = row[column]
    assert shown.endswith(" ms"), shown
    assert abs(float(shown[:-3]) - waiting_ms) <= 0.05 * waiting_ms, (shown, waiting_ms)
    assert_clean(driver)

    gil_program = Path(__file__).resolve().parent / "targets" / "sample_gil.py"
    record = subprocess.run([sys.executable, "-m", "hotscope", "record", "--mode", "cpu", "-o", "rec.html", "--",
                             sys.executable, str(gil_program), "1"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert record.returncode == 0, record.stderr
    open_page(driver, tmp_path / "rec.html")
    options = [o.text for o in Select(driver.find_element(By.ID, "thread")).options]
    assert any(" \u2014 holds GIL " in o and "waits lock" in o and "waits other" in o for o in options), options
    assert_clean(driver)
