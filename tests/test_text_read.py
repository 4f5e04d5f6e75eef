"""hotscope's own `.txt` reports read back by `hotscope view`
(src/read/text_tree_read.c, lines_text_read.c, mem_text_read.c).

Ground truth: profiles built from collapsed stacks with known weights (so
every path's total is known exactly, and which frames the tree folds and
which paths fall under its 1% is known by construction), a line profile
compared line by line with the model it was written from, and real trace,
record and mem runs whose text is parsed here independently.
"""

import collections
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from hotscope import _core, _output, _view

from readers_helpers import json_stacks, load_json, trace_profile

STDLIB = "/usr/lib/python3.12/"


def hotscope(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, timeout=timeout)


# ---- the call tree ---------------------------------------------------------

def built_stacks(scale):
    """{path (thread first): self microseconds}. Thread Main: the program's
    code, a builtin it calls, a library call whose two inner frames the
    tree folds (each has less own time than the rest of the call), a
    builtin calling back into the program, and a path far under 1%.
    Thread worker: a recursion 70 deep (deeper than the drawing's 60
    levels), 700 us of own time per level, so its innermost level is under
    1% of the whole."""
    lib = lambda name, mod, line: "%s (%s%s:%d)" % (name, STDLIB, mod, line)  # noqa: E731
    main = ("thread Main", "main (app.py:1)")
    dumps = main + (lib("dumps", "json/__init__.py", 183),)
    encode = dumps + (lib("JSONEncoder.encode", "json/encoder.py", 183),)
    sorted_ = main + ("{built-in method builtins.sorted}",)
    stacks = {
        main: 2000,
        main + ("work (app.py:5)",): 30000,
        main + ("work (app.py:5)", "{built-in method builtins.sum}"): 12000,
        dumps: 4000,
        encode: 3000,
        encode + (lib("JSONEncoder.iterencode", "json/encoder.py", 205),): 2000,
        sorted_: 1500,
        sorted_ + ("by key (app.py:9)",): 2500,
        main + ("tiny (app.py:20)",): 10,
    }
    rec = ("thread worker",)
    for _ in range(70):
        rec = rec + ("rec (app.py:30)",)
        stacks[rec] = 700
    return {path: v * scale for path, v in stacks.items()}


def collapsed_of(stacks):
    lines = ["# hotscope collapsed weight=wall_us"]
    lines += ["%s %d" % (";".join(path), v) for path, v in stacks.items()]
    return ("\n".join(lines) + "\n").encode()


def totals_of(stacks):
    totals = collections.Counter()
    for path, v in stacks.items():
        for i in range(1, len(path) + 1):
            totals[path[:i]] += v
    return totals


def is_library(label):
    return STDLIB in label or label.startswith("{")


def shown_path(path):
    """The path as the tree shows it: a library frame called by library
    code is folded (none of those built above has the own time that would
    keep it), and library files are named by import path."""
    out = []
    for i, label in enumerate(path):
        if i > 0 and is_library(label) and is_library(path[i - 1]):
            continue
        out.append(label.replace(STDLIB, ""))
    return tuple(out)


def model_totals(data, weight):
    """{path (labels as text): total} of a loaded profile, from its model JSON."""
    stacks = json_stacks(load_json(data.json()), weight)
    return totals_of({tuple(f.decode() for f in p): v for p, v in stacks.items()})


def model_self(data, weight):
    stacks = json_stacks(load_json(data.json()), weight)
    return {tuple(f.decode() for f in p): v for p, v in stacks.items()}


def printed(ns, unit_ns):
    """A time as text_tree.c prints it (%.3f of ms or s), and that text read
    back exactly, in ns."""
    text = "%.3f" % (ns / unit_ns)
    return int(Decimal(text) * unit_ns)


