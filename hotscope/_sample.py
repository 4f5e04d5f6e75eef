"""Sampling from outside a process: the glue around the C sampler
(``hotscope._core.Sampler``) for ``hotscope record``, ``top``, ``dump`` and
``hotscope.sample()``.

The C sampler reads the target's memory from a native thread of its own;
this module starts programs, waits, follows child processes, and turns
what the sampler saw into reports.
"""

import os
import signal
import subprocess
import sys
import time

from . import _core, _output

# How long to wait for a freshly started program to bring its interpreter up.
STARTUP_WAIT = 10.0


class SampleError(Exception):
    """A failure to explain in one line (no such process, permission, ...)."""


def attach(pid, rate=100, mode="wall", idle=False, wait=0.0, native=False):
    try:
        return _core.Sampler(pid, rate=rate, mode=mode, idle=idle, wait=wait, native=native)
    except (ProcessLookupError, PermissionError, RuntimeError, ValueError) as e:
        raise SampleError(str(e)) from None


def descendants(pid):
    """Every process below pid (children, grandchildren, ...), from /proc."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


# The C sampler's message for a process with no interpreter in it: such a
# process is tried again only after it execs another program.
NOT_PYTHON = "does not look like Python"
# Polls (0.1 s apart) a process is tried while it does not look like Python:
# a fresh exec maps libpython within milliseconds, a shell never does.
NOT_PYTHON_TRIES = 15


def exe_of(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


class ChildFollower:
    """Adds the Python processes of a tree (the root's descendants, and the
    root itself while it is not sampled: `record --subprocesses -- sh -c
    ...`) to a sampler as they appear. A process is known by its pid and
    executable, so one that execs Python after a shell is tried afresh."""

    def __init__(self, sampler, root_pid, sampled=()):
        self.sampler = sampler
        self.root_pid = root_pid
        self.tries = {}  # (pid, exe) -> failed attempts, or -1 once sampled
        for pid in sampled:
            self.tries[(pid, exe_of(pid))] = -1

    def try_attach(self, pid, add):
        key = (pid, exe_of(pid))
        tries = self.tries.get(key, 0)
        if tries < 0 or tries >= NOT_PYTHON_TRIES or key[1] is None:
            return None
        try:
            result = add(pid)
        except (RuntimeError, PermissionError, ProcessLookupError, SampleError) as e:
            # Not Python (yet), or still starting: a starting interpreter
            # is tried as long as it lives, anything else a few times.
            self.tries[key] = tries + 1 if NOT_PYTHON in str(e) or isinstance(e, PermissionError) else 0
            return None
        self.tries[key] = -1
        return result

    def poll(self):
        for pid in [self.root_pid] + descendants(self.root_pid):
            self.try_attach(pid, self.sampler.add_process)


def attach_tree(child, rate=100, mode="wall", idle=False, tick=0.05, native=False):
    """(sampler, follower) for the first Python process in the tree of
    `child` (record --subprocesses under a program that is not Python: sh
    -c, make, a launcher). Waits for one to appear; SampleError if the child
    exits first."""
    follower = ChildFollower(None, child.pid)
    while True:
        for pid in [child.pid] + descendants(child.pid):
            sampler = follower.try_attach(pid, lambda p: attach(p, rate=rate, mode=mode, idle=idle,
                                                                native=native))
            if sampler is not None:
                follower.sampler = sampler
                return sampler, follower
        if child.poll() is not None:
            raise SampleError("no Python process appeared before the program exited")
        time.sleep(tick)


def status_of(returncode):
    """A child's exit status as a shell reports it (signals: 128 + n)."""
    if returncode is None:
        return 0
    return 128 - returncode if returncode < 0 else returncode


def child_exited(child, traced=False):
    """Whether the child has exited. While the sampler may hold its threads
    stopped (--native: a ptrace tracer in this process), waitpid would take
    the tracer's notices of those stops (reporting the child as stopped,
    and leaving the tracer waiting): then look without collecting anything
    (waitid with WNOWAIT), for an exit only; child.wait() collects it once
    sampling has stopped."""
    if not traced:
        return child.poll() is not None
    try:
        info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None and info.si_code in (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED)


def run_sampling(sampler, child=None, duration=None, follow=None, on_tick=None, tick=0.1, traced=False):
    """Samples until the child (or every target) exits, the duration ends
    or Ctrl-C. Returns "exited", "duration" or "interrupted". Following
    the processes under a child, sampling goes on until the child exits,
    even while none of them is alive (another may start). `traced`: the
    sampler stops the child's threads (--native)."""
    sampler.start(follow=follow is not None and child is not None, label_pids=follow is not None)
    start = time.monotonic()
    reason = "exited"
    try:
        while True:
            if child is not None and child_exited(child, traced):
                break
            if sampler.finished:
                break
            if duration is not None and time.monotonic() - start >= duration:
                reason = "duration"
                break
            if follow is not None:
                follow.poll()
            if on_tick is not None and on_tick() is False:
                reason = "interrupted"
                break
            time.sleep(tick)
    except KeyboardInterrupt:
        reason = "interrupted"
    finally:
        sampler.stop()
    return reason


def start_program(command, quiet=False):
    """Start `command`; `quiet` sends its output to /dev/null."""
    if not command:
        raise SampleError("no command to run after '--'")
    try:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL if quiet else None,
                                stderr=subprocess.DEVNULL if quiet else None)
    except FileNotFoundError:
        raise SampleError("%s: command not found" % command[0]) from None
    except PermissionError:
        raise SampleError("%s: permission denied" % command[0]) from None
    except OSError as e:
        raise SampleError("cannot run %s: %s" % (command[0], e.strerror or e)) from None


