"""Profiling the requests of a web application: WSGI and ASGI middleware.

    app.wsgi_app = hotscope.web.WSGIMiddleware(app.wsgi_app)        # Flask
    application = hotscope.web.WSGIMiddleware(get_wsgi_application())  # Django
    app = hotscope.web.ASGIMiddleware(app)                            # FastAPI, Starlette

A request that asks (``?hotscope=1``, or the header ``X-Hotscope: 1``)
from an allowed address (127.0.0.1 and ::1 unless configured) is profiled
and answered with the HTML report instead of its page. ``sample_rate``
profiles that share of all requests without changing their responses.
Every profile is saved with its method, path, route, status and duration;
the index page (``/_hotscope/``, behind the same address check) lists them.
A request from anywhere else passes through untouched, index included.

What a report holds. The tracer and the sampler see the whole process,
and a server runs other requests meanwhile, so the request is run below a
function of its own (``_hotscope_request``) and the profile is cut to the
paths through it (ProfileData.focus):
  - WSGI: exactly the request's own work, in its own thread;
  - ASGI: every step of the request's own task (its coroutines, however
    many other requests interleave with it on the event loop), plus, whole,
    every other thread that ran while it was in flight: thread pools run
    the synchronous endpoints and dependencies of FastAPI and Starlette
    there, beyond the task's stack. Other requests' work in those threads
    is included; the record's "overlapping" count says how many other
    requests were in flight.
One request is profiled at a time (one profiler per process): a request
that asks while another is being profiled waits up to `wait` seconds, then
gets its normal page with the header ``X-Hotscope: busy``; a sampled one
simply goes unprofiled.

Addresses: the peer's address (WSGI REMOTE_ADDR, ASGI scope["client"]).
A request carrying X-Forwarded-For, Forwarded or X-Real-IP came through a
proxy, so its peer says nothing about its client: it is never allowed,
unless `trusted_proxies` names the proxies, and then the client is the
last X-Forwarded-For address that is not one of them.
"""

import ipaddress
import json
import logging
import random
import threading
import time
import urllib.parse

from . import _output, _web_store
from ._profile import Profile
from ._sample import SampleError, sample

log = logging.getLogger("hotscope.web")

DEFAULT_ALLOWED = ("127.0.0.1", "::1")
ASKING_VALUES = {"1", "true", "yes", "on"}
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _hotscope_request(app, environ, start_response, consume):
    """Runs one profiled WSGI request; the profile keeps only what ran below
    this function. With `consume` the body is produced here too (it is
    replaced by the report), else it is returned as the app gave it."""
    body = app(environ, start_response)
    if not consume:
        return body
    try:
        return b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


async def _hotscope_request_async(app, scope, receive, send):
    """Runs one profiled ASGI request; see _hotscope_request."""
    await app(scope, receive, send)


FOCUS_FILE = _hotscope_request.__code__.co_filename


def _networks(addresses, what):
    result = []
    for a in addresses:
        try:
            result.append(ipaddress.ip_network(str(a), strict=False))
        except ValueError:
            raise ValueError("%s: %r is not an IP address or network" % (what, a)) from None
    return result


def _address(text):
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except (ValueError, AttributeError):
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return mapped or address


class Guard:
    """Who may ask for profiles and see the index."""

    def __init__(self, allowed=DEFAULT_ALLOWED, trusted_proxies=()):
        if isinstance(allowed, str) or isinstance(trusted_proxies, str):
            raise TypeError("allowed and trusted_proxies are lists of addresses or networks")
        self.allowed = _networks(allowed, "allowed")
        self.proxies = _networks(trusted_proxies, "trusted_proxies")

    def _within(self, address, networks):
        return address is not None and any(address in n for n in networks)

    def client(self, peer, forwarded_for, proxied):
        """The client's address: the peer's, or behind trusted proxies the
        last forwarded address that is not a proxy; None when unknown."""
        address = _address(peer) if peer else None
        if not self._within(address, self.proxies):
            return None if proxied else address
        for hop in reversed((forwarded_for or "").split(",")):
            hop_address = _address(hop)
            if hop_address is None:
                return None
            if not self._within(hop_address, self.proxies):
                return hop_address
        return None

    def allows(self, peer, forwarded_for, proxied):
        if not self.allowed:
            return False
        return self._within(self.client(peer, forwarded_for, proxied), self.allowed)


class Unavailable(Exception):
    """The profiler cannot start (another one runs, or the sampler failed)."""


