"""hotscope bench and hotscope.bench().

Statistics against independent references: Python's statistics module
(mean, stdev, median, inclusive quantiles), the Mann-Whitney null
distribution enumerated by brute force over every split of the ranks, the
textbook normal approximation written out here, and a value published in
scipy's documentation. Timing against statements whose cost is known by
construction (a busy wait on the clock for a fixed span), execution counts
against a side effect, and the command line end to end: verdicts, --json /
--compare exit statuses, bad input answered with one line (and the
statement's own traceback), never a traceback from hotscope.
"""

import itertools
import json
import math
import os
import pty
import random
import statistics
import subprocess
import sys

import pytest

import hotscope
from hotscope import _core

Z975 = 1.959963984540054  # the normal 0.975 quantile


def hotscope_bench(*args, timeout=120, cwd=None):
    return subprocess.run([sys.executable, "-m", "hotscope", "bench", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def assert_clean_error(proc, status):
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("hotscope: "), proc.stderr
    # No frame of hotscope itself, whatever the statement did.
    assert "hotscope/" not in proc.stderr and "_bench.py" not in proc.stderr and "cli.py" not in proc.stderr


# ---- statistics ---------------------------------------------------------------

def sample(n, seed, scale=1.0, offset=10.0):
    rng = random.Random(seed)
    return [offset + scale * rng.random() for _ in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 57])
def test_summary_matches_statistics_module(n):
    x = sample(n, n) + [0.0]  # zero is allowed in a summary (a zero-time repeat)
    s = _core.bench_summary(x)
    assert s["n"] == n + 1
    assert s["min"] == min(x) and s["max"] == max(x)
    assert s["mean"] == pytest.approx(statistics.fmean(x), rel=1e-12)
    assert s["stdev"] == pytest.approx(statistics.stdev(x), rel=1e-9)
    assert s["median"] == pytest.approx(statistics.median(x), rel=1e-12)
    q1, _, q3 = statistics.quantiles(x, n=4, method="inclusive")
    assert s["q1"] == pytest.approx(q1, rel=1e-12) and s["q3"] == pytest.approx(q3, rel=1e-12)


def test_percentiles_match_inclusive_quantiles():
    x = sample(31, 7)
    expected = statistics.quantiles(x, n=100, method="inclusive")  # P1 .. P99
    for p in range(1, 100):
        assert _core.bench_percentile(x, p) == pytest.approx(expected[p - 1], rel=1e-12)
    assert _core.bench_percentile(x, 0) == min(x) and _core.bench_percentile(x, 100) == max(x)
    with pytest.raises(ValueError):
        _core.bench_percentile(x, 101)
    with pytest.raises(ValueError):
        _core.bench_percentile([], 50)


def test_outliers_are_tukey_fences():
    x = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 40.0, 45.0, -20.0]
    q1, _, q3 = statistics.quantiles(x, n=4, method="inclusive")
    low = sum(v < q1 - 1.5 * (q3 - q1) for v in x)
    high = sum(v > q3 + 1.5 * (q3 - q1) for v in x)
    assert (low, high) == (1, 2)  # by hand: Q1 = 11.75, Q3 = 17.25, fences 3.5 and 25.5
    s = _core.bench_summary(x)
    assert (s["outliers_low"], s["outliers_high"]) == (low, high)


def test_summary_rejects_bad_values():
    for bad in ([], [1.0, float("nan")], [float("inf")], ["x"]):
        with pytest.raises((ValueError, TypeError)):
            _core.bench_summary(bad)


def brute_force_u_distribution(m, n):
    """{U: ways} over every choice of which m of the m+n ranks are a's."""
    ways = {}
    for chosen in itertools.combinations(range(m + n), m):
        u = sum(chosen) - m * (m - 1) // 2  # rank sum (0-based) minus its minimum
        ways[u] = ways.get(u, 0) + 1
    return ways


def exact_reference(a, b):
    m, n = len(a), len(b)
    u = sum(x > y for x in a for y in b)
    ways = brute_force_u_distribution(m, n)
    total = sum(ways.values())
    below = sum(w for k, w in ways.items() if k <= u) / total
    above = sum(w for k, w in ways.items() if k >= u) / total
    p = min(1.0, 2 * min(below, above))
    # Moses: the largest C with P(U <= C - 1) <= 0.025.
    c = 0
    while c < m * n and sum(w for k, w in ways.items() if k <= c) / total <= 0.025:
        c += 1
    return u, p, c


