"""Choosing an output format from a file name and writing a profile to it.

The bytes come from the C renderers (ProfileData methods); this module only
maps extensions to renderers and handles files.
"""

import os
import shutil
import subprocess

# extension -> description, in the order shown to users
FORMATS = {
    ".prof": "pstats file (pstats.Stats, snakeviz)",
    ".collapsed": "collapsed stacks (flamegraph.pl, speedscope), microseconds",
    ".txt": "text: the pstats-style table (or hottest functions) and the call tree",
    ".pb.gz": "pprof (go tool pprof, Pyroscope, Parca): gzip-compressed profile.proto",
    ".dot": "call graph in Graphviz DOT (functions with total/self %, calls)",
    ".dot.svg": "that call graph drawn by Graphviz's dot (needs graphviz installed)",
    ".speedscope.json": "speedscope (www.speedscope.app)",
    ".json": "hotscope's own JSON: the whole profile, read back by hotscope view",
    ".svg": "interactive flame graph (click to zoom, search); --icicle draws it top-down",
    ".html": "self-contained HTML report: flame graph, table, call tree, threads",
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
        "cannot tell the format of %r from its extension (hotscope writes: %s)" % (str(path), known)
    )


def check_writable(path):
    """Raise OSError now, before a long run, if `path` cannot be written
    (or its format needs a program that is not installed)."""
    if str(path).lower().endswith(".dot.svg") and not shutil.which("dot"):
        raise OSError("drawing the call graph needs Graphviz's dot program, which is not on PATH "
                      "(install graphviz, or write a .dot file)")
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


def color_wanted(stream):
    """Whether text for `stream` gets ANSI colors: on a terminal only, never
    when NO_COLOR is set and not empty (https://no-color.org), and also off
    a terminal when FORCE_COLOR is set to something other than "0" or
    "false". NO_COLOR wins over FORCE_COLOR: the user's "no" is the last word."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force.lower() not in ("0", "false"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# The tree leaves out call paths below this share of the total, as pyinstrument does.
TREE_MIN_PERCENT = 1.0


def tree_text(data, clock="wall", show_all=False, color=False):
    """The pyinstrument-style call tree (text_tree.c), library frames
    collapsed unless show_all."""
    return data.text_tree(clock=clock, min_percent=TREE_MIN_PERCENT, show_all=show_all, color=color)


def gc_summary(data):
    """One line on the cyclic GC of a trace ("" when nothing was collected
    or the trace did not watch collections): the [gc] frames' totals."""
    meta = data.meta()
    try:
        counts = [int(n) for n in meta.get("gc_collections", "").split()]
        wall_ns = int(meta.get("gc_wall_ns", "0"))
        collected = int(meta.get("gc_collected", "0"))
    except ValueError:
        return ""
    if len(counts) != 3 or not sum(counts):
        return ""
    return "GC: %d collections (gen 0: %d, gen 1: %d, gen 2: %d) in %.3fs, %d objects collected; shown as [gc] frames" % (
        sum(counts), counts[0], counts[1], counts[2], wall_ns / 1e9, collected)


THREAD_VIEWS = ("merged", "separate")


def thread_view(data, threads):
    """The profile as --threads asks: "merged" folds every thread into one
    (in the model, so every format shows one tree), None or "separate" keep
    them apart."""
    if threads == "merged" and len(data.threads()) > 1:
        return data.merge_threads()
    return data


def thread_times(threads):
    """Per thread: wall and CPU time (wall minus CPU is the time it waited)."""
    lines = ["Threads (wall / CPU):"]
    for t in threads:
        lines.append("  %-24s %10.3fs %10.3fs" % (t["name"], t["wall_ns"] / 1e9, t["cpu_ns"] / 1e9))
    return lines


