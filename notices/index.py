"""Turn a run's rows, checked records and outcomes into an index on disk, so the main process holds none of them in memory.

A run must read and check the whole roll before it renders anything, and must account for every
record at the end; held as Python objects, 100,000 records and their manifest rows cost hundreds of
megabytes. The index keeps them in a SQLite file of its own (a temporary folder, removed when the run
ends): the rows of the input by account (an account's rows may be anywhere in the file), each
account's checked record or rejection with its statement shape, and each record's outcome with its
place in the print file. The run reads them back a few at a time, in the order each stage needs:
input order to check, shape order to render, print order to assemble, input order for the manifest.

It is rebuilt by every run, a resume too, from the input (whose fingerprint a resume checks) and
the journal, so it is never synced and never read by another run. A run killed outright (``kill -9``,
the out-of-memory killer, a lost machine) cannot remove its folder, so each new index first removes
the folders of runs that are gone (``scratch.sweep_abandoned``): a run holds a lock on its folder for as
long as its process lives, and the kernel frees that lock however the process ends.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from types import TracebackType
from typing import Any

from . import scratch
from .model import Outcome, Record, Rejection

Row = tuple[str, int, int, str]
"""An input row as stored: the account id it gives ('' for none), its first line, its kind, its text."""
Shape = tuple[int, int, int]
# A shape's records no outcome holds yet (the view ``pending``), by ranges of the shape index.
_SAME_SHAPE = "SELECT r, s, p, seq, data FROM pending WHERE r = ? AND s = ? AND p = ? AND seq > ? ORDER BY seq LIMIT ?"
_NEXT_SHAPE = "SELECT r, s, p, seq, data FROM pending WHERE (r, s, p) > (?, ?, ?) ORDER BY r, s, p, seq LIMIT ?"
BATCH = 512  # rows written per statement, and accounts read per query: enough to amortize, little to hold

_SCHEMA = """
CREATE TABLE rows (account_id BLOB NOT NULL, line INTEGER NOT NULL, kind INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE accounts (seq INTEGER PRIMARY KEY, account_id BLOB NOT NULL, first_line INTEGER NOT NULL, id_key BLOB);
CREATE TABLE checked (seq INTEGER PRIMARY KEY, ok INTEGER NOT NULL, r INTEGER, s INTEGER, p INTEGER,
                      account_id TEXT NOT NULL, in_run INTEGER NOT NULL DEFAULT 1, data BLOB NOT NULL);
CREATE TABLE outcomes (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, sort_key TEXT NOT NULL, flat INTEGER NOT NULL,
                       over_capacity INTEGER NOT NULL, data TEXT NOT NULL, spool_at INTEGER, spool_len INTEGER);
CREATE INDEX outcomes_in_zip_order ON outcomes (status, flat, sort_key, seq);
-- The run's records no outcome holds yet: what is left to render. ``ok = 1``, not a truth test, so that
-- SQLite, which folds the view into each query, reads ranges of the shape index (checked_by_shape).
CREATE VIEW pending AS SELECT * FROM checked c WHERE ok = 1 AND in_run = 1
    AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.seq = c.seq);
