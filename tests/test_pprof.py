"""pprof output and input (src/render/pprof.c, src/read/pprof_read.c) and
the codecs under them (src/codec/: our own DEFLATE, inflate and gzip).

- model -> pprof -> model keeps every stack, weight, thread and metadata
  entry, for a traced and a sampled profile;
- the output is checked by independent readers: Python's gzip (our
  deflate and CRC) and the protobuf package against profile.proto's
  field numbers (message classes built here from a FileDescriptorProto,
  so no protoc is needed);
- our inflate reads what Python's zlib writes (stored, fixed and dynamic
  blocks; gzip header flags; concatenated members);
- foreign profiles (Go-style: inlined lines, unsymbolized addresses,
  unknown sample types) load;
- bad input of every kind gives ValueError with one clear line, and a
  deterministic mutation fuzz loop never crashes the reader;
- a profile of 1,000,000 samples over 100,000 distinct stacks renders to
  pprof in under a second.
"""

import gzip
import json
import random
import struct
import threading
import time
import zlib
from collections import Counter

import pytest

# Required, not optional: tools/test_all.py installs it.
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

import hotscope
from hotscope import _core

from pprof_synth import field_bytes, field_varint, synthetic_pprof, varint

# ---- profile.proto, from its field numbers ---------------------------------

