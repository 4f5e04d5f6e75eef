"""The flame graph SVG and the HTML report in a real browser: Debian's
chromium, headless, driven by selenium through Debian's chromedriver.

On traces of programs with a known structure (work_a 70% / work_b 30% of
the CPU time; two threads) it clicks, types and reads what the page shows:
zoom, reset, search with the matched share, the function table sorted and
filtered, the call tree expanded and collapsed with library frames hidden,
the thread selector, the timeline. Names made of markup must show as text
and run nothing. After every page: no console error or warning, no
request of any kind (performance resource entries empty, and every host
name resolves nowhere), no dialog left open.

.ci/run installs chromium and chromium-driver when they are missing; if
they still cannot be found these tests fail, saying so.
"""

import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

import flamekit

BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver")
GRAPH_WIDTH = 1180.0


def find_tool(names):
    for name in names:
        path = shutil.which(name) or (name if Path(name).is_file() else None)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def driver():
    browser, chromedriver = find_tool(BROWSERS), find_tool(DRIVERS)
    if not browser or not chromedriver:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver; .ci/run does it): "
                    "chromium %s, chromedriver %s" % (browser or "not found", chromedriver or "not found"))
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,1400",
                "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-extensions",
                # No host name resolves: a request could not leave the machine.
                "--host-resolver-rules=MAP * ~NOTFOUND"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def open_page(driver, path, timeout=30):
    """Loads the file and waits until its script has drawn the page;
    returns the seconds that took."""
    started = time.time()
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "var b = document.body || document.documentElement;"
        "return b.getAttribute('data-ready') || document.documentElement.getAttribute('data-ready');"))
    return time.time() - started


def assert_clean(driver):
    """No console message above info, no request, no dialog."""
    messages = [m for m in driver.get_log("browser") if m["level"] in ("SEVERE", "WARNING")]
    assert messages == []
    assert driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text


def model_share(model, names, weight):
    """The share of `weight` in nodes under frames named `names` (outermost
    only), from the embedded model, read here independently of the page."""
    w = len(model["weights"])
    k = model["weights"].index(weight)
    nodes = model["nodes"]
    n = len(nodes) // (2 + w) + 1
    parent = [-1] * n
    frame = [-1] * n
    selfw = [0] * n
    for i in range(1, n):
        base = (i - 1) * (2 + w)
        parent[i], frame[i], selfw[i] = nodes[base], nodes[base + 1], nodes[base + 2 + k]
    total = [0] * n
    for i in range(n - 1, 0, -1):
        total[i] += selfw[i]
        total[parent[i]] += total[i]
    total[0] += selfw[0]
    hit = 0
    for i in range(1, n):
        if model["strings"][model["frames"][frame[i]][0]] in names:
            a = parent[i]
            while a > 0 and model["strings"][model["frames"][frame[a]][0]] not in names:
                a = parent[a]
            if a <= 0:
                hit += total[i]
    return 100.0 * hit / total[0]


@pytest.fixture(scope="module")
def split_files(tmp_path_factory):
    """SVG and HTML of one traced run each of SPLIT_PROGRAM, on the CPU clock."""
    tmp = tmp_path_factory.mktemp("browser_split")
    svg = flamekit.trace_to(tmp, "prog.py", flamekit.SPLIT_PROGRAM, "split.svg", options=("--clock", "cpu"))
    html = flamekit.trace_to(tmp, "prog.py", flamekit.SPLIT_PROGRAM, "split.html", options=("--clock", "cpu"))
    return svg, html


# ---- the SVG -----------------------------------------------------------------

def svg_frame(driver, name):
    return driver.find_element(By.XPATH, "//*[local-name()='g' and contains(@class, 'f')]"
                               "[*[local-name()='text' and starts-with(., '%s ')]]" % name)


def rect_width(g):
    return float(g.find_element(By.XPATH, "*[local-name()='rect']").get_attribute("width"))


