"""Turn chunks of work items into results on a Dask cluster: the same pure work as the local pool, spread over machines.

Like the local pool (``notices.executors``) it takes an iterable of chunks and yields one list of
results per chunk, every item exactly once, in the order chunks finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from .errors import ClusterLost, ConfigError, RenderError
from .executors import Fail


def _distributed() -> Any:
    """Dask's ``distributed`` package (the optional dask extra), as Any: it is not typed throughout."""
    try:
        import distributed  # noqa: PLC0415 - the optional dask extra, loaded only for --executor dask
    except ImportError:
        raise ConfigError("The Dask executor needs the 'dask' extra: pip install 'notices[dask]'", field="executor") from None
    return distributed


def _setup_task(setup: Any) -> Any:
    """The Dask task whose result is the run's setup: one value every chunk's task depends on."""
    return setup


class DaskExecutor:
    """Chunks as tasks on a Dask cluster: the same pure function, so the same bytes as the local pool.

    A worker that dies is the scheduler's to handle: it gives the tasks that worker held to another
    (up to ``distributed.scheduler.allowed-failures`` deaths per task, 3 by default), and recomputes
    results it held that were not yet fetched. Each chunk is one future, consumed once, so a chunk run
    twice on the cluster still comes back once. ``retries`` is not used: it re-runs a task that
    raised, and an error raised here is a fatal one (a template error), the same on every try.

    The setup is a task, not scattered data: the scheduler can compute a task again when every worker
    holding its result has died (a one-worker cluster whose worker restarts), while scattered data is
    then lost, and every chunk after it with it.

    A chunk whose task the scheduler gave up on (its workers kept dying: KilledWorker) is tried again
    one item at a time, and an item that alone does the same is given up with ``fail``, as the local
    pool does; without ``fail`` the run stops with a RenderError. Work the cluster drops (the scheduler
    lost) stops the run with ClusterLost; the pieces already journaled are kept for ``--resume``.
    """

    def __init__(self, scheduler: str, function: Callable[[Any, list[Any]], list[Any]], setup: Any, *,
                 fail: Fail | None = None, in_flight: int = 0) -> None:
        distributed = _distributed()
        try:
            self.client = distributed.Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"Cannot reach the Dask scheduler: {exc}", field="scheduler", value=scheduler) from None
        self.function = function
        self.setup = setup
        self.fail = fail
        threads = sum(self.client.nthreads().values()) or 1
        self.in_flight = in_flight or 2 * threads
        self.peaks_kb: list[int] = []  # a cluster's workers are not measured (the same fields as the local pool's)
        self.cpu_seconds = 0.0
        self.replaced = 0
        self.retried = 0  # chunks tried again one item at a time, after their workers kept dying

    def map(self, chunks: Iterable[list[Any]]) -> Iterator[list[Any]]:
        """Yield the results of each chunk as it finishes; see the class docstring for what a lost worker does."""
        distributed = _distributed()
        source = iter(chunks)
        # The setup (profile ids and the rendered inserts) reaches each worker once, not with every chunk;
        # as a task, not scattered data, so that the scheduler can make it again (see the class docstring).
        setup = self.client.submit(_setup_task, self.setup, pure=False)
        items_of: dict[str, list[Any]] = {}  # a chunk in flight, by its future's key
        running = distributed.as_completed(loop=self.client.loop)  # this run's client's loop, not a default client's

        def submit(items: list[Any]) -> None:
            future = self.client.submit(self.function, setup, items, pure=False)
            items_of[future.key] = items
            running.add(future)

        def top_up() -> None:
            # Only a few chunks in flight at a time: memory stays flat however long the mailing.
            while len(items_of) < self.in_flight:
                chunk = next(source, None)
                if chunk is None:
                    return
                submit(list(chunk))

        try:
            top_up()
            for future in running:
                items = items_of.pop(future.key)
                try:
                    results = future.result()  # a fatal error raised in the task is raised here, and stops the run
                except distributed.KilledWorker as exc:
                    results = self._killed(items, exc, submit)
                except CancelledError as exc:
                    raise ClusterLost(f"The Dask cluster dropped the run's work ({exc})",
                                      hint="the pieces journaled so far are kept: run again with --resume") from None
                finally:
                    future.release()  # its result is no longer wanted: a worker that dies later need not make it again
                if results is not None:
                    yield results
                top_up()
        finally:
            self.client.close()

    def _killed(self, items: list[Any], exc: Any, submit: Callable[[list[Any]], None]) -> list[Any] | None:
        """A chunk whose workers kept dying (KilledWorker): try its items one at a time, or give up the one item it was."""
        if len(items) > 1:
            self.retried += 1
            for item in items:
                submit([item])
            return None
        tries = exc.allowed_failures + 1
        reason = f"the Dask worker process died while rendering, on each of {tries} tries (the last on {exc.last_worker.address})"
        if self.fail is None:
            raise RenderError(f"A piece could not be rendered: {reason}",
                              hint="the pieces journaled so far are kept: run again with --resume") from None
        return [self.fail(items[0], reason)]
