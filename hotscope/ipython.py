"""IPython and Jupyter magics: ``%load_ext hotscope``, then

    %hotscope [-s] [-r HZ] [-o FILE] [-l N] [--html|--text] statement
    %%hotscope [options]                     (the whole cell)
    %hotscope_lines -f FUNC [-f FUNC ...] [-o FILE] [--html|--text] statement
    %%hotscope_lines -f FUNC ...             (the whole cell)

%hotscope traces every call (-s: samples at -r HZ instead, 1000 by
default); %hotscope_lines times each line of the functions named with -f
(names evaluated in the notebook's namespace). In a notebook the HTML
report appears inline, in an <iframe srcdoc> sandboxed to run only its own
script (it cannot touch the notebook); in a terminal the text report is
printed (-l N: at most N rows of the table). --html / --text choose
explicitly; -o FILE also saves the profile (format from the extension).

The code runs in the notebook's namespace, like %prun; the report holds
only what it ran, not IPython's own frames.
"""

import html
import itertools
import linecache
import sys

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.error import UsageError

from . import _output
from ._lines import LineProfile
from ._profile import Profile
from ._sample import sample

IFRAME_HEIGHT = "600px"
_cell_numbers = itertools.count(1)


def in_notebook(shell):
    """Whether the shell is a kernel with a rich frontend (Jupyter) rather
    than a terminal: kernels have one, terminal IPython has not."""
    return getattr(shell, "kernel", None) is not None


def inline_html(report):
    """An IPython HTML object showing the report (bytes) in a sandboxed
    iframe: scripts run, in an origin of their own."""
    from IPython.display import HTML

    # In a <div>: IPython warns about HTML that starts with <iframe>, its
    # IFrame class having no srcdoc.
    return HTML('<div class="hotscope-report"><iframe srcdoc="%s" sandbox="allow-scripts" '
                'style="width:100%%;height:%s;border:0" title="hotscope report"></iframe></div>'
                % (html.escape(report.decode("utf-8"), quote=True), IFRAME_HEIGHT))


def compile_source(source):
    """The code object of `source` under a name of its own, its text
    registered in linecache so tracebacks and reports can show it."""
    filename = "<hotscope-%d>" % next(_cell_numbers)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec"), filename


@magics_class
class HotscopeMagics(Magics):
    def _run(self, engine_start, engine_stop, source):
        """Runs `source` in the user namespace between start and stop;
        returns (data, filename, exception or None)."""
        code, filename = compile_source(source)
        namespace = self.shell.user_ns
        engine = engine_start()
        failure = None
        try:
            exec(code, namespace)
        except BaseException as e:  # shown after the report, as IPython shows it
            failure = e
        finally:
            data = engine_stop(engine)
        return data, filename, failure

    def _show(self, data, opts, text):
        """Displays the report (HTML in a notebook, text in a terminal) and
        saves it with -o."""
        output = opts.get("o")
        if output:
            try:
                _output.write(data, output, sampled=data.meta().get("engine") == "sample")
                print("hotscope: profile written to %s" % output)
            except (OSError, _output.UnsupportedFormat) as e:
                print("hotscope: cannot write %s: %s" % (output, e), file=sys.stderr)
        as_html = "html" in opts or ("text" not in opts and in_notebook(self.shell))
        if as_html:
            from IPython.display import display

            display(inline_html(_output.render(data, "report.html", sampled=data.meta().get("engine") == "sample")))
        else:
            print(text(data))

    @line_cell_magic
    def hotscope(self, line, cell=None):
        """Profile a statement (or the cell): every call, or sampled with -s.

        %hotscope [-s] [-r HZ] [-o FILE] [-l N] [--html|--text] statement
        """
        opts, stmt = self.parse_options(line, "sr:o:l:", "html", "text", posix=False, strict=False)
        source = cell if cell is not None else stmt
        if not source.strip():
            raise UsageError("%hotscope needs a statement to profile (or use %%hotscope on a cell)")
        try:
            rate = int(opts.get("r", 1000))
            limit = int(opts.get("l", 30))
        except ValueError:
            raise UsageError("-r and -l take whole numbers") from None
        sampled = "s" in opts
        if sampled:
            def start():
                s = sample(rate=rate, idle=True)
                s.__enter__()
                return s

            def stop(s):
                s.__exit__(None, None, None)
                return s.data
        else:
            def start():
                p = Profile()
                p.enable()
                return p

            def stop(p):
                p.disable()
                return p.snapshot()

        try:
            data, filename, failure = self._run(start, stop, source)
        except ValueError as e:  # another profiler holds the hooks
            raise UsageError("hotscope: %s" % e) from None
        data = data.focus("<module>", filename)
        data.set_meta("command", "%hotscope " + source.strip().splitlines()[0])

        def text(d):
            if sampled:
                return _output.sampled_report(d, limit=limit)
            return _output.text_report(d, sort="cumulative", limit=limit)

        self._show(data, opts, text)
        if failure is not None:
            raise failure

    @line_cell_magic
    def hotscope_lines(self, line, cell=None):
        """Time each line of the functions named with -f while the statement
        (or the cell) runs.

        %hotscope_lines -f FUNC [-f FUNC ...] [-o FILE] [--html|--text] statement
        """
        opts, stmt = self.parse_options(line, "f:o:", "html", "text", posix=False, strict=False, list_all=True)
        names = opts.get("f", [])
        if not names:
            raise UsageError("%hotscope_lines needs at least one function: -f NAME")
        opts = {key: (value[-1] if isinstance(value, list) and value else value) for key, value in opts.items()}
        profiler = LineProfile(decorated=False)
        for name in names:
            try:
                function = eval(name, self.shell.user_ns)
            except Exception as e:
                raise UsageError("-f %s: %s: %s" % (name, type(e).__name__, e)) from None
            try:
                profiler.add_function(function)
            except TypeError as e:
                raise UsageError("-f %s: %s" % (name, e)) from None
        source = cell if cell is not None else stmt
        if not source.strip():
            raise UsageError("%hotscope_lines needs a statement to run (or use %%hotscope_lines on a cell)")

        def start():
            profiler.enable()
            return profiler

        def stop(p):
            p.disable()
            return p.data

        try:
            data, _, failure = self._run(start, stop, source)
        except ValueError as e:
            raise UsageError("hotscope: %s" % e) from None
        data.set_meta("command", "%hotscope_lines " + source.strip().splitlines()[0])
        self._show(data, opts, lambda d: d.lines_text())
        if failure is not None:
            raise failure


def load_ipython_extension(ipython):
    ipython.register_magics(HotscopeMagics)
