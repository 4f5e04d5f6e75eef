"""Lists the CPython interpreters to build and test with, one path per line.

HOTSCOPE_PYTHONS (space-separated paths) overrides. Otherwise: every 3.10+
interpreter under `pyenv root`, then python3.X on PATH for versions not found
there, then python3 itself.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

SUPPORTED = [(3, 10), (3, 11), (3, 12), (3, 13)]


def version_of(python):
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find():
    if os.environ.get("HOTSCOPE_PYTHONS"):
        return os.environ["HOTSCOPE_PYTHONS"].split()
    found = {}
    root = None
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    candidates = []
    if root:
        candidates += sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3")))
    candidates += [shutil.which("python3.%d" % minor) for _, minor in SUPPORTED]
    candidates += [shutil.which("python3"), sys.executable]
    for path in candidates:
        if not path or not re.search(r"python3", path):
            continue
        v = version_of(path)
        if v in SUPPORTED and v not in found:
            found[v] = path
    return [found[v] for v in sorted(found)]


if __name__ == "__main__":
    print("\n".join(find()))
