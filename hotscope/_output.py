"""Choosing an output format from a file name and writing a profile to it.

The bytes come from the C renderers (ProfileData methods); this module only
maps extensions to renderers and handles files.
"""

import os

# extension -> description, in the order shown to users
FORMATS = {
    ".prof": "pstats file (pstats.Stats, snakeviz)",
    ".collapsed": "collapsed stacks (flamegraph.pl, speedscope), microseconds",
    ".txt": "text: the pstats-style table and the call tree",
    ".json": "hotscope's own JSON: the whole profile model",
}

# Formats that make no sense for a memory profile (pstats is about time).
NOT_FOR_MEMORY = {".prof"}


class UnsupportedFormat(ValueError):
    """The file name's extension names no format hotscope writes."""


def format_of(path):
    """The format key of a path, or raise UnsupportedFormat."""
    lower = str(path).lower()
    for ext in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(ext):
            return ext
    known = ", ".join(FORMATS)
    raise UnsupportedFormat(
        "cannot tell the format of %r from its extension (hotscope trace writes: %s)" % (str(path), known)
    )


def check_writable(path):
    """Raise OSError now, before a long run, if `path` cannot be written."""
    path = os.path.abspath(str(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise OSError("directory %s does not exist" % directory)
    if os.path.isdir(path):
        raise OSError("%s is a directory" % path)
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise OSError("%s is not writable" % path)
    elif not os.access(directory, os.W_OK):
        raise OSError("directory %s is not writable" % directory)


def text_report(data, sort=None, limit=0, clock="wall", show_tree=True):
    """The text summary: per-thread times, the table, and the call tree."""
    parts = []
    threads = data.threads()
    if len(threads) > 1:
        parts.append("Threads (wall / CPU):")
        for t in threads:
            parts.append(
                "  %-24s %10.3fs %10.3fs" % (t["name"], t["wall_ns"] / 1e9, t["cpu_ns"] / 1e9)
            )
        parts.append("")
    parts.append(data.table(sort=sort, limit=limit, clock=clock))
    if show_tree:
        parts.append(data.tree(clock=clock))
    return "\n".join(parts)


def render(data, path, sort=None, limit=0, clock="wall", sampled=False):
    """The bytes of `data` in the format `path` names. Sampled profiles
    write sample counts in collapsed stacks (what flame graph tools expect
    of a sampler) and a hottest-functions table as text."""
    fmt = format_of(path)
    engine = data.meta().get("engine")
    if engine == "memory":
        if fmt in NOT_FOR_MEMORY:
            raise UnsupportedFormat("a memory profile cannot be written as %s (use one of: %s)"
                                    % (fmt, ", ".join(f for f in FORMATS if f not in NOT_FOR_MEMORY)))
        if fmt == ".txt":
            return data.mem_text(limit=limit or 10).encode("utf-8")
        if fmt == ".collapsed":
            return data.collapsed(clock="bytes")
    if fmt == ".json":
        return data.json()
    if engine == "lines" and fmt == ".txt":
        return data.lines_text().encode("utf-8")
    if fmt == ".prof":
        return data.prof(clock=clock)
    if fmt == ".collapsed":
        return data.collapsed(clock="samples" if sampled else clock)
    if sampled:
        return (data.top(clock=clock, limit=limit) + "\n" + data.tree(clock=clock)).encode("utf-8")
    return text_report(data, sort=sort, limit=limit, clock=clock).encode("utf-8")


def write(data, path, sort=None, limit=0, clock="wall", sampled=False):
    payload = render(data, path, sort=sort, limit=limit, clock=clock, sampled=sampled)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(payload)
    os.replace(tmp, path)