def test_svg_zoom_reset_search(driver, split_files):
    svg, _ = split_files
    open_page(driver, svg)
    work_a, work_b = svg_frame(driver, "work_a"), svg_frame(driver, "work_b")
    width_a, width_b = rect_width(work_a), rect_width(work_b)
    assert 0 < width_b < width_a < GRAPH_WIDTH

    work_a.find_element(By.XPATH, "*[local-name()='rect']").click()
    assert rect_width(work_a) == pytest.approx(GRAPH_WIDTH, abs=0.01)
    assert not work_b.is_displayed()
    reset = driver.find_element(By.ID, "reset")
    assert reset.is_displayed()
    # The label was redrawn for the wider box: the full label now.
    assert work_a.find_element(By.XPATH, "*[local-name()='text']").text.startswith("work_a (prog.py:")

    reset.click()
    assert rect_width(work_a) == pytest.approx(width_a, abs=0.01)
    assert work_b.is_displayed() and rect_width(work_b) == pytest.approx(width_b, abs=0.01)

    driver.find_element(By.ID, "search").click()
    prompt = WebDriverWait(driver, 5).until(expected_conditions.alert_is_present())
    prompt.send_keys("work_a")
    prompt.accept()
    matched = driver.find_element(By.ID, "matched").text
    share = float(re.match(r"Matched: ([\d.]+)% of total", matched).group(1))
    model = flamekit.embedded_model(svg.read_bytes())
    assert share == pytest.approx(model_share(model, {"work_a"}, "cpu_ns"), abs=0.2)
    assert share == pytest.approx(70.0, abs=2.0)
    hits = driver.find_elements(By.CSS_SELECTOR, "g.f.hit")
    assert hits == [work_a]

    # Ctrl-F searches too (a regular expression here).
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("f").key_up(Keys.CONTROL).perform()
    prompt = WebDriverWait(driver, 5).until(expected_conditions.alert_is_present())
    prompt.send_keys("^work_[ab] ")
    prompt.accept()
    # The key-up events went to the dialog: release Control for what follows.
    ActionChains(driver).key_up(Keys.CONTROL).perform()
    both = float(re.match(r"Matched: ([\d.]+)%", driver.find_element(By.ID, "matched").text).group(1))
    assert both == pytest.approx(model_share(model, {"work_a", "work_b"}, "cpu_ns"), abs=0.2)
    assert len(driver.find_elements(By.CSS_SELECTOR, "g.f.hit")) == 2
    assert_clean(driver)


def test_svg_tooltip(driver, split_files):
    svg, _ = split_files
    open_page(driver, svg)
    rect = svg_frame(driver, "work_a").find_element(By.XPATH, "*[local-name()='rect']")
    ActionChains(driver).move_to_element(rect).perform()
    tip = driver.find_element(By.ID, "tip")
    WebDriverWait(driver, 5).until(lambda d: tip.get_attribute("visibility") == "visible")
    lines = [s.text for s in tip.find_elements(By.XPATH, ".//*[local-name()='tspan']")]
    assert lines[0].startswith("work_a (prog.py:")
    assert any(re.match(r"Total: [\d.]+ m?s \([\d.]+%\)", l) for l in lines)
    assert any(l.startswith("Self: ") for l in lines)
    assert_clean(driver)


# ---- the HTML report -----------------------------------------------------------

