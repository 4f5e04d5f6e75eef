"""The cost of continuous profiling: `hotscope record --continuous` at 100 Hz
on a busy process, against the same process alone and under py-spy.

    python bench/bench_continuous.py                 # 20 s runs, 3 repeats: ~3.5 minutes
    python bench/bench_continuous.py --quick         # 5 s runs, 1 repeat
    python bench/bench_continuous.py --seconds 60 --repeat 2 --markdown

The target (this file with --target) spins on pure-Python work (the loop of
tests/targets/sample_split.py), waits for a line on stdin, then counts the
units of work it completes in S seconds and prints the count. Each run
starts a fresh target; the tool attaches with --pid and gets 2 seconds to
start before the measured window opens:

  none      the target alone
  hotscope  hotscope record --continuous --pid PID --push URL --rate 100
            (a profile every --upload-every seconds, default 10, to a
            receiver in this process that unpacks and counts each upload)
  py-spy    py-spy record --rate 100 --nonblocking --pid PID (if installed
            next to the interpreter or on PATH; its profile goes to a file)

Figures, median over the repeats (runs interleaved: repeat -> tool):
  tool CPU     user + system CPU time of the tool process over the measured
               window (/proc/PID/stat, read when the window opens and when
               the target reports), in % of one core; the tool's start-up
               is outside the window
  target rate  the target's units per second / the same with no tool, in
               the same repeat (1.000 = untouched; nothing of the tool runs
               inside the target, so what is left is the machine: caches,
               memory bandwidth, the CPU the tool takes from a 2-core VM)
  samples/s    hotscope: samples in the uploaded profiles / the window's
               seconds (the periods overlap the window's edges a little)
  RSS          the tool's resident memory at the end of the window (MB)
"""

import argparse
import gzip
import http.server
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICKS = os.sysconf("SC_CLK_TCK")


# ---- the target ------------------------------------------------------------------


def unit():
    x = 0
    for i in range(20000):
        x += i
    return x


def work(seconds):
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        unit()
        done += 1
    return done


def target(seconds):
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    done = work(seconds)
    print("%d %.6f" % (done, time.monotonic() - started), flush=True)
    sys.stdin.readline()  # stay alive until told: the tool is stopped first


# ---- measuring -------------------------------------------------------------------


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Receiver:
    """Pyroscope's /ingest, enough to count what arrives."""

    def __init__(self):
        self.uploads = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.uploads.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]


def samples_in(bodies):
    from hotscope import _core

    total = 0
    for body in bodies:
        gzip.decompress(body)  # a real gzip member
        total += _core.load_pprof(body).total(clock="samples")
    return total


