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
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .assemble import PdfStreamWriter
from .collectors import load_collector
from .errors import BatchError, ComplianceError, NoticesError, OutputLocked, RenderError, ResumeMismatch
from .inputs import read_accounts
from .model import Collector, Record, Rejection
from .resolve import Part, Plan, plan
from .validate import Rules, validate

STATE = ".notices"
CHUNK = 8


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


@dataclass
class PieceResult:
    seq: int
    account_id: str
    pdf: bytes | None
    statement_pages: int
    pages: int
    error: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)


_JOB: Job | None = None


def make_job(collector_id: str, mailing: str, day: dt.date, language: str, inserts: Sequence[tuple[str, bytes]] = ()) -> Job:
    from .compose import Composer
    from .render import Renderer

    collector = load_collector(collector_id)
    the_plan = plan(collector, mailing, day)
    statement = the_plan.parts[0]
    parts = [(the_plan.part(doc_id), pdf) for doc_id, pdf in inserts]
    return Job(collector, the_plan, language, Composer(collector, the_plan, language), Renderer(collector.folder), statement, parts)


def _init_worker(collector_id: str, mailing: str, day: dt.date, language: str, inserts: Sequence[tuple[str, bytes]]) -> None:
    global _JOB
    _JOB = make_job(collector_id, mailing, day, language, inserts)


def _worker_chunk(items: Sequence[tuple[int, Record]]) -> list[PieceResult]:
    assert _JOB is not None, "worker not initialised"
    return render_chunk(_JOB, items)


def _piece_title(job: Job, record: Record) -> str:
    return f"{job.plan.mailing.title}: {job.collector.name}, account {record.account_id}"


def render_chunk(job: Job, items: Sequence[tuple[int, Record]]) -> list[PieceResult]:
    """Compose, lay out (one WeasyPrint call for the chunk), split, check and join each piece with its inserts."""
    from .compliance import check_composed

    fragments: dict[int, str] = {}
    results: dict[int, PieceResult] = {}
    for seq, record in items:
        try:
            html = job.composer.fragment(job.statement, record, seq=seq, pages=1, **_extra(job, record))
            problems = [f for f in check_composed(html, job.statement)]
            if problems:
                raise ComplianceError("composed piece fails the statute check", findings=problems)
            fragments[seq] = html
        except ComplianceError as exc:
            results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc), [f.to_dict() for f in exc.findings])  # type: ignore[attr-defined]
        except NoticesError as exc:
            results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc))
    todo = [(seq, rec) for seq, rec in items if seq in fragments]
    if todo:
        try:
            results.update(_render_together(job, todo, fragments))
        except NoticesError:
            # One bad piece must not sink its neighbours: render the chunk one piece at a time.
            for seq, record in todo:
                try:
                    results.update(_render_together(job, [(seq, record)], fragments))
                except NoticesError as exc:
                    results[seq] = PieceResult(seq, record.account_id, None, 0, 0, str(exc))
    return [results[seq] for seq, _ in items]


def _extra(job: Job, record: Record) -> dict[str, Any]:
    days = int(job.collector.get("statement.pay_within_days", 30))
    return {"pay_by": job.plan.day + dt.timedelta(days=days)}


def _render_together(job: Job, items: Sequence[tuple[int, Record]], fragments: dict[int, str]) -> dict[int, PieceResult]:
    records = dict(items)
    title = f"{job.plan.mailing.title}: {job.collector.name}"
    html = job.composer.document(job.statement, [fragments[s] for s, _ in items], title=title)
    document = job.renderer.layout(html)
    ranges = _page_ranges(document, [s for s, _ in items])
    wrong = [s for s, _ in items if ranges[s][1] - ranges[s][0] != 1]
    if wrong:
        # "Page X of Y" needs Y: lay out again the pieces that run past one page, now knowing it.
        for seq in wrong:
            fragments[seq] = job.composer.fragment(
                job.statement, records[seq], seq=seq, pages=ranges[seq][1] - ranges[seq][0], **_extra(job, records[seq])
            )
        html = job.composer.document(job.statement, [fragments[s] for s, _ in items], title=title)
        document = job.renderer.layout(html)
        ranges = _page_ranges(document, [s for s, _ in items])
    out: dict[int, PieceResult] = {}
    for seq, record in items:
        first, end = ranges[seq]
        pdf = job.renderer.write(document, document.pages[first:end])
        out[seq] = _finish_piece(job, seq, record, pdf, end - first)
    return out


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


