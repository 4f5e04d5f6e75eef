"""The pyinstrument-style text tree (src/render/text_tree.c).

Ground truth: the collapsed stacks of the same profile, summed by path in
Python (every tree line's time is the sum of the self weights of the
stacks under its path), the plain call tree listing every node, and
programs whose split is known by construction. Colors: escape codes
appear with color on (a terminal, FORCE_COLOR) and never with NO_COLOR or
on a pipe.
"""

import os
import pty
import re
import subprocess
import sys
import textwrap
from collections import defaultdict

import pytest

import hotscope

LINE = re.compile(r"^(?P<indent>.*?)(?P<amount>\d+\.\d{3})(?P<unit>ms|s) +(?P<pct>\d+\.\d)%  (?P<label>.*)$")
HIDDEN = re.compile(r"\[(\d+) frames? hidden\]  (.*)$")
ESC = "\x1b"


def parse_tree(text):
    """[(path tuple of labels, nanoseconds, percent)], plus hidden notes
    [(path of the line they belong to, count, packages)]."""
    rows, notes, stack = [], [], []
    for line in text.splitlines():
        m = LINE.match(line)
        if m is None:
            h = HIDDEN.search(line)
            assert h, "unexpected line %r" % line
            notes.append((tuple(stack), int(h.group(1)), h.group(2)))
            continue
        depth = len(m.group("indent")) // 3
        scale = 1e6 if m.group("unit") == "ms" else 1e9
        del stack[depth:]
        stack.append(m.group("label"))
        rows.append((tuple(stack), float(m.group("amount")) * scale, float(m.group("pct"))))
    return rows, notes


def collapsed_label(tree_label):
    """The collapsed-stack spelling of a tree label: "name  file:1" -> "name (file:1)"."""
    if "  " in tree_label:
        name, where = tree_label.split("  ", 1)
        return "%s (%s)" % (name, where)
    return tree_label


def path_totals(collapsed):
    """Path (tuple of frames, thread line first) -> total in nanoseconds."""
    totals = defaultdict(int)
    for line in collapsed.decode().splitlines():
        if line.startswith("# hotscope collapsed"):
            assert line.endswith("_us")  # the unit header: microseconds
            continue
        stack, weight = line.rsplit(" ", 1)
        frames = tuple(stack.split(";"))
        for i in range(1, len(frames) + 1):
            totals[frames[:i]] += int(weight) * 1000  # microseconds
    return totals


SPLIT_PROGRAM = """
def unit():
    return sum(range(300))

def heavy(n):
    for _ in range(3 * n):
        unit()

def light(n):
    for _ in range(n):
        unit()

def main():
    # Interleaved in chunks, so a change of the machine's speed during the
    # run (other processes) weighs on both alike.
    for _ in range(20):
        heavy(N // 20)
        light(N // 20)
"""


def traced(source, clock="cpu", **names):
    """The profile of main() of `source`: main is the tree's top line."""
    namespace = dict(names)
    exec(compile(textwrap.dedent(source), "<split>", "exec"), namespace)
    main = namespace["main"]
    with hotscope.trace(clock=clock) as t:
        main()
    return t.snapshot()


def test_tree_times_are_the_path_totals_of_the_stacks():
    data = traced(SPLIT_PROGRAM, N=3000)
    text = data.text_tree(clock="cpu", min_percent=0, show_all=True)
    rows, notes = parse_tree(text)
    assert notes == []
    totals = path_totals(data.collapsed(clock="cpu"))
    grand = data.total(clock="cpu")
    thread = ("thread MainThread",)
    assert len(rows) >= 5
    for path, amount, pct in rows:
        key = thread + tuple(collapsed_label(label) for label in path)
        assert key in totals, (key, sorted(totals))
        # collapsed rounds each stack to a microsecond; the tree prints 1 us.
        assert abs(totals[key] - amount) <= 1000 * (1 + len(totals)), (path, totals[key], amount)
        assert abs(pct - 100.0 * amount / grand) <= 0.051 + 100.0 * 1000 / grand
    labels = [path[-1] for path, _, _ in rows]
    assert any(l.startswith("heavy  <split>:") for l in labels)
    assert any(l.startswith("light  <split>:") for l in labels)