class Recording:
    """One request's profile, traced or sampled (`idle`: the sampler counts
    waiting threads too, so a request blocked on I/O shows where)."""

    def __init__(self, mode, rate, builtins, idle):
        self.mode = mode
        try:
            if mode == "trace":
                self.engine = Profile(builtins=builtins)
                self.engine.enable()
            else:
                self.engine = sample(rate=rate, idle=idle)
                self.engine.__enter__()
        except (ValueError, SampleError) as e:
            raise Unavailable(str(e)) from None

    def stop(self):
        if self.mode == "trace":
            self.engine.disable()
            return self.engine.snapshot()
        self.engine.__exit__(None, None, None)
        return self.engine.data


class _Core:
    """What both middlewares share: settings, the address check, the store
    and the one-profile-at-a-time lock."""

    def __init__(self, allowed, trusted_proxies, mode, rate, builtins, sample_rate, directory, keep,
                 index_path, wait, seed):
        if mode not in ("trace", "sample"):
            raise ValueError("mode must be 'trace' or 'sample', not %r" % (mode,))
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError("sample_rate must be between 0 and 1")
        if index_path is not None and not (index_path.startswith("/") and index_path.endswith("/")):
            raise ValueError("index_path must start and end with '/' (or be None for no index)")
        self.guard = Guard(allowed, trusted_proxies)
        self.mode, self.rate, self.builtins = mode, rate, builtins
        self.sample_rate = sample_rate
        self.store = _web_store.ProfileStore(directory, keep)
        self.index_path = index_path
        self.wait = wait
        self.random = random.Random(seed).random
        self.lock = threading.Lock()

    def asking(self, query, header):
        if header is not None and header.strip().lower() in ASKING_VALUES:
            return True
        if "hotscope" not in query:
            return False
        values = urllib.parse.parse_qs(query, keep_blank_values=True).get("hotscope", ())
        return any(v.strip().lower() in ASKING_VALUES for v in values)

    def finish(self, data, record, focus, whole_threads=()):
        """The request's report (bytes): `data` cut to what ran below the
        function named `focus` (and the threads kept whole), saved with its
        record; None when saving failed (logged: the application goes on)."""
        try:
            data = data.focus(focus, FOCUS_FILE, whole_threads=whole_threads)
            title = "%s %s \u2192 %s in %.1f ms" % (record["method"], record["path"], record["status"],
                                                    record["duration_ms"])
            data.set_meta("command", title)
            for key in ("method", "path", "route", "status", "duration_ms", "trigger"):
                data.set_meta("request_" + key, str(record.get(key, "")))
            report = _output.html_report(data, clock="samples" if self.mode == "sample" else "wall", title=title)
            record["name"] = self.store.save(report, record)
            return report
        except Exception:
            log.exception("hotscope: could not save the profile of %s %s", record.get("method"), record.get("path"))
            return None

    def record(self, interface, method, path, route, status, duration, trigger):
        return {"interface": interface, "time": time.time(), "method": method, "path": path,
                "route": route or path, "status": status, "duration_ms": duration * 1000.0,
                "mode": self.mode, "trigger": trigger}

    def index(self, path):
        """(status, headers, body) for a path under the index: the list,
        profiles.json, a report, or 404."""
        rest = path[len(self.index_path):]
        if rest == "":
            body = _web_store.index_page(self.store.records(), self.index_path, self.store.keep)
            return "200 OK", [("Content-Type", "text/html; charset=utf-8")] + \
                _web_store.security_headers(_web_store.BASE_POLICY), body
        if rest == "profiles.json":
            body = json.dumps(self.store.records(), indent=1).encode("utf-8")
            return "200 OK", [("Content-Type", "application/json")] + \
                _web_store.security_headers(_web_store.BASE_POLICY), body
        if rest.endswith(".html"):
            report = self.store.report(rest[:-5])
            if report is not None:
                return "200 OK", self.report_headers(report), report
        return "404 Not Found", [("Content-Type", "text/plain; charset=utf-8")] + \
            _web_store.security_headers(_web_store.BASE_POLICY), b"no such hotscope profile\n"

    def report_headers(self, report, name=None):
        headers = [("Content-Type", "text/html; charset=utf-8")]
        headers += _web_store.security_headers(_web_store.report_policy(report))
        if name:
            headers.append(("X-Hotscope-Profile", name))
        return headers


def _status_code(status_line):
    try:
        return int(str(status_line).split(None, 1)[0])
    except (ValueError, IndexError):
        return status_line