CREATE TABLE placed (seq INTEGER PRIMARY KEY, print_sequence INTEGER NOT NULL, first_page INTEGER, last_page INTEGER);
"""

_NUMBERED = "INSERT INTO accounts (account_id, first_line, id_key) SELECT account_id, line, id_key(account_id) FROM ({}) ORDER BY line"
_EACH_ROW = _NUMBERED.format("SELECT account_id, line FROM rows")
_BY_ID = _NUMBERED.format("SELECT account_id, MIN(line) AS line FROM rows WHERE account_id != x'' GROUP BY account_id "
                          "UNION ALL SELECT account_id, line FROM rows WHERE account_id = x''")


PREFIX = scratch.prefix("index")


class RunIndex:
    """The index of one run, in a temporary folder of its own; use it as a context manager so the folder goes with it."""

    def __init__(self) -> None:
        scratch.sweep_abandoned()
        self._folder, self._held = scratch.held_folder("index")
        # Autocommit, with explicit transactions around each batch: a read is never cut by a commit. The
        # database is this process's alone: it holds its lock from the first write (EXCLUSIVE), so no
        # statement locks, unlocks and checks the file again (27,000 system calls of a 1,000-piece run).
        self.db = sqlite3.connect(self._folder / "index.sqlite", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -2048", "temp_store = FILE", "locking_mode = EXCLUSIVE"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)

    def __enter__(self) -> RunIndex:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        scratch.remove(self._folder, self._held)
        self._held = None

    def _many(self, sql: str, values: Iterable[tuple[Any, ...]]) -> None:
        batch: list[tuple[Any, ...]] = []
        for value in values:
            batch.append(value)
            if len(batch) >= BATCH:
                self._write(sql, batch)
                batch = []
        if batch:
            self._write(sql, batch)

    def _write(self, sql: str, batch: list[tuple[Any, ...]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(sql, batch)
        self.db.execute("COMMIT")

    # -- the input's rows, by account ----------------------------------------------------------
    def add_rows(self, rows: Iterable[Row]) -> None:
        self._many("INSERT INTO rows VALUES (?, ?, ?, ?)", ((_key(a), line, kind, data) for a, line, kind, data in rows))

    def group_accounts(self, id_key: Callable[[str], str], *, row_each: bool = False) -> int:
        """Number the accounts by the line they start on; returns how many.

        One account per account id and one per row without an id, or (``row_each``: JSON Lines, whose
        objects are whole accounts) one per row.
        """
        self.db.execute("CREATE INDEX rows_by_account ON rows (account_id, line)")
        self.db.create_function("id_key", 1, lambda account_id: _key(id_key(_text(account_id))) if account_id else None,
                                deterministic=True)
        # In one statement, so that no account is held in this process on the way.
        self.db.execute("BEGIN")
        self.db.execute(_EACH_ROW if row_each else _BY_ID)
        self.db.execute("COMMIT")
        self.db.execute("CREATE INDEX accounts_by_key ON accounts (id_key)")
        return int(self.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    def accounts(self) -> Iterator[tuple[str, int]]:
        """(account id, first line) of every account, in the order they start in the file."""
        last = 0
        while batch := self.db.execute("SELECT seq, account_id, first_line FROM accounts WHERE seq > ? ORDER BY seq LIMIT ?",
                                       (last, BATCH)).fetchall():
            for _, account_id, first_line in batch:
                yield _text(account_id), first_line
            last = batch[-1][0]

    def rows_of(self, account_id: str, first_line: int) -> list[tuple[int, int, str]]:
        """(line, kind, text) of an account's rows in file order; a row without an id is an account of its own."""
        if account_id:
            query = self.db.execute("SELECT line, kind, data FROM rows WHERE account_id = ? ORDER BY line", (_key(account_id),))
        else:
            query = self.db.execute("SELECT line, kind, data FROM rows WHERE account_id = x'' AND line = ?", (first_line,))
        return query.fetchall()

    def shared_keys(self) -> set[str]:
        """The id keys that more than one account id share (almost always none: each such account is rejected)."""
        found = self.db.execute("SELECT id_key FROM accounts WHERE id_key IS NOT NULL GROUP BY id_key "
                                "HAVING COUNT(DISTINCT account_id) > 1")
        return {_text(key) for key, in found}

    def twin_of(self, account_id: str, id_key: str) -> tuple[str, int] | None:
        """The first account whose id differs from this one's but has the same key (case, spacing, look-alikes set aside)."""
        found = self.db.execute("SELECT account_id, first_line FROM accounts WHERE id_key = ? AND account_id != ? "
                                "ORDER BY seq LIMIT 1", (_key(id_key), _key(account_id))).fetchone()
        return None if found is None else (_text(found[0]), found[1])

    # -- checked records -----------------------------------------------------------------------
    def add_checked(self, items: Iterable[tuple[int, Record | Rejection, Shape | None]]) -> None:
        """Each account's record (with its statement shape) or rejection, by sequence number."""
        self._many("INSERT INTO checked (seq, ok, r, s, p, account_id, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   ((seq, shape is not None, *(shape or (None, None, None)), item.account_id,
                     pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)) for seq, item, shape in items))
        self.db.execute("CREATE INDEX IF NOT EXISTS checked_by_shape ON checked (ok, in_run, r, s, p, seq)")

    def take_shard(self, index: int, count: int) -> None:
        """Keep only the records whose sequence number % count == index - 1 in this run."""
        self.db.execute("UPDATE checked SET in_run = (seq % ? = ?)", (count, index - 1))

    def checked(self, *, in_run: bool = True) -> Iterator[tuple[int, Record | Rejection]]:
        """Every checked item (of this run's shard, unless ``in_run`` is false), in input order."""
        last = 0
        while batch := self.db.execute("SELECT seq, data FROM checked WHERE seq > ? AND in_run >= ? ORDER BY seq LIMIT ?",
                                       (last, int(in_run), BATCH)).fetchall():
            for seq, data in batch:
                yield seq, _load(data)
            last = batch[-1][0]

    def records_in(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM checked WHERE in_run").fetchone()[0])

    def first_of_each_shape(self) -> list[tuple[int, Record | Rejection]]:
        """The first record of each statement shape in the whole input, in input order (a handful, whatever the input's size)."""
        rows = self.db.execute("SELECT seq, data FROM checked WHERE seq IN (SELECT MIN(seq) FROM checked WHERE ok "
                               "GROUP BY r, s, p) ORDER BY seq").fetchall()
        return [(seq, _load(data)) for seq, data in rows]

    def record(self, seq: int) -> Record:
        found = self.db.execute("SELECT data FROM checked WHERE seq = ? AND ok", (seq,)).fetchone()
        if found is None:
            raise KeyError(seq)
        item = _load(found[0])
        assert isinstance(item, Record)  # ok is set for records only
        return item

    def piece_accounts(self) -> Iterator[tuple[int, str]]:
        """(sequence, account id) of each record of the run, in input order: the pieces it may write."""
        last = 0
        while batch := self.db.execute("SELECT seq, account_id FROM checked WHERE seq > ? AND ok AND in_run ORDER BY seq "
                                       "LIMIT ?", (last, BATCH)).fetchall():
            yield from batch
            last = batch[-1][0]

    def to_render(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def chunks_to_render(self, size: int, order: Iterable[Shape] = ()) -> Iterator[list[tuple[int, Record]]]:
        """The records no outcome holds yet, ``size`` at a time, shape by shape and in input order within a shape:
        the shapes of ``order`` first, in that order, then the others, smallest first.

        A chunk holds one shape (the last of a shape may be short), so a worker given a shape's chunks
        lays it out once. Read a chunk at a time, from where the last one ended: outcomes written
        meanwhile are for chunks already handed out, so none is handed out twice.
        """
        done: set[Shape] = set()
        for named in order:
            if named not in done:
                done.add(named)
                yield from self._chunks_of(named, size)
        # Each a range of the shape index: the next shape, then its records. One query over (r, s, p, seq)
        # read the table and sorted it for every chunk, quadratic in the mailing: 44 s of the main process's
        # CPU at 30,000 pieces.
        shape: Shape = (-1, -1, -1)
        while (found := self.db.execute(_NEXT_SHAPE, (*shape, 1)).fetchone()) is not None:
            shape = found[:3]
            if shape not in done:
                yield from self._chunks_of(shape, size)

    def _chunks_of(self, shape: Shape, size: int) -> Iterator[list[tuple[int, Record]]]:
        after = -1
        while batch := self.db.execute(_SAME_SHAPE, (*shape, after, size)).fetchall():
            after = batch[-1][3]
            yield [(seq, _record(data)) for _, _, _, seq, data in batch]

    def shape_counts(self) -> dict[Shape, int]:
        """How many records of each shape no outcome holds yet."""
        return {(r, s, p): n for r, s, p, n in self.db.execute("SELECT r, s, p, COUNT(*) FROM pending GROUP BY r, s, p")}

    # -- outcomes ------------------------------------------------------------------------------
    def add_outcomes(self, entries: Iterable[tuple[dict[str, Any], tuple[int, int] | None]]) -> None:
        """Outcomes as their journal entries (``asdict(outcome)``), each with where its statement is spooled, if it is."""
        self._many("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   ((entry["seq"], entry["status"], entry.get("sort_key") or "", bool(entry.get("flat")),
                     bool(entry.get("over_capacity")), json.dumps(entry), *(spool or (None, None))) for entry, spool in entries))

    def add_rejections(self) -> None:
        """An outcome for every rejected record of the run: they are in the manifest, not the journal."""
        self._many("INSERT OR REPLACE INTO outcomes (seq, status, sort_key, flat, over_capacity, data) "
                   "VALUES (?, 'rejected', '', 0, 0, ?)",
                   ((seq, json.dumps(asdict(_rejected(seq, item)))) for seq, item in self._rejections()))

    def _rejections(self) -> Iterator[tuple[int, Rejection]]:
        last = 0
        while batch := self.db.execute("SELECT seq, data FROM checked WHERE seq > ? AND NOT ok AND in_run ORDER BY seq "
                                       "LIMIT ?", (last, BATCH)).fetchall():
            for seq, data in batch:
                item = _load(data)
                assert isinstance(item, Rejection)  # ok is unset for rejections only
                yield seq, item
            last = batch[-1][0]

    def forget(self, seq: int) -> None:
        self.db.execute("DELETE FROM outcomes WHERE seq = ?", (seq,))

    def last_outcome(self) -> int | None:
        found = self.db.execute("SELECT MAX(seq) FROM outcomes").fetchone()
        return None if found[0] is None else int(found[0])

    def counts(self) -> dict[str, int]:
        """How many outcomes there are of each status."""
        return {status: int(n) for status, n in self.db.execute("SELECT status, COUNT(*) FROM outcomes GROUP BY status")}

    def spooled_at(self, seq: int) -> tuple[int, int] | None:
        found = self.db.execute("SELECT spool_at, spool_len FROM outcomes WHERE seq = ?", (seq,)).fetchone()
        return None if found is None or found[0] is None else (int(found[0]), int(found[1]))

    def printed(self, *, flat: bool) -> int:
        """How many rendered pieces go to the letter print file, or (``flat``) to the flat-mailing one."""
        return int(self.db.execute("SELECT COUNT(*) FROM outcomes WHERE status = 'rendered' AND flat = ?",
                                   (flat,)).fetchone()[0])

    def over_capacity(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM outcomes WHERE over_capacity").fetchone()[0])

    def in_print_order(self, sort: str, *, flat: bool = False) -> Iterator[Outcome]:
        """The rendered pieces of a print file (the letter one, or the ``flat``-mailing one), in its order, numbered in it:
        input order, or ZIP+4 then input order (``zip``)."""
        # In input order, by the table's own key (NOT INDEXED): the zip-order index would be read whole and sorted for every batch.
        after = ("outcomes WHERE status = 'rendered' AND flat = ? AND (sort_key, seq) > (?, ?) ORDER BY sort_key, seq" if sort == "zip"
                 else "outcomes NOT INDEXED WHERE status = 'rendered' AND flat = ? AND seq > ? ORDER BY seq")
        last: tuple[str, int] = ("", 0)
        place = 0
        while batch := self.db.execute(f"SELECT sort_key, seq, data FROM {after} LIMIT ?",  # noqa: S608 - one of two fixed texts
                                       (flat, *last, BATCH) if sort == "zip" else (flat, last[1], BATCH)).fetchall():
            for _, _, data in batch:
                place += 1
                yield _outcome(data, print_sequence=place)
            last = (batch[-1][0], batch[-1][1])

    def place(self, outcomes: Iterable[Outcome]) -> None:
        """Record where each piece went in the print file (its place, and its pages if a print file was written)."""
        self._many("INSERT OR REPLACE INTO placed VALUES (?, ?, ?, ?)",
                   ((o.seq, o.print_sequence, o.print_first_page, o.print_last_page) for o in outcomes))

    def outcomes(self) -> Iterator[Outcome]:
        """Every outcome, with its place in the print file, in input order: the manifest's rows."""
        last = 0
        while batch := self.db.execute(
                "SELECT o.seq, o.data, p.print_sequence, p.first_page, p.last_page FROM outcomes o "
                "LEFT JOIN placed p ON p.seq = o.seq WHERE o.seq > ? ORDER BY o.seq LIMIT ?", (last, BATCH)).fetchall():
            for _, data, place, first, end in batch:
                yield _outcome(data, print_sequence=place, print_first_page=first, print_last_page=end)
            last = batch[-1][0]


_OUTCOME_FIELDS = frozenset(Outcome.__dataclass_fields__)


def _key(text: str) -> bytes:
    """An account id as stored: its UTF-8 bytes, a lone surrogate from JSON (``"\\ud800"``) too."""
    return text.encode("utf-8", "surrogatepass")


def _text(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


def _outcome(data: str, **placed: int | None) -> Outcome:
    entry = {k: v for k, v in json.loads(data).items() if k in _OUTCOME_FIELDS}
    entry.update({k: v for k, v in placed.items() if v is not None})
    return Outcome(**entry)


def _rejected(seq: int, item: Rejection) -> Outcome:
    return Outcome(seq, item.account_id, "rejected", item.file, item.line, reason=item.reason,
                   findings=[asdict(p) for p in item.problems])


def _load(data: bytes) -> Record | Rejection:
    item: Record | Rejection = pickle.loads(data)  # noqa: S301 - this run's own file, written just before
    return item


def _record(data: bytes) -> Record:
    item = _load(data)
    assert isinstance(item, Record)
    return item
