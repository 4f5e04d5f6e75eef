"""hotscope: where does my Python program spend its time?

The engines, the profile model and the renderers are C (``hotscope._core``);
this package is the thin API and command line over them.

    with hotscope.trace() as t:        # deterministic profile, like cProfile
        work()
    t.print_stats(sort="cumulative")
    t.save("work.prof")                # pstats/snakeviz; .svg, .html, .collapsed, .txt too

    prof = hotscope.Profile()          # drop-in for cProfile.Profile
    prof.runcall(work)
    pstats.Stats(prof).sort_stats("tottime").print_stats(10)

    with hotscope.sample(rate=1000) as s:   # statistical, from a native thread
        work()
    s.save("work.collapsed")

    r = hotscope.bench("sorted(data)", setup="data = list(range(1000))")
    r.median, r.percentile(95)         # seconds per loop, timing loop in C
    with hotscope.memory() as m:       # every allocation, with its stack
        work()
    m.peak; m.top(10); m.leaks(); m.save("mem.txt")
"""

from ._core import ProfileData
from ._profile import Profile, trace, traced
from ._output import FORMATS, UnsupportedFormat
from ._sample import sample, SampleError
from ._lines import LineProfile, lines, profile
from ._view import load, ViewError
from ._bench import bench, BenchResult, BenchError
from ._mem import MemoryProfile, memory

__version__ = "0.1.0"


def load_ipython_extension(ipython):
    """``%load_ext hotscope``: the %hotscope and %hotscope_lines magics (hotscope/ipython.py)."""
    from .ipython import load_ipython_extension as load

    load(ipython)


def __getattr__(name):
    # hotscope.web is imported on first use: most programs never serve requests.
    if name == "web":
        import importlib

        return importlib.import_module(".web", __name__)
    raise AttributeError("module 'hotscope' has no attribute %r" % name)

__all__ = ["Profile", "ProfileData", "trace", "traced", "sample", "SampleError", "LineProfile", "lines", "profile",
           "MemoryProfile", "memory", "load", "ViewError", "bench", "BenchResult", "BenchError", "FORMATS",
           "UnsupportedFormat", "__version__"]
