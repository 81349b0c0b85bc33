"""Turn a roll export into a finished mailing: piece files, a print file, a manifest and the rejects.

The orchestrator calls the stages in order: read, validate, resolve, then compose/render/check
each piece (in a pool of worker processes, a chunk of pieces per render call), then assemble.
Every input account ends as exactly one manifest row: rendered, rejected or quarantined.
A journal of finished pieces lets ``resume`` finish an interrupted run without gaps or duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import functools
import gc
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .assemble import Fragment, PdfStreamWriter, read_fragment
from .collectors import load_collector
from .errors import BatchError, ComplianceError, ConfigError, NoticesError, OutputLocked, RenderError, ResumeMismatch
from .executors import DaskExecutor, LocalPool, cpu_seconds, peak_rss_kb
from .inputs import read_accounts
from .model import Collector, Record, Rejection
from .resolve import Part, Plan, plan
from .validate import Rules, validate

STATE = ".notices"
CHUNK = 8
PIECE_TIMEOUT = 60.0  # seconds a piece may take before it is given up (a normal piece takes well under one)
PIECE_MEMORY_MB = 1024.0  # resident memory a worker may reach while rendering (a worker idles near 150 MB)
BREAKER = 10  # a run whose first this-many finished pieces all failed stops: something they share is wrong
RECYCLE = 2500  # pieces a worker renders before a fresh process takes over (its memory creeps ~1 KB a piece)
# Pieces of one skeleton share a layout (notices.fields). NOTICES_REUSE_LAYOUTS=0 lays every piece out in
# full: the bytes are the same (tests/test_fields.py), only slower; it is there to prove that and to debug.
REUSE_LAYOUTS = os.environ.get("NOTICES_REUSE_LAYOUTS", "1") != "0"


@dataclass(frozen=True)
class Options:
    """Everything a run needs; the CLI maps its flags onto these one to one."""

    input: Path
    out: Path
    collector: str
    mailing: str
    date: dt.date
    language: str = "en"
    encoding: str = "utf-8"
    format: str | None = None
    workers: int = 0  # 0: one per core
    chunk: int = CHUNK
    resume: bool = False
    shard: tuple[int, int] | None = None  # (i, n): only the pieces whose seq % n == i - 1
    executor: str = "local"  # local or dask
    scheduler: str | None = None  # the Dask scheduler's address, for executor="dask"
    piece_timeout: float = PIECE_TIMEOUT
    piece_memory_mb: float = PIECE_MEMORY_MB


@dataclass
class Outcome:
    """The manifest row of one input account."""

    seq: int
    account_id: str
    status: str
    source_file: str
    source_line: int | None
    reason: str = ""
    piece_file: str = ""
    pages: int = 0
    statement_pages: int = 0
    sha256: str = ""
    print_first_page: int | None = None
    print_last_page: int | None = None
    blocks: str = ""
    citations: str = ""
    edition: str = ""
    language: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Summary:
    """What a run did, for the CLI's summary line and ``--json``."""

    records_in: int = 0
    rendered: int = 0
    rejected: int = 0
    quarantined: int = 0
    pages: int = 0
    print_file: str = ""
    manifest: str = ""
    rejects: str = ""
    out: str = ""
    edition: str = ""
    edition_label: str = ""
    mailing: str = ""
    documents: list[str] = field(default_factory=list)
    skipped_documents: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resumed_pieces: int = 0
    shard: str = ""  # "i/n" when the run covers one shard only: the manifest covers that shard's records
    executor: str = "local"
    workers: int = 0
    workers_replaced: int = 0
    reused_layouts: int = 0  # pieces written into an earlier piece's layout (notices.fields), not laid out anew
    peak_rss_main_mb: float = 0.0
    peak_rss_workers_mb: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # this process and its workers (a Dask cluster's CPU is not counted)

    @property
    def balanced(self) -> bool:
        return self.records_in == self.rendered + self.rejected + self.quarantined

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["balanced"] = self.balanced
        return data


# --------------------------------------------------------------------------------------------
# The per-piece work: a pure function of (records, collector, templates, date, language).


@dataclass
class Job:
    """What a worker builds once and reuses for every chunk: plan, composer, renderer, shared parts."""

    collector: Collector
    plan: Plan
    language: str
    composer: Any
    renderer: Any
    statement: Part
    inserts: list[tuple[Part, bytes]]
    pages_seen: dict[tuple[int, ...], int] = field(default_factory=dict)  # a piece's shape -> its page count, as seen
    layouts: Any = None  # notices.fields.Layouts: a laid-out piece per skeleton, when reusing layouts