F = descriptor_pb2.FieldDescriptorProto
PROFILE_PROTO = {
    # message: [(name, number, type, label, message type)]
    "Profile": [
        ("sample_type", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED, "ValueType"),
        ("sample", 2, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Sample"),
        ("mapping", 3, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Mapping"),
        ("location", 4, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Location"),
        ("function", 5, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Function"),
        ("string_table", 6, F.TYPE_STRING, F.LABEL_REPEATED, None),
        ("drop_frames", 7, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("keep_frames", 8, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("time_nanos", 9, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("duration_nanos", 10, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("period_type", 11, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, "ValueType"),
        ("period", 12, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("comment", 13, F.TYPE_INT64, F.LABEL_REPEATED, None),
        ("default_sample_type", 14, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
    ],
    "ValueType": [
        ("type", 1, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("unit", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
    ],
    "Sample": [
        ("location_id", 1, F.TYPE_UINT64, F.LABEL_REPEATED, None),
        ("value", 2, F.TYPE_INT64, F.LABEL_REPEATED, None),
        ("label", 3, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Label"),
    ],
    "Label": [
        ("key", 1, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("str", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("num", 3, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("num_unit", 4, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
    ],
    "Mapping": [
        ("id", 1, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("memory_start", 2, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("memory_limit", 3, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("file_offset", 4, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("filename", 5, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("build_id", 6, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("has_functions", 7, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("has_filenames", 8, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("has_line_numbers", 9, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
        ("has_inline_frames", 10, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
    ],
    "Location": [
        ("id", 1, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("mapping_id", 2, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("address", 3, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("line", 4, F.TYPE_MESSAGE, F.LABEL_REPEATED, "Line"),
        ("is_folded", 5, F.TYPE_BOOL, F.LABEL_OPTIONAL, None),
    ],
    "Line": [
        ("function_id", 1, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("line", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
    ],
    "Function": [
        ("id", 1, F.TYPE_UINT64, F.LABEL_OPTIONAL, None),
        ("name", 2, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("system_name", 3, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("filename", 4, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
        ("start_line", 5, F.TYPE_INT64, F.LABEL_OPTIONAL, None),
    ],
}


def _profile_class():
    fdp = descriptor_pb2.FileDescriptorProto(name="hotscope_test_profile.proto",
                                             package="perftools.profiles", syntax="proto3")
    for message, fields in PROFILE_PROTO.items():
        m = fdp.message_type.add(name=message)
        for name, number, type_, label, type_name in fields:
            f = m.field.add(name=name, number=number, type=type_, label=label)
            if type_name:
                f.type_name = ".perftools.profiles." + type_name
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("perftools.profiles.Profile")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)  # protobuf < 4.21


Profile = _profile_class()


def parse(pprof_bytes):
    msg = Profile()
    msg.ParseFromString(gzip.decompress(pprof_bytes))
    return msg


# ---- profiles to test with --------------------------------------------------


def _fib(n):
    return n if n < 2 else _fib(n - 1) + _fib(n - 2)


def _steady(n):
    """A loop in one frame: a stack that holds still while it is read. On
    3.10 the sampler drops samples whose stack changed during the read
    (most of a bare recursive fib's), and these tests need samples."""
    x = 0
    for i in range(n):
        x += i
    return x


def _work():
    total = 0
    for i in range(200):
        total += len(str(_fib(10 + i % 3)))
    return sorted(range(total))


@pytest.fixture(scope="module")
def traced():
    with hotscope.trace() as t:
        _work()
        worker = threading.Thread(target=_work, name="worker \u00e9;x")
        worker.start()
        worker.join()
    data = t.snapshot()
    data.set_meta("command", "test_pprof traced")
    return data


@pytest.fixture(scope="module")
def sampled():
    with hotscope.sample(rate=1000) as s:
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            _fib(14)
            _steady(20000)
    return s.data


def stacks(data):
    """{(thread-or-frame, ..., leaf): {weight: self value}} from the model's
    own JSON: every node with a non-zero self weight, frames in full."""
    model = json.loads(data.json())
    weights = model["weights"]
    strings = model["strings"]
    frames = [(strings[f[0]], strings[f[1]], f[2], f[3], f[4]) for f in model["frames"]]
    nodes = model["nodes"]
    width = 2 + len(weights)
    paths = {0: ()}
    result = {}
    for i in range(0, len(nodes), width):
        node_id = i // width + 1
        parent, frame = nodes[i], nodes[i + 1]
        paths[node_id] = paths[parent] + (frames[frame],)
        self_values = {w: v for w, v in zip(weights, nodes[i + 2:i + width]) if v}
        if self_values:
            assert paths[node_id] not in result
            result[paths[node_id]] = self_values
    return weights, result


def assert_same_profile(a, b):
    wa, sa = stacks(a)
    wb, sb = stacks(b)
    assert wa == wb
    assert sa == sb
    assert a.threads() == b.threads()
    assert a.meta() == b.meta()


# ---- (a) round trips ---------------------------------------------------------


def test_traced_profile_round_trips_exactly(traced):
    assert set(json.loads(traced.json())["weights"]) >= {"calls", "wall_ns", "cpu_ns"}
    back = _core.load_pprof(traced.pprof())
    assert_same_profile(traced, back)
    for clock in ("wall", "cpu"):
        assert sorted(back.collapsed(clock=clock).splitlines()) == sorted(traced.collapsed(clock=clock).splitlines())
        assert back.pstats(clock=clock) == traced.pstats(clock=clock)
    # and again: the second generation is byte-identical to the first
    assert back.pprof() == traced.pprof()


def test_sampled_profile_round_trips_exactly(sampled):
    assert "samples" in json.loads(sampled.json())["weights"]
    back = _core.load_pprof(sampled.pprof())
    assert_same_profile(sampled, back)
    assert sorted(back.collapsed(clock="samples").splitlines()) == \
        sorted(sampled.collapsed(clock="samples").splitlines())


def test_raw_protobuf_is_accepted_too(traced):
    raw = gzip.decompress(traced.pprof())
    assert_same_profile(traced, _core.load_pprof(raw))
    assert_same_profile(traced, _core.load_pprof(bytearray(raw)))


# ---- (b) the output, checked by other readers -----------------------------------


WEIGHT_TYPES = {"calls": ("calls", "count"), "wall_ns": ("wall", "nanoseconds"),
                "cpu_ns": ("cpu", "nanoseconds"), "samples": ("samples", "count"),
                "bytes": ("alloc_space", "bytes"), "allocs": ("alloc_objects", "count")}


def check_against_profile_proto(data):
    msg = parse(data.pprof())
    st = msg.string_table
    assert st[0] == ""
    weights, own = stacks(data)
    types = [(st[t.type], st[t.unit]) for t in msg.sample_type]
    assert types == [WEIGHT_TYPES[w] for w in weights]
    locations = {loc.id: loc for loc in msg.location}
    functions = {fn.id: fn for fn in msg.function}
    mappings = {m.id: st[m.filename] for m in msg.mapping}
    assert len(locations) == len(msg.location) and len(functions) == len(msg.function)
    totals = [0] * len(types)
    for sample in msg.sample:
        assert len(sample.value) == len(types)
        for i, v in enumerate(sample.value):
            totals[i] += v
        for loc_id in sample.location_id:
            loc = locations[loc_id]
            assert loc.mapping_id in mappings
            assert len(loc.line) == 1 and loc.line[0].function_id in functions
        labels = {st[label.key]: (st[label.str], label.num) for label in sample.label}
        assert set(labels) <= {"thread", "thread_index"}
    for fn in msg.function:
        for index in (fn.name, fn.system_name, fn.filename):
            assert 0 <= index < len(st)
    expected = [sum(v.get(w, 0) for v in own.values()) for w in weights]
    assert totals == expected
    return msg


def test_traced_output_parses_with_protobuf(traced):
    msg = check_against_profile_proto(traced)
    st = msg.string_table
    assert sum(s.value[0] for s in msg.sample) > 0  # calls
    wall = [st[t.type] for t in msg.sample_type].index("wall")
    assert sum(s.value[wall] for s in msg.sample) == traced.total(clock="wall")
    assert st[msg.default_sample_type] == "wall"
    assert (st[msg.period_type.type], msg.period) == ("wall", 1)
    comments = [st[c] for c in msg.comment]
    assert "command=test_pprof traced" in comments
    assert any(c.startswith("hotscope.thread=1 ") and c.endswith(" worker \u00e9;x") for c in comments)
    threads = {st[l.str] for s in msg.sample for l in s.label if st[l.key] == "thread"}
    assert threads == {"MainThread", "worker \u00e9;x"}
    assert {st[m.filename] for m in msg.mapping} <= {"[python]", "[native]", "[thread]", "[synthetic]"}
    assert msg.duration_nanos == int(traced.meta()["duration_ns"])


def test_sampled_output_parses_with_protobuf(sampled):
    msg = check_against_profile_proto(sampled)
    st = msg.string_table
    assert st[msg.default_sample_type] == "samples"
    assert (st[msg.period_type.type], st[msg.period_type.unit]) == ("wall", "nanoseconds")
    assert msg.period == 1_000_000  # 1e9 / rate_hz (1000)
    samples = [st[t.type] for t in msg.sample_type].index("samples")
    assert sum(s.value[samples] for s in msg.sample) == sampled.total(clock="samples")


def test_our_gzip_is_read_by_python(traced, sampled):
    for data in (traced, sampled):
        raw = gzip.decompress(data.pprof())  # checks our CRC-32 and ISIZE too
        assert zlib.decompress(data.pprof(), wbits=31) == raw


def test_our_deflate_is_read_by_zlib_on_small_and_odd_inputs():
    # Small outputs take fixed-code blocks, incompressible ones stored
    # blocks, others dynamic ones: each checked by Python's zlib.
    rng = random.Random(5)
    data = _core.load_pprof(_minimal())
    for size in list(range(0, 40)) + [100, 1000, 70_000, 140_000]:
        for alphabet in ("ab", "abcdefghijklmnopqrstuvwxyz0123456789", None):
            if alphabet is None:
                value = "".join(chr(rng.randrange(32, 0x3000)) for _ in range(size))
            else:
                value = "".join(rng.choice(alphabet) for _ in range(size))
            data.set_meta("v", value)
            out = data.pprof()
            assert zlib.decompress(out, wbits=31) == gzip.decompress(out)
            assert _core.load_pprof(out).meta()["v"] == value


# ---- (c) our inflate on zlib's output -----------------------------------------


def _varied_texts():
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "(x)", "0123", "\u00e9t\u00e9"]
    yield ""
    yield "a"
    yield "z" * 100_000                                    # long runs
    yield "".join(rng.choice(words) for _ in range(20_000))  # text-like
    yield "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(70_000))  # poorly compressible
    yield "".join(rng.choice("ab") for _ in range(70_000)) * 2             # far repeats


def _with_meta(data, value):
    """The raw protobuf of `data` with one more comment, "blob=<value>"."""
    msg = Profile()
    msg.ParseFromString(gzip.decompress(data.pprof()))
    msg.string_table.append("blob=" + value)
    msg.comment.append(len(msg.string_table) - 1)
    return msg.SerializeToString()


def test_inflate_reads_zlib_output_at_every_level_and_strategy(traced):
    for value in _varied_texts():
        raw = _with_meta(traced, value)
        variants = [gzip.compress(raw, level) for level in (0, 1, 6, 9)]
        for strategy in (zlib.Z_FIXED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FILTERED):
            c = zlib.compressobj(6, zlib.DEFLATED, 31, 8, strategy)
            variants.append(c.compress(raw) + c.flush())
        # many small blocks (sync flushes put empty stored blocks between)
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        variants.append(b"".join(c.compress(raw[i:i + 4000]) + c.flush(zlib.Z_SYNC_FLUSH)
                                 for i in range(0, len(raw), 4000)) + c.flush())
        for blob in variants:
            assert _core.load_pprof(blob).meta()["blob"] == value


def _gzip_member(payload, flags=0, extra=b"", name=b"", comment=b"", header_crc=None):
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = body.compress(payload) + body.flush()
    header = bytes([0x1F, 0x8B, 8, flags]) + struct.pack("<I", 12345) + bytes([2, 3])
    if flags & 4:
        header += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        header += name + b"\0"
    if flags & 16:
        header += comment + b"\0"
    if flags & 2:
        crc = zlib.crc32(header) & 0xFFFF if header_crc is None else header_crc
        header += struct.pack("<H", crc)
    return header + deflated + struct.pack("<II", zlib.crc32(payload), len(payload) & 0xFFFFFFFF)


def test_gzip_header_fields_and_concatenated_members(traced):
    raw = gzip.decompress(traced.pprof())
    for flags in (0, 1, 2, 4, 8, 16, 2 | 4 | 8 | 16, 31):
        blob = _gzip_member(raw, flags, extra=b"AB\x02\x00hi", name=b"profile.pb", comment=b"made by a test")
        assert_same_profile(traced, _core.load_pprof(blob))
    cut = len(raw) // 3
    members = gzip.compress(raw[:cut]) + _gzip_member(raw[cut:2 * cut], 8, name=b"x") + gzip.compress(raw[2 * cut:])
    assert_same_profile(traced, _core.load_pprof(members))
    with pytest.raises(ValueError, match="header CRC mismatch"):
        _core.load_pprof(_gzip_member(raw, 2, header_crc=0))


# ---- foreign profiles ---------------------------------------------------------


def _go_style_profile():
    """A profile as Go's runtime/pprof writes one: samples/count and
    cpu/nanoseconds, a binary mapping, one location with an inlined call
    (two lines), one not symbolized (no lines), unpacked repeated fields."""
    strings = ["", "samples", "count", "cpu", "nanoseconds", "main.main", "main.go", "main.helper",
               "runtime.memmove", "/usr/bin/app", "contentions", "count"]
    s = {text: i for i, text in enumerate(strings)}
    out = [
        field_bytes(1, field_varint(1, s["samples"]) + field_varint(2, s["count"])),
        field_bytes(1, field_varint(1, s["cpu"]) + field_varint(2, s["nanoseconds"])),
        field_bytes(1, field_varint(1, s["contentions"]) + field_varint(2, s["count"])),
        field_bytes(3, field_varint(1, 7) + field_varint(2, 0x400000) + field_varint(3, 0x500000)
                    + field_varint(5, s["/usr/bin/app"])),
        field_bytes(5, field_varint(1, 10) + field_varint(2, s["main.main"]) + field_varint(4, s["main.go"])
                    + field_varint(5, 3)),
        field_bytes(5, field_varint(1, 11) + field_varint(2, s["main.helper"]) + field_varint(4, s["main.go"])
                    + field_varint(5, 20)),
        # location 100: helper (line 21) inlined into main (line 5); lines leaf first
        field_bytes(4, field_varint(1, 100) + field_varint(2, 7) + field_varint(3, 0x401000)
                    + field_bytes(4, field_varint(1, 11) + field_varint(2, 21))
                    + field_bytes(4, field_varint(1, 10) + field_varint(2, 5))),
        # location 200: an address only
        field_bytes(4, field_varint(1, 200) + field_varint(2, 7) + field_varint(3, 0x4abcd0)),
        # a sample with unpacked location ids and values
        field_bytes(2, field_varint(1, 200) + field_varint(1, 100) + field_varint(2, 3)
                    + field_varint(2, 30_000_000) + field_varint(2, 4096)),
        field_bytes(2, field_bytes(1, varint(100)) + field_bytes(2, varint(2) + varint(20_000_000) + varint(0))),
        field_varint(9, 1_700_000_000_000_000_000),
        field_varint(10, 5_000_000_000),
    ]
    out += [field_bytes(6, t.encode()) for t in strings]
    return b"".join(out)


def test_memory_weights_round_trip_as_go_heap_types():
    """A memory profile's weights go out as Go's heap sample types
    (alloc_space, inuse_space for what is still live...) and come back."""
    keep = []
    with hotscope.memory() as m:
        keep.append(bytearray(3_000_000))
        del bytearray(2_000_000)[:]
    data = m.data
    back = _core.load_pprof(data.pprof())
    msg = parse(data.pprof())
    types = {msg.string_table[t.type] for t in msg.sample_type}
    assert {"alloc_space", "alloc_objects", "inuse_space", "inuse_objects"} <= types
    for weight in ("bytes", "allocs", "leak_bytes", "leak_allocs", "peak_bytes", "peak_allocs"):
        assert back.total(clock=weight) == data.total(clock=weight), weight
    assert back.total(clock="leak_bytes") >= 3_000_000


def test_foreign_go_profile_loads():
    data = _core.load_pprof(gzip.compress(_go_style_profile()))
    assert data.total(clock="samples") == 5
    assert data.total(clock="cpu") == 50_000_000
    lines = sorted(data.collapsed(clock="samples").decode().splitlines())
    assert lines == [
        "main.main (main.go:5);main.helper (main.go:21) 2",
        "main.main (main.go:5);main.helper (main.go:21);0x4abcd0 3",
    ]
    meta = data.meta()
    assert meta["pprof_ignored"] == "contentions/count"
    assert meta["start_ns"] == "1700000000000000000" and meta["duration_ns"] == "5000000000"


def test_foreign_profile_with_unknown_types_counts_the_first_as_samples():
    strings = ["", "goroutine", "count", "f", "x.go"]
    raw = b"".join([
        field_bytes(1, field_varint(1, 1) + field_varint(2, 2)),
        field_bytes(5, field_varint(1, 1) + field_varint(2, 3) + field_varint(4, 4)),
        field_bytes(4, field_varint(1, 1) + field_bytes(4, field_varint(1, 1) + field_varint(2, 9))),
        field_bytes(2, field_bytes(1, varint(1)) + field_bytes(2, varint(7))),
    ] + [field_bytes(6, t.encode()) for t in strings])
    data = _core.load_pprof(raw)
    assert data.collapsed(clock="samples") == b"f (x.go:9) 7\n"
    assert data.meta()["pprof_samples_from"] == "goroutine/count"


# ---- (d) bad input -------------------------------------------------------------


def _minimal(strings=("", "samples", "count"), extra=b""):
    return (field_bytes(1, field_varint(1, 1) + field_varint(2, 2)) + extra
            + b"".join(field_bytes(6, t.encode()) for t in strings))


BAD_INPUTS = [
    ("empty file", b"", "empty file"),
    ("random bytes", bytes(random.Random(3).randrange(256) for _ in range(4096)), "pprof|protobuf"),
    ("text file", b"def main():\n    pass\n" * 20, "protobuf|pprof"),
    ("gzip of text", gzip.compress(b"hello world, not a profile\n" * 10), "protobuf|pprof"),
    ("gzip magic only", b"\x1f\x8b", "truncated"),
    ("truncated gzip header", gzip.compress(_minimal())[:7], "truncated"),
    ("no string table", field_bytes(1, field_varint(1, 1)), "no string table"),
    ("string_table[0] not empty", _minimal(strings=("x", "samples", "count")), r"string_table\[0\]"),
    ("string index out of range", _minimal(extra=field_bytes(5, field_varint(1, 1) + field_varint(2, 99))),
     "refers to string 99"),
    ("negative string index", _minimal(extra=field_bytes(5, field_varint(1, 1) + field_varint(2, -1))),
     "refers to string -1"),
    ("huge declared length", _minimal() + varint(6 << 3 | 2) + varint(1 << 40) + b"abc", "declares"),
    ("varint too long", _minimal() + b"\x48" + b"\xff" * 11, "varint"),
    ("truncated varint", _minimal() + b"\x48\xff", "truncated varint"),
    ("field number 0", b"\x02\x00" + _minimal(), "field number 0"),
    ("group wire type", _minimal() + b"\x0b", "wire type 3"),
    ("wrong wire type", _minimal() + field_varint(2, 5), "wire type 0"),
    ("unknown location", _minimal(extra=field_bytes(2, field_bytes(1, varint(5)) + field_bytes(2, varint(1)))),
     "location 5, which does not exist"),
    ("unknown function", _minimal(extra=field_bytes(4, field_varint(1, 1) + field_bytes(4, field_varint(1, 3)))),
     "function 3, which does not exist"),
    ("unknown mapping", _minimal(extra=field_bytes(4, field_varint(1, 1) + field_varint(2, 4))),
     "mapping 4, which does not exist"),
    ("duplicate ids", _minimal(extra=field_bytes(4, field_varint(1, 3)) * 2), "two locations have id 3"),
    ("id 0", _minimal(extra=field_bytes(5, field_varint(2, 0))), "id 0"),
    ("value count", _minimal(extra=field_bytes(2, field_bytes(2, varint(1) + varint(2)))),
     "has 2 values but there are 1 sample types"),
    ("line out of range", _minimal(extra=field_bytes(5, field_varint(1, 1)) + field_bytes(
        4, field_varint(1, 1) + field_bytes(4, field_varint(1, 1) + field_varint(2, 1 << 40)))), "out of range"),
]


@pytest.mark.parametrize("name,blob,message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_one_clear_value_error(name, blob, message):
    with pytest.raises(ValueError, match=message) as info:
        _core.load_pprof(blob)
    text = str(info.value)
    assert "\n" not in text and 10 < len(text) < 200


def test_corrupt_gzip_is_refused(traced):
    good = traced.pprof()
    cases = {
        "truncated": good[: len(good) // 2],
        "no trailer": good[:-8],
        "short trailer": good[:-3],
        "bad CRC": good[:-8] + bytes([good[-8] ^ 1]) + good[-7:],
        "bad size": good[:-4] + struct.pack("<I", 3),
        "trailing garbage": good + b"garbage",
        "bad method": good[:2] + b"\x07" + good[3:],
        "reserved flags": good[:3] + b"\x80" + good[4:],
        "bad block type": good[:10] + bytes([good[10] | 6]) + good[11:],
    }
    expected = {
        "truncated": "truncated", "no trailer": "truncated", "short trailer": "truncated",
        "bad CRC": "CRC-32 mismatch", "bad size": "size mismatch", "trailing garbage": "trailing garbage",
        "bad method": "compression method", "reserved flags": "reserved", "bad block type": "block type 3",
    }
    for name, blob in cases.items():
        with pytest.raises(ValueError, match=expected[name]):
            _core.load_pprof(blob)


def test_argument_errors():
    with pytest.raises(TypeError):
        _core.load_pprof("a string")
    with pytest.raises(TypeError):
        _core.load_pprof(None)


# ---- (e) mutation fuzzing -----------------------------------------------------------


def _mutate(rng, blob):
    b = bytearray(blob)
    if not b:
        return bytes([rng.randrange(256)])
    kind = rng.randrange(6)
    if kind == 0:  # flip 1-4 bits
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        del b[rng.randrange(len(b)):]
    elif kind == 2:  # splice in a copy of another part
        i, j = rng.randrange(len(b)), rng.randrange(len(b))
        b[i:i] = b[j:j + rng.randint(1, 64)]
    elif kind == 3:  # cut a piece out
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 32)]
    elif kind == 4:  # interesting bytes
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
    else:  # random bytes over a stretch
        i = rng.randrange(len(b))
        for k in range(i, min(len(b), i + rng.randint(1, 16))):
            b[k] = rng.randrange(256)
    return bytes(b)


def _load_or_error(blob):
    try:
        data = _core.load_pprof(blob)
    except ValueError as e:
        assert str(e) and "\n" not in str(e)
        return None
    # whatever loads must be usable
    data.collapsed(clock="samples")
    data.pprof()
    return data


def _small_traced():
    with hotscope.trace() as t:
        _fib(6)
        sorted([3, 1, 2])
    return t.snapshot()


def test_mutation_fuzz(sampled):
    rng = random.Random(20261121)
    started = time.perf_counter()
    loaded = 0
    small = _small_traced()
    seeds = [
        gzip.decompress(sampled.pprof()),  # the protobuf parser ...
        gzip.decompress(small.pprof()),
        _go_style_profile(),
    ]
    for seed in seeds:
        _load_or_error(seed)
        for _ in range(1500):
            if _load_or_error(_mutate(rng, seed)) is not None:
                loaded += 1
    # ... the gzip and inflate layers, on our output and on zlib's ...
    for blob in (small.pprof(), gzip.compress(seeds[2], 9), gzip.compress(seeds[2], 0)):
        for _ in range(700):
            _load_or_error(_mutate(rng, blob))
    # ... and valid gzip around a mutated protobuf
    for _ in range(300):
        _load_or_error(gzip.compress(_mutate(rng, seeds[1]), 1))
    assert loaded > 300  # many mutations keep a readable profile: the parser is exercised deep
    assert time.perf_counter() - started < 60


# ---- size and speed ---------------------------------------------------------------


def test_synthetic_profile_of_100k_stacks_renders_under_a_second():
    data = _core.load_pprof(synthetic_pprof(stacks=100_000, samples=1_000_000))
    assert data.total(clock="samples") == 1_000_000
    best = None
    for _ in range(3):
        started = time.perf_counter()
        out = data.pprof()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    assert best < 1.0, "pprof() of 100,000 stacks took %.2f s" % best
    back = _core.load_pprof(out)
    assert back.total(clock="samples") == 1_000_000
    assert back.total(clock="wall") == 1_000_000 * 1_000_000
    # our deflate is a real compressor: within 15% of zlib's default level
    raw = gzip.decompress(out)
    assert len(out) < 1.15 * len(gzip.compress(raw, 6))


# ---- the .pb.gz output of the CLI and the API ---------------------------------------


def test_cli_and_api_write_pb_gz(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "prog.py"
    script.write_text("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nfib(12)\n")
    out = tmp_path / "out.pb.gz"
    proc = subprocess.run([sys.executable, "-m", "hotscope", "trace", "-o", str(out), str(script)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = _core.load_pprof(out.read_bytes())
    assert "prog.py" in data.meta()["command"]
    msg = parse(out.read_bytes())
    names = {msg.string_table[f.name] for f in msg.function}
    assert "fib" in names

    # Half a second: a loaded machine delivers a fraction of the rate, and
    # the check below needs some samples, not many.
    with hotscope.sample(rate=1000) as s:
        deadline = time.perf_counter() + 0.5
        while time.perf_counter() < deadline:
            _fib(10)
            _steady(20000)
    s.save(str(tmp_path / "sampled.pb.gz"))
    back = _core.load_pprof((tmp_path / "sampled.pb.gz").read_bytes())
    assert back.total(clock="samples") == s.data.total(clock="samples") > 0