def test_known_split_and_order():
    data = traced(SPLIT_PROGRAM, N=6000)
    rows, _ = parse_tree(data.text_tree(clock="cpu", min_percent=0))
    by_name = {path[-1].split("  ")[0]: (path, amount) for path, amount, _ in rows if len(path) == 2}
    heavy, light = by_name["heavy"][1], by_name["light"][1]
    # heavy does three times light's work: 75% of their sum, by construction.
    assert abs(heavy / (heavy + light) - 0.75) < 0.05, (heavy, light)
    # Children are listed largest first (a cyclic collection that happens
    # to run during main() shows as a [gc] child too: not the program's).
    main_children = [path[-1].split("  ")[0] for path, _, _ in rows if len(path) == 2]
    assert [c for c in main_children if c != "[gc]"] == ["heavy", "light"]


def test_min_percent_leaves_out_small_paths():
    data = traced(SPLIT_PROGRAM, N=2000)
    rows, _ = parse_tree(data.text_tree(clock="cpu", min_percent=30))
    assert rows and all(pct >= 30 for _, _, pct in rows)
    all_rows, _ = parse_tree(data.text_tree(clock="cpu", min_percent=0))
    assert len(all_rows) > len(rows)


JSON_PROGRAM = """
import json

def encode_all():
    for i in range(300):
        json.dumps({"k": list(range(50)), "s": "x" * i}, sort_keys=True, indent=1)

def main():
    encode_all()
"""


def plain_tree_nodes_under(data, marker):
    """Labels of the plain call tree's nodes below the line containing
    `marker` (every node: min_percent 0, nothing hidden)."""
    lines = data.tree(clock="wall", min_percent=0).splitlines()
    start = next(i for i, l in enumerate(lines) if marker in l)
    depth = lines[start].index(marker)
    below = []
    for line in lines[start + 1:]:
        label_at = max(line.find("\u2500 ") + 2, 0) if "\u2500 " in line else None
        if label_at is None or label_at <= depth:
            break
        below.append(line[label_at:])
    return below


def test_library_frames_collapse_unless_show_all():
    # The CPU clock: on a loaded machine a preemption inside a json frame
    # gives it wall-clock self time enough to be shown as a hot frame.
    data = traced(JSON_PROGRAM, clock="cpu")
    collapsed_text = data.text_tree(clock="cpu", min_percent=0)
    rows, notes = parse_tree(collapsed_text)
    labels = [path[-1] for path, _, _ in rows]
    # The call the program made is shown, with its import-path file name.
    dumps = [path for path, _, _ in rows if path[-1].startswith("dumps  json/__init__.py:")]
    assert len(dumps) == 1, collapsed_text
    # The json internals between it and where the time goes are hidden.
    # (Python 3.10 records co_name "encode", later versions the qualified name.)
    assert not any(re.match(r"(JSONEncoder\.)?encode  ", l) for l in labels), collapsed_text
    note = [n for n in notes if n[0] == dumps[0]]
    assert len(note) == 1, collapsed_text
    assert "json" in note[0][2].split(", ")
    # Every node below dumps is either hidden and counted (under dumps, or
    # under a hot frame shown below it), or shown.
    below = plain_tree_nodes_under(data, "dumps  ")
    inside = lambda path: path[:len(dumps[0])] == dumps[0]
    shown_below = [path for path, _, _ in rows if inside(path) and path != dumps[0]]
    hidden_below = sum(count for path, count, _ in notes if inside(path))
    assert hidden_below + len(shown_below) == len(below), (notes, shown_below, below)

    full = data.text_tree(clock="cpu", min_percent=0, show_all=True)
    full_rows, full_notes = parse_tree(full)
    assert full_notes == []
    assert any(re.match(r"(JSONEncoder\.)?encode  json/encoder.py:", path[-1]) for path, _, _ in full_rows)
    # Collapsing only removes lines: the lines kept have the same times.
    full_by_label = {path[-1]: amount for path, amount, _ in full_rows if "json" not in "".join(path[:-1])}
    for path, amount, _ in rows:
        if path[-1] in full_by_label:
            assert full_by_label[path[-1]] == amount


