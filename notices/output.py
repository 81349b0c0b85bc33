"""Turn a run's results into its output folder: the lock, the journal, piece files, the manifest and the rejects.

Every file is written under a temporary name and renamed, so a crash never leaves a half-written file
under its real name; the journal names a piece only once its file is on disk, which is what lets a
resumed run finish without gaps or duplicates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pickle
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout

from .errors import BatchError, ConfigError, ForeignFiles, OutputLocked, ResumeMismatch
from .model import Outcome, Summary
from .pdfwriter import Fragment

STATE = ".notices"
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


def atomic_write(path: Path, data: bytes, sync: bool = True) -> None:
    """Write to a temporary name and rename, so a crash never leaves a half-written file under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    tmp.replace(path)


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
        self._spooled: dict[int, tuple[int, int]] = {}

    def lock(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError("The output folder is a file, not a folder", file=str(self.root), field="out")
        self.state.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.state / "lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise OutputLocked("Another notices run holds this output folder", file=str(self.root)) from None
        self._lock = lock

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- what is ours -----------------------------------------------------------------------
    def owned(self) -> set[str]:
        """Every file (relative path) an earlier run of notices recorded writing here, pieces from its journal."""
        names = self._recorded()
        for entry in self._journal_entries():
            if entry.get("piece_file"):
                names.add(f"pieces/{entry['piece_file']}")
        return names

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
        ours = self.owned()
        present = sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*")
                         if (p.is_file() or p.is_symlink()) and STATE not in p.relative_to(self.root).parts)
        foreign = [name for name in present if name not in ours and not _torn(name)]
        clash = sorted(set(foreign) & set(will_write))
        if clash or (foreign and not force):
            named = clash or foreign
            shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
            hint = ("notices never overwrites a file it did not write: move it, or choose another folder" if clash else
                    "choose an empty folder, or pass --force to write beside them (they are left as they are)")
            raise ForeignFiles(f"The output folder holds files notices did not write: {shown}", file=str(self.root),
                               hint=hint)
        for name in present:
            if name in ours or _torn(name):
                (self.root / name).unlink()
        for folder in (self.pieces, self.print):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        (self.state / OUTPUTS).unlink(missing_ok=True)
        (self.state / "journal.jsonl").unlink(missing_ok=True)

    def prepare(self, identity: dict[str, str], resume: bool, will_write: Iterable[str] = (),
                force: bool = False) -> dict[int, dict[str, Any]]:
        """Start fresh, or on resume check nothing changed and return the journal's finished pieces."""
        run_file = self.state / "run.json"
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
        return {}

    def _journal_entries(self) -> Iterator[dict[str, Any]]:
        path = self.state / "journal.jsonl"
        if not path.exists():
            return
        for raw in path.read_text("utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                continue  # a line torn by a crash: that piece is simply done again
            if isinstance(entry, dict) and "seq" in entry:
                yield entry

    def _journal(self) -> dict[int, dict[str, Any]]:
        done: dict[int, dict[str, Any]] = {}
        path = self.state / "journal.jsonl"
        text = path.read_bytes() if path.exists() else b""
        if text and not text.endswith(b"\n"):
            # A line torn by a crash: end it, so the next entry starts a line of its own.
            with open(path, "a", encoding="utf-8") as journal:
                journal.write("\n")
        for entry in self._journal_entries():
            seq = int(entry["seq"])
            if entry.get("status") != "rendered":
                done.pop(seq, None)  # quarantined (a time or memory bound, a failed check): a resume tries it again
                continue
            piece = self.pieces / entry["piece_file"]
            if not piece.exists() or hashlib.sha256(piece.read_bytes()).hexdigest() != entry["sha256"]:
                continue
            done[seq] = entry
        return done

    def write_piece(self, name: str, pdf: bytes) -> None:
        # No fsync per piece: a piece torn by a power cut fails its sha256 on resume and is made again.
        atomic_write(self.pieces / name, pdf, sync=False)

    def spool(self, seq: int, fragment: Fragment) -> None:
        """Keep a piece's statement pages as written, so the print file copies them without parsing the piece.

        Not journaled: after a crash the spool starts empty, and resumed pieces are read from their files.
        """
        if self._spool is None:
            self._spool = open(self.state / "print.spool", "w+b")  # noqa: SIM115 - held for the run, closed by drop_spool
        data = pickle.dumps(fragment, protocol=pickle.HIGHEST_PROTOCOL)
        self._spooled[seq] = (self._spool.seek(0, os.SEEK_END), len(data))
        self._spool.write(data)

    def spooled(self, seq: int) -> Fragment | None:
        if self._spool is None or seq not in self._spooled:
            return None
        offset, length = self._spooled[seq]
        self._spool.seek(offset)
        fragment: Fragment = pickle.loads(self._spool.read(length))  # noqa: S301 - this run's own file
        return fragment

    def drop_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self._spooled.clear()
        (self.state / "print.spool").unlink(missing_ok=True)

    def record(self, *entries: dict[str, Any]) -> None:
        """Append finished pieces to the journal, one line each, synced once per call."""
        if not entries:
            return
        with open(self.state / "journal.jsonl", "a", encoding="utf-8") as journal:
            journal.write("".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries))
            journal.flush()
            os.fsync(journal.fileno())


def manifest_json(summary: Summary, ordered: Sequence[Outcome]) -> bytes:
    """The same text as ``json.dumps({"summary": ..., "pieces": [...]}, indent=1)``, built one piece at a time.

    A dict per piece for the whole mailing at once would double the main process's memory at the end
    of a long run; this keeps one at a time (and the bytes, which are written anyway).
    """
    head = json.dumps(summary.to_dict(), indent=1, ensure_ascii=False).replace("\n", "\n ")
    out = io.BytesIO()
    out.write(f'{{\n "summary": {head},\n "pieces": ['.encode())
    for index, outcome in enumerate(ordered):
        text = json.dumps(asdict(outcome), indent=1, ensure_ascii=False)
        out.write((("," if index else "") + "\n  " + text.replace("\n", "\n  ")).encode("utf-8"))
    out.write(("\n ]\n}" if ordered else "]\n}").encode("utf-8"))
    return out.getvalue()


def write_manifest(out: Path, ordered: Sequence[Outcome], summary: Summary) -> list[Path]:
    """Write manifest.csv, manifest.json and rejects.csv: one row per input account, one per reason it was not printed."""
    rows = [[getattr(outcome, column) for column in MANIFEST_COLUMNS] for outcome in ordered]  # no copy of each row
    rejects: list[list[object]] = []
    for outcome in ordered:
        if outcome.status == "rejected":
            rejects += [[outcome.seq, outcome.account_id, outcome.status, p["file"], p["line"], p["field"] or "",
                         p["reason"], p["value"] or ""] for p in outcome.findings]
        elif outcome.status == "quarantined":
            rejects.append([outcome.seq, outcome.account_id, outcome.status, outcome.source_file, outcome.source_line, "",
                            outcome.reason, ""])
    written = [out / "manifest.csv", out / "manifest.json", out / "rejects.csv"]
    atomic_write(written[0], csv_bytes(MANIFEST_COLUMNS, rows))
    atomic_write(written[1], manifest_json(summary, ordered))
    atomic_write(written[2], csv_bytes(REJECT_COLUMNS, rejects))
    return written


def _torn(name: str) -> bool:
    """A file a crash left under its temporary name (``.name.tmp``): never a user's, always safe to remove."""
    base = name.rsplit("/", 1)[-1]
    return base.startswith(".") and base.endswith(".tmp")
