"""The arguments of a slow call as a short text (``hotscope trace --slow-calls``).

The tracer (src/tracer/slow_calls.c) calls describe_frame(frame) when a call
returns and enters its function's N slowest, so this runs rarely and must
never fail: each value goes through a reprlib.Repr with small limits, a
__repr__ that raises (or recurses until RecursionError) gives
"<Foo object (repr failed)>", one argument's text stops at ARG_CHARS and
all of them at TOTAL_CHARS. The values are those the parameters hold when
the call returns (see slow_calls.c for why).
"""

import reprlib

ARG_CHARS = 80
TOTAL_CHARS = 200

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08


def _failed(x):
    try:
        name = type(x).__qualname__
    except Exception:
        name = "?"
    return "<%s object (repr failed)>" % name


class _Repr(reprlib.Repr):
    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 60
        self.maxother = ARG_CHARS
        self.maxlong = 40
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 5
        self.maxdeque = self.maxarray = 5
        self.maxdict = 4

    def repr1(self, x, level):
        try:
            return super().repr1(x, level)
        except Exception:
            return _failed(x)

    def repr_instance(self, x, level):
        try:
            text = repr(x)
        except Exception:
            return _failed(x)
        if not isinstance(text, str):
            return _failed(x)
        return _cut(text, ARG_CHARS)


_REPR = _Repr()


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def short_repr(value):
    """repr(value), bounded and never raising."""
    try:
        return _cut(_REPR.repr(value), ARG_CHARS)
    except Exception:
        return _failed(value)


def describe_frame(frame):
    """The parameters of the function running in `frame` and their values,
    as "a=1, b='x', *args=(2,), **kw={}", at most TOTAL_CHARS long."""
    try:
        code = frame.f_code
        count = code.co_argcount + code.co_kwonlyargcount
        names = [(name, name) for name in code.co_varnames[:count]]
        if code.co_flags & CO_VARARGS:
            names.append(("*" + code.co_varnames[count], code.co_varnames[count]))
            count += 1
        if code.co_flags & CO_VARKEYWORDS:
            names.append(("**" + code.co_varnames[count], code.co_varnames[count]))
        values = frame.f_locals
        parts = []
        for shown, name in names:
            try:
                value = values[name]
            except Exception:  # deleted, or a mapping that refuses
                parts.append("%s=?" % shown)
                continue
            parts.append("%s=%s" % (shown, short_repr(value)))
        return _cut(", ".join(parts), TOTAL_CHARS)
    except Exception:
        return "?"


def code_objects(funcs):
    """The code objects of `funcs`: functions, methods, code objects or
    "module:qualname" strings. Raises ValueError naming what finds none."""
    from . import _lines

    codes = []
    for f in funcs:
        found = _lines.resolve(f) if isinstance(f, str) else _lines._code_objects(f)
        if not found:
            raise ValueError("slow calls: %r names no Python function" % (f,))
        codes.extend(found)
    return codes