@dataclass
class PieceResult:
    seq: int
    account_id: str
    pdf: bytes | None
    statement_pages: int
    pages: int
    error: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    reused: bool = False  # written into an earlier piece's layout
    print_part: Fragment | None = None  # the statement pages as written, for the print file without parsing


_JOB: Job | None = None


def make_job(collector_id: str, mailing: str, day: dt.date, language: str, inserts: Sequence[tuple[str, bytes]] = ()) -> Job:
    from .compose import Composer
    from .render import Renderer

    collector = load_collector(collector_id)
    the_plan = plan(collector, mailing, day)
    statement = the_plan.parts[0]
    parts = [(the_plan.part(doc_id), pdf) for doc_id, pdf in inserts]
    renderer = Renderer(collector.folder)
    job = Job(collector, the_plan, language, Composer(collector, the_plan, language), renderer, statement, parts)
    if REUSE_LAYOUTS:
        from .fields import Layouts

        job.layouts = Layouts()
    return job


def _init_worker(collector_id: str, mailing: str, day: dt.date, language: str, inserts: Sequence[tuple[str, bytes]]) -> None:
    global _JOB
    _JOB = make_job(collector_id, mailing, day, language, inserts)
    # Load the fonts now, so a worker's first piece is not charged the start-up against its time bound.
    _JOB.renderer.layout(_JOB.composer.document(_JOB.statement, ["<p>Warm <b>up</b> <i>fonts</i></p>"], title="warm-up"))
    # The start-up objects (WeasyPrint, fonts, stylesheets, templates) are frozen out of the cycle
    # collector's way: it no longer walks them again and again, which took a sixth of the CPU.
    gc.collect()
    gc.freeze()


def _worker_chunk(items: Sequence[tuple[int, Record]]) -> list[PieceResult]:
    assert _JOB is not None, "worker not initialised"
    return render_chunk(_JOB, items)


_DASK_JOBS: dict[tuple[Any, ...], Job] = {}
_DASK_LOCK = threading.Lock()


def _dask_chunk(setup: tuple[Any, ...], items: list[tuple[int, Record]]) -> list[PieceResult]:
    """The Dask task: the same pure function as a local worker's, with the job built once per worker process."""
    with _DASK_LOCK:  # WeasyPrint is not thread-safe: one chunk at a time per process
        job = _DASK_JOBS.get(setup)
        if job is None:
            _DASK_JOBS.clear()
            job = _DASK_JOBS[setup] = make_job(*setup)
        return render_chunk(job, items)


def _given_up(item: tuple[int, Record], reason: str) -> PieceResult:
    """The result of a piece whose render broke its time or memory bound: quarantined with the reason."""
    seq, record = item
    return PieceResult(seq, record.account_id, None, 0, 0, reason)


def _piece_title(job: Job, record: Record) -> str:
    return f"{job.plan.mailing.title}: {job.collector.name}, account {record.account_id}"


def render_chunk(job: Job, items: Sequence[tuple[int, Record]]) -> list[PieceResult]:
    """Compose, lay out (one WeasyPrint call for the chunk), split, check and join each piece with its inserts.

    A template error (ConfigError) or a template that prints the wrong blocks would fail every piece
    alike: it is raised, and stops the run at the first piece, instead of quarantining them all.
    """
    from .compliance import check_composed

    fragments: dict[int, str] = {}
    results: dict[int, PieceResult] = {}
    for seq, record in items:
        try:
            html = job.composer.fragment(job.statement, record, seq=seq, pages=1, **_extra(job, record))
        except ConfigError:
            raise
        except NoticesError as exc:
            results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc))
            continue
        problems = check_composed(html, job.statement)
        if problems:
            raise ComplianceError(
                f"The {job.statement.document.title} template fails the statute check (account {record.account_id}): "
                + "; ".join(f"{f.block}: {f.message}" for f in problems),
                findings=problems,
            )
        fragments[seq] = html
    todo = [(seq, rec) for seq, rec in items if seq in fragments]
    if job.layouts is not None:
        todo = _reuse_layouts(job, todo, fragments, results)
    if todo:
        try:
            results.update(_render_together(job, todo, fragments))
        except ConfigError:
            raise
        except NoticesError:
            # One bad piece must not sink its neighbours: render the chunk one piece at a time.
            for seq, record in todo:
                try:
                    results.update(_render_together(job, [(seq, record)], fragments))
                except ConfigError:
                    raise
                except NoticesError as exc:
                    results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc))
    return [results[seq] for seq, _ in items]


