"""Memory profiling glue: hotscope.memory() and what `hotscope mem` runs.

The engine (hotscope._core.MemTracer: allocator hooks, stacks, peak,
leaks, memory over time, per-line figures of chosen functions) and the
report (ProfileData.mem_text) are C; this module starts and stops it,
turns functions into code objects, names threads, keeps a forked child
from reporting the parent's recording, and shapes rows for Python callers.

    with hotscope.memory() as m:
        work()
    m.peak                   # bytes, the high-water mark of the Python heap
    m.top(10)                # lines that allocated most: [(Location, bytes, count)]
    m.top(10, by="count")    # ... most allocations
    m.top(5, what="peak")    # lines holding the most memory at the peak
    m.leaks()                # lines whose memory is still allocated at the end
    m.save("mem.txt")        # .txt, .json, .collapsed (bytes)

    with hotscope.memory(parse, load) as m:   # line by line, for these functions
        work()
    m.lines()                # [FunctionMemory]: allocated/freed/net per line

With native=True (what `hotscope mem --native` uses) malloc and friends
are recorded too, with native frames under the Python line that called
into C. That needs hotscope's malloc interposer (native_library()) in
LD_PRELOAD from the process's start: `hotscope mem --native` runs itself
again under it (reexec_native).
"""

import collections
import importlib.machinery
import linecache
import os
import sys
import threading
import weakref

from . import _core, _lines, _output, _runner

_HOTSCOPE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Set in the environment of `hotscope mem --native` run again under the
# interposer: "-" when LD_PRELOAD was unset before, else "+" and its value.
NATIVE_MARKER = "HOTSCOPE_MEM_NATIVE_PRELOAD"


def native_library():
    """The path of hotscope's malloc interposer (built with the extension,
    installed in this package), or None when it is missing."""
    here = os.path.dirname(os.path.abspath(__file__))
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(here, "_native_alloc" + suffix)
        if os.path.isfile(path):
            return path
    return None


def reexec_native(args):
    """Run `python -m hotscope ARGS` again in this process with the
    interposer in LD_PRELOAD (execve: same pid, same standard streams, its
    exit status is ours). Returns only when that cannot be done: raises
    OSError or RuntimeError with a one-line message."""
    library = native_library()
    if not library:
        raise RuntimeError("hotscope's malloc interposer (_native_alloc) is not installed with this hotscope")
    env = dict(os.environ)
    before = env.get("LD_PRELOAD")
    env[NATIVE_MARKER] = "-" if before is None else "+" + before
    # First, so that its malloc is the one the program's calls reach (it
    # passes them on to the next: any other preloaded allocator); but after
    # a sanitizer's runtime, which must come first or refuses to start.
    entries = before.split() if before else []
    sanitizers = [e for e in entries if os.path.basename(e).startswith(("libasan", "libtsan"))]
    others = [e for e in entries if e not in sanitizers]
    env["LD_PRELOAD"] = " ".join(sanitizers + [library] + others)
    try:
        import subprocess
        flags = subprocess._args_from_interpreter_flags()
    except (ImportError, AttributeError):
        flags = []
    argv = _runner.hotscope_again(args, flags)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def restore_preload():
    """In the run under the interposer: put LD_PRELOAD back as it was, so the
    program and its children see their own environment. True when this is
    that run."""
    marker = os.environ.pop(NATIVE_MARKER, None)
    if marker is None:
        return False
    if marker.startswith("+"):
        os.environ["LD_PRELOAD"] = marker[1:]
    else:
        os.environ.pop("LD_PRELOAD", None)
    return True


def native_available():
    """Whether malloc and friends can be recorded in this process."""
    return _core.MemTracer.native_available()


# Recordings running now, so a forked child can stop its copy of them.
_recording = weakref.WeakSet()


def _after_fork_in_child():
    for profile in list(_recording):
        profile._tracer._after_fork_child()
        profile._forked = True
    _recording.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


# Thread names by kernel thread id. Threads that start and end while recording are gone when the report is
# built; their names are noted as they start, by a wrapper around
# threading.Thread._bootstrap_inner (present in 3.8-3.13) while any
# recording runs.
_name_sinks = []
_original_bootstrap = getattr(threading.Thread, "_bootstrap_inner", None)


