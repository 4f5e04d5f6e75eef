"""Shared by the flame graph and HTML report tests (test_flame.py,
test_browser.py) and bench/bench_render.py: building tests/c/flame_fixtures.c,
programs with a known structure to trace, and reading what the renderers
wrote with Python's own parsers."""

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import embed_assets  # noqa: E402

FLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Werror"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]


class BuildError(Exception):
    pass


def build_fixtures(out_dir, sanitize=False):
    """Compiles flame_fixtures.c with the model and the renderers; returns
    the executable's path."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise BuildError("no C compiler on PATH")
    embed_assets.write()
    # The renderers with what they use: the model, and the codecs (pprof's
    # gzip and protobuf writers live in src/codec).
    sources = ([ROOT / "tests" / "c" / "flame_fixtures.c", ROOT / "tests" / "c" / "big_profiles.c"] + sorted((ROOT / "src" / "model").glob("*.c"))
               + sorted((ROOT / "src" / "render").glob("*.c")) + sorted((ROOT / "src" / "codec").glob("*.c")))
    exe = Path(out_dir) / ("flame_fixtures_san" if sanitize else "flame_fixtures")
    attempts = [FLAGS + ["-O1", "-g"] + SANITIZERS, FLAGS + ["-O1", "-g"]] if sanitize else [FLAGS + ["-O2"]]
    errors = []
    for flags in attempts:
        proc = subprocess.run([cc, *flags, "-o", str(exe), *map(str, sources), "-lm"],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return exe
        errors.append(proc.stderr)
        if "sanitize" not in proc.stderr and "asan" not in proc.stderr:
            break
    raise BuildError("compiling flame_fixtures.c failed:\n" + "\n".join(errors))


def run_fixture(exe, kind, out_dir, timeout=300, shape=None):
    """Runs one fixture (`shape`: big's profile, see tests/c/big_profiles.h);
    returns its stdout lines."""
    cmd = [str(exe), kind, str(out_dir)] + ([shape] if shape else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError("flame_fixtures %s failed:\n%s%s" % (kind, proc.stdout, proc.stderr))
    return proc.stdout.splitlines()


# A program whose time splits 70/30 between work_a and work_b by
# construction: the same loop body, 7 and 3 units of iterations, no calls
# inside the loops (measure it on the CPU clock: the machine is shared). It also calls into the standard library (json.dumps
# calling back into `default`), so the call tree has library frames to hide.
SPLIT_PROGRAM = '''
import json
import sys

UNIT = 30000


def work_a():
    x = 0
    for i in range(7 * UNIT):
        x += 1
    return x


def work_b():
    x = 0
    for i in range(3 * UNIT):
        x += 1
    return x


def to_json(o):
    return 1


def main():
    # In turns, so a slower moment of a busy machine hits both alike.
    for _ in range(100):
        work_a()
        work_b()
    json.dumps([object()] * 5, default=to_json)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        UNIT = int(sys.argv[1])
    main()
'''

# Two threads with their own work: main_work in the main thread and
# thread_work in the thread named "T1".
THREADS_PROGRAM = '''
import threading


def thread_work():
    x = 0
    for i in range(400000):
        x += i
    return x


def main_work():
    x = 0
    for i in range(600000):
        x += i
    return x


t = threading.Thread(target=thread_work, name="T1")
t.start()
t.join()
main_work()
'''

HOSTILE_NAME = "<script>alert(1)</script>\"q'&amp;\nnl"
HOSTILE_FILE = "<script>alert(2)</script>&\"'\n.py"

# A function whose name and file name are markup, quotes, & and a newline:
# compiled with exec under a hostile file name, renamed through its code.
HOSTILE_PROGRAM = '''
NAME = %r
FILE = %r
SOURCE = "def hostile():\\n    x = 0\\n    for i in range(200000):\\n        x += i\\n    return x\\n"
namespace = {}
exec(compile(SOURCE, FILE, "exec"), namespace)
f = namespace["hostile"]
changes = {"co_name": NAME}
if hasattr(f.__code__, "co_qualname"):
    changes["co_qualname"] = NAME
f.__code__ = f.__code__.replace(**changes)
f.__name__ = f.__qualname__ = NAME


def calm():
    return f()


calm()
''' % (HOSTILE_NAME, HOSTILE_FILE)


def hotscope(*args, cwd=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "hotscope", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def trace_to(tmp_path, name, program_text, output, *program_args, options=()):
    """Writes the program as `name`, traces it with `hotscope trace
    [options] -o output`; returns the output path."""
    script = Path(tmp_path) / name
    script.write_text(program_text)
    out = Path(tmp_path) / output
    proc = hotscope("trace", *options, "-o", str(out), str(script), *program_args, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert out.exists(), proc.stderr
    return out


MODEL_RE = re.compile(rb'<script type="application/json" id="hotscope-profile">(.*?)</script>', re.S)


def embedded_model(data):
    """The model JSON a .svg or .html carries, parsed; exactly one element."""
    found = MODEL_RE.findall(data)
    assert len(found) == 1, "expected one hotscope-profile element, found %d" % len(found)
    return json.loads(found[0])


class ScriptCounter(HTMLParser):
    """Counts elements of an HTML document by tag, as a browser's parser
    would see them, and keeps the text of <title>."""

    def __init__(self):
        super().__init__()
        self.tags = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def html_tags(data):
    parser = ScriptCounter()
    parser.feed(data.decode("utf-8"))
    parser.close()
    return parser