def pair_log_differences(a, b):
    return sorted(math.log(y) - math.log(x) for x in a for y in b)


def hodges_lehmann(diffs):
    return math.exp(statistics.median(diffs))


@pytest.mark.parametrize("m,n,seed", [(3, 4, 1), (5, 6, 2), (7, 7, 3), (2, 9, 4), (8, 10, 5), (6, 6, 6)])
def test_mann_whitney_exact_against_enumeration(m, n, seed):
    rng = random.Random(seed)
    a = [1.0 + rng.random() for _ in range(m)]
    b = [1.0 + rng.random() * (1.3 if seed % 2 else 1.0) for _ in range(n)]
    c = _core.bench_compare(a, b)
    u, p, moses = exact_reference(a, b)
    assert c["exact"] is True
    assert c["u"] == u
    assert c["p_value"] == pytest.approx(p, rel=1e-9)
    diffs = pair_log_differences(a, b)
    assert c["ratio"] == pytest.approx(hodges_lehmann(diffs), rel=1e-12)
    if moses >= 1:
        assert c["ratio_low"] == pytest.approx(math.exp(diffs[moses - 1]), rel=1e-12)
        assert c["ratio_high"] == pytest.approx(math.exp(diffs[m * n - moses]), rel=1e-12)
    else:
        assert c["ratio_low"] == 0 and c["ratio_high"] == math.inf


def test_mann_whitney_scipy_documented_example():
    # scipy.stats.mannwhitneyu docs (after Conover): ages of males and
    # females; U1 = 17, exact two-sided p = 0.1111 (= 2 * 7/126).
    males = [19, 22, 16, 29, 24]
    females = [20, 11, 17, 12]
    c = _core.bench_compare(males, females)
    assert c["u"] == 17
    assert c["exact"] and c["p_value"] == pytest.approx(0.1111111111, rel=1e-8)
    # The asymptotic value the docs print, 0.11134688653314041, from the
    # normal approximation written out below (checks the reference itself).
    assert normal_reference(males, females)[1] == pytest.approx(0.11134688653314041, rel=1e-12)


def normal_reference(a, b):
    """Textbook normal approximation: midranks, tie correction, continuity
    correction, two-sided; and Moses' rank C."""
    pooled = sorted(a + b)
    ranks = {}
    i = 0
    while i < len(pooled):
        j = i
        while j < len(pooled) and pooled[j] == pooled[i]:
            j += 1
        ranks[pooled[i]] = (i + 1 + j) / 2  # midrank of positions i+1 .. j
        i = j
    m, n = len(a), len(b)
    u = sum(ranks[x] for x in a) - m * (m + 1) / 2
    ties = sum(t ** 3 - t for t in (pooled.count(v) for v in set(pooled)))
    sigma = math.sqrt(m * n / 12 * ((m + n + 1) - ties / ((m + n) * (m + n - 1))))
    z = (abs(u - m * n / 2) - 0.5) / sigma
    p = min(1.0, math.erfc(z / math.sqrt(2))) if z > 0 else 1.0
    c = max(0, math.floor(m * n / 2 + 0.5 - Z975 * sigma))
    return u, p, c


@pytest.mark.parametrize("m,n,seed,shift", [(40, 50, 1, 1.0), (30, 30, 2, 1.02), (600, 500, 3, 1.01)])
def test_mann_whitney_normal_approximation_with_ties(m, n, seed, shift):
    rng = random.Random(seed)
    # Rounded to 2 decimals: many ties, so the exact distribution does not apply.
    a = [round(1 + rng.random(), 2) for _ in range(m)]
    b = [round((1 + rng.random()) * shift, 2) for _ in range(n)]
    c = _core.bench_compare(a, b)
    u, p, moses = normal_reference(a, b)
    assert c["exact"] is False
    assert c["u"] == pytest.approx(u, abs=1e-9)
    assert c["p_value"] == pytest.approx(p, rel=1e-9)
    diffs = pair_log_differences(a, b)
    assert c["ratio"] == pytest.approx(hodges_lehmann(diffs), rel=1e-12)
    assert c["ratio_low"] == pytest.approx(math.exp(diffs[moses - 1]), rel=1e-12)
    assert c["ratio_high"] == pytest.approx(math.exp(diffs[m * n - moses]), rel=1e-12)