def table_names(driver):
    """The function names in the table, in order (read in one step: the
    table may be redrawn at any moment)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#functions tbody td.fn')).map(td => td.textContent)")


def tree_row(driver, name):
    """The call tree's row of function `name`; a method matches by its last
    part too ("encode" finds "JSONEncoder.encode", which is all 3.10 names)."""
    def matches(text):
        return text == name or text.split(".")[-1] == name
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#calltree .row")
            if matches(r.find_element(By.CSS_SELECTOR, ".name").text)]
    return rows[0] if rows else None


def test_html_header_and_table(driver, split_files):
    _, html = split_files
    open_page(driver, html)
    assert driver.find_element(By.ID, "command").text.endswith("prog.py")
    facts = driver.find_element(By.ID, "facts").text
    assert "Python" in facts and "Duration" in facts and "Engine\ntrace" in facts

    driver.find_element(By.CSS_SELECTOR, "#functions th[data-key='self']").click()
    names = table_names(driver)
    assert names[0] == "work_a" and names[1] == "work_b"
    # Click again: ascending.
    driver.find_element(By.CSS_SELECTOR, "#functions th[data-key='self']").click()
    assert table_names(driver)[-1] == "work_a"
    driver.find_element(By.CSS_SELECTOR, "#functions th[data-key='name']").click()
    names = table_names(driver)
    assert names == sorted(names)

    headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#functions th")]
    assert headers[:6] == ["Function", "File:line", "Self", "Self %", "Total", "Total %"]
    assert "Calls" in headers and "Per call" in headers and "Self wall" in headers

    box = driver.find_element(By.ID, "table-filter")
    box.send_keys("work_")
    WebDriverWait(driver, 5).until(lambda d: sorted(table_names(d)) == ["work_a", "work_b"])
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    WebDriverWait(driver, 5).until(lambda d: len(table_names(d)) > 5)
    assert_clean(driver)


def test_html_header_of_a_sampled_profile(driver, tmp_path):
    """A recording's header: its sample count (the sampler's passes, as
    the model's metadata holds it, grouped by thousands), rate, duration."""
    script = tmp_path / "busy.py"
    script.write_text("import time\nend = time.process_time() + 1.5\nwhile time.process_time() < end:\n    pass\n")
    html = tmp_path / "rec.html"
    proc = flamekit.hotscope("record", "--rate", "1000", "-o", str(html), "--", sys.executable, str(script))
    assert proc.returncode == 0, proc.stderr
    model = flamekit.embedded_model(html.read_bytes())
    passes = int(model["meta"]["samples"])
    # Every pass found the one busy thread, but a few at its start and end.
    k = 2 + model["weights"].index("samples")
    in_stacks = sum(model["nodes"][k::2 + len(model["weights"])])
    assert 1000 < passes and 0.9 * passes <= in_stacks <= passes, (passes, in_stacks)
    open_page(driver, html)
    facts = driver.find_element(By.ID, "facts").text
    assert "Samples\n{:,}".format(passes) in facts, facts
    assert "Engine\nsample (wall)" in facts and "Rate\n1000 Hz" in facts and "Duration" in facts
    assert_clean(driver)


def test_html_call_tree(driver, split_files):
    _, html = split_files
    open_page(driver, html)
    main = tree_row(driver, "main")
    assert main is not None and tree_row(driver, "work_a") is not None
    # Library frames are hidden by default: the json machinery is one
    # "N library frames" row, with the program's own callback under it.
    assert tree_row(driver, "encode") is None
    groups = [r for r in driver.find_elements(By.CSS_SELECTOR, "#calltree .row.group")
              if "dumps" in r.text]
    assert len(groups) == 1 and re.search(r"\d+ library frames", groups[0].text)
    assert tree_row(driver, "to_json") is not None

    main.find_element(By.CSS_SELECTOR, ".tog").click()  # collapse
    assert tree_row(driver, "work_a") is None and tree_row(driver, "main") is not None
    tree_row(driver, "main").find_element(By.CSS_SELECTOR, ".tog").click()  # expand
    assert tree_row(driver, "work_a") is not None

    group = [r for r in driver.find_elements(By.CSS_SELECTOR, "#calltree .row.group") if "dumps" in r.text][0]
    group.find_element(By.CSS_SELECTOR, ".tog").click()
    assert tree_row(driver, "encode") is not None
    assert tree_row(driver, "dumps") is not None

    driver.find_element(By.ID, "show-library").click()
    assert driver.find_elements(By.CSS_SELECTOR, "#calltree .row.group") == []
    assert tree_row(driver, "encode") is not None
    assert_clean(driver)


