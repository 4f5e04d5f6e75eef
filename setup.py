"""Build of the C extension hotscope._core (the metadata is in pyproject.toml).

Every .c file under src/ but src/preload/ is compiled with the interpreter's
own flags (as setuptools takes them from sysconfig) plus warnings on;
HOTSCOPE_CFLAGS adds more, e.g. "-fsanitize=address" or "-Werror" in CI.

src/preload/ is hotscope._native_alloc, the malloc interposer that `hotscope
mem --native` loads with LD_PRELOAD: a plain shared library that happens
to be built as an extension (it has no PyInit and is never imported).
"""
import glob
import hashlib
import os
import shlex
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# The report's script and styles become C strings (src/render/assets_gen.c)
# before the glob below picks up the sources.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools"))
import embed_assets  # noqa: E402

embed_assets.write()

PRELOAD = os.path.join("src", "preload", "")
sources = sorted(p for p in glob.glob("src/**/*.c", recursive=True) if not p.startswith(PRELOAD))
# Hidden visibility: only PyInit__core is exported, so calls between our
# files skip the PLT.
extra = ["-std=gnu11", "-Wall", "-Wextra", "-fvisibility=hidden"]
extra += shlex.split(os.environ.get("HOTSCOPE_CFLAGS", ""))
link = shlex.split(os.environ.get("HOTSCOPE_LDFLAGS", ""))


class BuildExtPerFlags(build_ext):
    """Object files go to a directory named after the flags: setuptools
    rebuilds only sources newer than their objects, so without this a build
    with new flags (say -fsanitize=address) would silently reuse objects
    compiled without them."""

    tag = hashlib.sha1("\0".join(extra + link).encode()).hexdigest()[:10]

    def finalize_options(self):
        super().finalize_options()
        self.build_temp = os.path.join(self.build_temp, "flags-" + self.tag)

    def build_extension(self, ext):
        # The linked library has one place whatever the flags, and is relinked
        # only when older than its objects: objects cached from an earlier
        # build with these flags would leave a library linked with others
        # (an "ASan" install that was not). A stamp beside it names the flags.
        target = self.get_ext_fullpath(ext.name)
        stamp = os.path.join(os.path.dirname(self.build_temp),
                             os.path.basename(target) + ".flags")
        try:
            with open(stamp) as f:
                same = f.read() == self.tag
        except OSError:
            same = False
        if not same and os.path.exists(target):
            os.remove(target)
        super().build_extension(ext)
        with open(stamp, "w") as f:
            f.write(self.tag)


setup(
    cmdclass={"build_ext": BuildExtPerFlags},
    ext_modules=[
        Extension(
            "hotscope._core",
            sources=sources,
            depends=sorted(glob.glob("src/**/*.h", recursive=True)),
            extra_compile_args=extra,
            extra_link_args=link,
            libraries=["m"],
        ),
        Extension(
            "hotscope._native_alloc",
            sources=sorted(glob.glob(PRELOAD + "*.c")),
            depends=sorted(glob.glob(PRELOAD + "*.h")),
            # -fno-builtin: this file defines malloc and friends; the
            # compiler must not treat them (or rewrite calls) as its own.
            # Frame pointers: each call reports its caller's registers.
            extra_compile_args=extra + ["-fno-builtin", "-fno-omit-frame-pointer"],
            extra_link_args=link,
            libraries=["dl"],
        ),
    ]
)
