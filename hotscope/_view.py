"""hotscope view: read any saved profile and write it in any format.

Which reader a file needs is decided from its content, never from its name
(a .json may be hotscope's model or speedscope's; a .txt may be collapsed
stacks). The readers themselves are C (src/read/, hotscope._core.load);
this module only sniffs, loads and hands the profile to _output.
"""

import json
import os
import re

from . import _core, _output

# Input formats, as _core.load names them, plus pprof (_core.load_pprof).
INPUT_FORMATS = ("json", "html", "speedscope", "collapsed", "pstats", "pprof", "dot", "text", "lines", "mem")

READS = ("hotscope's .json, .html, .svg and .txt, speedscope JSON, collapsed stacks, "
         "pstats .prof and pprof (.pb.gz, or raw profile.proto)")

# The first line of hotscope's text reports (_output.render): a trace's
# (threads table, or pstats' "N function calls ... in T seconds"), a
# sampled profile's (threads table, or the hottest functions' header), or
# the call tree itself ("12.345ms  67.8%  main  app.py:3"). None of them
# can be a line of collapsed stacks, which ends in a count.
_TEXT_REPORT_START = re.compile(
    rb"(Threads \((wall / CPU|samples)\):"
    rb"|\d+ function calls( \(\d+ primitive calls\))? in \d+\.\d+ seconds"
    rb"|%Own +%Total +Own +Total"
    rb"|\d+(\.\d+)?(ms|s)? +\d+\.\d%  )"
)
# Colors of a tree saved from a terminal (FORCE_COLOR) come first.
_SGR = re.compile(rb"\x1b\[[0-9;]*m")


class ViewError(ValueError):
    """A file that cannot be read as a profile: the message says why."""