class WSGIMiddleware:
    """Profiles the requests of a WSGI application (see the module's doc).

    allowed: client addresses or networks that may ask for profiles and see
        the index (default 127.0.0.1 and ::1; [] for nobody);
    trusted_proxies: addresses of reverse proxies whose X-Forwarded-For is
        believed;
    mode: "trace" (every call, exact counts) or "sample" (the C sampler at
        `rate` Hz: less overhead on the profiled request);
    sample_rate: the share of all requests profiled and saved unasked;
    directory, keep: where profiles go (default a new private temporary
        directory) and how many of the newest stay;
    index_path: where the index is served (None: no index);
    wait: seconds a request that asks waits while another is profiled.
    """

    def __init__(self, app, *, allowed=DEFAULT_ALLOWED, trusted_proxies=(), mode="trace", rate=1000,
                 builtins=True, sample_rate=0.0, directory=None, keep=100, index_path="/_hotscope/", wait=30.0,
                 seed=None):
        self.app = app
        self.core = _Core(allowed, trusted_proxies, mode, rate, builtins, sample_rate, directory, keep, index_path,
                          wait, seed)

    @property
    def directory(self):
        return self.core.store.directory

    def _allowed(self, environ):
        proxied = any(h in environ for h in PROXY_HEADERS)
        return self.core.guard.allows(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), proxied)

    def __call__(self, environ, start_response):
        # The path of every request: a few lookups, no call, when nothing is asked.
        core = self.core
        if core.index_path is not None and environ.get("PATH_INFO", "").startswith(core.index_path) \
                and self._allowed(environ):
            status, headers, body = core.index(environ["PATH_INFO"])
            start_response(status, headers)
            return [body]
        if ("hotscope" in environ.get("QUERY_STRING", "") or "HTTP_X_HOTSCOPE" in environ) \
                and core.asking(environ.get("QUERY_STRING", ""), environ.get("HTTP_X_HOTSCOPE")) \
                and self._allowed(environ):
            return self._asked(environ, start_response)
        if core.sample_rate and core.random() < core.sample_rate:
            return self._sampled(environ, start_response)
        return self.app(environ, start_response)

    def _unprofiled(self, environ, start_response, why):
        def start(status, headers, exc_info=None):
            return start_response(status, list(headers) + [("X-Hotscope", why)], exc_info)

        return self.app(environ, start)

    def _asked(self, environ, start_response):
        core = self.core
        if not core.lock.acquire(timeout=core.wait):
            return self._unprofiled(environ, start_response, "busy")
        try:
            recording = Recording(core.mode, core.rate, core.builtins, idle=True)
        except Unavailable as e:
            core.lock.release()
            log.warning("hotscope: cannot profile this request: %s", e)
            return self._unprofiled(environ, start_response, "unavailable")
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            return lambda data: None  # the page is replaced by the report

        started = time.perf_counter()
        failure = None
        try:
            _hotscope_request(self.app, environ, capture, True)
        except BaseException as e:
            failure = e
        finally:
            duration = time.perf_counter() - started
            try:
                data = recording.stop()
            finally:
                core.lock.release()
        record = core.record("wsgi", environ.get("REQUEST_METHOD", ""), self._path(environ), None,
                             _status_code(captured.get("status", "500")), duration, "asked")
        report = core.finish(data, record, _hotscope_request.__name__)
        if failure is not None:
            raise failure
        if report is None:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"hotscope: the profile could not be saved (see the server's log)\n"]
        start_response("200 OK", core.report_headers(report, record.get("name")))
        return [report]

    def _sampled(self, environ, start_response):
        """Profiles the app's call (a streamed body is produced after it,
        unprofiled) and passes its response on unchanged."""
        core = self.core
        if not core.lock.acquire(blocking=False):
            return self.app(environ, start_response)
        try:
            recording = Recording(core.mode, core.rate, core.builtins, idle=True)
        except Unavailable:
            core.lock.release()
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            return start_response(status, headers, exc_info)

        started = time.perf_counter()
        try:
            return _hotscope_request(self.app, environ, capture, False)
        finally:
            duration = time.perf_counter() - started
            try:
                data = recording.stop()
            finally:
                core.lock.release()
            record = core.record("wsgi", environ.get("REQUEST_METHOD", ""), self._path(environ), None,
                                 _status_code(captured.get("status", "500")), duration, "sampled")
            core.finish(data, record, _hotscope_request.__name__)

    @staticmethod
    def _path(environ):
        return environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")


