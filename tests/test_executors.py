"""The executors' edges: a worker whose main process is gone just ends, the module imports without
POSIX-only modules, the pool's bounds come from the caller, a memory bound that cannot be
measured says so instead of passing for enforced, and a call made aside hands back only a success."""

from __future__ import annotations

import inspect
import json
import math
import multiprocessing
import operator
import os
import signal
import subprocess
import sys
import threading
import time
from multiprocessing import Pipe
from typing import Any

import pytest
from conftest import ROOT

from notices import executors
from notices.executors import Aside, LocalPool, _send, _worker_main

needs_fork_server = pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(), reason="no fork server here")


def _in_thread(target: Any, *args: Any) -> tuple[threading.Thread, list[BaseException]]:
    """Run a function in a thread and keep whatever it raises, SystemExit included (threads swallow it)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - the test asserts there is none
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def test_send_to_a_main_process_that_is_gone_returns_false() -> None:
    """A closed pipe is not an exception in a worker (no SystemExit from library code): the send says False."""
    main, worker = Pipe()
    main.close()
    assert _send(worker, ("done", 0, ["result"], (0, 0.0))) is False


def test_worker_loop_ends_when_the_main_process_goes_away_mid_chunk() -> None:
    """The main process disappears while a chunk is rendering: the worker's loop returns, raising nothing."""
    main, worker = Pipe()
    rendering, go_on = threading.Event(), threading.Event()

    def work(items: list[str]) -> list[str]:
        rendering.set()
        go_on.wait(10)
        return items

    thread, raised = _in_thread(_worker_main, worker, lambda: None, (), work)
    assert main.recv()[0] == "ready"
    main.send((0, ["a"]))
    assert rendering.wait(10)
    main.close()  # as if the main process had been killed
    go_on.set()
    thread.join(10)
    assert not thread.is_alive() and raised == []


def test_a_result_that_cannot_be_sent_comes_back_as_an_error() -> None:
    """A result that does not pickle is reported as an error message, and the worker goes on."""
    main, worker = Pipe()
    thread, raised = _in_thread(_worker_main, worker, lambda: None, (), lambda items: [lambda: None])
    assert main.recv()[0] == "ready"
    main.send((7, ["a"]))
    kind, key, payload, _ = main.recv()
    assert (kind, key) == ("error", 7) and "could not send its done message" in str(payload)
    main.send(None)  # stop
    thread.join(10)
    assert not thread.is_alive() and raised == []


