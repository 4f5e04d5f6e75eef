"""The hotscope command line: ``hotscope COMMAND ...`` and ``python -m hotscope``.

Each failure is one line on stderr starting "hotscope:", with exit status 2
for bad usage; a profiled program's own exit status is passed through.
"""

import argparse
import os
import sys

from . import __version__, _output
from ._runner import Program, UsageError

EXIT_USAGE = 2

PSTATS_SORT_KEYS = (
    "calls", "cumulative", "cumtime", "file", "filename", "module", "ncalls", "pcalls",
    "line", "name", "nfl", "stdname", "time", "tottime",
)

# Commands of the design that this version does not have yet.
PLANNED = {
    "bench": "benchmarking statements",
    "view": "converting saved profiles",
    "diff": "comparing two profiles",
}


class CommandLineError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line and exit 2."""

    def error(self, message):
        raise CommandLineError("%s (see '%s --help')" % (message, self.prog))


def fail(message, status=EXIT_USAGE):
    sys.stderr.write("hotscope: %s\n" % message)
    return status


# ---- hotscope trace ---------------------------------------------------------

TRACE_USAGE = (
    "hotscope trace [-o FILE] [-s SORT] [--limit N] [--clock wall|cpu] [--no-builtins] "
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
    p.add_argument("-m", dest="module", metavar="module", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="code", help="run code given as a string")
    return p


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


def cmd_trace(argv):
    parser = trace_parser()
    ours, rest = split_options(argv, {"-o", "--output", "-s", "--sort", "--limit", "--clock"})
    opts = parser.parse_args(ours)
    if opts.module and opts.code:
        raise CommandLineError("give -m or -c, not both")
    if opts.module:
        program = Program("module", opts.module, rest)
    elif opts.code is not None:
        program = Program("code", opts.code, rest)
    elif rest:
        program = Program("script", rest[0], rest[1:])
    else:
        raise CommandLineError("nothing to run: give a script, -m module or -c code (see 'hotscope trace --help')")

    sort = [k.strip() for k in opts.sort.split(",") if k.strip()]
    for key in sort:
        if key not in PSTATS_SORT_KEYS:
            raise CommandLineError("unknown sort key '%s' (use one of: %s)" % (key, ", ".join(PSTATS_SORT_KEYS)))
    if opts.limit < 0:
        raise CommandLineError("--limit must be 0 (all) or more")
    if opts.output:
        try:
            _output.format_of(opts.output)
            _output.check_writable(opts.output)
        except (ValueError, OSError) as e:
            raise CommandLineError("cannot write %s: %s" % (opts.output, e))

    program.prepare()  # UsageError for a missing file, syntax error, unknown module

    from ._profile import Profile

    profile = Profile(builtins=opts.builtins, clock=opts.clock)
    try:
        status = program.run(profile)
    finally:
        profile.disable()
    data = profile.snapshot()
    data.set_meta("command", program.describe())
    try:
        sys.stdout.flush()
    except Exception:
        pass
    if opts.output:
        try:
            _output.write(data, opts.output, sort=sort, limit=0, clock=opts.clock)
        except OSError as e:
            fail("cannot write %s: %s; the report follows on stderr" % (opts.output, e.strerror or e))
            sys.stderr.write(_output.text_report(data, sort=sort, limit=opts.limit, clock=opts.clock))
            return status or 1
        sys.stderr.write("hotscope: profile written to %s\n" % opts.output)
    else:
        report = _output.text_report(data, sort=sort, limit=opts.limit, clock=opts.clock, show_tree=False)
        try:
            sys.stdout.write(report)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    return status


# ---- hotscope lines -----------------------------------------------------------

LINES_USAGE = "hotscope lines [-o FILE] [--func MODULE:QUALNAME ...] (script.py | -m module | -c code) [args...]"


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
    p.add_argument("-m", dest="module", metavar="module", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="code", help="run code given as a string")
    ours, rest = split_options(argv, {"-o", "--output", "--func", "--hot"})
    opts = p.parse_args(ours)
    program = program_of(opts, rest, "lines")
    if opts.hot < 0:
        raise CommandLineError("--hot must be 1 or more")
    for spec in opts.func:
        module, _, qualname = spec.partition(":")
        if not module or not qualname:
            raise CommandLineError("--func wants MODULE:QUALNAME, e.g. app.orders:Order.total (got %r)" % spec)
    if opts.output:
        try:
            _output.format_of(opts.output)
            _output.check_writable(opts.output)
        except (ValueError, OSError) as e:
            raise CommandLineError("cannot write %s: %s" % (opts.output, e))
    program.prepare()

    import builtins

    from . import _lines

    profiler = _lines.LineProfile()
    main_names = {"__main__"}
    if program.kind == "script":
        main_names.add(os.path.splitext(os.path.basename(program.target))[0])
    elif program.kind == "module":
        main_names.add(program.target)
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
    missing = []
    for spec in opts.func:
        try:
            codes = _lines.resolve(spec, program.code, main_names)
        except ValueError as e:
            raise CommandLineError(str(e))
        except LookupError as e:
            codes = []
            sys.stderr.write("hotscope: --func %s: %s\n" % (spec, e))
        if not codes:
            missing.append(spec)
        for code in codes:
            profiler.add_code(code)
    if missing:
        sys.stderr.write("hotscope: --func names nothing for: %s (the other functions are still profiled)\n"
                         % ", ".join(missing))

    saved_profile = getattr(builtins, "profile", None)
    builtins.profile = _lines.profile
    try:
        status = program.run(profiler)
    finally:
        profiler.disable()
        if saved_profile is None:
            del builtins.profile
        else:
            builtins.profile = saved_profile
    data = profiler.data
    data.set_meta("command", program.describe())
    report = data.lines_text()
    if opts.output:
        try:
            _output.write(data, opts.output)
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


# ---- hotscope mem -------------------------------------------------------------

MEM_USAGE = "hotscope mem [-o FILE] [--native] [--interval MS] [--limit N] (script.py | -m module | -c code) [args...]"


def positive_ms(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number of milliseconds: %r" % text)
    if not 0 < value <= 3600000:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 3600000, not %s" % text)
    return value


def cmd_mem(argv):
    p = Parser(
        prog="hotscope mem",
        usage=MEM_USAGE,
        description="Memory profile: every allocation of the Python allocators with the stack "
        "that made it; the peak and what held it, allocations by line, what is still allocated "
        "at the end (leaks), and the heap and RSS over time.",
        epilog="Formats by extension: .txt the report; .json hotscope's own JSON (every weight, "
        "the series); .collapsed stacks weighted by bytes allocated. Without -o the report is "
        "printed. If the program calls os._exit, the report is written first; if it is killed "
        "by a signal, nothing is.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the profile to FILE")
    p.add_argument("--native", action="store_true",
                   help="also record malloc/free of C extensions (not in this version yet)")
    p.add_argument("--interval", type=positive_ms, default=10.0, metavar="MS",
                   help="at most one heap/RSS sample per MS milliseconds (default 10)")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="rows per report section (default 10)")
    p.add_argument("-m", dest="module", metavar="module", help="run a module, as python -m")
    p.add_argument("-c", dest="code", metavar="code", help="run code given as a string")
    ours, rest = split_options(argv, {"-o", "--output", "--interval", "--limit"})
    opts = p.parse_args(ours)
    if opts.native:
        raise CommandLineError("--native (malloc/free of C extensions) is not in this version of hotscope yet")
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
    program.prepare()

    from . import _mem

    profile = _mem.MemoryProfile(interval_ms=opts.interval, cut_base=True)
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
                _output.write(data, opts.output, limit=opts.limit)
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
        status = program.run(profile)
    finally:
        os._exit = real_exit
    return report(status)


# ---- dispatch ---------------------------------------------------------------

# ---- hotscope record / top / dump ---------------------------------------------

RECORD_USAGE = (
    "hotscope record [-o FILE] [--rate HZ] [--mode wall|cpu|gil] [--duration S] [--idle] "
    "[--subprocesses] (--pid PID | -- command args...)"
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
    p.add_argument("--idle", action="store_true", help="keep samples of threads that wait")
    p.add_argument("--subprocesses", action="store_true",
                   help="also sample child processes (multiprocessing, subprocess)")
    p.add_argument("--native", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--pid", type=pid_arg, help="sample this running process")
    p.add_argument("--limit", type=int, default=30, metavar="N",
                   help="rows of the printed summary (default 30; 0 = all)")
    return p


def target_of(opts, command, name):
    if opts.pid and command:
        raise CommandLineError("give --pid or a command after '--', not both")
    if not opts.pid and not command:
        raise CommandLineError("nothing to sample: give --pid PID or '-- command args' (see 'hotscope %s --help')" % name)


def cmd_record(argv):
    from . import _sample

    ours, command = split_command(argv)
    opts = record_parser().parse_args(ours)
    target_of(opts, command, "record")
    if opts.native:
        raise CommandLineError("--native (C frames) is not in this version of hotscope yet")
    if opts.rate > 100000:
        raise CommandLineError("--rate must be at most 100000")
    if opts.output:
        try:
            _output.format_of(opts.output)
            _output.check_writable(opts.output)
        except (ValueError, OSError) as e:
            raise CommandLineError("cannot write %s: %s" % (opts.output, e))
    child = None
    try:
        if command:
            child = _sample.start_program(command)
            pid, wait = child.pid, _sample.STARTUP_WAIT
        else:
            pid, wait = opts.pid, 0.0
        try:
            sampler = _sample.attach(pid, rate=opts.rate, mode=opts.mode, idle=opts.idle, wait=wait)
        except _sample.SampleError as e:
            if child is not None:
                if child.poll() is not None:
                    # The program was done before it could be sampled: its own status stands.
                    fail("%s exited before it could be sampled" % command[0], 0)
                    return _sample.status_of(child.returncode)
                fail("%s" % e, 0)
                return _sample.wait_child(child, "exited")
            return fail(str(e))
    except _sample.SampleError as e:
        return fail(str(e))
    follow = _sample.ChildFollower(sampler, pid) if opts.subprocesses else None
    reason = _sample.run_sampling(sampler, child=child, duration=opts.duration, follow=follow)
    status = _sample.wait_child(child, reason)
    data = sampler.snapshot()
    data.set_meta("command", " ".join(command) if command else "pid %d" % pid)
    clock = "cpu" if opts.mode == "cpu" else "wall"
    header = _sample.summary_header(sampler, data, reason)
    if opts.output:
        try:
            _output.write(data, opts.output, clock=clock, sampled=True)
        except OSError as e:
            fail("cannot write %s: %s; the summary follows" % (opts.output, e.strerror or e))
            sys.stderr.write(header + _sample.sampled_text(data, clock, opts.limit))
            return status or 1
        sys.stderr.write(header)
        sys.stderr.write("hotscope: profile written to %s\n" % opts.output)
    else:
        try:
            sys.stdout.write(header + "\n" + data.top(clock=clock, limit=opts.limit))
            sys.stdout.flush()
        except BrokenPipeError:
            pass
    if reason == "interrupted" and child is None:
        return 130
    return status


def cmd_dump(argv):
    from . import _sample

    p = Parser(prog="hotscope dump", usage="hotscope dump --pid PID [--locals]",
               description="Print every thread's current Python stack of a running process once.")
    p.add_argument("--pid", type=pid_arg, required=True, help="the process")
    p.add_argument("--locals", action="store_true", help="show local variables (simple values)")
    opts = p.parse_args(argv)
    try:
        sampler = _sample.attach(opts.pid)
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


COMMANDS = {"trace": cmd_trace, "lines": cmd_lines, "mem": cmd_mem, "record": cmd_record, "top": cmd_top, "dump": cmd_dump}

MAIN_HELP = """usage: hotscope COMMAND [options] ...

Where does my Python program spend its time? (hotscope %s)

commands:
  trace    deterministic per-function profile: calls, self and total time,
           callers, wall and CPU clocks, every thread (a faster cProfile)
  record   statistical profile read from outside a process (--pid or -- command)
  top      a live view of the hottest functions of a running process
  dump     every thread's current stack of a running process
  lines    line-by-line timing of chosen functions (@profile or --func)
  mem      memory: allocations by line and stack, the peak, leaks, heap over time
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
