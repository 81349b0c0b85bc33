"""Turn a run's results into its output folder: the lock, the journal, piece files, the manifest and the rejects.

Every file is written under a temporary name and renamed, so a crash never leaves a half-written file
under its real name; the journal names a piece only once its file is on disk, which is what lets a
resumed run finish without gaps or duplicates.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import pickle
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from json.encoder import encode_basestring  # C, as json.dumps uses it
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from filelock import FileLock, Timeout

from .errors import BatchError, ConfigError, ForeignFiles, OutputLocked, ResumeMismatch
from .model import Outcome, Summary
from .pdfwriter import Fragment

STATE = ".notices"
RUN_FILE = "run.json"  # the identity of the run begun in the folder: what a resume must find unchanged
MANIFEST_COLUMNS = (
    "seq", "account_id", "status", "reason", "source_file", "source_line", "piece_file", "print_first_page",
    "print_last_page", "pages", "sha256", "blocks", "citations", "edition", "language",
    "sheets", "print_sequence", "sort_key", "imb_tracking", "imb_routing", "imb_bars", "omr_marks", "over_capacity", "flat",
)
REJECT_COLUMNS = ("seq", "account_id", "status", "file", "line", "field", "reason", "value")
OUTPUTS = "outputs.json"  # in the state folder: every file (relative path) a run of notices wrote here
ERROR_LOG = "notices-error.log"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a cell starting so is run as a formula by spreadsheet programs
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_OUTCOME_FIELDS = frozenset(f.name for f in fields(Outcome))


def atomic_write(path: Path | str, data: bytes, sync: bool = True) -> None:
    """Write to a temporary name and rename, so a crash never leaves a half-written file under the real name.

    By ``os.path``, not pathlib: pathlib interns every part of every path it parses, and a piece
    file's name is new for every piece, so a long run grew the interpreter's table of interned
    strings (1.9 MB over 100,000 pieces).
    """
    folder, name = os.path.split(path)
    os.makedirs(folder or ".", exist_ok=True)
    tmp = os.path.join(folder, f".{name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a leading ' before what it would run as a formula.

    A plain signed number (``-125.00``) is left as it is: a spreadsheet reads it as the number it is.
    """
    if isinstance(value, str) and value.startswith(_FORMULA) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV text as every CSV of the tool is written: LF line ends, UTF-8, text cells safe to open in a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def piece_name(seq: int, account_id: str) -> str:
    """A piece file's name: its place in the mailing, then its account id made safe for any file system."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", account_id).strip("._-")[:40]
    return f"{seq:06d}-{slug or 'account'}.pdf"


_SHARED_TEXT: dict[str, str] = {}


def shared_text(text: str) -> str:
    """One copy of a string every manifest row repeats (the blocks and citations), not 30,000."""
    return _SHARED_TEXT.setdefault(text, text)


def outcome_from_journal(entry: dict[str, Any]) -> Outcome:
    """A journal line back as the manifest row it recorded."""
    known: dict[str, Any] = {k: shared_text(v) if k in ("blocks", "citations") else v
                             for k, v in entry.items() if k in _OUTCOME_FIELDS}
    return Outcome(**known)


class OutputFolder:
    """The run's folder: held by one run at a time, with a journal of finished pieces."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE
        self.pieces = root / "pieces"
        self.print = root / "print"
        self._lock: FileLock | None = None
        self._spool: IO[bytes] | None = None
        self._commons: dict[str, list[tuple[int, bytes]]] = {}  # a shape's common objects, spooled once (Fragment.common)

    def lock(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError("The output folder is a file, not a folder", file=str(self.root), field="out")
        lock = FileLock(self.state / "lock", timeout=0)
        try:
            self.state.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout:
            raise OutputLocked("Another notices run holds this output folder", file=str(self.root)) from None
        except OSError as exc:
            # A folder that cannot be made (a read-only disk, no permission, a path under a file) is the
            # caller's to fix, like a locked one: nothing has been written yet.
            raise BatchError(f"Cannot use the output folder: {exc.strerror or exc}", file=str(self.root), field="out",
                             hint="choose a folder this user can create and write to") from None
        self._lock = lock

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- what is ours -----------------------------------------------------------------------
    def owned(self) -> Iterator[str]:
        """Every file (relative path) an earlier run of notices recorded writing here, pieces from its journal (some twice)."""
        yield from self._recorded()
        for entry in self._journal_entries():
            if entry.get("piece_file"):
                yield f"pieces/{entry['piece_file']}"

    def _present(self) -> Iterator[str]:
        """Every file (relative path) in the folder but the state folder, one at a time."""
        for path in self.root.rglob("*"):
            if (path.is_file() or path.is_symlink()) and STATE not in path.relative_to(self.root).parts:
                yield path.relative_to(self.root).as_posix()

    def _recorded(self) -> set[str]:
        record = self.state / OUTPUTS
        return set(json.loads(record.read_text("utf-8"))) if record.is_file() else set()

    def claim(self, *paths: Path) -> None:
        """Record files this run wrote, so a later run may replace them (and only them).

        Pieces need no record here: the journal, which stays beside it, already names them.
        """
        names = self._recorded() | {p.relative_to(self.root).as_posix() for p in paths}
        atomic_write(self.state / OUTPUTS, json.dumps(sorted(names), indent=0).encode("utf-8"))

    def clear(self, will_write: Iterable[str] = (), force: bool = False) -> None:
        """Remove what earlier runs of notices left here; never a file it did not write.

        Files notices did not write stop the run, named, unless ``force``: then they stay as they are.
        Even then, a file it did not write is never overwritten by one it is about to write.
        """
        # An earlier run's names are looked up on disk: a folder of 100,000 pieces would otherwise be held twice over.
        with contextlib.closing(sqlite3.connect("")) as ours:  # "": a private database in a temporary file
            ours.execute("CREATE TABLE names (name TEXT PRIMARY KEY) WITHOUT ROWID")
            ours.executemany("INSERT OR IGNORE INTO names VALUES (?)", ((name,) for name in self.owned()))

            def is_ours(name: str) -> bool:
                return ours.execute("SELECT 1 FROM names WHERE name = ?", (name,)).fetchone() is not None

            self._clear(is_ours, will_write, force)

    def _clear(self, is_ours: Callable[[str], bool], will_write: Iterable[str], force: bool) -> None:
        foreign = sorted(name for name in self._present() if not is_ours(name) and not _torn(name))
        strangers = set(foreign)
        clash = sorted(name for name in will_write if name in strangers) if strangers else []
        if clash or (foreign and not force):
            named = clash or foreign
            shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
            hint = ("notices never overwrites a file it did not write: move it, or choose another folder" if clash else
                    "choose an empty folder, or pass --force to write beside them (they are left as they are)")
            raise ForeignFiles(f"The output folder holds files notices did not write: {shown}", file=str(self.root),
                               hint=hint)
        for name in self._present():
            if _torn(name) or is_ours(name):
                (self.root / name).unlink()
        for folder in (self.pieces, self.print):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        (self.state / OUTPUTS).unlink(missing_ok=True)
        (self.state / "journal.jsonl").unlink(missing_ok=True)

    @property
    def resumable(self) -> bool:
        """Whether a run has begun here (``--resume`` finishes it)."""
        return (self.state / RUN_FILE).exists()

    def prepare(self, identity: dict[str, str], resume: bool, will_write: Iterable[str] = (),
                force: bool = False) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """Start fresh, or on resume check nothing changed; returns the journal's finished pieces (see ``_journal``)."""
        run_file = self.state / RUN_FILE
        if resume:
            if not run_file.exists():
                raise BatchError("Nothing to resume: this folder holds no interrupted run", file=str(self.root))
            before = json.loads(run_file.read_text())
            changed = [k for k in identity if before.get(k) != identity[k]]
            if changed:
                raise ResumeMismatch(
                    "Cannot resume: " + ", ".join(changed) + " changed since the run began",
                    file=str(self.root),
                    hint="start a new run (without --resume) to render with the new inputs",
                )
            for torn in self.pieces.glob(".*.tmp") if self.pieces.exists() else ():
                torn.unlink()  # a piece the crash caught half-written: it is not in the journal, and is made again
            return self._journal()
        self.clear(will_write, force)
        atomic_write(run_file, json.dumps(identity, indent=2, sort_keys=True).encode())
        return iter(())

    def _journal_entries(self) -> Iterator[dict[str, Any]]:
        path = self.state / "journal.jsonl"
        if not path.exists():
            return
        with open(path, encoding="utf-8", errors="replace") as journal:
            for raw in journal:
                try:
                    entry = json.loads(raw)
                except json.JSONDecodeError:
                    continue  # a line torn by a crash: that piece is simply done again
                if isinstance(entry, dict) and "seq" in entry:
                    yield entry

    def _journal(self) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """The journal's finished pieces as it goes: (seq, its entry) for a piece whose file is on disk with its sha256,
        (seq, None) for one to render again (quarantined: a time or memory bound, a failed check); the last word wins.
        """
        path = self.state / "journal.jsonl"
        if path.exists() and path.stat().st_size:
            with open(path, "rb+") as journal:
                journal.seek(-1, os.SEEK_END)
                if journal.read(1) != b"\n":
                    # A line torn by a crash: end it, so the next entry starts a line of its own.
                    journal.write(b"\n")
        return self._finished()

    def _finished(self) -> Iterator[tuple[int, dict[str, Any] | None]]:
        for entry in self._journal_entries():
            seq = int(entry["seq"])
            if entry.get("status") != "rendered":
                yield seq, None
                continue
            piece = self.pieces / entry["piece_file"]
            if piece.exists() and hashlib.sha256(piece.read_bytes()).hexdigest() == entry["sha256"]:
                yield seq, entry

    def write_piece(self, name: str, pdf: bytes) -> None:
        # No fsync per piece: a piece torn by a power cut fails its sha256 on resume and is made again.
        atomic_write(os.path.join(self.pieces, name), pdf, sync=False)

    def spool(self, fragment: Fragment) -> tuple[int, int]:
        """Keep a piece's statement pages as written, so the print file copies them without parsing the piece.

        Returns where they are (offset, length), for ``spooled``. Not journaled: after a crash the spool
        starts empty, and resumed pieces are read from their files.
        """
        if self._spool is None:
            self._spool = open(self.state / "print.spool", "w+b")  # noqa: SIM115 - held for the run, closed by drop_spool
        if fragment.common:  # the fonts a shape's pieces share are kept once, not spooled with every piece
            self._commons.setdefault(fragment.common, fragment.commons())
        data = pickle.dumps(fragment.lean(), protocol=pickle.HIGHEST_PROTOCOL)
        where = (self._spool.seek(0, os.SEEK_END), len(data))
        self._spool.write(data)
        return where

    def spooled(self, where: tuple[int, int]) -> Fragment | None:
        """The statement pages ``spool`` kept at ``where``; None when this run has not spooled (a resume's earlier pieces)."""
        if self._spool is None:
            return None
        offset, length = where
        self._spool.seek(offset)
        fragment: Fragment = pickle.loads(self._spool.read(length))  # noqa: S301 - this run's own file
        return fragment.with_commons(self._commons.get(fragment.common, []))

    def drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self._commons.clear()
        (self.state / "print.spool").unlink(missing_ok=True)

    def record(self, *entries: dict[str, Any]) -> None:
        """Append finished pieces to the journal, one line each, synced once per call."""
        if not entries:
            return
        with open(self.state / "journal.jsonl", "a", encoding="utf-8") as journal:
            journal.write("".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries))
            journal.flush()
            os.fsync(journal.fileno())