def test_large_samples_without_ties_use_the_normal_approximation():
    a = sample(700, 11)
    b = sample(600, 12, offset=10.05)
    c = _core.bench_compare(a, b)
    u, p, _ = normal_reference(a, b)
    assert c["exact"] is False
    assert c["u"] == u and c["p_value"] == pytest.approx(p, rel=1e-9)
    assert c["ratio"] == pytest.approx(hodges_lehmann(pair_log_differences(a, b)), rel=1e-12)


def test_compare_scale_and_identity():
    a = sample(20, 21)
    c = _core.bench_compare(a, [2.5 * v for v in a])
    assert c["ratio"] == pytest.approx(2.5, rel=1e-12)
    same = _core.bench_compare(a, list(a))
    assert same["ratio"] == pytest.approx(1.0) and same["p_value"] == 1.0
    flat = _core.bench_compare([3.0] * 5, [3.0] * 6)
    assert flat["p_value"] == 1.0 and flat["ratio"] == 1.0
    for bad in ([0.0, 1.0], [-1.0], [float("nan")], []):
        with pytest.raises(ValueError):
            _core.bench_compare(bad, a)


# ---- timing ---------------------------------------------------------------------

SPIN_SETUP = """
import time
def spin(seconds, clock=time.perf_counter):
    end = clock() + seconds
    while clock() < end:
        pass
"""


def test_known_cost_by_construction():
    # spin(d) busy-waits d seconds on the same monotonic clock: its cost is
    # d plus a clock read or two (under 1%), whatever the loop count. The
    # timer is wall-clock, so time the process spends descheduled on a
    # loaded machine inflates a repeat; short repeats make it likely that
    # some ran undisturbed, and the minimum is checked closely.
    d = 100e-6
    r = hotscope.bench("spin(%r)" % d, setup=SPIN_SETUP, repeat=100, target_time=0.0005)
    assert r.min >= d
    assert r.min == pytest.approx(d, rel=0.03)
    assert r.median >= r.min
    assert 1 <= r.loops <= 10  # calibrated to the target time: 5 loops, give or take the load
    fixed = hotscope.bench("spin(%r)" % d, setup=SPIN_SETUP, number=7, repeat=100)
    assert fixed.loops == 7 and fixed.repeats == 100
    assert fixed.min >= d and fixed.min == pytest.approx(d, rel=0.03)
    unrolled = hotscope.bench("spin(%r)" % d, setup=SPIN_SETUP, number=10, repeat=100)
    assert unrolled.unroll == 10
    assert unrolled.min >= d and unrolled.min == pytest.approx(d, rel=0.03)


@pytest.mark.parametrize("number", [30, 7, 1])
def test_statement_and_setup_run_exactly_as_often_as_said(number):
    calls, setups = [], []
    r = hotscope.bench("calls.append(1)", setup="setups.append(1)", number=number, repeat=4, warmup=2,
                       globals={"calls": calls, "setups": setups})
    assert len(calls) == number * (4 + 2)
    assert len(setups) == 4 + 2
    assert r.loops == number and r.repeats == 4 and len(r.times) == 4


def test_a_statement_longer_than_the_target_is_calibrated_in_one_run():
    # A 20 ms sleep against a 10 ms target: one loop per repeat, known
    # after one run; then the warm-up and the repeats.
    calls = []
    r = hotscope.bench("calls.append(1); time.sleep(0.02)", setup="import time", target_time=0.01, repeat=2,
                       warmup=1, globals={"calls": calls})
    assert r.loops == 1 and len(calls) == 1 + 1 + 2
    # Shorter than the target (6 ms against 50 ms): the fastest of three runs.
    calls.clear()
    r = hotscope.bench("calls.append(1); time.sleep(0.006)", setup="import time", target_time=0.05, repeat=2,
                       warmup=1, globals={"calls": calls})
    assert r.loops > 1 and len(calls) == 3 + (1 + 2) * r.loops


def test_result_statistics_are_over_its_times():
    r = hotscope.bench("sum(range(50))", repeat=12, target_time=0.005)
    assert r.median == pytest.approx(statistics.median(r.times), rel=1e-12)
    assert r.mean == pytest.approx(statistics.fmean(r.times), rel=1e-12)
    assert r.stdev == pytest.approx(statistics.stdev(r.times), rel=1e-9)
    assert r.min == min(r.times)
    assert r.percentile(95) == pytest.approx(
        statistics.quantiles(r.times, n=100, method="inclusive")[94], rel=1e-12)


