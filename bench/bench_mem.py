"""Cost of `hotscope mem` against tracemalloc and memray, in one run.

Every measurement is a fresh process running this file with --child
WORKLOAD under one tool; the child times ONLY the workload with
time.perf_counter and time.process_time (tool start-up and report writing
are outside) and prints both: the CPU time leaves out the time spent
waiting for a core on a shared machine (it still moves with the load
through the caches the machine shares). Runs are interleaved (repeat -> workload -> mode);
medians over repeats. The output file each tool writes is measured too.

    python bench/bench_mem.py                         # .venvs/3.12 by default
    python bench/bench_mem.py --python .venvs/3.13/bin/python --repeat 7
    python bench/bench_mem.py --quick
    python bench/bench_mem.py --depth-cost             # hotscope's cost per frame of stack
    python bench/bench_mem.py --workloads alloc,mixed,native --modes none,memray-native,hotscope,hotscope-native
    python bench/bench_mem.py --python NEW/bin/python --base-python OLD/bin/python --modes none,hotscope-base,hotscope

Modes:
  none            unprofiled
  tracemalloc-1   python -X tracemalloc=1   (innermost frame only)
  tracemalloc-25  python -X tracemalloc=25  (25 frames)
  memray          memray run -o FILE.bin     (full Python stacks)
  memray-native   memray run --native        (+ native stacks)
  memray-pyalloc  memray run --trace-python-allocators: every allocation of
                  the Python allocators, as hotscope and tracemalloc record
                  them (plain memray only sees what pymalloc asks of malloc:
                  its 256 KiB arenas and blocks over 512 bytes)
  hotscope        hotscope mem -o FILE.json  (full Python stacks)
  hotscope-func   hotscope mem --func __main__:chosen_not_run: a function is
                  followed line by line, but never runs, so all the code
                  run is code that is not chosen (what it pays for another
                  function being chosen)
  hotscope-func-work  hotscope mem --func __main__:alloc --func __main__:mixed:
                  the workload itself is chosen (every free of it reads the
                  stack to charge its lines)
  hotscope-native hotscope mem --native: malloc and friends too, with
                  native frames (the program runs with the interposer)
  hotscope-base   hotscope mem as `hotscope`, but with the interpreter given
                  by --base-python (another venv of the same Python with
                  another build of hotscope, e.g. main's): before and after
                  side by side in one run
Workloads (all run 20 frames deep, so stack depth costs what it costs):
  alloc    allocation-heavy: small lists, dicts, strings and tuples made
           and dropped in a tight loop
  mixed    an application-like mix: parsing and building JSON, sorting,
           arithmetic on objects, string formatting
  native   C libraries allocating with malloc (not in the default list):
           SQLite in memory (inserts, an index, queries; it runs without
           the GIL) and OpenSSL digests through hashlib
memray must be installed in the interpreter (pip install memray).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = ["alloc", "mixed"]
ALL_WORKLOADS = WORKLOADS + ["native"]
MODES = ["none", "tracemalloc-1", "tracemalloc-25", "memray", "memray-native", "memray-pyalloc",
         "hotscope", "hotscope-func", "hotscope-func-work", "hotscope-native"]
# not in the default list: needs --base-python
EXTRA_MODES = ["hotscope-base"]
DEPTH = 20


# ---- workloads ------------------------------------------------------------------

def alloc(scale):
    total = 0
    for i in range(int(300_000 * scale)):
        row = [i, str(i), (i, i + 1)]
        d = {"id": i, "name": row[1], "pair": row[2]}
        total += len(d) + len(row[1])
    return total


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def dist2(self, other):
        dx = self.x - other.x
        dy = self.y - other.y
        return dx * dx + dy * dy


def mixed(scale):
    total = 0
    for round_ in range(int(40 * scale)):
        records = [{"id": i, "name": "item-%d" % i, "score": (i * 7919) % 1000 / 10.0}
                   for i in range(500)]
        text = json.dumps(records)
        back = json.loads(text)
        back.sort(key=lambda r: (r["score"], r["id"]))
        points = [Point(r["id"] % 37, r["score"]) for r in back]
        origin = Point(0, 0)
        for p in points:
            total += int(p.dist2(origin)) % 97
        for i in range(3000):  # plain arithmetic, no allocation to speak of
            total = (total * 31 + i) % 1_000_003
        total += sum(len(r["name"]) for r in back[:100])
    return total


def native(scale):
    import hashlib
    import sqlite3

    total = 0
    for round_ in range(int(20 * scale)):
        db = sqlite3.connect(":memory:")
        db.execute("create table t (id integer primary key, name text, score real)")
        db.executemany("insert into t (name, score) values (?, ?)",
                       (("item-%d" % i, (i * 7919) % 1000 / 10.0) for i in range(2000)))
        db.execute("create index by_score on t (score)")
        for (count,) in db.execute("select count(*) from t where score between 10 and 60"):
            total += count
        for name, score in db.execute("select name, score from t order by score desc limit 50"):
            total += len(name)
        db.close()
        for i in range(2000):
            total += hashlib.sha256(b"%d" % i).digest()[0]
    return total


def chosen_not_run():
    """Chosen by the hotscope-func mode, never called."""
    return [bytearray(10)]


def nest(depth, fn, scale):
    if depth == 0:
        return fn(scale)
    return nest(depth - 1, fn, scale)


def child(workload, scale):
    fn = {"alloc": alloc, "mixed": mixed, "native": native}[workload]
    nest(DEPTH, fn, 0.05)  # warm up caches and imports
    start, cpu = time.perf_counter(), time.process_time()
    nest(DEPTH, fn, scale)
    print("SECONDS %.6f" % (time.perf_counter() - start))
    # CPU time as well: time the process spends waiting for a core on a
    # shared machine counts in the wall time but not here
    print("CPU %.6f" % (time.process_time() - cpu))


def depth_cost():
    """hotscope's added time per allocation (with its free) at stack depths
    0-100 (a loop making small lists, best of 5), and the slope: the cost
    of one frame; then the same with a function chosen for per-line
    figures that does not run (what code that is not chosen pays for it)."""
    import hotscope

    def work():
        for i in range(200_000):
            x = [i, i]  # noqa: F841 (one PyMem allocation for the items)

    def best(f, n=5):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times)

    added = {}
    for depth in (0, 25, 50, 100):
        t0 = best(lambda: nest(depth, lambda s: work(), 0))
        row = []
        for chosen in ((), (chosen_not_run,)):
            with hotscope.memory(*chosen) as m:
                t1 = best(lambda: nest(depth, lambda s: work(), 0))
            per_run = m._tracer.stats()["allocations"] / 5
            row.append((t1 - t0) * 1e9 / per_run)
        added[depth] = row
        print("depth %3d: unprofiled %.4f s; per allocation: hotscope +%.0f ns, "
              "with a function chosen that does not run +%.0f ns" % (depth, t0, row[0], row[1]))
    print("cost of one frame of stack per allocation: %.1f ns, with a function chosen %.1f ns"
          % ((added[100][0] - added[0][0]) / 100, (added[100][1] - added[0][1]) / 100))


# ---- the parent ---------------------------------------------------------------------

BASE_PYTHON = [None]  # --base-python, for the hotscope-base mode


def command(python, mode, workload, scale, out):
    me = [HERE, "--child", workload, "--scale", str(scale)]
    if mode == "none":
        return [python] + me, None
    if mode == "tracemalloc-1":
        return [python, "-X", "tracemalloc=1"] + me, None
    if mode == "tracemalloc-25":
        return [python, "-X", "tracemalloc=25"] + me, None
    if mode.startswith("memray"):
        path = os.path.join(out, "m.bin")
        native = {"memray": [], "memray-native": ["--native"],
                  "memray-pyalloc": ["--trace-python-allocators"]}[mode]
        return [python, "-m", "memray", "run", "-q", "-f", *native, "-o", path] + me, path
    if mode.startswith("hotscope"):
        path = os.path.join(out, "h.json")
        if mode == "hotscope-base":
            python, mode = BASE_PYTHON[0], "hotscope"
        chosen = {"hotscope": [], "hotscope-func": ["--func", "__main__:chosen_not_run"],
                  "hotscope-func-work": ["--func", "__main__:alloc", "--func", "__main__:mixed"],
                  "hotscope-native": ["--native"]}[mode]
        return [python, "-m", "hotscope", "mem", *chosen, "-o", path] + me, path
    raise ValueError(mode)


def measure(python, mode, workload, scale):
    with tempfile.TemporaryDirectory() as out:
        cmd, path = command(python, mode, workload, scale, out)
        started = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=out, timeout=900)
        wall = time.perf_counter() - started
        if r.returncode != 0:
            raise RuntimeError("%s %s failed: %s" % (mode, workload, r.stderr.strip()[-500:]))
        seconds = [float(line.split()[1]) for line in r.stdout.splitlines() if line.startswith("SECONDS ")]
        cpu = [float(line.split()[1]) for line in r.stdout.splitlines() if line.startswith("CPU ")]
        size = os.path.getsize(path) if path and os.path.exists(path) else 0
        return seconds[-1], cpu[-1], wall, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default=os.path.join(ROOT, ".venvs", "3.12", "bin", "python"))
    ap.add_argument("--base-python", metavar="PYTHON",
                    help="for the hotscope-base mode: the same Python with another build of hotscope")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true", help="repeat 2, scale 0.3")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="of %s" % ",".join(ALL_WORKLOADS))
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--depth-cost", action="store_true",
                    help="measure hotscope's cost per frame of stack depth (in this process)")
    ap.add_argument("--child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.depth_cost:
        depth_cost()
        return 0
    if opts.child:
        child(opts.child, opts.scale)
        return 0
    if opts.quick:
        opts.repeat, opts.scale = 2, 0.3
    modes = opts.modes.split(",")
    workloads = opts.workloads.split(",")
    unknown = [m for m in modes if m not in MODES + EXTRA_MODES]
    if unknown:
        ap.error("unknown mode %s (modes: %s)" % (unknown[0], ",".join(MODES + EXTRA_MODES)))
    if "hotscope-base" in modes:
        if not opts.base_python:
            ap.error("the hotscope-base mode needs --base-python")
        BASE_PYTHON[0] = os.path.abspath(opts.base_python)
    opts.python = os.path.abspath(opts.python)  # the children run in a temporary directory
    version = subprocess.run([opts.python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    times = {(w, m): [] for w in workloads for m in modes}
    cpus = {(w, m): [] for w in workloads for m in modes}
    walls = {(w, m): [] for w in workloads for m in modes}
    sizes = {}
    for rep in range(opts.repeat):
        for w in workloads:
            for m in modes:
                t, cpu, wall, size = measure(opts.python, m, w, opts.scale)
                times[(w, m)].append(t)
                cpus[(w, m)].append(cpu)
                walls[(w, m)].append(wall)
                sizes[(w, m)] = size
        print("repeat %d/%d done" % (rep + 1, opts.repeat), file=sys.stderr)
    print("Python %s, %d repeats, scale %s, workload %d frames deep; medians" % (
        version, opts.repeat, opts.scale, DEPTH))
    print("%-7s %-18s %10s %8s %10s %8s %10s %8s %12s" % (
        "work", "mode", "time (s)", "x none", "cpu (s)", "x none", "process", "x none", "output"))
    figures = []
    for w in workloads:
        base = statistics.median(times[(w, "none")]) if "none" in modes else None
        base_cpu = statistics.median(cpus[(w, "none")]) if "none" in modes else None
        base_wall = statistics.median(walls[(w, "none")]) if "none" in modes else None
        for m in modes:
            t = statistics.median(times[(w, m)])
            cpu = statistics.median(cpus[(w, m)])
            wall = statistics.median(walls[(w, m)])
            size = sizes[(w, m)]
            print("%-7s %-18s %10.3f %8s %10.3f %8s %10.3f %8s %12s" % (
                w, m, t, "%.2f" % (t / base) if base else "-",
                cpu, "%.2f" % (cpu / base_cpu) if base_cpu else "-", wall,
                "%.2f" % (wall / base_wall) if base_wall else "-",
                "%.1f KB" % (size / 1000) if size else "-"))
            figures.append({"workload": w, "mode": m, "seconds": t, "cpu_seconds": cpu,
                            "process_seconds": wall, "ratio": t / base if base else None,
                            "cpu_ratio": cpu / base_cpu if base_cpu else None,
                            "output_bytes": size})
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"python": version, "repeat": opts.repeat, "scale": opts.scale,
                       "figures": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
