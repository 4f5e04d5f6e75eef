"""The fuzzers' corpora (tests/c/corpus/NAME/: seeds, and every input
libFuzzer once found a bug with, `make fuzz`) through the readers as
hotscope itself calls them: each file, read as its reader's format and as
sniffed from its content, must give a profile or a ValueError of one line,
and a profile must render. Needs no clang: the regressions stay checked.
"""

import json
import os
import struct
import zlib
from pathlib import Path

import pytest

from hotscope import _view

CORPUS = Path(__file__).resolve().parent / "c" / "corpus"
FORMAT_OF = {"json": "json", "embedded": "html", "speedscope": "speedscope", "collapsed": "collapsed",
             "pstats": "pstats", "text": "text", "lines": "lines", "mem": "mem", "pprof": "pprof",
             "inflate": "pprof"}


def gzip_member(raw_deflate):
    """A gzip member around a raw DEFLATE stream (RFC 1952), with the CRC
    of what zlib makes of it where zlib can, so the inflated bytes reach
    the pprof parser; else a wrong CRC, which must be refused."""
    try:
        plain = zlib.decompressobj(-15).decompress(raw_deflate)
    except zlib.error:
        plain = b""
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + raw_deflate
            + struct.pack("<II", zlib.crc32(plain), len(plain) & 0xFFFFFFFF))


def corpus_files():
    files = []
    for folder in sorted(CORPUS.iterdir()):
        assert folder.name in FORMAT_OF, folder
        files += [(folder.name, path) for path in sorted(folder.iterdir())]
    return files


MARKS = ("  ", "Thread ", "{", "}", "[", "%", "\x1b")


def tree_must_read_back(profile):
    """As tests/c/fuzz_readers.c decides: no name can pass for one of the
    text tree's marks, and every weight is a modest count."""
    doc = json.loads(profile.json())
    names = [doc["strings"][f[k]] for f in doc["frames"] for k in (0, 1)]
    names += [t["name"] if isinstance(t["name"], str) else doc["strings"][t["name"]] for t in doc["threads"]]
    if any(m in s for s in names for m in MARKS) or any(ord(c) < 32 or c == "\x7f" for s in names for c in s):
        return False
    stride = 2 + len(doc["weights"])
    nodes = doc["nodes"]
    return all(0 <= nodes[i] <= 2 ** 40 for i in range(len(nodes)) if i % stride >= 2)


def load_or_refuse(data, fmt):
    try:
        profile = _view.load_bytes(data, fmt)
    except ValueError as e:
        assert str(e) and "\n" not in str(e), (fmt, str(e))
        return None
    profile.json(), profile.collapsed(clock="wall")
    for clock in ("wall", "samples"):
        tree = profile.text_tree(clock=clock)
        if tree and tree_must_read_back(profile):
            _view.load_bytes(tree.encode(), "text")
    return profile


@pytest.mark.parametrize("name,path", corpus_files(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_corpus_file_loads_or_is_refused_cleanly(name, path):
    data = path.read_bytes()
    if name == "inflate":
        data = gzip_member(data)
    loaded = load_or_refuse(data, FORMAT_OF[name])
    if path.name.startswith("seed-") and name != "inflate":
        assert loaded is not None, "a seed its reader does not read"
    load_or_refuse(data, None)  # as `hotscope view` tells the format


def test_every_fuzzer_has_a_corpus():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(FORMAT_OF)
    for folder in CORPUS.iterdir():
        assert any(p.name.startswith("seed-") for p in folder.iterdir()), folder
        assert all(p.stat().st_size <= 16384 for p in folder.iterdir()), folder
    assert os.path.exists(CORPUS.parent / "fuzz_inflate.c")
