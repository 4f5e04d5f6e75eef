"""The flame graph SVG and the HTML report, read back with Python's own
parsers (xml.etree, html.parser, json): widths against the collapsed stacks
of the same profile and the 70/30 split known by construction, the embedded
model against ProfileData.json(), names full of markup kept as text, the
differential colors, and 1,000,000 samples over 100,000 distinct stacks
rendered fast and small. What a browser shows is in test_browser.py."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import hotscope
import flamekit

SVG = "{http://www.w3.org/2000/svg}"
GRAPH_LEFT, GRAPH_WIDTH = 10.0, 1180.0


def frames_of(svg_bytes):
    """[(label, title, x, y, width, fill, classes)] of every frame box."""
    root = ET.fromstring(svg_bytes)
    out = []
    for g in root.iter(SVG + "g"):
        classes = (g.get("class") or "").split()
        if "f" not in classes:
            continue
        title = g.find(SVG + "title").text
        rect = g.find(SVG + "rect")
        text = g.find(SVG + "text")
        out.append({
            "label": title.split("\n")[0], "title": title, "x": float(rect.get("x")),
            "y": float(rect.get("y")), "width": float(rect.get("width")), "fill": rect.get("fill"),
            "merged": "m" in classes, "text": text.text if text is not None else None,
        })
    return out


def collapsed_share(collapsed_bytes, name):
    """The share of the total weight of stacks with `name` on them, from the
    collapsed stacks: an independent reading of the same profile."""
    total = hit = 0
    for line in collapsed_bytes.decode("utf-8").splitlines():
        if line.startswith("# hotscope collapsed"):
            continue  # the unit header of time-weighted files
        stack, _, count = line.rpartition(" ")
        total += int(count)
        if any(frame.split(" (")[0] == name for frame in stack.split(";")):
            hit += int(count)
    return hit / total


@pytest.fixture(scope="module")
def split():
    """A traced run of SPLIT_PROGRAM's main(), in this process."""
    namespace = {"__name__": "split_program"}
    exec(compile(flamekit.SPLIT_PROGRAM, "split_program.py", "exec"), namespace)
    with hotscope.trace() as t:
        namespace["main"]()
    return t.snapshot()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    out = tmp_path_factory.mktemp("flame_fixtures")
    exe = flamekit.build_fixtures(out, sanitize=True)
    flamekit.run_fixture(exe, "hostile", out)
    flamekit.run_fixture(exe, "diff", out)
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    out = tmp_path_factory.mktemp("flame_big")
    exe = flamekit.build_fixtures(out)
    lines = flamekit.run_fixture(exe, "big", out)
    timings = {}
    for line in lines:
        if line.startswith("#"):
            continue
        name, seconds, size = line.split()
        timings[name] = (float(seconds), int(size))
    return out, timings


# ---- the SVG of a real trace ------------------------------------------------

def test_svg_widths_match_collapsed_stacks_and_known_split(split):
    boxes = frames_of(split.svg(clock="cpu"))
    by_label = {}
    for b in boxes:
        by_label.setdefault(b["label"].split(" (")[0], []).append(b)
    (root,) = by_label["all"]
    assert root["x"] == GRAPH_LEFT and root["width"] == GRAPH_WIDTH
    collapsed = split.collapsed(clock="cpu")
    for name in ("work_a", "work_b", "main"):
        (box,) = by_label[name]
        assert box["width"] / GRAPH_WIDTH == pytest.approx(collapsed_share(collapsed, name), abs=2e-4)
    a, b = by_label["work_a"][0]["width"], by_label["work_b"][0]["width"]
    assert a / (a + b) == pytest.approx(0.70, abs=0.03)
    # The tooltip says the same share in words.
    share = 100 * a / GRAPH_WIDTH
    m = re.search(r"Total: .* \(([\d.]+)%\)", by_label["work_a"][0]["title"])
    assert float(m.group(1)) == pytest.approx(share, abs=0.02)


def test_svg_children_sit_on_their_parents(split):
    boxes = frames_of(split.svg())
    rows = {}
    for b in boxes:
        rows.setdefault(b["y"], []).append(b)
    ys = sorted(rows)
    assert len(ys) >= 4  # all, MainThread, main, work_a/work_b (and what else is wide enough)
    # A flame graph: the root at the bottom, each row on top of the one below.
    assert [b["label"] for b in rows[ys[-1]]] == ["all"]
    for upper, lower in zip(ys, ys[1:]):
        for b in rows[upper]:
            assert any(p["x"] - 0.011 <= b["x"] and b["x"] + b["width"] <= p["x"] + p["width"] + 0.011
                       for p in rows[lower]), b["label"]
        # Siblings never overlap.
        spans = sorted((b["x"], b["x"] + b["width"]) for b in rows[upper])
        for (x0, x1), (y0, _) in zip(spans, spans[1:]):
            assert y0 >= x1 - 0.011