def _finish_piece(job: Job, seq: int, record: Record, statement_pdf: bytes, statement_pages: int) -> PieceResult:
    from .compliance import check_pages, check_statements, errors, find_words, page_texts, Finding
    from .formatting import money

    texts = page_texts(statement_pdf)
    findings = check_statements(texts, job.statement.blocks) + check_pages(statement_pdf)
    for label, needle in (("owner name", record.owners[0]), ("total due", money(record.total_due, job.composer.locale))):
        if find_words(needle, texts) is None:
            findings.append(Finding("tp-14-812-a-1", "Tax-Property § 14-812(a)(1)", "error", f"{label} not found in the PDF text"))
    bad = errors(findings)
    if bad:
        return PieceResult(seq, record.account_id, None, statement_pages, 0, "piece fails the statute check", [f.to_dict() for f in bad])
    writer_out = io.BytesIO()
    writer = PdfStreamWriter(writer_out, info={"Title": _piece_title(job, record), "Producer": f"notices {__version__}"})
    writer.add_pdf(statement_pdf)
    pages = statement_pages
    duplex = bool(job.collector.get("print.duplex", True))
    for part, insert_pdf in job.inserts:
        if duplex and pages % 2:
            writer.add_blank()
            pages += 1
        pages += writer.add_shared(part.document.id, insert_pdf)
    writer.close()
    return PieceResult(seq, record.account_id, writer_out.getvalue(), statement_pages, pages)


# --------------------------------------------------------------------------------------------
# Shared parts: rendered and checked once per run.


def render_inserts(job: Job) -> list[tuple[str, bytes]]:
    """Lay out each insert once; a non-compliant insert stops the run before any piece is made."""
    from .compliance import check_composed, check_pages, check_statements, errors, page_texts

    made = []
    for part in job.plan.parts[1:] if job.plan.mailing.per_record else job.plan.parts:
        html = job.composer.fragment(part, None, seq=0, pages=0)
        findings = check_composed(html, part)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        pages = len(document.pages)
        html = job.composer.fragment(part, None, seq=0, pages=pages)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        pdf = job.renderer.write(document)
        findings += check_statements(page_texts(pdf), part.blocks) + check_pages(pdf)
        findings += _one_page(document, part)
        bad = errors(findings)
        if bad:
            raise ComplianceError(
                f"The {part.document.title} fails the statute check: " + "; ".join(f"{f.block}: {f.message}" for f in bad),
                findings=bad,
            )
        made.append((part.document.id, pdf))
    return made


def _one_page(document: Any, part: Part) -> list[Any]:
    from .compliance import Finding

    block_id = part.document.one_page_block
    if not block_id or block_id not in part.block_ids:
        return []
    pages = [i for i, page in enumerate(document.pages) if {"summary", "summary-end"} & set(page.anchors)]
    start = [i for i, p in enumerate(document.pages) if "summary" in p.anchors]
    end = [i for i, p in enumerate(document.pages) if "summary-end" in p.anchors]
    block = next(b for b in part.blocks if b.id == block_id)
    if not start or not end:
        return [Finding(block_id, block.citation, "error", "summary markers (#summary, #summary-end) not found")]
    if start[0] != end[0]:
        return [Finding(block_id, block.citation, "error", f"summary runs from page {start[0] + 1} to page {end[0] + 1}; it must fit on one page")]
    return [Finding(block_id, block.citation, "ok", "on one page", pages[0] + 1)]


# --------------------------------------------------------------------------------------------
# The output folder: lock, run identity, journal.


