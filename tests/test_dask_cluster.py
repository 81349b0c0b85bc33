"""A real Dask cluster loses workers mid-run: every piece still ends exactly once, with the local pool's bytes.

The scheduler and two workers are started with Dask's own command-line tools, on loopback only, and
the render runs through the CLI in a subprocess. Once the run has journaled some pieces and a worker
holds a chunk, the test SIGKILLs either that worker (no nanny: it is gone for good, the other one
finishes) or every worker at once (under nannies, which start fresh ones holding nothing of the
run: the setup and the results not yet fetched must be made again). Either way the run must finish
with each input account once in the manifest and the journal, and the same piece files and print
file, byte for byte, as a run on the local pool.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_CSV, CLI_ALLOWING_PLACEHOLDERS, ROOT, subset_csv

distributed = pytest.importorskip("distributed")

CHUNK = 2  # 34 chunks for 67 accounts: a kill after the first few pieces lands well before the end
KILL_AFTER = 8  # journaled pieces before the kill
RUN_TIMEOUT = 300.0  # seconds for one render; a cluster that hangs fails the test instead of CI
START_TIMEOUT = 60.0  # seconds for the scheduler and its workers to come up
# --no-dashboard still starts an HTTP server (health, metrics), on 0.0.0.0:8787 unless told otherwise.
QUIET = ("--no-dashboard", "--dashboard-address", "127.0.0.1:0")


# The sample's accounts that fit the envelope window: one (02-04-1398-031) has an address too long
# for it and is rejected, which is not what these tests are about.
TOO_LONG_FOR_THE_WINDOW = {"02-04-1398-031"}


@pytest.fixture(scope="module", autouse=True)
def roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Baltimore City sample, less the account whose address does not fit the window."""
    path = tmp_path_factory.mktemp("roll") / "city.csv"
    subset_csv(CITY_CSV, [a for a in sample_accounts() if a not in TOO_LONG_FOR_THE_WINDOW], path)
    ROLL[:] = [path]
    return path


ROLL: list[Path] = []


def sample_accounts() -> list[str]:
    with open(CITY_CSV, newline="", encoding="utf-8") as handle:
        return list(dict.fromkeys(row["account_id"] for row in csv.DictReader(handle)))


def command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", CLI_ALLOWING_PLACEHOLDERS, "render", str(ROLL[0]), "-c", "baltimore-city",
            "-d", "2027-02-01", "-o", str(out), "--chunk", str(CHUNK), "--no-progress", "--json", *extra]


