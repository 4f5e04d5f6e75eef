"""The readers of src/read/ and the speedscope writer, through
hotscope._core.load() and ProfileData's renderers.

Ground truth is independent of the readers: Python's json module and the
model JSON layout decoded in Python (readers_helpers.json_stacks), a
JSON Schema written from speedscope's specification, pstats.Stats and
marshal for .prof files, and hand-written files whose content is known.
"""

import cProfile
import json
import marshal
import pathlib
import profile as pyprofile
import pstats

import jsonschema
import pytest

import hotscope
from hotscope import _core

from readers_helpers import (INVALID_UTF8_COLLAPSED, HOSTILE_NAMES, hostile_profile, json_stacks, load_json,
                             ns_to_us, parse_collapsed, sample_profile, speedscope_stacks, trace_profile)

HERE = pathlib.Path(__file__).resolve().parent
# speedscope's published schema, byte for byte as www.speedscope.app serves
# it: https://www.speedscope.app/file-format-schema.json, i.e. the gh-pages
# branch of github.com/jlfwong/speedscope (deploy of speedscope@1.25.0,
# 2025-12-03, commit 43ca88ab), which scripts/generate-file-format-schema-json.js
# generates from src/lib/file-format-spec.ts (MIT license).
SCHEMA = json.loads((HERE / "speedscope_schema.json").read_text())

# (profile, clock its stacks are compared by)
CLOCKS = {"trace": "wall", "sample": "samples", "hostile": "wall", "invalid_utf8": "samples"}


@pytest.fixture(scope="module")
def profiles():
    return {
        "trace": trace_profile(),
        "sample": sample_profile(),
        "hostile": hostile_profile(),
        "invalid_utf8": _core.load(INVALID_UTF8_COLLAPSED, "collapsed"),
    }


def replaced(stacks):
    """Stacks with each byte that is not UTF-8 shown as U+FFFD, as JSON
    (escape.c) carries such names."""
    return {tuple(f.decode("utf-8", "replace").encode("utf-8") for f in k): v for k, v in stacks.items()}


def collapsed_of(data, clock):
    return parse_collapsed(data.collapsed(clock=clock))


