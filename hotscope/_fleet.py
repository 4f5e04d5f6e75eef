"""Continuous profiling: ``hotscope record --continuous``.

The C sampler keeps sampling a process at a low rate; every period (10 s by
default) ``Sampler.take()`` hands over the profile of just that period (in
C, under the sampler's lock, so memory stays bounded however long it runs),
the C writer renders it as pprof, and a thread here uploads it to a
Pyroscope-compatible server (Pyroscope, Grafana Cloud Profiles, Grafana
Alloy's ``pyroscope.receive_http``) and/or writes it to a folder.

This module is the I/O glue: the queue between the two, retries, and what
to say when the server is away.

The upload is Pyroscope's ingest API: ``POST /ingest`` with the metadata as
query parameters, ``name`` (the application name, labels in braces:
``app{env=staging,region=us-west-1}``), ``from`` and ``until`` (UNIX time in
seconds), ``format``, ``sampleRate`` (Hz) and ``spyName``, and the profile
in the body (grafana.com/docs/pyroscope/latest/configure-server/
about-server-api). For ``format=pprof`` the body is the pprof profile
itself, gzipped or not, unless the request is a multipart form (then its
``profile`` field; grafana/pyroscope pkg/og/convert/pprof/profile.go,
RawProfile.handleRawData): hotscope sends the raw gzipped profile, as
``application/octet-stream``. The server reads the profile's own
``time_nanos`` when it is set (fixTime there), so the exact period is in the
profile; ``from`` and ``until`` are whole seconds (pkg/og/util/attime
parses digits as seconds). Application names may hold ``A-Z a-z 0-9 _ . / -``
and label names ``A-Z a-z 0-9 _ .`` (pkg/og/flameql/flameql.go); a value ends
at ``,`` or ``}`` (pkg/og/storage/segment/key.go).

Delivery: profiles wait in a queue bounded in count and bytes; when it is
full the OLDEST is dropped (and counted; said once per outage), so a long
outage costs the oldest profiles, never unbounded memory. A profile is
retried, in order, after a connection failure, a timeout, 408, 429 or 5xx,
with exponential backoff and jitter; another 4xx answer means the server
will never take it: it is dropped with a one-line message.
"""

import collections
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import base64

from . import __version__

SPY_NAME = "hotscope"
DEFAULT_EVERY = 10.0
DEFAULT_BUFFER_PROFILES = 360   # an hour of 10-second periods
DEFAULT_BUFFER_MB = 64.0
REQUEST_TIMEOUT = 10.0          # seconds for one upload
EXIT_GRACE = 5.0                # seconds to deliver what is left at exit
BACKOFF_MAX = 60.0
AUTH_ENV = "HOTSCOPE_PUSH_AUTH"

APP_NAME_RE = re.compile(r"^[A-Za-z0-9_./-]+$")
LABEL_KEY_RE = re.compile(r"^[A-Za-z0-9_.]+$")
LABEL_VALUE_BAD = re.compile(r"[,{}=\s\x00-\x1f\x7f]")


class FleetError(Exception):
    """A bad option, said in one line (exit status 2)."""


# ---- what to push where ----------------------------------------------------------


class Endpoint:
    """The ingest URL, without credentials, and the headers every upload carries."""

    def __init__(self, url, auth=None, tenant=None):
        self.display, self.ingest, url_auth = parse_push_url(url)
        auth = auth or os.environ.get(AUTH_ENV) or url_auth
        self.headers = {"Content-Type": "application/octet-stream",
                        "User-Agent": "hotscope/%s" % __version__}
        if auth:
            if ":" not in auth:
                raise FleetError("--push-auth takes USER:TOKEN (for Grafana Cloud: the stack's "
                                 "Profiles user ID and an access-policy token)")
            self.headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        if tenant:
            # Pyroscope in multi-tenant mode reads the tenant from this header.
            self.headers["X-Scope-OrgID"] = tenant
        parts = urllib.parse.urlsplit(self.ingest)
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)


