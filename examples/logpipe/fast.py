"""logpipe: the nightly report on a day of a web server's access log.

It reads the log, groups each user's requests into sessions, tells robots
from people, watches the mean latency of the last WINDOW requests, adds up
requests and bytes per country (asking a geo-IP service where each client
address is) and prints a report. Meanwhile a second thread writes a checkpoint
of the running totals every CHECKPOINT_EVERY requests, so that a run that
crashes can be resumed.

This is slow.py with the five fixes docs/tutorial.md arrives at; it prints
the same report, byte for byte (`diff -u slow.py fast.py` shows the fixes).

    python examples/logpipe/fast.py [--records N]
"""

import argparse
import collections
import json
import os
import queue
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

import logdata

SESSION_GAP = 30 * 60  # seconds of silence that end a session
WINDOW = 1000  # requests the latency alert looks back over
ALERT_MS = 150  # the alert is on while their mean latency is above this
CHECKPOINT_EVERY = 2000  # requests between two checkpoints
GEO_LOOKUPS_AT_ONCE = 16  # lookups waiting on the geo service at the same time

BOT_RULES = """
# Fragments of user agents that mark a robot, one per line, case ignored.
bot
crawler
spider
slurp
scrapy
python-requests
python-urllib
go-http-client
okhttp
java/
libwww-perl
curl
wget
httpie
headless
phantomjs
facebookexternalhit
preview
monitor
uptime
"""


class Request:
    __slots__ = ("time", "address", "user", "path", "status", "size", "latency", "agent")


def parse_line(line):
    """A Request from one line of the log (see logdata.write_log)."""
    head, agent, _ = line.split('"')
    stamp, address, user, _method, path, status, size, latency = head.split()
    hours, minutes, seconds = stamp[11:].split(":")
    request = Request()
    request.time = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    request.address = address
    request.user = user
    request.path = path
    request.status = int(status)
    request.size = int(size)
    request.latency = int(latency)
    request.agent = agent
    return request


class Session:
    __slots__ = ("user", "start", "last_seen", "requests")

    def __init__(self, user, start):
        self.user = user
        self.start = start
        self.last_seen = start
        self.requests = 0


def find_open_session(latest, user, now):
    """The session of `user` that is still open at `now`, or None; `latest`
    maps each user to their latest session."""
    session = latest.get(user)
    if session is not None and now - session.last_seen <= SESSION_GAP:
        return session
    return None


def bot_markers():
    """The fragments of BOT_RULES, in lower case, without the comments."""
    markers = []
    for line in BOT_RULES.splitlines():
        line = line.strip().lower()
        if line and not line.startswith("#"):
            markers.append(line)
    return markers


BOT_MARKERS = bot_markers()


def is_robot(agent):
    agent = agent.lower()
    return any(marker in agent for marker in BOT_MARKERS)


class LatencyAlert:
    """On while the mean latency of the last WINDOW requests is above ALERT_MS."""

    def __init__(self):
        self.window = collections.deque()
        self.total = 0  # of the latencies in the window

    def add(self, latency):
        self.window.append(latency)
        self.total += latency
        if len(self.window) > WINDOW:
            self.total -= self.window.popleft()
        return len(self.window) == WINDOW and self.total > ALERT_MS * WINDOW