def one_line_error(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ---- model JSON -------------------------------------------------------------


@pytest.mark.parametrize("name", ["trace", "sample", "hostile"])
def test_json_round_trip_is_exact(profiles, name):
    data = profiles[name]
    again = _core.load(data.json(), "json")
    assert again.json() == data.json()
    assert again.counts() == data.counts()
    assert again.meta() == data.meta()
    assert again.threads() == data.threads()
    assert collapsed_of(again, CLOCKS[name]) == collapsed_of(data, CLOCKS[name])


@pytest.mark.parametrize("name", list(CLOCKS))
def test_json_stacks_match_collapsed(profiles, name):
    """The JSON decoded in Python holds the stacks the collapsed writer
    writes, and so does the model read back from it."""
    data = profiles[name]
    clock = CLOCKS[name]
    weight = {"wall": "wall_ns", "samples": "samples"}[clock]
    convert = ns_to_us if clock == "wall" else None
    doc = load_json(data.json())
    expected = json_stacks(doc, weight, convert)
    assert expected, "no stacks"
    assert replaced(collapsed_of(data, clock)) == expected
    assert collapsed_of(_core.load(data.json(), "json"), clock) == expected


def test_hostile_names_stay_text(profiles):
    data = profiles["hostile"]
    text = data.json()
    assert b"</script" not in text.lower() and b"<script" not in text.lower()
    doc = load_json(text)
    for name in HOSTILE_NAMES:
        assert name in doc["strings"]
    again = _core.load(text, "json")
    assert set(HOSTILE_NAMES) <= {key[2] for key in again.pstats()}
    speedscope = data.speedscope()
    assert b"<" not in speedscope and b">" not in speedscope and b"&" not in speedscope
    assert set(HOSTILE_NAMES) <= {f["name"] for f in load_json(speedscope)["shared"]["frames"]}


def test_invalid_utf8_in_json_becomes_replacement_character(profiles):
    data = profiles["invalid_utf8"]
    again = _core.load(data.json(), "json")
    assert collapsed_of(again, "samples") == replaced(collapsed_of(data, "samples"))
    assert b"\xef\xbf\xbd" in again.collapsed(clock="samples")


def hand_made_model():
    """A model JSON written by hand from model_json.c's documented layout."""
    return {
        "format": "hotscope-profile", "version": 1,
        "meta": {"command": "python app.py", "python": "3.12.1"},
        "weights": ["calls", "wall_ns"],
        # The metadata and series names are strings of the model too, in the
        # order the reader interns them: the written file lists them so.
        "strings": ["", "MainThread", "main", "app.py", "work", "<built-in method builtins.len>", "~", "T2",
                    "command", "python app.py", "python", "3.12.1", "samples", "count", "rss_bytes", "bytes",
                    "alloc_bytes", "frees"],
        "frames": [[1, 0, 0, 0, "thread", "synthetic"], [2, 3, 1, 0, "python", "user"],
                   [4, 3, 5, 0, "python", "user"], [5, 6, 0, 0, "native", "native"],
                   [7, 0, 1, 0, "thread", "synthetic"]],
        "nodes": [0, 0, 0, 5,        # 1: thread MainThread
                  1, 1, 1, 100,      # 2: main
                  2, 2, 3, 700,      # 3: main;work
                  3, 3, 9, 45,       # 4: main;work;len
                  0, 4, 0, 0,        # 5: thread T2
                  5, 2, 2, 11],      # 6: T2;work
        "threads": [{"name": "MainThread", "os_tid": 11, "ident": 18446744073709551615, "root": 1,
                     "wall_ns": 900, "cpu_ns": 800},
                    {"name": "T2", "os_tid": 12, "ident": 2, "root": 5, "wall_ns": 20, "cpu_ns": 10}],
        "series": [{"name": "samples", "unit": "count", "thread": 0, "points": [0, 1, 1000, 3]},
                   {"name": "rss_bytes", "unit": "bytes", "thread": -1, "points": []}],
        "line_tables": [{"name": "alloc_bytes", "unit": "bytes", "rows": [1, 1000, 2, 24, 2, 8]},
                        {"name": "frees", "unit": "count", "rows": []}],
    }


def test_hand_made_model_json(profiles):
    doc = hand_made_model()
    data = _core.load(json.dumps(doc).encode(), "json")
    back = load_json(data.json())
    for frame in back["frames"]:
        frame.pop()  # the category is derived, not read
    for frame in doc["frames"]:
        frame.pop()
    assert back == doc
    assert data.threads()[0]["ident"] == 2 ** 64 - 1
    assert data.meta() == doc["meta"]
    assert json_stacks(back, "calls") == {
        (b"thread MainThread", b"main (app.py:1)"): 1,
        (b"thread MainThread", b"main (app.py:1)", b"work (app.py:5)"): 3,
        (b"thread MainThread", b"main (app.py:1)", b"work (app.py:5)", b"{built-in method builtins.len}"): 9,
        (b"thread T2", b"work (app.py:5)"): 2,
    }


def test_model_json_in_any_member_order():
    doc = hand_made_model()
    reordered = {k: doc[k] for k in reversed(list(doc))}
    a = _core.load(json.dumps(doc).encode(), "json")
    b = _core.load(json.dumps(reordered, indent=2).encode(), "json")
    assert a.json() == b.json()


def mutated(change):
    doc = hand_made_model()
    change(doc)
    return json.dumps(doc).encode()


def set_item(key, index, value):
    def change(doc):
        doc[key][index] = value
    return change


BAD_MODELS = [
    ("format missing", lambda d: d.pop("format"), "no \"format\""),
    ("another format", lambda d: d.update(format="other"), "not a hotscope profile"),
    ("newer version", lambda d: d.update(version=2), "version 2"),
    ("nodes missing", lambda d: d.pop("nodes"), "no \"nodes\""),
    ("nodes not an array", lambda d: d.update(nodes="x"), "expected an array"),
    ("frame id out of range", set_item("nodes", 5, 99), "frame id 99"),
    ("parent not earlier (a cycle)", set_item("nodes", 4, 2), "parent 2 is not an earlier node"),
    ("self parent", set_item("nodes", 8, 3), "parent 3 is not an earlier node"),
    ("negative parent", set_item("nodes", 4, -1), "parent -1"),
    ("record cut short", lambda d: d["nodes"].pop(), "ends inside a record"),
    ("string id out of range", lambda d: d["frames"][1].__setitem__(0, 50), "string id 50"),
    ("line out of int32", lambda d: d["frames"][1].__setitem__(2, 2 ** 40), "out of range"),
    ("unknown kind", lambda d: d["frames"][1].__setitem__(4, "martian"), "unknown frame kind"),
    ("frame too long", lambda d: d["frames"][1].append(1), "at most 6 items"),
    ("unknown weight", lambda d: d["weights"].__setitem__(0, "joules"), "unknown weight"),
    ("weight twice", lambda d: d["weights"].__setitem__(0, "wall_ns"), "listed twice"),
    ("thread root out of range", lambda d: d["threads"][0].update(root=77), "root 77"),
    ("thread root not under the root", lambda d: d["threads"][0].update(root=2), "root 2"),
    ("thread without name", lambda d: d["threads"][0].pop("name"), "no \"name\""),
    ("weight not an integer", set_item("nodes", 3, 1.5), "expected an integer"),
    ("weight too big", set_item("nodes", 3, 2 ** 64), "64-bit range"),
    ("series thread", lambda d: d["series"][0].update(thread=5), "thread 5"),
    ("series points odd", lambda d: d["series"][0]["points"].pop(), "pairs"),
    ("line table frame", lambda d: d["line_tables"][0]["rows"].__setitem__(0, 99), "frame 99"),
    ("line table rows odd", lambda d: d["line_tables"][0]["rows"].pop(), "pairs"),
    ("line table without unit", lambda d: d["line_tables"][0].pop("unit"), "needs"),
    ("meta value not a string", lambda d: d["meta"].update(command=3), "expected a string"),
    ("strings not strings", lambda d: d["strings"].__setitem__(2, None), "expected a string"),
]


@pytest.mark.parametrize("what,change,message", BAD_MODELS, ids=[b[0] for b in BAD_MODELS])
def test_bad_model_json(what, change, message):
    with pytest.raises(ValueError) as e:
        _core.load(mutated(change), "json")
    assert message in one_line_error(e)


GOOD = json.dumps(hand_made_model()).encode()

BAD_JSON = [
    ("truncated", GOOD[: len(GOOD) // 2], "at byte"),
    ("empty", b"", "expected a JSON object"),
    ("trailing comma", GOOD.replace(b'"frees"]', b'"frees",]'), "expected a value, found ']'"),
    ("leading zero", GOOD.replace(b'"version": 1', b'"version": 01'), "expected ',' or '}'"),
    ("trailing garbage", GOOD + b" x", "the end of the input"),
    ("duplicate member", GOOD[:-1] + b', "nodes": []}', "appears twice"),
    ("unpaired surrogate", GOOD.replace(b'"main"', b'"\\ud800x"'), "unpaired surrogate"),
    ("bad escape", GOOD.replace(b'"main"', b'"\\x41"'), "invalid escape"),
    ("raw control character", GOOD.replace(b'"main"', b'"a\x01b"'), "control character"),
    ("invalid UTF-8", GOOD.replace(b'"main"', b'"\xff"'), "invalid UTF-8"),
    ("overlong UTF-8", GOOD.replace(b'"main"', b'"\xc0\xaf"'), "invalid UTF-8"),
    ("encoded surrogate", GOOD.replace(b'"main"', b'"\xed\xa0\x80"'), "invalid UTF-8"),
    ("deep nesting", GOOD[:-1] + b', "extra": ' + b"[" * 10000 + b"]" * 10000 + b"}", "nesting deeper"),
    ("single quotes", GOOD.replace(b'"main"', b"'main'"), "expected"),
    ("NaN", GOOD.replace(b'"version": 1', b'"version": NaN'), "expected"),
    ("huge exponent", GOOD.replace(b'"version": 1', b'"version": 1e999'), "out of range"),
]


@pytest.mark.parametrize("what,text,message", BAD_JSON, ids=[b[0] for b in BAD_JSON])
def test_bad_json_syntax(what, text, message):
    with pytest.raises(ValueError) as e:
        _core.load(text, "json")
    assert message in one_line_error(e)


def test_json_escapes_decode():
    doc = hand_made_model()
    text = json.dumps(doc).encode()
    # A surrogate pair, a PEP 383 escape (byte 0xff), "1.0" and "1e0" as integers.
    text = text.replace(b'"main"', b'"m\\ud83d\\ude00\\udcff\\u00e9\\/\\t"')
    text = text.replace(b'"version": 1', b'"version": 1.0')
    text = text.replace(b"[0, 0, 0, 5,", b"[0, 0, 0e0, 5,")
    data = _core.load(text, "json")
    names = {k[2] for k in data.pstats()}
    assert "m\U0001f600\udcff\u00e9/\t" in names  # pstats() decodes bytes with surrogateescape
    # (collapsed output shows the tab as a space)
    assert b"m\xf0\x9f\x98\x80\xff\xc3\xa9/  (app.py:1)" in data.collapsed(clock="wall")


# ---- embedded in HTML and SVG -------------------------------------------------


def html_with(model, before=b"", after=b""):
    return (b"<!DOCTYPE html><html><head><script src='x.js'></script>" + before +
            b'<script type="application/json" id="hotscope-profile">' + model + b"</script>" + after +
            b"</head><body></body></html>")


def test_embedded_html(profiles):
    model = profiles["hostile"].json()
    data = _core.load(html_with(model), "html")
    assert data.json() == model


def test_embedded_svg_with_cdata_and_other_attribute_order(profiles):
    model = profiles["trace"].json()
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>var a = 1 < 2;</script>'
           b"<script id='hotscope-profile' type=\"application/json\"><![CDATA[\n" + model +
           b"\n]]></script><rect/></svg>")
    assert _core.load(svg, "svg").json() == model


def test_embedded_ends_with_its_root_closing_tag():
    """Complete documents: the closing root tag last, white space after it
    allowed, case as HTML allows; a fragment without a root is not judged."""
    for doc in (html_with(GOOD) + b"\r\n\n", html_with(GOOD).replace(b"</html>", b"</HTML >"),
                b'\xef\xbb\xbf<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">\n<svg><script id="hotscope-profile">'
                + GOOD + b"</script></svg>\n",
                b'<script id="hotscope-profile">' + GOOD + b"</script>"):
        assert _core.load(doc, "html").json() == _core.load(GOOD, "json").json()


@pytest.mark.parametrize("doc,message", [
    (html_with(b"{}").replace(b"hotscope-profile", b"other"), "no embedded hotscope profile"),
    (html_with(GOOD, after=b'<script id="hotscope-profile">' + GOOD + b"</script>"), "more than one"),
    (html_with(GOOD)[:200], "not closed"),
    (html_with(GOOD[:-5]), "embedded profile:"),
    (b"<html><script", "not closed"),
    # Cut after the model: the rest of the document is missing.
    (html_with(GOOD)[:-1], "truncated: the document ends before its closing </html>"),
    (html_with(GOOD)[:-len(b"</body></html>")], "truncated: the document ends before its closing </html>"),
    (b'<?xml version="1.0"?>\n<!-- c --><svg><script id="hotscope-profile">' + GOOD + b"</script><g></g>",
     "truncated: the document ends before its closing </svg>"),
    (b'<svg><script id="hotscope-profile">' + GOOD + b"</script></svg>\n<g>", "truncated"),
    # Cut before or inside the model: said too, where the document has a root.
    (html_with(GOOD)[:55], "truncated: the document ends before its closing </html> tag (no embedded"),
    (html_with(GOOD)[:65], "truncated: the document ends before its closing </html> tag (cut inside a <script>"),
    (html_with(GOOD)[:200], "truncated: the document ends before its closing </html> tag (cut inside the embedded"),
    (b"<script", "a <script> tag is not closed"),
])
def test_bad_embedded(doc, message):
    with pytest.raises(ValueError) as e:
        _core.load(doc, "html")
    assert message in one_line_error(e)


# ---- speedscope ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(CLOCKS))
def test_speedscope_validates_against_the_schema(profiles, name):
    doc = load_json(profiles[name].speedscope(clock=CLOCKS[name]))
    jsonschema.validate(doc, SCHEMA)


def test_schema_is_not_a_rubber_stamp(profiles):
    doc = load_json(profiles["trace"].speedscope())
    for breaks in (lambda d: d["profiles"][0].pop("weights"), lambda d: d["profiles"][0].update(unit="hours"),
                   lambda d: d["shared"]["frames"][0].pop("name"), lambda d: d.pop("$schema"),
                   lambda d: d["profiles"][0]["samples"].append(["0"])):
        broken = load_json(profiles["trace"].speedscope())
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize("name", list(CLOCKS))
def test_speedscope_holds_the_models_stacks(profiles, name):
    """The document, read by Python's json module, carries exactly the
    stacks and weights of the collapsed output."""
    data, clock = profiles[name], CLOCKS[name]
    doc = load_json(data.speedscope(clock=clock))
    stacks = speedscope_stacks(doc, ns_to_us if clock == "wall" else None)
    assert stacks == replaced(collapsed_of(data, clock))
    unit = {"wall": "nanoseconds", "samples": "none"}[clock]
    assert {p["unit"] for p in doc["profiles"]} == {unit}
    for p in doc["profiles"]:
        assert p["startValue"] == 0 and p["endValue"] == sum(p["weights"])
        assert all(w > 0 for w in p["weights"])


def test_speedscope_header(profiles):
    data = profiles["trace"]
    doc = load_json(data.speedscope())
    assert doc["exporter"] == "hotscope " + hotscope.__version__
    assert doc["name"] == data.meta()["command"]
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    thread_names = [t["name"] for t in data.threads()]
    assert [p["name"] for p in doc["profiles"]] == thread_names
    # Thread frames are profiles, never frames.
    assert not {f["name"] for f in doc["shared"]["frames"] if "file" not in f} & set(thread_names)
    busiest = max(range(len(doc["profiles"])), key=lambda i: sum(doc["profiles"][i]["weights"]))
    assert doc["activeProfileIndex"] == busiest


@pytest.mark.parametrize("name", list(CLOCKS))
def test_speedscope_round_trip(profiles, name):
    data, clock = profiles[name], CLOCKS[name]
    again = _core.load(data.speedscope(clock=clock), "speedscope")
    assert collapsed_of(again, clock) == replaced(collapsed_of(data, clock))
    names = [t["name"].encode("utf-8", "surrogateescape").decode("utf-8", "replace") for t in data.threads()]
    assert [t["name"] for t in again.threads()] == names


def foreign_speedscope():
    """A file as another tool might write it: profiles before shared, frames
    with columns, weights in milliseconds with fractions, an empty stack."""
    return {
        "exporter": "othertool@1.2",
        "profiles": [
            {"type": "sampled", "name": "one", "unit": "milliseconds", "startValue": 5, "endValue": 25,
             "samples": [[0, 1, 2], [0, 1, 2], [0, 1, 3], [0, 1], [], [4]],
             "weights": [1, 1.5, 4, 0.25, 2, 0.0005]},
            {"type": "sampled", "name": "two", "unit": "none", "startValue": 0, "endValue": 3,
             "samples": [[2, 2, 2]], "weights": [3]},
        ],
        "name": "foreign",
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "a", "file": "a.py", "line": 1, "col": 4}, {"name": "b", "file": "b.py"},
                              {"name": "c"}, {"name": "<built-in method len>", "file": "~"},
                              {"name": "d", "file": "d.py", "line": 9}]},
    }