@pytest.mark.parametrize("scale", [1, 20])  # a tree in ms (0.106 s), and one in seconds (2.1 s)
def test_tree_round_trip_against_known_totals(scale):
    stacks = built_stacks(scale)
    original = _core.load(collapsed_of(stacks), "collapsed")
    text = _output.render(original, "x.txt", clock="wall")
    assert _view.sniff(text) == "text"
    assert b"[2 frames hidden]  json" in text and b"[depth 61]" in text
    back = _view.load_bytes(text)

    true_totals = {p: v * 1000 for p, v in totals_of(stacks).items()}
    grand = sum(v for p, v in true_totals.items() if len(p) == 1)
    unit_ns = 10 ** 9 if grand >= 10 ** 9 else 10 ** 6
    half_unit = unit_ns // 2000
    expected = {}
    for path, total in true_totals.items():
        if total * 100 < grand or len(shown_path(path)) < len(path):  # under 1%, or folded
            continue
        expected[shown_path(path)] = printed(total, unit_ns)
        assert abs(expected[shown_path(path)] - total) <= half_unit
    got = model_totals(back, "wall_ns")
    assert got == expected
    # The folded frames' time is their entry's own time; the path under 1%
    # is its parent's; the threads keep their names.
    dumps = ("thread Main", "main (app.py:1)", "dumps (json/__init__.py:183)")
    assert model_self(back, "wall_ns")[dumps] == expected[dumps]
    assert [t["name"] for t in back.threads()] == ["Main", "worker"]
    # Read back and written again, the tree is the same text but for the
    # notes of folded frames, which are not in it any more, and the shares,
    # which are computed again from the rounded times.
    no_share = lambda lines: [re.sub(r" +\d+\.\d%  ", "  ", line) for line in lines]  # noqa: E731
    folded = [line for line in tree_part(text) if "frames hidden]" not in line]
    assert no_share(tree_part(_output.render(back, "y.txt", clock="wall"))) == no_share(folded)


def test_tree_of_counts_and_of_cpu_time():
    """A sampled report's tree of counts reads back as samples, exactly; a
    trace table printed by CPU time (its extra column is "cumwall") makes
    the times CPU time."""
    stacks = built_stacks(1)
    counts = _core.load(collapsed_of(stacks).split(b"\n", 1)[1], "collapsed")  # no header: samples
    text = _output.render(counts, "x.txt", clock="samples", sampled=True)
    back = _view.load_bytes(text)
    want = {p: v for p, v in model_totals(counts, "samples").items()
            if v * 100 >= sum(stacks.values()) and len(shown_path(p)) == len(p)}
    assert model_totals(back, "samples") == {shown_path(p): v for p, v in want.items()}

    traced = trace_profile()
    text = _output.render(traced, "x.txt", clock="cpu")
    assert b"cumwall" in text
    back = _view.load_bytes(text)
    assert back.meta()["clock"] == "cpu"
    assert model_totals(back, "cpu_ns") and not model_totals(back, "wall_ns")
    check_against_text(text, back, "cpu_ns")


def tree_part(text):
    """The call tree of a report: from its first line at the left margin
    that starts with a time."""
    lines = text.decode().splitlines()
    first = next(i for i, line in enumerate(lines) if re.match(r"\d+(\.\d+)?(ms|s)? +\d", line))
    return lines[first:]


TREE_LINE = re.compile(r"^(?P<indent>(?:│  |   |\|  )*)(?P<conn>├─ |└─ |\|- |`- )?(?:\[depth (?P<depth>\d+)\] )?"
                       r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>ms|s|) +\d+\.\d%  (?P<label>.*)$")


def parse_tree_text(lines):
    """[(path of labels, total as printed in ns or count)] of a tree's lines,
    parsed here from the layout, independently of the C reader."""
    rows, stack = [], []
    for line in lines:
        m = TREE_LINE.match(line)
        if m is None:
            assert re.search(r"\[\d+ frames? hidden\]", line), line
            continue
        depth = int(m.group("depth")) if m.group("depth") else len(m.group("indent")) // 3 + bool(m.group("conn"))
        unit = {"ms": 10 ** 6, "s": 10 ** 9, "": 1}[m.group("unit")]
        del stack[depth:]
        stack.append(m.group("label"))
        rows.append((tuple(stack), int(Decimal(m.group("amount")) * unit)))
    return rows


