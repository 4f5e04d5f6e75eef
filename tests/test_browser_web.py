"""The reports of hotscope.web and of the notebook magic in a real browser
(chromium through selenium, as tests/test_browser.py).

Served by the middleware, the report arrives with a Content-Security-Policy
header that allows its script only by hash: the page must still draw
itself (the hash is right) and request nothing. In a notebook the report
sits in an <iframe srcdoc> sandboxed to scripts only: it must draw there
too, and its table must show the profiled function.
"""

import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import hotscope.web
from test_browser import BROWSERS, DRIVERS, assert_clean, find_tool


@pytest.fixture(scope="module")
def driver():
    """test_browser.py's headless chromium, but with 127.0.0.1 reachable
    (the page comes from the middleware there); every name still resolves
    nowhere."""
    browser, chromedriver = find_tool(BROWSERS), find_tool(DRIVERS)
    if not browser or not chromedriver:
        pytest.fail("the browser tests need Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver; .ci/run does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,1000",
                "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def helper(i):
    return sum(range(i))


def app(environ, start_response):
    for i in range(40):
        helper(i)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"page"]


def table_functions(driver):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#functions tbody td.fn')).map(td => td.textContent)")


def wait_ready(driver, timeout=30):
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.body && document.body.getAttribute('data-ready')"))


def test_served_report_draws_under_the_hash_policy(driver, tmp_path):
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    class Threaded(ThreadingMixIn, WSGIServer):
        # A connection chromium opens ahead and leaves idle must not hold up the next.
        daemon_threads = True

    server = make_server("127.0.0.1", 0, hotscope.web.WSGIMiddleware(app, directory=str(tmp_path)),
                         server_class=Threaded, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        driver.get("http://127.0.0.1:%d/page?hotscope=1" % server.server_port)
        wait_ready(driver)
        assert any(name.startswith("helper") for name in table_functions(driver))
        assert_clean(driver)
        driver.get("http://127.0.0.1:%d/_hotscope/" % server.server_port)
        driver.find_element(By.LINK_TEXT, "report").click()
        wait_ready(driver)
        assert_clean(driver)
    finally:
        server.shutdown()
        thread.join()


def test_notebook_iframe_draws_the_report(driver, tmp_path):
    pytest.importorskip("IPython")
    from hotscope.ipython import inline_html

    with hotscope.trace() as t:
        for i in range(25):
            helper(i)
    page = tmp_path / "notebook.html"
    page.write_text("<!DOCTYPE html><html><body>%s</body></html>" % inline_html(t.snapshot().html()).data)
    driver.get(page.as_uri())
    frame = driver.find_element(By.TAG_NAME, "iframe")
    driver.switch_to.frame(frame)
    try:
        wait_ready(driver)
        assert any(name.startswith("helper") for name in table_functions(driver))
        # Sandboxed without same-origin: the report cannot reach the notebook.
        assert driver.execute_script("try { return window.parent.document.body ? 'reached' : 'none'; }"
                                     " catch (e) { return 'blocked'; }") == "blocked"
    finally:
        driver.switch_to.default_content()
    assert_clean(driver)
