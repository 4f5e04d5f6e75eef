"""The HTML report of a line profile: the model it embeds carries every
line's hits (equal to the interpreter's own line events) and the source
captured at record time, hostile source stays inside the JSON, and
`hotscope view` reads the report back into the same line profile.
(tests/test_browser_lines.py checks what the page draws from it.)"""
import inspect
import subprocess
import sys

import flamekit
import hotscope
from lineskit import TARGET, all_codes, load_target, made_without_source, model_counts, settrace_counts


def profile_target(tmp_path):
    """(module, made, settrace counts, LineProfile) for one run of the target."""
    mod = load_target(tmp_path)
    made = made_without_source()

    def run():
        mod.hot(10)
        mod.hot(4)
        mod.hostile()
        made(5)

    expected = settrace_counts(all_codes([mod.hot, mod.hostile, made]), run)
    with hotscope.lines(mod.hot, mod.hostile, made) as lp:
        run()
    return mod, made, expected, lp


def test_html_embeds_hits_and_source(tmp_path):
    mod, made, expected, lp = profile_target(tmp_path)
    out = tmp_path / "lines.html"
    lp.save(str(out))
    raw = out.read_bytes()
    doc = flamekit.embedded_model(raw)  # one element, and it parses: nothing closed it early
    assert doc["meta"]["engine"] == "lines"
    hits, times = model_counts(doc)
    assert hits == expected
    code = mod.hot.__code__
    assert hits[(code.co_filename, code.co_firstlineno, code.co_firstlineno + 2)] == 11 + 5  # the for line
    assert hits[(code.co_filename, code.co_firstlineno, code.co_firstlineno + 7)] == 2       # the sleep
    # The source of each function as it was when recorded; none for a file that is not there.
    for f in (mod.hot, mod.hostile):
        key = "source:%s:%d" % (f.__code__.co_filename, f.__code__.co_firstlineno)
        assert doc["meta"][key] == inspect.getsource(f).rstrip("\n")
    assert not [k for k in doc["meta"] if k.startswith("source:/nonexistent/")]
    # Hostile source is in the JSON only, escaped: no element it could open.
    tags = flamekit.html_tags(raw)
    assert tags.tags.get("script") == 2 and "img" not in tags.tags
    assert b"<img" not in raw and b"alert(1)</script>" not in raw


def test_view_reads_the_report_back_as_the_same_line_profile(tmp_path):
    _mod, _made, expected, lp = profile_target(tmp_path)
    html = tmp_path / "lines.html"
    lp.save(str(html))
    back = tmp_path / "back.txt"
    r = subprocess.run([sys.executable, "-m", "hotscope", "view", str(html), "-o", str(back)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert back.read_text() == lp.report()
    assert "(source not available)" in lp.report()


def test_cli_html_then_view(tmp_path):
    (tmp_path / "app.py").write_text(TARGET + "\nprofile(hot)\nprofile(hostile)\nhot(6)\nhostile()\n")
    r = subprocess.run([sys.executable, "-m", "hotscope", "lines", "-o", "app.html", "app.py"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "hotscope", "view", "app.html", "-o", "app.txt"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "app.txt").read_text()
    row = [line for line in text.splitlines() if line.rstrip().endswith("for i in range(n):")][0]
    assert row.split()[1] == "7"  # 6 iterations and the exit
    assert '    s = "</script><script>alert(1)</script>"' in text