class Totals:
    """The running totals. The checkpoint thread reads them while the main
    thread adds to them, hence the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.robot_requests = 0
        self.by_address = {}  # address -> [requests, bytes]
        self.latencies = {}  # path -> [latency in ms, ...]

    def add(self, request, robot):
        with self.lock:
            self.requests += 1
            self.robot_requests += robot
            counts = self.by_address.setdefault(request.address, [0, 0])
            counts[0] += 1
            counts[1] += request.size
            self.latencies.setdefault(request.path, []).append(request.latency)

    def snapshot(self):
        """A copy of the totals, for a checkpoint."""
        return {
            "requests": self.requests,
            "robot_requests": self.robot_requests,
            "by_address": {address: list(counts) for address, counts in self.by_address.items()},
            "latencies": {path: list(values) for path, values in self.latencies.items()},
        }


class Checkpointer(threading.Thread):
    """Writes the totals to `path` each time it is asked to, until closed."""

    def __init__(self, totals, path):
        super().__init__(name="checkpointer")
        self.totals = totals
        self.path = path
        self.asked = queue.Queue()
        self.written = 0

    def ask(self):
        self.asked.put(True)

    def close(self):
        self.asked.put(False)
        self.join()

    def run(self):
        while self.asked.get():
            self.write()

    def write(self):
        with self.totals.lock:  # the totals must not change while they are copied
            snapshot = self.totals.snapshot()
        logdata.write_slowly(self.path, json.dumps(snapshot, sort_keys=True))
        self.written += 1


def countries(addresses, geo):
    """The country of each address, as the geo-IP service says. The lookups
    wait on the service, so many of them wait together."""
    with ThreadPoolExecutor(max_workers=GEO_LOOKUPS_AT_ONCE) as pool:
        return dict(zip(addresses, pool.map(geo.lookup, addresses)))


def percentile(values, percent):
    """The nearest-rank percentile of `values`."""
    ordered = sorted(values)
    return ordered[(percent * len(ordered) + 99) // 100 - 1]


def clock(seconds):
    return "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def summarize(log_path, checkpoint_path):
    """Read the log at `log_path` and return the report, as text."""
    totals = Totals()
    checkpointer = Checkpointer(totals, checkpoint_path)
    checkpointer.start()
    sessions = []
    latest = {}  # user -> their latest session
    alert = LatencyAlert()
    alerted = 0
    first_alert = None
    with open(log_path) as log:
        for line in log.readlines():
            request = parse_line(line)
            robot = is_robot(request.agent)
            session = find_open_session(latest, request.user, request.time)
            if session is None:
                session = Session(request.user, request.time)
                sessions.append(session)
                latest[request.user] = session
            session.last_seen = request.time
            session.requests += 1
            if alert.add(request.latency):
                alerted += 1
                if first_alert is None:
                    first_alert = request.time
            totals.add(request, robot)
            if totals.requests % CHECKPOINT_EVERY == 0:
                checkpointer.ask()
    checkpointer.close()
    where = countries(sorted(totals.by_address), logdata.GeoService())
    return report(totals, sessions, alerted, first_alert, where, checkpointer.written)


def report(totals, sessions, alerted, first_alert, where, checkpoints):
    lines = []
    users = len({session.user for session in sessions})
    lines.append("logpipe: %d requests, %d users, %d sessions" % (totals.requests, users, len(sessions)))
    lines.append("robots: %d requests (%.1f%%)" % (totals.robot_requests, 100 * totals.robot_requests / totals.requests))
    longest = max(sessions, key=lambda session: (session.requests, session.user))
    lines.append("sessions: %.2f requests on average, the longest %d (%s from %s)" % (
        totals.requests / len(sessions), longest.requests, longest.user, clock(longest.start)))
    if first_alert is None:
        lines.append("latency alert (mean of the last %d above %d ms): never on" % (WINDOW, ALERT_MS))
    else:
        lines.append("latency alert (mean of the last %d above %d ms): on for %d requests, first at %s" % (
            WINDOW, ALERT_MS, alerted, clock(first_alert)))
    by_country = {}
    for address, (requests, size) in totals.by_address.items():
        counts = by_country.setdefault(where[address], [0, 0, 0])
        counts[0] += 1
        counts[1] += requests
        counts[2] += size
    lines.append("by country:           addresses  requests      MB")
    for country, (addresses, requests, size) in sorted(by_country.items(), key=lambda item: -item[1][1]):
        lines.append("  %-20s %9d %9d %7.1f" % (country, addresses, requests, size / 1e6))
    lines.append("latency by endpoint:   requests  median ms  p95 ms")
    for path, values in sorted(totals.latencies.items()):
        lines.append("  %-20s %9d %10d %7d" % (path, len(values), percentile(values, 50), percentile(values, 95)))
    lines.append("checkpoints written: %d" % checkpoints)
    return "\n".join(lines) + "\n"


def run(records):
    """The report on a day of `records` requests (written to a scratch directory first)."""
    with tempfile.TemporaryDirectory(prefix="logpipe-") as workdir:
        log_path = logdata.write_log(os.path.join(workdir, "access.log"), records)
        return summarize(log_path, os.path.join(workdir, "checkpoint.json"))


def main(argv=None):
    parser = argparse.ArgumentParser(description="The nightly report on a day of a web server's access log.")
    parser.add_argument("--records", type=int, default=20000, help="requests in the day's log (default 20000)")
    args = parser.parse_args(argv)
    sys.stdout.write(run(args.records))


if __name__ == "__main__":
    main()