def test_foreign_speedscope_sampled():
    doc = foreign_speedscope()
    jsonschema.validate(doc, SCHEMA)
    data = _core.load(json.dumps(doc).encode(), "speedscope")
    assert data.meta() == {"command": "foreign", "exporter": "othertool@1.2"}
    assert [(t["name"], t["wall_ns"]) for t in data.threads()] == [("one", 20000000), ("two", 0)]
    assert collapsed_of(data, "wall") == {
        (b"thread one", b"a (a.py:1)", b"b (b.py:0)", b"c"): 2500,
        (b"thread one", b"a (a.py:1)", b"b (b.py:0)", b"{built-in method len}"): 4000,
        (b"thread one", b"a (a.py:1)", b"b (b.py:0)"): 250,
        (b"thread one",): 2000,
        (b"thread one", b"d (d.py:9)"): 1,  # 500 ns: half a microsecond rounds up
    }
    assert collapsed_of(data, "samples") == {(b"thread two", b"c", b"c", b"c"): 3}


def evented_doc(events, unit="milliseconds"):
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": [{"name": "a", "file": "m.py", "line": 1}, {"name": "b", "file": "m.py", "line": 5},
                              {"name": "c", "file": "m.py", "line": 9}]},
        "profiles": [{"type": "evented", "name": "ev", "unit": unit, "startValue": 0, "endValue": 12,
                      "events": [{"type": t, "at": at, "frame": f} for t, at, f in events]}],
    }


