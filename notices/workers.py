"""Turn chunks of records into pieces inside a worker process, local or Dask: the pool's entry points.

Each worker process holds one Job, built from the run's JobSpec on its first use; the work itself is
``piece.render_chunk``, a pure function of the records and the Job, so where it runs does not change
the bytes it returns.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence

from . import trace
from .job import Job, JobSpec
from .model import PieceResult, Record

# The pipeline itself (``notices.piece``, with WeasyPrint) is imported inside the functions: the main
# process imports this module for the functions it hands its workers, and never loads WeasyPrint for
# that; the fork server preloads it for them (``options.WORKER_PRELOAD``).

Item = tuple[int, Record]

# One Job per worker process: set by its initializer (local pool, with the spec it was built from) or its first task (Dask).
_LOCAL: list[tuple[JobSpec, Job]] = []
_DASK: dict[str, Job] = {}
_DASK_LOCK = threading.Lock()  # WeasyPrint is not thread-safe: one chunk at a time per process


def init_worker(spec: JobSpec, first: Item | None = None) -> None:
    """A local worker's start: build the Job once, load the fonts, and get the start-up out of the collector's way.

    Called again with the run's whole spec when the worker was started early, before the main
    process had made the inserts and drawn the serials (``JobSpec.early``): the Job built and
    warmed then is kept, with those filled in. ``first``: the record this worker is likely to be
    handed first, whose layout it makes meanwhile (``piece.prepare``).
    """
    if _LOCAL and _LOCAL[0][0].early() == spec.early():
        _LOCAL[0] = (spec, spec.complete(_LOCAL[0][1]))
        return
    from .piece import prepare, warm_up  # noqa: PLC0415 - see the imports

    job = spec.build()
    _LOCAL[:] = [(spec, job)]
    # Load the fonts now, so a worker's first piece is not charged the start-up against its time bound.
    warm_up(job)
    # The worker's start-up objects (fonts, stylesheets, templates) are frozen out of the cycle collector's
    # way: it no longer walks them again and again, which took a sixth of the CPU. What the fork server
    # preloaded (WeasyPrint, the package) came frozen already (``serverfreeze``): this collection skips it.
    gc.collect()
    gc.freeze()
    trace.mark("worker set up")
    if first is not None:
        # Not frozen: a kept layout may be dropped for another one later, and then it is collected.
        prepare(job, *first)
        trace.mark("first layout made")


def worker_chunk(items: Sequence[Item]) -> list[PieceResult]:
    """A local worker's task."""
    from .piece import render_chunk  # noqa: PLC0415 - see the imports

    if not _LOCAL:
        raise RuntimeError("worker not initialised")
    return render_chunk(_LOCAL[0][1], items)


def dask_chunk(spec: JobSpec, items: list[Item]) -> list[PieceResult]:
    """The Dask task: the same pure function as a local worker's, with the Job built once per worker process."""
    from .piece import render_chunk  # noqa: PLC0415 - see the imports

    with _DASK_LOCK:
        key = spec.key()
        job = _DASK.get(key)
        if job is None:
            _DASK.clear()
            job = _DASK[key] = spec.build()
        return render_chunk(job, items)


def given_up(item: Item, reason: str) -> PieceResult:
    """The result of a piece whose render broke its time or memory bound: quarantined with the reason."""
    seq, record = item
    return PieceResult(seq, record.account_id, None, 0, 0, reason)


def make_inserts(spec: JobSpec) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """The run's inserts, laid out and checked (``piece.render_inserts``), and the versions of the libraries
    that made them (``render.toolchain``): made beside the main process's reading (``executors.Aside``),
    so that process needs no WeasyPrint of its own.
    """
    from .piece import render_inserts  # noqa: PLC0415 - see the imports
    from .render import toolchain  # noqa: PLC0415

    made = toolchain(), render_inserts(spec.early().build())
    trace.mark("inserts made")
    return made
