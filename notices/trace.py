"""Turn a run's milestones into timed lines of a trace file, when ``NOTICES_TRACE`` names one: where a run's start-up goes.

Each process of a run (the main process, the fork server, the inserts' process, each worker) appends
``<monotonic seconds> <pid> <milestone>`` as it passes a milestone: the roll read, the inserts made,
a worker set up, its first layout made, the workers told the inserts (their first chunks follow), the print file written.
The monotonic clock is the machine's, so the lines of every process fall on one time line;
``bench/timeline.py`` draws them over each process's CPU. Without ``NOTICES_TRACE`` (every ordinary run) nothing is written and a milestone
costs one test. Read once, at import: the fork server and the processes it forks see the variable
the command started with.
"""

from __future__ import annotations

import os
import time

_PATH = os.environ.get("NOTICES_TRACE") or None


def mark(milestone: str) -> None:
    """Note that this process has just passed ``milestone`` (a no-op unless ``NOTICES_TRACE`` names a file)."""
    if _PATH is None:
        return
    line = f"{time.monotonic():.6f} {os.getpid()} {milestone}\n".encode()
    try:
        # One write to a file opened for appending: lines of several processes never interleave.
        handle = os.open(_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(handle, line)
        finally:
            os.close(handle)
    except OSError:
        pass  # a trace that cannot be written must not stop the mailing it watches


def read(path: str | os.PathLike[str]) -> list[tuple[float, int, str]]:
    """The milestones a trace file holds, in the order they were passed: (monotonic seconds, pid, milestone)."""
    found = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            seconds, pid, milestone = line.rstrip("\n").split(" ", 2)
            found.append((float(seconds), int(pid), milestone))
    return sorted(found, key=lambda mark: mark[0])  # stable: one process's marks at one instant stay in the order written
