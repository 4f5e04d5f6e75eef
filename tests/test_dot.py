"""The Graphviz call graph (src/render/dot_callgraph.c).

The DOT text is read back by Graphviz itself (`dot -Tjson`: the graph as
Graphviz parsed and laid it out, with every label line as drawn), and its
figures are compared with pstats' numbers for the same profile: the .prof
file hotscope writes, loaded by pstats.Stats. Graphviz is installed by
.ci/run; these tests do not skip without it, they fail.
"""

import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

import hotscope

PROGRAM = """
def leaf(n):
    return sum(range(n))

def helper(k):
    total = 0
    for i in range(k):
        total += leaf(200)
    return total

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main():
    for _ in range(30):
        helper(40)
    fib(16)
    sorted(range(5000), key=lambda v: -v)
"""


def profile_of(source=PROGRAM, clock="cpu"):
    namespace = {}
    exec(compile(textwrap.dedent(source), "/virtual/prog.py", "exec"), namespace)
    with hotscope.trace(clock=clock) as t:
        namespace["main"]()
    return t.snapshot()


def graphviz_json(dot_text):
    dot = shutil.which("dot")
    assert dot, "Graphviz's dot is not installed (.ci/run installs it)"
    proc = subprocess.run([dot, "-Tjson"], input=dot_text.encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b"", proc.stderr.decode()  # no warnings either
    return json.loads(proc.stdout)


def drawn_lines(obj):
    """The label of a node or edge as Graphviz draws it, one string per line."""
    return [op["text"] for op in obj.get("_ldraw_", []) if op["op"] == "T"]


def graph_of(data, **kw):
    g = graphviz_json(data.dot(**kw))
    nodes = {n["_gvid"]: drawn_lines(n) for n in g.get("objects", [])}
    edges = [(e["tail"], e["head"], drawn_lines(e), e) for e in g.get("edges", [])]
    return g, nodes, edges


def pstats_of(data, tmp_path, clock):
    path = tmp_path / "p.prof"
    path.write_bytes(data.prof(clock=clock))
    return pstats.Stats(str(path)).stats


def key_of(lines):
    """pstats' key of a node from its drawn label: (file suffix, line, co_name)."""
    if lines[0].startswith("{"):
        return ("~", 0, "<" + lines[0][1:-1] + ">")
    file, line = lines[1].rsplit(":", 1)
    return (file, int(line), lines[0].rsplit(".", 1)[-1])


def find(stats, key):
    found = [k for k in stats if k[1] == key[1] and k[2] == key[2] and k[0].endswith(key[0])]
    assert len(found) == 1, (key, found)
    return found[0]


def percent(line, what):
    m = re.fullmatch(r"(\d+\.\d\d)%" + what, line)
    assert m, (line, what)
    return float(m.group(1))


def calls(line):
    m = re.fullmatch(r"(\d+)(?:/(\d+))? calls?", line)
    assert m, line
    return int(m.group(1)), int(m.group(2) or m.group(1))


def test_node_and_edge_figures_equal_pstats(tmp_path):
    data = profile_of()
    g, nodes, edges = graph_of(data, clock="cpu", node_threshold=0, edge_threshold=0)
    stats = pstats_of(data, tmp_path, "cpu")
    # The graph's title holds the whole it takes shares of: the profile's total.
    whole = float(re.search(r"([\d.]+) s CPU", g["label"]).group(1))
    assert round(whole * 1e9) == data.total(clock="cpu")
    seen = set()
    for gvid, lines in nodes.items():
        key = find(stats, key_of(lines))
        seen.add(key)
        cc, nc, tt, ct, _ = stats[key]
        off = 1 if lines[0].startswith("{") else 2
        assert abs(percent(lines[off], " total") - 100 * ct / whole) <= 0.0051, (lines, ct)
        assert abs(percent(lines[off + 1], " self") - 100 * tt / whole) <= 0.0051, (lines, tt)
        assert calls(lines[off + 2]) == (nc, cc)
    # With no thresholds every function is a node.
    assert seen == set(stats)
    n_edges = 0
    for tail, head, lines, _ in edges:
        caller, callee = find(stats, key_of(nodes[tail])), find(stats, key_of(nodes[head]))
        nc, cc, tt, ct = stats[callee][4][caller]
        assert abs(percent(lines[0], "") - 100 * ct / whole) <= 0.0051, (lines, ct)
        assert calls(lines[1]) == (nc, cc)
        n_edges += 1
    assert n_edges == sum(len(v[4]) for v in stats.values())
    # The recursion shows as pstats shows it: fib calls itself, 1 primitive call in all.
    fib = [k for k in stats if k[2] == "fib"][0]
    assert stats[fib][0] == 1 and stats[fib][1] > 100


def test_thresholds_prune_nodes_and_edges(tmp_path):
    data = profile_of()
    stats = pstats_of(data, tmp_path, "cpu")
    g, nodes, edges = graph_of(data, clock="cpu", node_threshold=5, edge_threshold=2)
    whole = float(re.search(r"([\d.]+) s CPU", g["label"]).group(1))
    kept = {find(stats, key_of(lines)) for lines in nodes.values()}
    for key, (cc, nc, tt, ct, callers) in stats.items():
        share = 100 * ct / whole
        if share >= 5.01:
            assert key in kept, key
        if share < 4.99:
            assert key not in kept, key
    for tail, head, lines, _ in edges:
        assert percent(lines[0], "") >= 2.0
    big_edges = [(caller, callee) for callee, v in stats.items() for caller, e in v[4].items()
                 if 100 * e[3] / whole >= 2.01 and caller in kept and callee in kept]
    assert len(edges) == len(big_edges)


def test_hot_paths_are_emphasised():
    data = profile_of()
    g, nodes, edges = graph_of(data, clock="cpu", node_threshold=0, edge_threshold=0)
    shares = []
    for tail, head, lines, e in edges:
        shares.append((percent(lines[0], ""), float(e["penwidth"]), e["color"]))
    shares.sort()
    # Thicker and warmer (more red, less blue) as the share grows.
    assert shares[-1][1] > shares[0][1]
    for (s1, w1, _), (s2, w2, _) in zip(shares, shares[1:]):
        assert w2 >= w1 - 0.01
    hottest, coldest = shares[-1][2], shares[0][2]
    red = lambda c: int(c[1:3], 16)
    blue = lambda c: int(c[5:7], 16)
    assert red(hottest) > red(coldest) and blue(hottest) < blue(coldest)


def test_names_are_escaped_for_dot():
    def victim():
        return sum(range(3000))

    nasty = 'we"ird\\N\\"}; digraph x {\nname<b>&'
    victim.__code__ = victim.__code__.replace(co_name=nasty)
    if hasattr(victim.__code__, "co_qualname"):
        victim.__code__ = victim.__code__.replace(co_qualname=nasty)
    with hotscope.trace() as t:
        victim()
    data = t.snapshot()
    g, nodes, _ = graph_of(data, node_threshold=0, edge_threshold=0)
    assert g["name"] == "hotscope"
    labels = [lines[0] for lines in nodes.values()]
    # Drawn exactly as named, the newline turned into a space.
    assert nasty.replace("\n", " ") in labels, labels


def test_sampled_profiles_have_no_call_counts():
    import time

    def spin():
        end = time.process_time() + 0.3
        while time.process_time() < end:
            pass

    with hotscope.sample(rate=500) as s:
        spin()
    g, nodes, edges = graph_of(s.snapshot(), node_threshold=0, edge_threshold=0)
    labels = [lines[0] for lines in nodes.values()]
    assert any(l.endswith("spin") for l in labels), labels
    for lines in list(nodes.values()) + [e[2] for e in edges]:
        assert not any(re.fullmatch(r"\d+(/\d+)? calls?", line) for line in lines), lines
        assert re.fullmatch(r"\d+\.\d\d%( total)?", lines[-2 if len(lines) > 2 else 0]), lines


@pytest.mark.parametrize("ext", [".dot", ".dot.svg"])
def test_cli_writes_dot_and_svg(tmp_path, ext):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM) + "\nmain()\n")
    out = tmp_path / ("graph" + ext)
    proc = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(out), str(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 0, proc.stderr
    if ext == ".dot":
        g = graphviz_json(out.read_text())
        names = {drawn_lines(n)[0] for n in g["objects"]}
    else:
        root = ET.parse(str(out)).getroot()
        assert root.tag.endswith("svg")
        names = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert {"main", "helper", "leaf", "fib"} <= names, names


def test_cli_dot_svg_without_graphviz_is_one_clear_line(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("print('ran')\n")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable))  # no dot here
    proc = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(tmp_path / "g.dot.svg"),
                           str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=env)
    assert proc.returncode == 2
    assert proc.stdout == b""  # refused before the program ran
    err = proc.stderr.decode().strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hotscope: ") and "graphviz" in err[0].lower()