def fingerprint(out: Path) -> dict[str, str]:
    """sha256 of every piece file and of the print file, by name."""
    files = sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))
    return {f"{f.parent.name}/{f.name}": hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def journaled(out: Path) -> list[dict[str, Any]]:
    """The journal's complete lines (a line being written is not counted yet)."""
    try:
        text = (out / ".notices" / "journal.jsonl").read_text("utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def stop(process: subprocess.Popen[Any]) -> None:
    """Kill a process started in a session of its own, with whatever it started, and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot stop
        pass


@dataclass
class Cluster:
    address: str
    workers: dict[str, subprocess.Popen[Any]]  # `dask worker` processes (a nanny each, if any), by --name


def dask_cli(*args: str) -> list[str]:
    """Dask's command line (`dask scheduler`, `dask worker`), run by the interpreter that runs the tests."""
    return [sys.executable, "-m", "dask", *args]


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """A scheduler and two one-thread workers on 127.0.0.1, on ports the system picks; all killed afterwards.

    Parametrized (indirectly) by whether each worker runs under a nanny, which restarts it when it dies.
    """
    nanny: bool = request.param
    logs = tmp_path / "cluster-logs"
    logs.mkdir()
    scheduler_file = tmp_path / "scheduler.json"
    processes: list[subprocess.Popen[Any]] = []

    def start(name: str, args: list[str]) -> subprocess.Popen[Any]:
        log = open(logs / f"{name}.log", "wb")  # a file, not a pipe: nobody reads it while the run goes on
        try:
            # A session of its own: a nanny and the worker it started are killed together at the end.
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        finally:
            log.close()
        processes.append(process)
        return process

    try:
        start("scheduler", dask_cli("scheduler", "--host", "127.0.0.1", "--port", "0", *QUIET, "--scheduler-file", str(scheduler_file)))
        deadline = time.monotonic() + START_TIMEOUT
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, "the scheduler did not start: " + (logs / "scheduler.log").read_text()
            assert processes[0].poll() is None, "the scheduler exited: " + (logs / "scheduler.log").read_text()
            time.sleep(0.1)
        time.sleep(0.1)  # the file is written in one go, but may be caught between open and write
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:"), address
        workers = {}
        for name in ("w0", "w1"):
            workers[name] = start(name, dask_cli("worker", address, "--name", name, "--host", "127.0.0.1", "--nthreads", "1",
                                                 "--nworkers", "1", "--nanny" if nanny else "--no-nanny", *QUIET,
                                                 "--memory-limit", "0", "--local-directory", str(tmp_path / f"dask-{name}")))
        with distributed.Client(address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
        yield Cluster(address, workers)
    finally:
        for process in reversed(processes):
            stop(process)


def accounts() -> list[str]:
    return [a for a in sample_accounts() if a not in TOO_LONG_FOR_THE_WINDOW]


def check_once(out: Path, summary: dict[str, Any]) -> None:
    """Each input account once in the manifest and the journal, and the print file has the pages the manifest says."""
    from pypdf import PdfReader

    expected = accounts()
    count = len(expected)
    assert summary["balanced"] and summary["records_in"] == summary["rendered"] == count, summary
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    pieces = manifest["pieces"]
    assert [p["seq"] for p in pieces] == list(range(1, count + 1)), "a gap or a duplicate in the manifest"
    assert [p["account_id"] for p in pieces] == expected
    assert all(p["status"] == "rendered" for p in pieces)
    journal = sorted(entry["seq"] for entry in journaled(out))
    assert journal == list(range(1, count + 1)), "a piece journaled twice, or not at all"
    [print_file] = (out / "print").glob("*.pdf")
    assert len(PdfReader(print_file).pages) == summary["pages"] == pieces[-1]["print_last_page"]
    assert all(a["print_last_page"] < b["print_first_page"] for a, b in itertools.pairwise(pieces)), "pieces overlap in the print file"
    assert len(list((out / "pieces").glob("*.pdf"))) == count


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, str]]:
    """The roll rendered by the local pool, through the CLI: (print file pages, fingerprint)."""
    out = tmp_path_factory.mktemp("local") / "out"
    done = subprocess.run(command(out, "--workers", "2"), capture_output=True, text=True, cwd=ROOT, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    check_once(out, summary)
    return summary["pages"], fingerprint(out)


def chunk_holders(address: str) -> dict[str, int]:
    """The worker processes the scheduler has given a chunk to right now: their pids, by worker name."""
    with distributed.Client(address, timeout="10s", set_as_default=False) as client:
        info = client.scheduler_info(n_workers=-1)["workers"]
        busy = [w for w, keys in client.processing().items() if w in info and any("dask_chunk" in str(k) for k in keys)]
        pids = client.run(os.getpid, workers=busy) if busy else {}
        return {str(info[w]["name"]): pid for w, pid in pids.items()}


def render_and_kill(cluster: Cluster, out: Path, kill: Callable[[dict[str, int]], str]) -> tuple[dict[str, Any], str, int]:
    """Render on the cluster; once some pieces are journaled and a worker holds a chunk, call ``kill`` with the holders.

    Returns the run's summary, what ``kill`` said it killed, and how many pieces were journaled at that moment.
    """
    run = subprocess.Popen(command(out, "--executor", "dask", "--scheduler", cluster.address), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
    try:
        killed, at = "", 0
        deadline = time.monotonic() + RUN_TIMEOUT
        while not killed:
            assert run.poll() is None, "the run ended before a worker could be killed: " + "".join(run.communicate())
            assert time.monotonic() < deadline, "the run journaled too few pieces in time"
            if len(journaled(out)) >= KILL_AFTER:
                holders = chunk_holders(cluster.address)
                if holders:
                    killed = kill(holders)
                    at = len(journaled(out))
            time.sleep(0.05)
        stdout, stderr = run.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        stop(run)
    assert 0 < at < len(accounts()), f"the kill of {killed} did not land mid-run ({at} pieces journaled)"
    assert run.returncode == 0, f"after killing {killed} at {at} pieces:\n{stdout}{stderr}"
    summary: dict[str, Any] = json.loads(stdout)
    assert summary["executor"] == "dask"
    return summary, killed, at


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [False], indirect=True, ids=["no-nanny"])
def test_a_worker_killed_mid_run_loses_no_piece_and_doubles_none(cluster: Cluster, reference: tuple[int, dict[str, str]],
                                                                  tmp_path: Path) -> None:
    """SIGKILL one of two Dask workers (gone for good) while it holds a chunk: every piece once, the local pool's bytes."""
    def kill_one(holders: dict[str, int]) -> str:
        name = sorted(holders)[0]
        process = cluster.workers[name]  # without a nanny, the `dask worker` process is the worker
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return name

    out = tmp_path / "dask"
    summary, _, _ = render_and_kill(cluster, out, kill_one)
    check_once(out, summary)
    pages, expected = reference
    assert summary["pages"] == pages
    assert fingerprint(out) == expected, "the Dask run's bytes differ from the local pool's"


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [True], indirect=True, ids=["nannies"])
def test_every_worker_killed_at_once_and_restarted_loses_no_piece(cluster: Cluster, reference: tuple[int, dict[str, str]],
                                                                  tmp_path: Path) -> None:
    """SIGKILL both workers at once; their nannies start new ones, which hold nothing of the run: still every piece once."""
    def kill_all(holders: dict[str, int]) -> str:
        with distributed.Client(cluster.address, timeout="10s", set_as_default=False) as client:
            pids = client.run(os.getpid)  # every worker, not only the busy ones: no copy of anything may survive
        for pid in pids.values():
            os.kill(pid, signal.SIGKILL)
        return f"{len(pids)} workers"

    out = tmp_path / "dask"
    summary, killed, _ = render_and_kill(cluster, out, kill_all)
    assert killed == "2 workers"
    check_once(out, summary)
    pages, expected = reference
    assert summary["pages"] == pages
    assert fingerprint(out) == expected, "the Dask run's bytes differ from the local pool's"
