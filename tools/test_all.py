"""make test: build hotscope and run the whole suite on every interpreter.

For each interpreter from tools/pythons.py: a virtual environment under
.venvs/, pytest and the build tools from PyPI, `pip install .` with warnings
as errors, then pytest. Prints one summary line per interpreter and a final
"N passed, N failed" line; exits non-zero if anything failed or no test ran.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import pythons  # noqa: E402


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, **kw)


def venv_for(python):
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    venv = os.path.join(ROOT, ".venvs", version)
    bin_python = os.path.join(venv, "bin", "python")
    if not os.path.exists(bin_python):
        if run([python, "-m", "venv", venv]).returncode != 0:
            return version, None
    return version, bin_python


def main():
    extra_pytest = sys.argv[1:]
    interpreters = pythons.find()
    if not interpreters:
        print("no supported Python interpreter found")
        return 1
    results = []
    total_passed = total_failed = 0
    for python in interpreters:
        started = time.time()
        version, venv_python = venv_for(python)
        if venv_python is None:
            results.append((version, "could not create a virtual environment", 0, 1))
            total_failed += 1
            continue
        env = dict(os.environ, HOTSCOPE_CFLAGS=os.environ.get("HOTSCOPE_CFLAGS", "-Werror"),
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
        steps = [
            # protobuf: tests/test_pprof.py checks the pprof output against profile.proto with it;
            # jsonschema: tests/test_readers.py validates speedscope output against its schema;
            # selenium drives chromium in tests/test_browser*.py (.ci/run installs the browser);
            # line_profiler: tests/test_lines_vs_line_profiler.py checks README's table of where its
            # hit counts differ (a wheel on 3.10-3.13);
            # flask, django, fastapi, uvicorn: tests/test_web.py serves real apps through hotscope.web;
            # ipython: tests/test_ipython.py runs the magics; uvloop: trace and record of tasks on
            # its loop (tests/test_trace_asyncio.py, test_sample.py) (all wheels on 3.10-3.13, ~30 s together).
            [venv_python, "-m", "pip", "install", "-q", "pytest", "protobuf", "jsonschema", "selenium", "line_profiler",
             "flask", "django", "fastapi", "uvicorn", "ipython", "uvloop", "setuptools>=61", "wheel"],
            [venv_python, "-m", "pip", "install", "-q", "--no-build-isolation", "--force-reinstall", "--no-deps", "."],
        ]
        broken = None
        for step in steps:
            if run(step, cwd=ROOT, env=env).returncode != 0:
                broken = "install failed: " + " ".join(step[3:])
                break
        if broken:
            results.append((version, broken, 0, 1))
            total_failed += 1
            continue
        # Run from tests/ so the installed package, not the source tree, is imported.
        proc = run([venv_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", ROOT,
                    "-c", os.path.join(ROOT, "pyproject.toml")] + extra_pytest + [os.path.join(ROOT, "tests")],
                   cwd=os.path.join(ROOT, "tests"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True)
        sys.stdout.write(proc.stdout)
        last = [l for l in proc.stdout.splitlines() if l.strip()][-1:] or [""]
        passed = sum(int(n) for n in re.findall(r"(\d+) passed", last[0]))
        failed = sum(int(n) for n in re.findall(r"(\d+) (?:failed|error)", last[0]))
        if proc.returncode not in (0,) and failed == 0:
            failed = 1
        total_passed += passed
        total_failed += failed
        results.append((version, last[0].strip("= "), passed, failed))
        print("[%s done in %.0fs]" % (version, time.time() - started), flush=True)
    print()
    print("hotscope test summary")
    for version, line, _, _ in results:
        print("  Python %-5s %s" % (version, line))
    print("total: %d passed, %d failed" % (total_passed, total_failed))
    return 0 if total_failed == 0 and total_passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
