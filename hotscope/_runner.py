"""Running the user's program (script, -m module or -c code) under an engine.

The program runs as ``__main__`` with its own sys.argv and sys.path[0], as
``python script.py`` would run it; its output, exceptions and exit status
are its own. Errors that stop it from starting (missing file, syntax error,
unknown module) are raised as UsageError for the command line to report.
"""

import importlib.machinery
import importlib.util
import os
import sys
import traceback
import types


# `python -m hotscope` puts the current folder first on the path, so from a
# folder holding a hotscope package of its own (a source checkout, such as
# the repository root, not built in place) the child would import that one.
# A command that starts hotscope again in a new process runs this instead:
# the current folder (-c's first path entry) out, this very hotscope's
# folder first, as the hotscope command itself has it.
_AGAIN_CODE = ("import sys\n"
               "if sys.path[:1] == ['']: del sys.path[0]\n"
               "sys.path.insert(0, %r)\n"
               "from hotscope.cli import main\n"
               "sys.exit(main(sys.argv[1:]))\n")


def hotscope_again(args, flags=()):
    """The command line of a new interpreter running `hotscope ARGS` with
    this hotscope, whatever the current folder holds; `flags` are the
    interpreter's own (-X ...)."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [sys.executable] + list(flags) + ["-c", _AGAIN_CODE % package_parent] + list(args)


class UsageError(Exception):
    """The program could not be started; the message is one line for the user."""


class Program:
    """What to run: kind is 'script', 'module' or 'code'."""

    def __init__(self, kind, target, args):
        self.kind = kind
        self.target = target
        self.args = list(args)
        self.code = None
        self.module = None

    def describe(self):
        if self.kind == "module":
            return " ".join(["-m", self.target] + self.args)
        if self.kind == "code":
            return " ".join(["-c", repr(self.target)] + self.args)
        return " ".join([self.target] + self.args)

    def prepare(self):
        """Compile the program and build its __main__ module (no code runs)."""
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
        if self.kind == "script":
            path = self.target
            if not os.path.exists(path):
                raise UsageError("no such file: %s" % path)
            if os.path.isdir(path):
                raise UsageError("%s is a directory, not a Python script" % path)
            try:
                with open(path, "rb") as f:
                    source = f.read()
            except OSError as e:
                raise UsageError("cannot read %s: %s" % (path, e.strerror or e))
            self.code = _compile(source, path)
            spec = importlib.machinery.ModuleSpec("__main__", None, origin=path)
            main.__file__ = path
            main.__spec__ = spec
            main.__cached__ = None
            main.__package__ = None
            self.argv = [path] + self.args
            self.path0 = os.path.dirname(os.path.abspath(path))
        elif self.kind == "code":
            self.code = _compile(self.target, "<string>")
            main.__spec__ = None
            main.__package__ = None
            self.argv = ["-c"] + self.args
            self.path0 = ""
        else:
            self.path0 = os.getcwd()
            sys.path.insert(0, self.path0)  # so the module can be found, as python -m does
            try:
                spec = importlib.util.find_spec(self.target)
            except (ImportError, ValueError) as e:
                sys.path.pop(0)
                raise UsageError("cannot find module %s: %s" % (self.target, e))
            sys.path.pop(0)
            if spec is None:
                raise UsageError("no module named %s" % self.target)
            if spec.submodule_search_locations is not None:  # a package: run its __main__
                main_name = self.target + ".__main__"
                sys.path.insert(0, self.path0)
                try:
                    spec = importlib.util.find_spec(main_name)
                except ImportError as e:
                    spec = None
                finally:
                    sys.path.pop(0)
                if spec is None:
                    raise UsageError("%s is a package and cannot be run directly (no __main__)" % self.target)
            if spec.loader is None or not hasattr(spec.loader, "get_code"):
                raise UsageError("cannot run module %s: it has no code to run" % self.target)
            try:
                self.code = spec.loader.get_code(spec.name)
            except SyntaxError as e:
                raise UsageError(_syntax_message(e, spec.origin))
            except Exception as e:
                raise UsageError("cannot load module %s: %s" % (self.target, e))
            if self.code is None:
                raise UsageError("cannot run module %s: it has no code to run" % self.target)
            main.__file__ = spec.origin
            main.__spec__ = spec
            main.__cached__ = getattr(spec, "cached", None)
            main.__package__ = spec.parent
            main.__loader__ = spec.loader
            self.argv = [spec.origin or self.target] + self.args
        self.module = main

    def run(self, engine):
        """Run under `engine` (enable()/disable()); returns the exit status."""
        sys.argv = self.argv
        sys.path.insert(0, self.path0)
        # The program stays __main__ after it ends: its atexit handlers and
        # pickles made at exit may still refer to it.
        sys.modules["__main__"] = self.module
        namespace = self.module.__dict__
        code = self.code
        try:
            engine.enable()
            try:
                exec(code, namespace)
            finally:
                engine.disable()
        except SystemExit as e:
            return _exit_status(e)
        except KeyboardInterrupt:
            _print_program_exception(sys.exc_info())
            return 130
        except BaseException:
            _print_program_exception(sys.exc_info())
            return 1
        return 0


def _syntax_message(e, filename):
    where = e.filename or filename
    line = ("line %d" % e.lineno) if e.lineno else "unknown line"
    return "syntax error in %s, %s: %s" % (where, line, e.msg)


def _compile(source, filename):
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise UsageError(_syntax_message(e, filename))
    except ValueError as e:  # e.g. null bytes in the source
        raise UsageError("cannot compile %s: %s" % (filename, e))


def _exit_status(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF  # as the OS reports it: sys.exit(-1) is 255
    # sys.exit("message"): Python prints the message and exits with 1
    try:
        sys.stderr.write("%s\n" % (code,))
    except Exception:
        pass
    return 1


def _print_program_exception(exc_info):
    """Print the program's traceback without hotscope's own frames."""
    etype, value, tb = exc_info
    here = os.path.dirname(os.path.abspath(__file__))
    while tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == here:
        tb = tb.tb_next
    try:
        traceback.print_exception(etype, value, tb)
    except Exception:
        sys.stderr.write("%s: %s\n" % (etype.__name__, value))