def parse_push_url(url):
    """(URL to show, ingest URL, "user:password" from the URL or None)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FleetError("--push %s: not a valid URL (%s)" % (url, e)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FleetError("--push %s: give the server's http:// or https:// URL, e.g. "
                         "http://localhost:4040" % url)
    if parts.query or parts.fragment:
        raise FleetError("--push %s: give the server's base URL, without a query" % url)
    auth = None
    if parts.username is not None:
        auth = "%s:%s" % (urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))
    host = parts.hostname if ":" not in parts.hostname else "[%s]" % parts.hostname
    netloc = host + (":%d" % port if port else "")
    path = parts.path.rstrip("/")
    if not path.endswith("/ingest"):
        path += "/ingest"
    display = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") or "", "", ""))
    return display, urllib.parse.urlunsplit((parts.scheme, netloc, path, "", "")), auth


def check_app_name(name, what="--service"):
    if not name or not APP_NAME_RE.match(name):
        raise FleetError("%s %r: use letters, digits and _ . / - only" % (what, name))
    return name


def parse_label(text):
    """'key=value' -> (key, value)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise FleetError("--label %r: give KEY=VALUE" % text)
    if not LABEL_KEY_RE.match(key) or key.startswith("__"):
        raise FleetError("--label %r: a label name holds letters, digits, _ and . only "
                         "(and does not start with __)" % text)
    if not value or LABEL_VALUE_BAD.search(value):
        raise FleetError("--label %r: a value may not be empty nor hold spaces, ',', '=', '{' or '}'"
                         % text)
    return key, value


def program_name(argv):
    """The name a program goes by, from its command line: a Python script's
    name without .py, `-m`'s module, else the executable's name."""
    if not argv:
        return "python"
    exe = os.path.basename(argv[0])
    if re.match(r"^python[0-9.]*$", exe) or exe in ("pypy", "pypy3"):
        args = iter(argv[1:])
        for arg in args:
            if arg == "-m":
                return next(args, exe)
            if arg == "-c":
                return exe
            if arg.startswith("-m") and len(arg) > 2:
                return arg[2:]
            if arg in ("-W", "-X", "--check-hash-based-pycs"):
                next(args, None)
                continue
            if not arg.startswith("-"):
                exe = os.path.basename(arg)
                break
    return re.sub(r"\.pyw?$", "", exe) or "python"


