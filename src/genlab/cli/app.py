"""The `genlab` command: the app that gathers every command group, and its entry point.

Every experiment command takes --json (results on stdout) and --out DIR (figures
as PNG and SVG, results as JSON and CSV). User mistakes end with one line on
stderr and exit status 2; nothing is written before the inputs are checked, and
every file is written atomically. One module per command group beside this one;
what they share is in ``_common``.
"""

from __future__ import annotations

import signal
import sys
import warnings

import typer

from ..core.errors import GenlabError
from .article import article
from .biasvar import biasvar
from .double_descent import double_descent, regularize
from .fit import curve_app, fit
from .lab import lab
from .lottery import lottery
from .runs import runs_app
from .scaling import scaling_app

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="genlab: a generalization laboratory (fits, bias-variance, double descent, scaling laws).")
app.command()(fit)
app.add_typer(curve_app, name="curve")
app.command()(biasvar)
app.command("double-descent")(double_descent)
app.command("regularize")(regularize)
app.add_typer(scaling_app, name="scaling")
app.command("lottery")(lottery)
app.add_typer(runs_app, name="runs")
app.command()(article)
app.command("lab")(lab)


def _version(value: bool):
    if value:
        from ..core.version import __version__

        typer.echo(f"genlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    pass


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(f"genlab: warning: {message}\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: workers stopped, jobs left resumable; exit status 143 (128 + 15)."""


_terminated = False


def _on_sigterm(signum, frame):
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second one must not cut the clean-up short
    raise _Terminated()


def _stdout_errors(fn, *args, **kwargs):
    """Call ``fn``; an OS error writing stdout (a full disk, ``> /dev/full``) becomes a one-line
    :class:`~genlab.core.io.OutputError` naming it, other errors go on as they are."""
    try:
        return fn(*args, **kwargs)
    except OSError as exc:
        if exc.filename is None:
            from ..core.io import write_stdout

            write_stdout("")  # raises OutputError if stdout is what cannot be written
        raise


def _sigterm_as_interrupt(fn, *args, **kwargs):
    """Call ``fn`` with SIGTERM raising :class:`_Terminated`, then put the previous handler back.

    Typer turns the interrupt into exit status 130; a SIGTERM gets its own line and 143.
    """
    global _terminated
    _terminated = False
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to handle
        return _stdout_errors(fn, *args, **kwargs)
    try:
        rv = _stdout_errors(fn, *args, **kwargs)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if _terminated:
        sys.stderr.write("genlab: terminated (SIGTERM)\n")
        return 143
    return rv


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning user mistakes into one line and exit status 2
    (Ctrl-C: 130; SIGTERM, handled the same way: 143)."""
    warnings.showwarning = _one_line_warning
    # loky says this when an idle pool retires its workers between sweeps: nothing is lost
    warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
    command = typer.main.get_command(app)
    try:
        rv = _sigterm_as_interrupt(command.main, args=argv, prog_name="genlab", standalone_mode=False)
    except GenlabError as exc:
        sys.stderr.write(f"genlab: error: {exc}\n")
        return 2
    except MemoryError as exc:  # past what the estimates up front foresaw (genlab.core.limits)
        why = " ".join(str(exc).split())
        sys.stderr.write(f"genlab: error: out of memory{f' ({why})' if why else ''}; give smaller sizes "
                         "(see 'Limits' in the README)\n")
        return 2
    except RecursionError:
        sys.stderr.write("genlab: error: an input is nested too deeply to process; simplify it\n")
        return 2
    except OverflowError as exc:  # e.g. an id beyond SQLite's 64-bit INTEGER
        why = " ".join(str(exc).split())
        sys.stderr.write(f"genlab: error: a number is too large{f' ({why})' if why else ''}; give a smaller one\n")
        return 2
    except typer.TyperException as exc:  # click's usage errors, vendored by typer
        if type(exc).__name__ == "NoArgsIsHelpError":
            sys.stdout.write(exc.format_message() + "\n")
            return 0
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        sys.stderr.write(f"genlab: error: {message}{hint}\n")
        return 2
    except OSError as exc:  # a path the checks up front could not foresee (e.g. --out under /proc)
        if exc.filename is None:
            raise
        sys.stderr.write(f"genlab: error: {exc.strerror}: {exc.filename}; give another path\n")
        return 2
    except (KeyboardInterrupt, typer.Abort):
        if _terminated:
            sys.stderr.write("genlab: terminated (SIGTERM)\n")
            return 143
        sys.stderr.write("genlab: interrupted\n")
        return 130
    return rv if isinstance(rv, int) else 0

def run() -> None:  # console-script entry point
    status = main()
    from ..core.io import write_stdout

    try:
        write_stdout("")  # flush now: a full disk under stdout is one line, not Python's error at exit
    except GenlabError as exc:
        sys.stderr.write(f"genlab: error: {exc}\n")
        status = status or 2
    sys.exit(status)


if __name__ == "__main__":
    run()