def test_callable_and_callable_setup():
    state = {"setups": 0, "calls": 0}

    def setup():
        state["setups"] += 1

    def work():
        state["calls"] += 1

    r = hotscope.bench(work, setup=setup, number=20, repeat=3, warmup=0)
    assert (state["setups"], state["calls"]) == (3, 60)
    assert r.stmt.endswith("work()")
    with pytest.raises(ValueError):
        hotscope.bench(work, processes=2)


def test_callable_that_raises_reports_its_own_frames():
    def broken():
        return {}["missing"]

    with pytest.raises(hotscope.BenchError) as info:
        hotscope.bench(broken, number=1, repeat=1)
    assert str(info.value) == "statement raised KeyError: 'missing'"
    assert "in broken" in info.value.detail and '{}["missing"]' in info.value.detail
    assert "hotscope/_bench.py" not in info.value.detail


def test_four_times_the_cost_is_four_times_slower():
    # By construction 4x (a busy wait of 20 us against one of 80 us).
    results = hotscope._bench.run(["spin(20e-6)", "spin(80e-6)"], setup=SPIN_SETUP, repeat=15, target_time=0.02)
    c = results[0].compare(results[1])
    assert c.significant and c.p_value < 0.05
    assert c.ratio == pytest.approx(4.0, rel=0.15)
    assert c.ratio_low <= c.ratio <= c.ratio_high
    assert c.verdict == "%.2fx slower" % c.ratio
    back = results[1].compare(results[0])
    assert back.verdict == "%.2fx faster" % (1 / back.ratio)
    assert back.ratio == pytest.approx(1 / c.ratio, rel=1e-9)


def test_more_work_is_slower():
    # Real code: summing four times as many numbers (not exactly 4x: the
    # ints above 256 are made as the range runs).
    a, b = hotscope._bench.run(["sum(range(1000))", "sum(range(4000))"], repeat=15, target_time=0.02)
    c = a.compare(b)
    assert c.significant and c.verdict.endswith("x slower")
    assert 2.5 < c.ratio < 8


def test_identical_statements_are_not_called_different():
    # Two copies of a statement of fixed cost, timed alike (same loops,
    # taking turns, 20 ms repeats so each spans many scheduler slices of a
    # loaded machine): p-values should look like draws from U(0, 1). Five
    # runs, at most two below 0.05 (by chance: under 1%).
    small = []
    for _ in range(5):
        a, b = hotscope._bench.run(["spin(50e-6)", "spin(50e-6)"], setup=SPIN_SETUP, repeat=12, number=400)
        c = a.compare(b)
        small.append(c.p_value < 0.05)
        assert c.ratio == pytest.approx(1.0, abs=0.3)
    assert sum(small) <= 2


def test_processes_run_the_repeats_elsewhere(tmp_path):
    setup = "import os\nopen(os.path.join(%r, str(os.getpid())), 'w').close()" % str(tmp_path)
    r = hotscope.bench("sum(range(100))", setup=setup, repeat=5, processes=2, target_time=0.01)
    assert r.repeats == 5 and r.processes == 2
    pids = {int(name) for name in os.listdir(tmp_path)} - {os.getpid()}  # calibration runs here
    assert len(pids) == 2


def test_processes_use_this_hotscope_whatever_the_current_folder_holds(tmp_path, monkeypatch):
    # A folder named hotscope in the current directory (a source checkout
    # not built in place, as the repository root is) must not be what the
    # workers import: `python -m hotscope` would put it first.
    (tmp_path / "hotscope").mkdir()
    (tmp_path / "hotscope" / "__init__.py").write_text("raise ImportError('the wrong hotscope')\n")
    (tmp_path / "helper.py").write_text("def work():\n    return sum(range(10))\n")
    monkeypatch.chdir(tmp_path)
    r = hotscope.bench("helper.work()", setup="import helper", number=10, repeat=2, processes=2)
    assert r.repeats == 2 and r.processes == 2


def test_processes_counts_the_workers_that_ran():
    r = hotscope.bench("sum(range(10))", number=10, repeat=2, processes=5)
    assert r.repeats == 2 and r.processes == 2
    assert "2 worker processes" in hotscope._bench.header([r])


def test_processes_report_a_statement_error():
    proc = hotscope_bench("--processes", "2", "-r", "2", "-n", "5", "1/0")
    assert_clean_error(proc, 1)
    assert "statement raised ZeroDivisionError: division by zero" in proc.stderr


