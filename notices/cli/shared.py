"""Hold what every command shares: the Typer app, the exit codes, and the edge where errors become exits."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import json
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.exceptions import TyperException

from .._version import __version__
from ..errors import BatchError, ComplianceError, ConfigError, NoticesError
from ..workspace import home_from

EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_COMPLIANCE, EXIT_LOCKED, EXIT_INTERNAL, EXIT_CRASH = 0, 1, 2, 3, 4, 5, 6
EXIT_SIGNAL = 128  # stopped by a signal: 128 + its number, as a shell reports a process the signal ended (Ctrl-C 130, SIGTERM 143)
ERROR_LOG = "error.log"

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Maryland property-tax notices and bill inserts as print-ready PDFs.")
collectors_app = typer.Typer(no_args_is_help=True, help="List collector profiles and show what they hold.")
app.add_typer(collectors_app, name="collectors")
envelopes_app = typer.Typer(no_args_is_help=True, help="List envelope stocks and show their windows on the page.")
app.add_typer(envelopes_app, name="envelopes")


HOME_HELP = "The collector's workspace folder (see `notices init`); default: $NOTICES_HOME. Its profiles and templates come first."


def home_option() -> Any:
    """The --home option every command takes (a fresh OptionInfo per command)."""
    return typer.Option(None, "--home", metavar="DIR", help=HOME_HELP, callback=_workspace)


def _workspace(given: Path | None) -> Path | None:
    """--home, else NOTICES_HOME, checked as the command line is read: a missing workspace is a usage error (exit 2)."""
    try:
        return home_from(given)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


def json_ok(summary: Any) -> None:
    """Print a successful run's summary for a pipeline and exit 0."""
    typer.echo(json.dumps({"ok": True, "exit_code": EXIT_OK, **summary.to_dict()}, indent=1))
    raise typer.Exit(EXIT_OK)


def fail(exc: NoticesError, as_json: bool) -> NoReturn:
    code = EXIT_LOCKED if isinstance(exc, BatchError) else EXIT_COMPLIANCE if isinstance(exc, ComplianceError) else EXIT_USAGE
    if as_json:
        typer.echo(json.dumps({"ok": False, "exit_code": code, **exc.to_dict()}, indent=1))
    else:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def shown(load: Callable[[], dict[str, Any]], as_json: bool) -> dict[str, Any] | None:
    """A `show` command's data: printed as JSON (then None), or returned for the command to print as text."""
    try:
        data = load()
    except NoticesError as exc:
        fail(exc, as_json)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return None
    typer.echo(f"{data['id']}: {data['title']}")
    typer.echo(f"  source: {data['source']}")
    return data


class Stopped(KeyboardInterrupt):
    """A SIGTERM (a service manager, a pipeline's time limit) or SIGHUP, raised wherever the main process is, as Ctrl-C raises
    KeyboardInterrupt: the run unwinds the same way, its folders unlocked and its workers stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, frame: Any) -> None:
    # A second signal while the run unwinds ends the process at once: what is journaled is safe even so.
    signal.signal(signum, signal.SIG_DFL)
    raise Stopped(signum)


def stopped(exc: KeyboardInterrupt, as_json: bool, on_stop: str) -> NoReturn:
    """Say that the command was stopped, what stays and how to go on, and exit 128 + the signal's number."""
    signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    name = signal.Signals(signum).name
    message = f"stopped by {name} before the end" + (f"; {on_stop}" if on_stop else "")
    if as_json:
        typer.echo(json.dumps({"ok": False, "exit_code": EXIT_SIGNAL + signum, "error": "Stopped", "signal": name,
                               "message": message}, indent=1))
    else:
        typer.secho(f"\n{message}", fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(EXIT_SIGNAL + signum)


@contextmanager
def guard(out: Path | None, as_json: bool, on_stop: Callable[[], str] | None = None) -> Iterator[None]:
    """Turn the library's errors into their exit codes, and anything unexpected into exit 6 with a log, never a traceback.

    Ctrl-C and SIGTERM stop the command with a line saying so (and what ``on_stop`` says then: what stays, how to go on).
    """
    try:
        yield
    except (typer.Exit, typer.Abort, TyperException):  # usage errors and exits: Typer reports them
        raise
    except KeyboardInterrupt as exc:
        stopped(exc, as_json, on_stop() if on_stop is not None else "")
    except NoticesError as exc:
        fail(exc, as_json)
    except Exception as exc:  # noqa: BLE001 - the edge of the program: whatever escaped the library is reported here
        log = _write_crash_log(out, exc)
        message = f"unexpected error ({type(exc).__name__}: {exc}); details in {log}"
        if as_json:
            typer.echo(json.dumps({"ok": False, "exit_code": EXIT_CRASH, "error": type(exc).__name__, "message": message,
                                   "log": str(log)}, indent=1))
        else:
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(EXIT_CRASH) from None


def _write_crash_log(out: Path | None, exc: BaseException) -> Path:
    """The traceback, with the versions that matter, in the output folder's state folder (else the temporary folder)."""
    text = f"notices {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n\n" + "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    for folder in ([out / ".notices"] if out is not None else []) + [Path(tempfile.gettempdir())]:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = folder / (ERROR_LOG if folder.name == ".notices" else f"notices-{ERROR_LOG}")
            log.write_text(text, encoding="utf-8")
            return log
        except OSError:
            continue
    return Path("(no writable folder for the log)")




def main() -> None:
    """The ``notices`` command: the app, then the process ends without tearing down its objects (``end``).

    SIGTERM, and SIGHUP (the terminal closed: an SSH session lost), stop it as Ctrl-C does (``Stopped``),
    rather than ending it where it stands; unless whoever started it asked for the signal to be ignored
    (a supervisor, ``nohup``), which it then is.
    """
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)  # Windows has no SIGHUP
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)
    try:
        app()
    except SystemExit as exc:
        end(exc.code)
    end(0)


def end(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without Python's teardown of every object it holds.

    A run's process holds WeasyPrint's fonts and layouts, templates, locale data and caches: Python
    frees them one by one at exit, about 0.4 s after the last word is written, a few percent of a
    1,000-piece run. By then every file the command wrote is closed (and synced where it says so).
    So the exit handlers run as usual (multiprocessing's, logging's, a caller's ``atexit``), the
    standard streams are flushed, and the process ends. With another thread still running, the
    usual exit waits for it: so does this one, by taking the usual way.
    """
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    if any(thread is not threading.main_thread() and not thread.daemon for thread in threading.enumerate()):
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            stream.flush()
    os._exit(status)


