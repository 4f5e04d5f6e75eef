"""Line profiling glue: choosing functions, @profile, hotscope.lines().

The engine (hotscope._core.LineProfiler) and the report (ProfileData.
lines_text) are C; this module only turns functions, methods and
"module:qualname" names into code objects, and captures the source text
of the profiled functions so a saved report shows the code that ran.
"""

import copyreg
import functools
import gc
import os
import importlib
import inspect
import linecache
import sys
import types
import warnings

from . import _core, _output

# Functions decorated with @hotscope.profile (or the injected @profile),
# and the line profilers running now: decorating while one runs adds the
# function to it at once.
_decorated = []
_active = []


def _code_objects(obj):
    """The code objects of a function-like object, unwrapping decorators,
    methods, static/class methods, properties and partials."""
    return [code for code, _func in _code_sources(obj)]


def _code_sources(obj):
    """(code, function) for each code object of `obj` as _code_objects
    finds them; function is the function object it came from, or None."""
    seen = set()
    found = []
    todo = [obj]
    while todo:
        o = todo.pop()
        if id(o) in seen or o is None:
            continue
        seen.add(id(o))
        if isinstance(o, types.CodeType):
            found.append((o, None))
        elif isinstance(o, (staticmethod, classmethod, types.MethodType)):
            todo.append(o.__func__)
        elif isinstance(o, property):
            todo.extend([o.fget, o.fset, o.fdel])
        elif isinstance(o, functools.partial):
            todo.append(o.func)
        elif hasattr(o, "__code__") and isinstance(o.__code__, types.CodeType):
            found.append((o.__code__, o if isinstance(o, types.FunctionType) else None))
            if hasattr(o, "__wrapped__"):
                todo.append(o.__wrapped__)
        elif hasattr(o, "__wrapped__"):
            todo.append(o.__wrapped__)
        elif inspect.isclass(o):
            todo.extend(v for v in vars(o).values()
                        if callable(v) or isinstance(v, (staticmethod, classmethod, property)))
    return found


def _functions_of(code):
    """The function objects running `code` now (gc.get_referrers: one walk
    over the objects the collector tracks)."""
    return [o for o in gc.get_referrers(code) if isinstance(o, types.FunctionType) and o.__code__ is code]


def _by_name(func):
    # pickle and copy find a function by its module and qualified name, as
    # they do for the plain type (which they recognise by its exact type).
    return func.__qualname__


# 3.11: while a line profile runs, the chosen functions' objects have a
# subtype of function (src/lines/chosen_func.c), which pickle and copy do
# not know: they treat it as the plain type.
_CHOSEN = hasattr(_core, "chosen_function")
if _CHOSEN:
    copyreg.pickle(_core.chosen_function, _by_name)


def _with_nested(code):
    """`code` and the functions defined inside it (closures, lambdas,
    comprehensions on 3.11-), which kernprof users expect to see too."""
    out = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_with_nested(const))
    return out


def _source_range(code):
    last = code.co_firstlineno
    for nested in _with_nested(code):
        for _start, _end, line in nested.co_lines():
            if line is not None and line > last:
                last = line
    return code.co_firstlineno, last


