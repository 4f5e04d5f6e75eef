"""A mutation fuzz of every reader through hotscope._core.load, for a
while (HOTSCOPE_FUZZ_SECONDS, 10 by default): each mutant of a seed of
every format goes to every reader; each must either load or raise
ValueError with one line, and whatever loads must render in every format
(including the text reports, which the C harness does not cover) and
survive a JSON round trip that is a fixed point.

Under AddressSanitizer: remove build/, HOTSCOPE_CFLAGS="-fsanitize=address
-fno-omit-frame-pointer" pip install . into a separate virtual environment,
then LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
pytest test_readers_fuzz.py (tests/test_c_readers.py checks leaks in C).
"""

import os
import random
import time

import pytest

from hotscope import _core

from test_c_readers import seeds

FORMATS = ("json", "html", "speedscope", "collapsed", "pstats", "text", "lines", "mem")
SECONDS = float(os.environ.get("HOTSCOPE_FUZZ_SECONDS", "10"))
TOKENS = [b"[", b"]", b"{", b"}", b'"', b",", b":", b"\\u", b"\\ud800", b"\\udcff", b"-0", b"1e400",
          b"9223372036854775808", b"-1", b"0.5", b"null", b";", b" ", b"\n", b"thread ", b" (", b":1)",
          b"\x80", b"\xff", b"\x00", b"r\x00\x00\x00\x00", b")\x03", b"l\x05\x00\x00\x00", b"\"O\"", b"\"C\"",
          "\u2514\u2500 ".encode(), "\u2502  ".encode(), b"   ", b"[depth 99] ", b"ms", b"s", b"  ", b"%  ",
          b"[3 frames hidden]", b"Thread ", b"... 4 more", b" KiB", b"\x1b[1m", b"Timer unit: 1e-09 s\n"]


def mutate(rng, data, corpus):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        at = rng.randint(0, len(data))
        if op == 0 and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif op == 1 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 2:
            del data[at:at + rng.randint(1, 64)]
        elif op == 3:
            data[at:at] = rng.choice(TOKENS)
        elif op == 4 and data:
            start = rng.randrange(len(data))
            data[at:at] = data[start:start + rng.randint(1, 32)]
        elif op == 5:
            del data[at:]
        else:
            other = rng.choice(corpus)
            start = rng.randrange(len(other) or 1)
            data[at:at + 64] = other[start:start + rng.randint(1, 256)]
    return bytes(data)


def exercise(data):
    for clock in ("wall", "cpu", "samples"):
        data.collapsed(clock=clock)
        data.speedscope(clock=clock)
        data.prof(clock=clock)
        data.table(clock=clock, callers=True)
        data.tree(clock=clock)
        data.top(clock=clock)
        data.pstats(clock=clock)
    data.threads(), data.meta(), data.counts()
    data.text_tree(clock="wall"), data.lines_text(), data.mem_text()
    first = data.json()
    second = _core.load(first, "json").json()
    assert _core.load(second, "json").json() == second


@pytest.mark.slow
def test_fuzz_every_reader():
    rng = random.Random(20240611)
    corpus = list(seeds().values())
    for seed in corpus:
        loaded = 0
        for fmt in FORMATS:
            try:
                exercise(_core.load(seed, fmt))
                loaded += 1
            except ValueError:
                pass
        assert loaded, "a seed no reader loads"
    runs = loads = 0
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        mutant = mutate(rng, rng.choice(corpus), corpus)
        runs += 1
        for fmt in FORMATS:
            try:
                data = _core.load(mutant, fmt)
            except ValueError as e:
                assert str(e) and "\n" not in str(e), (fmt, mutant)
                continue
            loads += 1
            exercise(data)
    print("fuzz: %d mutants, %d loads" % (runs, loads))
    assert runs > 200 and loads > runs // 50