def cmdline_of(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def service_name(name):
    """A program name made fit for an application name."""
    return re.sub(r"[^A-Za-z0-9_./-]", "_", name) or "python"


def app_name(service, labels):
    """Pyroscope's name parameter: service{k=v,...} (labels in the given order)."""
    return service + "{" + ",".join("%s=%s" % kv for kv in labels) + "}"


# ---- the uploader ------------------------------------------------------------------


class Upload:
    """One period's profile, ready to send."""

    __slots__ = ("start_ns", "end_ns", "body")

    def __init__(self, start_ns, end_ns, body):
        self.start_ns, self.end_ns, self.body = start_ns, end_ns, body


def _mb(n):
    return "%.1f MB" % (n / 1e6) if n >= 1e6 else "%d kB" % max(1, round(n / 1e3))


class Pusher:
    """Uploads profiles in order from a thread of its own; see the module's
    docstring for what happens when the server is away."""

    def __init__(self, endpoint, name, rate, max_profiles=DEFAULT_BUFFER_PROFILES,
                 max_bytes=int(DEFAULT_BUFFER_MB * 1e6), backoff=(1.0, BACKOFF_MAX),
                 timeout=REQUEST_TIMEOUT, err=None):
        self.endpoint, self.name, self.rate = endpoint, name, rate
        self.max_profiles, self.max_bytes = max_profiles, max_bytes
        self.backoff_min, self.backoff_max = backoff
        self.timeout = timeout
        self.err = err or sys.stderr
        self.cond = threading.Condition()
        self.queue = collections.deque()
        self.queued_bytes = 0
        self.closing = False
        self.deadline = None
        self.sending = None           # the Upload being sent (in the queue, unless dropped)
        self.sending_dropped = False  # ... and the queue dropped it meanwhile
        self.delivered = self.dropped = self.rejected = 0
        self.outage_since = None      # monotonic time of the first failure of an outage
        self.outage_reason = ""
        self.outage_drops = 0
        self.rejections = {}          # message -> count (each said once)
        # Redirects are not followed: urllib would turn a redirected POST
        # into a GET without its body.
        self.opener = urllib.request.build_opener(_NoRedirect)
        self.thread = threading.Thread(target=self._run, name="hotscope-push", daemon=True)

    def start(self):
        self.thread.start()

    def say(self, message):
        try:
            self.err.write("hotscope: push: %s\n" % message)
            self.err.flush()
        except (OSError, ValueError):
            pass

    # -- the producer's side

    def submit(self, upload):
        with self.cond:
            self.queue.append(upload)
            self.queued_bytes += len(upload.body)
            while len(self.queue) > 1 and (len(self.queue) > self.max_profiles
                                           or self.queued_bytes > self.max_bytes):
                old = self.queue.popleft()
                self.queued_bytes -= len(old.body)
                # The oldest may be on its way: counted as dropped unless
                # that very send gets through (see _run).
                self.sending_dropped = self.sending_dropped or old is self.sending
                self.dropped += 1
                self.outage_drops += 1
                if self.outage_drops == 1:
                    self.say("buffer full (%d profiles, %s): dropping the oldest profiles until the "
                             "server takes them again" % (self.max_profiles, _mb(self.max_bytes)))
            self.cond.notify_all()

    def close(self, grace=EXIT_GRACE):
        """Delivers what is queued for up to `grace` seconds; returns the
        number of profiles left undelivered."""
        with self.cond:
            self.closing = True
            self.deadline = time.monotonic() + grace
            self.cond.notify_all()
        if self.thread.is_alive():
            try:
                self.thread.join(grace + 0.5)
            except KeyboardInterrupt:
                pass
        with self.cond:
            left = len(self.queue)
            self.closing = True
            self.deadline = time.monotonic()  # a thread still sending stops after it
            self.cond.notify_all()
        if left:
            why = " (%s)" % self.outage_reason if self.outage_reason else ""
            self.say("%d profile%s not delivered%s" % (left, "s" if left != 1 else "", why))
        return left

    # -- the uploader thread

    def _run(self):
        self._probe()
        attempt = 0
        while True:
            with self.cond:
                while not self.queue and not self.closing:
                    self.cond.wait()
                if not self.queue:
                    return
                if self.closing and time.monotonic() >= self.deadline:
                    return
                upload = self.sending = self.queue[0]
                self.sending_dropped = False
            outcome, detail = self._send(upload)
            with self.cond:
                self.sending = None
                if self.sending_dropped and outcome != "retry":
                    # delivered (or refused) after all: counted as such
                    self.dropped -= 1
                    self.outage_drops -= 1
                if outcome == "retry":
                    self._failed(detail)
                    attempt += 1
                    delay = min(self.backoff_max, self.backoff_min * 2 ** min(attempt - 1, 30))
                    delay = delay / 2 + random.uniform(0, delay / 2)  # jitter: a fleet spreads out
                    if detail.startswith("HTTP 429") or detail.startswith("HTTP 503"):
                        delay = max(delay, min(self.backoff_max, self._retry_after))
                    end = time.monotonic() + delay
                    if self.closing:
                        end = min(end, self.deadline)
                    while time.monotonic() < end and not (self.closing and time.monotonic() >= self.deadline):
                        self.cond.wait(end - time.monotonic())
                    continue
                attempt = 0
                # Delivered or refused: it leaves the queue, unless the
                # overflow dropped it meanwhile.
                if self.queue and self.queue[0] is upload:
                    self.queue.popleft()
                    self.queued_bytes -= len(upload.body)
                if outcome == "ok":
                    self.delivered += 1
                    self._recovered()
                else:
                    self.rejected += 1
                    if detail not in self.rejections:  # said once; the summary counts them all
                        self.say("the server refused a profile (%s); dropped it" % detail)
                    self.rejections[detail] = self.rejections.get(detail, 0) + 1

    _retry_after = 0.0

    def _probe(self):
        """Says at once when the server cannot be reached at the start (the
        profiles are kept and retried all the same: it may come up later)."""
        try:
            socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=3).close()
        except OSError as e:
            reason = _reason(e)
            with self.cond:
                self.outage_since = time.monotonic()
                self.outage_reason = reason
            self.say("cannot reach %s (%s); profiling goes on and uploads will be retried"
                     % (self.endpoint.display, reason))

    def _failed(self, detail):
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            self.say("cannot deliver to %s (%s); retrying, keeping up to %d profiles / %s meanwhile"
                     % (self.endpoint.display, detail, self.max_profiles, _mb(self.max_bytes)))
        self.outage_reason = detail

    def _recovered(self):
        if self.outage_since is None:
            return
        lost = (", %d oldest profile%s dropped meanwhile (buffer full)"
                % (self.outage_drops, "s" if self.outage_drops != 1 else "")) if self.outage_drops else ""
        self.say("delivering again to %s after %.1fs%s" % (self.endpoint.display,
                                                          time.monotonic() - self.outage_since, lost))
        self.outage_since = None
        self.outage_reason = ""
        self.outage_drops = 0

    def _send(self, upload):
        """("ok" | "retry" | "refused", detail)."""
        query = urllib.parse.urlencode([
            ("name", self.name),
            ("from", str(upload.start_ns // 1_000_000_000)),
            ("until", str(upload.end_ns // 1_000_000_000)),
            ("format", "pprof"),
            ("sampleRate", str(max(1, round(self.rate)))),
            ("spyName", SPY_NAME),
        ])
        request = urllib.request.Request(self.endpoint.ingest + "?" + query, data=upload.body,
                                         headers=self.endpoint.headers, method="POST")
        timeout = self.timeout
        if self.closing:
            timeout = max(0.1, min(timeout, self.deadline - time.monotonic()))
        try:
            with self.opener.open(request, timeout=timeout) as response:
                response.read()
            return "ok", ""
        except urllib.error.HTTPError as e:
            detail = "HTTP %d%s" % (e.code, _body_line(e))
            if e.code in (408, 429) or e.code >= 500:
                self._retry_after = _retry_after(e)
                return "retry", detail
            if 300 <= e.code < 400:
                return "refused", detail + ": redirected to %s; give that URL to --push" % e.headers.get(
                    "Location", "?")
            return "refused", detail
        except (urllib.error.URLError, OSError, ValueError) as e:
            return "retry", _reason(e)
        except Exception as e:  # http.client's protocol errors: the server may get better
            return "retry", "%s: %s" % (type(e).__name__, e)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _reason(e):
    reason = getattr(e, "reason", None) or e
    if isinstance(reason, socket.timeout) or isinstance(e, socket.timeout):
        return "timed out"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return " ".join(str(reason).split())[:200] or type(e).__name__


def _body_line(e):
    try:
        text = e.read(300).decode("utf-8", "replace")
    except Exception:
        return ""
    text = " ".join(text.split())
    return ": " + text[:160] if text else ""


def _retry_after(e):
    try:
        return max(0.0, float(e.headers.get("Retry-After", "0")))
    except (TypeError, ValueError):
        return 0.0


# ---- local copies ------------------------------------------------------------------


def local_name(service, start_ns):
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(start_ns // 1_000_000_000))
    return "%s-%s.%03dZ.pb.gz" % (service.replace("/", "_"), stamp, start_ns // 1_000_000 % 1000)


def write_local(folder, service, upload):
    path = os.path.join(folder, local_name(service, upload.start_ns))
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(upload.body)
    os.replace(tmp, path)
    return path


# ---- the recording loop -----------------------------------------------------------


class Periods:
    """Takes, renders and hands over each period's profile."""

    def __init__(self, sampler, threads, command, pusher=None, folder=None, service="python", err=None):
        self.sampler, self.threads, self.command = sampler, threads, command
        self.pusher, self.folder, self.service = pusher, folder, service
        self.err = err or sys.stderr
        self.periods = self.empty = self.written = 0
        self.write_failed = False
        self.last_end_ns = None

    def take(self):
        from . import _output

        try:
            data = self.sampler.take()
        except MemoryError:
            self.err.write("hotscope: out of memory: a period's profile was lost\n")
            return None
        meta = data.meta()
        start = int(meta.get("start_ns", "0"))
        end = start + int(meta.get("duration_ns", "0"))
        self.periods += 1
        if not data.total(clock="samples"):
            # Nothing ran (the program waited the whole period, or exited):
            # no profile to send, and the next period starts where this ended.
            self.empty += 1
            return None
        data = _output.thread_view(data, self.threads)
        data.set_meta("command", self.command)
        try:
            upload = Upload(start, end, data.pprof())
        except (MemoryError, ValueError) as e:
            self.err.write("hotscope: cannot render a period's profile: %s\n" % (e or "out of memory"))
            return None
        if self.folder is not None:
            try:
                write_local(self.folder, self.service, upload)
                self.written += 1
            except OSError as e:
                if not self.write_failed:
                    self.err.write("hotscope: cannot write to %s: %s\n" % (self.folder, e.strerror or e))
                self.write_failed = True
        if self.pusher is not None:
            self.pusher.submit(upload)
        return upload


class StopSignals:
    """Ctrl-C and SIGTERM while the recording loop runs, as a flag it reads
    and a pipe that ends its wait at once (signal.set_wakeup_fd).

    Nothing is raised into the loop's work and the handler takes no lock: a
    KeyboardInterrupt that lands between a lock's acquire and its `with`
    block (Event.wait, the uploader's queue) leaves the lock held, and a
    handler calling Event.set() while the main thread is inside Event.wait
    on the same lock waits for itself. A second Ctrl-C raises
    KeyboardInterrupt as usual, for a user who will not wait. Main thread
    only, as signal handlers are."""

    def __init__(self, on_terminate=None):
        self.reason = None            # "interrupted" (SIGINT) or "terminated" (SIGTERM)
        self._on_terminate = on_terminate
        self._read = self._write = None
        self._previous = None

    def install(self):
        import signal

        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

        # A SIGINT ignored when hotscope started (nohup, a background job of
        # a script) stays ignored, as Python's own KeyboardInterrupt would.
        taken = [s for s in (signal.SIGINT, signal.SIGTERM)
                 if s != signal.SIGINT or signal.getsignal(s) is not signal.SIG_IGN]
        self._previous = {s: signal.signal(s, self._handle) for s in taken}
        self._previous_fd = signal.set_wakeup_fd(self._write)
        return self

    def restore(self, signals=None):
        """Puts back the previous handlers (of `signals`, default both);
        with both, the pipe goes too."""
        import signal

        if self._previous is None:
            return
        for s in list(signals or self._previous):
            if s in self._previous:
                signal.signal(s, self._previous.pop(s))
        if not self._previous:
            signal.set_wakeup_fd(self._previous_fd)
            os.close(self._read)
            os.close(self._write)
            self._read = self._write = self._previous = None

    def _handle(self, signum, frame):
        import signal

        if signum == signal.SIGINT:
            if self.reason == "interrupted":
                raise KeyboardInterrupt
            self.reason = "interrupted"
        else:
            self.reason = self.reason or "terminated"
            if self._on_terminate is not None:
                self._on_terminate()

    def wait(self, seconds):
        """Sleeps up to `seconds`, less when a signal comes (once installed)."""
        import select

        if self._read is None:
            time.sleep(seconds)
            return
        try:
            ready, _, _ = select.select([self._read], [], [], seconds)
            if ready:
                while os.read(self._read, 64):
                    pass
        except (BlockingIOError, InterruptedError):
            pass


def run(sampler, periods, every, child=None, duration=None, stop=None, tick=0.25):
    """Samples until the child (or the target) exits, the duration ends,
    or `stop` (StopSignals) says Ctrl-C or SIGTERM; takes a period every
    `every` seconds and the last, partial one at the end. Returns "exited",
    "duration", "interrupted" or "terminated". After a SIGTERM a child
    that hotscope started is sampled until it has wound down."""
    # Woken 4 times a second at most (and at each period): the check for
    # the program's exit is the only thing that needs waking, and each
    # wake-up costs this process CPU time. A signal ends the wait at once.
    tick = min(tick, every / 4)
    stop = stop if stop is not None else StopSignals()  # not installed: Ctrl-C is a KeyboardInterrupt
    sampler.start()
    started = time.monotonic()
    due = started + every
    reason = "exited"
    try:
        while True:
            if child is not None and child.poll() is not None:
                break
            if child is None and sampler.finished:
                break
            if stop.reason == "interrupted" or (stop.reason == "terminated" and child is None):
                reason = stop.reason
                break
            now = time.monotonic()
            if duration is not None and now - started >= duration:
                reason = "duration"
                break
            if now >= due:
                periods.take()
                due += every
                if due <= now:  # fell behind (a stopped process): no burst of periods
                    due = now + every
            stop.wait(max(0.0, min(tick, due - time.monotonic())))
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        sampler.stop()
    if stop.reason == "terminated" and reason == "exited" and child is not None:
        reason = "terminated"
    try:
        periods.take()  # the last, partial period
    except KeyboardInterrupt:
        reason = "interrupted"
    return reason
