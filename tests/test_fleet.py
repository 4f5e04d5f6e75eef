"""Continuous profiling (`hotscope record --continuous`, hotscope/_fleet.py,
src/sampler/period.c) against a local Pyroscope-style receiver: an HTTP
server in a thread on 127.0.0.1 that parses every upload (the query string,
and the body as pprof with the protobuf package, as test_pprof.py does).

- each period arrives as a pprof of that period only: the name with its
  labels, from/until, format, sampleRate; the periods follow each other
  with neither gap nor overlap; the samples name the target's functions
  and their wall time covers the period of a program that never waits;
- a server away for a few periods loses nothing: every period arrives, in
  order; a long outage with a tiny buffer keeps memory bounded (the queue
  never holds more than its bounds), drops the oldest, says so once, and
  delivers the newest after recovery;
- 4xx answers drop a profile with one message; credentials become a Basic
  header; SIGTERM and Ctrl-C upload the last partial period;
- the sampler's periods (Sampler.take) add up to the whole recording, and
  a program that starts threads all the time does not grow the sampler;
- bad input: one line, exit status 2, nothing started.
"""

import base64
import gzip
import http.server
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from hotscope import _core, _fleet
from recordkit import ended, recorder
from test_pprof import parse as parse_pprof

TARGETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets")
SPLIT = os.path.join(TARGETS, "sample_split.py")
CHURN = os.path.join(TARGETS, "sample_thread_churn.py")


# ---- the receiver ------------------------------------------------------------------


