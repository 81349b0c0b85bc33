"""The run's index hands out chunks and print order by ranges of its indexes: linear in the mailing, not quadratic."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from notices import index as run_index
from notices import scratch
from notices.index import RunIndex
from notices.model import MailingAddress, Record, Rejection, TaxLine


def record(seq: int) -> Record:
    return Record(f"A{seq}", ("ANN LEE",), MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"), "1 MAIN ST",
                  (TaxLine("Real property tax", "FY 2027", Decimal("1.00")),), "roll.csv", (seq + 1,))


def filled(count: int, seed: int, rendered: float = 0.0, rejected: float = 0.1) -> RunIndex:
    """An index of ``count`` accounts of random shapes, some rejected, some with an outcome already (a resume)."""
    rnd = random.Random(seed)
    index = RunIndex()
    items: list[tuple[int, Any, Any]] = []
    for seq in range(1, count + 1):
        if rnd.random() < rejected:
            items.append((seq, Rejection(f"A{seq}", "roll.csv", seq + 1, ()), None))
        else:
            items.append((seq, record(seq), (rnd.randint(1, 6), rnd.randint(1, 3), rnd.randint(0, 1))))
    index.add_checked(items)
    done = [seq for seq, item, shape in items if shape is not None and rnd.random() < rendered]
    index.add_outcomes(({"seq": seq, "account_id": f"A{seq}", "status": "rendered", "source_file": "roll.csv",
                         "source_line": seq + 1, "sort_key": f"{rnd.randint(0, 99):02d}"}, None) for seq in done)
    return index


def chunks_as_before(index: RunIndex, size: int) -> list[list[int]]:
    """The chunks as the one query over (r, s, p, seq) handed them out: the reference for the two range queries."""
    out, after = [], (-1, -1, -1, -1)
    while batch := index.db.execute(
            "SELECT r, s, p, seq FROM checked c WHERE ok AND in_run AND (r, s, p, seq) > (?, ?, ?, ?) "
            "AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.seq = c.seq) ORDER BY r, s, p, seq LIMIT ?",
            (*after, size)).fetchall():
        batch = [row for row in batch if row[:3] == batch[0][:3]]
        after = batch[-1]
        out.append([row[3] for row in batch])
    return out


@pytest.mark.parametrize(("seed", "size", "rendered", "shard"), [(1, 8, 0.0, None), (2, 3, 0.3, None), (3, 8, 0.5, (2, 3)),
                                                                   (4, 1, 0.0, (1, 2)), (5, 16, 0.9, None)])
def test_chunks_are_the_chunks_of_the_single_query(seed: int, size: int, rendered: float, shard: tuple[int, int] | None) -> None:
    """Shape by shape, in input order within a shape, one shape a chunk, none with an outcome: as before, a resume and shards too."""
    with filled(600, seed, rendered) as index:
        if shard is not None:
            index.take_shard(*shard)
        expected = chunks_as_before(index, size)
        assert [[seq for seq, _ in chunk] for chunk in index.chunks_to_render(size)] == expected
        assert sum(map(len, expected)) == index.to_render()


def test_the_shapes_named_come_first_in_that_order_and_the_rest_after_smallest_first() -> None:
    """An order of shapes (batch.render_order) changes which chunk comes when, never which records a chunk holds."""
    with filled(600, 8, 0.3) as index:
        natural = chunks_as_before(index, 8)
        shapes = [index.db.execute("SELECT r, s, p FROM checked WHERE seq = ?", (chunk[0],)).fetchone() for chunk in natural]
        distinct = list(dict.fromkeys(shapes))
        order = [distinct[-1], distinct[2], distinct[-1]]  # a shape named twice is handed out once
        expected = ([c for c, s in zip(natural, shapes, strict=True) if s == distinct[-1]]
                    + [c for c, s in zip(natural, shapes, strict=True) if s == distinct[2]]
                    + [c for c, s in zip(natural, shapes, strict=True) if s not in (distinct[-1], distinct[2])])
        assert [[seq for seq, _ in chunk] for chunk in index.chunks_to_render(8, order)] == expected
        assert index.shape_counts() == {s: sum(len(c) for c, t in zip(natural, shapes, strict=True) if t == s) for s in distinct}


def test_an_outcome_written_meanwhile_is_never_handed_out_again() -> None:
    """Outcomes come back while chunks are read: each record is handed out once."""
    with filled(300, 6) as index:
        handed: list[int] = []
        for chunk in index.chunks_to_render(8):
            handed += [seq for seq, _ in chunk]
            index.add_outcomes(({"seq": seq, "account_id": r.account_id, "status": "rendered", "source_file": "roll.csv",
                                 "source_line": 2, "sort_key": ""}, None) for seq, r in chunk)
        assert sorted(handed) == sorted(set(handed)) and len(handed) == index.counts()["rendered"]


def plan(index: RunIndex, sql: str, args: tuple[Any, ...]) -> str:
    return " | ".join(row[3] for row in index.db.execute("EXPLAIN QUERY PLAN " + sql, args))


def test_each_chunk_and_each_print_batch_is_a_range_of_an_index_not_a_scan_and_sort() -> None:
    """The queries a run repeats for every chunk and every batch of the print file read a range, never the whole table."""
    with filled(50, 7) as index:
        for sql, args in [(run_index._SAME_SHAPE, (1, 1, 0, 5, 8)), (run_index._NEXT_SHAPE, (1, 1, 0, 8))]:
            found = plan(index, sql, args)
            assert "USING INDEX checked_by_shape (ok=? AND in_run=?" in found and "TEMP B-TREE" not in found, found
        calls: list[str] = []
        index.db.set_trace_callback(calls.append)
        list(index.in_print_order("input"))
        list(index.in_print_order("zip"))
        index.db.set_trace_callback(None)
        for sql in [c for c in calls if c.startswith("SELECT sort_key")]:
            found = plan(index, sql, ())
            assert "SCAN" not in found and "TEMP B-TREE" not in found, found


@pytest.mark.parametrize("sort", ["input", "zip"])
def test_print_order_holds_every_rendered_piece_once_in_its_order(sort: str) -> None:
    """Input order by sequence; zip order by sort key, then sequence; numbered from 1."""
    with filled(1500, 8, rendered=0.7) as index:
        placed = list(index.in_print_order(sort))
        rows = index.db.execute("SELECT sort_key, seq FROM outcomes WHERE status = 'rendered'").fetchall()
        expected = [seq for _, seq in sorted(rows)] if sort == "zip" else sorted(seq for _, seq in rows)
        assert [o.seq for o in placed] == expected
        assert [o.print_sequence for o in placed] == list(range(1, len(expected) + 1))


# --------------------------------------------------------------------------------------------
# The temporary folder: a killed run's index does not stay there.

_KILLED = """
import os, signal, sys, tempfile
tempfile.tempdir = sys.argv[1]
from notices.index import RunIndex
index = RunIndex()
print(index._folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_run_folder(tmp: Path) -> Path:
    """The index folder of a process that made one and was killed with SIGKILL (so it could not remove it)."""
    done = subprocess.run([sys.executable, "-c", _KILLED, str(tmp)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp and (folder / "index.sqlite").exists()
    return folder


@pytest.mark.skipif(not hasattr(signal, "SIGKILL") or sys.platform == "win32", reason="flock and SIGKILL: POSIX")
def test_a_new_index_removes_the_folder_a_killed_run_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    left = killed_run_folder(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with RunIndex() as index:
        assert not left.exists()
        assert index._folder.parent == tmp_path
    assert not list(tmp_path.iterdir()), "the run's own folder goes when it ends"


@pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX")
def test_the_index_of_a_live_run_is_never_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with RunIndex() as live:
        assert scratch.sweep_abandoned(tmp_path) == []
        with RunIndex():
            pass  # another run, beginning and ending meanwhile
        assert (live._folder / "index.sqlite").exists()
        live.add_checked([(1, record(1), (1, 1, 0))])


@pytest.mark.skipif(sys.platform == "win32", reason="flock: POSIX")
def test_folders_that_are_not_a_runs_index_are_left_alone(tmp_path: Path) -> None:
    unlocked = tmp_path / f"{run_index.PREFIX}by-hand"  # no lock file: not made by a run
    unlocked.mkdir()
    (unlocked / "index.sqlite").write_bytes(b"")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "held").write_bytes(b"")
    link = tmp_path / f"{run_index.PREFIX}link"
    link.symlink_to(mine)  # a link named like an index: never followed
    assert scratch.sweep_abandoned(tmp_path) == []
    assert (unlocked / "index.sqlite").exists() and (mine / "held").exists() and link.is_symlink()