def test_user_code_called_back_from_a_library_is_shown():
    program = """
    import functools

    def key(x):
        return sum(range(200)) - x

    def main():
        for _ in range(50):
            sorted(range(200), key=functools.cmp_to_key(lambda a, b: key(a) - key(b)))
    """
    data = traced(program, clock="wall")
    rows, _ = parse_tree(data.text_tree(clock="wall", min_percent=0))
    paths = [tuple(l.split("  ")[0] for l in path) for path, _, _ in rows]
    assert any(p[-1] == "key" and "main" in p for p in paths), paths


def test_color_codes_only_when_asked():
    data = traced(JSON_PROGRAM, clock="wall")
    plain = data.text_tree(min_percent=0)
    colored = data.text_tree(min_percent=0, color=True)
    assert ESC not in plain
    assert "\x1b[1m" in colored and "\x1b[2m" in colored and "\x1b[0m" in colored
    # Without the escape sequences it is the same text.
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain


def test_control_characters_in_names_are_removed():
    def victim():
        return sum(range(1000))

    victim.__code__ = victim.__code__.replace(co_name="evil\x1b[31m\nname")
    if hasattr(victim.__code__, "co_qualname"):
        victim.__code__ = victim.__code__.replace(co_qualname="evil\x1b[31m\nname")
    with hotscope.trace() as t:
        victim()
    text = t.snapshot().text_tree(min_percent=0)
    assert ESC not in text
    assert "evil [31m name" in text
    for line in text.splitlines():
        assert LINE.match(line), line


def test_ascii_drawing_and_threads():
    data = traced(SPLIT_PROGRAM, N=500)
    text = data.text_tree(min_percent=0, unicode=False)
    assert all(ord(ch) < 128 for ch in text)
    assert "`- " in text
    first = data.text_tree(thread=0, min_percent=0).splitlines()[0]
    assert first.split("  ")[-1] == "Thread MainThread"
    with pytest.raises(IndexError):
        data.text_tree(thread=5)
    with pytest.raises(ValueError):
        data.text_tree(min_percent=-1)


# ---- the command line: colors on terminals only, NO_COLOR --------------------

CHILD = """
import time
def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
spin(0.6)
"""


def record(tmp_path, env_extra, tty=False):
    script = tmp_path / "spin.py"
    script.write_text(CHILD)
    return hotscope_stdout(["record", "--rate", "200", "--", sys.executable, str(script)], env_extra, tty)