def label_of_model(path):
    """Collapsed-style labels (json_stacks) as the tree prints them."""
    out = []
    for label in path:
        m = re.match(r"^(.*) \((.*:\d+)\)$", label)
        out.append("%s  %s" % m.groups() if m else label.replace("thread ", "Thread ", 1))
    return tuple(out)


def check_against_text(text, back, weight):
    """Every line of the tree is a node of `back`, whose self is the line's
    printed total less the printed totals of the lines under it (never
    below 0: each is rounded); lines of the same path add up."""
    rows = parse_tree_text(tree_part(text))
    assert rows
    got = {label_of_model(p): v for p, v in model_totals(back, weight).items()}
    single_thread = not rows[0][0][0].startswith("Thread ")
    own = []
    for i, (path, total) in enumerate(rows):
        under = 0
        for later, later_total in rows[i + 1:]:
            if len(later) <= len(path):
                break
            if len(later) == len(path) + 1:
                under += later_total
        own.append((path, max(0, total - under)))
    expected = collections.Counter()
    for path, v in own:
        for k in range(1, len(path) + 1):
            expected[path[:k]] += v
    for path, total in expected.items():
        key = (("Thread (text)",) + path) if single_thread else path
        assert got[key] == total, path
    assert len(got) == len(expected) + single_thread


WORK = """
import json, threading, time
def b():
    return sum(range(300000))
def lib():
    return json.dumps({"a": list(range(20000))})
def a():
    time.sleep(0.03); b(); lib()
def worker():
    for _ in range(3):
        b()
t = threading.Thread(target=worker, name="the worker")
t.start(); a(); t.join()
"""