def test_the_module_imports_and_measures_without_the_resource_module() -> None:
    """As on Windows: no `resource` and no /proc, yet the module imports; own CPU time is measured, peak RSS is 0 (not measured)."""
    code = ("import sys, json; sys.modules['resource'] = None\n"  # None in sys.modules: `import resource` fails
            "import notices.executors as e\n"
            "e._own_peak_kb = lambda: None\n"
            "sum(i * i for i in range(300000))\n"
            "print(json.dumps([e.peak_rss_kb(), e.cpu_seconds()]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    peak, cpu = json.loads(done.stdout.strip().splitlines()[-1])
    assert peak == 0 and cpu > 0


@pytest.mark.skipif(sys.platform == "win32", reason="getrusage is POSIX")
def test_peak_rss_and_cpu_are_measured_where_the_platform_reports_them() -> None:
    before = executors.cpu_seconds()
    sum(i * i for i in range(300_000))
    assert executors.peak_rss_kb() > 10_000  # KiB: an interpreter with the package loaded is well past 10 MB
    assert executors.cpu_seconds() > before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_a_run_started_by_a_large_parent_reports_its_own_peak_not_the_parents() -> None:
    """getrusage keeps the parent's peak across exec on Linux; the summary's peaks must be the run's own."""
    code = ("import subprocess, sys\n"
            "held = bytearray(200 * 1024 * 1024)\n"
            "child = 'from notices.executors import peak_rss_kb; print(peak_rss_kb())'\n"
            "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True, check=True).stdout)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) < 150 * 1024  # KiB: the child's own interpreter, not the parent's 200 MB


def test_the_pool_bounds_have_no_defaults_of_their_own() -> None:
    """item_timeout and memory_mb are required keywords: the defaults live with the caller's options only."""
    parameters = inspect.signature(LocalPool).parameters
    for name in ("item_timeout", "memory_mb"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert parameters[name].default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        LocalPool(1, lambda: None, (), list, lambda item, reason: None)  # type: ignore[call-arg]


def _nothing() -> None:
    return None


def _gave_up(item: str, reason: str) -> str:
    return reason


def _slowly(items: list[str]) -> list[str]:
    time.sleep(0.3)
    return [item * 4_000_000 for item in items]  # more than a pipe holds, as a chunk's PDFs are


@pytest.mark.skipif(not hasattr(signal, "SIGHUP") or sys.platform == "win32", reason="fork, SIGINT and SIGHUP: POSIX")
@pytest.mark.parametrize("name", ["SIGINT", "SIGHUP"], ids=["ctrl-c", "hangup"])
def test_a_worker_leaves_ctrl_c_and_a_hangup_to_the_main_process(name: str) -> None:
    """Ctrl-C at a terminal, or the terminal closing, reaches every process of the run: a worker goes on, the main
    process decides (and stops it)."""
    ctx = multiprocessing.get_context("fork")
    main, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_worker_main, args=(child, _nothing, (), list), daemon=True)
    process.start()
    child.close()
    assert main.recv()[0] == "ready"
    os.kill(process.pid, getattr(signal, name))  # while it waits for a chunk
    time.sleep(0.2)
    main.send((1, ["a"]))
    assert main.recv()[:3] == ("done", 1, ["a"])
    main.send(None)
    process.join(10)
    assert process.exitcode == 0


@needs_fork_server
def test_a_run_that_stops_early_lets_a_busy_worker_end_by_itself() -> None:
    """Told to stop while on a chunk, a worker ends when it would send the chunk's results (nobody reads them any
    more) instead of being killed: so it removes its own scratch folders on the way out."""
    # From the fork server, as a run's workers are: a forked one would hold the main process's end of its own pipe.
    pool = LocalPool(1, _nothing, (), _slowly, _gave_up, item_timeout=30, memory_mb=0)
    results = pool.map([["a"], ["b"], ["c"], ["d"]])
    assert next(results) == ["a" * 4_000_000]
    processes = [worker.process for worker in pool._live]
    results.close()  # the run stops: map's own ending stops its workers
    assert [p.exitcode for p in processes] == [0], "the worker was killed, not stopped"


def _pool(memory_mb: float) -> LocalPool:
    return LocalPool(1, lambda: None, (), list, lambda item, reason: None, item_timeout=1.0, memory_mb=memory_mb, context="fork")


def test_a_memory_bound_that_cannot_be_measured_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without /proc the bound is not enforced, and the pool says so for the caller to report; the time bound stays."""
    monkeypatch.setattr(executors, "_rss_bytes", lambda pid: None)
    pool = _pool(512)
    assert pool.memory_enforced is False
    assert "not enforced" in pool.memory_note and "512 MB" in pool.memory_note
    assert pool.item_timeout == 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory bound is read from /proc")
def test_a_memory_bound_is_enforced_where_proc_is() -> None:
    pool = _pool(512)
    assert pool.memory_enforced is True and pool.memory_note == ""
    unbounded = _pool(0)  # no bound asked for: nothing to enforce, nothing to report
    assert unbounded.memory_enforced is False and unbounded.memory_note == ""


@needs_fork_server
class TestAside:
    """``Aside``: a call made in another process while the caller goes on; only a success crosses over."""

    def test_the_value_of_the_call_comes_back_with_its_cost(self) -> None:
        """The value, as the call returned it, and the process's CPU time and peak memory."""
        aside = Aside(operator.add, 2, 3)
        assert aside.result() == 5
        assert aside.cpu_seconds > 0 and aside.peak_kb > 0

    def test_a_call_that_raises_gives_none_for_the_caller_to_meet_the_error_itself(self) -> None:
        """math.sqrt(-1) raises in the other process: None here, and nothing of the error (the process answered)."""
        aside = Aside(math.sqrt, -1)
        assert aside.result() is None and aside.cpu_seconds > 0

    def test_a_process_that_dies_gives_none(self) -> None:
        """A process that ends without answering (killed, or exiting) gives None, not a hang or a traceback."""
        aside = Aside(os._exit, 3)
        assert aside.result() is None and aside.cpu_seconds == 0

    def test_a_value_that_cannot_be_sent_gives_none(self) -> None:
        """A lock cannot be pickled: the process says it failed (and answers) instead of dying with a traceback."""
        aside = Aside(threading.Lock)
        assert aside.result() is None and aside.cpu_seconds > 0

    def test_closing_an_aside_still_running_stops_it_within_seconds(self) -> None:
        """A run that stops early does not wait long for a call it will not use: killed after its grace."""
        aside = Aside(time.sleep, 60)
        started = time.monotonic()
        aside.close()
        assert time.monotonic() - started < 5
        assert aside.result() is None

    def test_making_an_aside_does_not_wait_for_its_process_to_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A fork server still loading its modules holds up the start: the caller goes on meanwhile."""
        start = multiprocessing.process.BaseProcess.start

        def slow_start(process: multiprocessing.process.BaseProcess) -> None:
            time.sleep(1.5)
            start(process)

        monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", slow_start)
        began = time.monotonic()
        aside = Aside(operator.add, 2, 3)
        assert time.monotonic() - began < 1.0
        assert aside.result() == 5

    def test_a_process_that_cannot_start_gives_none(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def no_start(process: multiprocessing.process.BaseProcess) -> None:
            raise OSError("fork server gone")

        monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", no_start)
        assert Aside(operator.add, 2, 3).result() is None
        Aside(operator.add, 2, 3).close()

    def test_without_a_fork_server_nothing_is_started_and_the_caller_makes_the_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Where there is no fork server, a spawned process would import everything again: none is started."""
        monkeypatch.setattr(executors.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
        assert Aside(operator.add, 2, 3).result() is None
