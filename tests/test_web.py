"""hotscope.web: WSGI and ASGI middleware, driven through real servers on
127.0.0.1 (werkzeug for Flask and Django, uvicorn for FastAPI) with real
HTTP requests, concurrent ones included.

Ground truth: the views call a helper a number of times chosen by the
test, so the report's call counts are known; the concurrent tests make
another request run a function of its own while the profiled one runs
(an event handshake guarantees the overlap), which its report must not
hold. The sampled share is checked against the same seeded draws the
middleware makes.
"""

import asyncio
import http.client
import json
import random
import socket
import sys
import threading
import time
import types

import pytest

import hotscope
import hotscope.web
from hotscope import _core

HANDSHAKE_TIMEOUT = 20.0


def helper(i):
    return sum(range(i))


def other_helper(i):
    return sum(range(i))


def busy_view_work(seconds):
    """Runs on the CPU for `seconds` (for the sampling mode)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


# ---- plumbing -----------------------------------------------------------------


def get(port, path, headers=None):
    """(status, headers dict with lowercase names, body) of GET path."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def report_counts(body):
    """{function name: calls} of the functions of this file in a served
    report (its embedded model)."""
    data = _core.load(body, "html")
    counts = {}
    for (file, _, name), value in data.pstats().items():
        if file == __file__:
            name = name.split(".")[-1]
            counts[name] = counts.get(name, 0) + value[1]
    return counts


def report_functions(body):
    return {name for _, _, name in _core.load(body, "html").pstats()}


class WSGIServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.server.log = lambda *args, **kwargs: None
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join()


class ASGIServer:
    def __init__(self, app):
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join()
        self.sock.close()


def concurrently(*calls):
    """Runs the calls in threads at once; their results in order."""
    results = [None] * len(calls)
    errors = []

    def run(i, call):
        try:
            results[i] = call()
        except BaseException as e:  # noqa: B036 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


# ---- the apps -----------------------------------------------------------------


def flask_app(events):
    flask = pytest.importorskip("flask")
    app = flask.Flask("hotscope_test_flask")

    @app.route("/work/<int:n>")
    def work(n):
        for i in range(n):
            helper(i)
        return "worked %d" % n

    @app.route("/overlapped/<int:n>")
    def overlapped(n):
        # Starts once the other request runs, and ends before it stops.
        assert events["other_running"].wait(HANDSHAKE_TIMEOUT)
        for i in range(n):
            helper(i)
        time.sleep(0.05)
        events["profiled_done"].set()
        return "overlapped %d" % n

    @app.route("/other")
    def other():
        events["other_running"].set()
        calls = 0
        while not events["profiled_done"].is_set():
            other_helper(50)
            calls += 1
        return "other %d" % calls

    @app.route("/busy")
    def busy():
        busy_view_work(0.2)
        return "busy"

    @app.route("/fail")
    def fail():
        flask.abort(404)

    return app


def new_events():
    return {"other_running": threading.Event(), "profiled_done": threading.Event()}


def wrap_flask(events, **options):
    app = flask_app(events)
    app.wsgi_app = hotscope.web.WSGIMiddleware(app.wsgi_app, **options)
    return app, app.wsgi_app


# ---- Flask (WSGI) ---------------------------------------------------------------


def test_flask_asked_request_gets_the_report_with_exact_counts(tmp_path):
    app, middleware = wrap_flask(new_events(), directory=str(tmp_path))
    with WSGIServer(app) as server:
        status, _, body = get(server.port, "/work/13")
        assert (status, body) == (200, b"worked 13")
        status, headers, report = get(server.port, "/work/17?hotscope=1")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "frame-ancestors 'none'" in policy
    counts = report_counts(report)
    assert counts["work"] == 1
    assert counts["helper"] == 17
    # Only the request: nothing of the server's own loop above it.
    functions = report_functions(report)
    assert "serve_forever" not in functions and "process_request_thread" not in functions
    assert {"_hotscope_request", "wsgi_app"} <= functions
    saved = headers["x-hotscope-profile"]
    assert (tmp_path / (saved + ".html")).read_bytes() == report


def test_flask_header_asks_too_and_other_addresses_get_the_page():
    app, _ = wrap_flask(new_events())
    with WSGIServer(app) as server:
        status, headers, report = get(server.port, "/work/5", headers={"X-Hotscope": "1"})
        assert status == 200 and report_counts(report)["helper"] == 5
    # Same request, but 127.0.0.1 is not allowed: the page, and no trace of hotscope.
    app, middleware = wrap_flask(new_events(), allowed=["192.0.2.7"])
    with WSGIServer(app) as server:
        for path, extra in (("/work/5?hotscope=1", {}), ("/work/5", {"X-Hotscope": "1"})):
            status, headers, body = get(server.port, path, headers=extra)
            assert (status, body) == (200, b"worked 5")
            assert not any(h.startswith("x-hotscope") for h in headers)
        status, _, _ = get(server.port, "/_hotscope/")
        assert status == 404  # the app's own answer: the index is not shown
    assert middleware.core.store.records() == []