def test_trace_and_record_reports_read_back(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(WORK)
    trace_txt = tmp_path / "trace.txt"
    proc = hotscope("trace", "-o", str(trace_txt), str(script))
    assert proc.returncode == 0, proc.stderr
    record_txt = tmp_path / "record.txt"
    proc = hotscope("record", "--rate", "500", "-o", str(record_txt), "--", sys.executable, str(script))
    assert proc.returncode == 0, proc.stderr
    for path in (trace_txt, record_txt):
        text = path.read_bytes()
        back = _view.load(str(path))
        check_against_text(text, back, "wall_ns")
        out = tmp_path / "again.collapsed"
        proc = hotscope("view", str(path), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
    # The trace's thread table gives each thread's wall and CPU time.
    table = {}
    for line in trace_txt.read_text().split("\n\n")[0].splitlines()[1:]:
        name, wall, cpu = re.match(r"^  (.*?) +(\d+\.\d+)s +(\d+\.\d+)s$", line).groups()
        table[name] = (int(Decimal(wall) * 10 ** 9), int(Decimal(cpu) * 10 ** 9))
    back = _view.load(str(trace_txt))
    assert {t["name"]: (t["wall_ns"], t["cpu_ns"]) for t in back.threads()} == table
    assert set(table) == {"MainThread", "the worker"}


def test_single_thread_tree_and_colors():
    """One thread: its lines start at its code, and it comes back as
    "(text)". A tree saved from a terminal, colors and all, reads the same."""
    stacks = {p: v for p, v in built_stacks(1).items() if p[0] == "thread Main"}
    original = _core.load(collapsed_of(stacks), "collapsed")
    plain = original.text_tree(clock="wall", min_percent=1.0)
    colored = original.text_tree(clock="wall", min_percent=1.0, color=True)
    ascii_tree = original.text_tree(clock="wall", min_percent=1.0, unicode=False)
    assert "\x1b[" in colored and "└─" not in ascii_tree
    backs = [_view.load_bytes(t.encode()) for t in (plain, colored, ascii_tree)]
    for back in backs:
        assert [t["name"] for t in back.threads()] == ["(text)"]
        assert model_totals(back, "wall_ns") == model_totals(backs[0], "wall_ns")
    check_against_text(plain.encode(), backs[0], "wall_ns")


# ---- the line profile report ------------------------------------------------

LINES_TARGET = """\
def crunch(n):
\tt = 0
\tfor i in range(n):
\t\tt += i * i % 7

\treturn t

def other(x):
    if x > 5:
        return 1
    return [crunch(10) for _ in range(x)]
"""


def test_lines_report_round_trip(tmp_path):
    import hotscope

    path = tmp_path / "target.py"
    path.write_text(LINES_TARGET)
    ns = {}
    exec(compile(LINES_TARGET, str(path), "exec"), ns)
    with hotscope.lines(ns["crunch"], ns["other"]) as lp:
        ns["crunch"](2000)
        ns["other"](3)
        ns["other"](7)
    data = lp.data
    text = data.lines_text().encode()
    assert _view.sniff(text) == "lines"
    back = _view.load_bytes(text)
    assert back.meta()["engine"] == "lines"

    def by_line(d):
        hits, times = model_self(d, "calls"), model_self(d, "wall_ns")
        return {p[-1]: (hits.get(p, 0), times.get(p, 0)) for p in set(hits) | set(times)}

    want, got = by_line(data), by_line(back)
    assert set(got) == set(want) and len(got) >= 7  # 3.10: the comprehension is a function too
    for line, (hits, ns_) in want.items():
        assert got[line][0] == hits, line  # hits exactly
        assert abs(got[line][1] - ns_) <= 50, line  # time printed to 0.1 us
        assert got[line][1] % 100 == 0
    # The source as the report printed it (tabs are spaces in the report).
    source = {k: v for k, v in back.meta().items() if k.startswith("source:")}
    assert source["source:%s:1" % path] == "\n".join(LINES_TARGET.replace("\t", " ").splitlines()[0:6])
    assert source["source:%s:8" % path] == "\n".join(LINES_TARGET.splitlines()[7:11])
    # Written again: hits, time and text columns are the same (per hit, %
    # and the total are computed again from the rounded times).
    columns = lambda t: [(l[:6], l[6:16], l[16:29], l[47:])  # noqa: E731,E741
                         for l in t.splitlines() if not l.startswith("Total time:")]
    assert columns(back.lines_text()) == columns(text.decode())


def test_lines_report_without_source_and_without_functions():
    text = (b"Timer unit: 1e-06 s\n\nTotal time: 0.000002 s\nFile: gone.py\nFunction: f at line 3\n\n"
            b"Line #      Hits         Time  Per Hit   % Time  Line Contents\n" + b"=" * 62 + b"\n"
            b"     4         2          1.5      0.8    100.0  (source not available)\n\n")
    back = _view.load_bytes(text)
    assert not [k for k in back.meta() if k.startswith("source:")]
    assert model_self(back, "wall_ns") == {("thread all threads", "f (gone.py:3)", "f (gone.py:4)"): 1500}
    empty = _view.load_bytes(b"Timer unit: 1e-06 s\n\nNo functions were selected for line profiling.\n")
    assert empty.lines_text().endswith("No functions were selected for line profiling.\n")


# ---- the memory report --------------------------------------------------------

MEM_TARGET = """
keep = []
def alloc(n):
    return [bytearray(1000) for _ in range(n)]
def deep(k, n):
    if k == 0:
        return alloc(n)
    return deep(k - 1, n)
def main():
    a = alloc(200)
    keep.append(deep(12, 50))
    b = [str(i) * 10 for i in range(5000)]
    del a, b
main()
"""


def row_groups(rows):
    """A table's rows, each with the frames of its stack, in a sorted list;
    the "... N more" lines left out."""
    groups = []
    for row in rows:
        if "more" in row:
            continue
        if row.startswith(" " * 25):
            groups[-1] += "\n" + row
        else:
            groups.append(row)
    return sorted(groups)


def sections(text):
    """{title: [rows]} of a memory report, and its heading lines."""
    blocks = text.split("\n\n")
    return blocks[0].splitlines(), {b.splitlines()[0]: b.splitlines()[1:] for b in blocks[1:] if b.strip()}


def test_mem_report_round_trip(tmp_path):
    script = tmp_path / "m.py"
    script.write_text(MEM_TARGET)
    out = tmp_path / "m.txt"
    proc = hotscope("mem", "-o", str(out), str(script))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert _view.sniff(text.encode()) == "mem"
    back = _view.load(str(out))
    assert back.meta()["engine"] == "memory"
    again = tmp_path / "again.txt"
    proc = hotscope("view", str(out), "-o", str(again))
    assert proc.returncode == 0, proc.stderr
    head, tables = sections(text)
    head2, tables2 = sections(again.read_text())
    # The heading (but the RSS line, whose series is not in the text).
    assert [l for l in head if not l.startswith("Process RSS")] == head2  # noqa: E741
    # Rows with the stacks they show; whole-run rows by line as they were.
    for title, rows in tables.items():
        if "by stack" in title or title.startswith("Allocated"):
            # (rows of equal size may come in another order)
            assert row_groups(tables2[title]) == row_groups(rows), title
    # A stack cut short keeps its 8 frames under one frame for the rest.
    more = re.search(r"^ {25}\.\.\. (\d+) more$", "\n".join(tables[next(iter(tables))]), re.M).group(1)
    cut = [p for p in model_self(back, "peak_bytes") if p[0] == "thread (stacks cut short)"]
    assert cut and all(p[1] == "[%s more frames]" % more and len(p) == 10 for p in cut)


# ---- bad files --------------------------------------------------------------------

def bad_text_files():
    stacks = built_stacks(1)
    tree = _output.render(_core.load(collapsed_of(stacks), "collapsed"), "x.txt", clock="wall")
    lines = (b"Timer unit: 1e-06 s\n\nTotal time: 0.1 s\nFile: a.py\nFunction: f at line 1\n\n"
             b"Line #      Hits         Time  Per Hit   % Time  Line Contents\n" + b"=" * 62 + b"\n"
             b"     1         2          1.5      0.8    100.0  def f():\n\n")
    mem = b"hotscope mem\nPython heap (sizes asked of the Python allocators):\n\nMemory at the peak, by stack\n" \
          b"        size     blocks  stack (innermost frame first)\n    52.0 KiB        101  m.py:3  alloc\n\n"
    return {
        "cut.txt": tree[: len(tree) - 40],
        "child-over-parent.txt": b"1.000ms 100.0%  main  a.py:1\n\xe2\x94\x94\xe2\x94\x80 2.000ms 200.0%  f  a.py:2\n",
        "too-deep.txt": b"1.000ms 100.0%  main  a.py:1\n      \xe2\x94\x94\xe2\x94\x80 1.000ms 100.0%  f  a.py:2\n",
        "garbage-after.txt": tree + b"this is not a tree\n",
        "mixed-units.txt": b"1.000ms 100.0%  main  a.py:1\n\xe2\x94\x94\xe2\x94\x80 12 1.0%  f  a.py:2\n",
        "bad-row.lines.txt": lines.replace(b"1.5 ", b"x.5 "),
        "no-header.lines.txt": b"Timer unit: 1e-06 s\n\n     1         2          1.5      0.8    100.0  def f():\n",
        "cut.lines.txt": lines[:-20],
        "stack-without-thread.mem.txt": mem,
        "bad-size.mem.txt": mem.replace(b"52.0 KiB", b"52.0 XB"),
    }


def test_bad_text_files_one_line_exit_2(tmp_path):
    for name, data in bad_text_files().items():
        path = tmp_path / name
        path.write_bytes(data)
        proc = hotscope("view", str(path))
        err = proc.stderr.decode()
        assert proc.returncode == 2, (name, err, proc.stdout[-300:])
        assert len(err.splitlines()) == 1 and err.startswith("hotscope: error: %s: " % path), err
        assert "Traceback" not in err


def test_collapsed_is_still_collapsed():
    """Sniffing: collapsed stacks whose frames hold times or '%' stay collapsed."""
    data = b"12.5ms 3.0% main;f 3\nThreads;x 2\n"
    assert _view.sniff(data) == "collapsed"
    assert _view.sniff(b"main;f 3\n") == "collapsed"
