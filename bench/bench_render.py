"""Render bench: 1,000,000 samples over 100,000 distinct stacks, written to
every format hotscope has and read back, timed and sized, for three shapes
of profile; then py-spy's own flame graph writer against hotscope's on one
recorded program.

    python bench/bench_render.py [--shapes realistic,shared,random] [--no-python]
                                 [--pyspy-seconds S] [--rate HZ] [--repeats N] [--no-pyspy]

The shapes (tests/c/big_profiles.c builds them; what each renderer walks
is the call tree, one node per distinct call path, so what matters is how
much the stacks share):
  realistic  stacks drawn from the call graph of a made-up server program
             (threads' main loops, a framework, 400 handlers, 2,000 app
             functions, a library, the standard library, builtins), 15-40
             frames deep; ~600,000 nodes: about 6 new nodes per stack
  shared     the bench's first fixture, a random recursive tree: ~200,000
             nodes, kinder than real programs
  random     every stack a random sequence of 5-40 functions: ~2.2 million
             nodes, the worst case

1. tests/c/flame_fixtures.c builds each profile with the model API and
   times each C renderer on it: svg, html, json, speedscope, pprof,
   collapsed, prof, dot, and the three text reports (the pstats table,
   the call tree, the pyinstrument-style tree).
2. The same stacks are loaded from the collapsed file (the collapsed
   reader) and rendered through ProfileData's methods; each file written
   is then read back with the reader of its format.
3. py-spy 0.4 cannot render a collapsed file, so both tools record one
   generated program with many distinct stacks at the same rate; the
   figure compared is the time from the program's exit to the tool's exit:
   what each spends turning its samples into an SVG file.
Times are one run each (steps 1-2) on whatever machine this is: on a
shared 2-core VM they move by 20-50% from run to run.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import flamekit  # noqa: E402

MB = 1024 * 1024
SHAPES = ("realistic", "shared", "random")

# A program that calls through generated functions along pseudo-random
# paths, so a sampler sees many distinct stacks (7 levels of 12 callees).
MANY_STACKS = '''
import random, sys, time
SECONDS = float(sys.argv[1])
DEPTH, WIDTH = 7, 12
random.seed(7)
source = []
for i in range(WIDTH):
    source.append("def f%d(path, d):\\n    if d < len(path):\\n        return F[path[d]](path, d + 1)\\n"
                  "    x = 0\\n    for _ in range(300):\\n        x += 1\\n    return x\\n" % i)
namespace = {}
exec("\\n".join(source), namespace)
F = namespace["F"] = [namespace["f%d" % i] for i in range(WIDTH)]
end = time.time() + SECONDS
while time.time() < end:
    path = [random.randrange(WIDTH) for _ in range(DEPTH)]
    for _ in range(20):
        F[path[0]](path, 1)
with open(sys.argv[2], "w") as f:
    f.write(repr(time.time()))
'''


def c_bench(exe, work, shape, results):
    """Runs the C renderers on one shape; returns the folder of its files
    and the profile's node count."""
    out = work / shape
    out.mkdir()
    lines = flamekit.run_fixture(exe, "big", out, shape=shape)
    print("== %s: C renderers (tests/c/flame_fixtures.c big %s)" % (shape, shape))
    nodes = 0
    for line in lines:
        if line.startswith("#"):
            print("  " + line[2:])
            continue
        name, seconds, size = line.split()
        if name == "build":
            nodes = int(size)
            print("  %-12s %7.3f s   (%s nodes)" % ("model", float(seconds), size))
        else:
            print("  %-12s %7.3f s   %8.2f MB" % (name, float(seconds), int(size) / MB))
            results[("C", name, shape)] = (float(seconds), int(size))
    return out, nodes


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def python_bench(files, shape, results):
    from hotscope import _core

    data = (files / "big.collapsed").read_bytes()
    seconds, profile = timed(lambda: _core.load(data, "collapsed"))
    results[("read", "collapsed", shape)] = (seconds, len(data))
    counts = profile.counts() if hasattr(profile, "counts") else {}
    print("== %s: loaded from big.collapsed with _core.load in %.3f s (%s), through ProfileData"
          % (shape, seconds, ", ".join("%s %s" % kv for kv in sorted(counts.items())) or "?"))
    clock = "samples"
    formats = [
        ("svg", "html", lambda: profile.svg(clock=clock)),
        ("html", "html", lambda: profile.html(clock=clock)),
        ("json", "json", lambda: profile.json()),
        ("speedscope", "speedscope", lambda: profile.speedscope(clock=clock)),
        ("pprof", "pprof", lambda: profile.pprof()),
        ("collapsed", "collapsed", lambda: profile.collapsed(clock=clock)),
        ("prof", "pstats", lambda: profile.prof(clock=clock)),
        ("dot", None, lambda: profile.dot(clock=clock)),
        ("table", None, lambda: profile.table(clock=clock)),
        ("calltree", None, lambda: profile.tree(clock=clock)),
        ("texttree", None, lambda: profile.text_tree(clock=clock)),
    ]
    written = {}
    for name, reader, fn in formats:
        try:
            seconds, out = timed(fn)
        except Exception as e:  # a renderer refusing this profile: say so
            print("  %-12s error: %s" % (name, e))
            continue
        size = len(out.encode() if isinstance(out, str) else out)
        results[("py", name, shape)] = (seconds, size)
        print("  %-12s %7.3f s   %8.2f MB" % (name, seconds, size / MB))
        if reader:
            written[name] = (reader, out)
    for name, (reader, out) in written.items():
        load = _core.load_pprof if reader == "pprof" else (lambda d, r=reader: _core.load(d, r))
        try:
            seconds, _ = timed(lambda: load(out))
        except Exception as e:
            print("  %-16s error: %s" % ("read " + name, e))
            continue
        results[("read", name, shape)] = (seconds, len(out))
        print("  %-16s %7.3f s" % ("read " + name, seconds))


