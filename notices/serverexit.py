"""Turn the fork server's end into an immediate exit, as the command's own end is (``cli.shared.end``).

The fork server (``executors.start_fork_server``) inherits the command's standard streams, so
whatever reads ``notices render --json`` to its end (a pipeline, ``subprocess.run``) waits for the
server to be gone too; Python's teardown of everything it preloaded (WeasyPrint, fonts, stylesheets,
the package) kept that output open 0.10-0.18 s after the command had ended. The server ends when
its caller has gone, with nothing to flush or finish: its children end with ``os._exit`` and never
run its exit handlers. So once the other exit handlers have run, it leaves without the teardown.

Imported by the fork server's preload (``options.WORKER_PRELOAD``), first, so that every exit
handler the preload registers runs before this one. Imported anywhere else, it does nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from multiprocessing import forkserver
from types import FrameType


def in_fork_server() -> bool:
    """Whether this runs inside the fork server's preload: its main loop is on the stack (``serverfreeze`` asks too)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is forkserver.main.__code__:
            return True
        frame = frame.f_back
    return False


def _end() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can reach it
            stream.flush()
    os._exit(0)  # the server only ever ends with status 0: when its caller has gone (its socket's end)


ACTIVE = in_fork_server()
if ACTIVE:
    atexit.register(_end)