class LineProfile:
    """Per-line hits and times of chosen functions.

        with hotscope.lines(parse, score) as lp:
            run()
        lp.print()              # kernprof's layout
        lp.save("lines.txt")    # or .json / .html / .collapsed ...
    """

    def __init__(self, *functions, decorated=True):
        self._engine = _core.LineProfiler()
        self._decorated = decorated
        for f in functions:
            self.add_function(f)

    def add_function(self, func):
        """Profile the lines of `func` (a function, method, class, code
        object, or something wrapping one). Returns how many code objects
        were added."""
        sources = _code_sources(func)
        if not sources:
            raise TypeError("cannot line-profile %r: no Python code found in it" % (func,))
        added = 0
        for code, function in sources:
            if function is None:
                added += self.add_code(code)
                continue
            # The function object too: on 3.11 its calls tell the engine
            # when its frame evaluation hook is needed (chosen_func.c).
            added += bool(self._engine.add_function(function))
            for c in _with_nested(code)[1:]:
                added += bool(self._engine.add_code(c))
        return added

    def add_code(self, code):
        """Profile the lines of a code object (and of those nested in it).
        Returns how many code objects were added."""
        added = 0
        for function in _functions_of(code):
            added += bool(self._engine.add_function(function))
        return added + sum(bool(self._engine.add_code(c)) for c in _with_nested(code))

    def enable(self):
        if self._decorated:
            for f in _decorated:
                self.add_function(f)
        self._engine.enable()
        # 3.11, the hook held on demand (or, once claimed, later): how many
        # references each chosen code object has now, for _check_doors.
        self._refs = {code: sys.getrefcount(code) for code in self._engine.codes} if _CHOSEN else None
        _active.append(self)

    def disable(self):
        self._check_doors()
        self._engine.disable()
        if self in _active:
            _active.remove(self)

    def _check_doors(self):
        """3.11: calls of a chosen function reach the profiler through its
        function object (src/lines/chosen_func.c); one made from the same
        code object while the hook was held on demand (the same module code
        run twice, types.FunctionType(f.__code__, ...)) runs unseen when
        called outside chosen functions. Said, not hidden. A new function
        adds a reference to its code: the objects are searched only when
        that count grew."""
        if not self._refs or self._engine.route != "evalhook on demand":
            return
        grew = [c for c, n in self._refs.items() if sys.getrefcount(c) > n and "<" not in c.co_qualname]
        if not grew:
            return
        wanted = set(map(id, grew))
        # While enabled, doors have the subtype: plain functions are the others.
        plain = [o for o in gc.get_referrers(*grew)
                 if type(o) is types.FunctionType and id(o.__code__) in wanted]
        if plain:
            warnings.warn("hotscope: %d function object(s) of chosen code were made while the line profile "
                          "ran (%s): their calls from outside chosen functions may be missing"
                          % (len(plain), ", ".join(sorted({f.__qualname__ for f in plain}))), RuntimeWarning, 3)

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc):
        self.disable()
        return False

    @property
    def data(self):
        """What was recorded, as a ProfileData (with the source captured)."""
        data = self._engine.snapshot()
        for code in self._engine.codes:
            first, last = _source_range(code)
            lines = linecache.getlines(code.co_filename)
            if lines:
                text = "".join(lines[first - 1:last]).rstrip("\n")
                data.set_meta("source:%s:%d" % (code.co_filename, code.co_firstlineno), text)
        return data

    def report(self):
        """kernprof's text report as a string."""
        return self.data.lines_text()

    def print(self, file=None):
        import sys

        (file or sys.stdout).write(self.report())

    print_stats = print

    def save(self, path, icicle=False):
        _output.write(self.data, path, icicle=icicle)


def lines(*functions):
    """A context manager profiling the lines of `functions` (and of every
    function decorated with @hotscope.profile)."""
    return LineProfile(*functions)


def profile(func):
    """Mark `func` for line profiling. Outside a line profile it runs
    unchanged; under `hotscope lines` or inside `with hotscope.lines()` its
    every line is timed. Returns `func` itself, so it costs nothing."""
    if not _code_objects(func):
        raise TypeError("@profile needs a function, method or class, not %r" % (func,))
    _decorated.append(func)
    for lp in _active:
        lp.add_function(func)
    return func


# ---- --func MODULE:QUALNAME ---------------------------------------------------

def _is_class_body(code):
    # Function bodies get fresh, optimised locals; class and module bodies not
    # (Include/cpython/code.h CO_OPTIMIZED, CO_NEWLOCALS).
    return not (code.co_flags & inspect.CO_NEWLOCALS)


