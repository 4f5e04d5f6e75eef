"""The hotscope command line: ``hotscope COMMAND ...`` and ``python -m hotscope``.

Each failure is one line on stderr starting "hotscope:", with exit status 2
for bad usage; a profiled program's own exit status is passed through.
"""

import argparse
import os
import re
import sys

from . import __version__, _output
from ._runner import Program, UsageError

EXIT_USAGE = 2

PSTATS_SORT_KEYS = (
    "calls", "cumulative", "cumtime", "file", "filename", "module", "ncalls", "pcalls",
    "line", "name", "nfl", "stdname", "time", "tottime",
)

# Commands of the design that this version does not have yet.
PLANNED = {}


class CommandLineError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit 2."""

    def error(self, message):
        raise CommandLineError("%s (see '%s --help')" % (message, self.prog))


def fail(message, status=EXIT_USAGE):
    sys.stderr.write("hotscope: %s\n" % message)
    return status


def add_threads_option(parser):
    parser.add_argument("--threads", choices=_output.THREAD_VIEWS, default=None,
                        help="merged: fold every thread into one tree (in every output format); "
                        "separate: one table per thread in the text report (threads are kept apart "
                        "in files by default)")


def add_tree_options(parser):
    """Options of the text call tree, shared by every command that prints one."""
    parser.add_argument("--show-all", action="store_true",
                        help="in the call tree, show every frame: do not collapse library code "
                        "(standard library, site-packages, builtins) into '[N frames hidden]'")


def add_flame_options(parser):
    """--icicle, for every command that writes a flame graph with -o."""
    parser.add_argument("--icicle", action="store_true",
                        help="with -o FILE.svg: draw the flame graph top-down, the root at the top "
                        "and callees below (an icicle graph)")


def check_icicle(opts):
    """Fail now if --icicle is given without a flame graph SVG to draw."""
    if not opts.icicle:
        return
    try:
        if opts.output:
            _output.check_icicle(opts.output, True)
            return
    except ValueError:
        pass
    raise CommandLineError("--icicle draws the flame graph top-down: it goes with -o FILE.svg "
                           "(the HTML report has its own Flame/Icicle switch)")


# ---- hotscope trace ---------------------------------------------------------

TRACE_USAGE = (
    "hotscope trace [-o FILE] [-s SORT] [--limit N] [--clock wall|cpu] [--no-builtins] [--no-gc] [--no-asyncio] "
    "[--slow-calls N [--func MODULE:QUALNAME ...]] [--threads merged|separate] [--show-all] [--icicle] "
    "(script.py | -m module | -c code) [args...]"
)


def trace_parser():
    p = Parser(
        prog="hotscope trace",
        usage=TRACE_USAGE,
        description="Deterministic profile of every function call (a faster cProfile that "
        "also records CPU time and every thread).",
        epilog="Formats by extension: "
        + "; ".join("%s %s" % kv for kv in _output.FORMATS.items())
        + ". Without -o the table is printed. Sort keys: "
        + ", ".join(PSTATS_SORT_KEYS)
        + ".",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the profile to FILE")
    p.add_argument("-s", "--sort", metavar="SORT", default="cumulative",
                   help="table order, pstats keys, comma-separated (default: cumulative)")
    p.add_argument("--limit", type=int, default=50, metavar="N",
                   help="rows of the printed table (default 50; 0 = all)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="which clock the times show (both are recorded; default wall)")
    p.add_argument("--builtins", dest="builtins", action="store_true", default=True,
                   help="record C functions and builtins (default)")
    p.add_argument("--no-builtins", dest="builtins", action="store_false",
                   help="record Python functions only")
    p.add_argument("--no-gc", dest="gc", action="store_false", default=True,
                   help="do not show cyclic garbage collections as [gc] frames")
    p.add_argument("--asyncio", dest="asyncio", action="store_true", default=True,
                   help="give each asyncio task a root of its own, 'task NAME (COROUTINE)', with the "
                   "time it waits at each await as '[await ...]' frames (default)")
    p.add_argument("--no-asyncio", dest="asyncio", action="store_false",
                   help="record coroutines where the event loop resumed them, as cProfile does")
    p.add_argument("--slow-calls", type=int, default=0, metavar="N",
                   help="keep the N slowest calls of each function, with their caller and arguments "
                   "(a coroutine's call: from its first step to its return, awaits included)")
    p.add_argument("--func", action="append", default=[], metavar="MODULE:QUALNAME",
                   help="with --slow-calls: only these functions (repeatable)")
    add_threads_option(p)
    add_tree_options(p)
    add_flame_options(p)
    add_program_options(p)
    return p


def check_output(path):
    """Fail now, before a long run, if -o names an unknown format or a place
    that cannot be written."""
    if not path:
        return
    try:
        _output.format_of(path)
        _output.check_writable(path)
    except (ValueError, OSError) as e:
        raise CommandLineError("cannot write %s: %s" % (path, e))


def split_options(argv, takes_value):
    """Split argv into (hotscope's options, program args) at the program.

    The program starts at the first word that is not one of our options, or
    right after "-m NAME" / "-c CODE"; everything from there is the program's
    own, even words that look like our options.
    """
    ours = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return ours, argv[i + 1:]
        if not word.startswith("-") or word == "-":
            return ours, argv[i:]
        name = word.split("=", 1)[0]
        if name in ("-m", "-c") or (len(word) > 2 and word[:2] in ("-m", "-c") and not word.startswith("--")):
            if name in ("-m", "-c"):
                if i + 1 >= len(argv):
                    raise CommandLineError("%s needs an argument" % name)
                return ours + [word, argv[i + 1]], argv[i + 2:]
            return ours + [word[:2], word[2:]], argv[i + 1:]
        ours.append(word)
        if name in takes_value and "=" not in word and not (len(name) == 2 and len(word) > 2):
            if i + 1 >= len(argv):
                raise CommandLineError("%s needs an argument" % name)
            ours.append(argv[i + 1])
            i += 1
        i += 1
    return ours, []


def add_program_options(p):
    """-m and -c: what to run instead of a script (read by program_of)."""
    p.add_argument("-m", dest="module", metavar="module", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="code", help="run code given as a string")


def program_of(opts, rest, command):
    if opts.module and opts.code:
        raise CommandLineError("give -m or -c, not both")
    if opts.module:
        return Program("module", opts.module, rest)
    if opts.code is not None:
        return Program("code", opts.code, rest)
    if rest:
        return Program("script", rest[0], rest[1:])
    raise CommandLineError("nothing to run: give a script, -m module or -c code (see 'hotscope %s --help')" % command)


def cmd_trace(argv):
    parser = trace_parser()
    ours, rest = split_options(argv, {"-o", "--output", "-s", "--sort", "--limit", "--clock", "--slow-calls",
                                      "--func", "--threads"})
    opts = parser.parse_args(ours)
    program = program_of(opts, rest, "trace")
    if opts.slow_calls < 0 or opts.slow_calls > 100000:
        raise CommandLineError("--slow-calls must be 1 to 100000 (calls kept per function)")
    if opts.func and not opts.slow_calls:
        raise CommandLineError("--func chooses whose slow calls are kept: give --slow-calls N too")
    check_func_specs(opts.func)

    sort = [k.strip() for k in opts.sort.split(",") if k.strip()]
    for key in sort:
        if key not in PSTATS_SORT_KEYS:
            raise CommandLineError("unknown sort key '%s' (use one of: %s)" % (key, ", ".join(PSTATS_SORT_KEYS)))
    if opts.limit < 0:
        raise CommandLineError("--limit must be 0 (all) or more")
    check_output(opts.output)
    check_icicle(opts)

    program.prepare()  # UsageError for a missing file, syntax error, unknown module

    from ._profile import Profile

    profile = Profile(builtins=opts.builtins, clock=opts.clock, gc=opts.gc, asyncio=opts.asyncio)
    if opts.slow_calls:
        from . import _slow

        codes = None
        if opts.func:
            codes = []
            choose_functions(opts.func, program, codes.append)
        profile.watch_slow_calls(opts.slow_calls, _slow.describe_frame, codes)
    try:
        status = program.run(profile)
    finally:
        profile.disable()
    data = _output.thread_view(profile.snapshot(), opts.threads)
    data.set_meta("command", program.describe())
    separate = opts.threads == "separate"
    try:
        sys.stdout.flush()
    except Exception:
        pass
    if opts.output:
        try:
            _output.write(data, opts.output, sort=sort, limit=0, clock=opts.clock, show_all=opts.show_all,
                          separate=separate, icicle=opts.icicle)
        except OSError as e:
            fail("cannot write %s: %s; the report follows on stderr" % (opts.output, e.strerror or e))
            sys.stderr.write(_output.text_report(data, sort=sort, limit=opts.limit, clock=opts.clock,
                                                 show_all=opts.show_all, separate=separate))
            return status or 1
        sys.stderr.write("hotscope: profile written to %s\n" % opts.output)
    else:
        report = _output.text_report(data, sort=sort, limit=opts.limit, clock=opts.clock, show_tree=False,
                                     separate=separate)
        try:
            sys.stdout.write(report)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    return status


# ---- hotscope lines -----------------------------------------------------------

def check_func_specs(specs):
    for spec in specs:
        module, _, qualname = spec.partition(":")
        if not module or not qualname:
            raise CommandLineError("--func wants MODULE:QUALNAME, e.g. app.orders:Order.total (got %r)" % spec)


def choose_functions(specs, program, add_code):
    """Resolve each --func MODULE:QUALNAME (the script's own functions as
    __main__:NAME or SCRIPT:NAME, found in its compiled code before it
    runs) and pass its code objects to add_code; names that find nothing
    are reported on stderr, the others still used."""
    from . import _lines

    main_names = {"__main__"}
    if program.kind == "script":
        main_names.add(os.path.splitext(os.path.basename(program.target))[0])
    elif program.kind == "module":
        main_names.add(program.target)
    missing = []
    for spec in specs:
        # Other modules are imported now, before the program runs, from
        # the path the program will have: a script's own folder first, so
        # that a module beside it (as logdata.py is beside the worked
        # example's slow.py) is found.
        sys.path.insert(0, program.path0)
        try:
            codes = _lines.resolve(spec, program.code, main_names)
        except ValueError as e:
            raise CommandLineError(str(e))
        except LookupError as e:
            codes = []
            sys.stderr.write("hotscope: --func %s: %s\n" % (spec, e))
        finally:
            sys.path.remove(program.path0)
        if not codes:
            missing.append(spec)
        for code in codes:
            add_code(code)
    if missing:
        sys.stderr.write("hotscope: --func names nothing for: %s (the other functions are still profiled)\n"
                         % ", ".join(missing))


class profile_builtin:
    """`profile` in builtins while the program runs, as kernprof and
    memory_profiler provide it, so @profile works without an import."""

    def __enter__(self):
        import builtins

        from . import _lines

        self.saved = getattr(builtins, "profile", None)
        builtins.profile = _lines.profile

    def __exit__(self, *exc):
        import builtins

        if self.saved is None:
            if hasattr(builtins, "profile"):
                del builtins.profile
        else:
            builtins.profile = self.saved
        return False


LINES_USAGE = ("hotscope lines [-o FILE] [--func MODULE:QUALNAME ...] [--hot N] [--icicle] "
               "(script.py | -m module | -c code) [args...]")


def cmd_lines(argv):
    p = Parser(
        prog="hotscope lines",
        usage=LINES_USAGE,
        description="Time every line of chosen functions: those decorated with @profile "
        "(injected into builtins while the program runs, as kernprof does) and those named with --func.",
        epilog="The script's own functions are named as __main__:NAME or SCRIPT:NAME "
        "(the file name without .py); other modules by their import name, e.g. --func json.encoder:JSONEncoder.encode.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (.txt, .json, ...)")
    p.add_argument("--func", action="append", default=[], metavar="MODULE:QUALNAME",
                   help="a function to profile (repeatable)")
    p.add_argument("--hot", type=int, default=0, metavar="N",
                   help="first run the program once under the sampler, then line-profile the N "
                   "Python functions with the most own time (the program runs twice)")
    add_flame_options(p)
    add_program_options(p)
    ours, rest = split_options(argv, {"-o", "--output", "--func", "--hot"})
    opts = p.parse_args(ours)
    program = program_of(opts, rest, "lines")
    if opts.hot < 0:
        raise CommandLineError("--hot must be 1 or more")
    check_func_specs(opts.func)
    check_output(opts.output)
    check_icicle(opts)
    program.prepare()

    from . import _lines

    profiler = _lines.LineProfile()
    if opts.hot:
        try:
            hot = _lines.hot_functions(program, opts.hot)
        except LookupError as e:
            hot = []
            sys.stderr.write("hotscope: --hot: %s\n" % e)
        if hot:
            sys.stderr.write("hotscope: --hot %d chose: %s\n" % (
                opts.hot, ", ".join("%s (%.0f%% own)" % (spec, 100 * share) for spec, share in hot)))
        opts.func.extend(spec for spec, _share in hot)
    choose_functions(opts.func, program, profiler.add_code)
    with profile_builtin():
        try:
            status = program.run(profiler)
        finally:
            profiler.disable()
    data = profiler.data
    data.set_meta("command", program.describe())
    report = data.lines_text()
    if opts.output:
        try:
            _output.write(data, opts.output, icicle=opts.icicle)
        except OSError as e:
            fail("cannot write %s: %s; the report follows on stderr" % (opts.output, e.strerror or e))
            sys.stderr.write(report)
            return status or 1
        sys.stderr.write("hotscope: line profile written to %s\n" % opts.output)
    else:
        try:
            sys.stdout.flush()
            sys.stdout.write(report)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    return status


# ---- hotscope bench ---------------------------------------------------------------

BENCH_USAGE = (
    "hotscope bench [-s SETUP] [-n LOOPS] [-r REPEATS] [--warmup W] [--processes P] "
    "[--target-time S] [--gc] [--json FILE] STMT [STMT ...]\n"
    "       hotscope bench --compare BEFORE.json AFTER.json [--fail-above PCT]"
)


def count_arg(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a whole number: %r" % text)
        if value < minimum:
            raise argparse.ArgumentTypeError("must be %d or more, not %s" % (minimum, text))
        return value
    return parse


PERCENT = re.compile(r"(-?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(%?)\Z")


def percent_arg(text):
    """'5%' -> 0.05. The % sign is required: a bare 0.05 could mean 5% (a
    fraction) or 0.05%, so it is refused rather than guessed."""
    match = PERCENT.match(text)
    if not match:
        raise argparse.ArgumentTypeError("not a percentage: %r (write it as e.g. 5%%)" % text)
    minus, number, sign = match.groups()
    if minus:
        raise argparse.ArgumentTypeError("must be 0%% or more, not %s" % text)
    if not sign:
        raise argparse.ArgumentTypeError("%s has no %% sign (write 5%% for five percent: a bare number "
                                         "could be a fraction or a percentage)" % text)
    return float(number) / 100.0


def join_negative_value(argv, option):
    """argparse reads a value such as -5% after an option as an option of
    its own ("expected one argument"); given as OPTION=-5% it reaches the
    option's own check, which says what is wrong with it. `option` also
    matches its abbreviations, as argparse allows them."""
    out = list(argv)
    for i, word in enumerate(argv[:-1]):
        if word == "--":
            break
        if len(word) > 2 and option.startswith(word) and re.match(r"-[0-9.]", argv[i + 1]):
            out[i:i + 2] = [word + "=" + argv[i + 1], None]
    return [word for word in out if word is not None]


def bench_parser():
    p = Parser(
        prog="hotscope bench",
        usage=BENCH_USAGE,
        description="Time Python statements, as timeit does but with the timing loop in C, "
        "statistics and a verdict. With two or more statements each is compared with the first.",
        epilog="Times are seconds per loop (one execution of the statement). The setup runs before "
        "each repeat; names it defines are local to the statement. --compare exits 1 when a "
        "statement got significantly slower (Mann-Whitney p < 0.05) by more than --fail-above.",
    )
    p.add_argument("-s", "--setup", action="append", default=[], metavar="SETUP",
                   help="code run before each repeat (repeatable: joined by newlines)")
    p.add_argument("-n", "--number", type=count_arg(1), metavar="LOOPS",
                   help="loops per repeat (default: calibrated to --target-time)")
    p.add_argument("-r", "--repeat", type=count_arg(1), default=None, metavar="REPEATS",
                   help="repeats per statement (default %d)" % 20)
    p.add_argument("--warmup", type=count_arg(0), default=1, metavar="W",
                   help="repeats run first and discarded (default 1)")
    p.add_argument("-p", "--processes", type=count_arg(0), default=0, metavar="P",
                   help="spread the repeats over P fresh worker processes, one after another (default 0: "
                   "all in this process)")
    p.add_argument("--target-time", type=positive_float, default=None, metavar="S",
                   help="calibrate the loops so that one repeat takes about S seconds (default 0.1)")
    p.add_argument("--gc", action="store_true", help="keep the garbage collector on while timing")
    p.add_argument("--json", metavar="FILE", help="also save the results to FILE (for --compare)")
    p.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                   help="compare two --json files instead of timing")
    p.add_argument("--fail-above", type=percent_arg, default=None, metavar="PCT",
                   help="with --compare: what slow-down counts as a regression, a percentage with its "
                   "%% sign (default 5%%)")
    p.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("statements", nargs="*", metavar="STMT", help="a statement to time")
    return p


def bench_failure(e):
    fail(str(e))
    if e.detail:
        sys.stderr.write(e.detail if e.detail.endswith("\n") else e.detail + "\n")
    return e.status


def cmd_bench(argv):
    from . import _bench

    opts = bench_parser().parse_args(join_negative_value(argv, "--fail-above"))
    if opts.worker is not None:
        try:
            return _bench.worker_main(opts.worker)
        except (OSError, ValueError, KeyError, TypeError) as e:
            return fail("--worker is for hotscope's own worker processes (%s)" % e)
    if opts.compare:
        if opts.statements:
            raise CommandLineError("give statements to time or --compare BEFORE AFTER, not both")
        return bench_compare(opts)
    if opts.fail_above is not None:
        raise CommandLineError("--fail-above goes with --compare")
    if not opts.statements:
        raise CommandLineError("nothing to time: give one or more statements (see 'hotscope bench --help')")
    if opts.json:
        try:
            _output.check_writable(opts.json)
        except OSError as e:
            raise CommandLineError("cannot write %s: %s" % (opts.json, e))
    setup = "\n".join(opts.setup) if opts.setup else "pass"
    # As timeit does: the current directory is importable from the setup.
    sys.path.insert(0, os.getcwd())
    try:
        results = _bench.run(
            opts.statements, setup=setup, number=opts.number, repeat=opts.repeat, warmup=opts.warmup,
            processes=opts.processes, gc=opts.gc, progress=sys.stderr.isatty(),
            target_time=opts.target_time or _bench.DEFAULT_TARGET_TIME)
        text = _bench.report(results)
    except _bench.BenchError as e:
        return bench_failure(e)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    if opts.json:
        try:
            _bench.save(results, opts.json)
        except OSError as e:
            return fail("cannot write %s: %s" % (opts.json, e.strerror or e), 1)
        sys.stderr.write("hotscope: results written to %s\n" % opts.json)
    return 0


def bench_compare(opts):
    from . import _bench

    before_path, after_path = opts.compare
    loaded = []
    for path in (before_path, after_path):
        try:
            loaded.append(_bench.load(path))
        except OSError as e:
            raise CommandLineError("cannot read %s: %s" % (path, e.strerror or e))
        except ValueError as e:
            raise CommandLineError(str(e))
    pairs, by_text, unpaired = _bench.pair_results(*loaded)
    fail_above = 0.05 if opts.fail_above is None else opts.fail_above
    try:
        text, regressions = _bench.compare_report(before_path, after_path, pairs, by_text, fail_above,
                                                    unpaired=unpaired)
    except _bench.BenchError as e:
        return bench_failure(e)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 1 if regressions else 0


# ---- hotscope mem -------------------------------------------------------------

MEM_USAGE = ("hotscope mem [-o FILE] [--native] [--func MODULE:QUALNAME ...] [--interval MS] [--limit N] [--icicle] "
             "(script.py | -m module | -c code) [args...]")


def positive_ms(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number of milliseconds: %r" % text)
    if not 0 < value <= 3600000:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 3600000, not %s" % text)
    return value


def native_setup(argv):
    """--native: malloc must be interposed from the process's start, so the
    first run execs `python -m hotscope mem ...` again with the interposer in
    LD_PRELOAD (before any code of the program runs); that run puts the
    environment back as it was and records."""
    from . import _mem

    if not sys.platform.startswith("linux"):
        raise CommandLineError("--native works on Linux only (it interposes malloc with LD_PRELOAD)")
    if not _mem.restore_preload() and not _mem.native_available():
        try:
            _mem.reexec_native(["mem"] + list(argv))
        except (OSError, RuntimeError) as e:
            raise CommandLineError("--native: cannot run the program under the malloc interposer: %s"
                                   % (getattr(e, "strerror", None) or e))
    if not _mem.native_available():
        raise CommandLineError("--native: hotscope's malloc interposer did not load (%s in LD_PRELOAD); "
                               "is LD_PRELOAD ignored here (a setuid program)?" % _mem.native_library())


def cmd_mem(argv):
    p = Parser(
        prog="hotscope mem",
        usage=MEM_USAGE,
        description="Memory profile: every allocation of the Python allocators with the stack "
        "that made it; the peak and what held it, allocations by line, what is still allocated "
        "at the end (leaks), and the heap and RSS over time.",
        epilog="Formats by extension: .txt the report; .json hotscope's own JSON (every weight, "
        "the series, the per-line figures); .html the report with the heap and RSS over time and "
        "a flame graph of bytes allocated; .svg that flame graph with the memory plot; "
        ".collapsed stacks weighted by bytes allocated. Without -o the report is "
        "printed. If the program calls os._exit, the report is written first; if it is killed "
        "by a signal, nothing is. Functions decorated with @profile (injected into builtins "
        "while the program runs, as memory_profiler does) and those named with --func get a "
        "line-by-line table: bytes allocated and freed while each line ran, callees included.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the profile to FILE")
    p.add_argument("--func", action="append", default=[], metavar="MODULE:QUALNAME",
                   help="a function to follow line by line (repeatable); the script's own as "
                   "__main__:NAME or SCRIPT:NAME")
    p.add_argument("--native", action="store_true",
                   help="also record malloc, calloc, realloc and free (C extensions, libraries), with "
                   "native frames under the Python line that called into C (Linux; the program runs "
                   "with hotscope's malloc interposer in LD_PRELOAD)")
    p.add_argument("--interval", type=positive_ms, default=10.0, metavar="MS",
                   help="at most one heap/RSS sample per MS milliseconds (default 10)")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="rows per report section (default 10)")
    add_flame_options(p)
    add_program_options(p)
    ours, rest = split_options(argv, {"-o", "--output", "--interval", "--limit", "--func"})
    opts = p.parse_args(ours)
    check_func_specs(opts.func)
    if opts.limit < 1:
        raise CommandLineError("--limit must be 1 or more")
    program = program_of(opts, rest, "mem")
    if opts.output:
        try:
            if _output.format_of(opts.output) in _output.NOT_FOR_MEMORY:
                raise ValueError("a memory profile cannot be written as %s" % _output.format_of(opts.output))
            _output.check_writable(opts.output)
        except (ValueError, OSError) as e:
            raise CommandLineError("cannot write %s: %s" % (opts.output, e))
    check_icicle(opts)

    from . import _mem

    if opts.native:
        native_setup(argv)
    program.prepare()
    profile = _mem.MemoryProfile(interval_ms=opts.interval, native=opts.native, cut_base=True,
                                 decorated=True)
    choose_functions(opts.func, program, profile.add_code)
    real_exit = os._exit

    def report(status):
        """Write the report once, in the process that started recording."""
        if profile.forked_child:
            return status
        profile.disable()
        data = profile.data
        data.set_meta("command", program.describe())
        if opts.output:
            try:
                _output.write(data, opts.output, limit=opts.limit, icicle=opts.icicle)
            except OSError as e:
                fail("cannot write %s: %s; the report follows on stderr" % (opts.output, e.strerror or e))
                sys.stderr.write(data.mem_text(limit=opts.limit))
                return status or 1
            sys.stderr.write("hotscope: memory profile written to %s\n" % opts.output)
        else:
            try:
                sys.stdout.flush()
                sys.stdout.write(data.mem_text(limit=opts.limit))
                sys.stdout.flush()
            except BrokenPipeError:
                pass
        return status

    def exit_now(status):
        # os._exit skips every cleanup: write what was recorded first
        # (best effort), then leave as the program asked.
        try:
            if not profile.forked_child:
                report(status)
        finally:
            real_exit(status)

    os._exit = exit_now
    try:
        with profile_builtin():
            status = program.run(profile)
    finally:
        os._exit = real_exit
    return report(status)


# ---- dispatch ---------------------------------------------------------------

# ---- hotscope record / top / dump ---------------------------------------------

RECORD_USAGE = (
    "hotscope record [-o FILE] [--rate HZ] [--mode wall|cpu|gil] [--duration S] [--idle] [--show-all] [--icicle] "
    "[--threads merged|separate] [--subprocesses] [--native] (--pid PID | -- command args...)\n"
    "       hotscope record --continuous [--push URL] [-o DIR] [--upload-every S] [--service NAME] "
    "[--service-version V] [--label KEY=VALUE ...] [--push-auth USER:TOKEN] [--push-tenant ID] "
    "[--push-buffer N] [--push-buffer-mb MB] [--push-grace S] [--rate HZ] [--mode ...] [--idle] [--duration S] "
    "(--pid PID | -- command args...)"
)


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0, not %s" % text)
    return value


def pid_arg(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a process id: %r" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("not a process id: %s" % text)
    return value


def split_command(argv):
    """(our options, command after '--')."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def record_parser():
    p = Parser(
        prog="hotscope record",
        usage=RECORD_USAGE,
        description="Statistical profile of a Python process, read from outside it: no code "
        "change, works on a running PID.",
        epilog="Modes: wall = threads running on a CPU, each sample weighted by the time since "
        "the previous one (--idle adds waiting threads); cpu = the same threads weighted by "
        "the CPU time they used; gil = only the thread holding the GIL. Formats by extension: "
        + "; ".join("%s %s" % kv for kv in _output.FORMATS.items()) + ".",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the profile to FILE")
    p.add_argument("--rate", type=positive_float, default=100.0, metavar="HZ",
                   help="samples per second (default 100)")
    p.add_argument("--mode", choices=("wall", "cpu", "gil"), default="wall")
    p.add_argument("--duration", type=positive_float, metavar="S", help="stop after S seconds")
    p.add_argument("--idle", action="store_true",
                   help="keep samples of threads that wait, and of waiting asyncio tasks (where each awaits)")
    p.add_argument("--subprocesses", action="store_true",
                   help="also sample child processes (multiprocessing, subprocess)")
    p.add_argument("--native", action="store_true",
                   help="C/C++ frames too, around and between the Python ones (x86-64 Linux): "
                   "pauses every thread of the program for a moment at each sample (ptrace)")
    p.add_argument("--pid", type=pid_arg, help="sample this running process")
    p.add_argument("--limit", type=int, default=30, metavar="N",
                   help="rows of the printed summary (default 30; 0 = all)")
    add_threads_option(p)
    add_tree_options(p)
    add_flame_options(p)
    g = p.add_argument_group(
        "continuous profiling",
        "Keep sampling and hand over a pprof profile of each period: uploaded to a Pyroscope "
        "server (--push) and/or written to a folder (-o DIR). Threads are merged unless "
        "--threads separate.")
    g.add_argument("--continuous", action="store_true",
                   help="profile until the program exits, Ctrl-C or SIGTERM, one profile per period")
    g.add_argument("--push", metavar="URL",
                   help="the Pyroscope server to upload to (its base URL, e.g. http://localhost:4040)")
    g.add_argument("--upload-every", type=positive_float, metavar="S",
                   help="the period: a profile every S seconds (default %g)" % DEFAULT_UPLOAD_EVERY)
    g.add_argument("--service", metavar="NAME",
                   help="the application name (default: the program's name)")
    g.add_argument("--service-version", metavar="V", help="adds the label version=V")
    g.add_argument("--label", action="append", default=[], metavar="KEY=VALUE",
                   help="a label of every profile (repeatable; host=HOSTNAME is there by default)")
    g.add_argument("--push-auth", metavar="USER:TOKEN",
                   help="HTTP basic auth (Grafana Cloud); also taken from $HOTSCOPE_PUSH_AUTH or the URL")
    g.add_argument("--push-tenant", metavar="ID", help="the X-Scope-OrgID header (multi-tenant Pyroscope)")
    g.add_argument("--push-buffer", type=int, metavar="N",
                   help="profiles kept while the server is away (default 360); the oldest go first")
    g.add_argument("--push-buffer-mb", type=positive_float, metavar="MB",
                   help="and at most this many megabytes of them (default 64)")
    g.add_argument("--push-grace", type=float, metavar="S",
                   help="at exit, how long to keep trying to deliver what is left (default 5)")
    return p


DEFAULT_UPLOAD_EVERY = 10.0
CONTINUOUS_ONLY = ("push", "upload_every", "service", "service_version", "push_auth", "push_tenant",
                   "push_buffer", "push_buffer_mb", "push_grace")


def target_of(opts, command, name):
    if opts.pid and command:
        raise CommandLineError("give --pid or a command after '--', not both")
    if not opts.pid and not command:
        raise CommandLineError("nothing to sample: give --pid PID or '-- command args' (see 'hotscope %s --help')" % name)


class RecordDone(Exception):
    """Recording ends before it began, with this exit status."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def attach_record_target(opts, command):
    """Starts the command (if any) and attaches the sampler: (sampler,
    child, pid, follow). RecordDone when it cannot, with the status."""
    from . import _sample

    child = follow = None
    try:
        if command:
            child = _sample.start_program(command)
            pid, wait = child.pid, _sample.STARTUP_WAIT
        else:
            pid, wait = opts.pid, 0.0
        try:
            if child is not None and opts.subprocesses:
                # The command may be a shell or a launcher: sample the first
                # Python process of its tree, and the others as they come.
                try:
                    sampler, follow = _sample.attach_tree(child, rate=opts.rate, mode=opts.mode,
                                                          idle=opts.idle, native=opts.native)
                except KeyboardInterrupt:
                    raise RecordDone(_sample.wait_child(child, "interrupted")) from None
            else:
                sampler = _sample.attach(pid, rate=opts.rate, mode=opts.mode, idle=opts.idle, wait=wait,
                                         native=opts.native)
        except _sample.SampleError as e:
            if child is not None:
                if child.poll() is not None:
                    # The program was done before it could be sampled: its own status stands.
                    fail("%s exited before it could be sampled" % command[0], 0)
                    raise RecordDone(_sample.status_of(child.returncode)) from None
                fail("%s" % e, 0)
                raise RecordDone(_sample.wait_child(child, "exited")) from None
            raise RecordDone(fail(str(e))) from None
    except _sample.SampleError as e:
        raise RecordDone(fail(str(e))) from None
    return sampler, child, pid, follow


def cmd_record(argv):
    from . import _sample

    ours, command = split_command(argv)
    opts = record_parser().parse_args(ours)
    target_of(opts, command, "record")
    if opts.rate > 100000:
        raise CommandLineError("--rate must be at most 100000")
    given = [name for name in CONTINUOUS_ONLY if getattr(opts, name) is not None] + (["label"] if opts.label else [])
    check_icicle(opts)
    if opts.continuous:
        return record_continuous(opts, command)
    if given:
        raise CommandLineError("--%s goes with --continuous" % given[0].replace("_", "-"))
    check_output(opts.output)
    try:
        sampler, child, pid, follow = attach_record_target(opts, command)
    except RecordDone as done:
        return done.status
    if opts.subprocesses and follow is None:
        follow = _sample.ChildFollower(sampler, pid, sampled=[pid])
    reason = _sample.run_sampling(sampler, child=child, duration=opts.duration, follow=follow,
                                  traced=opts.native)
    status = _sample.wait_child(child, reason)
    data = sampler.snapshot()
    header = _sample.summary_header(sampler, data, reason)
    data = _output.thread_view(data, opts.threads)
    data.set_meta("command", " ".join(command) if command else "pid %d" % pid)
    clock = "cpu" if opts.mode == "cpu" else "wall"
    separate = opts.threads == "separate"
    if opts.output:
        try:
            _output.write(data, opts.output, clock=clock, sampled=True, show_all=opts.show_all, separate=separate,
                          icicle=opts.icicle)
        except OSError as e:
            fail("cannot write %s: %s; the summary follows" % (opts.output, e.strerror or e))
            sys.stderr.write(header + _sample.sampled_text(data, clock, opts.limit, show_all=opts.show_all,
                                                           color=_output.color_wanted(sys.stderr),
                                                           separate=separate))
            return status or 1
        sys.stderr.write(header)
        sys.stderr.write("hotscope: profile written to %s\n" % opts.output)
    else:
        try:
            sys.stdout.write(header + "\n" + _sample.sampled_text(data, clock, opts.limit, show_all=opts.show_all,
                                                                  color=_output.color_wanted(sys.stdout),
                                                                  separate=separate))
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    if reason == "interrupted" and child is None:
        return 130
    return status


def record_continuous(opts, command):
    """record --continuous: a profile per period, to a Pyroscope server
    (--push) and/or a folder (-o DIR), until the program exits, Ctrl-C or
    SIGTERM (hotscope/_fleet.py)."""
    import signal
    import socket

    from . import _fleet, _sample

    if not opts.push and not opts.output:
        raise CommandLineError("--continuous needs --push URL (a Pyroscope server) or -o DIR "
                               "(a folder for the profiles), or both")
    if opts.subprocesses:
        raise CommandLineError("--continuous does not follow subprocesses (--subprocesses) in this version")
    if opts.native:
        raise CommandLineError("--continuous does not read C frames (--native) in this version: "
                               "it pauses the target at every sample")
    every = opts.upload_every or DEFAULT_UPLOAD_EVERY
    if every < 0.1:
        raise CommandLineError("--upload-every must be at least 0.1 seconds")
    if opts.push_buffer is not None and opts.push_buffer < 1:
        raise CommandLineError("--push-buffer must be at least 1")
    if opts.push_grace is not None and not 0 <= opts.push_grace <= 3600:
        raise CommandLineError("--push-grace must be between 0 and 3600 seconds")
    try:
        endpoint = _fleet.Endpoint(opts.push, auth=opts.push_auth, tenant=opts.push_tenant) if opts.push else None
        for name in ("push_auth", "push_tenant", "push_buffer", "push_buffer_mb", "push_grace"):
            if getattr(opts, name) is not None and not opts.push:
                raise _fleet.FleetError("--%s goes with --push URL" % name.replace("_", "-"))
        service = _fleet.check_app_name(opts.service) if opts.service else None
        labels = {"host": _fleet.LABEL_VALUE_BAD.sub("_", socket.gethostname()) or "unknown"}
        if opts.service_version:
            labels["version"] = _fleet.parse_label("version=" + opts.service_version)[1]
        for text in opts.label:
            key, value = _fleet.parse_label(text)
            labels[key] = value
    except _fleet.FleetError as e:
        raise CommandLineError(str(e)) from None
    folder = opts.output
    if folder:
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise CommandLineError("-o %s: with --continuous, -o names a folder (one file per period)" % folder)
        try:
            os.makedirs(folder, exist_ok=True)
            if not os.access(folder, os.W_OK):
                raise PermissionError(13, "permission denied")
        except OSError as e:
            raise CommandLineError("cannot write to %s: %s" % (folder, e.strerror or e)) from None
    if service is None:
        service = _fleet.service_name(_fleet.program_name(command or _fleet.cmdline_of(opts.pid)))
    name = _fleet.app_name(service, labels.items())
    pusher = None
    if endpoint is not None:
        pusher = _fleet.Pusher(endpoint, name, opts.rate,
                               max_profiles=opts.push_buffer or _fleet.DEFAULT_BUFFER_PROFILES,
                               max_bytes=int((opts.push_buffer_mb or _fleet.DEFAULT_BUFFER_MB) * 1e6),
                               backoff=(min(1.0, every / 2), min(_fleet.BACKOFF_MAX, max(2.0, 6 * every))))
    try:
        sampler, child, pid, _ = attach_record_target(opts, command)
    except RecordDone as done:
        return done.status

    def on_sigterm():
        # A clean stop: the program (when hotscope started it) is asked to
        # stop too, and sampling goes on while it winds down.
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    stop = _fleet.StopSignals(on_sigterm).install()
    where = " and ".join(([endpoint.display + " as " + name] if endpoint else [])
                         + (["%s/" % folder.rstrip("/")] if folder else []))
    sys.stderr.write("hotscope record: profiling pid %d continuously at %g Hz, a profile every %gs to %s\n"
                     % (pid, opts.rate, every, where))
    sys.stderr.flush()
    if pusher is not None:
        pusher.start()
    periods = _fleet.Periods(sampler, opts.threads or "merged", " ".join(command) if command else "pid %d" % pid,
                             pusher=pusher, folder=folder, service=service)
    reason = "interrupted"
    try:
        try:
            reason = _fleet.run(sampler, periods, every, child=child, duration=opts.duration, stop=stop)
            # From here Ctrl-C is the usual KeyboardInterrupt again: it cuts
            # the waits short (for the program, for the last uploads).
            stop.restore([signal.SIGINT])
            status = _sample.wait_child(child, "exited" if reason == "terminated" else reason)
        except KeyboardInterrupt:
            status = _sample.wait_child(child, "interrupted")
            reason = "interrupted"
        stop.restore([signal.SIGINT])
        grace = _fleet.EXIT_GRACE if opts.push_grace is None else opts.push_grace
        left = pusher.close(grace) if pusher is not None else 0
    finally:
        stop.restore()
    stats = sampler.stats
    sent = periods.periods - periods.empty
    parts = ["%d period%s" % (periods.periods, "s" if periods.periods != 1 else "")]
    if periods.empty:
        parts.append("%d without samples (nothing sent)" % periods.empty)
    if pusher is not None:
        parts.append("%d of %d profiles delivered" % (pusher.delivered, sent))
        if pusher.dropped:
            parts.append("%d dropped (buffer full)" % pusher.dropped)
        if pusher.rejected:
            parts.append("%d refused by the server" % pusher.rejected)
        if left:
            parts.append("%d not delivered" % left)
    if folder:
        parts.append("%d written to %s" % (periods.written, folder))
    sys.stderr.write("hotscope record: %s; %d samples of pid %d at %g Hz%s\n" % (
        ", ".join(parts), stats["passes"], pid, opts.rate,
        "; stopped by Ctrl-C" if reason == "interrupted" else "; stopped by SIGTERM" if reason == "terminated" else ""))
    if child is None:
        return 130 if reason == "interrupted" else 0
    return status


DIAGNOSE_USAGE = "hotscope diagnose [-o FILE] [--quick] [--rate HZ] (script.py | -m module | -c code) [args...]"


def cmd_diagnose(argv):
    from . import _diagnose, _findings, _sample

    p = Parser(
        prog="hotscope diagnose",
        usage=DIAGNOSE_USAGE,
        description="Tell what kind of bottleneck a program has and where: CPU-bound, waiting on I/O "
        "or sleep, blocked on a lock or the GIL, GC-heavy, GIL-contended, death by a thousand calls, "
        "memory growth; ranked by the time that could be saved, with the evidence and the usual "
        "remedies. The program runs up to four times: sampled from outside (its output and exit "
        "status are this run's), traced, its CPU-bound functions line by line, and under the memory "
        "engine if its memory grew; those later runs get no input and their output is discarded.",
    )
    p.add_argument("-o", "--output", metavar="FILE",
                   help="also write the profile with its findings (.html shows them in a Findings "
                   "section; any format hotscope writes)")
    p.add_argument("--quick", action="store_true",
                   help="run the program once, sampled, and judge from that alone")
    p.add_argument("--rate", type=positive_float, default=_diagnose.SAMPLE_RATE, metavar="HZ",
                   help="samples per second of the first run (default %(default)s)")
    add_program_options(p)
    ours, rest = split_options(argv, {"-o", "--output", "--rate"})
    opts = p.parse_args(ours)
    program = program_of(opts, rest, "diagnose")
    if opts.rate > 100000:
        raise CommandLineError("--rate must be at most 100000")
    check_output(opts.output)
    program.prepare()
    try:
        status, findings, data, header = _diagnose.diagnose(program, rate=opts.rate, quick=opts.quick)
    except _sample.SampleError as e:
        return fail(str(e))
    report = _findings.text(findings, "\n".join(header))
    try:
        sys.stdout.flush()
        sys.stdout.write("\n" + report)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    if opts.output:
        if data is None:
            fail("no profile to write to %s: the program could not be sampled" % opts.output, 0)
            return status or 1
        try:
            if opts.output.lower().endswith(".txt"):
                with open(opts.output, "w") as f:
                    f.write(report)
            else:
                _output.write(data, opts.output, sampled=data.meta().get("engine") == "sample")
        except OSError as e:
            fail("cannot write %s: %s" % (opts.output, e.strerror or e), 0)
            return status or 1
        sys.stderr.write("hotscope: profile and findings written to %s\n" % opts.output)
    return status


def cmd_dump(argv):
    from . import _sample

    p = Parser(prog="hotscope dump", usage="hotscope dump --pid PID [--locals] [--native]",
               description="Print every thread's current Python stack of a running process once.")
    p.add_argument("--pid", type=pid_arg, required=True, help="the process")
    p.add_argument("--locals", action="store_true", help="show local variables (simple values)")
    p.add_argument("--native", action="store_true",
                   help="C/C++ frames too (x86-64 Linux; stops the program's threads for a moment)")
    opts = p.parse_args(argv)
    try:
        sampler = _sample.attach(opts.pid, native=opts.native)
        threads = sampler.dump(locals=opts.locals)
    except _sample.SampleError as e:
        return fail(str(e))
    except ProcessLookupError as e:
        return fail(str(e))
    sys.stdout.write(_sample.format_dump(threads, show_locals=opts.locals))
    return 0


def cmd_top(argv):
    from . import _sample

    p = Parser(prog="hotscope top", usage="hotscope top [--rate HZ] [--mode wall|cpu|gil] [--idle] (--pid PID | -- command args...)",
               description="A live view of the hottest functions of a Python process; q quits.")
    p.add_argument("--rate", type=positive_float, default=100.0, metavar="HZ")
    p.add_argument("--mode", choices=("wall", "cpu", "gil"), default="wall")
    p.add_argument("--idle", action="store_true")
    p.add_argument("--pid", type=pid_arg)
    p.add_argument("--limit", type=int, default=0, metavar="N", help="rows (default: fit the terminal)")
    ours, command = split_command(argv)
    opts = p.parse_args(ours)
    target_of(opts, command, "top")
    from . import _top

    return _top.run(opts, command)


# ---- hotscope diff -------------------------------------------------------------

DIFF_USAGE = "hotscope diff BEFORE AFTER [-o FILE] [--clock wall|cpu|samples] [--limit N] [--icicle]"


def cmd_diff(argv):
    from . import _diff, _view

    p = Parser(
        prog="hotscope diff",
        usage=DIFF_USAGE,
        description="Compare two saved profiles of the same program, e.g. before and after an "
        "optimisation: which call paths got slower or faster, and by how much.",
        epilog="Call paths are matched by function (name and file; line numbers are ignored, so "
        "moved code still matches). Outputs by extension: .txt the table of the largest changes "
        "(also printed without -o); .svg a differential flame graph (the stacks of both runs, each "
        "as wide as the larger of the two; red where they got slower, blue where faster, teal where "
        "only BEFORE has them); .html both on one page.",
    )
    p.add_argument("before", metavar="BEFORE", help="the profile to compare against")
    p.add_argument("after", metavar="AFTER", help="the new profile")
    p.add_argument("-o", "--output", metavar="FILE", help="write the comparison to FILE")
    p.add_argument("--clock", choices=_diff.CLOCKS, default=None,
                   help="which weight to compare (default: wall time when both profiles have it, "
                   "else CPU time, else samples)")
    p.add_argument("--limit", type=int, default=30, metavar="N",
                   help="rows of the table of changes (default 30; 0 = all)")
    p.add_argument("--icicle", action="store_true",
                   help="with -o FILE.svg or FILE.html: draw the differential flame graph top-down, "
                   "the root at the top")
    opts = p.parse_args(argv)
    if opts.limit < 0:
        raise CommandLineError("--limit must be 0 (all) or more")
    fmt = "text"
    if opts.output:
        try:
            fmt = _diff.output_format(opts.output)
            _output.check_writable(opts.output)
        except (ValueError, OSError) as e:
            raise CommandLineError("cannot write %s: %s" % (opts.output, e))
    if opts.icicle and fmt not in ("svg", "html"):
        raise CommandLineError("--icicle goes with -o FILE.svg or FILE.html (the differential flame graph "
                               "drawn top-down)")
    try:
        before, after = _diff.load_profiles(opts.before, opts.after)
    except _diff.DiffError as e:
        return fail("error: %s" % e)
    names = "%s and %s" % (_view.printable(opts.before), _view.printable(opts.after))
    clock = opts.clock or _diff.common_clock(before, after)
    if clock is None:
        return fail("error: %s: no weight recorded in both (wall time, CPU time or samples): "
                    "nothing to compare" % names)
    problem = _diff.no_common_weight(before, after, clock)
    if problem:
        return fail("error: %s: %s" % (names, problem))
    title = "hotscope diff: %s -> %s" % (os.path.basename(opts.before), os.path.basename(opts.after))
    try:
        payload = _diff.render(before, after, fmt, clock=clock, limit=opts.limit, title=title, icicle=opts.icicle)
    except ValueError as e:
        return fail("error: %s" % e)
    if not opts.output:
        try:
            sys.stdout.write(payload)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        return 0
    try:
        _diff.write(opts.output, payload)
    except OSError as e:
        return fail("error: cannot write %s: %s" % (opts.output, e.strerror or e), 1)
    sys.stderr.write("hotscope: comparison written to %s\n" % opts.output)
    return 0


# ---- hotscope view -------------------------------------------------------------

VIEW_USAGE = ("hotscope view FILE [-o OUT] [--clock wall|cpu|samples] [-s SORT] [--limit N] [--show-all] "
              "[--icicle] [--input FORMAT]")


def cmd_view(argv):
    from . import _view

    p = Parser(
        prog="hotscope view",
        usage=VIEW_USAGE,
        description="Read a saved profile (any format hotscope writes, and cProfile .prof, "
        "speedscope, collapsed stacks and pprof files from other tools) and print its summary "
        "or write it in another format. The input format is told from the content.",
        epilog="Formats by extension: " + "; ".join("%s %s" % kv for kv in _output.FORMATS.items())
        + ". Profiles read from pstats files have estimated stacks (pstats keeps callers, not stacks).",
    )
    p.add_argument("file", metavar="FILE", help="the profile to read")
    p.add_argument("-o", "--output", metavar="OUT", help="write the profile to OUT")
    p.add_argument("--clock", choices=("wall", "cpu", "samples"),
                   help="the weight to show (default: wall time, else CPU time, else samples)")
    p.add_argument("-s", "--sort", metavar="SORT", default="cumulative",
                   help="table order, pstats keys, comma-separated (default: cumulative)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="rows of the printed table (default 50; 10 per section of a memory report)")
    p.add_argument("--input", choices=_view.INPUT_FORMATS, metavar="FORMAT",
                   help="read FILE as this format (%s) instead of telling it from the content"
                   % ", ".join(_view.INPUT_FORMATS))
    add_tree_options(p)
    add_flame_options(p)
    opts = p.parse_args(argv)
    sort = [k.strip() for k in opts.sort.split(",") if k.strip()]
    for key in sort:
        if key not in PSTATS_SORT_KEYS:
            raise CommandLineError("unknown sort key '%s' (use one of: %s)" % (key, ", ".join(PSTATS_SORT_KEYS)))
    check_output(opts.output)
    check_icicle(opts)
    try:
        data = _view.load(opts.file, opts.input)
    except _view.ViewError as e:
        return fail("error: %s: %s" % (_view.printable(opts.file), _one_line(str(e))))
    merged = data.meta().get("merged")
    if merged:
        # An HTML report of a big profile carries its call tree with the
        # narrowest paths merged (src/render/narrow_merge.h): say so, since
        # every figure by function read from it counts those paths under
        # the merged frame, not under their own functions.
        sys.stderr.write("hotscope: note: %s holds a call tree cut to fit: %s. What was merged counts here as "
                         "'[narrow paths merged]'; the report's own function table (in a browser) is exact.\n"
                         % (_view.printable(opts.file), _one_line(merged)))
    clock, sampled = _view.default_clock(data)
    if opts.clock == "samples":
        clock, sampled = "samples", True
    elif opts.clock:
        clock, sampled = opts.clock, False
    if opts.output:
        try:
            _output.write(data, opts.output, sort=sort, limit=0, clock=clock, sampled=sampled,
                          show_all=opts.show_all, icicle=opts.icicle)
        except OSError as e:
            return fail("error: cannot write %s: %s" % (opts.output, e.strerror or e))
        except (ValueError, AttributeError) as e:
            return fail("error: cannot write %s: %s" % (opts.output, _one_line(str(e))))
        sys.stderr.write("hotscope: profile written to %s\n" % opts.output)
        return 0
    engine = data.meta().get("engine")
    limit = 50 if opts.limit is None else opts.limit
    # The call tree as record and trace -o x.txt show it: colors on a
    # terminal (NO_COLOR, FORCE_COLOR), library frames folded unless --show-all.
    color = _output.color_wanted(sys.stdout)
    try:
        if engine == "memory":
            report = data.mem_text(limit=10 if opts.limit is None else max(opts.limit, 1))
        elif engine == "lines":
            report = data.lines_text()
        elif sampled:
            report = _output.sampled_report(data, clock=clock, limit=limit, show_all=opts.show_all, color=color)
        else:
            report = _output.text_report(data, sort=sort, limit=limit, clock=clock, show_all=opts.show_all,
                                         color=color)
        sys.stdout.write(report)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


def _one_line(text):
    """Messages from readers stay on one line whatever a file holds."""
    return " ".join(text.split())


COMMANDS = {"trace": cmd_trace, "lines": cmd_lines, "mem": cmd_mem, "record": cmd_record, "top": cmd_top, "dump": cmd_dump, "diff": cmd_diff, "view": cmd_view, "bench": cmd_bench,
            "diagnose": cmd_diagnose}

MAIN_HELP = """usage: hotscope COMMAND [options] ...

Where does my Python program spend its time? (hotscope %s)

commands:
  trace    deterministic per-function profile: calls, self and total time,
           callers, wall and CPU clocks, every thread (a faster cProfile)
  record   statistical profile read from outside a process (--pid or -- command);
           --continuous: a pprof every few seconds to Pyroscope / Grafana (--push URL)
  top      a live view of the hottest functions of a running process
  dump     every thread's current stack of a running process
  lines    line-by-line timing of chosen functions (@profile or --func)
  mem      memory: allocations by line and stack, the peak, leaks, heap over time
  diff     compare two saved profiles (before/after an optimisation)
  view     read a saved profile (hotscope's, cProfile's, speedscope, collapsed,
           pprof) and print it or write it in another format (-o)
  bench    time statements (timing loop in C), compare them with a verdict;
           --json and --compare for before/after checks in CI
  diagnose what kind of bottleneck, where, and what usually helps: runs the
           program sampled, traced, then line by line where it burns CPU
%s
'hotscope COMMAND --help' tells more.
""" % (__version__, "".join("  %-8s %s (not in this version yet)\n" % kv for kv in PLANNED.items()))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv:
            return fail("no command given (commands: %s; see 'hotscope --help')"
                        % ", ".join(list(COMMANDS) + list(PLANNED)))
        if argv[0] in ("-h", "--help", "help"):
            sys.stdout.write(MAIN_HELP)
            return 0
        if argv[0] in ("-V", "--version"):
            sys.stdout.write("hotscope %s\n" % __version__)
            return 0
        command, rest = argv[0], argv[1:]
        if command in PLANNED:
            return fail("'%s' (%s) is not in this version of hotscope yet" % (command, PLANNED[command]))
        if command not in COMMANDS:
            return fail("unknown command '%s' (commands: %s)" % (command, ", ".join(list(COMMANDS) + list(PLANNED))))
        return COMMANDS[command](rest)
    except CommandLineError as e:
        return fail(str(e))
    except UsageError as e:
        return fail(str(e))
    except KeyboardInterrupt:
        return fail("interrupted", 130)


def entry():
    status = main()
    sys.exit(status)