def test_svg_labels_fit_and_name_file_line(split):
    boxes = frames_of(split.svg())
    (a,) = [b for b in boxes if b["label"].startswith("work_a ")]
    line = flamekit.SPLIT_PROGRAM.splitlines().index("def work_a():") + 1
    assert a["label"] == "work_a (split_program.py:%d)" % line
    assert a["text"] == a["label"]
    for b in boxes:
        if b["text"] is not None:
            assert len(b["text"]) * 6.8 <= b["width"] - 5.9, b
            assert b["text"] == b["label"] or (b["text"].endswith("..") and b["label"].startswith(b["text"][:-2]))


def test_svg_icicle_title_and_optional_model(split):
    boxes = frames_of(split.svg(icicle=True))
    top = min(b["y"] for b in boxes)
    assert [b["label"] for b in boxes if b["y"] == top] == ["all"]
    data = split.svg(title="My <title> & more", model=False)
    root = ET.fromstring(data)
    assert root.find(SVG + "text[@id='title']").text == "My <title> & more"
    assert b"hotscope-profile" not in data
    assert frames_of(data) == frames_of(split.svg())


def test_svg_colors_by_category():
    import colorsys

    def hls(color):
        r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
        h, l, s = colorsys.rgb_to_hls(r, g, b)
        return h * 360, l, s

    import json as stdlib_json
    # Third-party code: a module installed in a virtual environment's
    # site-packages (under lib/python3.N/, which alone would say stdlib).
    third_party = {}
    exec(compile("def crunch(n):\n    return sum(i * i for i in range(n))\n",
                 "/opt/venv/lib/python3.12/site-packages/thirdparty/core.py", "exec"), third_party)
    with hotscope.trace() as t:
        sorted(range(300000), key=lambda v: -v)
        stdlib_json.loads(stdlib_json.dumps(list(range(20000))), parse_int=lambda v: int(v))
        third_party["crunch"](100000)
    svg = t.snapshot().svg()
    seen = set()
    for b in frames_of(svg):
        if b["merged"]:
            continue
        category = re.search(r"\[(\w+)\]", b["title"]).group(1)
        hue, _, sat = hls(b["fill"])
        seen.add(category)
        if category == "user":
            assert 0 <= hue <= 45, b          # red to orange
        elif category == "stdlib":
            assert 90 <= hue <= 140, b        # green
        elif category == "native":
            assert 185 <= hue <= 220, b       # blue
        elif category == "library":
            assert 255 <= hue <= 300, b       # purple
        else:
            assert category == "synthetic" and sat == 0, b  # gray
        if b["label"].startswith("crunch ("):
            assert category == "library", b
    assert {"user", "stdlib", "native", "synthetic", "library"} <= seen


def test_svg_and_html_carry_the_model(split):
    model = json.loads(split.json())
    assert flamekit.embedded_model(split.svg()) == model
    assert flamekit.embedded_model(split.html()) == model


def test_html_is_self_contained(split):
    data = split.html()
    tags = flamekit.html_tags(data)
    assert tags.tags.get("script") == 2
    for tag in ("img", "iframe", "object", "embed", "link", "base", "form"):
        assert tag not in tags.tags, tag
    assert b"Content-Security-Policy" in data and b"default-src 'none'" in data
    # Nothing that could name a place to fetch from.
    for needle in (b"http:", b"https:", b"//cdn", b"@import", b"url(", b"fetch(", b"XMLHttpRequest", b"src="):
        assert needle not in data, needle


# ---- hostile names ------------------------------------------------------------

HOSTILE = [
    ("<script>alert(1)</script>", "/tmp/<script>alert(2)</script>.py"),
    ("quote\"s'and&amp;", "a&b\"c'.py"),
    ("new\nline", "x\ny.py"),
    ("bad\ufffd\ufffdname", "f\ufffd(.py"),
    ("</script><script>alert(3)</script>", "s.py"),
    ("]]><script>alert(4)</script>", "c.py"),
    ("line\u2028separator", "u.py"),
    ("not\ufffexml", "nx.py"),
]