class Receiver:
    """A Pyroscope-style /ingest endpoint. `answer(seconds since its first
    request)` gives the HTTP status of each request (200 by default)."""

    def __init__(self, answer=None):
        self.answer = answer or (lambda t: 200)
        self.requests = []   # (status, path, query, headers, body) of every request
        self.first = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    now = time.monotonic()
                    if receiver.first is None:
                        receiver.first = now
                    status = receiver.answer(now - receiver.first)
                    parts = urllib.parse.urlsplit(self.path)
                    receiver.requests.append((status, parts.path, urllib.parse.parse_qs(parts.query),
                                              self.headers, body))
                self.send_response(status)
                text = b"" if status == 200 else b"not now" if status >= 500 else b"invalid name"
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def accepted(self):
        with self.lock:
            return [r for r in self.requests if r[0] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(answer=None):
        made.append(Receiver(answer))
        return made[-1]

    yield make
    for r in made:
        r.close()


def free_port():
    """A port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Period:
    """One accepted upload, parsed."""

    def __init__(self, request):
        _, self.path, query, self.headers, body = request
        self.query = {k: v[0] for k, v in query.items()}
        assert all(len(v) == 1 for v in query.values()), query
        self.msg = parse_pprof(body)
        st = self.msg.string_table
        self.start, self.duration = self.msg.time_nanos, self.msg.duration_nanos
        self.end = self.start + self.duration
        types = [st[t.type] for t in self.msg.sample_type]
        self.samples = sum(s.value[types.index("samples")] for s in self.msg.sample)
        self.wall = sum(s.value[types.index("wall")] for s in self.msg.sample)
        self.functions = {st[f.name] for f in self.msg.function}
        self.meta = dict(st[c].split("=", 1) for c in self.msg.comment if "=" in st[c])


def hotscope(*args, timeout=90, env=None):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def summary(stderr):
    """(periods, profiles delivered, profiles sent) from the last line. A
    period without samples sends nothing: the program's last moments may
    make one, after its last sample."""
    m = re.search(r"hotscope record: (\d+) periods?, (?:(\d+) without samples \(nothing sent\), )?"
                  r"(\d+) of (\d+) profiles delivered", stderr)
    assert m, stderr
    periods, empty, delivered, sent = (int(g or 0) for g in m.groups())
    assert periods - empty == sent, stderr
    return periods, delivered, sent


def assert_contiguous(periods):
    """Each period starts where the previous one ended (to the nanosecond:
    both come from one switch in the sampler), and from/until are those
    moments in whole seconds."""
    for a, b in zip(periods, periods[1:]):
        assert b.start == a.end, (a.start, a.duration, b.start)
    for p in periods:
        assert p.duration > 0
        assert int(p.query["from"]) == p.start // 10**9
        assert int(p.query["until"]) == p.end // 10**9


# ---- the uploads -------------------------------------------------------------------


def test_every_period_arrives_as_a_pprof_of_that_period(receiver):
    r = receiver()
    out = hotscope("record", "--continuous", "--push", r.url + "/", "--upload-every", "0.5",
                   "--service-version", "1.2.3", "--label", "env=test", "--label", "region=eu.west",
                   "--", sys.executable, SPLIT, "2.5")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    periods_made, delivered, sent = summary(out.stderr)
    uploads = [Period(q) for q in r.accepted()]
    assert len(uploads) == delivered == sent >= 4, out.stderr
    assert len(r.requests) == len(uploads)  # nothing failed, nothing sent twice
    host = socket.gethostname()
    for p in uploads:
        assert p.path == "/ingest"
        assert p.query == {"name": "sample_split{host=%s,version=1.2.3,env=test,region=eu.west}" % host,
                           "from": p.query["from"], "until": p.query["until"], "format": "pprof",
                           "sampleRate": "100", "spyName": "hotscope"}
        assert p.headers["Content-Type"] == "application/octet-stream"
        assert "Authorization" not in p.headers
    # in the order they were taken, each of its own period
    assert_contiguous(uploads)
    # the target's own functions, in every whole period
    for p in uploads[1:-1]:
        assert {"a", "b", "unit", "main"} <= p.functions, p.functions
    assert {"a", "b", "unit", "main"} <= set.union(*(p.functions for p in uploads))
    # Samples: of that period only. The program never waits, so its one
    # thread is sampled at every pass (a few dropped as torn reads at most),
    # each pass weighing the time since the previous one: the wall time adds
    # up to the periods, whatever rate the machine gave. (Per period, a pass
    # the loaded machine delayed moves time across a boundary: summed over
    # the whole periods only the two outer boundaries count.)
    middle = uploads[1:-1]
    passes = sum(int(p.meta["samples"]) for p in middle)
    samples = sum(p.samples for p in middle)
    assert 0.8 * passes <= samples <= passes, (samples, passes)
    wall, duration = sum(p.wall for p in middle), sum(p.duration for p in middle)
    assert abs(wall - duration) <= 0.2 * duration, (wall, duration)
    for p in middle:
        # never more passes than the rate allows (missed ticks are skipped)
        assert int(p.meta["samples"]) <= 100 * p.duration / 1e9 * 1.1 + 2, (p.meta, p.duration)
    # Every pass of the recording is in one period: in the uploads, unless
    # its period read nothing (the program gone, or not started: then not
    # sent; at most a period's passes, 50 at 100 Hz, and the tick's).
    total_passes = int(re.search(r"; (\d+) samples of pid", out.stderr).group(1))
    uploaded_passes = sum(int(p.meta["samples"]) for p in uploads)
    assert 0 <= total_passes - uploaded_passes <= 80 * (periods_made - sent), (total_passes, uploaded_passes)


def test_a_short_outage_loses_nothing(receiver):
    # 503 for 1.5 s from 0.4 s after the first upload: three periods queue up.
    r = receiver(lambda t: 503 if 0.4 <= t < 1.9 else 200)
    out = hotscope("record", "--continuous", "--push", r.url, "--upload-every", "0.5",
                   "--", sys.executable, SPLIT, "3")
    assert out.returncode == 0, out.stderr
    periods_made, delivered, sent = summary(out.stderr)
    uploads = [Period(q) for q in r.accepted()]
    refused = [q for q in r.requests if q[0] != 200]
    assert refused, "the outage was not met"
    assert len(uploads) == delivered == sent, out.stderr
    assert_contiguous(uploads)   # all of them, in the order taken
    lines = out.stderr.splitlines()
    assert sum("cannot deliver to %s (HTTP 503: not now); retrying" % r.url in l for l in lines) == 1, out.stderr
    assert sum("delivering again to %s after" % r.url in l for l in lines) == 1, out.stderr
    assert "dropped" not in out.stderr


def test_a_long_outage_with_a_tiny_buffer_drops_the_oldest(receiver):
    r = receiver(lambda t: 503 if 0.3 <= t < 2.6 else 200)
    out = hotscope("record", "--continuous", "--push", r.url, "--upload-every", "0.3",
                   "--push-buffer", "2", "--", sys.executable, SPLIT, "4")
    assert out.returncode == 0, out.stderr
    periods_made, delivered, sent = summary(out.stderr)
    dropped = int(re.search(r"(\d+) dropped \(buffer full\)", out.stderr).group(1))
    uploads = [Period(q) for q in r.accepted()]
    assert len(uploads) == delivered and delivered + dropped == sent, out.stderr
    assert dropped >= 3, out.stderr
    lines = out.stderr.splitlines()
    assert sum("buffer full (2 profiles" in l for l in lines) == 1, out.stderr
    assert sum(re.search(r"delivering again .* \d+ oldest profiles? dropped meanwhile", l) is not None
               for l in lines) == 1, out.stderr
    # Delivered in order; what is missing is one run of periods from the
    # outage (the oldest of it), and the newest ones all came through.
    starts = [p.start for p in uploads]
    assert starts == sorted(starts)
    gaps = [(a, b) for a, b in zip(uploads, uploads[1:]) if b.start != a.end]
    assert len(gaps) == 1, [(p.start, p.end) for p in uploads]
    after = uploads[uploads.index(gaps[0][1]):]
    assert len(after) >= 2   # what the buffer held, and the periods after the outage


def test_the_queue_stays_within_its_bounds(receiver):
    """The uploader itself, while the server refuses everything: never more
    than its count and bytes in memory, the oldest dropped, and once the
    server is back the newest arrive in order."""
    up = threading.Event()
    r = receiver(lambda t: 200 if up.is_set() else 503)
    err = _Lines()
    endpoint = _fleet.Endpoint(r.url)
    pusher = _fleet.Pusher(endpoint, "app{host=x}", 100, max_profiles=4, max_bytes=10_000,
                           backoff=(0.02, 0.1), err=err)
    pusher.start()
    most, most_bytes = 0, 0
    for i in range(300):
        pusher.submit(_fleet.Upload(i * 10**9, (i + 1) * 10**9, b"%06d" % i + b"x" * 3000))
        with pusher.cond:
            most = max(most, len(pusher.queue))
            most_bytes = max(most_bytes, pusher.queued_bytes)
        if i % 50 == 0:
            time.sleep(0.05)
    assert most <= 4 and most_bytes <= 10_000, (most, most_bytes)
    assert most == 3  # the bytes bound (3 x 3006) bit before the count
    up.set()
    left = pusher.close(grace=5)
    assert left == 0
    bodies = [int(q[4][:6]) for q in r.accepted()]
    assert bodies == sorted(bodies) and bodies[-1] == 299 and len(bodies) == pusher.delivered
    assert pusher.dropped == 300 - len(bodies) >= 290
    assert sum("buffer full (4 profiles, 10 kB)" in l for l in err.lines) == 1, err.lines
    assert sum("dropped meanwhile" in l for l in err.lines) == 1, err.lines


def test_a_profile_dropped_while_on_its_way_is_counted_once(receiver):
    """The queue's oldest is the one being sent: when newer ones push it out
    meanwhile and its send then gets through, it counts as delivered, not
    as dropped (each profile is delivered, dropped or refused, once)."""
    release = threading.Event()
    first = []

    def answer(t):
        if not first:
            first.append(t)
            release.wait(10)  # the first upload hangs until the test has overflowed the queue
        return 200

    r = receiver(answer)
    pusher = _fleet.Pusher(_fleet.Endpoint(r.url), "app{host=x}", 100, max_profiles=1, max_bytes=10**6,
                           backoff=(0.02, 0.1), err=_Lines())
    pusher.start()
    pusher.submit(_fleet.Upload(0, 10**9, b"first"))
    deadline = time.monotonic() + 10
    while pusher.sending is None and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(1, 4):
        pusher.submit(_fleet.Upload(i * 10**9, (i + 1) * 10**9, b"later %d" % i))
    assert pusher.dropped == 3  # "first" (on its way), then "later 1" and "later 2"
    release.set()
    assert pusher.close(grace=5) == 0
    assert [q[4] for q in r.accepted()] == [b"first", b"later 3"]
    assert (pusher.delivered, pusher.dropped, pusher.rejected) == (2, 2, 0)


class _Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.extend(text.splitlines())

    def flush(self):
        pass


def test_a_refused_profile_is_dropped_with_one_message(receiver):
    r = receiver(lambda t: 400)
    out = hotscope("record", "--continuous", "--push", r.url, "--upload-every", "0.4",
                   "--", sys.executable, SPLIT, "1.5")
    assert out.returncode == 0, out.stderr
    periods_made, delivered, sent = summary(out.stderr)
    assert delivered == 0 and len(r.requests) == sent >= 3  # none retried
    refused = [l for l in out.stderr.splitlines() if l.startswith("hotscope: push:")]
    assert refused == ["hotscope: push: the server refused a profile (HTTP 400: invalid name); dropped it"], \
        out.stderr
    assert "%d refused by the server" % sent in out.stderr


def test_credentials_become_a_basic_auth_header(receiver):
    r = receiver()
    url = r.url.replace("http://", "http://url-user:url%20pass@")
    env = dict(os.environ, HOTSCOPE_PUSH_AUTH="env-user:env-token")
    for args, expected in (([], "env-user:env-token"),
                           (["--push-auth", "opt-user:opt-token", "--push-tenant", "team-a"], "opt-user:opt-token")):
        before = len(r.requests)
        out = hotscope("record", "--continuous", "--push", url, "--upload-every", "5", *args,
                       "--", sys.executable, SPLIT, "0.5", env=env)
        assert out.returncode == 0, out.stderr
        assert "url-user" not in out.stderr and "pass" not in out.stderr  # never shown
        got = r.requests[before:]
        assert got and all(q[3]["Authorization"] == "Basic " + base64.b64encode(expected.encode()).decode()
                           for q in got)
        assert all(q[3].get("X-Scope-OrgID") == ("team-a" if args else None) for q in got)
    out = hotscope("record", "--continuous", "--push", url, "--upload-every", "5",
                   "--", sys.executable, SPLIT, "0.5")
    assert r.requests[-1][3]["Authorization"] == "Basic " + base64.b64encode(b"url-user:url pass").decode()


BUSY_THEN_EXIT_3 = """
import time
end = time.monotonic() + 1.2
while time.monotonic() < end:
    pass
raise SystemExit(3)
"""


def test_an_unreachable_server_is_said_at_once_and_the_program_runs_on():
    url = "http://127.0.0.1:%d" % free_port()
    out = hotscope("record", "--continuous", "--push", url, "--upload-every", "0.5", "--push-grace", "0.5",
                   "--", sys.executable, "-c", BUSY_THEN_EXIT_3)
    assert out.returncode == 3, out.stderr  # the program's own status
    lines = out.stderr.splitlines()
    assert lines[1] == ("hotscope: push: cannot reach %s (connection refused); profiling goes on and "
                        "uploads will be retried" % url), out.stderr
    assert "Traceback" not in out.stderr
    assert not any("cannot deliver" in l for l in lines), out.stderr  # the same outage: said once
    assert re.search(r"hotscope: push: \d+ profiles? not delivered \(connection refused\)", out.stderr), out.stderr


@pytest.mark.parametrize("sig, status, said", [(signal.SIGTERM, 0, "stopped by SIGTERM"),
                                               (signal.SIGINT, 130, "stopped by Ctrl-C")])
def test_a_signal_uploads_the_last_partial_period(receiver, sig, status, said):
    r = receiver()
    target = subprocess.Popen([sys.executable, SPLIT, "60"])
    try:
        rec = recorder("--continuous", "--pid", str(target.pid), "--push", r.url, "--upload-every", "0.5")
        deadline = time.monotonic() + 30
        while len(r.accepted()) < 2 and time.monotonic() < deadline and rec.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)  # into the next period
        signalled = time.time_ns()
        rec.send_signal(sig)
        _, stderr = ended(rec)
        assert rec.returncode == status, stderr
        assert said in stderr and "Traceback" not in stderr
        assert target.poll() is None  # --pid: the program is not ours to stop
    finally:
        target.kill()
        target.wait()
    uploads = [Period(q) for q in r.accepted()]
    periods_made, delivered, sent = summary(stderr)
    assert len(uploads) == delivered == sent >= 3
    assert_contiguous(uploads)
    assert abs(uploads[-1].end - signalled) < 0.5e9, (uploads[-1].end, signalled)  # the partial one


def test_a_sigint_ignored_at_start_stays_ignored(tmp_path):
    """Started with SIGINT ignored (nohup, a script's background job), the
    recorder keeps recording through a SIGINT, as Python's own handling
    would; SIGTERM still stops it cleanly, with the last period written."""
    folder = tmp_path / "profiles"
    target = subprocess.Popen([sys.executable, SPLIT, "60"])
    try:
        rec = recorder("--continuous", "--pid", str(target.pid), "-o", str(folder), "--upload-every", "0.3",
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        deadline = time.monotonic() + 30
        while len(os.listdir(folder) if folder.exists() else ()) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        rec.send_signal(signal.SIGINT)
        time.sleep(0.8)  # more than two periods
        assert rec.poll() is None, rec.stderr.read()
        rec.send_signal(signal.SIGTERM)
        _, stderr = ended(rec)
    finally:
        target.kill()
        target.wait()
    assert rec.returncode == 0 and "stopped by SIGTERM" in stderr and "Traceback" not in stderr, stderr
    assert len(os.listdir(folder)) >= 3, stderr


def test_a_folder_gets_one_readable_file_per_period(tmp_path):
    folder = tmp_path / "profiles"
    out = hotscope("record", "--continuous", "-o", str(folder), "--upload-every", "0.5", "--service", "split",
                   "--", sys.executable, SPLIT, "1.6")
    assert out.returncode == 0, out.stderr
    files = sorted(os.listdir(folder))
    m = re.search(r"(\d+) periods?, (?:(\d) without samples \(nothing sent\), )?(\d+) written to", out.stderr)
    assert m and len(files) == int(m.group(3)) == int(m.group(1)) - int(m.group(2) or 0) >= 3, (files, out.stderr)
    assert all(re.match(r"^split-\d{8}T\d{6}\.\d{3}Z\.pb\.gz$", f) for f in files), files
    loaded = [_core.load_pprof((folder / f).read_bytes()) for f in files]
    starts = [int(d.meta()["start_ns"]) for d in loaded]
    assert starts == sorted(starts)
    assert any(d.total(clock="samples") and "unit" in d.top(clock="samples") for d in loaded)


# ---- the sampler's periods ---------------------------------------------------------


def test_periods_add_up_and_thread_churn_does_not_grow_the_sampler():
    proc = subprocess.Popen([sys.executable, CHURN, "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        sampler = _core.Sampler(proc.pid, rate=1000)
        sampler.start()
        periods, tracked = [], []
        for _ in range(12):
            time.sleep(0.2)
            periods.append(sampler.take())
            tracked.append(sampler.stats["threads_tracked"])
        sampler.stop()
        periods.append(sampler.take())
        stats = sampler.stats
    finally:
        proc.kill()
        proc.wait()
    # nothing lost or counted twice between periods
    assert sum(int(p.meta()["samples"]) for p in periods) == stats["passes"]
    assert sum(p.total(clock="samples") for p in periods) == stats["thread_samples"]
    starts = [int(p.meta()["start_ns"]) for p in periods]
    ends = [s + int(p.meta()["duration_ns"]) for s, p in zip(starts, periods)]
    assert starts[1:] == ends[:-1]
    # Hundreds of threads came and went; each period holds only its own,
    # and the sampler follows only the living (4 workers and main at once).
    names = set()
    for p in periods:
        names |= {t["name"].split(" (")[0] for t in p.threads()}
    most = max(len(p.threads()) for p in periods)
    assert len(names) > 4 * most, (len(names), most)
    assert max(tracked) <= 12, tracked


# ---- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--continuous"], "--continuous needs --push URL (a Pyroscope server) or -o DIR"),
    (["--push", "http://localhost:4040"], "--push goes with --continuous"),
    (["--label", "a=b"], "--label goes with --continuous"),
    (["--continuous", "--push", "ftp://host"], "--push ftp://host: give the server's http:// or https:// URL"),
    (["--continuous", "--push", "localhost:4040"], "give the server's http:// or https:// URL"),
    (["--continuous", "--push", "http://"], "give the server's http:// or https:// URL"),
    (["--continuous", "--push", "http://host:port"], "--push http://host:port: not a valid URL"),
    (["--continuous", "--push", "http://host/?x=1"], "without a query"),
    (["--continuous", "-o", "x", "--push-auth", "u:t"], "--push-auth goes with --push URL"),
    (["--continuous", "--push", "http://h", "--push-auth", "token"], "--push-auth takes USER:TOKEN"),
    (["--continuous", "--push", "http://h", "--label", "novalue"], "--label 'novalue': give KEY=VALUE"),
    (["--continuous", "--push", "http://h", "--label", "a=b c"], "may not be empty nor hold spaces"),
    (["--continuous", "--push", "http://h", "--label", "a-b=c"], "a label name holds letters"),
    (["--continuous", "--push", "http://h", "--service", "my app"], "--service 'my app': use letters"),
    (["--continuous", "--push", "http://h", "--upload-every", "0.01"], "--upload-every must be at least 0.1"),
    (["--continuous", "--push", "http://h", "--push-buffer", "0"], "--push-buffer must be at least 1"),
    (["--continuous", "--push", "http://h", "--subprocesses"], "does not follow subprocesses"),
    (["--continuous", "--push", "http://h", "--native"], "does not read C frames"),
])
def test_bad_input_is_one_line_and_status_2(args, message, tmp_path):
    marker = tmp_path / "ran"
    out = hotscope("record", *args, "--", sys.executable, "-c", "open(%r, 'w')" % str(marker))
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("hotscope: "), out.stderr
    assert message in out.stderr, out.stderr
    assert not marker.exists()  # nothing was started


def test_o_must_name_a_folder(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("x")
    out = hotscope("record", "--continuous", "-o", str(path), "--", sys.executable, "-c", "pass")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "with --continuous, -o names a folder" in out.stderr


def test_default_service_is_the_program_name():
    assert _fleet.program_name(["/usr/bin/python3.12", "-u", "/srv/app/server.py", "--port", "8"]) == "server"
    assert _fleet.program_name(["python", "-X", "dev", "-m", "gunicorn", "app:wsgi"]) == "gunicorn"
    assert _fleet.program_name(["python3", "-mhttp.server"]) == "http.server"
    assert _fleet.program_name(["/opt/venv/bin/celery", "worker"]) == "celery"
    assert _fleet.program_name(["python", "-c", "pass"]) == "python"
    assert _fleet.service_name("my app:1") == "my_app_1"