def text_report(data, sort=None, limit=0, clock="wall", show_tree=True, show_all=False, color=False,
                separate=False):
    """The text summary of a trace: per-thread times, the pstats table (one
    per thread with `separate`), the slowest calls, and the call tree."""
    parts = []
    threads = data.threads()
    if len(threads) > 1:
        parts.extend(thread_times(threads))
        parts.append("")
    gil = gil_table(data)
    if gil:
        parts.append(gil)
    gc_line = gc_summary(data)
    if gc_line:
        parts.append(gc_line)
        parts.append("")
    if separate and len(threads) > 1:
        for t in threads:
            parts.append("Thread %s (wall %.3fs, CPU %.3fs)" % (t["name"], t["wall_ns"] / 1e9, t["cpu_ns"] / 1e9))
            parts.append("")
            parts.append(data.table(sort=sort, limit=limit, clock=clock, thread=t["index"]))
    else:
        parts.append(data.table(sort=sort, limit=limit, clock=clock))
    slow = data.slow_calls_text(limit=limit)
    if slow:
        parts[-1] = parts[-1].rstrip("\n") + "\n"
        parts.append(slow)
    if show_tree:
        parts.append(tree_text(data, clock=clock, show_all=show_all, color=color))
    return "\n".join(parts)


def sampled_threads(data):
    """A sampled profile's threads, by name (the program's threading names
    where the sampler could read them), with their share of the samples.
    Empty with a single thread."""
    threads = data.threads()
    if len(threads) < 2:
        return ""
    counts = [data.total(clock="samples", thread=t["index"]) for t in threads]
    total = sum(counts) or 1
    lines = ["Threads (samples):"]
    for t, n in sorted(zip(threads, counts), key=lambda tn: -tn[1]):
        lines.append("  %-40s %8d %6.1f%%" % (t["name"], n, 100.0 * n / total))
    return "\n".join(lines) + "\n\n"


GIL_STATES = (("held", "holds GIL"), ("running", "runs w/o GIL"), ("gil_wait", "waits GIL"),
              ("lock_wait", "waits lock"), ("other_wait", "waits other"))


def gil_table(data):
    """Per thread, the share of the sampler's passes that found it holding
    the GIL, on a CPU without it, waiting for it, waiting for a lock (a
    condition, join()) or waiting otherwise (sleep, I/O): recorded in the
    cpu and gil modes."""
    threads = [t for t in data.threads() if t.get("gil_states")]
    if not threads:
        return ""
    lines = ["GIL (share of each thread's samples):",
             "  %-32s %s" % ("thread", "".join("%14s" % title for _, title in GIL_STATES))]
    for t in threads:
        states = t["gil_states"]
        seen = sum(states.values()) or 1
        lines.append("  %-32s %s" % (t["name"][:32], "".join(
            "%13.1f%%" % (100.0 * states[key] / seen) for key, _ in GIL_STATES)))
    return "\n".join(lines) + "\n\n"


def sampled_report(data, clock="wall", limit=0, show_all=False, color=False, separate=False):
    """The text summary of a sampled profile: the threads (and their GIL
    states), the hottest functions (one table per thread with `separate`),
    then the tree."""
    head = sampled_threads(data) + gil_table(data)
    threads = data.threads()
    if separate and len(threads) > 1:
        tables = "".join("Thread %s\n%s\n" % (t["name"], data.top(clock=clock, limit=limit, thread=t["index"]))
                         for t in threads)
    else:
        tables = data.top(clock=clock, limit=limit) + "\n"
    return head + tables + tree_text(data, clock=clock, show_all=show_all, color=color)


DOT_MODEL_START = b"/* hotscope-profile\n"
DOT_MODEL_END = b"\n*/\n"


def dot_model_comment(data):
    """The whole profile as a DOT comment, so `hotscope view x.dot` can
    read the file back. JSON has no '*' outside its strings, and "*/"
    inside one is written "*\\/" (a JSON escape of '/'), so the comment
    cannot end early."""
    return DOT_MODEL_START + data.json().rstrip(b"\n").replace(b"*/", b"*\\/") + DOT_MODEL_END