@pytest.mark.parametrize("name", ["hostile.svg", "hostile.icicle.svg"])
def test_hostile_names_are_text_in_svg(fixtures, name):
    data = (fixtures / name).read_bytes()
    root = ET.fromstring(data)  # well-formed XML, whatever the names
    scripts = list(root.iter(SVG + "script"))
    assert [s.get("type") for s in scripts] == ["application/json", "text/ecmascript"]
    labels = {b["label"] for b in frames_of(data)}
    for i, (fname, _) in enumerate(HOSTILE):
        shown = fname.replace("\n", " ").replace("\ufffe", "\ufffd")
        assert any(label.startswith(shown + " (") for label in labels), shown
    # The model inside keeps the names exactly (invalid UTF-8 as U+FFFD).
    model = flamekit.embedded_model(data)
    for fname, ffile in HOSTILE:
        assert fname in model["strings"] and ffile in model["strings"]
    assert "worker <b>&\"'" in [t["name"] for t in model["threads"]]


def test_hostile_names_are_text_in_html(fixtures):
    data = (fixtures / "hostile.html").read_bytes()
    tags = flamekit.html_tags(data)
    assert tags.tags.get("script") == 2
    assert "img" not in tags.tags and "b" not in tags.tags
    assert tags.title == "hotscope: <img src=x onerror=alert(5)> & \"quoted\" 'x'"
    model = flamekit.embedded_model(data)
    assert model["meta"]["python"] == "3.12.1 </script><script>alert(6)</script>"
    for fname, ffile in HOSTILE:
        assert fname in model["strings"] and ffile in model["strings"]


def test_hostile_function_traced(tmp_path):
    namespace = {}
    with hotscope.trace() as t:
        exec(compile(flamekit.HOSTILE_PROGRAM, "hostile_program.py", "exec"), namespace)
    data = t.snapshot()
    name, file = flamekit.HOSTILE_NAME, flamekit.HOSTILE_FILE
    svg = data.svg()
    labels = [b["label"] for b in frames_of(svg)]
    assert name.replace("\n", " ") + " (" + file.split("/")[-1].replace("\n", " ") + ":1)" in labels
    html = data.html()
    assert flamekit.html_tags(html).tags.get("script") == 2
    model = flamekit.embedded_model(html)
    assert name in model["strings"] and file in model["strings"]


# ---- differential ----------------------------------------------------------------

def test_differential_colors_and_tooltips(fixtures):
    boxes = {b["label"].split(" (")[0]: b for b in frames_of((fixtures / "diff.svg").read_bytes())}
    grow, shrink, same, main = boxes["grow"], boxes["shrink"], boxes["same"], boxes["main"]
    assert grow["fill"][:3] == "#ff" and grow["fill"][3:5] == grow["fill"][5:7] != "ff"
    assert shrink["fill"][5:] == "ff" and shrink["fill"][1:3] == shrink["fill"][3:5] != "ff"
    # +100% is full strength, -50% half of it.
    assert int(grow["fill"][3:5], 16) < int(shrink["fill"][1:3], 16) < 0xe1
    assert same["fill"] == main["fill"] == "#e1e1e1"
    assert grow["title"].splitlines()[-1] == "30 samples \u2192 60 samples (+100.0%)"
    assert shrink["title"].splitlines()[-1] == "40 samples \u2192 20 samples (-50.0%)"
    assert same["title"].splitlines()[-1] == "10 samples \u2192 10 samples (+0.0%)"


# ---- 1,000,000 samples over 100,000 stacks ------------------------------------

def test_big_profile_renders_fast_and_small(big):
    out, timings = big
    assert set(timings) >= {"svg", "html", "collapsed", "prof", "table", "calltree"}
    assert len((out / "big.collapsed").read_bytes().splitlines()) == 100000
    assert timings["html"][1] < 10 * 1024 * 1024
    # Measured at about 0.1 s each; 1 s leaves room for a busy machine.
    assert timings["svg"][0] < 1.0 and timings["html"][0] < 1.0


def test_big_svg_merges_what_is_too_narrow(big):
    out, _ = big
    data = (out / "big.svg").read_bytes()
    boxes = frames_of(data)
    merged = [b for b in boxes if b["merged"]]
    assert len(boxes) < 40000 and merged
    for b in boxes:
        assert b["width"] >= 0.095, b
    shown = sum(int(b["title"].split()[0]) for b in merged)
    # The merged boxes stand for many of the 200,000 nodes.
    assert shown > 10000
    model = flamekit.embedded_model(data)
    k = 2 + model["weights"].index("samples")
    assert sum(model["nodes"][k::2 + len(model["weights"])]) == 1000000


# ---- a tree too big for a page: merged, with exact function tables ------------------

