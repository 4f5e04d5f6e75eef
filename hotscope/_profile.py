"""hotscope.Profile (a drop-in for cProfile.Profile), trace() and @traced.

Recording, create_stats(), enable() and disable() are C (hotscope._core.Tracer),
so the profile holds no frames of hotscope's own; the methods here only
arrange calls around them, as Lib/cProfile.py does around _lsprof.
"""

import atexit
import functools
import sys

from . import _core, _output


class Profile(_core.Tracer):
    """Deterministic profiler with cProfile.Profile's interface.

    Profile(builtins=True, clock="wall", gc=True, asyncio=False, slow_calls=0, funcs=None):
    every call of every Python function and (with builtins) every C
    function, in every thread, with wall and CPU time. `clock` picks which
    of the two the reports and .stats show. With gc, each cyclic garbage
    collection is a [gc] frame (with a "[gc] gen N" child) under the frame
    that triggered it. With asyncio=True each asyncio task gets a root of
    its own ("task NAME (COROUTINE)") and the time it waits at each await
    shows as "[await ...]" frames; off by default here, so that a drop-in
    Profile records exactly cProfile's call tree. With slow_calls=N, the N
    slowest calls of each function (of `funcs` only, if given: functions,
    code objects or "module:qualname") are kept with their duration, caller
    and arguments: slow_calls(), and the reports; a coroutine's call runs
    from its first step to its return, its waits included.
    pstats.Stats(profile) works, as with cProfile.
    """

    def __init__(self, *args, slow_calls=0, funcs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if funcs is not None and not slow_calls:
            raise ValueError("funcs chooses the functions whose slow calls are kept: give slow_calls=N too")
        if slow_calls:
            from . import _slow

            self.watch_slow_calls(slow_calls, _slow.describe_frame,
                                  None if funcs is None else _slow.code_objects(funcs))

    def slow_calls(self):
        """The slowest calls kept (slow_calls=N): one dict per call, each
        function's slowest first: function, file, line, caller, thread,
        seconds, args."""
        return self.snapshot().slow_calls()

    def print_stats(self, sort=-1, limit=0):
        """Print the pstats-style table (sort as pstats: -1 is 'stdname')."""
        self.create_stats()
        keys = None if sort in (-1, None) else sort
        sys.stdout.write(self.snapshot().table(sort=keys, limit=limit, clock=self.clock))

    def dump_stats(self, file):
        """Write a pstats .prof file (what pstats.Stats(file) and snakeviz read)."""
        self.create_stats()
        with open(file, "wb") as f:
            f.write(self.snapshot().prof(clock=self.clock))

    def save(self, path, sort=None, limit=0, icicle=False):
        """Write the profile in the format the extension names (.prof, .svg, .html, .collapsed, .txt);
        icicle=True draws a .svg flame graph top-down."""
        self.create_stats()
        _output.write(self.snapshot(), path, sort=sort, limit=limit, clock=self.clock, icicle=icicle)

    def report(self, sort="cumulative", limit=30):
        """The text summary (table and call tree) as a string."""
        return _output.text_report(self.snapshot(), sort=sort, limit=limit, clock=self.clock)

    def run(self, cmd):
        import __main__

        namespace = __main__.__dict__
        return self.runctx(cmd, namespace, namespace)

    def runctx(self, cmd, globals, locals):
        self.enable()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable()
        return self

    def runcall(self, func, /, *args, **kw):
        self.enable()
        try:
            return func(*args, **kw)
        finally:
            self.disable()

    def thread_stats(self):
        """One dict per thread seen: name, ident, os_tid, wall_ns, cpu_ns, stats."""
        data = self.snapshot()
        result = []
        for t in data.threads():
            t["stats"] = data.pstats(thread=t["index"], clock=self.clock)
            result.append(t)
        return result

    def total_time(self, clock="wall"):
        """Seconds recorded under the root, over all threads."""
        return self.snapshot().total(clock=clock) / 1e9


def trace(builtins=True, clock="wall", gc=True, asyncio=True, slow_calls=0, funcs=None):
    """A profiler to use as a context manager: ``with hotscope.trace() as t: ...``.
    asyncio tasks get roots of their own, as in ``hotscope trace``;
    slow_calls=N keeps the N slowest calls of each function (or of `funcs`)."""
    return Profile(builtins=builtins, clock=clock, gc=gc, asyncio=asyncio, slow_calls=slow_calls,
                   funcs=funcs)


def traced(func=None, *, output=None, sort="cumulative", limit=30, clock="wall", builtins=True,
           gc=True, asyncio=True):
    """Decorator: profile every call of the function; report when Python exits.

    The report (table and call tree) goes to stderr, or to `output` (a path
    whose extension picks the format). The accumulated profile is
    ``wrapper.profile``.
    """

    def decorate(function):
        profile = Profile(builtins=builtins, clock=clock, gc=gc, asyncio=asyncio)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if profile.enabled:  # a recursive or concurrent call: already recorded
                return function(*args, **kwargs)
            profile.enable()
            try:
                return function(*args, **kwargs)
            finally:
                profile.disable()

        def report():
            data = profile.snapshot()
            if not data.threads():
                return
            if output:
                _output.write(data, output, sort=sort, limit=limit, clock=clock)
            else:
                sys.stderr.write("hotscope: profile of %s\n" % function.__qualname__)
                sys.stderr.write(_output.text_report(data, sort=sort, limit=limit, clock=clock))

        wrapper.profile = profile
        atexit.register(report)
        return wrapper

    return decorate(func) if func is not None else decorate
