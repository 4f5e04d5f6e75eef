"""``hotscope top``: a live, refreshing view of the hottest functions of a
Python process, like top. The table comes from the C renderer
(ProfileData.top); this module only drives the terminal.

On a terminal: the alternate screen, redrawn every second, `q` quits
(as does Ctrl-C). On a pipe: one snapshot printed every second.
"""

import os
import select
import shutil
import sys
import time

from . import _output, _sample

CLEAR = "\x1b[H\x1b[2J"
ALT_ON, ALT_OFF = "\x1b[?1049h\x1b[?25l", "\x1b[?25h\x1b[?1049l"


class Keys:
    """Single-key reads from a terminal without echo (cbreak mode)."""

    def __init__(self):
        self.fd = None
        self.saved = None

    def __enter__(self):
        try:
            import termios
            import tty

            fd = sys.stdin.fileno()
            if os.isatty(fd):
                self.saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)
                self.fd = fd
        except (ImportError, OSError, ValueError):
            self.fd = None
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)

    def quit_pressed(self):
        if self.fd is None:
            return False
        while select.select([self.fd], [], [], 0)[0]:
            if os.read(self.fd, 1) in (b"q", b"Q"):
                return True
        return False


def screen(sampler, opts, title, rows):
    data = sampler.snapshot()
    stats = sampler.stats
    clock = "cpu" if opts.mode == "cpu" else "wall"
    seconds = int(data.meta().get("duration_ns", "0")) / 1e9
    head = "hotscope top - %s - %d samples, %.1fs, %g Hz, mode %s%s" % (
        title, stats["passes"], seconds, opts.rate, opts.mode,
        ", %d idle left out" % stats["idle_skipped"] if stats["idle_skipped"] else "")
    threads = _output.sampled_threads(data)
    limit = opts.limit or max(5, rows - 4 - threads.count("\n"))
    return head + "\n\n" + threads + data.top(clock=clock, limit=limit)


def run(opts, command):
    from .cli import fail

    child = None
    try:
        if command:
            child = _sample.start_program(command)
            pid, wait = child.pid, _sample.STARTUP_WAIT
        else:
            pid, wait = opts.pid, 0.0
        sampler = _sample.attach(pid, rate=opts.rate, mode=opts.mode, idle=opts.idle, wait=wait)
    except _sample.SampleError as e:
        if child is not None:
            fail(str(e), 0)
            return _sample.wait_child(child, "exited")
        return fail(str(e))
    title = " ".join(command) if command else "pid %d" % pid
    tty = sys.stdout.isatty()
    last = [0.0]

    def tick():
        if keys.quit_pressed():
            return False
        now = time.monotonic()
        if now - last[0] < 1.0:
            return True
        last[0] = now
        rows = shutil.get_terminal_size((100, 30)).lines
        text = screen(sampler, opts, title, rows)
        try:
            if tty:
                sys.stdout.write(CLEAR + text)
            else:
                sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            return False
        return True

    with Keys() as keys:
        if tty:
            sys.stdout.write(ALT_ON)
        try:
            reason = _sample.run_sampling(sampler, child=child, on_tick=tick)
        finally:
            if tty:
                sys.stdout.write(ALT_OFF)
                sys.stdout.flush()
    if tty:  # leave the last view on the normal screen
        sys.stdout.write(screen(sampler, opts, title, 40) + "\n")
    status = _sample.wait_child(child, reason if child is not None else "exited")
    if reason == "interrupted" and child is not None and child.poll() is None:
        child.terminate()
    return status
