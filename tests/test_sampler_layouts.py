"""The sampler's knowledge of CPython's internals, checked against the
interpreter's own headers: tools/layout_probe.c is compiled against the
running interpreter's (internal) headers and prints the offsets of every
field the sampler reads; the layout the sampler uses for this interpreter
(a static table for 3.10-3.12, _Py_DebugOffsets read from the process on
3.13) must give the same numbers."""

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig

import pytest

from hotscope import _core

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROBE = ROOT / "tools" / "layout_probe.c"

# Probe names that differ by version but land in one field of the sampler.
ALIASES = {
    "tstate.cframe": "tstate.frame",
    "tstate.current_frame": "tstate.frame",
    "frame.lasti": "frame.instr",
    "code.varnames": "code.localsplusnames",
    "code.nlocals": "code.nlocalsplus",
}
NOT_COMPARED = {"version_minor", "frame.state_size"}


def probe_offsets(tmp_path):
    include = sysconfig.get_paths()["include"]
    if not os.path.isdir(os.path.join(include, "internal")):
        pytest.skip("this interpreter was installed without its internal headers")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path / "probe"
    build = subprocess.run([cc, "-DPy_BUILD_CORE", "-I" + include, "-I" + os.path.join(include, "internal"),
                            str(PROBE), "-o", str(exe)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def test_layout_matches_the_interpreter_headers(tmp_path):
    expected = probe_offsets(tmp_path)
    assert expected["version_minor"] == sys.version_info.minor
    assert expected.get("frame.state_size", 1) == 1  # the walk reads f_state as one byte
    used = _core.Sampler(os.getpid()).layout
    compared = 0
    for name, value in expected.items():
        if name in NOT_COMPARED:
            continue
        key = ALIASES.get(name, name)
        if key == "code.nlocalsplus" and used[key] == -1:
            continue  # 3.13 does not publish it; the names tuple's size stands in
        assert used[key] == value, "%s: sampler uses %d, headers say %d" % (name, used[key], value)
        compared += 1
    assert compared >= 30