def _reuse_layouts(job: Job, items: Sequence[tuple[int, Record]], fragments: dict[int, str],
                   results: dict[int, PieceResult]) -> list[tuple[int, Record]]:
    """Write the pieces whose skeleton was laid out before by swapping their fields; returns the rest.

    The first piece of a skeleton is laid out on its own, and kept: the pieces after it reuse it.
    """
    from .fields import skeleton

    rest = []
    for seq, record in items:
        fragment = fragments[seq]
        pages = job.pages_seen.get(_shape(record), 1)
        if pages != 1:  # "Page X of Y" is in the skeleton: compose it for the length its shape had
            fragment = job.composer.fragment(job.statement, record, seq=seq, pages=pages, **_extra(job, record))
        key, values = skeleton(fragment)  # the document around it is the same for every piece of a run
        layout = job.layouts.get(key)
        if layout is False:
            try:
                results.update(_render_together(job, [(seq, record)], fragments, keep=True))
            except ConfigError:
                raise
            except NoticesError as exc:
                results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc))
            continue
        # Through a copy, as a full layout writes its pieces: a fresh font table for each piece.
        pdf = layout.write(values, lambda document: job.renderer.fragment(document, document.pages)) if layout else None
        if pdf is None:
            rest.append((seq, record))  # its fields cannot be swapped, or a value does not fit: lay it out
            continue
        job.layouts.reused += 1
        results[seq] = _finish_piece(job, seq, record, pdf, layout.pages)
        results[seq].reused = True
    return rest


def _extra(job: Job, record: Record) -> dict[str, Any]:
    days = int(job.collector.get("statement.pay_within_days", 30))
    extra: dict[str, Any] = {"pay_by": job.plan.day + dt.timedelta(days=days)}
    if record.sale is not None:
        # § 14-817.1(a)(6) and (8) count from the sale date; the notice prints the dates, not only the periods.
        sold = record.sale.sale_date
        extra.update(fees_after=_months_after(sold, 4), foreclose_from=_months_after(sold, 6),
                     foreclose_repair_from=sold + dt.timedelta(days=60))
    return extra