def svg_with_model(svg, data):
    """Graphviz's SVG with the profile embedded the way hotscope's own
    SVG and HTML carry it (the JSON escapes '<' and '&', so it is plain
    character data here)."""
    element = b'<script type="application/json" id="hotscope-profile">' + data.json().rstrip(b"\n") + b"</script>\n"
    end = svg.rfind(b"</svg>")
    if end < 0:
        return svg
    return svg[:end] + element + svg[end:]


def dot_to_svg(dot_text):
    """SVG of a DOT graph, drawn by Graphviz's dot; OSError when it cannot."""
    program = shutil.which("dot")
    if not program:
        raise OSError("Graphviz's dot program is not on PATH (install graphviz, or write a .dot file)")
    proc = subprocess.run([program, "-Tsvg"], input=dot_text.encode("utf-8"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OSError("dot failed: %s" % (reason[0] if reason else "exit status %d" % proc.returncode))
    return proc.stdout


def html_report(data, clock=None, title=None):
    """The HTML report of `data`, with the findings of a trace or a sample
    (hotscope/_findings.py) in its Findings section unless it has some."""
    if "findings" not in data.meta() and data.meta().get("engine") in ("trace", "sample"):
        from . import _findings

        _findings.attach(data, _findings.of_profile(data))
    return data.html(clock=clock) if title is None else data.html(clock=clock, title=title)


def check_icicle(path, icicle):
    """UnsupportedFormat unless `path` is a flame graph SVG, when icicle is asked."""
    if icicle and format_of(path) != ".svg":
        raise UnsupportedFormat("icicle=True draws the flame graph SVG top-down: it needs a .svg file, not %s "
                                "(the HTML report has its own Flame/Icicle switch)" % format_of(path))


def render(data, path, sort=None, limit=0, clock="wall", sampled=False, show_all=False, separate=False,
           icicle=False):
    """The bytes of `data` in the format `path` names. Sampled profiles
    write sample counts in collapsed stacks (what flame graph tools expect
    of a sampler) and a hottest-functions table as text. icicle: the flame
    graph SVG top-down (root at the top); any other format refuses it."""
    fmt = format_of(path)
    check_icicle(path, icicle)
    engine = data.meta().get("engine")
    if engine == "memory":
        if fmt in NOT_FOR_MEMORY:
            raise UnsupportedFormat("a memory profile cannot be written as %s (use one of: %s)"
                                    % (fmt, ", ".join(f for f in FORMATS if f not in NOT_FOR_MEMORY)))
        if fmt == ".txt":
            return data.mem_text(limit=limit or 10).encode("utf-8")
        # Every other format shows where the bytes were allocated.
        clock, sampled = "bytes", False
    if fmt == ".json":
        return data.json()
    if engine == "lines" and fmt == ".txt":
        return data.lines_text().encode("utf-8")
    if fmt == ".prof":
        return data.prof(clock=clock)
    if fmt == ".pb.gz":
        return data.pprof()
    if fmt == ".dot":
        return data.dot(clock=clock).encode("utf-8") + dot_model_comment(data)
    if fmt == ".dot.svg":
        return svg_with_model(dot_to_svg(data.dot(clock=clock)), data)
    if fmt == ".collapsed":
        return data.collapsed(clock="samples" if sampled else clock)
    if fmt == ".speedscope.json":
        return data.speedscope(clock="samples" if sampled else clock)
    if fmt == ".svg":
        return data.svg(clock="samples" if sampled else clock, icicle=bool(icicle))
    if fmt == ".html":
        return html_report(data, clock="samples" if sampled else clock)
    if sampled:
        return sampled_report(data, clock=clock, limit=limit, show_all=show_all, separate=separate).encode("utf-8")
    return text_report(data, sort=sort, limit=limit, clock=clock, show_all=show_all,
                       separate=separate).encode("utf-8")


def write(data, path, sort=None, limit=0, clock="wall", sampled=False, show_all=False, separate=False,
          icicle=False):
    payload = render(data, path, sort=sort, limit=limit, clock=clock, sampled=sampled, show_all=show_all,
                     separate=separate, icicle=icicle)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(payload)
    os.replace(tmp, path)