# ---- command line ------------------------------------------------------------------

def test_cli_report_and_verdicts():
    proc = hotscope_bench("--target-time", "0.01", "-r", "12", "sum(range(1000))", "sum(range(4000))", "pass")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert proc.stderr == ""  # a pipe: no progress bar
    for label in ("[1] sum(range(1000))", "[2] sum(range(4000))", "[3] pass"):
        assert label in out
    assert out.count("per loop (median)") == 3
    assert out.count("P50 ") == 3 and "P95 " in out and "P99 " in out and "stdev " in out
    assert "12 repeats x" in out and "outliers:" in out
    assert "compiles to no code" in out  # pass
    verdict = [l for l in out.splitlines() if l.startswith("  [2] ")][0]
    assert "x slower" in verdict and "95% CI" in verdict and "Mann-Whitney p = " in verdict
    assert "x faster" in [l for l in out.splitlines() if l.startswith("  [3] ")][0]


def run_json(tmp_path, name, *stmts):
    path = tmp_path / name
    proc = hotscope_bench("--target-time", "0.01", "-r", "12", "--json", str(path), *stmts)
    assert proc.returncode == 0, proc.stderr
    return path


def test_json_round_trip_and_compare_exit_status(tmp_path):
    before = run_json(tmp_path, "before.json", "sum(range(100))")
    after = run_json(tmp_path, "after.json", "sum(range(1000))")
    doc = json.loads(before.read_text())
    assert doc["format"] == "hotscope-bench" and doc["version"] == 1
    (saved,) = doc["results"]
    assert saved["stmt"] == "sum(range(100))" and len(saved["times"]) == 12 and saved["loops"] >= 1
    loaded = hotscope._bench.load(str(before))[0]
    assert loaded.times == saved["times"] and loaded.median == statistics.median(saved["times"])

    worse = hotscope_bench("--compare", str(before), str(after))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "REGRESSION" in worse.stdout and "x slower" in worse.stdout
    assert "compared by position" in worse.stdout

    better = hotscope_bench("--compare", str(after), str(before))
    assert better.returncode == 0, better.stdout
    assert "x faster" in better.stdout and "REGRESSION" not in better.stdout

    same = hotscope_bench("--compare", str(before), str(before))
    assert same.returncode == 0 and "no significant difference" in same.stdout

    # A tenfold slow-down stays under a threshold of 5000%.
    lenient = hotscope_bench("--compare", str(before), str(after), "--fail-above", "5000%")
    assert lenient.returncode == 0 and "REGRESSION" not in lenient.stdout


def test_compare_constructed_files(tmp_path):
    def write(name, stmt, times):
        doc = {"format": "hotscope-bench", "version": 1,
               "results": [{"stmt": stmt, "setup": "pass", "loops": 1000, "times": times}]}
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return str(path)

    base = [1e-6 * (1 + 0.001 * i) for i in range(20)]
    before = write("b.json", "f()", base)
    slower3 = write("a3.json", "f()", [t * 1.03 for t in base])
    slower8 = write("a8.json", "f()", [t * 1.08 for t in base])
    assert hotscope_bench("--compare", before, slower3).returncode == 0  # significant, but under 5%
    assert hotscope_bench("--compare", before, slower3, "--fail-above", "2%").returncode == 1
    proc = hotscope_bench("--compare", before, slower8)
    assert proc.returncode == 1 and "1.08x slower" in proc.stdout
    assert "f()" in proc.stdout and "by position" not in proc.stdout


def constructed_pair(tmp_path, factor):
    """BEFORE and AFTER files of one statement, AFTER `factor` times slower
    at every repeat (20 repeats: significant for any factor above 1)."""
    base = [1e-6 * (1 + 0.001 * i) for i in range(20)]
    paths = []
    for name, times in (("before.json", base), ("after.json", [t * factor for t in base])):
        doc = {"format": "hotscope-bench", "version": 1,
               "results": [{"stmt": "f()", "setup": "pass", "loops": 1000, "times": times}]}
        (tmp_path / name).write_text(json.dumps(doc))
        paths.append(str(tmp_path / name))
    return paths