def test_flask_requests_through_a_proxy_need_trusted_proxies():
    spoofed = {"X-Forwarded-For": "192.0.2.7"}
    app, _ = wrap_flask(new_events())
    with WSGIServer(app) as server:
        # Peer 127.0.0.1, but forwarded for someone: a local reverse proxy
        # in front of a public site looks exactly like this.
        status, _, body = get(server.port, "/work/3?hotscope=1", headers=spoofed)
        assert body == b"worked 3"
    app, _ = wrap_flask(new_events(), allowed=["192.0.2.0/24"], trusted_proxies=["127.0.0.1"])
    with WSGIServer(app) as server:
        status, _, body = get(server.port, "/work/3?hotscope=1", headers=spoofed)
        assert report_counts(body)["helper"] == 3
        # The client put an allowed address first; the proxy appended the real one.
        status, _, body = get(server.port, "/work/3?hotscope=1",
                              headers={"X-Forwarded-For": "192.0.2.7, 203.0.113.9"})
        assert body == b"worked 3"


def test_flask_concurrent_request_stays_out_of_the_profile():
    events = new_events()
    app, _ = wrap_flask(events)
    with WSGIServer(app) as server:
        profiled, other = concurrently(lambda: get(server.port, "/overlapped/11?hotscope=1"),
                                       lambda: get(server.port, "/other"))
    assert other[0] == 200 and other[2].startswith(b"other ")
    assert int(other[2].split()[1]) > 0  # it did run other_helper during the profile
    counts = report_counts(profiled[2])
    assert counts["overlapped"] == 1 and counts["helper"] == 11
    assert "other_helper" not in counts and "other" not in counts


def test_flask_concurrent_asked_requests_each_get_their_own_profile():
    app, middleware = wrap_flask(new_events())
    with WSGIServer(app) as server:
        results = concurrently(*[(lambda n=n: get(server.port, "/work/%d?hotscope=1" % n)) for n in (3, 8, 21, 34)])
    assert [report_counts(body)["helper"] for _, _, body in results] == [3, 8, 21, 34]
    assert sorted(r["path"] for r in middleware.core.store.records()) == ["/work/21", "/work/3", "/work/34",
                                                                          "/work/8"]


def test_flask_busy_and_unavailable_requests_get_their_page_and_say_why():
    events = new_events()
    app, middleware = wrap_flask(events, wait=0.0)
    with WSGIServer(app) as server:
        results = []
        profiled = threading.Thread(target=lambda: results.append(get(server.port, "/overlapped/4?hotscope=1")))
        profiled.start()
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while not middleware.core.lock.locked():  # the profile has begun
            assert time.monotonic() < deadline
            time.sleep(0.001)
        status, headers, body = get(server.port, "/other?hotscope=1")  # ends the profiled request
        profiled.join()
        assert (status, headers["x-hotscope"]) == (200, "busy") and body.startswith(b"other ")
        assert report_counts(results[0][2])["helper"] == 4
        # Another profiler holds the hooks: the page, saying so.
        with hotscope.trace():
            status, headers, body = get(server.port, "/work/2?hotscope=1")
        assert (status, headers["x-hotscope"], body) == (200, "unavailable", b"worked 2")
    assert [r["path"] for r in middleware.core.store.records()] == ["/overlapped/4"]


def test_flask_sampled_share_is_saved_and_responses_unchanged(tmp_path):
    seed, rate, requests = 1234, 0.25, 40
    draws = random.Random(seed)
    expected = [i for i in range(requests) if draws.random() < rate]
    app, middleware = wrap_flask(new_events(), sample_rate=rate, seed=seed, directory=str(tmp_path), keep=1000)
    with WSGIServer(app) as server:
        for i in range(requests):
            status, headers, body = get(server.port, "/work/%d" % i)
            assert (status, body) == (200, b"worked %d" % i)
            assert "x-hotscope-profile" not in headers
    records = middleware.core.store.records()
    assert sorted(int(r["path"].split("/")[-1]) for r in records) == expected
    assert all(r["trigger"] == "sampled" and r["status"] == 200 for r in records)
    one = records[0]
    counts = report_counts((tmp_path / (one["name"] + ".html")).read_bytes())
    assert counts["helper"] == int(one["path"].split("/")[-1])