def summary(results, shapes, nodes):
    """One Markdown table: every step's seconds (and size) per shape."""
    print("\n== summary (seconds; size in MB)\n")
    print("| | " + " | ".join("%s (%s nodes)" % (s, nodes.get(s, "?")) for s in shapes) + " |")
    print("| --- |" + " ---: |" * len(shapes))
    seen = []
    for key in results:
        if key[:2] not in seen:
            seen.append(key[:2])
    for kind, name in seen:
        label = {"C": name, "py": "%s (ProfileData)" % name, "read": "read %s" % name}[kind]
        cells = []
        for s in shapes:
            if (kind, name, s) not in results:
                cells.append("")
                continue
            seconds, size = results[(kind, name, s)]
            cells.append("%.2f" % seconds if kind == "read" else "%.2f (%.1f)" % (seconds, size / MB))
        print("| %s | %s |" % (label, " | ".join(cells)))


def tail_seconds(cmd, marker, cwd):
    """Runs a recorder; returns (seconds from the program's exit, which it
    writes to `marker`, to the recorder's exit; the recorder's output)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)
    done = time.time()
    if proc.returncode != 0 or not marker.exists():
        raise RuntimeError("%s failed: %s" % (cmd[0], proc.stderr[-500:]))
    return done - float(marker.read_text()), proc


def pyspy_bench(work, seconds, rate, repeats=3):
    pyspy = shutil.which("py-spy") or "/work/main/.venvs/3.12/bin/py-spy"
    if not os.path.exists(pyspy):
        print("== py-spy: not found; pip install py-spy to compare")
        return
    version = subprocess.run([pyspy, "--version"], capture_output=True, text=True).stdout.strip()
    program = work / "many_stacks.py"
    program.write_text(MANY_STACKS)
    print("== %s vs hotscope record: one program, %.0f s at %d Hz; seconds from the program's exit "
          "to the tool's exit (turning samples into the SVG, plus noticing the exit)" % (version, seconds, rate))
    rows = []
    # hotscope writing collapsed stacks: what its exit costs without the SVG.
    # Each figure is the median of `repeats` runs: one run is noisy.
    for tool in ("py-spy", "hotscope", "hotscope.collapsed") * repeats:
        marker = work / ("exit_%s" % tool)
        out = work / ("%s.svg" % tool if tool != "hotscope.collapsed" else tool)
        if tool == "py-spy":
            cmd = [pyspy, "record", "--rate", str(rate), "--format", "flamegraph", "-o", str(out), "--",
                   sys.executable, str(program), str(seconds), str(marker)]
        else:
            cmd = [sys.executable, "-m", "hotscope", "record", "--rate", str(rate), "-o", str(out), "--",
                   sys.executable, str(program), str(seconds), str(marker)]
        tail, _ = tail_seconds(cmd, marker, work)
        rows.append((tool, tail, out.stat().st_size))
    raw = work / "py-spy.raw"
    marker = work / "exit_raw"
    tail_seconds([pyspy, "record", "--rate", str(rate), "--format", "raw", "-o", str(raw), "--",
                  sys.executable, str(program), str(seconds), str(marker)], marker, work)
    stacks = len(raw.read_text().splitlines())
    for tool in ("py-spy", "hotscope", "hotscope.collapsed"):
        tails = sorted(tail for name, tail, _ in rows if name == tool)
        size = [size for name, _, size in rows if name == tool][-1]
        print("  %-18s %6.3f s (median of %d: %s)   %7.2f MB" % (
            tool, tails[len(tails) // 2], len(tails), " ".join("%.3f" % t for t in tails), size / MB))
    print("  (py-spy saw %d distinct stacks in its raw output of a run like it)" % stacks)
    from hotscope import _core
    profile = _core.load(raw.read_bytes(), "collapsed")
    seconds_svg, svg = timed(lambda: profile.svg(clock="samples"))
    print("  hotscope svg of py-spy's own stacks (raw output loaded): %.3f s, %.2f MB" % (seconds_svg, len(svg) / MB))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma-separated, of: %s (default: all)" % ", ".join(SHAPES))
    parser.add_argument("--no-python", action="store_true", help="the C renderers only")
    parser.add_argument("--pyspy-seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--no-pyspy", action="store_true")
    args = parser.parse_args()
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for s in shapes:
        if s not in SHAPES:
            parser.error("unknown shape %r (one of: %s)" % (s, ", ".join(SHAPES)))
    results, nodes = {}, {}
    with tempfile.TemporaryDirectory(prefix="hotscope-bench-render-") as tmp:
        work = Path(tmp)
        exe = flamekit.build_fixtures(work)
        for shape in shapes:
            files, count = c_bench(exe, work, shape, results)
            nodes[shape] = "{:,}".format(count)
            if not args.no_python:
                python_bench(files, shape, results)
            shutil.rmtree(files)  # the random shape's files take ~500 MB
        summary(results, shapes, nodes)
        if not args.no_pyspy:
            pyspy_bench(work, args.pyspy_seconds, args.rate, args.repeats)


if __name__ == "__main__":
    main()
