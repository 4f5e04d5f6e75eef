"""Render bench: 1,000,000 samples over 100,000 distinct stacks, written to
every format hotscope has, timed and sized; then py-spy's own flame graph
writer against hotscope's on one recorded program.

    python bench/bench_render.py [--pyspy-seconds S] [--rate HZ] [--repeats N] [--no-pyspy]

1. tests/c/flame_fixtures.c builds the profile with the model API (a fixed
   pseudo-random generator: the same 100,000 stacks on every run, 200,000
   nodes, up to ~50 frames deep) and times each C renderer on it: svg, html,
   collapsed, prof, txt (pstats table + call tree).
2. If hotscope._core.load exists (the readers), the same stacks are loaded
   from the collapsed file and rendered through ProfileData's methods,
   every format whose method exists (svg, html, collapsed, prof, txt, and
   speedscope / pprof / dot when present).
3. py-spy 0.4 cannot render a collapsed file, so both tools record one
   generated program with many distinct stacks at the same rate; the
   figure compared is the time from the program's exit to the tool's exit:
   what each spends turning its samples into an SVG file.
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


def c_bench(work):
    exe = flamekit.build_fixtures(work)
    lines = flamekit.run_fixture(exe, "big", work)
    print("== 1,000,000 samples over 100,000 distinct stacks, C renderers (tests/c/flame_fixtures.c)")
    for line in lines:
        name, seconds, size = line.split()
        if name == "build":
            print("  %-10s %7.3f s   (%s nodes)" % ("model", float(seconds), size))
        else:
            print("  %-10s %7.3f s   %8.2f MB" % (name, float(seconds), int(size) / MB))


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, len(out)


def python_bench(work):
    from hotscope import _core
    if not hasattr(_core, "load"):
        print("== through ProfileData: skipped, this build has no _core.load (the readers)")
        return
    data = (work / "big.collapsed").read_bytes()
    start = time.perf_counter()
    profile = _core.load(data, "collapsed")
    print("== the same stacks loaded with _core.load (%.3f s), through ProfileData" % (time.perf_counter() - start))
    clock = "samples"
    formats = [
        ("svg", lambda: profile.svg(clock=clock)),
        ("html", lambda: profile.html(clock=clock)),
        ("collapsed", lambda: profile.collapsed(clock=clock)),
        ("prof", lambda: profile.prof(clock=clock)),
        ("txt", lambda: profile.table(clock=clock) + profile.tree(clock=clock)),
    ]
    for name in ("speedscope", "pprof", "dot"):
        method = getattr(profile, name, None)
        if method is not None:
            formats.append((name, lambda m=method: m(clock=clock)))
    for name, fn in formats:
        try:
            seconds, size = timed(fn)
        except Exception as e:  # a renderer refusing this profile: say so
            print("  %-10s error: %s" % (name, e))
            continue
        print("  %-10s %7.3f s   %8.2f MB" % (name, seconds, size / MB))


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
    if hasattr(_core, "load"):
        profile = _core.load(raw.read_bytes(), "collapsed")
        seconds_svg, size = timed(lambda: profile.svg(clock="samples"))
        print("  hotscope svg of py-spy's own stacks (raw output loaded): %.3f s, %.2f MB" % (seconds_svg, size / MB))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyspy-seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--no-pyspy", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotscope-bench-render-") as tmp:
        work = Path(tmp)
        c_bench(work)
        python_bench(work)
        if not args.no_pyspy:
            pyspy_bench(work, args.pyspy_seconds, args.rate, args.repeats)


if __name__ == "__main__":
    main()