@pytest.mark.parametrize("args,status", [
    (["--fail-above", "0%"], 1),        # any significant slow-down
    (["--fail-above", "2.5%"], 1),
    (["--fail-above", ".5%"], 1),
    (["--fail-above=2%"], 1),
    (["--fail-above", "3.5%"], 0),
    (["--fail-above", "100%"], 0),
    ([], 0),                            # the default, 5%
])
def test_fail_above_is_the_percentage_given(tmp_path, args, status):
    # AFTER is 3% slower than BEFORE by construction.
    before, after = constructed_pair(tmp_path, 1.03)
    proc = hotscope_bench("--compare", before, after, *args)
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert ("REGRESSION" in proc.stdout) == (status == 1)


@pytest.mark.parametrize("args,message", [
    (["--fail-above", "-5%"], "must be 0% or more, not -5%"),
    (["--fail-above", "-5"], "must be 0% or more, not -5"),
    (["--fail-above", "-.5%"], "must be 0% or more, not -.5%"),
    (["--fail-above=-5%"], "must be 0% or more, not -5%"),
    (["--fail-a", "-5%"], "must be 0% or more, not -5%"),
    (["--fail-above", "0.05"], "0.05 has no % sign (write 5% for five percent"),
    (["--fail-above", "5"], "5 has no % sign"),
    (["--fail-above", "5%%"], "not a percentage: '5%%'"),
    (["--fail-above", "%"], "not a percentage: '%'"),
    (["--fail-above", ""], "not a percentage: ''"),
    (["--fail-above", "five%"], "not a percentage: 'five%'"),
    (["--fail-above", "nan%"], "not a percentage: 'nan%'"),
    (["--fail-above", "inf%"], "not a percentage: 'inf%'"),
    (["--fail-above", "1e3%"], "not a percentage: '1e3%'"),
    (["--fail-above", " 5%"], "not a percentage: ' 5%'"),
])
def test_fail_above_takes_a_percentage_with_its_sign(tmp_path, args, message):
    before, after = constructed_pair(tmp_path, 1.03)
    proc = hotscope_bench("--compare", before, after, *args)
    assert_clean_error(proc, 2)
    assert proc.stderr.startswith("hotscope: argument --fail-above: " + message), proc.stderr
    assert len(proc.stderr.splitlines()) == 1


def test_compare_pairs_by_text_and_names_what_it_could_not_pair(tmp_path):
    def write(name, stmts):
        base = [1e-6 * (1 + 0.001 * i) for i in range(20)]
        doc = {"format": "hotscope-bench", "version": 1,
               "results": [{"stmt": stmt, "times": [t * factor for t in base]} for stmt, factor in stmts]}
        path = tmp_path / name
        path.write_text(json.dumps(doc))
        return str(path)

    before = write("before.json", [("f()", 1), ("g()", 1)])
    # A statement added: the two kept are paired by text, the new one named.
    added = hotscope_bench("--compare", before, write("added.json", [("g()", 1.5), ("f()", 1), ("h()", 9)]))
    assert added.returncode == 1, added.stdout
    lines = added.stdout.splitlines()
    assert "by position" not in added.stdout
    assert lines[lines.index("g()") + 1].endswith("REGRESSION") and "f()" in lines
    assert "only in AFTER (not compared): h()" in lines
    # One kept, one renamed: the renamed pair by position, said so.
    renamed = hotscope_bench("--compare", before, write("renamed.json", [("f()", 1), ("g2()", 1.5)]))
    assert renamed.returncode == 1
    assert "g()  ->  g2()" in renamed.stdout and "by position" in renamed.stdout
    assert "\nf()\n" in renamed.stdout and "only in" not in renamed.stdout
    # A statement dropped.
    dropped = hotscope_bench("--compare", before, write("dropped.json", [("f()", 1)]))
    assert dropped.returncode == 0 and "only in BEFORE (not compared): g()" in dropped.stdout


