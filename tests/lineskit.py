"""Shared by the line profiler's tests: the interpreter's own line events as
ground truth, hits and times read back from a model, and a target module
whose lines run known numbers of times, with hostile text in its source
(for the HTML report's Lines view)."""
import importlib.util
import json
import sys
import textwrap

# hot(n): the for line runs n + 1 times, the if line n times, its branches
# ceil(n / 3) and the rest; the sleep line takes the most time by far.
# hostile(): source lines that would be markup if written as markup.
TARGET = textwrap.dedent('''
    import time


    def hot(n):
        total = 0
        for i in range(n):
            if i % 3 == 0:
                total += i
            else:
                total -= 1
        time.sleep(0.02)
        return total


    def hostile():
        s = "</script><script>alert(1)</script>"
        t = '<img src=x onerror="alert(2)">'
        return s + t  # <!-- & &amp; -->
''')

HOSTILE_LINES = ['    s = "</script><script>alert(1)</script>"',
                 "    t = '<img src=x onerror=\"alert(2)\">'",
                 "    return s + t  # <!-- & &amp; -->"]


def load_target(directory, name="lines_target"):
    """TARGET written to `directory` and imported from there (so its source
    is a real file linecache can read)."""
    path = directory / (name + ".py")
    path.write_text(TARGET)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def made_without_source():
    """A function whose file does not exist: no source to capture."""
    ns = {}
    exec(compile("def made(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n",
                 "/nonexistent/made.py", "exec"), ns)
    return ns["made"]


def all_codes(functions):
    codes = []
    for f in functions:
        todo = [f.__code__]
        while todo:
            c = todo.pop()
            codes.append(c)
            todo.extend(k for k in c.co_consts if hasattr(k, "co_lines"))
    return codes


def counting_trace(codes):
    """A sys.settrace function that counts the line events of `codes` per
    (file, code's first line, line), and the dict it counts into."""
    counts = {}
    wanted = set(codes)

    def local(frame, event, arg):
        if event == "line":
            key = (frame.f_code.co_filename, frame.f_code.co_firstlineno, frame.f_lineno)
            counts[key] = counts.get(key, 0) + 1
        return local

    def global_trace(frame, event, arg):
        return local if frame.f_code in wanted else None

    return global_trace, counts


def settrace_counts(codes, run):
    """Line events per (file, code's first line, line) as sys.settrace reports them."""
    global_trace, counts = counting_trace(codes)
    sys.settrace(global_trace)
    try:
        run()
    finally:
        sys.settrace(None)
    return counts


def model_counts(doc):
    """Hits and nanoseconds per (file, first line, line) from a parsed model."""
    strings, frames, weights = doc["strings"], doc["frames"], doc["weights"]
    stride = 2 + len(weights)
    calls = weights.index("calls")
    wall = weights.index("wall_ns")
    hits, times = {}, {}
    nodes = doc["nodes"]
    for i in range(0, len(nodes), stride):
        frame = frames[nodes[i + 1]]
        if frame[4] != "python" or frame[3] == 0:
            continue
        key = (strings[frame[1]], frame[2], frame[3])
        hits[key] = hits.get(key, 0) + nodes[i + 2 + calls]
        times[key] = times.get(key, 0) + nodes[i + 2 + wall]
    return hits, times


def hotscope_counts(data):
    """Hits and nanoseconds per (file, first line, line) from a ProfileData."""
    return model_counts(json.loads(data.json()))