def _skip_text_start(data):
    """data without a UTF-8 byte order mark and leading white space."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.lstrip(b" \t\r\n")


# Marshal (Python/marshal.c, w_object): a dict is TYPE_DICT '{', a list
# TYPE_LIST '[', 0xfb and 0xdb with FLAG_REF (0x80) set. A pstats file is
# a dict keyed by (file, line, name) tuples: after '{' comes TYPE_TUPLE
# '(' and a 4-byte size, or TYPE_SMALL_TUPLE ')' and a 1-byte size (0xa8,
# 0xa9 with FLAG_REF), so its next bytes are binary; marshal.dumps({}) of
# versions 0 to 2 is '{0' (TYPE_NULL ends a dict).
_EMPTY_MARSHAL_DICT = b"{0"
# What may follow '{' or '[' in JSON (RFC 8259, sections 2 to 4): white
# space, then a member name or '}'; a value or ']'.
_JSON_AFTER_BRACE = frozenset(b' \t\r\n"}')
_JSON_AFTER_BRACKET = frozenset(b' \t\r\n"{[]-0123456789tfn')
# Bytes text never holds (C0 controls but tab, line feed, carriage return),
# and marshal data soon does (sizes, small ints).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _is_marshal(data):
    """Whether data starting with '{', '[', 0xfb or 0xdb is marshal data
    (a pstats file, or marshal of something else) rather than JSON, whole
    or damaged. JSON starts so too, and one changed byte must not make a
    JSON file read as pstats (with a marshal error for a message): past
    its first two bytes, text is JSON and binary is marshal."""
    first, second = data[:1], data[1:2]
    if first in (b"\xfb", b"\xdb") or data == _EMPTY_MARSHAL_DICT:
        return True
    if second and second[0] in (_JSON_AFTER_BRACE if first == b"{" else _JSON_AFTER_BRACKET):
        return False
    return _CONTROL.search(data, 2, 258) is not None


# Beyond this size JSON of no known kind is not parsed to say where it is
# damaged (it would cost seconds and gigabytes to say "not a profile").
_JSON_DAMAGE_MAX = 16 << 20


def _json_damage(data):
    """Where and how `data` is not valid JSON (one line), or None if it is
    (or is too large to tell cheaply)."""
    if len(data) > _JSON_DAMAGE_MAX:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return "invalid UTF-8 at byte %d" % e.start
    try:
        json.loads(text)
    except ValueError as e:
        pos = getattr(e, "pos", None)
        if pos is None:
            return " ".join(str(e).split())
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        return "%s at byte %d" % (getattr(e, "msg", e), bom + len(text[:pos].encode("utf-8", "surrogatepass")))
    except RecursionError:
        return None
    return None


def _varint(data, i):
    """(value, next index) of the protobuf varint at data[i], or None."""
    value = shift = 0
    for k in range(i, min(i + 10, len(data))):
        value |= (data[k] & 0x7F) << shift
        if data[k] < 0x80:
            return value, k + 1
        shift += 7
    return None


def _looks_like_raw_pprof(data):
    """Whether data starts as an uncompressed pprof Profile message does
    (github.com/google/pprof, proto/profile.proto; encoding:
    protobuf.dev/programming-guides/encoding): field 1, sample_type, a
    length-delimited ValueType (tag byte 0x0a), whose bytes are exactly
    its varint fields 1 (type) and 2 (unit), tags 0x08 and 0x10. pprof's
    own writer and protobuf serializers put fields in number order, so
    sample_type comes first. No text starts so (0x08, 0x10 are control
    bytes after a line feed), nor marshal or gzip."""
    if data[:1] != b"\n":
        return False
    length = _varint(data, 1)
    if length is None or not 2 <= length[0] <= 22 or length[1] + length[0] > len(data):
        return False
    i, end = length[1], length[1] + length[0]
    while i < end:
        if data[i] not in (0x08, 0x10):
            return False
        field = _varint(data, i + 1)
        if field is None or field[1] > end:
            return False
        i = field[1]
    return True


def sniff(data):
    """The input format of `data` (one of INPUT_FORMATS), or raise ViewError."""
    if not data:
        raise ViewError("empty file")
    if data[:2] == b"\x1f\x8b":
        return "pprof"  # gzip: pprof's .pb.gz
    if _looks_like_raw_pprof(data):
        return "pprof"  # the same profile.proto, not compressed
    if data[:1] in (b"{", b"[", b"\xfb", b"\xdb") and _is_marshal(data):
        return "pstats"
    text = _skip_text_start(data)
    head = text[:4096]
    if head[:1] in (b"{", b"["):
        if b'"hotscope-profile"' in head:
            return "json"
        if b"speedscope.app/file-format-schema" in data or (b'"shared"' in data and b'"profiles"' in data):
            return "speedscope"
        damage = _json_damage(data)
        if damage:
            raise ViewError("damaged JSON: %s" % damage)
        raise ViewError("JSON, but neither hotscope's profile nor a speedscope file (hotscope reads %s)" % READS)
    if head[:1] == b"<":
        lower = head[:512].lower()
        if lower.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html")) or b"<svg" in lower or b"<html" in lower:
            return "html"
        raise ViewError("markup, but not an HTML report or SVG flame graph hotscope wrote")
    if head.startswith((b"digraph", b"strict digraph", b"graph", b"strict graph")):
        return "dot"
    first_line = _SGR.sub(b"", head.split(b"\n", 1)[0]).rstrip(b"\r")
    if first_line.startswith(b"Timer unit: "):
        return "lines"  # kernprof's layout (lines_text.c)
    if first_line.startswith(b"hotscope mem"):
        return "mem"  # hotscope mem's report (mem_text.c)
    if _TEXT_REPORT_START.match(first_line):
        return "text"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ViewError("a PNG image, not a profile (hotscope reads %s)" % READS)
    if b"\0" in data[:4096]:
        raise ViewError("binary data in no format hotscope reads (it reads %s)" % READS)
    return "collapsed"


def load_bytes(data, fmt=None):
    """A ProfileData from the bytes of a saved profile; ViewError if malformed."""
    fmt = fmt or sniff(data)
    if fmt == "dot":
        # hotscope's call graphs carry the profile in a closing comment
        # (_output.dot_model_comment): read that.
        from ._output import DOT_MODEL_START, DOT_MODEL_END

        start = data.rfind(DOT_MODEL_START)
        end = data.rfind(DOT_MODEL_END)
        if start < 0 or end < start:
            raise ViewError("a Graphviz graph without the profile hotscope embeds in the .dot files it writes")
        data, fmt = data[start + len(DOT_MODEL_START):end], "json"
    try:
        if fmt == "pprof":
            loader = getattr(_core, "load_pprof", None)
            if loader is None:
                raise ViewError("a gzip file (pprof?): this hotscope cannot read pprof")
            return loader(data)
        if fmt not in INPUT_FORMATS:
            raise ViewError("unknown input format %r (one of: %s)" % (fmt, ", ".join(INPUT_FORMATS)))
        return _core.load(data, fmt)
    except ViewError:
        raise
    except ValueError as e:
        raise ViewError("%s: %s" % (_describe(fmt), e))
    except MemoryError:
        raise ViewError("out of memory reading it")


def _describe(fmt):
    return {
        "json": "hotscope JSON",
        "html": "HTML/SVG",
        "speedscope": "speedscope file",
        "collapsed": "collapsed stacks",
        "pstats": "pstats file",
        "pprof": "pprof file",
        "dot": "hotscope call graph",
        "text": "text report",
        "lines": "line profile report",
        "mem": "memory report",
    }.get(fmt, fmt)


def load(path, fmt=None):
    """hotscope.load(path): any profile file hotscope reads, as ProfileData."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ViewError("cannot read it: %s" % (e.strerror or e))
    return load_bytes(data, fmt)


def printable(path):
    """A file name as one line of text: control characters escaped."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(path))


def default_clock(data):
    """(clock, sampled): what a loaded profile's reports should weigh by."""
    for clock in ("wall", "cpu"):
        if data.total(clock=clock) > 0:
            return clock, False
    if data.total(clock="samples") > 0:
        return "samples", True
    return "wall", False
