"""The HTML report's "Slowest calls" table in chromium (see test_browser.py
for the setup): the rows are the calls the model carries, grouped by
function, slowest first, arguments shown as text (markup included), and
the thread selector keeps only that thread's calls (of the function's
slowest over all threads)."""

import subprocess
import sys
import textwrap

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