@pytest.fixture(scope="module")
def merged(big):
    out, _ = big
    folder = out / "merge"
    folder.mkdir()
    flamekit.run_fixture(out / "flame_fixtures", "merge", folder)
    return folder


def test_big_html_merges_narrow_paths_to_fit(merged):
    """The realistic profile (600,930 nodes: ~10.5 MB of JSON) makes a
    report under 10 MB whose tree keeps every path that is not narrow and
    the root's total, and says what it merged."""
    html = (merged / "merge.html").read_bytes()
    whole = json.loads((merged / "merge.json").read_bytes())
    assert len(html) < 10 * 1000 * 1000 < len((merged / "merge.json").read_bytes())
    model = flamekit.embedded_model(html)
    info = model["merged"]
    rec = 2 + len(model["weights"])
    written = len(model["nodes"]) // rec + 1
    assert info["of"] == len(whole["nodes"]) // rec + 1 == 600930
    assert written - 1 - info["into"] + info["nodes"] == info["of"] - 1
    assert 0 < info["share"] < 0.001 and info["nodes"] > 0
    name, _, _, _, kind, category = model["frames"][info["frame"]]
    assert model["strings"][name] == "[narrow paths merged]" and (kind, category) == ("other", "synthetic")
    assert info["frame"] == len(model["frames"]) - 1
    assert "merged %d of the call tree's 600930 nodes" % info["nodes"] in model["meta"]["merged"]
    k = 2 + model["weights"].index("samples")
    assert sum(model["nodes"][k::rec]) == 1000000
    # Rendering the report left the profile as it was (no function frames
    # interned for the tables stay behind).
    assert (merged / "merge.after.json").read_bytes() == (merged / "merge.json").read_bytes()


def test_merged_html_function_tables_are_exact(merged):
    """The tables the page carries equal the whole profile's (pstats from
    the model JSON), for all threads and each thread."""
    from hotscope import _core

    html = (merged / "merge.html").read_bytes()
    model = flamekit.embedded_model(html)
    profile = _core.load((merged / "merge.json").read_bytes(), "json")
    weights, strings, frames = model["weights"], model["strings"], model["frames"]
    stride = 2 + 2 * len(weights)
    k = weights.index("samples")
    roots = {t["root"]: i for i, t in enumerate(model["threads"])}
    tables = model["functions"]
    assert [t["root"] for t in tables] == [0] + [t["root"] for t in model["threads"]]
    for table in tables:
        expected = profile.pstats(clock="samples", thread=None if table["root"] == 0 else roots[table["root"]])
        rows = table["rows"]
        got = {}
        for j in range(0, len(rows), stride):
            name, file, first_line = frames[rows[j]][:3]
            key = (strings[file], first_line, strings[name].rsplit(".", 1)[-1])
            got[key] = (round(rows[j + 2 + 2 * k]), round(rows[j + 3 + 2 * k]))
        want = {key: (round(v[2] * 1e9), round(v[3] * 1e9)) for key, v in expected.items()}
        assert got == want, table["root"]


