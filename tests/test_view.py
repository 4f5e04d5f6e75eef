"""hotscope view: every format in, every format out, the format told from
the content, and every bad file answered with one line naming it and
exit status 2, never a traceback."""

import json
import marshal
import os
import pstats
import random
import subprocess
import sys
import zlib

import pytest

from hotscope import _core

from readers_helpers import hostile_profile, parse_collapsed, trace_profile


def hotscope(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, timeout=timeout)


@pytest.fixture(scope="module")
def traced():
    return trace_profile()


@pytest.fixture
def saved(tmp_path, traced):
    """The traced profile saved in every format hotscope reads back."""
    files = {
        "model.json": traced.json(),
        "flame.speedscope.json": traced.speedscope(),
        "stacks.collapsed": traced.collapsed(clock="wall"),
        "stats.prof": traced.prof(),
        "report.html": b"<!DOCTYPE html><html><body><script type=\"application/json\" id=\"hotscope-profile\">"
                       + traced.json() + b"</script></body></html>",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


def assert_clean_error(proc, path):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hotscope: error: %s: " % path), err
    return lines[0]


@pytest.mark.parametrize("name", ["model.json", "flame.speedscope.json", "stacks.collapsed", "stats.prof",
                                  "report.html"])
def test_view_prints_a_summary(saved, name):
    proc = hotscope("view", str(saved[name]))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "_fib" in out and "area" in out


@pytest.mark.parametrize("name", ["model.json", "flame.speedscope.json", "stacks.collapsed", "report.html"])
def test_view_converts_keeping_stacks(saved, tmp_path, traced, name):
    """Any saved form -> .collapsed: the stacks of the original profile."""
    out = tmp_path / "out.collapsed"
    proc = hotscope("view", str(saved[name]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert parse_collapsed(out.read_bytes()) == parse_collapsed(traced.collapsed(clock="wall"))


@pytest.mark.parametrize("ext", [".json", ".speedscope.json", ".collapsed", ".prof", ".txt"])
def test_view_writes_every_format_and_reads_it_back(saved, tmp_path, ext):
    out = tmp_path / ("out" + ext)
    proc = hotscope("view", str(saved["model.json"]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
    again = hotscope("view", str(out))
    assert again.returncode == 0, again.stderr


def test_view_prof_to_prof_keeps_pstats(tmp_path):
    script = tmp_path / "work.py"
    script.write_text("def f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\n"
                      "def g():\n    return sorted(range(1000), key=str)\n"
                      "for _ in range(3):\n    f(12)\n    g()\n")
    before = tmp_path / "before.prof"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(before), str(script)], check=True)
    after = tmp_path / "after.prof"
    proc = hotscope("view", str(before), "-o", str(after))
    assert proc.returncode == 0, proc.stderr
    a, b = pstats.Stats(str(before)).stats, pstats.Stats(str(after)).stats
    assert set(a) == set(b)
    for func in a:
        assert b[func][:2] == a[func][:2], func
        assert b[func][2] == pytest.approx(a[func][2], abs=1e-9), func


def test_format_is_told_from_content_not_name(saved, tmp_path, traced):
    # speedscope content in a .txt, hotscope JSON named .speedscope.json
    odd = tmp_path / "misnamed.txt"
    odd.write_bytes(saved["flame.speedscope.json"].read_bytes())
    odd2 = tmp_path / "misnamed.speedscope.json"
    odd2.write_bytes(saved["model.json"].read_bytes())
    for path in (odd, odd2):
        out = tmp_path / "o.collapsed"
        proc = hotscope("view", str(path), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert parse_collapsed(out.read_bytes()) == parse_collapsed(traced.collapsed(clock="wall"))


def test_view_sampled_collapsed(tmp_path):
    path = tmp_path / "py-spy.txt"
    path.write_bytes(b"main (app.py:1);slow (app.py:7) 90\r\nmain (app.py:1);fast (app.py:9) 10\r\n")
    proc = hotscope("view", str(path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "90.0%" in out and "slow" in out
    speedscope = tmp_path / "o.speedscope.json"
    assert hotscope("view", str(path), "-o", str(speedscope)).returncode == 0
    doc = json.loads(speedscope.read_text())
    assert doc["profiles"][0]["unit"] == "none"
    assert sorted(doc["profiles"][0]["weights"]) == [10, 90]


def test_hostile_names_through_the_cli(tmp_path):
    data = hostile_profile()
    src = tmp_path / "h.json"
    src.write_bytes(data.json())
    out = tmp_path / "h.collapsed"
    assert hotscope("view", str(src), "-o", str(out)).returncode == 0
    assert parse_collapsed(out.read_bytes()) == parse_collapsed(data.collapsed(clock="wall"))
    proc = hotscope("view", str(src))
    assert proc.returncode == 0 and b"<script>alert(1)</script>" in proc.stdout


def model_json_mutated(traced, change):
    doc = json.loads(traced.json())
    change(doc)
    return json.dumps(doc).encode()


def bad_files(traced):
    good = traced.json()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))
    return {
        "truncated.json": good[: len(good) // 2],
        "wrong-types.json": model_json_mutated(traced, lambda d: d.update(nodes={"a": 1})),
        "id-out-of-range.json": model_json_mutated(traced, lambda d: d["nodes"].__setitem__(1, 10 ** 6)),
        "parent-cycle.json": model_json_mutated(traced, lambda d: d["nodes"].__setitem__(0, 5)),
        "deep.json": b"[" * 10000 + b"]" * 10000,
        "deep-model.json": good[:-2] + b',"x":' + b"[" * 10000 + b"]" * 10000 + b"}\n",
        "empty.prof": b"",
        "png.svg": png,
        "truncated.prof": traced.prof()[:-7],
        "list.prof": marshal.dumps([1, 2, 3]),
        "nothing.html": b"<!DOCTYPE html><html><body>hello</body></html>",
        "other.json": b'{"traceEvents": []}',
        "unbalanced.speedscope.json": json.dumps({
            "$schema": "https://www.speedscope.app/file-format-schema.json",
            "shared": {"frames": [{"name": "a"}]},
            "profiles": [{"type": "evented", "name": "x", "unit": "none", "startValue": 0, "endValue": 1,
                          "events": [{"type": "O", "frame": 0, "at": 0}]}]}).encode(),
        "gzip-not-pprof.pb.gz": b"\x1f\x8b\x08\x00" + zlib.compress(b"hello")[2:],
        "newline\nname.txt": b"no count here\n",
    }


def test_bad_files_one_line_exit_2(tmp_path, traced):
    for name, data in bad_files(traced).items():
        path = tmp_path / name
        path.write_bytes(data)
        proc = hotscope("view", str(path))
        # A newline in the file name is shown escaped: still one line.
        line = assert_clean_error(proc, str(path).replace("\n", "\\n"))
        assert len(line) > len("hotscope: error: %s: " % path) + 5
    line = assert_clean_error(hotscope("view", str(tmp_path / "list.prof")), str(tmp_path / "list.prof"))
    assert "pstats file: not a pstats file: the marshal data is a list, not a dict" in line


@pytest.mark.parametrize("kind", ["html", "svg"])
def test_truncated_report_is_named_by_view_and_diff(tmp_path, traced, kind):
    """A report or flame graph cut anywhere after its embedded model (the
    model reads, the rest of the document is missing): one line naming
    the file and saying it is truncated, exit 2, from view and diff."""
    whole = traced.html() if kind == "html" else traced.svg()
    good = tmp_path / ("good." + kind)
    good.write_bytes(whole)
    assert hotscope("view", str(good)).returncode == 0
    model_end = whole.index(b"</script>", whole.index(b'id="hotscope-profile"')) + len(b"</script>")
    closing = b"</html>" if kind == "html" else b"</svg>"
    for cut in sorted({model_end, model_end + 1, (model_end + len(whole)) // 2, len(whole) - 2}):
        path = tmp_path / ("cut%d.%s" % (cut, kind))
        path.write_bytes(whole[:cut])
        line = assert_clean_error(hotscope("view", str(path)), str(path))
        assert "truncated" in line and closing.decode() in line, line
        line = assert_clean_error(hotscope("diff", str(good), str(path)), str(path))
        assert "truncated" in line, line
    # Cut inside the model, or before it: said too.
    for cut in (model_end - 200, whole.index(b'id="hotscope-profile"') - 3):
        path = tmp_path / ("early%d.%s" % (cut, kind))
        path.write_bytes(whole[:cut])
        line = assert_clean_error(hotscope("view", str(path)), str(path))
        assert "truncated" in line and closing.decode() in line, line


def test_raw_pprof_is_told_from_its_content(tmp_path, traced):
    """profile.proto without gzip (what protoc and Go's proto.Marshal give):
    read like the .pb.gz, stack for stack; cut short, a pprof error."""
    import gzip

    from pprof_synth import field_bytes, field_varint

    raw = gzip.decompress(traced.pprof())
    path = tmp_path / "raw.pb"
    path.write_bytes(raw)
    out = tmp_path / "raw.collapsed"
    proc = hotscope("view", str(path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert parse_collapsed(out.read_bytes()) == parse_collapsed(_core.load_pprof(traced.pprof()).collapsed(clock="wall"))
    # A foreign one: a sample type (type and unit as string indices), one
    # sample of one location, its function and the strings.
    foreign = (field_bytes(1, field_varint(1, 1) + field_varint(2, 2))
               + field_bytes(2, field_varint(1, 1) + field_varint(2, 7))
               + field_bytes(4, field_varint(1, 1) + field_bytes(4, field_varint(1, 1) + field_varint(2, 3)))
               + field_bytes(5, field_varint(1, 1) + field_varint(2, 3) + field_varint(4, 4))
               + b"".join(field_bytes(6, t) for t in (b"", b"samples", b"count", b"handler", b"srv.py")))
    path.write_bytes(foreign)
    proc = hotscope("view", str(path))
    assert proc.returncode == 0 and b"handler" in proc.stdout, proc.stderr
    for cut in (raw[:len(raw) // 2], raw[:40]):
        path.write_bytes(cut)
        line = assert_clean_error(hotscope("view", str(path)), str(path))
        assert ": pprof file: " in line, line


def test_lone_surrogates_in_speedscope_names_are_text(tmp_path):
    """JSON.stringify writes a lone surrogate as an escape ("\\ud800"):
    such a name shows U+FFFD in its place, as invalid UTF-8 does, and the
    rest of the file reads."""
    doc = (b'{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":['
           b'{"name":"a\\ud800b","file":"app.py","line":3},{"name":"\\udfffc"},{"name":"\\ud83d\\u0041"},'
           b'{"name":"pair \\ud83d\\ude00"}]},"profiles":[{"type":"sampled","name":"main","unit":"none",'
           b'"startValue":0,"endValue":4,"samples":[[0,1],[0,2],[3]],"weights":[5,3,2]}]}')
    path = tmp_path / "lone.speedscope.json"
    path.write_bytes(doc)
    proc = hotscope("view", str(path))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")
    assert "a\ufffdb" in text and "\ufffdc" in text and "\ufffdA" in text and "pair \U0001f600" in text
    out = tmp_path / "back.speedscope.json"
    assert hotscope("view", str(path), "-o", str(out)).returncode == 0
    names = [f["name"] for f in json.loads(out.read_text("utf-8"))["shared"]["frames"]]
    assert {"a\ufffdb", "\ufffdc", "\ufffdA", "pair \U0001f600"} <= set(names), names
    collapsed = tmp_path / "back.collapsed"
    assert hotscope("view", str(path), "-o", str(collapsed)).returncode == 0
    assert "a\ufffdb (app.py:3);\ufffdc 5" in collapsed.read_text("utf-8")


def damaged(data, at, byte):
    data = bytearray(data)
    data[at] = byte
    return bytes(data)


@pytest.mark.parametrize("name", ["model.json", "flame.speedscope.json"])
@pytest.mark.parametrize("at,byte", [(1, ord("X")), (1, 0), (1, ord(")")), (1, ord("0")), (300, 0), (301, 0x16)])
def test_damaged_json_is_named_damaged_json_not_pstats(saved, tmp_path, name, at, byte):
    """One changed byte in a JSON file (the second byte, or a NUL or a
    control byte in a string): the error says damaged JSON and where, not
    pstats' marshal error."""
    path = tmp_path / ("damaged-" + name)
    path.write_bytes(damaged(saved[name].read_bytes(), at, byte))
    line = assert_clean_error(hotscope("view", str(path)), str(path))
    assert "pstats" not in line and "marshal" not in line, line
    kind = "hotscope JSON" if name == "model.json" else "speedscope file"
    assert "%s: damaged JSON: " % kind in line and line.endswith(" at byte %d" % at), line
    line = assert_clean_error(hotscope("diff", str(saved[name]), str(path)), str(path))
    assert "damaged JSON: " in line and "pstats" not in line, line


def test_damaged_json_of_no_known_kind(tmp_path):
    path = tmp_path / "trace.json"
    path.write_bytes(b'{"traceEvents": [1, 2,, 3]}')
    line = assert_clean_error(hotscope("view", str(path)), str(path))
    assert line.endswith(": damaged JSON: Expecting value at byte 22"), line
    path.write_bytes(b'{"traceEvents": [1, 2, 3]}')
    line = assert_clean_error(hotscope("view", str(path)), str(path))
    assert "JSON, but neither hotscope's profile nor a speedscope file" in line


def test_pstats_is_still_told_from_its_bytes(tmp_path, traced):
    """pstats from hotscope, and marshal of every version (0xfb, '{(' ,
    '{)'), still read as pstats; marshal of something else is named so."""
    original = tmp_path / "h.prof"
    original.write_bytes(traced.prof())
    stats = pstats.Stats(str(original)).stats
    for version in (0, 2, 4):
        path = tmp_path / ("v%d.prof" % version)
        path.write_bytes(marshal.dumps(stats, version))
        proc = hotscope("view", str(path))
        assert proc.returncode == 0 and b"_fib" in proc.stdout, (version, proc.stderr)
    empty = tmp_path / "empty.prof"
    empty.write_bytes(marshal.dumps({}, 2))
    assert hotscope("view", str(empty)).returncode == 0
    keys = tmp_path / "keys.prof"
    keys.write_bytes(marshal.dumps({b"x": 1}))
    line = assert_clean_error(hotscope("view", str(keys)), str(keys))
    assert "pstats file: not a pstats file" in line


def test_random_bytes_one_line_exit_2(tmp_path):
    rng = random.Random(42)
    for i in range(20):
        path = tmp_path / ("random%d.bin" % i)
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))))
        assert_clean_error(hotscope("view", str(path)), str(path))


def test_missing_file_and_usage(tmp_path):
    missing = tmp_path / "nope.prof"
    line = assert_clean_error(hotscope("view", str(missing)), str(missing))
    assert "No such file" in line
    proc = hotscope("view")
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    proc = hotscope("view", str(missing), "-o", str(tmp_path / "x.unknown"))
    assert proc.returncode == 2 and b"cannot write" in proc.stderr


def test_input_format_can_be_forced(saved, tmp_path):
    proc = hotscope("view", "--input", "collapsed", str(saved["model.json"]))
    assert proc.returncode == 2
    assert b"collapsed stacks: line 1: expected" in proc.stderr
    proc = hotscope("view", "--input", "json", str(saved["model.json"]))
    assert proc.returncode == 0, proc.stderr


def test_call_graphs_read_back(tmp_path):
    """`.dot` and `.dot.svg` carry the whole profile, so view reads them
    back with every stack and weight."""
    import hotscope

    def leaf(n):
        return sum(range(n))

    def caller():
        return [leaf(1000 + i) for i in range(50)]

    with hotscope.trace() as t:
        caller()
    data = t.snapshot()
    for name in ("graph.dot", "graph.dot.svg"):
        path = tmp_path / name
        data_path = str(path)
        from hotscope import _output, _view

        _output.write(data, data_path)
        back = _view.load(data_path)
        assert back.collapsed(clock="wall") == data.collapsed(clock="wall"), name
        assert back.collapsed(clock="calls") == data.collapsed(clock="calls"), name
    (tmp_path / "foreign.dot").write_text("digraph g { a -> b; }\n")
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "hotscope", "view", str(tmp_path / "foreign.dot")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "embeds" in r.stderr


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_line_report_never_reads_a_special_file_as_source(tmp_path, special):
    """A saved line profile names its source files; `view` reads those
    whose source was not captured. A profile from elsewhere naming
    /dev/zero or a FIFO must not hang view (only regular files are read):
    the rows are shown with their source marked missing."""
    import json

    import hotscope

    def f():
        x = 0
        for i in range(10):
            x += i
        return x

    with hotscope.lines(f) as lp:
        f()
    saved = tmp_path / "good.json"
    lp.save(str(saved))
    doc = json.loads(saved.read_text())
    target = "/dev/zero"
    if special == "fifo":
        target = str(tmp_path / "pipe")
        os.mkfifo(target)
    old = f.__code__.co_filename
    doc["strings"] = [target if v == old else v for v in doc["strings"]]
    doc["meta"] = {k: v for k, v in doc["meta"].items() if not k.startswith("source:")}
    evil = tmp_path / "evil.json"
    evil.write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, "-m", "hotscope", "view", str(evil), "-o", str(tmp_path / "x.txt")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "x.txt").read_text()
    assert "x += i" not in text and target in text, text
