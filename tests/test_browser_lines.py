"""The Lines view of a line profile's HTML report in a real browser
(chromium through selenium, started as tests/test_browser.py starts it).

It reads what the page shows and compares it with ground truth: the hits
in each rendered row against the interpreter's own line events
(sys.settrace), the shading against the time the row shows (more time,
darker; the line that sleeps the darkest), hostile source shown as text
with nothing run, a function without source marked, folding, the tabs,
and a clean console.
"""
import re

from selenium.webdriver.common.by import By

from lineskit import HOSTILE_LINES, all_codes, load_target, made_without_source, settrace_counts
from test_browser import assert_clean, driver, open_page  # noqa: F401 (driver is a fixture)

import hotscope

# Every row of every function block, as the page shows it.
READ_ROWS = """
return Array.from(document.querySelectorAll('#lines .linefn')).map(function (block) {
  return {
    name: block.getAttribute('data-name'), first: Number(block.getAttribute('data-first')),
    file: block.getAttribute('data-file'),
    tableShown: block.querySelector('table').offsetParent !== null,
    rows: Array.from(block.querySelectorAll('tbody tr')).map(function (tr) {
      var cells = tr.querySelectorAll('td');
      return { line: Number(cells[0].textContent), hits: cells[1].textContent, time: cells[2].textContent,
        pct: cells[4].textContent, ns: tr.getAttribute('data-ns'),
        shade: getComputedStyle(tr).backgroundColor,
        src: cells[5].textContent, nosrc: cells[5].classList.contains('nosrc') };
    })
  };
});
"""


def alpha(css_color):
    """The opacity of a computed CSS color: rgb(...) is 1, rgba(..., a) is a."""
    parts = re.findall(r"[\d.]+", css_color)
    return float(parts[3]) if css_color.startswith("rgba") else 1.0


def shown(driver, element_id):
    return driver.find_element(By.ID, element_id).is_displayed()


def test_lines_view_shows_hits_shading_and_source_as_text(driver, tmp_path):
    mod = load_target(tmp_path)
    made = made_without_source()

    def run():
        mod.hot(10)
        mod.hot(4)
        mod.hostile()
        made(5)

    expected = settrace_counts(all_codes([mod.hot, mod.hostile, made]), run)
    with hotscope.lines(mod.hot, mod.hostile, made) as lp:
        run()
    html = tmp_path / "lines.html"
    lp.save(str(html))

    open_page(driver, html)
    # The default view of a line profile: the Lines tab, the others hidden.
    assert driver.find_element(By.ID, "tab-lines").get_attribute("class") == "on"
    assert shown(driver, "lines") and not shown(driver, "flame") and not shown(driver, "table")
    blocks = driver.execute_script(READ_ROWS)
    assert [b["name"] for b in blocks][0] == "hot"  # hottest first: it sleeps
    totals = [sum(int(r["ns"]) for r in b["rows"] if r["ns"] is not None) for b in blocks]
    assert totals == sorted(totals, reverse=True)

    seen = {}
    for block in blocks:
        assert block["tableShown"]
        for r in block["rows"]:
            key = (block["file"], block["first"], r["line"])
            if r["hits"]:
                seen[key] = int(r["hits"].replace(",", ""))
                share = int(r["ns"]) / sum(int(x["ns"]) for x in block["rows"] if x["ns"] is not None)
                assert abs(float(r["pct"]) - 100 * share) <= 0.05 + 1e-9  # shown to one decimal
            else:  # never executed: blank and unshaded
                assert r["time"] == "" and r["ns"] is None and alpha(r["shade"]) == 0
    assert seen == expected  # every line that ran, with the interpreter's own count

    # Shading: monotone in the row's time; the sleeping line is the darkest.
    hot = blocks[0]
    ran = [(int(r["ns"]), alpha(r["shade"]), r["line"]) for r in hot["rows"] if r["ns"] is not None]
    ran.sort()
    for (ns_a, alpha_a, _), (ns_b, alpha_b, _) in zip(ran, ran[1:]):
        assert alpha_a <= alpha_b, (ns_a, alpha_a, ns_b, alpha_b)
    sleep_line = mod.hot.__code__.co_firstlineno + 7
    assert ran[-1][2] == sleep_line and ran[-1][1] > 0.5
    assert ran[0][1] < ran[-1][1]

    # Hostile source is text, exactly; nothing it spells was made or run.
    hostile = [b for b in blocks if b["name"] == "hostile"][0]
    assert [r["src"] for r in hostile["rows"]][1:] == HOSTILE_LINES
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    assert driver.execute_script("return document.scripts.length") == 2

    # A function whose file is gone: its figures, and the source marked missing.
    made_block = [b for b in blocks if b["name"] == "made"][0]
    assert made_block["rows"] and all(r["nosrc"] and r["src"] == "(source not available)" for r in made_block["rows"])

    # Clicking a function's name folds it, and again unfolds it.
    name = driver.find_elements(By.CSS_SELECTOR, "#lines .linefn .fname")[0]
    table = driver.find_elements(By.CSS_SELECTOR, "#lines .linefn table")[0]
    name.click()
    assert not table.is_displayed()
    name.click()
    assert table.is_displayed()

    # The other views are a tab away, drawn at full width when shown.
    driver.find_element(By.ID, "tab-flame").click()
    assert shown(driver, "flame") and not shown(driver, "lines")
    assert driver.execute_script("return window.hotscopeReport.flameWidth()") > 600
    driver.find_element(By.ID, "tab-table").click()
    assert shown(driver, "table") and not shown(driver, "flame")
    driver.find_element(By.ID, "tab-lines").click()
    assert shown(driver, "lines") and not shown(driver, "table")
    assert_clean(driver)


def test_a_trace_report_has_no_lines_view(driver, tmp_path):
    with hotscope.trace() as t:
        sum(range(1000))
    html = tmp_path / "trace.html"
    t.save(str(html))
    open_page(driver, html)
    assert driver.find_elements(By.ID, "lines") == [] and driver.find_elements(By.ID, "tabs") == []
    assert shown(driver, "flame") and shown(driver, "table") and shown(driver, "tree")
    assert_clean(driver)
