"""Coverage-guided fuzzing of every reader (tools/fuzz.py: libFuzzer with
AddressSanitizer, leak checking and UBSan), for a few seconds per reader,
as part of make test when clang is installed (.ci/run installs it). The
fuzzers are C and do not depend on the interpreter, so they run once: with
the newest interpreter make test finds. `make fuzz FUZZ_SECONDS=600` runs
them for longer."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import once

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
@once.newest_only
def test_libfuzzer_finds_nothing_in_any_reader(tmp_path):
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed (Debian: apt-get install clang)")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "fuzz.py"), "--seconds", "3",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=900)
    report = out.stdout + out.stderr
    found = [line for line in out.stdout.splitlines() if not line.endswith("nothing found")]
    assert out.returncode == 0, "\n".join(found) + "\n\n" + report
    rows = re.findall(r"^(\w+)\s+(\d+) runs .* cov\s+(\d+) .*nothing found$", out.stdout, re.M)
    # every fuzzer ran inputs and reached code (a harness that crashed at
    # once or read nothing would show 0 here)
    assert len(rows) >= 10, report
    for name, runs, cov in rows:
        assert int(runs) > 0 and int(cov) > 100, (name, runs, cov)
