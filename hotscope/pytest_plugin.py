"""pytest plugin: ``pytest --hotscope`` profiles every test.

Registered through the ``pytest11`` entry point, so installing hotscope
makes the options appear; without them it does nothing but add them.

    pytest --hotscope                  trace each test's call phase (every call)
    pytest --hotscope=record           sample it instead (the C sampler, less overhead)
    pytest --hotscope-dir DIR          also write one HTML report per test into DIR
    pytest --hotscope-merged FILE      also write all tests merged into FILE (.html, .prof, .svg, ...)
    pytest --hotscope-top N            how many of the slowest tests to list (default 5)

At the end it lists the slowest tests, each with its hottest functions by
self time. The call phase is profiled (not fixtures' setup and teardown):
that is the test's own work. A test that starts a profiler itself
(hotscope.trace, cProfile, sys.setprofile) cannot run under tracing, as
two profilers cannot both hold the hooks; use --hotscope=record for those.
"""

import hashlib
import os
import re
import time

import pytest

MODES = ("trace", "record")
FUNCTIONS_PER_TEST = 5
MERGE_BATCH = 50


def mode_of(text):
    if text not in MODES:
        import argparse

        raise argparse.ArgumentTypeError(
            "%r is not trace or record (test paths go before --hotscope, or write --hotscope=trace)" % text)
    return text


def pytest_addoption(parser):
    group = parser.getgroup("hotscope", "profiling each test with hotscope")
    group.addoption("--hotscope", nargs="?", const="trace", default=None, type=mode_of, metavar="trace|record",
                    help="profile each test's call phase: trace (default: every call) or record (sampling); "
                         "test paths go before it")
    group.addoption("--hotscope-dir", default=None, metavar="DIR",
                    help="write one HTML report per test into DIR (implies --hotscope)")
    group.addoption("--hotscope-merged", default=None, metavar="FILE",
                    help="write every test's profile merged into FILE, the format from its extension "
                         "(implies --hotscope)")
    group.addoption("--hotscope-top", type=int, default=5, metavar="N",
                    help="list the N slowest tests with their hottest functions (default 5)")
    group.addoption("--hotscope-rate", type=int, default=1000, metavar="HZ",
                    help="samples per second with --hotscope=record (default 1000)")


def pytest_configure(config):
    mode = config.getoption("hotscope")
    directory = config.getoption("hotscope_dir")
    merged = config.getoption("hotscope_merged")
    if mode is None and (directory or merged):
        mode = "trace"
    if mode is None:
        return
    from . import _output

    if merged:
        try:
            _output.format_of(merged)
            _output.check_writable(merged)
        except (_output.UnsupportedFormat, OSError) as e:
            raise pytest.UsageError("--hotscope-merged: %s" % e) from None
    if directory:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise pytest.UsageError("--hotscope-dir: cannot create %s: %s" % (directory, e.strerror or e)) from None
    if config.getoption("hotscope_top") < 0:
        raise pytest.UsageError("--hotscope-top must be 0 or more")
    config.pluginmanager.register(TestProfiler(config, mode, directory, merged), "hotscope-profiler")


def harness_directories():
    """Where pytest, pluggy and hotscope live: their frames wrap every test,
    so they are left out of "hottest functions"."""
    import _pytest
    import pluggy

    return tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep for m in (_pytest, pluggy, __import__("hotscope")))


def hottest(data, limit, harness=()):
    """[(seconds, share of the test, label)] of the functions with most
    self time, frames from the `harness` directories left out."""
    stats = data.pstats(clock="wall")
    total = sum(v[2] for v in stats.values()) or 1.0
    rows = []
    for (file, line, name), (_, _, self_s, _, callers) in stats.items():
        if file.startswith(harness) or self_s < total / 1000:  # below 0.1%: noise
            continue
        if file == "~" and callers and all(caller[0].startswith(harness) for caller in callers):
            continue  # a builtin only the harness called
        label = name if file == "~" else "%s  (%s:%d)" % (name, short_path(file), line)
        rows.append((self_s, self_s / total, label))
    rows.sort(key=lambda r: -r[0])
    return rows[:limit]