@pytest.mark.parametrize("content,message", [
    ("{", "is not JSON"),
    ("[]", "is not a hotscope bench file"),
    ('{"format": "hotscope-bench", "version": 9, "results": []}', "has version 9"),
    ('{"format": "hotscope-bench", "version": 1, "results": []}', "holds no results"),
    ('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": ["a"]}]}',
     "must hold non-negative numbers"),
    ('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": [0.0, 0.0]}]}',
     "measured 0 ns per loop"),
    ('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": [1e-6], "processes": [1]}]}',
     '"processes" must be a whole number'),
    ('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": [1e-6], "warmup": "abc"}]}',
     '"warmup" must be a whole number'),
    ('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": [1e-6], "unroll": 0}]}',
     '"unroll" must be a whole number of 1 or more'),
])
def test_compare_bad_files(tmp_path, content, message):
    good = tmp_path / "good.json"
    good.write_text('{"format": "hotscope-bench", "version": 1, "results": [{"stmt": "x", "times": [1e-6]}]}')
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    proc = hotscope_bench("--compare", str(good), str(bad))
    assert_clean_error(proc, 2)
    assert message in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_syntax_error_shows_the_line():
    proc = hotscope_bench("sum(range(10)", "-n", "1")
    assert_clean_error(proc, 2)
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("hotscope: statement has a syntax error: ")
    assert lines[1] == "    sum(range(10)" and lines[2].strip() == "^"
    multi = hotscope_bench("x = 1", "for i in range(3):\n    y = i +\n", "-n", "1")
    assert_clean_error(multi, 2)
    assert multi.stderr.startswith("hotscope: statement 2 has a syntax error") and "(line 2)" in multi.stderr
    setup = hotscope_bench("-s", "import", "pass")
    assert_clean_error(setup, 2)
    assert setup.stderr.startswith("hotscope: the setup has a syntax error")


def test_setup_that_raises():
    proc = hotscope_bench("-s", "import os", "-s", "x = {}['k']", "x")
    assert_clean_error(proc, 1)
    assert proc.stderr.splitlines()[0] == "hotscope: the setup raised KeyError: 'k'"
    assert '  File "<setup>", line 2, in <module>\n    x = {}[\'k\']\n' in proc.stderr


def test_statement_that_raises_shows_its_own_traceback(tmp_path):
    (tmp_path / "helper.py").write_text("def parse(text):\n    return int(text)\n")
    proc = hotscope_bench("-s", "import helper", "-s", "n = 1", "helper.parse('x%d' % n)", cwd=tmp_path)
    assert_clean_error(proc, 1)
    lines = proc.stderr.splitlines()
    assert lines[0] == "hotscope: statement raised ValueError: invalid literal for int() with base 10: 'x1'"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[2] == '  File "<statement>", line 1, in <module>'
    assert lines[3] == "    helper.parse('x%d' % n)"
    assert lines[4].endswith('helper.py", line 2, in parse') and lines[5] == "    return int(text)"
    assert lines[6].startswith("ValueError: invalid literal")


def test_statement_that_exits_is_reported():
    proc = hotscope_bench("-n", "3", "-r", "1", "raise SystemExit(3)")
    assert_clean_error(proc, 1)
    assert proc.stderr.splitlines()[0] == "hotscope: statement raised SystemExit: 3"
    setup = hotscope_bench("-n", "3", "-r", "1", "-s", "import sys; sys.exit()", "pass")
    assert_clean_error(setup, 1)
    assert setup.stderr.splitlines()[0] == "hotscope: the setup raised SystemExit"


def test_statements_that_leave_the_loop():
    for stmt, words in (("break", "left the timing loop early"), ("yield 1", "contains yield"),
                        ("return 1", "left the timing loop early (return)"),
                        ("await x", "'await' outside")):
        proc = hotscope_bench("-n", "3", "-r", "1", stmt)
        assert_clean_error(proc, 2)
        assert words in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_zero_time_statements():
    r = hotscope.bench("pass", repeat=5, target_time=0.01)
    assert r.empty and "compiles to no code" in r.report()
    assert not hotscope.bench("x = 1", number=10, repeat=2).empty
    zero = hotscope._bench.BenchResult("pass", "pass", [0.0] * 5, 1)
    other = hotscope._bench.BenchResult("x", "pass", [1e-8] * 5, 1)
    with pytest.raises(hotscope.BenchError, match="measured 0 ns per loop"):
        zero.compare(other)


def test_an_empty_statement_has_a_visible_label(tmp_path):
    # "" (or blank) is timed as pass; its label must not be blank.
    single = hotscope_bench("-n", "1000", "-r", "3", "")
    assert single.returncode == 0, single.stderr
    lines = single.stdout.splitlines()
    assert lines[1] == "" and lines[2] == "(empty statement)", lines[:4]
    assert "compiles to no code" in single.stdout
    path = tmp_path / "empty.json"
    proc = hotscope_bench("-n", "1000", "-r", "3", "--json", str(path), "x = 1", "", "  ")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "[2] (empty statement)" in lines and "[3] (empty statement)" in lines
    assert not any(line.startswith("[") and not line.split("]", 1)[1].strip() for line in lines), lines
    # The file keeps the text as given; --compare names it as the report does.
    assert [r["stmt"] for r in json.loads(path.read_text())["results"]] == ["x = 1", "", "  "]
    compare = hotscope_bench("--compare", str(path), str(path))
    assert compare.returncode == 0 and compare.stdout.count("\n(empty statement)\n") == 2, compare.stdout