def test_flask_index_lists_profiles_with_route_and_status(tmp_path):
    app, middleware = wrap_flask(new_events(), directory=str(tmp_path), keep=3)
    with WSGIServer(app) as server:
        for path in ("/work/2?hotscope=1", "/fail?hotscope=1", "/work/4?hotscope=1", "/work/6?hotscope=1"):
            get(server.port, path)
        status, headers, page = get(server.port, "/_hotscope/")
        assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
        _, _, listing = get(server.port, "/_hotscope/profiles.json")
        records = json.loads(listing)
        # keep=3: the oldest went; newest first.
        assert [(r["path"], r["status"]) for r in records] == [("/work/6", 200), ("/work/4", 200), ("/fail", 404)]
        assert all(r["method"] == "GET" and r["duration_ms"] > 0 for r in records)
        text = page.decode()
        for r in records:
            assert r["path"] in text and ("/_hotscope/%s.html" % r["name"]) in text
        status, _, report = get(server.port, "/_hotscope/%s.html" % records[1]["name"])
        assert status == 200 and report_counts(report)["helper"] == 4
        assert get(server.port, "/_hotscope/../../etc/passwd.html")[0] == 404
    assert len(list(tmp_path.glob("*.html"))) == 3


# Flask creates objects on every warmed-up request through 3.13's specialized
# __init__ call (a _Py_InitCleanup shim frame between caller and __init__),
# which the sampler once dropped as torn: the test would show it again.
def test_flask_sampling_mode_profiles_the_request_thread():
    app, _ = wrap_flask(new_events(), mode="sample", rate=500)
    with WSGIServer(app) as server:
        for _ in range(5):  # warmed up, as a server is: the interpreter specializes the calls
            get(server.port, "/work/3")
        status, _, body = get(server.port, "/busy?hotscope=1")
    data = _core.load(body, "html")
    assert data.meta()["engine"] == "sample"
    assert len(data.threads()) == 1
    top = data.top(clock="samples")
    assert "busy_view_work" in top


# ---- Django (WSGI) --------------------------------------------------------------


def django_application():
    django = pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        urls = types.ModuleType("hotscope_test_django_urls")
        sys.modules[urls.__name__] = urls
        settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=urls.__name__, SECRET_KEY="test",
                           MIDDLEWARE=[], INSTALLED_APPS=[], DATABASES={})
        django.setup()
        from django.http import HttpResponse
        from django.urls import path

        def work(request, n):
            for i in range(n):
                helper(i)
            return HttpResponse("worked %d" % n)

        urls.urlpatterns = [path("work/<int:n>", work)]
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def test_django_asked_request_and_header_and_guard():
    application = hotscope.web.WSGIMiddleware(django_application())
    with WSGIServer(application) as server:
        assert get(server.port, "/work/4")[2] == b"worked 4"
        status, _, report = get(server.port, "/work/9?hotscope=1")
        counts = report_counts(report)
        assert counts["work"] == 1 and counts["helper"] == 9
        _, _, report = get(server.port, "/work/6", headers={"X-Hotscope": "true"})
        assert report_counts(report)["helper"] == 6
        _, _, listing = get(server.port, "/_hotscope/profiles.json")
        assert [(r["path"], r["status"]) for r in json.loads(listing)] == [("/work/6", 200), ("/work/9", 200)]
    closed = hotscope.web.WSGIMiddleware(django_application(), allowed=[])
    with WSGIServer(closed) as server:
        assert get(server.port, "/work/9?hotscope=1")[2] == b"worked 9"


# ---- FastAPI (ASGI, uvicorn) ------------------------------------------------------


def fastapi_app(events):
    fastapi = pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    app = fastapi.FastAPI()

    @app.get("/work/{n}")
    async def work(n: int):
        for i in range(n):
            helper(i)
            await asyncio.sleep(0)
        return {"n": n}

    @app.get("/sync/{n}")
    def sync_work(n: int):
        for i in range(n):
            helper(i)
        return {"n": n}

    @app.get("/overlapped/{n}")
    async def overlapped(n: int):
        deadline = time.monotonic() + HANDSHAKE_TIMEOUT
        while not events["other_running"].is_set():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.001)
        for i in range(n):
            helper(i)
            await asyncio.sleep(0.001)  # the other request runs on the loop meanwhile
        events["profiled_done"].set()
        return {"n": n}

    @app.get("/other")
    async def other():
        events["other_running"].set()
        calls = 0
        while not events["profiled_done"].is_set():
            other_helper(50)
            calls += 1
            await asyncio.sleep(0)
        return {"calls": calls}

    return app