def short_path(file):
    try:
        relative = os.path.relpath(file)
    except ValueError:
        return file
    return file if relative.startswith("..") else relative


def file_name(nodeid, used):
    """A file name for a test id, unique among `used`."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")[:120] or "test"
    if name in used:
        name += "-" + hashlib.sha1(nodeid.encode("utf-8")).hexdigest()[:10]
    used.add(name)
    return name + ".html"


class TestProfiler:
    """Profiles each test's call phase and reports at the end."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, config, mode, directory, merged):
        self.config = config
        self.mode = mode
        self.directory = directory
        self.merged_path = merged
        self.rate = config.getoption("hotscope_rate")
        self.top = config.getoption("hotscope_top")
        self.results = []  # (seconds, nodeid, hottest functions)
        self.pending = []
        self.merged = None
        self.used_names = set()
        self.written = 0
        self.failures = []
        self.harness = harness_directories()

    def start(self):
        import hotscope

        if self.mode == "trace":
            profile = hotscope.Profile()
            profile.enable()
            return profile
        recording = hotscope.sample(rate=self.rate)
        recording.__enter__()
        return recording

    def stop(self, engine):
        if self.mode == "trace":
            engine.disable()
            return engine.snapshot()
        engine.__exit__(None, None, None)
        return engine.data

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        try:
            engine = self.start()
        except Exception as e:  # another profiler holds the hooks, or the sampler failed
            self.failures.append("%s: not profiled: %s" % (item.nodeid, e))
            yield
            return
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            data = self.stop(engine)
            self.record(item.nodeid, elapsed, data)

    def record(self, nodeid, elapsed, data):
        data.set_meta("command", "pytest " + nodeid)
        self.results.append((elapsed, nodeid, hottest(data, FUNCTIONS_PER_TEST, self.harness)))
        if self.directory:
            path = os.path.join(self.directory, file_name(nodeid, self.used_names))
            from . import _output

            try:
                with open(path, "wb") as f:
                    f.write(_output.html_report(data, clock="samples" if self.mode == "record" else "wall",
                                                title="%s (%.3fs)" % (nodeid, elapsed)))
                self.written += 1
            except OSError as e:
                self.failures.append("%s: %s" % (path, e.strerror or e))
        if self.merged_path:
            self.pending.append(data)
            if len(self.pending) >= MERGE_BATCH:
                self.merge_pending()

    def merge_pending(self):
        from . import _core

        if self.pending:
            self.merged = _core.merge(([self.merged] if self.merged is not None else []) + self.pending)
            self.pending = []

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        how = "traced" if self.mode == "trace" else "sampled at %d Hz" % self.rate
        slowest = sorted(self.results, key=lambda r: -r[0])[:self.top]
        if slowest:
            terminalreporter.write_sep("=", "hotscope: the %d slowest tests (call phase, %s)" % (len(slowest), how))
        for elapsed, nodeid, functions in slowest:
            write("%8.3fs  %s" % (elapsed, nodeid))
            for seconds, share, label in functions:
                write("           %8.3fs %5.1f%%  %s" % (seconds, 100.0 * share, label))
        if self.directory:
            write("hotscope: %d reports in %s" % (self.written, self.directory))
        if self.merged_path:
            self.write_merged(write)
        for failure in self.failures:
            write("hotscope: %s" % failure)

    def write_merged(self, write):
        from . import _output

        self.merge_pending()
        if self.merged is None:
            write("hotscope: no test ran, %s not written" % self.merged_path)
            return
        self.merged.set_meta("command", "pytest (%d tests merged)" % len(self.results))
        try:
            _output.write(self.merged, self.merged_path, sampled=self.mode == "record")
            write("hotscope: %d tests merged into %s" % (len(self.results), self.merged_path))
        except (OSError, _output.UnsupportedFormat) as e:
            write("hotscope: cannot write %s: %s" % (self.merged_path, e))
