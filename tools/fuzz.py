"""make fuzz: coverage-guided fuzzing of every reader of saved profiles
with clang's libFuzzer, under AddressSanitizer (leaks included) and UBSan.

One fuzzer per reader, so coverage guides each into its own code:
tests/c/fuzz_readers.c built with HS_FUZZ_ONLY naming the reader (model
JSON, the JSON embedded in HTML/SVG, speedscope, collapsed, pstats and its
marshal decoder, hotscope's text reports: call tree, line report, memory
report), tests/c/fuzz_pprof.c (pprof, raw or gzip) and tests/c/fuzz_inflate.c
(raw DEFLATE, and gzip around it). Each runs for --seconds (FUZZ_SECONDS)
from its corpus tests/c/corpus/NAME/ (small seeds the tests write, plus every
input that once found a bug); what it discovers goes to build/fuzz/NAME/corpus
and whatever crashes, leaks or hangs to build/fuzz/NAME/ (crash-*, leak-*,
timeout-*, oom-*). Prints per fuzzer the executions and the coverage
libFuzzer reports; exits 1 if anything was found.

    python tools/fuzz.py [--seconds 60] [--only collapsed,text] [--jobs 1]
    python tools/fuzz.py --write-seeds     # (re)write the seed files, with hotscope importable

Needs clang with its fuzzer runtime (Debian: apt-get install clang).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "tests", "c", "corpus")

# name -> (harness, reader named by HS_FUZZ_ONLY or None)
TARGETS = {
    "json": ("fuzz_readers.c", "hs_read_model_json"),
    "embedded": ("fuzz_readers.c", "hs_read_embedded"),
    "speedscope": ("fuzz_readers.c", "hs_read_speedscope"),
    "collapsed": ("fuzz_readers.c", "hs_read_collapsed"),
    "pstats": ("fuzz_readers.c", "hs_read_pstats"),
    "text": ("fuzz_readers.c", "hs_read_text_tree"),
    "lines": ("fuzz_readers.c", "hs_read_lines_text"),
    "mem": ("fuzz_readers.c", "hs_read_mem_text"),
    "pprof": ("fuzz_pprof.c", None),
    "inflate": ("fuzz_inflate.c", None),
}

CFLAGS = ["-std=gnu11", "-g", "-O1", "-fno-omit-frame-pointer", "-DHS_LIBFUZZER",
          "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]
SEED_MAX = 8192  # bytes: small seeds keep executions fast


def sources():
    sys.path.insert(0, HERE)
    import embed_assets  # the report's assets as C (src/render/assets_gen.c)

    embed_assets.write()
    found = []
    for sub in ("model", "render", "codec", "read"):
        folder = os.path.join(ROOT, "src", sub)
        found += sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".c"))
    return found


def compile_objects(out, clang):
    """src/ compiled once for every fuzzer (only the harness differs)."""
    objects = []
    obj_dir = os.path.join(out, "obj")
    os.makedirs(obj_dir, exist_ok=True)
    for src in sources():
        obj = os.path.join(obj_dir, os.path.relpath(src, ROOT).replace(os.sep, "_")[:-2] + ".o")
        if not os.path.exists(obj) or os.path.getmtime(obj) < max(os.path.getmtime(src), os.path.getmtime(__file__)):
            proc = subprocess.run([clang] + CFLAGS + ["-c", "-o", obj, src], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit("compiling %s failed:\n%s" % (src, proc.stderr[-4000:]))
        objects.append(obj)
    return objects


def build(name, out_dir, clang, objects):
    harness, reader = TARGETS[name]
    exe = os.path.join(out_dir, "fuzz_" + name)
    cmd = [clang] + CFLAGS + (["-DHS_FUZZ_ONLY=" + reader] if reader else [])
    cmd += ["-o", exe, os.path.join(ROOT, "tests", "c", harness)] + objects + ["-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit("building the %s fuzzer failed:\n%s" % (name, proc.stderr[-4000:]))
    return exe


def run(name, exe, out_dir, seconds):
    work = os.path.join(out_dir, "corpus")
    os.makedirs(work, exist_ok=True)
    seeds = os.path.join(CORPUS, name)
    cmd = [exe, "-max_total_time=%d" % seconds, "-print_final_stats=1", "-timeout=20",
           "-rss_limit_mb=2048", "-artifact_prefix=" + out_dir + "/", work, seeds]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    artifact = ("crash-", "leak-", "timeout-", "oom-")
    earlier = {f for f in os.listdir(out_dir) if f.startswith(artifact)}
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = proc.stderr
    with open(os.path.join(out_dir, "log.txt"), "w") as f:
        f.write(log)
    stats = dict(re.findall(r"^stat::(\w+):\s+(\d+)", log, re.M))
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/", log)
    found = sorted(f for f in os.listdir(out_dir) if f.startswith(artifact) and f not in earlier)
    return {
        "name": name,
        "seconds": time.monotonic() - start,
        "runs": int(stats.get("number_of_executed_units", 0)),
        "per_second": int(stats.get("average_exec_per_sec", 0)),
        "cov": int(cov[-1][0]) if cov else 0,
        "ft": int(cov[-1][1]) if cov else 0,
        "corpus": int(cov[-1][2]) if cov else 0,
        "found": found,
        "status": proc.returncode,
    }


def first_error(out_dir):
    """The line of the fuzzer's log that says what went wrong."""
    with open(os.path.join(out_dir, "log.txt"), errors="replace") as f:
        for line in f:
            if "ERROR" in line or "runtime error" in line or "DEADLYSIGNAL" in line:
                return line.strip()
    return "no error line in the log"


