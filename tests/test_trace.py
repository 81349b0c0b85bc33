"""A run's milestones: with NOTICES_TRACE each process notes them on one time line; without it nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CITY_DATE, ROOT

from notices import Options, batch, run, trace

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import baltimore_city_accounts, write_csv

MAIN = ["roll read", "accounts checked", "first statements composed", "workers started", "inserts received",
        "workers told the inserts", "last piece in", "print file written", "manifest written"]


def _roll(tmp_path: Path) -> Path:
    roll = tmp_path / "city.csv"
    write_csv(baltimore_city_accounts(8, seed=11), roll)
    return roll


def _traced_run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    roll = _roll(tmp_path)
    code = ("import sys, datetime as dt; from pathlib import Path; "
            "import notices.batch; notices.batch.refuse_placeholders = lambda *a, **k: None; "
            "from notices import Options, run; "
            f"s = run(Options(Path({str(roll)!r}), Path({str(tmp_path / 'out')!r}), 'baltimore-city', 'final-notice', "
            f"dt.date.fromisoformat({CITY_DATE.isoformat()!r}), workers=2, chunk=2)); "
            "print(s.rendered, s.workers)")
    # From the run's own folder: a trace written anywhere by default would land beside the roll.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
                          check=True)


def test_each_process_of_a_run_with_workers_notes_its_milestones_in_order(tmp_path: Path) -> None:
    """The main process's milestones in the order it passes them; the fork server ready before the inserts are
    made in a process of their own; two workers set up, each then laying out the first piece it was given; every
    line on the one monotonic clock."""
    path = tmp_path / "milestones.txt"
    done = _traced_run(tmp_path, {**os.environ, "NOTICES_TRACE": str(path)})
    assert done.stdout.split() == ["8", "2"]
    marks = trace.read(path)
    by_pid: dict[int, list[str]] = {}
    for _, pid, milestone in marks:
        by_pid.setdefault(pid, []).append(milestone)
    main = next(pid for pid, noted in by_pid.items() if "roll read" in noted)
    assert by_pid[main] == MAIN
    when = {(pid, milestone): seconds for seconds, pid, milestone in marks}
    server = next(pid for pid, noted in by_pid.items() if noted == ["fork server ready"])
    inserts = next(pid for pid, noted in by_pid.items() if noted == ["inserts made"])
    workers = [pid for pid, noted in by_pid.items() if noted == ["worker set up", "first layout made"]]
    assert len({main, server, inserts}) == 3 and len(workers) == 2 and not {main, server, inserts} & set(workers)
    assert when[server, "fork server ready"] < when[inserts, "inserts made"] <= when[main, "inserts received"]
    assert all(when[pid, "worker set up"] < when[pid, "first layout made"] < when[main, "last piece in"] for pid in workers)


def test_a_run_in_one_process_notes_its_milestones_there_the_inserts_made_by_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without workers there is no fork server, no inserts' process and no worker: the main process makes the
    inserts itself, after preparing the folder, and notes it."""
    path = tmp_path / "milestones.txt"
    monkeypatch.setattr(trace, "_PATH", str(path))
    monkeypatch.setattr(batch, "refuse_placeholders", lambda *a, **k: None)
    summary = run(Options(_roll(tmp_path), tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1))
    assert summary.rendered == 8
    marks = trace.read(path)
    assert {pid for _, pid, _ in marks} == {os.getpid()}
    assert [milestone for _, _, milestone in marks] == [
        "roll read", "accounts checked", "first statements composed", "inserts made", "last piece in",
        "print file written", "manifest written"]


def test_without_a_trace_file_named_a_run_writes_none(tmp_path: Path) -> None:
    """An ordinary run (no NOTICES_TRACE) leaves its folder as it leaves it untraced: the roll and the output."""
    env = {k: v for k, v in os.environ.items() if k != "NOTICES_TRACE"}
    _traced_run(tmp_path, env)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city.csv", "out"]


def test_a_trace_that_cannot_be_written_does_not_stop_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A milestone whose file cannot be opened (its folder is gone) is dropped: the mailing goes on."""
    monkeypatch.setattr(trace, "_PATH", str(tmp_path / "gone" / "milestones.txt"))
    trace.mark("roll read")
    assert not (tmp_path / "gone").exists()