def flame_boxes(driver):
    return driver.execute_script("return window.hotscopeReport.flameBoxes()")


def click_box(driver, label_start, kinds=("frame",)):
    canvas = driver.find_element(By.ID, "flame-canvas")
    boxes = [b for b in flame_boxes(driver) if b["label"].startswith(label_start) and b["kind"] in kinds]
    assert boxes, label_start
    b = boxes[0]
    size = canvas.size
    dx = b["x"] + min(b["width"] / 2, 20) - size["width"] / 2
    dy = b["y"] + b["height"] / 2 - size["height"] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, int(dx), int(dy)).click().perform()
    return b


def test_html_flame_graph_zoom_and_search(driver, split_files):
    _, html = split_files
    open_page(driver, html)
    driver.find_element(By.ID, "mode-icicle").click()
    before = {b["label"].split(" (")[0]: b for b in flame_boxes(driver) if b["kind"] == "frame"}
    width = driver.execute_script("return window.hotscopeReport.flameWidth()")
    assert before["all"]["y"] == 0 and before["all"]["width"] == pytest.approx(width)
    assert 0 < before["work_b"]["width"] < before["work_a"]["width"] < width

    click_box(driver, "work_a (")
    assert driver.find_element(By.ID, "zoom-path").text.startswith("Zoomed into: work_a (prog.py:")
    after = {b["label"].split(" (")[0]: b for b in flame_boxes(driver)}
    assert after["work_a"]["width"] == pytest.approx(width) and after["work_a"]["kind"] == "frame"
    assert after["main"]["kind"] == "caller" and "work_b" not in after

    driver.find_element(By.ID, "reset-zoom").click()
    again = {b["label"].split(" (")[0]: b for b in flame_boxes(driver) if b["kind"] == "frame"}
    assert again["work_b"]["width"] == pytest.approx(before["work_b"]["width"])

    # The flame graph proper: the root at the bottom.
    driver.find_element(By.ID, "mode-flame").click()
    flame = {b["label"].split(" (")[0]: b for b in flame_boxes(driver) if b["kind"] == "frame"}
    assert flame["all"]["y"] == max(b["y"] for b in flame.values())

    driver.find_element(By.ID, "search").send_keys("work_a" + Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "matched").text)
    share = float(re.match(r"Matched: ([\d.]+)% of total", driver.find_element(By.ID, "matched").text).group(1))
    model = flamekit.embedded_model(html.read_bytes())
    assert share == pytest.approx(model_share(model, {"work_a"}, "cpu_ns"), abs=0.1)
    assert share == pytest.approx(70.0, abs=2.0)
    assert [b["label"].split(" (")[0] for b in flame_boxes(driver) if b["matched"]] == ["work_a"]
    assert_clean(driver)


def test_html_tooltip(driver, split_files):
    _, html = split_files
    open_page(driver, html)
    driver.find_element(By.ID, "mode-icicle").click()
    canvas = driver.find_element(By.ID, "flame-canvas")
    b = [b for b in flame_boxes(driver) if b["label"].startswith("work_a (")][0]
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(b["x"] + 10 - canvas.size["width"] / 2), int(b["y"] + 8 - canvas.size["height"] / 2)).perform()
    tip = driver.find_element(By.ID, "tooltip")
    WebDriverWait(driver, 5).until(lambda d: tip.is_displayed())
    assert tip.text.startswith("work_a (prog.py:")
    assert re.search(r"Total: .* \([\d.]+%\)", tip.text) and "Self: " in tip.text and "wall time: " in tip.text
    assert_clean(driver)


