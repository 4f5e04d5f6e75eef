"""Hits per line: hotscope lines, line_profiler and sys.settrace, side by side.

The same small functions (loops with known trip counts, branches, a
generator, a one-line loop, a while loop, a comprehension, try/except) run
three times in one process: under a sys.settrace counter (the ground truth:
the interpreter's own line events), under hotscope.lines, and under
line_profiler.LineProfiler (last, because it replaces the functions'
__code__ with a padded copy). Only the functions' own code objects are
compared: line_profiler, like kernprof's @profile, does not profile the
code nested in them (a comprehension before 3.12, a lambda).

    python bench/compare_line_counts.py            # a table; differing lines marked
    python bench/compare_line_counts.py --json     # for tests/test_lines_vs_line_profiler.py

Without line_profiler installed the line_profiler column reads "n/a".
"""

import argparse
import inspect
import json
import sys

import hotscope


# ---- the functions compared (each line's trip count is known) -----------------

def for_loop(n):
    total = 0
    for i in range(n):
        total += i
        total *= 1
    return total


def branches(n):
    evens = odds = 0
    for i in range(n):
        if i % 2 == 0:
            evens += 1
        elif i % 3 == 0:
            odds += 1
        else:
            odds -= 1
    return evens, odds


def generator(n):
    for i in range(n):
        yield i * 2
    return


def one_line_loop(n):
    x = 0
    for i in range(n): x += i  # noqa: E701
    return x


def while_loop(n):
    i = 0
    while i < n:
        i += 1
    return i


def comprehension(n):
    squares = [i * i for i in range(n) if i % 2]
    return len(squares)


def try_except(n):
    caught = 0
    for i in range(n):
        try:
            if i % 2:
                raise ValueError(i)
        except ValueError:
            caught += 1
    return caught


FUNCTIONS = [for_loop, branches, generator, one_line_loop, while_loop, comprehension, try_except]


def workload():
    # Each function called twice with different trip counts, so a count
    # off by one per call shows as off by two.
    for n in (10, 7):
        for_loop(n)
        branches(n)
        list(generator(n))
        one_line_loop(n)
        while_loop(n)
        comprehension(n)
        try_except(n)


# ---- three ways of counting: {(function, line): hits} -------------------------

def by_function(counts_by_code):
    """{(code, line): hits} -> {(function name, line): hits} for FUNCTIONS' own code."""
    names = {f.__code__.co_firstlineno: f.__name__ for f in FUNCTIONS}
    out = {}
    for (first, line), hits in counts_by_code.items():
        if first in names and hits:
            out[(names[first], line)] = out.get((names[first], line), 0) + hits
    return out


def count_settrace():
    counts = {}
    wanted = {f.__code__ for f in FUNCTIONS}

    def local(frame, event, arg):
        if event == "line":
            key = (frame.f_code.co_firstlineno, frame.f_lineno)
            counts[key] = counts.get(key, 0) + 1
        return local

    def start(frame, event, arg):
        return local if frame.f_code in wanted else None

    sys.settrace(start)
    try:
        workload()
    finally:
        sys.settrace(None)
    return by_function(counts)


def count_hotscope():
    with hotscope.lines(*FUNCTIONS) as lp:
        workload()
    doc = json.loads(lp.data.json())
    strings, frames, weights = doc["strings"], doc["frames"], doc["weights"]
    stride, calls = 2 + len(weights), 2 + weights.index("calls")
    counts = {}
    nodes = doc["nodes"]
    for i in range(0, len(nodes), stride):
        name, _file, first, line, kind, _cat = frames[nodes[i + 1]]
        if kind == "python" and line:
            counts[(first, line)] = counts.get((first, line), 0) + nodes[i + calls]
    return by_function(counts)


def count_line_profiler():
    """line_profiler's hits, or None when it is not installed."""
    try:
        import line_profiler
    except ImportError:
        return None
    lp = line_profiler.LineProfiler()
    for f in FUNCTIONS:
        lp.add_function(f)
    lp.enable_by_count()
    try:
        workload()
    finally:
        lp.disable_by_count()
    counts = {}
    for (_file, first, _name), rows in lp.get_stats().timings.items():
        for line, hits, _time in rows:
            counts[(first, line)] = counts.get((first, line), 0) + hits
    return by_function(counts)


def line_profiler_version():
    try:
        import line_profiler
    except ImportError:
        return None
    return getattr(line_profiler, "__version__", "?")


def compare():
    truth = count_settrace()
    mine = count_hotscope()
    theirs = count_line_profiler()
    return {
        "python": "%d.%d.%d" % sys.version_info[:3],
        "line_profiler": line_profiler_version(),
        "functions": [f.__name__ for f in FUNCTIONS],
        "first_lines": {f.__name__: f.__code__.co_firstlineno for f in FUNCTIONS},
        # [function, line, line - first line, settrace, hotscope, line_profiler or None]
        "rows": [[name, line, line - FUNCTIONS_BY_NAME[name].__code__.co_firstlineno,
                  truth.get((name, line), 0), mine.get((name, line), 0),
                  None if theirs is None else theirs.get((name, line), 0)]
                 for name, line in sorted(set(truth) | set(mine) | set(theirs or {}),
                                          key=lambda k: (ORDER[k[0]], k[1]))],
    }


FUNCTIONS_BY_NAME = {f.__name__: f for f in FUNCTIONS}
ORDER = {f.__name__: i for i, f in enumerate(FUNCTIONS)}


def print_table(result):
    print("Python %s, line_profiler %s; hits per line over the workload (each function called with n=10, then 7)"
          % (result["python"], result["line_profiler"] or "not installed"))
    print("%-14s %5s %9s %9s %14s  %s" % ("function", "line", "settrace", "hotscope", "line_profiler", "source"))
    sources = {f.__name__: inspect.getsourcelines(f) for f in FUNCTIONS}
    for name, line, offset, truth, mine, theirs in result["rows"]:
        text_lines, first = sources[name]
        text = text_lines[line - first].rstrip() if 0 <= line - first < len(text_lines) else ""
        marks = []
        if mine != truth:
            marks.append("HOTSCOPE DIFFERS")
        if theirs is not None and theirs != truth:
            marks.append("line_profiler differs")
        print("%-14s %5s %9d %9d %14s  %-44s %s" % (name, "+%d" % offset, truth, mine,
                                                    "n/a" if theirs is None else theirs, text, ", ".join(marks)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    result = compare()
    if args.json:
        json.dump(result, sys.stdout)
        print()
    else:
        print_table(result)


if __name__ == "__main__":
    main()