def write_manifest(out: Path, outcomes: Iterable[Outcome], summary: Summary) -> list[Path]:
    """Write manifest.csv, manifest.json and rejects.csv: one row per input account, one per reason it was not printed.

    The three are written side by side as the outcomes come (in input order), one outcome at a time,
    each under a temporary name renamed when synced. ``manifest.json`` is the same text as
    ``json.dumps({"summary": ..., "pieces": [...]}, indent=1)``.
    """
    written = [out / "manifest.csv", out / "manifest.json", out / "rejects.csv"]
    with _Replacing(written[0]) as manifest_csv, _Replacing(written[1]) as manifest_json, \
            _Replacing(written[2]) as rejects_csv:
        manifest = csv.writer(manifest_csv, lineterminator="\n")
        manifest.writerow(MANIFEST_COLUMNS)
        rejects = csv.writer(rejects_csv, lineterminator="\n")
        rejects.writerow(REJECT_COLUMNS)
        head = json.dumps(summary.to_dict(), indent=1, ensure_ascii=False).replace("\n", "\n ")
        manifest_json.write(f'{{\n "summary": {head},\n "pieces": [')
        any_piece = False
        for outcome in outcomes:
            manifest.writerow([spreadsheet_safe(getattr(outcome, column)) for column in MANIFEST_COLUMNS])
            manifest_json.write(("," if any_piece else "") + "\n  " + _outcome_json(outcome).replace("\n", "\n  "))
            any_piece = True
            if outcome.status == "rejected":
                rejects.writerows([spreadsheet_safe(cell) for cell in row] for row in (
                    [outcome.seq, outcome.account_id, outcome.status, p["file"], p["line"], p["field"] or "", p["reason"],
                     p["value"] or ""] for p in outcome.findings))
            elif outcome.status == "quarantined":
                rejects.writerow([spreadsheet_safe(cell) for cell in (
                    outcome.seq, outcome.account_id, outcome.status, outcome.source_file, outcome.source_line, "",
                    outcome.reason, "")])
        manifest_json.write("\n ]\n}" if any_piece else "]\n}")
    return written