def find_pyspy(python):
    for candidate in (os.path.join(os.path.dirname(python), "py-spy"), shutil.which("py-spy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_once(tool, python, seconds, every, receiver, pyspy):
    # Run from elsewhere: from the source tree, `python -m hotscope` would
    # find the package without its compiled engine.
    cwd = tempfile.gettempdir()
    tgt = subprocess.Popen([python, os.path.abspath(__file__), "--target", str(seconds)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
    assert tgt.stdout.readline().strip() == "ready"
    proc = None
    out_file = None
    before = len(receiver.uploads)
    done = None
    try:
        if tool == "hotscope":
            proc = subprocess.Popen([python, "-m", "hotscope", "record", "--continuous", "--pid", str(tgt.pid),
                                     "--push", receiver.url, "--rate", "100", "--upload-every", str(every)],
                                    stderr=subprocess.PIPE, text=True, cwd=cwd)
        elif tool == "py-spy":
            out_file = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
            proc = subprocess.Popen([pyspy, "record", "--rate", "100", "--nonblocking", "--pid", str(tgt.pid),
                                     "--format", "raw", "-o", out_file],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)  # the tool's start-up stays out of the window
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s exited: %s" % (tool, proc.stderr.read().strip()[-300:]))
        cpu0 = cpu_seconds(proc.pid) if proc else 0.0
        opened = time.monotonic()
        tgt.stdin.write("go\n")
        tgt.stdin.flush()
        done, took = tgt.stdout.readline().split()
        window = time.monotonic() - opened
        cpu = (cpu_seconds(proc.pid) - cpu0) if proc else 0.0
        rss = rss_mb(proc.pid) if proc else 0.0
        if proc is not None:
            proc.send_signal(signal.SIGTERM if tool == "hotscope" else signal.SIGINT)
            proc.communicate(timeout=60)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if done is None:
            tgt.kill()
        else:
            tgt.stdin.write("end\n")
            tgt.stdin.flush()
        tgt.wait()
        if out_file:
            os.unlink(out_file)
    rate = int(done) / float(took)
    samples = samples_in(receiver.uploads[before:]) / window if tool == "hotscope" else float("nan")
    return {"cpu_pct": 100.0 * cpu / window, "rate": rate, "samples_s": samples, "rss": rss,
            "uploads": len(receiver.uploads) - before}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--upload-every", type=float, default=10.0)
    ap.add_argument("--python", default=sys.executable, help="interpreter of the target and of hotscope")
    ap.add_argument("--quick", action="store_true", help="5-second runs, once")
    ap.add_argument("--markdown", action="store_true")
    opts = ap.parse_args()
    if opts.target is not None:
        return target(opts.target)
    if opts.quick:
        opts.seconds, opts.repeat = 5.0, 1
    pyspy = find_pyspy(opts.python)
    tools = ["none", "hotscope"] + (["py-spy"] if pyspy else [])
    if not pyspy:
        print("py-spy: n/a (not installed next to %s nor on PATH)" % opts.python)
    receiver = Receiver()
    results = {t: [] for t in tools}
    for rep in range(opts.repeat):
        for tool in tools:
            r = run_once(tool, opts.python, opts.seconds, opts.upload_every, receiver, pyspy)
            results[tool].append(r)
            print("repeat %d %-8s tool CPU %5.2f%%  target %8.1f units/s  %s" % (
                rep + 1, tool, r["cpu_pct"], r["rate"],
                "%.1f samples/s in %d uploads, RSS %.1f MB" % (r["samples_s"], r["uploads"], r["rss"])
                if tool == "hotscope" else "RSS %.1f MB" % r["rss"] if tool != "none" else ""), flush=True)
    base = [r["rate"] for r in results["none"]]
    version = subprocess.run([opts.python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    rows = []
    for tool in tools[1:]:
        ratios = [r["rate"] / b for r, b in zip(results[tool], base)]
        rows.append((tool, statistics.median(r["cpu_pct"] for r in results[tool]),
                     statistics.median(ratios), statistics.median(r["samples_s"] for r in results[tool]),
                     statistics.median(r["rss"] for r in results[tool])))
    print()
    print("Python %s, %g s windows, %d repeats, 100 Hz, a profile every %g s; target alone: %.1f units/s"
          % (version, opts.seconds, opts.repeat, opts.upload_every, statistics.median(base)))
    if opts.markdown:
        print("| tool | tool CPU (% of one core) | target rate vs alone | samples/s | tool RSS (MB) |")
        print("|---|---|---|---|---|")
        for tool, cpu, ratio, samples, rss in rows:
            name = "hotscope record --continuous" if tool == "hotscope" else "py-spy record --nonblocking"
            print("| %s | %.2f%% | %.3f | %s | %.1f |" % (name, cpu, ratio, "%.1f" % samples
                                                        if samples == samples else "-", rss))
    else:
        for tool, cpu, ratio, samples, rss in rows:
            print("%-9s tool CPU %.2f%% of one core, target rate %.3f of alone, %s samples/s, RSS %.1f MB"
                  % (tool, cpu, ratio, "%.1f" % samples if samples == samples else "-", rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