def write_seeds():
    """The seed files, from what the tests write (tests/test_c_readers.py,
    test_c_codec.py), cut to SEED_MAX at a line end where they are longer."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import gzip

    from test_c_readers import seeds

    by_reader = {
        "json": ["model.json"], "embedded": ["embedded.html"],
        "speedscope": ["sampled.speedscope.json", "evented.speedscope.json"],
        "collapsed": ["wall.collapsed", "foreign.collapsed"], "pstats": ["hotscope.prof", "refs.prof", "old.prof"],
        "text": ["report.txt", "tree-ascii.txt"], "lines": ["lines.txt"], "mem": ["mem.txt"],
    }
    blobs = seeds()
    # The formats written from a profile, again from a smaller one (a
    # builtin, a library call, a callback), so they fit in SEED_MAX.
    import json

    import hotscope

    def leaf(n):
        return sum(range(n))

    with hotscope.trace() as t:
        json.dumps([leaf(5)])
        sorted(range(3), key=leaf)
    small = t.snapshot()
    blobs.update({
        "model.json": small.json(),
        "embedded.html": b'<html><script type="application/json" id="hotscope-profile">' + small.json()
                         + b"</script></html>",
        "sampled.speedscope.json": small.speedscope(),
        "hotscope.prof": small.prof(),
    })
    written = {name: {n: blobs[n] for n in names} for name, names in by_reader.items()}
    pb_gz = small.pprof()
    written["pprof"] = {"traced.pb.gz": pb_gz, "traced.pb": gzip.decompress(pb_gz)}
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    text = blobs["report.txt"][:4000]
    written["inflate"] = {"dynamic.deflate": raw.compress(text) + raw.flush(),
                          "fixed.deflate": zlib.compress(b"abcabcabc" * 20, 9)[2:-4],
                          "stored.deflate": b"\x01\x05\x00\xfa\xffhello"}
    for name, files in written.items():
        folder = os.path.join(CORPUS, name)
        os.makedirs(folder, exist_ok=True)
        for file_name, data in files.items():
            if len(data) > SEED_MAX:
                if name not in ("collapsed", "text", "mem", "lines"):
                    continue
                data = data[:data.rfind(b"\n", 0, SEED_MAX) + 1]
            with open(os.path.join(folder, "seed-" + file_name), "wb") as f:
                f.write(data)
        print("%-10s %d seed files" % (name, len(files)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")),
                    help="how long each fuzzer runs (default: FUZZ_SECONDS or 60)")
    ap.add_argument("--only", default="", help="comma-separated fuzzers (default: all: %s)" % ", ".join(TARGETS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz"), help="work directory")
    ap.add_argument("--write-seeds", action="store_true", help="write the seed corpora and stop")
    opts = ap.parse_args()
    if opts.write_seeds:
        write_seeds()
        return 0
    clang = shutil.which("clang")
    if not clang:
        sys.exit("make fuzz needs clang with libFuzzer (Debian: apt-get install clang)")
    names = [n for n in opts.only.split(",") if n] or list(TARGETS)
    for n in names:
        if n not in TARGETS:
            sys.exit("unknown fuzzer %r (one of: %s)" % (n, ", ".join(TARGETS)))
    results = []
    objects = compile_objects(opts.out, clang)
    for name in names:
        out_dir = os.path.join(opts.out, name)
        os.makedirs(out_dir, exist_ok=True)
        exe = build(name, out_dir, clang, objects)
        r = run(name, exe, out_dir, opts.seconds)
        if r["status"] and not r["found"]:
            # The fuzzer failed with no input to blame (seen once in CI,
            # not reproduced: the sanitizer runtime failing to start is
            # the known cause of that): its first error line, and once more.
            print("%-10s exit %d with nothing found: %s; running it again" % (
                name, r["status"], first_error(out_dir)), flush=True)
            r = run(name, exe, out_dir, opts.seconds)
        results.append(r)
        print("%-10s %9d runs %7d/s  cov %5d  ft %6d  corpus %5d  %s" % (
            name, r["runs"], r["per_second"], r["cov"], r["ft"], r["corpus"],
            ("FOUND: %s: %s" % (", ".join(os.path.join(out_dir, f) for f in r["found"]), first_error(out_dir)))
            if r["found"]
            else ("exit %d, see %s/log.txt: %s" % (r["status"], out_dir, first_error(out_dir)) if r["status"]
                  else "nothing found")),
            flush=True)
    bad = [r for r in results if r["found"] or r["status"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
