"""Turn the raw command line into what must start before Typer and the commands are imported: a render's fork server.

Nothing here imports Typer, WeasyPrint or the commands (``tests/test_imports.py``): the console
script calls this first, so the workers' fork server loads WeasyPrint on another core while this
process imports the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..executors import start_fork_server
from ..options import WORKER_PRELOAD


def fork_server_first(args: Sequence[str]) -> None:
    """Start the workers' fork server before Typer reads the command line, when it is a ``render`` with local workers.

    Importing Typer and the commands takes 0.3 to 0.4 s, and the server's own start (WeasyPrint,
    about a second on another core) would wait for it: the line is read here by hand. Only a line
    that plainly asks for local workers starts it (one worker, Dask or help does not); otherwise
    ``batch.run`` starts it when its options ask for it, and a line Typer then refuses leaves the
    idle server to end with this process.
    """
    if args[:1] != ["render"] or "--help" in args:
        return
    workers = _given(args, "--workers", "-w") or ""
    if _given(args, "--executor") not in (None, "local") or (workers.isdigit() and int(workers) == 1):
        return
    start_fork_server(WORKER_PRELOAD)


def _given(args: Sequence[str], name: str, short: str | None = None) -> str | None:
    """The value given to an option on a raw command line (``--name V``, ``--name=V``, ``-sV``, ``-s V``), or None."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg in (name, short) and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1:]
        if short and arg.startswith(short) and len(arg) > len(short) and not arg.startswith("--"):
            return arg[len(short):]
    return None
