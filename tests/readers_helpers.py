"""Profiles and independent parsers shared by test_readers.py, test_view.py
and test_readers_fuzz.py.

The parsers here are written from the formats' specifications in plain
Python, not with hotscope's readers, so a round trip is checked against
something that does not share its bugs.
"""

import collections
import json
import sys
import threading
import time

import hotscope

# Names that must stay text in every format: markup, quotes, ampersands,
# the collapsed separator, a newline.
HOSTILE_NAMES = ["<script>alert(1)</script>", "quo\"te's", "a&b<i>", "semi;colon", "new\nline",
                 "tab\there", "\u00e9t\u00e9 \U0001f600"]
HOSTILE_FILES = ["</script><script>x.py", "we\"ird&file\n.py", "plain.py"]


def parse_collapsed(data):
    """{stack (tuple of frame labels): summed count} from collapsed bytes:
    each line split at its last space, '#' lines skipped."""
    stacks = collections.Counter()
    for line in data.split(b"\n"):
        if not line or line.startswith(b"#"):
            continue
        stack, count = line.rsplit(b" ", 1)
        stacks[tuple(stack.split(b";"))] += int(count)
    return dict(stacks)


def busy(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


class Shape:
    def area(self):
        return sum(len(str(i)) for i in range(300))


def _workload():
    _fib(14)
    sorted(range(2000), key=lambda x: -x)
    for _ in range(5):
        Shape().area()
    worker = threading.Thread(target=_fib, args=(12,), name="worker")
    worker.start()
    worker.join()


def trace_profile():
    """A deterministic profile: recursion, builtins, methods, two threads."""
    with hotscope.trace() as t:
        _workload()
    data = t.snapshot()
    data.set_meta("command", "readers test <trace> & \"quotes\"")
    return data


def sample_profile():
    """A sampled profile of this process."""
    with hotscope.sample(rate=500) as s:
        busy(0.3)
    return s.snapshot()


def hostile_profile():
    """A traced chain of functions whose names and files are HOSTILE_*:
    each calls the next, so one stack holds them all."""
    src = "def f(k):\n    s = 0\n    for i in range(k):\n        s += i\n    return nxt(k) if nxt else s\n"
    nxt = None
    for i, name in enumerate(reversed(HOSTILE_NAMES)):
        ns = {"nxt": nxt}
        exec(compile(src, HOSTILE_FILES[i % len(HOSTILE_FILES)], "exec"), ns)
        f = ns["f"]
        kw = {"co_name": name}
        if sys.version_info >= (3, 11):
            kw["co_qualname"] = name
        f.__code__ = f.__code__.replace(**kw)
        nxt = f
    with hotscope.trace() as t:
        nxt(3000)
    return t.snapshot()


# Collapsed text with bytes that are not UTF-8 (0xff, 0xfe) in names and
# files, read by hotscope's collapsed reader (which keeps names as bytes).
INVALID_UTF8_COLLAPSED = (
    b"thread Main\xff;main (app\xfe.py:3);w\xffork (lib.py:7) 5\n"
    b"thread Main\xff;main (app\xfe.py:3) 2\n"
    b"thread Main\xff;<script>&\"x\" 4\n"
)


def speedscope_stacks(doc, convert=None):
    """{("thread NAME", frame labels...): summed weight} from a speedscope
    document (a dict), labelling frames as hotscope's collapsed writer does,
    so the two can be compared. `convert` maps each sample's weight first
    (e.g. ns_to_us); samples it maps to 0 are left out."""
    frames = doc["shared"]["frames"]

    def label(i):
        f = frames[i]
        name = f["name"]
        if "file" not in f:
            return name
        if f["file"] == "~":
            return "{%s}" % name[1:-1] if name.startswith("<") and name.endswith(">") else name
        return "%s (%s:%d)" % (name, f["file"], f.get("line", 0))

    def clean(s):
        # collapsed.c: control characters become spaces, ';' becomes ':'
        return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7f else (":" if c == ";" else c) for c in s)

    stacks = collections.Counter()
    for prof in doc["profiles"]:
        assert prof["type"] == "sampled"
        for sample, weight in zip(prof["samples"], prof["weights"]):
            key = ("thread " + clean(prof["name"]),) + tuple(clean(label(i)) for i in sample)
            w = convert(weight) if convert else weight
            if w:
                stacks[tuple(s.encode("utf-8") for s in key)] += w
    return dict(stacks)


def ns_to_us(v):
    """Nanoseconds to whole microseconds, half up, as collapsed.c writes time."""
    return v // 1000 + (v % 1000 >= 500)


def load_json(data):
    return json.loads(data.decode("utf-8"))


def model_label(strings, frame):
    """A frame of hotscope's model JSON labelled as collapsed.c labels it."""
    name, file, first_line, line, kind = frame[:5]
    name_s, file_s = strings[name], strings[file]
    if kind == "python":
        text = "%s (%s:%d)" % (name_s, file_s, line or first_line)
    elif kind == "native":
        text = "{%s}" % name_s[1:-1] if (file_s == "~" and name_s.startswith("<") and name_s.endswith(">")) else name_s
    elif kind == "thread":
        text = "thread " + name_s
    else:
        text = name_s
    return "".join(" " if ord(c) < 0x20 or ord(c) == 0x7f else (":" if c == ";" else c) for c in text)


def json_stacks(doc, weight, convert=None):
    """{stack labels (bytes): summed self weight} from hotscope's model
    JSON (a dict), decoded from the layout documented in model_json.c."""
    strings, frames, nodes = doc["strings"], doc["frames"], doc["nodes"]
    stride = 2 + len(doc["weights"])
    col = doc["weights"].index(weight) if weight in doc["weights"] else None
    paths = {0: ()}
    stacks = collections.Counter()
    for i in range(len(nodes) // stride):
        parent, frame = nodes[i * stride], nodes[i * stride + 1]
        path = paths[parent] + (model_label(strings, frames[frame]).encode("utf-8"),)
        paths[i + 1] = path
        v = nodes[i * stride + 2 + col] if col is not None else 0
        if convert:
            v = convert(v)
        if v > 0:
            stacks[path] += v
    return dict(stacks)
