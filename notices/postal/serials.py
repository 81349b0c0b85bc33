"""Turn a run's identity and size into a block of Intelligent Mail serials, reserved in a ledger no other run may draw from.

USPS asks that a Full-Service serial stay unique within its Mailer ID for at least 45 days. The ledger
(``serials.json``) lists every block handed out: which run (its identity's digest), when it was
reserved and last used, its first serial and count, the collector and the mailing. A block is
reserved by the main process before anything renders, under an exclusive ``fcntl`` lock on
``serials.lock`` beside it, and written by an atomic rename, so two runs on one machine (or two
shards sharing a workspace) never draw the same serials. The same run asks again (a rerun, a
``--resume``, another shard of the same input) and gets the same block back, its last use moved to
today. A block whose last use is older than the retention days may be handed out again. Machines
that do not share a ledger are kept apart by giving each its own serial range (``[imb] serial_range``,
a name from ``[imb.serial_ranges]``, or ``--serial-range``): data, not code.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ResumeMismatch, SerialsExhausted
from . import imb
from .imb import Mailer, SerialBlock

LEDGER = "serials.json"
LOCK = "serials.lock"
RUN_BLOCK = "serials-block.json"  # in the output folder's state: the block this folder's run was given
STATE = ".notices"  # the workspace's (or the output folder's) state folder


def ledger_path(home: Path | None, out: Path) -> Path:
    """Where the ledger lives: the workspace's ``.notices/``, else the output folder's (one folder's runs only)."""
    return (home if home is not None else out) / STATE / LEDGER


def run_key(identity: dict[str, str]) -> str:
    """The run's identity without its shard: every shard of one input shares the input's one block."""
    options = json.loads(identity.get("options", "{}"))
    options.pop("shard", None)
    whole = {**identity, "options": json.dumps(options, sort_keys=True)}
    return hashlib.sha256(json.dumps(whole, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Reservation:
    """One line of the ledger."""

    key: str
    mailer_id: str
    first: int
    count: int
    low: int
    last: int
    reserved: dt.date
    used: dt.date
    collector: str = ""
    mailing: str = ""
    notice_date: str = ""

    @property
    def block(self) -> SerialBlock:
        return SerialBlock(self.first, self.count, self.low, self.last)

    def spans(self) -> list[tuple[int, int]]:
        """The serials it holds as half-open intervals: one, or two when the block wraps past the range's end."""
        end = self.first + self.count
        if end <= self.last + 1:
            return [(self.first, end)]
        return [(self.first, self.last + 1), (self.low, self.low + end - self.last - 1)]

    def live(self, today: dt.date, retention_days: int) -> bool:
        return (today - self.used).days < retention_days

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.key, "mailer_id": self.mailer_id, "first": self.first, "count": self.count,
                "range": [self.low, self.last], "reserved": self.reserved.isoformat(), "used": self.used.isoformat(),
                "collector": self.collector, "mailing": self.mailing, "date": self.notice_date}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reservation:
        low, last = data["range"]
        return cls(str(data["run"]), str(data["mailer_id"]), int(data["first"]), int(data["count"]), int(low), int(last),
                   dt.date.fromisoformat(data["reserved"]), dt.date.fromisoformat(data["used"]),
                   str(data.get("collector", "")), str(data.get("mailing", "")), str(data.get("date", "")))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(LOCK), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # waits: a reservation takes milliseconds
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read(path: Path) -> list[Reservation]:
    """The ledger's reservations, oldest first; an unreadable ledger is an error, never silently empty."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text("utf-8"))
        return [Reservation.from_dict(entry) for entry in data["reservations"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError("The serial ledger cannot be read", file=str(path), field="reservations", value=str(exc),
                          hint="restore it from a backup: handing out serials without it could repeat them") from None


def _write(path: Path, reservations: list[Reservation]) -> None:
    _write_json(path, {"version": 1, "reservations": [r.to_dict() for r in reservations]})


def _write_json(path: Path, value: Any) -> None:
    data = json.dumps(value, indent=1).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _overlaps(spans: list[tuple[int, int]], others: list[tuple[int, int]]) -> bool:
    return any(a < d and c < b for a, b in spans for c, d in others)


def reserve(path: Path, key: str, count: int, mailer: Mailer, *, collector: str = "", mailing: str = "",
            notice_date: str = "", today: dt.date | None = None) -> SerialBlock:
    """The run's block: the one the ledger holds for ``key``, else ``count`` free serials after the last block handed out."""
    today = today or dt.date.today()
    low, last = mailer.serials
    size = last - low + 1
    if count > size:
        raise SerialsExhausted(f"The run needs {count} serials; the serial range holds {size}", field="imb.serial_range",
                               value=f"{low}-{last}", hint="give the collector a wider serial range, or split the mailing")
    with _locked(path):
        entries = read(path)
        mine = [r for r in entries if r.mailer_id == mailer.mailer_id]
        for index, entry in enumerate(entries):
            if entry.key == key and entry.mailer_id == mailer.mailer_id and (entry.low, entry.last) == (low, last) \
                    and entry.count == count:
                entries[index] = Reservation(**{**entry.__dict__, "used": today})
                _write(path, entries)
                return entry.block
        live = [r for r in mine if r.live(today, mailer.retention_days)]
        taken = [span for r in live for span in r.spans()]
        # After the newest block in this range (expired or not), so serials go round the range rather than back to its start.
        ours = [r for r in mine if (r.low, r.last) == (low, last)]
        newest = max(enumerate(ours), key=lambda pair: (pair[1].reserved, pair[0]), default=None)
        starts = [] if newest is None else [newest[1].spans()[-1][1]]
        starts += [end for _, end in sorted(taken)] + [low]
        for start in starts:
            start = low if start == last + 1 else start
            if not low <= start <= last:
                continue  # the end of a block in another range
            candidate = Reservation(key, mailer.mailer_id, start, count, low, last, today, today, collector, mailing, notice_date)
            if not _overlaps(candidate.spans(), taken):
                # Expired blocks the new one covers are handed out again: drop them, so the ledger says who holds what.
                holding = {id(r) for r in live}
                kept = [r for r in entries if r.mailer_id != mailer.mailer_id or id(r) in holding
                        or not _overlaps(r.spans(), candidate.spans())]
                _write(path, [*kept, candidate])
                return candidate.block
    used = sum(r.count for r in live)
    raise SerialsExhausted(
        f"No {count} consecutive serials are free in {low}-{last}: {used} are held by {len(live)} runs of the last "
        f"{mailer.retention_days} days", file=str(path), field="imb.serial_range", value=f"{low}-{last}",
        hint="wait until older blocks pass the retention days, or give this machine a wider or another serial range")


def for_run(facts: dict[str, Any] | None, profile_file: str | None, path: Path, identity: dict[str, str], count: int, *,
            collector: str, mailing: str, notice_date: str, today: dt.date | None = None) -> SerialBlock | None:
    """The run's block from the profile's ``[imb]`` (None when it prints no barcode); see ``reserve``."""
    found = imb.mailer(facts, profile_file) if facts is not None else None
    if found is None:
        return None
    return reserve(path, run_key(identity), max(1, count), found, collector=collector, mailing=mailing,
                   notice_date=notice_date, today=today)


def settle(state: Path, block: SerialBlock | None, resume: bool) -> None:
    """Note the run's block in the output folder's state; a resume whose block differs is refused rather than mixed.

    (The same run finds its block in the ledger for the retention days; past them, or with another ledger, it may not.)
    """
    path = state / RUN_BLOCK
    now = None if block is None else block.to_dict()
    if resume and path.exists():
        before = json.loads(path.read_text("utf-8"))
        if before != now:
            raise ResumeMismatch("Cannot resume: serials changed since the run began", file=str(state.parent),
                                 value=f"{before} -> {now}",
                                 hint="the ledger gave this run another block (its reservation expired, or another "
                                      "ledger or serial range is in use): start a new run without --resume")
        return
    _write_json(path, now)


def summary(home: Path | None, out: Path, block: SerialBlock | None) -> dict[str, Any]:
    """The run's block and its ledger, for the run summary (empty when no serials were reserved: a proof, no barcode)."""
    return {} if block is None else {**block.to_dict(), "ledger": str(ledger_path(home, out))}


def notes(home: Path | None, block: SerialBlock | None) -> list[str]:
    """What the summary must say about the ledger: without a workspace it covers one output folder only."""
    if block is None or home is not None:
        return []
    return ["serials: no workspace (--home, NOTICES_HOME), so the serial ledger is the output folder's "
            ".notices/serials.json: serials are unique across runs into this folder only"]