_KEYS = {name: json.dumps(name) + ": " for name in Outcome.__dataclass_fields__}


def _plain(value: object) -> str | None:
    """A value as ``json.dumps(..., ensure_ascii=False)`` writes it, when it is a string, a whole number, a truth
    value, None or an empty list; else None."""
    if isinstance(value, str):
        return str(encode_basestring(value))
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return int.__repr__(value)
    return "[]" if value == [] else None


def _outcome_json(outcome: Outcome) -> str:
    """``json.dumps(asdict(outcome), indent=1, ensure_ascii=False)``, the same text, without its cost for most pieces.

    With an indent, ``json`` encodes in Python and ``asdict`` copies deeply: together they were most of
    writing the manifest, at the end of a run, while the workers are done and a core idles. A row of
    plain values (no findings) is written here item by item, as that call would write it; any other
    row by that call itself (tests/test_output_manifest.py holds the two equal).
    """
    row = outcome.to_dict()
    items = []
    for name, value in row.items():
        text = _plain(value)
        if text is None:
            return json.dumps(row, indent=1, ensure_ascii=False)
        items.append(_KEYS[name] + text)
    return "{\n " + ",\n ".join(items) + "\n}"


class _Replacing:
    """A text file written under a temporary name, then synced and renamed onto ``path``; left behind by an error, never renamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")

    def __enter__(self) -> IO[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.tmp, "w", encoding="utf-8", newline="")
        return self.handle

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        with self.handle:
            if kind is not None:
                return
            self.handle.flush()
            os.fsync(self.handle.fileno())
        self.tmp.replace(self.path)


def _torn(name: str) -> bool:
    """A file a crash left under its temporary name (``.name.tmp``): never a user's, always safe to remove."""
    base = name.rsplit("/", 1)[-1]
    return base.startswith(".") and base.endswith(".tmp")
