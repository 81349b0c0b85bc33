"""The Dask executor when workers die, on a small in-process cluster with toy work: nothing lost, nothing twice.

The clusters are LocalClusters whose workers are processes under nannies (a killed worker is
restarted, as on a real cluster). The toy functions live in this module, which the workers import.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from notices.cluster import DaskExecutor
from notices.errors import ConfigError, RenderError

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


def _pid(setup: str, items: list[int]) -> list[tuple[int, str, int]]:
    time.sleep(0.2)  # long enough that a kill lands while chunks are still to come
    return [(os.getpid(), setup, item) for item in items]


def _work(setup: str, items: list[str]) -> list[str]:
    for item in items:
        if item == "crash":
            os._exit(9)  # as a segfault or the kernel's OOM killer would
        if item == "fatal":
            raise ConfigError("Template error: every piece would fail")
    return [f"done {item}" for item in items]


def _fail(item: str, reason: str) -> str:
    return f"gave up {item}: {reason}"


def _cluster(**config: Any) -> Iterator[str]:
    # The scheduler runs in this process and reads its configuration when it starts.
    with dask.config.set(config), distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, protocol="tcp", host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # its HTTP server (health, metrics) starts even without a dashboard: loopback too
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def one_worker() -> Iterator[str]:
    """One worker process under a nanny, with Dask's defaults (a task may see 3 workers die and still run)."""
    yield from _cluster()


@pytest.fixture(scope="module")
def fragile() -> Iterator[str]:
    """A worker whose first death gives up the task it ran (allowed-failures 0), and which holds one task at a time,
    so that a death never takes down a task that merely waited behind the one that caused it."""
    yield from _cluster(**{"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0})


def test_the_run_survives_losing_every_worker_that_held_the_setup(one_worker: str) -> None:
    """The only worker is killed after the first chunk and restarted: the setup is made again, every chunk comes back once."""
    executor = DaskExecutor(one_worker, _pid, "setup")
    results: list[tuple[int, str, int]] = []
    for chunk in executor.map([[n] for n in range(6)]):
        if not results:
            os.kill(chunk[0][0], signal.SIGKILL)
        results += chunk
    assert sorted(item for _, _, item in results) == list(range(6))
    assert {setup for _, setup, _ in results} == {"setup"}
    assert len({pid for pid, _, _ in results}) == 2  # the first worker, then the one its nanny started


def test_an_item_that_keeps_killing_its_worker_is_given_up_alone(fragile: str) -> None:
    """Its chunk is tried again one item at a time; its chunk-mate and the other chunks are rendered."""
    executor = DaskExecutor(fragile, _work, "setup", fail=_fail, in_flight=1)
    results = sorted(r for chunk in executor.map([["a", "crash"], ["b"]]) for r in chunk)
    assert results[:2] == ["done a", "done b"]
    assert results[2].startswith("gave up crash: the Dask worker process died while rendering, on each of 1 tries")
    assert executor.retried == 1


def test_without_a_fail_function_such_an_item_stops_the_run(fragile: str) -> None:
    executor = DaskExecutor(fragile, _work, "setup", in_flight=1)
    with pytest.raises(RenderError, match="worker process died while rendering") as caught:
        list(executor.map([["crash"]]))
    assert "--resume" in str(caught.value)


def test_a_fatal_error_in_a_task_stops_the_run_as_it_is(one_worker: str) -> None:
    """An error raised by the work (not a lost worker) is not retried: it is the same on every try."""
    executor = DaskExecutor(one_worker, _work, "setup", in_flight=1)
    with pytest.raises(ConfigError, match="every piece would fail"):
        list(executor.map([["a"], ["fatal"], ["b"]]))