def test_merged_html_reads_back_and_view_says_so(merged, tmp_path):
    from hotscope import _core

    html = merged / "merge.html"
    profile = _core.load(html.read_bytes(), "html")
    assert "narrow paths merged" in profile.meta()["merged"]
    assert profile.total(clock="samples") == 1000000
    proc = subprocess.run([sys.executable, "-m", "hotscope", "view", str(html), "--limit", "3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("hotscope: note: %s holds a call tree cut to fit: the HTML report merged " % html)
    assert proc.stderr.count("\n") == 1
    # Written again as a report, it fits whole and still says it was merged.
    again = tmp_path / "again.html"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "view", str(html), "-o", str(again)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    model = flamekit.embedded_model(again.read_bytes())
    assert "merged" not in model and "narrow paths merged" in model["meta"]["merged"]


# ---- through the command line and the API ------------------------------------------

def test_cli_and_api_write_svg_and_html(tmp_path, split):
    svg = flamekit.trace_to(tmp_path, "prog.py", flamekit.SPLIT_PROGRAM, "out.svg", "30000")
    assert any(b["label"].startswith("work_a (prog.py:") for b in frames_of(svg.read_bytes()))
    html = flamekit.trace_to(tmp_path, "prog.py", flamekit.SPLIT_PROGRAM, "out.html", "30000")
    model = flamekit.embedded_model(html.read_bytes())
    assert "work_a" in model["strings"]
    with hotscope.trace() as t:
        sum(range(1000))
    t.save(str(tmp_path / "api.html"))
    t.save(str(tmp_path / "api.svg"))
    assert flamekit.embedded_model((tmp_path / "api.html").read_bytes())["meta"]["engine"] == "trace"
    ET.fromstring((tmp_path / "api.svg").read_bytes())
    assert ".svg" in hotscope.FORMATS and ".html" in hotscope.FORMATS


def root_row(svg_bytes):
    """("top" or "bottom": where the root box "all" is drawn, the SVG's data-icicle)."""
    boxes = frames_of(svg_bytes)
    ys = sorted({b["y"] for b in boxes})
    (root,) = [b for b in boxes if b["label"] == "all"]
    assert root["y"] in (ys[0], ys[-1]) and len(ys) > 2
    return "top" if root["y"] == ys[0] else "bottom", ET.fromstring(svg_bytes).get("data-icicle")


def test_icicle_from_the_command_line_and_save(tmp_path):
    """--icicle (trace, view, record, mem, lines, diff) and save(icicle=True)
    draw the flame graph top-down: the root on the first row, callees below."""
    ice = flamekit.trace_to(tmp_path, "prog.py", flamekit.SPLIT_PROGRAM, "ice.svg", "30000", options=["--icicle"])
    assert root_row(ice.read_bytes()) == ("top", "1")
    saved = flamekit.trace_to(tmp_path, "prog.py", flamekit.SPLIT_PROGRAM, "prog.json", "30000")
    flame = tmp_path / "flame.svg"
    assert flamekit.hotscope("view", str(saved), "-o", str(flame)).returncode == 0
    assert root_row(flame.read_bytes()) == ("bottom", "0")
    viewed = tmp_path / "viewed.svg"
    proc = flamekit.hotscope("view", str(saved), "--icicle", "-o", str(viewed))
    assert proc.returncode == 0, proc.stderr
    # The same boxes as the API's icicle of the same profile.
    assert frames_of(viewed.read_bytes()) == frames_of(hotscope.load(str(saved)).svg(icicle=True))
    assert root_row(viewed.read_bytes()) == ("top", "1")
    diff_out = tmp_path / "diff.svg"
    proc = flamekit.hotscope("diff", "--icicle", str(saved), str(saved), "-o", str(diff_out))
    assert proc.returncode == 0, proc.stderr
    assert root_row(diff_out.read_bytes())[0] == "top"
    with hotscope.trace() as t:
        sorted(range(200000), key=lambda v: -v)
    t.save(str(tmp_path / "api.svg"), icicle=True)
    assert root_row((tmp_path / "api.svg").read_bytes()) == ("top", "1")
    t.save(str(tmp_path / "api-flame.svg"))
    assert root_row((tmp_path / "api-flame.svg").read_bytes()) == ("bottom", "0")


@pytest.mark.parametrize("args", [["view", "{saved}", "--icicle"], ["view", "{saved}", "--icicle", "-o", "x.html"],
                                  ["view", "{saved}", "--icicle", "-o", "x.dot.svg"],
                                  ["diff", "--icicle", "{saved}", "{saved}"],
                                  ["trace", "--icicle", "-o", "x.txt", "-c", "pass"]])
def test_icicle_without_an_svg_is_refused(tmp_path, split, args):
    saved = tmp_path / "p.json"
    saved.write_bytes(split.json())
    proc = flamekit.hotscope(*[a.format(saved=saved) for a in args], cwd=str(tmp_path))
    err = proc.stderr
    assert proc.returncode == 2 and len(err.splitlines()) == 1 and "--icicle" in err and "FILE.svg" in err, err
    assert "Traceback" not in err and not (tmp_path / "x.html").exists()
    with hotscope.trace() as t:
        sum(range(10))
    with pytest.raises(ValueError, match="icicle"):
        t.save(str(tmp_path / "api.html"), icicle=True)


def test_sampled_profile_weighs_by_samples(tmp_path):
    script = tmp_path / "busy.py"
    script.write_text("import time\nend = time.time() + 1.0\nwhile time.time() < end:\n    pass\n")
    out = tmp_path / "rec.svg"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "record", "--rate", "200", "-o", str(out), "--",
                           sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    root = ET.fromstring(out.read_bytes())
    subtitle = root.find(SVG + "text[@id='subtitle']").text
    samples = int(re.search(r"total ([\d,]+) samples", subtitle).group(1).replace(",", ""))
    model = flamekit.embedded_model(out.read_bytes())
    k = 2 + model["weights"].index("samples")
    assert samples == sum(model["nodes"][k::2 + len(model["weights"])])
    assert samples > 50
    html = tmp_path / "rec.html"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "record", "--rate", "200", "-o", str(html), "--",
                           sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert b'<body data-weight="samples">' in html.read_bytes()