def test_html_thread_selector(driver, tmp_path):
    html = flamekit.trace_to(tmp_path, "threads.py", flamekit.THREADS_PROGRAM, "threads.html")
    open_page(driver, html)
    select = Select(driver.find_element(By.ID, "thread"))
    options = [o.text for o in select.options]
    assert options[0] == "All threads (merged)" and len(options) == 3
    names = set(table_names(driver))
    assert {"thread_work", "main_work"} <= names

    def labels():
        return {b["label"].split(" (")[0] for b in flame_boxes(driver)}

    select.select_by_index([o.startswith("T1 ") for o in options].index(True))
    names = set(table_names(driver))
    assert "thread_work" in names and "main_work" not in names
    assert "thread_work" in labels() and "main_work" not in labels()
    select.select_by_index([o.startswith("MainThread ") for o in options].index(True))
    names = set(table_names(driver))
    assert "main_work" in names and "thread_work" not in names
    assert tree_row(driver, "main_work") is not None and tree_row(driver, "thread_work") is None
    select.select_by_index(0)
    assert {"thread_work", "main_work"} <= set(table_names(driver))
    assert_clean(driver)


# ---- hostile names ------------------------------------------------------------------

def test_hostile_trace_renders_as_text(driver, tmp_path):
    name = flamekit.HOSTILE_NAME
    svg = flamekit.trace_to(tmp_path, "hostile.py", flamekit.HOSTILE_PROGRAM, "hostile.svg")
    html = flamekit.trace_to(tmp_path, "hostile.py", flamekit.HOSTILE_PROGRAM, "hostile.html")

    open_page(driver, html)
    assert driver.execute_script("return document.scripts.length") == 2
    # The cell's text is exactly the name, newline and all.
    assert name in table_names(driver)
    cell = [td for td in driver.find_elements(By.CSS_SELECTOR, "#functions td.fn")
            if "alert(1)" in td.text][0]
    assert cell.get_attribute("textContent") == name
    locs = [td.get_attribute("textContent") for td in driver.find_elements(By.CSS_SELECTOR, "#functions td.loc")]
    assert any(loc.startswith(flamekit.HOSTILE_FILE + ":") for loc in locs)
    driver.find_element(By.ID, "search").send_keys("alert" + Keys.ENTER)
    WebDriverWait(driver, 5).until(lambda d: d.find_element(By.ID, "matched").text)
    assert_clean(driver)

    open_page(driver, svg)
    assert driver.execute_script("return document.getElementsByTagName('script').length") == 2
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('g.f text')).map(t => t.textContent)")
    assert any(t.startswith("<script>alert(1)</script>") for t in texts)
    assert_clean(driver)


def test_hostile_fixture_and_timeline(driver, tmp_path):
    exe = flamekit.build_fixtures(tmp_path)
    flamekit.run_fixture(exe, "hostile", tmp_path)
    open_page(driver, tmp_path / "hostile.html")
    assert driver.execute_script("return document.scripts.length") == 2
    assert driver.find_element(By.ID, "command").text == "<img src=x onerror=alert(5)> & \"quoted\" 'x'"
    assert driver.title == "hotscope: <img src=x onerror=alert(5)> & \"quoted\" 'x'"
    assert driver.find_elements(By.TAG_NAME, "img") == []
    options = [o.text for o in Select(driver.find_element(By.ID, "thread")).options]
    assert options[2] == "worker <b>&\"' (tid 101)"
    names = table_names(driver)
    for n in ("<script>alert(1)</script>", "</script><script>alert(3)</script>", "]]><script>alert(4)</script>",
              "quote\"s'and&amp;", "new\nline", "bad\ufffd\ufffdname"):
        assert n in names
    timeline = driver.find_element(By.ID, "timeline")
    assert timeline.is_displayed()
    legend = timeline.find_element(By.CSS_SELECTOR, ".legend").text
    assert "MainThread" in legend and "worker <b>&\"'" in legend
    Select(driver.find_element(By.ID, "thread")).select_by_index(2)
    legend = timeline.find_element(By.CSS_SELECTOR, ".legend").text
    assert "worker" in legend and "MainThread" not in legend
    assert_clean(driver)

    for name in ("hostile.svg", "hostile.icicle.svg"):
        open_page(driver, tmp_path / name)
        assert driver.execute_script("return document.getElementsByTagName('script').length") == 2
        assert_clean(driver)