def _noting_bootstrap(thread):
    for sink in list(_name_sinks):
        sink[threading.get_native_id()] = thread.name
    return _original_bootstrap(thread)


def _watch_thread_names(sink):
    if _original_bootstrap is None:
        return
    _name_sinks.append(sink)
    threading.Thread._bootstrap_inner = _noting_bootstrap


def _unwatch_thread_names(sink):
    if sink in _name_sinks:
        _name_sinks.remove(sink)
    if not _name_sinks and _original_bootstrap is not None:
        threading.Thread._bootstrap_inner = _original_bootstrap


class Location(collections.namedtuple("Location", "file line function")):
    """Where memory was allocated: a file, a line and the function there."""

    __slots__ = ()

    def __str__(self):
        return "%s:%d (%s)" % (self.file, self.line, self.function)


WHATS = ("allocated", "peak", "leaked")


class LineMemory(collections.namedtuple("LineMemory", "line allocated freed allocs frees")):
    """One line of a chosen function: bytes allocated and freed (and how
    many allocations and frees) while it was the line running in one of
    the function's frames, callees included."""

    __slots__ = ()

    @property
    def net(self):
        """allocated - freed: memory_profiler's "Increment", exactly."""
        return self.allocated - self.freed


class FunctionMemory(collections.namedtuple(
        "FunctionMemory", "file function first_line allocated freed allocs frees lines")):
    """A chosen function: the figures while any of its frames ran, and
    `lines`, a LineMemory per line with any figure, in line order."""

    __slots__ = ()

    @property
    def net(self):
        return self.allocated - self.freed

    def line(self, number):
        """The LineMemory of line `number` (all zeros when nothing happened there)."""
        for row in self.lines:
            if row.line == number:
                return row
        return LineMemory(number, 0, 0, 0, 0)


_LINE_TABLES = ("alloc_bytes", "freed_bytes", "allocs", "frees")


def function_memory(data):
    """The per-line figures of a memory profile's chosen functions, as
    [FunctionMemory] in the order they were chosen."""
    tables = data.line_tables()
    values = collections.OrderedDict()
    for column, name in enumerate(_LINE_TABLES):
        for file, function, first, line, value in tables.get(name, ()):
            row = values.setdefault((file, function, first), {}).setdefault(line, [0, 0, 0, 0])
            row[column] += value
    out = []
    for (file, function, first), by_line in values.items():
        whole = by_line.pop(0, [0, 0, 0, 0])
        lines = [LineMemory(line, *v) for line, v in sorted(by_line.items())]
        out.append(FunctionMemory(file, function, first, *whole, lines=lines))
    return out