def hotscope_stdout(args, env_extra, tty=False):
    """What `hotscope ARGS` prints on stdout, a pipe or (tty) a terminal,
    with NO_COLOR, FORCE_COLOR and TERM only as env_extra sets them."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env.update(env_extra)
    cmd = [sys.executable, "-m", "hotscope"] + list(args)
    if not tty:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.decode()
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    return b"".join(chunks).decode()


def test_cli_colors_follow_terminal_and_no_color(tmp_path):
    piped = record(tmp_path, {})
    assert "spin" in piped and ESC not in piped
    forced = record(tmp_path, {"FORCE_COLOR": "1"})
    assert "\x1b[1mspin" in forced
    assert ESC not in record(tmp_path, {"FORCE_COLOR": "1", "NO_COLOR": "1"})
    on_tty = record(tmp_path, {"TERM": "xterm"}, tty=True)
    assert "\x1b[1mspin" in on_tty
    assert ESC not in record(tmp_path, {"TERM": "xterm", "NO_COLOR": "1"}, tty=True)
    # NO_COLOR present but empty does not disable colors (no-color.org).
    assert ESC in record(tmp_path, {"TERM": "xterm", "NO_COLOR": ""}, tty=True)


def test_cli_show_all_in_text_file(tmp_path):
    script = tmp_path / "enc.py"
    script.write_text(textwrap.dedent(JSON_PROGRAM) + "\nmain()\n")
    out_default = tmp_path / "a.txt"
    out_all = tmp_path / "b.txt"
    for out, extra in ((out_default, []), (out_all, ["--show-all"])):
        proc = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(out)] + extra + [str(script)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                              env=dict(os.environ, FORCE_COLOR="1"))
        assert proc.returncode == 0, proc.stderr
    default, every = out_default.read_text(), out_all.read_text()
    assert ESC not in default and ESC not in every  # files never get colors
    assert "frames hidden]" in default and "frames hidden]" not in every
    assert re.search(r"(JSONEncoder\.)?encode  json/encoder.py", every)
    # Which library frame stays visible by default depends on where the time
    # went (one whose own time is at least half its line's is shown, and
    # that differs between interpreters); what must hold is that the default
    # shows a strict subset of the library frames --show-all shows.
    def encoder_frames(text):
        return set(re.findall(r"\S+  json/encoder\.py:\d+", text))
    assert encoder_frames(default) < encoder_frames(every), (encoder_frames(default), encoder_frames(every))


# ---- hotscope view: the same tree, colors and --show-all as record and trace --

# A sampled profile as other tools write it: collapsed stacks of sample
# counts, the library frames under json/__init__.py in a stdlib directory.
SAMPLED_COLLAPSED = (
    "main (/app/job.py:1);spin (/app/job.py:5) 60\n"
    "main (/app/job.py:1);dumps (/usr/lib/python3.12/json/__init__.py:183);"
    "encode (/usr/lib/python3.12/json/encoder.py:183);"
    "iterencode (/usr/lib/python3.12/json/encoder.py:205) 40\n"
)


@pytest.fixture(scope="module")
def saved_for_view(tmp_path_factory):
    out = tmp_path_factory.mktemp("view_tree")
    (out / "trace.json").write_bytes(traced(JSON_PROGRAM, clock="wall").json())
    (out / "sampled.collapsed").write_text(SAMPLED_COLLAPSED)
    return out


@pytest.mark.parametrize("name,bold", [("trace.json", "\x1b[1mmain"), ("sampled.collapsed", "\x1b[1mspin")])
def test_view_colors_follow_terminal_and_no_color(saved_for_view, name, bold):
    args = ["view", str(saved_for_view / name)]
    piped = hotscope_stdout(args, {})
    assert re.search(r"\d+\.\d%  main", piped) and ESC not in piped
    assert bold in hotscope_stdout(args, {"FORCE_COLOR": "1"})
    assert ESC not in hotscope_stdout(args, {"FORCE_COLOR": "1", "NO_COLOR": "1"})
    on_tty = hotscope_stdout(args, {"TERM": "xterm"}, tty=True)
    assert bold in on_tty
    # Without the escape sequences it is what a pipe gets.
    assert re.sub(r"\x1b\[[0-9;]*m", "", on_tty).replace("\r\n", "\n") == piped
    assert ESC not in hotscope_stdout(args, {"TERM": "xterm", "NO_COLOR": "1"}, tty=True)
    assert ESC in hotscope_stdout(args, {"TERM": "xterm", "NO_COLOR": ""}, tty=True)


@pytest.mark.parametrize("name", ["trace.json", "sampled.collapsed"])
def test_view_show_all_on_stdout_and_in_text_file(saved_for_view, tmp_path, name):
    path = str(saved_for_view / name)
    default = hotscope_stdout(["view", path], {})
    every = hotscope_stdout(["view", path, "--show-all"], {})
    hidden = re.compile(r"\[\d+ frames? hidden\]")
    assert hidden.search(default) and not hidden.search(every)
    encoder = r"\S+  json/encoder\.py:\d+"
    assert set(re.findall(encoder, every)) > set(re.findall(encoder, default))
    for out, extra in ((tmp_path / "a.txt", []), (tmp_path / "b.txt", ["--show-all"])):
        proc = subprocess.run([sys.executable, "-m", "hotscope", "view", path, "-o", str(out)] + extra,
                              capture_output=True, timeout=60, env=dict(os.environ, FORCE_COLOR="1"))
        assert proc.returncode == 0, proc.stderr
    in_file, in_file_all = (tmp_path / "a.txt").read_text(), (tmp_path / "b.txt").read_text()
    assert ESC not in in_file and ESC not in in_file_all  # files never get colors
    assert hidden.search(in_file) and not hidden.search(in_file_all)
    assert set(re.findall(encoder, in_file_all)) > set(re.findall(encoder, in_file))
