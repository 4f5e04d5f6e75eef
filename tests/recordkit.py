"""Helpers for tests that start `hotscope record` in a process of its own
and stop it with a signal (test_fleet.py, test_sample_native.py)."""

import re
import shutil
import signal
import subprocess
import sys

import pytest


def default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def recorder(*args, **popen):
    """A `hotscope record` process whose Python stacks faulthandler can dump.
    It starts with SIGINT's default action, as from a terminal, whatever
    this process has: a test run started in the background by a shell
    without job control (`nohup make test &`) ignores SIGINT, its children
    inherit that, and a recorder started so keeps ignoring it, rightly
    (test_a_sigint_ignored_at_start_stays_ignored): the Ctrl-C test then
    waited 30 s for nothing, in two CI-like runs here."""
    popen.setdefault("preexec_fn", default_sigint)
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "hotscope", "record", *args],
                            stderr=subprocess.PIPE, text=True, **popen)


def ended(rec, timeout=30):
    """(stdout, stderr) of a recorder asked to stop; when it has not ended
    in `timeout` seconds, the test fails saying where each of its threads
    is (gdb's C stacks if gdb is here, then faulthandler's Python stacks on
    SIGABRT), so that a hang seen once on CI tells where it hung."""
    try:
        return rec.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    native = ""
    if shutil.which("gdb"):
        try:
            out = subprocess.run(["gdb", "-batch", "-p", str(rec.pid), "-ex", "thread apply all bt"],
                                 capture_output=True, text=True, timeout=60).stdout
            native = "\n".join(line for line in out.splitlines() if re.match(r"Thread |#\d", line))
        except subprocess.TimeoutExpired:
            native = "(gdb timed out)"
    rec.send_signal(signal.SIGABRT)
    try:
        _, stderr = rec.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        rec.kill()
        _, stderr = rec.communicate()
    pytest.fail("the recorder did not end within %d s. Its Python threads (faulthandler):\n%s\n"
                "Its threads in C (gdb):\n%s" % (timeout, stderr[-6000:], native[-8000:]))
