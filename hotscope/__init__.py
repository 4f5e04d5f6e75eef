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
"""

from ._core import ProfileData
from ._profile import Profile, trace, traced
from ._output import FORMATS, UnsupportedFormat
from ._sample import sample, SampleError

__version__ = "0.1.0"

__all__ = ["Profile", "ProfileData", "trace", "traced", "sample", "SampleError", "FORMATS", "UnsupportedFormat", "__version__"]
