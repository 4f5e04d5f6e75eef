"""The fuzzers' corpora (tests/c/corpus/NAME/: seeds, and every input
libFuzzer once found a bug with, `make fuzz`) through the readers as
hotscope itself calls them: each file, read as its reader's format and as
sniffed from its content, must give a profile or a ValueError of one line,
and a profile must render. Needs no clang: the regressions stay checked.
"""

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


def load_or_refuse(data, fmt):
    try:
        profile = _view.load_bytes(data, fmt)
    except ValueError as e:
        assert str(e) and "\n" not in str(e), (fmt, str(e))
        return None
    profile.json(), profile.collapsed(clock="wall"), profile.text_tree(clock="wall")
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