class MemoryProfile:
    """Every allocation of the Python allocators while recording, with the
    Python stack that made it (see the module docstring)."""

    def __init__(self, *functions, interval_ms=10.0, native=False, cut_base=False, decorated=False):
        # cut_base: leave out the frames under the caller of enable() (the
        # command line's own, below the program's <module>). decorated:
        # also follow the functions decorated with @profile (hotscope mem).
        self._cut_base = cut_base
        self._decorated = decorated
        self._base = (0, 0)
        self._tracer = _core.MemTracer(interval_ms=interval_ms, native=native)
        self._data = None
        self._names = {}
        self._forked = False
        self._pid = os.getpid()
        for f in functions:
            self.add_function(f)

    # -- choosing functions ---------------------------------------------------
    def add_function(self, func):
        """Record bytes allocated and freed per line of `func` (a function,
        method, class, code object, or something wrapping one), before or
        while recording. Returns how many code objects were added."""
        codes = _lines._code_objects(func)
        if not codes:
            raise TypeError("cannot follow %r line by line: no Python code found in it" % (func,))
        return sum(self.add_code(code) for code in codes)

    def add_code(self, code):
        """Like add_function, for one code object; True if it was new."""
        return bool(self._tracer.choose(code))

    # -- recording --------------------------------------------------------
    def enable(self):
        if self._cut_base:
            depth, frame = 0, sys._getframe(1)
            while frame is not None:
                depth, frame = depth + 1, frame.f_back
            self._base = (threading.get_ident(), depth)
        _recording.add(self)  # before the start: hotscope's own allocation
        if self._decorated:
            for f in _lines._decorated:
                self.add_function(f)
        try:
            self._tracer.start()
        except BaseException:
            _recording.discard(self)
            raise
        _watch_thread_names(self._names)
        if self._decorated:
            _lines._active.append(self)

    def disable(self):
        if self in _lines._active:
            _lines._active.remove(self)
        if self._tracer.recording:
            self._names.update(self._thread_names())
            _unwatch_thread_names(self._names)
        self._tracer.stop()
        _recording.discard(self)

    start, stop = enable, disable

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc):
        self.disable()
        return False

    @staticmethod
    def _thread_names():
        # by kernel thread id: a pthread ident is reused as soon as a thread ends
        return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}

    # -- results --------------------------------------------------------------
    @property
    def peak(self):
        """The peak of the traced Python heap, in bytes."""
        return self._tracer.peak

    @property
    def current(self):
        """Traced bytes allocated now (while recording) or at the stop."""
        return self._tracer.current

    @property
    def forked_child(self):
        """True in a child forked while recording: it reports nothing."""
        return self._forked or os.getpid() != self._pid

    @property
    def data(self):
        """The recording as a ProfileData (weights bytes, allocs,
        peak_bytes, peak_allocs, leak_bytes, leak_allocs)."""
        if self._data is None or self._tracer.recording:
            if self._tracer.recording:
                self._names.update(self._thread_names())
            data = self._tracer.profile(thread_names=self._names, hide=_HOTSCOPE_DIR,
                                        base_thread=self._base[0], base_frames=self._base[1])
            self._add_sources(data)
            if self._tracer.recording:
                return data
            self._data = data
        return self._data

    def _add_sources(self, data):
        # The source of each chosen function, as the line profiler keeps it,
        # so a saved report shows the code that ran.
        for code in self._tracer.chosen:
            first, last = _lines._source_range(code)
            text = "".join(linecache.getlines(code.co_filename)[first - 1:last]).rstrip("\n")
            if text:
                data.set_meta("source:%s:%d" % (code.co_filename, code.co_firstlineno), text)

    def lines(self, func=None):
        """The chosen functions line by line: [FunctionMemory], each with
        the bytes allocated and freed while each of its lines ran. With
        `func` (a chosen function or code object), just its FunctionMemory."""
        found = function_memory(self.data)
        if func is None:
            return found
        codes = _lines._code_objects(func)
        for code in codes:
            for fm in found:
                if fm.file == code.co_filename and fm.first_line == code.co_firstlineno:
                    return fm
        raise ValueError("%r was not chosen: pass it to hotscope.memory() or add_function()" % (func,))

    def _rows(self, n, by, what, where):
        if by not in ("bytes", "count"):
            raise ValueError("by must be 'bytes' or 'count', not %r" % (by,))
        if what not in WHATS:
            raise ValueError("what must be one of %s, not %r" % (", ".join(WHATS), what))
        rows = self.data.mem_rows(what=what, by=where, sort=by, limit=n or 0)
        if where == "line":
            return [(Location(*loc), size, count) for loc, size, count in rows]
        return [([Location(*f) for f in stack if f[0]], size, count) for stack, size, count in rows]

    def top(self, n=10, by="bytes", what="allocated", where="line"):
        """The n lines (where="stack": stacks, root first) with the most
        bytes (by="count": allocations) allocated over the run
        (what="peak": live at the peak; "leaked": live at the end), as
        (location, bytes, count) tuples."""
        return self._rows(n, by, what, where)

    def leaks(self, n=0, where="line"):
        """What is still allocated at the end, by line (or stack): the
        lines that allocated memory nobody freed. n=0: every line."""
        return self._rows(n, "bytes", "leaked", where)

    def report(self, limit=10):
        """The text report (peak, stacks at the peak, lines, leaks)."""
        return self.data.mem_text(limit=limit)

    def print(self, limit=10):
        print(self.report(limit), end="")

    def save(self, path, icicle=False):
        """Write the recording to `path`; the extension picks the format
        (icicle=True: a .svg flame graph top-down)."""
        _output.write(self.data, path, icicle=icicle)


def memory(*functions, interval_ms=10.0, native=False):
    """A memory profile of the code in a with block (see MemoryProfile);
    `functions` are also followed line by line (m.lines()); native=True
    also records malloc and friends (the process must have started with
    hotscope's interposer in LD_PRELOAD: native_library())."""
    return MemoryProfile(*functions, interval_ms=interval_ms, native=native)