def _walk_qualnames(code, prefix=""):
    """(qualname, code) for every code object nested in a module's code,
    with the qualified names the functions will have (PEP 3155)."""
    for const in code.co_consts:
        if not isinstance(const, types.CodeType):
            continue
        name = getattr(const, "co_qualname", None)
        if name is None:
            name = prefix + const.co_name
        yield name, const
        if _is_class_body(const):
            child_prefix = name + "."
        else:
            child_prefix = name + ".<locals>."
        yield from _walk_qualnames(const, child_prefix)


def resolve(spec, main_code=None, main_names=("__main__",)):
    """The code objects `spec` ("module:qualname") names, or [] if none.
    Functions of the script being run are found in its compiled code
    (`main_code`), before it runs; other modules are imported."""
    module, _, qualname = spec.partition(":")
    if not module or not qualname:
        raise ValueError("--func wants MODULE:QUALNAME, e.g. app.orders:Order.total (got %r)" % spec)
    if module in main_names and main_code is not None:
        return [c for q, c in _walk_qualnames(main_code) if q == qualname]
    try:
        obj = importlib.import_module(module)
    except Exception as e:  # the module's own import error: report, don't crash
        raise LookupError("cannot import %s: %s: %s" % (module, type(e).__name__, e))
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return []
    return _code_objects(obj)


# ---- --hot N ---------------------------------------------------------------------

def _module_name(filename, roots):
    """The import name of the module in `filename`, from the sys.path entry
    it sits under, or None when it is not importable that way."""
    path = os.path.abspath(filename)
    best = None
    for root in roots:
        root = os.path.abspath(root or os.getcwd())
        if path.startswith(root + os.sep) and (best is None or len(root) > len(best)):
            best = root
    if best is None or not path.endswith(".py"):
        return None
    parts = os.path.relpath(path, best)[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


def _command_of(program):
    import sys

    if program.kind == "module":
        return [sys.executable, "-m", program.target] + program.args
    if program.kind == "code":
        return [sys.executable, "-c", program.target] + program.args
    return [sys.executable, program.target] + program.args


def hot_functions(program, count, rate=997):
    """Run `program` once in a child process under the sampler and return
    [(spec, share)] for the `count` Python functions with the most own
    samples: spec is "module:qualname" for resolve(), share their part of
    all samples. Raises LookupError when the run gave nothing to choose."""
    import json
    import sys

    from . import _sample

    child = _sample.start_program(_command_of(program), quiet=True)
    try:
        sampler = _sample.attach(child.pid, rate=rate, wait=_sample.STARTUP_WAIT)
    except _sample.SampleError as e:
        child.wait()
        raise LookupError("the sampling run found nothing to profile (%s)" % e)
    _sample.run_sampling(sampler, child=child)
    _sample.wait_child(child, "exited")
    doc = json.loads(sampler.snapshot().json())
    if "samples" not in doc["weights"]:
        raise LookupError("the sampling run took no samples (the program ran too briefly)")
    strings, frames = doc["strings"], doc["frames"]
    stride = 2 + len(doc["weights"])
    col = 2 + doc["weights"].index("samples")
    own, total = {}, 0
    nodes = doc["nodes"]
    for i in range(0, len(nodes), stride):
        samples = nodes[i + col]
        total += samples
        name, file, first, _line, kind, _cat = frames[nodes[i + 1]]
        if kind == "python" and samples:
            key = (strings[name], strings[file], first)
            own[key] = own.get(key, 0) + samples
    main_file = os.path.abspath(program.target) if program.kind == "script" else None
    roots = [os.path.dirname(main_file) if main_file else os.getcwd()] + sys.path[1:]
    chosen = []
    for (qualname, file, _first), samples in sorted(own.items(), key=lambda kv: -kv[1]):
        if os.path.abspath(file) == main_file:
            module = "__main__"
        else:
            module = _module_name(file, roots)
        if module is None or module.split(".")[0] == "hotscope" or "<" in qualname.split(".")[-1]:
            continue
        chosen.append(("%s:%s" % (module, qualname), samples / total if total else 0.0))
        if len(chosen) == count:
            break
    if not chosen:
        raise LookupError("the sampling run saw no Python function that can be line-profiled")
    return chosen