def _slug(account_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", account_id).strip("._-")[:40]
    return slug or "account"


def piece_name(seq: int, account_id: str) -> str:
    return f"{seq:06d}-{_slug(account_id)}.pdf"


def _tree_hash(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
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
        "templates": _tree_hash([templates_dir() / "base", collector.folder]),
        "profile": _tree_hash(list(collector.sources)),
        "fonts": _tree_hash([fonts_dir()]),
        "statutes": _tree_hash([registry]),
        "tool": f"notices {__version__}, WeasyPrint {WEASYPRINT_VERSION}",
        "options": json.dumps(
            {"collector": options.collector, "mailing": options.mailing, "date": options.date.isoformat(),
             "language": options.language, "encoding": options.encoding, "format": options.format},
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
        for raw in path.read_text("utf-8").splitlines():
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

    def record(self, entry: dict[str, Any]) -> None:
        with open(self.state / "journal.jsonl", "a", encoding="utf-8") as journal:
            journal.write(json.dumps(entry, sort_keys=True) + "\n")
            journal.flush()
            os.fsync(journal.fileno())


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary name and rename, so a crash never leaves a half-written file under the real name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
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
    collector, the_plan, checked = load(options)
    folder = OutputFolder(options.out)
    folder.lock()
    try:
        identity = run_identity(options, collector)
        done = folder.prepare(identity, options.resume)
        job = make_job(options.collector, options.mailing, options.date, options.language)
        inserts = render_inserts(job)
        job.inserts = [(job.plan.part(doc), pdf) for doc, pdf in inserts]
        outcomes = _render_all(options, job, inserts, checked, folder, done, progress)
        summary = _finish(options, job, inserts, outcomes, folder, collector)
        summary.resumed_pieces = len(done)
    finally:
        folder.unlock()
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
) -> dict[int, Outcome]:
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
    workers = options.workers or os.cpu_count() or 1
    chunks = list(_chunks(todo, max(1, options.chunk)))
    if workers == 1 or len(chunks) <= 1:
        results: Iterator[list[PieceResult]] = (render_chunk(job, chunk) for chunk in chunks)
        _consume(results, records, job, folder, outcomes, progress, finished, total)
    else:
        with ProcessPoolExecutor(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(options.collector, options.mailing, options.date, options.language, inserts),
        ) as pool:
            _consume(pool.map(_worker_chunk, chunks), records, job, folder, outcomes, progress, finished, total)
    return outcomes


def _consume(results: Iterator[list[PieceResult]], records: dict[int, Record], job: Job, folder: OutputFolder,
             outcomes: dict[int, Outcome], progress: ProgressHook | None, finished: int, total: int) -> None:
    for chunk in results:
        for result in chunk:
            record = records[result.seq]
            outcome = _outcome(job, record, result)
            if result.pdf is not None:
                _atomic_write(folder.pieces / outcome.piece_file, result.pdf)
            folder.record(asdict(outcome))
            outcomes[result.seq] = outcome
            finished += 1
        if progress:
            progress(finished, total)


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
        blocks=" ".join(b.id for b in blocks),
        citations="; ".join(dict.fromkeys(b.citation for b in blocks)),
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
    known = {k: v for k, v in entry.items() if k in Outcome.__dataclass_fields__}
    return Outcome(**known)


def _finish(options: Options, job: Job, inserts: list[tuple[str, bytes]], outcomes: dict[int, Outcome],
            folder: OutputFolder, collector: Collector) -> Summary:
    """Assemble the print file in mailing order, then write the manifest and the rejects."""
    ordered = [outcomes[seq] for seq in sorted(outcomes)]
    folder.print.mkdir(parents=True, exist_ok=True)
    name = f"{options.mailing}-{collector.id}-{options.date.isoformat()}.pdf"
    target = folder.print / name
    tmp = target.with_name(f".{name}.tmp")
    duplex = bool(collector.get("print.duplex", True))
    with open(tmp, "wb") as handle:
        writer = PdfStreamWriter(handle, info={"Title": f"{job.plan.mailing.title}: {collector.name}, {options.date.isoformat()}",
                                               "Producer": f"notices {__version__}"})
        for outcome in ordered:
            if outcome.status != "rendered":
                continue
            piece = (folder.pieces / outcome.piece_file).read_bytes()
            outcome.print_first_page = len(writer.pages) + 1
            writer.add_pdf(piece, range(outcome.statement_pages))
            pages = outcome.statement_pages
            for document_id, pdf in inserts:
                if duplex and pages % 2:
                    writer.add_blank()
                    pages += 1
                pages += writer.add_shared(document_id, pdf)
            outcome.print_last_page = len(writer.pages)
        writer.close()
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(target)

    summary = Summary(
        records_in=len(ordered),
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
    )
    _write_manifest(options.out, ordered, summary)
    return summary


MANIFEST_COLUMNS = (
    "seq", "account_id", "status", "reason", "source_file", "source_line", "piece_file", "print_first_page",
    "print_last_page", "pages", "sha256", "blocks", "citations", "edition", "language",
)


def _write_manifest(out: Path, ordered: Sequence[Outcome], summary: Summary) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for outcome in ordered:
        writer.writerow(asdict(outcome))
    _atomic_write(out / "manifest.csv", buffer.getvalue().encode("utf-8"))
    data = {"summary": summary.to_dict(), "pieces": [asdict(o) for o in ordered]}
    _atomic_write(out / "manifest.json", json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
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