class ASGIMiddleware:
    """Profiles the HTTP requests of an ASGI application; the options are
    WSGIMiddleware's. Lifespan and websocket traffic passes through."""

    def __init__(self, app, *, allowed=DEFAULT_ALLOWED, trusted_proxies=(), mode="trace", rate=1000,
                 builtins=True, sample_rate=0.0, directory=None, keep=100, index_path="/_hotscope/", wait=30.0,
                 seed=None):
        self.app = app
        self.core = _Core(allowed, trusted_proxies, mode, rate, builtins, sample_rate, directory, keep, index_path,
                          wait, seed)
        # Requests in flight and started so far: how many overlapped a profile.
        self._in_flight = 0
        self._started = 0

    @property
    def directory(self):
        return self.core.store.directory

    def _allowed(self, scope):
        forwarded_for, proxied = None, False
        for name, value in scope.get("headers", ()):
            if name in (b"x-forwarded-for", b"forwarded", b"x-real-ip"):
                proxied = True
                if name == b"x-forwarded-for":
                    forwarded_for = value.decode("latin-1") if forwarded_for is None \
                        else forwarded_for + "," + value.decode("latin-1")
        client = scope.get("client")
        return self.core.guard.allows(client[0] if client else None, forwarded_for, proxied)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        core = self.core
        self._in_flight += 1
        self._started += 1
        try:
            path = scope.get("path", "")
            if core.index_path is not None and path.startswith(core.index_path) and self._allowed(scope):
                status, headers, body = core.index(path)
                await _send_response(send, status, headers, body)
                return
            header = None
            for name, value in scope.get("headers", ()):
                if name == b"x-hotscope":
                    header = value.decode("latin-1")
            query = scope.get("query_string", b"").decode("latin-1")
            if core.asking(query, header) and self._allowed(scope):
                return await self._asked(scope, receive, send)
            if core.sample_rate and core.random() < core.sample_rate:
                return await self._sampled(scope, receive, send)
            return await self.app(scope, receive, send)
        finally:
            self._in_flight -= 1

    async def _acquire(self, wait):
        import asyncio

        deadline = time.monotonic() + wait
        while not self.core.lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def _unprofiled(self, scope, receive, send, why):
        async def marked(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", ())) + [(b"x-hotscope", why.encode())])
            await send(message)

        return await self.app(scope, receive, marked)

    async def _profiled(self, scope, receive, send, trigger):
        """Runs the request under a recording; returns (data, record,
        failure) with the lock released."""
        core = self.core
        captured = {}

        async def capture(message):
            if message["type"] == "http.response.start":
                captured["status"] = message.get("status")
            if trigger == "sampled":
                await send(message)

        in_flight, started_before = self._in_flight, self._started
        try:
            recording = Recording(core.mode, core.rate, core.builtins, idle=False)
        except Unavailable as e:
            core.lock.release()
            raise e
        started = time.perf_counter()
        failure = None
        try:
            await _hotscope_request_async(self.app, scope, receive, capture)
        except BaseException as e:
            failure = e
        finally:
            duration = time.perf_counter() - started
            try:
                data = recording.stop()
            finally:
                core.lock.release()
        loop_thread = threading.get_ident()
        whole = [t["ident"] for t in data.threads() if t["ident"] != loop_thread]
        route = getattr(scope.get("route"), "path", None)
        record = core.record("asgi", scope.get("method", ""), scope.get("root_path", "") + scope.get("path", ""),
                             route if isinstance(route, str) else None,
                             captured.get("status", 500 if failure else ""), duration, trigger)
        record["overlapping"] = (in_flight - 1) + (self._started - started_before)
        report = core.finish(data, record, _hotscope_request_async.__name__, whole_threads=whole)
        return report, record, failure

    async def _asked(self, scope, receive, send):
        if not await self._acquire(self.core.wait):
            return await self._unprofiled(scope, receive, send, "busy")
        try:
            report, record, failure = await self._profiled(scope, receive, send, "asked")
        except Unavailable as e:
            log.warning("hotscope: cannot profile this request: %s", e)
            return await self._unprofiled(scope, receive, send, "unavailable")
        if failure is not None:
            raise failure
        if report is None:
            await _send_response(send, "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")],
                                 b"hotscope: the profile could not be saved (see the server's log)\n")
            return
        await _send_response(send, "200 OK", self.core.report_headers(report, record.get("name")), report)

    async def _sampled(self, scope, receive, send):
        if not self.core.lock.acquire(blocking=False):
            return await self.app(scope, receive, send)
        try:
            _, _, failure = await self._profiled(scope, receive, send, "sampled")
        except Unavailable:
            return await self.app(scope, receive, send)
        if failure is not None:
            raise failure


async def _send_response(send, status, headers, body):
    await send({"type": "http.response.start", "status": int(status.split()[0]),
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
    await send({"type": "http.response.body", "body": body})
