"""The profiles the web middleware saved (hotscope/web.py), and the pages
that show them.

Each profile is two files in one directory: NAME.html, the self-contained
report (C renderer), and NAME.json, what the request was (method, path,
route, status, duration, ...). The directory is the truth, so several
worker processes given the same directory share one index. Only the
newest `keep` profiles stay.
"""

import base64
import hashlib
import html
import json
import os
import re
import tempfile
import threading
import time

# time in ms, process, sequence: sorts by time, unique across processes
NAME = re.compile(r"^[0-9]{13}-[0-9]+-[0-9]+$")

# Served with every page of ours: nothing may load, submit, frame or be
# framed. The report's one executable script is allowed by its hash.
BASE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; " \
              "form-action 'none'; frame-ancestors 'none'"


def security_headers(policy):
    return [("Content-Security-Policy", policy), ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]


def report_policy(report):
    """The CSP for a report (bytes from ProfileData.html()): the base policy
    plus the hash of its script, the last <script> element
    (src/render/html_report.c writes the data block first, then the code)."""
    start = report.rfind(b"<script>")
    end = report.rfind(b"</script>")
    if start < 0 or end < start:
        return BASE_POLICY
    digest = hashlib.sha256(report[start + len(b"<script>"):end]).digest()
    return "%s; script-src 'sha256-%s'" % (BASE_POLICY, base64.b64encode(digest).decode("ascii"))


class ProfileStore:
    """Saved request profiles in `directory` (a new private temporary
    directory when None, made on first save), the newest `keep` kept."""

    def __init__(self, directory=None, keep=100):
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self._directory = directory
        self.keep = keep
        self._lock = threading.Lock()
        self._sequence = 0

    @property
    def directory(self):
        with self._lock:
            if self._directory is None:
                self._directory = tempfile.mkdtemp(prefix="hotscope-web-")
            else:
                os.makedirs(self._directory, exist_ok=True)
            return self._directory

    def save(self, report, record):
        """Writes the report (bytes) and its record (a dict); returns the
        name, which is also put in the record."""
        directory = self.directory
        with self._lock:
            self._sequence += 1
            name = "%013d-%d-%d" % (int(time.time() * 1000), os.getpid(), self._sequence)
        record = dict(record, name=name)
        for suffix, payload in ((".html", report), (".json", json.dumps(record).encode("utf-8"))):
            path = os.path.join(directory, name + suffix)
            tmp = "%s.tmp-%d" % (path, threading.get_ident())
            with open(tmp, "wb") as f:
                f.write(payload)
            os.replace(tmp, path)
        self._prune(directory)
        return name

    def _names(self, directory):
        try:
            entries = os.listdir(directory)
        except OSError:
            return []
        return sorted(e[:-5] for e in entries if e.endswith(".json") and NAME.match(e[:-5]))

    def _prune(self, directory):
        names = self._names(directory)
        for name in names[:max(0, len(names) - self.keep)]:
            for suffix in (".json", ".html"):
                try:
                    os.remove(os.path.join(directory, name + suffix))
                except OSError:
                    pass

    def records(self):
        """The saved records, newest first."""
        if self._directory is None:
            return []
        result = []
        for name in reversed(self._names(self._directory)[-self.keep:]):
            try:
                with open(os.path.join(self._directory, name + ".json"), "rb") as f:
                    result.append(json.loads(f.read()))
            except (OSError, ValueError):
                continue  # pruned meanwhile, or half written by another process
        return result

    def report(self, name):
        """The report's bytes, or None when there is no such profile."""
        if self._directory is None or not NAME.match(name):
            return None
        try:
            with open(os.path.join(self._directory, name + ".html"), "rb") as f:
                return f.read()
        except OSError:
            return None


def index_page(records, base, keep):
    """The HTML list of saved profiles, each linking to its report under `base`."""
    rows = []
    for r in records:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.get("time", 0)))
        route = r.get("route") or r.get("path", "")
        path = r.get("path", "")
        where = html.escape(route) if route == path else "%s <small>%s</small>" % (html.escape(route), html.escape(path))
        rows.append(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td class=n>%s</td><td class=n>%.1f</td><td>%s</td>"
            "<td>%s</td><td><a href=\"%s\">report</a></td></tr>" % (
                html.escape(when), html.escape(r.get("method", "")), where, html.escape(str(r.get("status", ""))),
                r.get("duration_ms", 0.0), html.escape(r.get("mode", "")), html.escape(r.get("trigger", "")),
                html.escape(base + r["name"] + ".html", quote=True)))
    body = "\n".join(rows) if rows else "<tr><td colspan=8>No profile yet: add ?hotscope=1 to a URL.</td></tr>"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>hotscope: request profiles</title>"
            "<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}"
            "td,th{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}"
            "small{color:#777}</style></head><body>\n<h1>Request profiles</h1>\n"
            "<p>%d saved, newest first (the newest %d are kept); <a href=\"%s\">as JSON</a>.</p>\n<table><tr><th>when</th><th>method</th>"
            "<th>route</th><th>status</th><th>ms</th><th>mode</th><th>how</th><th></th></tr>\n%s\n</table>\n"
            "</body></html>\n" % (len(records), keep, html.escape(base + "profiles.json", quote=True), body)).encode("utf-8")