EVENTS = [("O", 0, 0), ("O", 1, 1), ("O", 1.5, 1), ("C", 2, 1), ("C", 3, 1), ("O", 3, 2), ("C", 7, 2),
          ("O", 7, 2), ("C", 8, 2), ("C", 10, 0), ("O", 11, 2), ("C", 12, 2)]


def test_speedscope_evented():
    doc = evented_doc(EVENTS)
    jsonschema.validate(doc, SCHEMA)
    data = _core.load(json.dumps(doc).encode(), "speedscope")
    A, B, C = b"a (m.py:1)", b"b (m.py:5)", b"c (m.py:9)"
    T = b"thread ev"
    # Time on top of the stack, in microseconds: a 0-1 and 8-10, b 1-1.5
    # and 2-3, the recursive b 1.5-2, c 3-8 (two calls), c again 11-12.
    assert collapsed_of(data, "wall") == {
        (T, A): 3000, (T, A, B): 1500, (T, A, B, B): 500, (T, A, C): 5000, (T, C): 1000}
    calls = json_stacks(load_json(data.json()), "calls")
    assert calls == {(T, A): 1, (T, A, B): 1, (T, A, B, B): 1, (T, A, C): 2, (T, C): 1}
    assert data.total(clock="wall") == 11000000


@pytest.mark.parametrize("events,message", [
    ([("O", 0, 0), ("C", 1, 1)], "closes frame 1, but frame 0 is the one open"),
    ([("C", 1, 0)], "no frame is open"),
    ([("O", 0, 0), ("O", 1, 1), ("C", 2, 1)], "frame 0 is opened but never closed"),
    ([("O", 2, 0), ("C", 1, 0)], "goes back in time"),
    ([("O", 0, 3), ("C", 1, 3)], "frame 3 is not in"),
])
def test_bad_evented(events, message):
    with pytest.raises(ValueError) as e:
        _core.load(json.dumps(evented_doc(events)).encode(), "speedscope")
    assert message in one_line_error(e)