def wait_child(child, reason):
    """Lets the child finish after sampling stopped; returns its status."""
    if child is None:
        return 0
    try:
        if reason == "interrupted":
            # The terminal's Ctrl-C reached the child too; give it time to
            # exit by itself before asking.
            try:
                return status_of(child.wait(timeout=2))
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGINT)
        return status_of(child.wait())
    except KeyboardInterrupt:
        child.kill()
        return status_of(child.wait())


def summary_header(sampler, data, reason):
    stats = sampler.stats
    meta = data.meta()
    seconds = int(meta.get("duration_ns", "0")) / 1e9
    procs = stats["processes"]
    who = "pid %d" % procs[0][0] if len(procs) == 1 else "%d processes" % len(procs)
    line = "hotscope record: %d samples of %s (Python 3.%d) over %.2fs at %s Hz, mode %s" % (
        stats["passes"], who, procs[0][1], seconds, meta.get("rate_hz", "?"), meta.get("mode", "?"))
    notes = []
    if stats["idle_skipped"]:
        notes.append("%d idle thread samples left out (--idle keeps them)" % stats["idle_skipped"])
    if stats["dropped"]:
        notes.append("%d thread samples dropped: the stack changed while it was read (%d) "
                     "or failed a check (%d)" % (stats["dropped"], stats["dropped_moved"],
                                                 stats["dropped_invalid"]))
    if stats.get("cut"):
        notes.append("%d stacks started below frames that changed while they were read "
                     "(fast calls charged to their caller)" % stats["cut"])
    if stats["truncated"]:
        notes.append("%d stacks cut at their deepest frames" % stats["truncated"])
    if stats.get("task_waits"):
        notes.append("%d samples of waiting asyncio tasks (each one's await chain, under its root)"
                     % stats["task_waits"])
    if stats.get("native_stops"):
        notes.append("--native: each thread held stopped %.0f us per sample on average (ptrace)"
                     % (stats["native_held_ns"] / 1e3 / stats["native_stops"]))
    if stats.get("native_error"):
        notes.append("--native: %s" % stats["native_error"])
    if stats.get("native_unavailable"):
        notes.append("%d thread samples without C frames (the thread did not stop in time)"
                     % stats["native_unavailable"])
    if stats["late"]:
        notes.append("the sampler fell behind %d times" % stats["late"])
    if reason == "interrupted":
        notes.append("stopped by Ctrl-C")
    return line + "".join("\n  " + n for n in notes) + "\n"


def sampled_text(data, clock, limit=30, show_all=False, color=False, separate=False):
    """The text summary of a sampled profile: hottest functions, then the tree."""
    from . import _output

    return _output.sampled_report(data, clock=clock, limit=limit, show_all=show_all, color=color,
                                  separate=separate)


class Sample:
    """``with hotscope.sample(rate=1000) as s: ...``: the C sampler run
    against this very process; ``s.data`` is the profile afterwards."""

    def __init__(self, rate=1000, mode="wall", idle=False):
        self.rate, self.mode, self.idle = rate, mode, idle
        self.sampler = None
        self.data = None

    def __enter__(self):
        self.sampler = attach(os.getpid(), rate=self.rate, mode=self.mode, idle=self.idle)
        self.sampler.start()
        return self

    def __exit__(self, *exc):
        self.sampler.stop()
        self.data = self.sampler.snapshot()
        return False

    @property
    def stats(self):
        return self.sampler.stats

    def snapshot(self):
        return self.sampler.snapshot()

    def save(self, path, icicle=False):
        """Write the samples in the format the extension names; icicle=True
        draws a .svg flame graph top-down."""
        data = self.data if self.data is not None else self.snapshot()
        _output.write(data, path, clock="wall", sampled=True, icicle=icicle)

    def print_top(self, limit=20, file=None):
        data = self.data if self.data is not None else self.snapshot()
        (file or sys.stdout).write(data.top(clock="wall", limit=limit))


def sample(rate=1000, mode="wall", idle=False):
    return Sample(rate=rate, mode=mode, idle=idle)


def format_dump(threads, show_locals=False):
    """`hotscope dump` text: every thread, innermost frame first."""
    out = []
    for th in threads:
        state = {"R": "running", "S": "sleeping", "D": "waiting on I/O", "": "unknown"}.get(
            th["state"], th["state"])
        flags = [state]
        if th["gil"]:
            flags.append("holds the GIL")
        out.append("Thread %s (pid %d, tid %d, ident 0x%x): %s" % (
            th["name"] or "?", th["pid"], th["tid"], th["ident"], ", ".join(flags)))
        if th["torn"]:
            out.append("    (the stack changed while being read; shown as far as it was consistent)")
        for f in th["frames"]:
            if f.get("native"):
                out.append("    %s (%s)" % (f["name"], os.path.basename(f["file"])))
                continue
            out.append("    %s (%s:%d)" % (f["name"], f["file"], f["line"]))
            if show_locals and f["locals"]:
                for name, value in f["locals"]:
                    out.append("        %s = %s" % (name, value))
        if th["truncated"]:
            out.append("    ... (deeper frames not shown)")
        out.append("")
    return "\n".join(out)
