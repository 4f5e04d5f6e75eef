"""Tests of code that does not depend on the interpreter running pytest (the
C engines' standalone test programs, the C fuzzers, the line-table decoder
checked against every interpreter at once) run once per `make test`: with
the newest interpreter it finds (tools/pythons.py), not once per
interpreter. HOTSCOPE_ONCE_TESTS=every runs them under any interpreter (for
running one of those files by hand)."""
import functools
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import pythons  # noqa: E402


@functools.lru_cache(maxsize=None)
def newest_minor():
    """The newest 3.x minor version make test runs, or None if none is found."""
    found = [subprocess.run([p, "-c", "import sys; print(sys.version_info[1])"], capture_output=True,
                            text=True).stdout.strip() for p in pythons.find()]
    return max((int(v) for v in found if v.isdigit()), default=None)


def runs_here():
    return os.environ.get("HOTSCOPE_ONCE_TESTS") == "every" or newest_minor() in (None, sys.version_info[1])


newest_only = pytest.mark.skipif(not runs_here(), reason="interpreter-independent: make test runs it once, "
                                 "with the newest interpreter (HOTSCOPE_ONCE_TESTS=every: here too)")