def speedscope_mutated(change):
    doc = foreign_speedscope()
    change(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("change,message", [
    (lambda d: d["profiles"][0]["weights"].pop(), "6 samples but 5 weights"),
    (lambda d: d["profiles"][0]["weights"].append(1), "6 samples but 7 weights"),
    (lambda d: d["profiles"][0]["samples"][0].append(5), "frame 5 is not in"),
    (lambda d: d["profiles"][0].update(unit="hours"), "unknown unit \"hours\""),
    (lambda d: d["profiles"][0].update(type="heap"), "type \"heap\""),
    (lambda d: d["profiles"][0].pop("unit"), "no \"unit\""),
    (lambda d: d["profiles"][0]["weights"].__setitem__(0, -1), "negative weight"),
    (lambda d: d["profiles"][0]["weights"].__setitem__(0, 1e300), "weight out of range"),
    (lambda d: d["shared"]["frames"][0].pop("name"), "has no \"name\""),
    (lambda d: d["shared"]["frames"][0].update(line="7"), "expected a number"),
    (lambda d: d.pop("shared"), "no \"shared\""),
    (lambda d: d["profiles"][0]["samples"].__setitem__(0, 0), "expected an array"),
])
def test_bad_speedscope(change, message):
    with pytest.raises(ValueError) as e:
        _core.load(speedscope_mutated(change), "speedscope")
    assert message in one_line_error(e)


# ---- collapsed ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CLOCKS))
def test_collapsed_round_trip(profiles, name):
    data, clock = profiles[name], CLOCKS[name]
    text = data.collapsed(clock=clock)
    again = _core.load(text, "collapsed")
    assert again.collapsed(clock=clock) == text
    if clock == "wall":
        assert text.startswith(b"# hotscope collapsed weight=wall_us\n")
        assert again.total(clock="wall") == 1000 * sum(parse_collapsed(text).values())


def test_collapsed_weight_header():
    data = _core.load(b"# hotscope collapsed weight=cpu_us\na;b 3\na 4\n", "collapsed")
    assert data.total(clock="cpu") == 7000 and data.total(clock="wall") == 0
    assert data.collapsed(clock="cpu") == b"# hotscope collapsed weight=cpu_us\nthread (collapsed);a 4\nthread (collapsed);a;b 3\n"
    with pytest.raises(ValueError, match="unknown weight \"joules\""):
        _core.load(b"# hotscope collapsed weight=joules\na 1\n", "collapsed")


def test_collapsed_from_other_tools():
    text = (b"# a comment\r\n"
            b"\r\n"
            b"main (app.py:10);work (app.py:20);{built-in method builtins.sum} 7  \r\n"
            b"main (app.py:10);work (app.py:20) 3\r\n"
            b"main (app.py:10);with space (my file.py:3);x (a (b:1) (c.py:2) 2\n"
            b"\n"
            b"P1234;T0:5678;app.py:main:10;lib/x.py:inner:44 6\n"
            b"perl_frame;[kernel] 1\n")
    data = _core.load(text, "collapsed")
    assert [t["name"] for t in data.threads()] == ["(collapsed)", "P1234 T0:5678"]
    keys = set(data.pstats(clock="samples"))
    assert {("app.py", 10, "main"), ("app.py", 20, "work"), ("~", 0, "<built-in method builtins.sum>"),
            ("my file.py", 3, "with space"), ("c.py", 2, "x (a (b:1)"), ("lib/x.py", 44, "inner")} <= keys
    assert collapsed_of(data, "samples") == {
        (b"thread (collapsed)", b"main (app.py:10)", b"work (app.py:20)", b"{built-in method builtins.sum}"): 7,
        (b"thread (collapsed)", b"main (app.py:10)", b"work (app.py:20)"): 3,
        (b"thread (collapsed)", b"main (app.py:10)", b"with space (my file.py:3)", b"x (a (b:1) (c.py:2)"): 2,
        (b"thread P1234 T0:5678", b"main (app.py:10)", b"inner (lib/x.py:44)"): 6,
        (b"thread (collapsed)", b"perl_frame", b"[kernel]"): 1,
    }


def test_collapsed_empty_stack_counts_at_the_root():
    # py-spy 0.4.3 writes samples with no Python frame as " N": they count
    # in the total and under no function, and are written back at the thread.
    data = _core.load(b"main;work 2\n 3\nmain 1\n", "collapsed")
    assert data.total(clock="samples") == 6
    assert {key[2] for key in data.pstats(clock="samples")} == {"main", "work"}
    assert collapsed_of(data, "samples") == {
        (b"thread (collapsed)",): 3, (b"thread (collapsed)", b"main"): 1, (b"thread (collapsed)", b"main", b"work"): 2}


def test_collapsed_huge_counts():
    top = 2 ** 63 - 1
    data = _core.load(b"a %d\n" % top, "collapsed")
    assert data.total(clock="samples") == top
    # Two lines that add up past int64 saturate instead of wrapping.
    data = _core.load(b"a %d\na %d\n" % (top, top), "collapsed")
    assert data.total(clock="samples") == top


@pytest.mark.parametrize("text,message", [
    (b"a;b 9223372036854775808\n", "line 1: count too large"),
    (b"# hotscope collapsed weight=wall_us\na 9223372036854776\n", "line 2: count too large"),
    (b"a;b 1\na;b\n", "line 2: expected"),
    (b"a;b 1.5\n", "line 1: expected"),
    (b"a;b -3\n", "line 1: expected"),
    (b"a;b; 3\n", "line 1: the stack ends with ';'"),
    (b"a 1\n\x00\x01 2\n", "line 2: binary data"),
    (b"", "empty file"),
    (b"# only a comment\n\n", "no stacks"),
])
def test_bad_collapsed(text, message):
    with pytest.raises(ValueError) as e:
        _core.load(text, "collapsed")
    assert message in one_line_error(e)


# ---- pstats -----------------------------------------------------------------------


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def leaf(n):
    return sum(range(n))


def via_a():
    return leaf(3000) + leaf(10)


def via_b():
    return leaf(200)


def workload():
    fib(12)
    is_even(30)
    for _ in range(3):
        via_a()
    via_b()
    sorted([3, 1, 2])


def assert_same_pstats(expected, got):
    """Calls (primitive and all) equal, tottime equal to the nanosecond."""
    assert set(got) == set(expected)
    for func, (cc, nc, tt, ct, callers) in expected.items():
        gcc, gnc, gtt, gct, _ = got[func]
        assert (gcc, gnc) == (cc, nc), func
        assert gtt == pytest.approx(tt, abs=1e-9), func


def cprofile_file(tmp_path, fn=workload, profiler=cProfile.Profile):
    prof = profiler()
    prof.runcall(fn)
    path = tmp_path / "x.prof"
    prof.dump_stats(str(path))
    return path


def test_foreign_cprofile_keeps_calls_and_tottime(tmp_path):
    path = cprofile_file(tmp_path)
    expected = pstats.Stats(str(path)).stats
    data = hotscope.load(str(path))
    assert data.meta()["stacks"] == "estimated from pstats callers"
    assert_same_pstats(expected, marshal.loads(data.prof()))
    # And what pstats itself makes of hotscope's file.
    out = tmp_path / "y.prof"
    out.write_bytes(data.prof())
    assert_same_pstats(expected, pstats.Stats(str(out)).stats)


def test_pstats_per_caller_figures_where_the_tree_is_certain(tmp_path):
    """leaf is called from via_a (twice per call) and via_b: each of its
    nodes gets exactly its caller's calls, as each caller has one caller."""
    path = cprofile_file(tmp_path)
    expected = pstats.Stats(str(path)).stats
    data = hotscope.load(str(path))
    stacks = json_stacks(load_json(data.json()), "calls")
    leaf_key = [k for k in expected if k[2] == "leaf"][0]
    by_caller = {caller[2]: figures[0] for caller, figures in expected[leaf_key][4].items()}
    assert by_caller == {"via_a": 6, "via_b": 1}
    got = {path_[-2].split(b" ")[0].decode(): n for path_, n in stacks.items() if path_[-1].startswith(b"leaf ")}
    assert got == by_caller


def test_pstats_recursion_keeps_primitive_calls(tmp_path):
    path = cprofile_file(tmp_path, lambda: (fib(15), is_even(40)))
    expected = pstats.Stats(str(path)).stats
    fib_key = [k for k in expected if k[2] == "fib"][0]
    assert expected[fib_key][:2] == (1, 1973)
    data = hotscope.load(str(path))
    assert_same_pstats(expected, marshal.loads(data.prof()))


def test_profile_module_files(tmp_path):
    """Lib/profile.py writes each caller as a bare call count."""
    path = cprofile_file(tmp_path, profiler=pyprofile.Profile)
    expected = pstats.Stats(str(path)).stats
    assert any(isinstance(v, int) for f in expected.values() for v in f[4].values())
    data = hotscope.load(str(path))
    assert_same_pstats(expected, marshal.loads(data.prof()))


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_pstats_every_marshal_version(tmp_path, version):
    stats = pstats.Stats(str(cprofile_file(tmp_path))).stats
    data = _core.load(marshal.dumps(stats, version), "pstats")
    assert_same_pstats(stats, marshal.loads(data.prof()))


def test_hotscope_prof_round_trip(profiles):
    prof = profiles["trace"].prof()
    data = _core.load(prof, "pstats")
    assert_same_pstats(marshal.loads(prof), marshal.loads(data.prof()))
    assert data.meta()["stacks"] == "estimated from pstats callers"


def test_pstats_of_many_paths_stays_bounded():
    """40 layers of 2 functions, each calling both of the next layer: 2^40
    paths. The tree is cut, the functions' figures still exact."""
    stats = {}
    layers = 40
    for layer in range(layers):
        for k in range(2):
            key = ("g.py", layer * 2 + k + 1, "f%d_%d" % (layer, k))
            callers = {}
            if layer:
                for j in range(2):
                    callers[("g.py", (layer - 1) * 2 + j + 1, "f%d_%d" % (layer - 1, j))] = (
                        2 ** (layer - 1), 2 ** (layer - 1), 0.001 * 2 ** (layer - 1), 0.002 * 2 ** (layer - 1))
            stats[key] = (2 ** layer, 2 ** layer, 0.002 * 2 ** layer, 0.004 * 2 ** layer, callers)
    data = _core.load(marshal.dumps(stats), "pstats")
    assert data.counts()["nodes"] < 1100000
    assert_same_pstats(stats, marshal.loads(data.prof()))


def marshal_of(obj):
    return marshal.dumps(obj)


GOOD_STATS = {("a.py", 1, "f"): (1, 1, 0.5, 0.5, {})}


@pytest.mark.parametrize("data,message", [
    (marshal_of(GOOD_STATS)[:-3], "ends in the middle"),
    (marshal_of([1, 2]), "a list, not a dict"),
    (marshal_of({("a.py", 1, "f"): (1, 1, 0.5)}), "not (cc, nc, tt, ct, callers)"),
    (marshal_of({("a.py", "1", "f"): (1, 1, 0.5, 0.5, {})}), "not a (file, line, name) tuple"),
    (marshal_of({("a.py", 1, "f"): (-1, 1, 0.5, 0.5, {})}), "not a call count"),
    (marshal_of({("a.py", 1, "f"): (1, 2 ** 70, 0.5, 0.5, {})}), "not a call count"),
    (marshal_of({("a.py", 1, "f"): (1, 1, float("nan"), 0.5, {})}), "not a time"),
    (marshal_of({("a.py", 1, "f"): (1, 1, 0.5, 0.5, {("b.py", 2, "g"): "x"})}), "a caller's figures"),
    (marshal_of(GOOD_STATS) + b"xx", "2 bytes left over"),
    (b"{)\x03c", "type code 'c' is not one pstats files use"),
    (b"{)\x03\xff", "unknown type code 0xff"),
    (b"{" + b"r\x05\x00\x00\x00", "invalid reference"),
    (b"{)\x03u\x02\x00\x00\x00\xff\xfe", "not valid UTF-8"),
    (b"(" + b"\xff\xff\xff\x7f", "longer than the data"),
    (b"", "empty file"),
])
def test_bad_pstats(data, message):
    with pytest.raises(ValueError) as e:
        _core.load(data, "pstats")
    assert message in one_line_error(e)


def test_pstats_undecodable_names_come_back_as_bytes():
    """hotscope's pstats writer turns bytes that are not UTF-8 into PEP 383
    escapes; the reader turns them back into the bytes."""
    data = _core.load(INVALID_UTF8_COLLAPSED, "collapsed")
    again = _core.load(data.prof(clock="samples"), "pstats")
    assert set(again.pstats()) == set(data.pstats(clock="samples"))
    assert b"w\xffork (lib.py:7)" in again.collapsed(clock="wall")


def test_speedscope_members_in_any_order():
    """Stacks before the unit and name, weights before the stacks, profiles
    before the frames: the same profile."""
    doc = foreign_speedscope()
    expected = _core.load(json.dumps(doc).encode(), "speedscope").json()
    for prof in doc["profiles"]:
        items = list(prof.items())
        prof.clear()
        prof.update(reversed(items))
    shuffled = {k: doc[k] for k in ("shared", "name", "profiles", "exporter", "$schema")}
    assert _core.load(json.dumps(shuffled).encode(), "speedscope").json() == expected
    ev = evented_doc(EVENTS)
    expected = _core.load(json.dumps(ev).encode(), "speedscope").json()
    ev["profiles"][0] = dict(reversed(list(ev["profiles"][0].items())))
    assert _core.load(json.dumps(ev).encode(), "speedscope").json() == expected
