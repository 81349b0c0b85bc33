"""Turn a process's need for scratch space into a temporary folder that goes with the process, however it ends.

A run writes two kinds of scratch folder: the run's index (``index``) and, in every process that lays
out pages, the folder WeasyPrint copies the bundled fonts into (``render``). Each is removed by its
owner when done; a process killed outright (``kill -9``, the out-of-memory killer, a worker killed at
its time bound) cannot, so a folder made here carries a lock (``flock``) its process holds for as
long as it lives, and the kernel frees it however the process ends. ``sweep_abandoned`` removes the
folders whose lock nobody holds: never a live process's, whoever started it.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

if sys.platform != "win32":
    import fcntl

    def _try_lock(fd: int) -> bool:
        """Lock the file now, for as long as this process lives; False when another holds it (or it cannot be locked)."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

else:  # no flock: each process still removes its own folders when it ends

    def _try_lock(fd: int) -> bool:
        return False


KINDS = ("index", "fonts")
_BUILDING = "notices-building-"  # a folder not yet locked: never judged, so never removed under its process
_UNLOCKED = "notices-unlocked-"  # a folder where the lock could not be taken: never judged either
_HELD = "held"  # the file a folder's process holds locked for as long as it lives


def prefix(kind: str) -> str:
    """The name every folder of this kind begins with."""
    return f"notices-{kind}-"


def sweep_abandoned(root: Path | None = None) -> list[Path]:
    """Remove the scratch folders (in ``root``, by default the temporary folder) of processes that are gone; returns them.

    A folder is gone when nothing holds the lock on its ``held`` file: its process ended without
    removing it. The folder of a live process, of another user, or not a folder (a link) is left alone.
    """
    if sys.platform == "win32":
        return []  # no flock: no folder can be judged abandoned
    removed = []
    try:
        folders = sorted(f for kind in KINDS for f in Path(root or tempfile.gettempdir()).glob(prefix(kind) + "*"))
    except OSError:
        return []
    for folder in folders:
        try:
            about = folder.lstat()  # of the name itself: a link to a folder is not one
            if not stat.S_ISDIR(about.st_mode) or about.st_uid != os.getuid():
                continue
            held = os.open(folder / _HELD, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # not one of ours, or removed meanwhile
        try:
            if not _try_lock(held):
                continue  # its process is alive
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(held)
    return removed


def held_folder(kind: str) -> tuple[Path, int | None]:
    """A new temporary folder of this kind, and the descriptor of the lock held on it (None when it cannot be locked).

    Locked under another name and only then renamed, so ``sweep_abandoned`` never sees it unlocked.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of scratch folder: {kind}")
    building = Path(tempfile.mkdtemp(prefix=_BUILDING))
    held: int | None = None
    try:
        held = os.open(building / _HELD, os.O_RDWR | os.O_CREAT, 0o600)
        locked = _try_lock(held)
        if not locked:
            os.close(held)
            held = None
        folder = building.with_name((prefix(kind) if locked else _UNLOCKED) + building.name[len(_BUILDING):])
        building.rename(folder)
    except OSError:
        if held is not None:
            os.close(held)
        shutil.rmtree(building, ignore_errors=True)
        raise
    return folder, held


def remove(folder: Path, held: int | None) -> None:
    """Remove a folder ``held_folder`` made, then let go of its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    if held is not None:
        os.close(held)
