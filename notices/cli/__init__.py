"""Turn command lines into library calls and results into text, JSON and exit codes.

The only module that prints or exits. Exit codes (also in the README):

    0  every record was rendered (or the checked PDFs are compliant)
    1  the run finished, but some records were rejected: see rejects.csv
    2  bad usage, configuration or input file: nothing was rendered
    3  a piece or insert failed the statute check: it was quarantined, not printed
    4  the output folder cannot be used: another run holds it, a resume found its inputs changed,
       or it holds files notices did not write (it never deletes or overwrites those); or the
       Dask cluster was lost mid-run (what is journaled is kept: --resume finishes the run)
    5  internal error: records in did not equal rendered + rejected + quarantined
    6  unexpected error (a bug or a broken installation): one line on stderr, the details in
       OUT/.notices/error.log (or in the temporary folder when there is no output folder)
    129, 130, 143  stopped by SIGHUP (the terminal closed), Ctrl-C or SIGTERM (128 + the signal's number):
       finished pieces are kept, --resume finishes the run
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

from . import start

__all__ = ["app", "main"]

_COMMANDS = ("pages", "production", "profiles", "render")  # each registers its commands on the app when imported


def main() -> None:
    """The ``notices`` command: a ``render`` with local workers starts their fork server before Typer and the commands load."""
    start.fork_server_first(sys.argv[1:])
    _app().main()


def _app() -> ModuleType:
    """The ``notices.cli.shared`` module, holding the Typer app, with every command registered on the app."""
    for name in _COMMANDS:
        importlib.import_module(f"{__name__}.{name}")
    return importlib.import_module(f"{__name__}.shared")


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from notices.cli import app``: the Typer app, its commands registered
        return _app().app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