def test_fastapi_asked_request_gets_the_report_with_exact_counts(tmp_path):
    middleware = hotscope.web.ASGIMiddleware(fastapi_app(new_events()), directory=str(tmp_path))
    with ASGIServer(middleware) as server:
        assert json.loads(get(server.port, "/work/3")[2]) == {"n": 3}
        status, headers, report = get(server.port, "/work/12?hotscope=1")
        assert status == 200 and "script-src 'sha256-" in headers["content-security-policy"]
        assert report_counts(report)["helper"] == 12
        # A synchronous endpoint runs in the thread pool: kept whole.
        _, _, report = get(server.port, "/sync/7", headers={"X-Hotscope": "1"})
        counts = report_counts(report)
        assert counts["sync_work"] == 1 and counts["helper"] == 7
        _, _, listing = get(server.port, "/_hotscope/profiles.json")
    records = json.loads(listing)
    assert [(r["path"], r["route"], r["status"]) for r in records] == [("/sync/7", "/sync/{n}", 200),
                                                                       ("/work/12", "/work/{n}", 200)]


def test_fastapi_interleaved_request_stays_out_of_the_profile():
    events = new_events()
    middleware = hotscope.web.ASGIMiddleware(fastapi_app(events))
    with ASGIServer(middleware) as server:
        profiled, other = concurrently(lambda: get(server.port, "/overlapped/9?hotscope=1"),
                                       lambda: get(server.port, "/other"))
    assert json.loads(other[2])["calls"] > 0
    counts = report_counts(profiled[2])
    assert counts["helper"] == 9
    assert "other_helper" not in counts and "other" not in counts
    (record,) = middleware.core.store.records()
    assert record["overlapping"] >= 1


def test_fastapi_other_addresses_get_the_page():
    middleware = hotscope.web.ASGIMiddleware(fastapi_app(new_events()), allowed=["192.0.2.7"])
    with ASGIServer(middleware) as server:
        status, headers, body = get(server.port, "/work/5?hotscope=1")
        assert json.loads(body) == {"n": 5} and "x-hotscope" not in headers
        assert json.loads(get(server.port, "/work/5", headers={"X-Hotscope": "1"})[2]) == {"n": 5}
        assert get(server.port, "/_hotscope/")[0] == 404
    assert middleware.core.store.records() == []


def test_fastapi_sampled_share_is_saved_and_responses_unchanged():
    seed, rate, requests = 99, 0.3, 30
    draws = random.Random(seed)
    expected = [i for i in range(requests) if draws.random() < rate]
    middleware = hotscope.web.ASGIMiddleware(fastapi_app(new_events()), sample_rate=rate, seed=seed, keep=1000)
    with ASGIServer(middleware) as server:
        for i in range(requests):
            assert json.loads(get(server.port, "/work/%d" % i)[2]) == {"n": i}
    records = middleware.core.store.records()
    assert sorted(int(r["path"].split("/")[-1]) for r in records) == expected
    assert all(r["trigger"] == "sampled" and r["status"] == 200 for r in records)
    counts = report_counts(open(f"{middleware.directory}/{records[0]['name']}.html", "rb").read())
    assert counts["helper"] == int(records[0]["path"].split("/")[-1])


# ---- the address check alone ------------------------------------------------------


def test_guard_rules():
    guard = hotscope.web.Guard()
    assert guard.allows("127.0.0.1", None, False)
    assert guard.allows("::1", None, False)
    assert guard.allows("::ffff:127.0.0.1", None, False)
    assert not guard.allows("10.0.0.1", None, False)
    assert not guard.allows("127.0.0.1", "127.0.0.1", True)  # proxied, no trusted proxies
    assert not guard.allows(None, None, False)
    assert not guard.allows("not an address", None, False)
    behind = hotscope.web.Guard(allowed=["10.1.0.0/16"], trusted_proxies=["127.0.0.1", "10.9.0.0/16"])
    assert behind.allows("127.0.0.1", "10.1.2.3", True)
    assert behind.allows("127.0.0.1", "10.1.2.3, 10.9.0.5", True)  # through two proxies
    assert not behind.allows("127.0.0.1", "10.1.2.3, 203.0.113.1", True)
    assert not behind.allows("127.0.0.1", "garbage", True)
    assert not behind.allows("10.1.2.3", None, True)  # a direct client with proxy headers
    assert behind.allows("10.1.2.3", None, False)
    assert not hotscope.web.Guard(allowed=[]).allows("127.0.0.1", None, False)
    with pytest.raises(ValueError):
        hotscope.web.Guard(allowed=["localhost"])
    with pytest.raises(TypeError):
        hotscope.web.Guard(allowed="127.0.0.1")
