"""Build of the C extension hotscope._core (the metadata is in pyproject.toml).

Every .c file under src/ is compiled with the interpreter's own flags (as
setuptools takes them from sysconfig) plus warnings on; HOTSCOPE_CFLAGS adds
more, e.g. "-fsanitize=address" or "-Werror" in CI.
"""
import glob
import os
import shlex
import sys

from setuptools import Extension, setup

# The report's script and styles become C strings (src/render/assets_gen.c)
# before the glob below picks up the sources.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))
import embed_assets  # noqa: E402

embed_assets.write()

sources = sorted(glob.glob("src/**/*.c", recursive=True))
# Hidden visibility: only PyInit__core is exported, so calls between our
# files skip the PLT.
extra = ["-std=gnu11", "-Wall", "-Wextra", "-fvisibility=hidden"]
extra += shlex.split(os.environ.get("HOTSCOPE_CFLAGS", ""))

setup(
    ext_modules=[
        Extension(
            "hotscope._core",
            sources=sources,
            depends=sorted(glob.glob("src/**/*.h", recursive=True)),
            extra_compile_args=extra,
            extra_link_args=shlex.split(os.environ.get("HOTSCOPE_LDFLAGS", "")),
            libraries=["m"],
        )
    ]
)
