"""hotscope diff BEFORE AFTER: two saved profiles compared.

The comparison and every output are C (_core.diff, src/model/diff.c and
src/render/diff_*.c); this module loads the two files, picks the output
from -o's extension and reports bad input as one line naming the file.
"""

import os

from . import _core, _view
from ._view import printable

# -o extension -> _core.diff format; no -o: the text table on stdout.
DIFF_FORMATS = {
    ".svg": "svg",    # differential flame graph
    ".html": "html",  # that graph and the table of changes, one page
    ".txt": "text",   # the table of changes
}


class DiffError(ValueError):
    """Bad input: the message is one line that names the file."""


def read_file(path):
    """The bytes of `path`, or DiffError saying why there are none."""
    try:
        with open(path, "rb") as f:
            payload = f.read()
    except IsADirectoryError:
        raise DiffError("%s: is a directory, not a profile" % printable(path))
    except OSError as e:
        raise DiffError("%s: cannot read it: %s" % (printable(path), e.strerror or e))
    if not payload:
        raise DiffError("%s: the file is empty" % printable(path))
    return payload


def parse_profile(path, payload):
    """The ProfileData in `payload` (the bytes of `path`; the format told
    from the content, as view tells it), or DiffError saying what is
    wrong with the file."""
    try:
        return _view.load_bytes(payload)
    except (ValueError, UnicodeError, OverflowError, MemoryError) as e:
        message = " ".join(str(e).split()) or type(e).__name__
        raise DiffError("%s: %s" % (printable(path), message))


def load_profiles(*paths):
    """The ProfileData of each path. Every file is read before any is
    parsed, so a missing or empty second file is named even when the
    first is the one that cannot be parsed."""
    payloads = [read_file(p) for p in paths]
    return [parse_profile(p, payload) for p, payload in zip(paths, payloads)]


def output_format(path):
    lower = str(path).lower()
    for ext, fmt in DIFF_FORMATS.items():
        if lower.endswith(ext):
            return fmt
    raise DiffError("cannot tell the format of %r from its extension (hotscope diff writes: %s)"
                    % (str(path), ", ".join(DIFF_FORMATS)))


def compare(before, after, clock="wall"):
    """The figures of AFTER against BEFORE (dict: before, after, rows)."""
    return _core.diff(before, after, clock=clock, format="figures")


def render(before, after, fmt, clock="wall", limit=0, title=None, icicle=False):
    return _core.diff(before, after, clock=clock, format=fmt, limit=limit, title=title, icicle=icicle)


CLOCKS = ("wall", "cpu", "samples")


def common_clock(before, after):
    """The first of wall, CPU time and samples both profiles recorded (a
    trace has wall time, a sampled profile or collapsed stacks samples),
    or None when they have none in common."""
    for clock in CLOCKS:
        if before.total(clock=clock) > 0 and after.total(clock=clock) > 0:
            return clock
    return None


def no_common_weight(before, after, clock):
    """A message when the two profiles cannot be compared on `clock`, else None."""
    b, a = before.total(clock=clock), after.total(clock=clock)
    if b == 0 and a == 0:
        return "neither profile has any %s time recorded: nothing to compare" % clock
    if b == 0:
        return "the BEFORE profile has no %s time recorded (try --clock)" % clock
    if a == 0:
        return "the AFTER profile has no %s time recorded (try --clock)" % clock
    return None


def write(path, payload):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(payload if isinstance(payload, bytes) else payload.encode("utf-8"))
    os.replace(tmp, path)