def _months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has no such day (Aug 31 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _must_show(job: Job, record: Record) -> list[tuple[str, str, str]]:
    """(block, label, text) the finished PDF must show for this record: the figures the notice is about."""
    from .formatting import long_date, money

    locale = job.composer.locale
    if record.sale is None:
        return [("tp-14-812-a-1", "owner name", record.owners[0]), ("tp-14-812-a-1", "total due", money(record.total_due, locale))]
    sale = record.sale
    before = next((b for b in job.statement.block_ids if b.startswith("tp-14-817-1-a-7")), "tp-14-817-1-a-7")
    return [
        ("tp-14-817-1-a-sold", "owner name", record.owners[0]),
        ("tp-14-817-1-a-date", "sale date", long_date(sale.sale_date, locale)),
        ("tp-14-817-1-a-bid", "highest bid", money(sale.highest_bid, locale)),
        ("tp-14-817-1-a-lien", "lien amount", money(sale.lien_amount, locale)),
        (before, "amount to redeem before a foreclosure action is filed", money(sale.redemption_before_filing, locale)),
        ("tp-14-817-1-a-after", "amount to redeem after a foreclosure action is filed", money(sale.redemption_after_filing, locale)),
    ]


def _render_together(job: Job, items: Sequence[tuple[int, Record]], fragments: dict[int, str],
                     keep: bool = False) -> dict[int, PieceResult]:
    """Lay the pieces out in one document, then write each piece from its own pages.

    Every piece starts on a page of its own and carries nothing from its neighbours, so a piece's
    bytes do not depend on the chunk it was laid out in (tests/test_batch.py checks this).
    ``keep`` (one piece) keeps its layout for the next pieces of its skeleton (``job.layouts``).
    """
    records = dict(items)
    fragments = dict(fragments)  # the caller's stay as composed (for one page), should it retry piece by piece
    title = f"{job.plan.mailing.title}: {job.collector.name}"
    # "Page X of Y" needs Y before layout. Guess it from pieces of the same shape seen before, so a
    # long piece is laid out once, not twice. The guess changes only the work, not the bytes: Y is
    # printed in the page margin only, so a piece's page count does not depend on it.
    guessed = {seq: job.pages_seen.get(_shape(record), 1) for seq, record in items}
    for seq, record in items:
        if guessed[seq] != 1:
            fragments[seq] = job.composer.fragment(job.statement, record, seq=seq, pages=guessed[seq], **_extra(job, record))
    todo = [seq for seq, _ in items]
    out: dict[int, PieceResult] = {}
    for _ in range(3):
        document = job.renderer.layout(job.composer.document(job.statement, [fragments[s] for s in todo], title=title))
        ranges = _page_ranges(document, todo)
        wrong = []
        for seq in todo:
            first, end = ranges[seq]
            job.pages_seen[_shape(records[seq])] = end - first
            if end - first != guessed[seq]:
                wrong.append(seq)
                continue
            pdf = job.renderer.fragment(document, document.pages[first:end])
            out[seq] = _finish_piece(job, seq, records[seq], pdf, end - first)
        if not wrong:
            if keep and len(todo) == 1 and job.layouts is not None:
                from .fields import skeleton

                key, values = skeleton(fragments[todo[0]])
                job.layouts.keep(key, document, values)
            return out
        # "Page X of Y" needs Y: lay out again, on their own, only the pieces that ran past one page.
        for seq in wrong:
            guessed[seq] = ranges[seq][1] - ranges[seq][0]
            fragments[seq] = job.composer.fragment(job.statement, records[seq], seq=seq, pages=guessed[seq], **_extra(job, records[seq]))
        todo = wrong
    raise RenderError("the page count of a piece does not settle", value=todo[0])


def _shape(record: Record) -> tuple[int, ...]:
    """What decides a statement's boxes: table rows, line sources, and whether it is a post-sale notice.

    (The envelope window always has five lines, and each value is one field.) Pieces of one shape
    mostly share a skeleton, and so a layout, and almost always a page count.
    """
    rows = sum(1 + bool(line.interest) + bool(line.penalty) for line in record.lines)
    return rows, len({line.source for line in record.lines}), int(record.sale is not None)


def _page_ranges(document: Any, seqs: Sequence[int]) -> dict[int, tuple[int, int]]:
    starts: dict[int, int] = {}
    for index, page in enumerate(document.pages):
        for anchor in page.anchors:
            if anchor.startswith("piece-"):
                starts.setdefault(int(anchor[6:]), index)
    missing = [s for s in seqs if s not in starts]
    if missing:
        raise RenderError("laid-out document lost a piece", value=missing[0])
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    ranges = {}
    for i, (seq, start) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else len(document.pages)
        ranges[seq] = (start, end)
    return ranges


def _pdf_info(job: Job, title: str) -> dict[str, str]:
    """Document info for piece and print files: which mailing, date and edition of the law they carry."""
    return {
        "Title": title,
        "Producer": f"notices {__version__}",
        "noticesmailing": job.plan.mailing.id,
        "noticesdate": job.plan.day.isoformat(),
        "noticesedition": job.plan.edition.id,
        "noticeseditionlabel": job.plan.edition.label,
    }


def _finish_piece(job: Job, seq: int, record: Record, statement: Fragment, statement_pages: int) -> PieceResult:
    from .compliance import PageFacts, Target, check_pdf, read_pages, shared_pages

    writer_out = io.BytesIO()
    writer = PdfStreamWriter(writer_out, info=_pdf_info(job, _piece_title(job, record)))
    writer.add_fragment(statement)
    # What each page shows: the statement's pages read from the finished piece; the blank page and the
    # inserts, the same in every piece, read once per process.
    shared: list[PageFacts] = []
    pages = statement_pages
    duplex = bool(job.collector.get("print.duplex", True))
    for part, insert_pdf in job.inserts:
        if duplex and pages % 2:
            writer.add_blank()
            shared += shared_pages(_blank_pdf())
            pages += 1
        pages += writer.add_shared(part.document.id, insert_pdf)
        shared += shared_pages(insert_pdf)
    writer.close()
    piece = writer_out.getvalue()
    facts = read_pages(piece, first=statement_pages) + shared
    # The finished piece file, checked as `notices check` checks it (tests/test_check_fast.py), plus the record's own figures.
    target = Target(job.collector, job.plan, tuple(_must_show(job, record)), record.first_advertisement_date)
    report = check_pdf(piece, target, pages=facts)
    if not report.ok:
        named = "; ".join(f"{f.block}: {f.message}" for f in report.errors[:3])
        return PieceResult(seq, record.account_id, None, statement_pages, 0, f"piece fails the statute check: {named}",
                           [f.to_dict() for f in report.errors])
    return PieceResult(seq, record.account_id, piece, statement_pages, pages, print_part=statement)


@functools.lru_cache(maxsize=1)
def _blank_pdf() -> bytes:
    """A PDF of the one blank page a piece is padded with, as the piece writer writes it."""
    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    writer.add_blank()
    writer.close()
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Shared parts: rendered and checked once per run.


def render_inserts(job: Job) -> list[tuple[str, bytes]]:
    """Lay out each insert once; a non-compliant insert stops the run before any piece is made."""
    from .compliance import Target, check_composed, check_pdf, errors

    made = []
    for part in job.plan.parts[1:] if job.plan.mailing.per_record else job.plan.parts:
        html = job.composer.fragment(part, None, seq=0, pages=0)
        findings = check_composed(html, part)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        pages = len(document.pages)
        html = job.composer.fragment(part, None, seq=0, pages=pages)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        pdf = job.renderer.write(document)
        # The same check as `notices check insert.pdf --document <id>`: words, order, content, one-page summary, pages.
        findings += check_pdf(pdf, Target(job.collector, job.plan), documents=[part.document.id]).findings
        bad = errors(findings)
        if bad:
            raise ComplianceError(
                f"The {part.document.title} fails the statute check: " + "; ".join(f"{f.block}: {f.message}" for f in bad),
                findings=bad,
            )
        made.append((part.document.id, pdf))
    return made


# --------------------------------------------------------------------------------------------
# The output folder: lock, run identity, journal.


def _slug(account_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", account_id).strip("._-")[:40]
    return slug or "account"


def piece_name(seq: int, account_id: str) -> str:
    return f"{seq:06d}-{_slug(account_id)}.pdf"


def _tree_hash(paths: Sequence[Path], skip: Sequence[Path] = ()) -> str:
    digest = hashlib.sha256()
    skipped = {Path(p).resolve() for p in skip}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            if path.resolve() in skipped:
                continue  # counted elsewhere (a profile is reported as "profile", not as "templates")
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def run_identity(options: Options, collector: Collector) -> dict[str, str]:
    """What must not change between a run and its resume, each with a fingerprint."""
    from .render import WEASYPRINT_VERSION
    from .resources import fonts_dir, templates_dir

    registry = Path(__file__).resolve().parent / "statutes"
    return {
        "input": hashlib.sha256(options.input.read_bytes()).hexdigest(),
        "templates": _tree_hash([templates_dir() / "base", collector.folder], skip=list(collector.sources)),
        "profile": _tree_hash(list(collector.sources)),
        "fonts": _tree_hash([fonts_dir()]),
        "statutes": _tree_hash([registry]),
        "tool": f"notices {__version__}, WeasyPrint {WEASYPRINT_VERSION}",
        "options": json.dumps(
            {"collector": options.collector, "mailing": options.mailing, "date": options.date.isoformat(),
             "language": options.language, "encoding": options.encoding, "format": options.format,
             "shard": list(options.shard) if options.shard else None},
            sort_keys=True,
        ),
    }


class OutputFolder:
    """The run's folder: held by one run at a time, with a journal of finished pieces."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE
        self.pieces = root / "pieces"
        self.print = root / "print"
        self._lock_file: Any = None
        self._spool: Any = None
        self._spooled: dict[int, tuple[int, int]] = {}

    def lock(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        handle = open(self.state / "lock", "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OutputLocked("Another notices run holds this output folder", file=str(self.root)) from None
        self._lock_file = handle

    def unlock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def prepare(self, identity: dict[str, str], resume: bool) -> dict[int, dict[str, Any]]:
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
        for leftover in (self.pieces, self.print):
            if leftover.exists():
                shutil.rmtree(leftover)
        for name in ("manifest.csv", "manifest.json", "rejects.csv", "journal.jsonl"):
            target = (self.state if name == "journal.jsonl" else self.root) / name
            target.unlink(missing_ok=True)
        _atomic_write(run_file, json.dumps(identity, indent=2, sort_keys=True).encode())
        return {}

    def _journal(self) -> dict[int, dict[str, Any]]:
        done: dict[int, dict[str, Any]] = {}
        path = self.state / "journal.jsonl"
        if not path.exists():
            return done
        text = path.read_text("utf-8", errors="replace")
        if text and not text.endswith("\n"):
            # A line torn by a crash: end it, so the next entry starts a line of its own.
            with open(path, "a", encoding="utf-8") as journal:
                journal.write("\n")
        for raw in text.splitlines():
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                continue  # a line torn by a crash: that piece is simply done again
            if entry.get("status") == "rendered":
                piece = self.pieces / entry["piece_file"]
                if not piece.exists() or hashlib.sha256(piece.read_bytes()).hexdigest() != entry["sha256"]:
                    continue
            done[int(entry["seq"])] = entry
        return done

    def spool(self, seq: int, fragment: Fragment) -> None:
        """Keep a piece's statement pages as written, so the print file copies them without parsing the piece.

        Not journaled: after a crash the spool starts empty, and resumed pieces are read from their files.
        """
        if self._spool is None:
            self._spool = open(self.state / "print.spool", "w+b")
        data = pickle.dumps(fragment, protocol=pickle.HIGHEST_PROTOCOL)
        self._spooled[seq] = (self._spool.seek(0, os.SEEK_END), len(data))
        self._spool.write(data)

    def spooled(self, seq: int) -> Fragment | None:
        if seq not in self._spooled:
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


def _atomic_write(path: Path, data: bytes, sync: bool = True) -> None:
    """Write to a temporary name and rename, so a crash never leaves a half-written file under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# The run.


ProgressHook = Callable[[int, int], None]


def load(options: Options) -> tuple[Collector, Plan, list[tuple[int, Record | Rejection]]]:
    """Read and validate the whole input first: a bad file stops the run before anything is rendered."""
    from .render import printable

    collector = load_collector(options.collector)
    the_plan = plan(collector, options.mailing, options.date)
    if not the_plan.mailing.per_record:
        raise BatchError(f"The {the_plan.mailing.title} is not made from a roll export; use `notices inserts`", field="mailing")
    raws = read_accounts(options.input, fmt=options.format, encoding=options.encoding)
    rules = Rules(options.date, post_sale=the_plan.mailing.id == "post-sale-notice", printable=printable)
    return collector, the_plan, [(seq, validate(raw, rules)) for seq, raw in enumerate(raws, start=1)]


def run(options: Options, progress: ProgressHook | None = None) -> Summary:
    """Render a whole mailing into ``options.out``; see the module docstring."""
    started = time.monotonic()
    cpu_started = cpu_seconds()
    if options.executor not in ("local", "dask"):
        raise ConfigError("Unknown executor: use local or dask", field="executor", value=options.executor)
    if options.executor == "dask" and not options.scheduler:
        raise ConfigError("The Dask executor needs --scheduler ADDRESS", field="scheduler")
    collector, the_plan, checked = load(options)
    if options.shard is not None:
        index, count = options.shard
        if not (count >= 1 and 1 <= index <= count):
            raise ConfigError("A shard is i/n with 1 <= i <= n", field="shard", value=f"{index}/{count}")
        # A shard is a fixed slice of the input by position, so n machines given 1/n .. n/n cover it exactly once.
        checked = [(seq, item) for seq, item in checked if seq % count == index - 1]
    folder = OutputFolder(options.out)
    folder.lock()
    try:
        identity = run_identity(options, collector)
        done = folder.prepare(identity, options.resume)
        job = make_job(options.collector, options.mailing, options.date, options.language)
        inserts = render_inserts(job)
        job.inserts = [(job.plan.part(doc), pdf) for doc, pdf in inserts]
        outcomes, stats = _render_all(options, job, inserts, checked, folder, done, progress)
        summary = _finish(options, job, inserts, outcomes, folder, collector, records_in=len(checked))
        summary.resumed_pieces = len(done)
    except OSError as exc:
        # A full disk or a lost mount: what is journaled is safe; say so, and how to go on.
        raise BatchError(f"Cannot write to the output folder: {exc.strerror or exc}", file=str(options.out),
                         hint="free space (or fix the folder), then run again with --resume") from None
    finally:
        folder.drop_spool()
        folder.unlock()
    summary.shard = f"{options.shard[0]}/{options.shard[1]}" if options.shard else ""
    summary.executor = options.executor
    summary.workers, summary.workers_replaced, peaks, worker_cpu, summary.reused_layouts = stats
    summary.cpu_seconds = round(cpu_seconds() - cpu_started + worker_cpu, 3)
    summary.peak_rss_workers_mb = [round(kb / 1024, 1) for kb in peaks]
    summary.peak_rss_main_mb = round(peak_rss_kb() / 1024, 1)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _chunks(items: Sequence[tuple[int, Record]], size: int) -> Iterator[list[tuple[int, Record]]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _render_all(
    options: Options,
    job: Job,
    inserts: list[tuple[str, bytes]],
    checked: list[tuple[int, Record | Rejection]],
    folder: OutputFolder,
    done: dict[int, dict[str, Any]],
    progress: ProgressHook | None,
) -> tuple[dict[int, Outcome], tuple[int, int, list[int], float, int]]:
    """Render what the journal does not hold yet; returns the outcomes and (workers, replaced, peak RSS KiB per worker, their CPU s, reused layouts)."""
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Record]] = []
    for seq, item in checked:
        if isinstance(item, Rejection):
            outcomes[seq] = Outcome(seq, item.account_id, "rejected", item.file, item.line, reason=item.reason,
                                    findings=[asdict(p) for p in item.problems])
        elif seq in done:
            outcomes[seq] = _outcome_from_journal(item, done[seq])
        else:
            todo.append((seq, item))
    total = len(checked)
    finished = len(outcomes)
    if progress:
        progress(finished, total)
    folder.pieces.mkdir(parents=True, exist_ok=True)
    records = dict(todo)
    # Pieces of one shape, one after another: a worker lays each shape out once and reuses it for the
    # rest (notices.fields), with only a few layouts kept. The order changes the speed, not the bytes.
    todo.sort(key=lambda item: (_shape(item[1]), item[0]))
    chunks = _chunks(todo, max(1, options.chunk))
    consume = _Consumer(records, job, folder, outcomes, progress, finished, total)
    setup = (options.collector, options.mailing, options.date, options.language, tuple(inserts))
    if options.executor == "dask":
        assert options.scheduler is not None  # checked by run()
        executor = DaskExecutor(options.scheduler, _dask_chunk, setup)
        consume(executor.map(chunks))
        return outcomes, (0, 0, [], 0.0, consume.reused)
    if options.workers == 1 or not todo:
        # In this process, without time or memory bounds: for debugging and small test runs.
        consume(render_chunk(job, chunk) for chunk in chunks)
        return outcomes, (0, 0, [], 0.0, consume.reused)
    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, -(-len(todo) // max(1, options.chunk))))
    pool = LocalPool(workers, _init_worker, setup, _worker_chunk, _given_up,
                     item_timeout=options.piece_timeout, memory_mb=options.piece_memory_mb,
                     preload=["notices.batch", "notices.render", "notices.compliance", "notices.compose"],
                     recycle_after=RECYCLE)
    consume(pool.map(chunks))
    return outcomes, (workers, pool.replaced, pool.peaks_kb, pool.cpu_seconds, consume.reused)


class _Consumer:
    """Write each finished piece under its final name, then journal it: the journal never names a piece not on disk."""

    def __init__(self, records: dict[int, Record], job: Job, folder: OutputFolder, outcomes: dict[int, Outcome],
                 progress: ProgressHook | None, finished: int, total: int) -> None:
        self.records, self.job, self.folder, self.outcomes = records, job, folder, outcomes
        self.progress, self.finished, self.total = progress, finished, total
        self.rendered = self.failed = self.reused = 0

    def __call__(self, results: Iterator[list[PieceResult]]) -> None:
        for chunk in results:
            entries = []
            for result in chunk:
                outcome = _outcome(self.job, self.records[result.seq], result)
                if result.pdf is not None:
                    # No fsync per piece: a piece torn by a power cut fails its sha256 on resume and is made again.
                    _atomic_write(self.folder.pieces / outcome.piece_file, result.pdf, sync=False)
                    if result.print_part is not None:
                        self.folder.spool(result.seq, result.print_part)
                    self.rendered += 1
                    self.reused += result.reused
                else:
                    self.failed += 1
                entries.append(asdict(outcome))
                self.outcomes[result.seq] = outcome
                self.finished += 1
            self.folder.record(*entries)
            if self.failed >= BREAKER and not self.rendered:
                raise ComplianceError(
                    f"The first {self.failed} pieces of the run all failed (the last: {entries[-1]['reason']}); "
                    "the run stopped, since what they share (templates, profile, fonts) is probably wrong",
                    hint="see .notices/journal.jsonl for each piece's findings",
                )
            if self.progress:
                self.progress(self.finished, self.total)


_SHARED_TEXT: dict[str, str] = {}


def _shared(text: str) -> str:
    """One copy of a string every manifest row repeats (the blocks and citations), not 30,000."""
    return _SHARED_TEXT.setdefault(text, text)


def _outcome(job: Job, record: Record, result: PieceResult) -> Outcome:
    blocks = [b for part in [job.statement, *(p for p, _ in job.inserts)] for b in part.blocks]
    base = Outcome(
        seq=result.seq,
        account_id=record.account_id,
        status="rendered" if result.pdf is not None else "quarantined",
        source_file=record.source_file,
        source_line=record.first_line,
        edition=job.plan.edition.id,
        language=job.language,
        blocks=_shared(" ".join(b.id for b in blocks)),
        citations=_shared("; ".join(dict.fromkeys(b.citation for b in blocks))),
    )
    if result.pdf is None:
        base.reason = result.error
        base.findings = result.findings
        return base
    base.piece_file = piece_name(result.seq, record.account_id)
    base.pages = result.pages
    base.statement_pages = result.statement_pages
    base.sha256 = hashlib.sha256(result.pdf).hexdigest()
    return base


def _outcome_from_journal(record: Record, entry: dict[str, Any]) -> Outcome:
    known = {k: _shared(v) if k in ("blocks", "citations") else v for k, v in entry.items() if k in Outcome.__dataclass_fields__}
    return Outcome(**known)


def _finish(options: Options, job: Job, inserts: list[tuple[str, bytes]], outcomes: dict[int, Outcome],
            folder: OutputFolder, collector: Collector, records_in: int | None = None) -> Summary:
    """Assemble the print file in mailing order, then write the manifest and the rejects."""
    ordered = [outcomes[seq] for seq in sorted(outcomes)]
    folder.print.mkdir(parents=True, exist_ok=True)
    shard = f"-shard-{options.shard[0]}-of-{options.shard[1]}" if options.shard else ""
    name = f"{options.mailing}-{collector.id}-{options.date.isoformat()}{shard}.pdf"
    target = folder.print / name
    tmp = target.with_name(f".{name}.tmp")
    duplex = bool(collector.get("print.duplex", True))
    with open(tmp, "wb") as handle:
        writer = PdfStreamWriter(handle, info=_pdf_info(job, f"{job.plan.mailing.title}: {collector.name}, {options.date.isoformat()}"))
        for outcome in ordered:
            if outcome.status != "rendered":
                continue
            outcome.print_first_page = len(writer.pages) + 1
            fragment = folder.spooled(outcome.seq)
            if fragment is not None:
                writer.add_fragment(fragment)
            else:  # rendered before a resume: read back from its file, object for object
                writer.add_fragment(read_fragment((folder.pieces / outcome.piece_file).read_bytes(), outcome.statement_pages))
            pages = outcome.statement_pages
            for document_id, pdf in inserts:
                if duplex and pages % 2:
                    writer.add_blank()
                    pages += 1
                pages += writer.add_shared(document_id, pdf)
            if duplex and pages % 2:
                writer.add_blank()  # the next piece starts on a sheet of its own
            outcome.print_last_page = len(writer.pages)
        writer.close()
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(target)
    folder.drop_spool()

    summary = Summary(
        # Counted from the input, not from the outcomes: a piece lost on the way unbalances the books (exit 5).
        records_in=len(ordered) if records_in is None else records_in,
        rendered=sum(o.status == "rendered" for o in ordered),
        rejected=sum(o.status == "rejected" for o in ordered),
        quarantined=sum(o.status == "quarantined" for o in ordered),
        pages=len(writer.pages),
        print_file=str(target),
        manifest=str(options.out / "manifest.csv"),
        rejects=str(options.out / "rejects.csv"),
        out=str(options.out),
        edition=job.plan.edition.id,
        edition_label=job.plan.edition.label,
        mailing=job.plan.mailing.id,
        documents=[p.document.id for p in job.plan.parts],
        skipped_documents=list(job.plan.skipped),
        placeholders=list(collector.placeholders),
        shard=f"{options.shard[0]}/{options.shard[1]}" if options.shard else "",
    )
    _write_manifest(options.out, ordered, summary)
    return summary


MANIFEST_COLUMNS = (
    "seq", "account_id", "status", "reason", "source_file", "source_line", "piece_file", "print_first_page",
    "print_last_page", "pages", "sha256", "blocks", "citations", "edition", "language",
)


def _manifest_json(summary: Summary, ordered: Sequence[Outcome]) -> bytes:
    """The same text as ``json.dumps({"summary": ..., "pieces": [...]}, indent=1)``, built one piece at a time.

    A dict per piece for the whole mailing at once would double the main process's memory at the end
    of a long run; this keeps one at a time (and the bytes, which are written anyway).
    """
    head = json.dumps(summary.to_dict(), indent=1, ensure_ascii=False).replace("\n", "\n ")
    out = io.BytesIO()
    out.write(f'{{\n "summary": {head},\n "pieces": ['.encode("utf-8"))
    for index, outcome in enumerate(ordered):
        text = json.dumps(asdict(outcome), indent=1, ensure_ascii=False)
        out.write((("," if index else "") + "\n  " + text.replace("\n", "\n  ")).encode("utf-8"))
    out.write(("\n ]\n}" if ordered else "]\n}").encode("utf-8"))
    return out.getvalue()


def _write_manifest(out: Path, ordered: Sequence[Outcome], summary: Summary) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for outcome in ordered:
        writer.writerow(asdict(outcome))
    _atomic_write(out / "manifest.csv", buffer.getvalue().encode("utf-8"))
    _atomic_write(out / "manifest.json", _manifest_json(summary, ordered))
    rejects = io.StringIO()
    columns = ("seq", "account_id", "status", "file", "line", "field", "reason", "value")
    rw = csv.writer(rejects, lineterminator="\n")
    rw.writerow(columns)
    for outcome in ordered:
        if outcome.status == "rendered":
            continue
        if outcome.status == "rejected":
            for p in outcome.findings:
                rw.writerow([outcome.seq, outcome.account_id, outcome.status, p["file"], p["line"], p["field"] or "", p["reason"], p["value"] or ""])
        else:
            rw.writerow([outcome.seq, outcome.account_id, outcome.status, outcome.source_file, outcome.source_line, "", outcome.reason, ""])
    _atomic_write(out / "rejects.csv", rejects.getvalue().encode("utf-8"))