@pytest.mark.parametrize("args,message", [
    ([], "nothing to time"),
    (["-n", "0", "pass"], "-n/--number"),
    (["-r", "x", "pass"], "-r/--repeat"),
    (["--warmup", "-1", "pass"], "--warmup"),
    (["--processes", "-2", "pass"], "--processes"),
    (["--target-time", "0", "pass"], "--target-time"),
    (["--fail-above", "5%", "pass"], "--fail-above goes with --compare"),
    (["--compare", "a.json"], "--compare"),
    (["--compare", "missing1.json", "missing2.json"], "cannot read missing1.json"),
    (["--compare", "a.json", "b.json", "pass"], "not both"),
    (["--json", "/nonexistent/dir/x.json", "pass"], "cannot write"),
    (["--bogus", "pass"], "unrecognized arguments"),
])
def test_usage_errors(args, message, tmp_path):
    proc = hotscope_bench(*args, cwd=tmp_path)
    assert_clean_error(proc, 2)
    assert message in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_help_lists_bench():
    proc = subprocess.run([sys.executable, "-m", "hotscope", "--help"], capture_output=True, text=True)
    assert "  bench    time statements" in proc.stdout and "not in this version" not in proc.stdout.split("bench")[1][:60]
    proc = hotscope_bench("--help")
    assert proc.returncode == 0 and "--compare BEFORE.json AFTER.json" in proc.stdout


def stderr_on_a_terminal(args):
    """(status, what went to the terminal on stderr, stdout) of a run."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out = proc.communicate()[0]
    finally:
        os.close(master)
    return proc.returncode, seen, out


def test_progress_bar_with_a_given_loop_count():
    # -n 100 of a 1 ms sleep, 10 repeats and a warm-up: over a second.
    args = [sys.executable, "-m", "hotscope", "bench", "-n", "100", "-r", "10", "-s", "import time",
            "time.sleep(0.001)"]
    status, seen, out = stderr_on_a_terminal(args)
    assert status == 0 and b"per loop" in out
    assert b"%  repeat 10/10" in seen and seen.endswith(b"\r\x1b[K")
    # A short run shows none.
    status, seen, out = stderr_on_a_terminal(args[:4] + ["-n", "10", "-r", "3", "pass"])
    assert status == 0 and seen == b""


def test_progress_bar_while_calibrating():
    # Three calibration runs of 0.4 s (each over a tenth of the 0.6 s
    # target, under the target): 1.2 s before the first repeat, so the bar
    # shows while calibrating; the single 0.4 s repeat alone would get none.
    args = [sys.executable, "-m", "hotscope", "bench", "--target-time", "0.6", "-r", "1", "--warmup", "0",
            "-s", "import time", "time.sleep(0.4)"]
    status, seen, out = stderr_on_a_terminal(args)
    assert status == 0 and b"1 repeats x 1 loops" in out, out
    assert b"\r  [" + b"." * 30 + b"]   0%  calibrating" in seen, seen
    assert b"100%  repeat 1/1" in seen and seen.endswith(b"\r\x1b[K"), seen
    piped = subprocess.run(args, capture_output=True)
    assert piped.returncode == 0 and piped.stderr == b""


def test_progress_bar_on_a_terminal_only():
    # 20 repeats of 0.1 s and a warm-up: the bar shows once the run
    # projects over a second (at 0.05 s a fast run could stay under it).
    args = [sys.executable, "-m", "hotscope", "bench", "--target-time", "0.1", "-r", "20", "sum(range(100))"]
    status, seen, out = stderr_on_a_terminal(args)
    assert status == 0
    assert b"\r  [" in seen and b"%  repeat 20/20" in seen and seen.endswith(b"\r\x1b[K")
    assert b"per loop" in out
    # The same run on a pipe: nothing on stderr.
    piped = subprocess.run(args, capture_output=True)
    assert piped.returncode == 0 and piped.stderr == b""