# ---- a memory profile: heap and RSS over time -------------------------------------------

GROWING_PROGRAM = """\
import time
keep = []
for i in range(40):
    keep.append(bytearray(250_000))
    time.sleep(0.002)
del keep
"""


def test_memory_timeline_and_svg_plot(driver, tmp_path):
    import subprocess
    import sys

    (tmp_path / "grow.py").write_text(GROWING_PROGRAM)
    for out in ("mem.html", "mem.svg"):
        r = subprocess.run([sys.executable, "-m", "hotscope", "mem", "--interval", "1", "-o", out, "grow.py"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert r.returncode == 0, r.stderr
    open_page(driver, tmp_path / "mem.html")
    model = json.loads(driver.execute_script("return document.getElementById('hotscope-profile').textContent"))
    heap, rss = [max(s["points"][1::2]) for s in model["series"]]
    assert [s["name"] for s in model["series"]] == ["heap_bytes", "rss_bytes"] and heap >= 1_000_000
    timeline = driver.find_element(By.ID, "timeline")
    assert timeline.is_displayed()
    legend = timeline.find_element(By.CSS_SELECTOR, ".legend").text
    assert "heap_bytes (process, bytes, max %.2f MiB)" % (heap / 1048576) in legend
    assert "rss_bytes (process, bytes, max %.2f MiB)" % (rss / 1048576) in legend
    # one scale for both: each line's highest pixel is at its maximum's
    # height on the scale of the larger (the canvas is 110 px high, 4 px
    # margin below, 6 above; the line 1.5 px wide)
    tops = driver.execute_script("""
        var c = document.getElementById('timeline-canvas'), d = c.getContext('2d')
            .getImageData(0, 0, c.width, c.height).data, dpr = window.devicePixelRatio || 1;
        function top(r, g, b) {
          for (var y = 0; y < c.height; y++)
            for (var x = 0; x < c.width; x++) {
              var i = (y * c.width + x) * 4;
              if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 &&
                  Math.abs(d[i + 2] - b) < 40) return y / dpr;
            }
          return -1;
        }
        return [top(26, 86, 168), top(232, 121, 58)];""")
    scale = max(heap, rss)
    for value, y in zip((heap, rss), tops):
        assert abs(y - (110 - 4 - value / scale * 100 - 0.75)) <= 2.5, (value, scale, tops)
    assert_clean(driver)
    open_page(driver, tmp_path / "mem.svg")
    plot = driver.find_element(By.ID, "memory-plot")
    assert plot.is_displayed() and "Memory over time" in plot.text
    assert len(plot.find_elements(By.XPATH, ".//*[local-name()='polyline']")) == 2
    assert_clean(driver)


# ---- 100,000 distinct stacks -----------------------------------------------------------

def test_big_profile_opens_and_draws(driver, tmp_path):
    exe = flamekit.build_fixtures(tmp_path)
    flamekit.run_fixture(exe, "big", tmp_path)
    html = tmp_path / "big.html"
    assert html.stat().st_size < 10 * 1024 * 1024
    seconds = open_page(driver, html, timeout=60)
    assert seconds < 10, seconds
    timings = driver.execute_script("return window.hotscopeReport.timings")
    boxes = flame_boxes(driver)
    assert 200 < len(boxes) < 50000 and any(b["kind"] == "merged" for b in boxes)
    assert len(table_names(driver)) == 300
    assert driver.find_element(By.ID, "table-more").is_displayed()
    started = time.time()
    click_box(driver, "func_")
    assert driver.find_element(By.ID, "zoom-path").text.startswith("Zoomed into: func_")
    assert time.time() - started < 5
    print("big.html: ready in %.2f s; phases (ms): %s" % (seconds, json.dumps(timings)))
    assert_clean(driver)

    svg = tmp_path / "big.svg"
    seconds = open_page(driver, svg, timeout=60)
    assert seconds < 10, seconds
    g = driver.find_element(By.XPATH, "//*[local-name()='g' and @class='f'][*[local-name()='text' and starts-with(., 'func_')]]")
    g.find_element(By.XPATH, "*[local-name()='rect']").click()
    assert rect_width(g) == pytest.approx(GRAPH_WIDTH, abs=0.01)
    print("big.svg: ready in %.2f s" % seconds)
    assert_clean(driver)


def test_merged_report_shows_exact_tables(driver, tmp_path):
    """A tree too big for a page is merged (narrow_merge.h): the page says
    so, and its function table is the exact one it carries, for all
    threads and for one."""
    exe = flamekit.build_fixtures(tmp_path)
    flamekit.run_fixture(exe, "merge", tmp_path)
    html = tmp_path / "merge.html"
    model = flamekit.embedded_model(html.read_bytes())
    stride = 2 + 2 * len(model["weights"])
    k = model["weights"].index("samples")
    seconds = open_page(driver, html, timeout=60)
    assert seconds < 10, seconds
    note = driver.find_element(By.ID, "merged-note").text
    assert "[narrow paths merged]" in note and "counts them exactly" in note
    tables = {t["root"]: t["rows"] for t in model["functions"]}

    def shown(root):
        rows = tables[root]
        count = driver.find_element(By.ID, "table-count").text
        assert count == "%d functions" % (len(rows) // stride)
        top = max(rows[j + 3 + 2 * k] for j in range(0, len(rows), stride))
        cells = driver.execute_script(
            "var th = Array.from(document.querySelectorAll('#functions thead th')).map(t => t.textContent);"
            "var tr = document.querySelector('#functions tbody tr');"
            "return Array.from(tr.children)[th.indexOf('Total')].textContent;")
        assert cells == "{:,}".format(top)

    shown(0)
    select = Select(driver.find_element(By.ID, "thread"))
    select.select_by_index(2)
    shown(model["threads"][1]["root"])
    assert_clean(driver)


# ---- hotscope diff -----------------------------------------------------------------------

def test_diff_html_draws_removed_code(driver, tmp_path):
    """The differential graph inside diff.html: the path only BEFORE had is
    drawn (as wide as its 20 of the union's 84 samples), teal, and its
    tooltip says so; zooming into it fills the width."""
    from hotscope import _core

    before = _core.load(b"thread T;main;a 30\nthread T;main;gone 20\nthread T;main;b 10\nthread T;main 4\n",
                        "collapsed")
    after = _core.load(b"thread T;main;a 10\nthread T;main;new 5\nthread T;main;b 25\nthread T;main 4\n",
                       "collapsed")
    page = tmp_path / "diff.html"
    page.write_bytes(_core.diff(before, after, clock="samples", format="html"))
    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "var s = document.getElementById('hotscope-flame'); return s && s.getAttribute('data-ready');"))
    gone = driver.find_element(By.XPATH, "//*[local-name()='g' and contains(@class, 'f')]"
                                         "[*[local-name()='text' and .='gone']]")
    assert "removed" in gone.get_attribute("class").split()
    rect = gone.find_element(By.XPATH, "*[local-name()='rect']")
    assert rect.is_displayed() and rect.get_attribute("fill") == "#52c4b0"
    assert rect_width(gone) == pytest.approx(GRAPH_WIDTH * 20 / 84, abs=0.02)
    ActionChains(driver).move_to_element(rect).perform()
    tip = driver.find_element(By.ID, "tip")
    WebDriverWait(driver, 5).until(lambda d: tip.get_attribute("visibility") == "visible")
    lines = [s.text for s in tip.find_elements(By.XPATH, ".//*[local-name()='tspan']")]
    assert lines == ["gone", "only in BEFORE: 20 samples (31.25% of BEFORE), removed"]
    rect.click()
    assert rect_width(gone) == pytest.approx(GRAPH_WIDTH, abs=0.02)
    assert_clean(driver)
