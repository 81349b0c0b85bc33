"""Turn a roll export into a finished mailing: piece files, a print file, a manifest and the rejects.

The orchestrator calls the stages in order: read and validate the input, resolve the plan, render the
inserts once, then render each piece on an executor (``piece.render_chunk``, a chunk of pieces per
call), then assemble the print file and write the manifest. Every input account ends as exactly one
manifest row: rendered, rejected or quarantined. A journal of finished pieces lets ``resume``
finish an interrupted run without gaps or duplicates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .assemble import pdf_info, print_file_name, write_print_files
from .cluster import DaskExecutor
from .collectors import load_collector
from .compose import Composer, printed_placeholders, refuse_placeholders
from .control import Control, read_control, reconcile
from .deadlines import statement_dates
from .errors import BatchError, ComplianceError, ConfigError
from .executors import LocalPool, cpu_seconds, peak_rss_kb
from .fingerprint import run_identity
from .inputs import read_accounts
from .job import Job, JobSpec, Shape, make_job, shape
from .model import Collector, Outcome, Problem, Record, Rejection, Summary
from .options import Options
from .output import OutputFolder, outcome_from_journal, piece_name, shared_text, write_manifest
from .pdfwriter import Fragment, read_fragment
from .piece import PieceResult, render_chunk, render_inserts
from .postal import envelopes, production, serials
from .render import printable
from .resolve import Plan, plan
from .validate import Rules, validate
from .workers import dask_chunk, given_up, init_worker, worker_chunk

ProgressHook = Callable[[int, int], None]
Checked = list[tuple[int, Record | Rejection]]


def load(options: Options) -> tuple[Collector, Plan, Checked]:
    """Read and validate the whole input first: a bad file stops the run before anything is rendered."""
    collector = with_envelope(load_collector(options.collector, home=options.home), options.envelope)
    collector = production.with_options(collector, options.inserter, options.serial_range)
    the_plan = plan(collector, options.mailing, options.date)
    if not the_plan.mailing.per_record:
        raise BatchError(f"The {the_plan.mailing.title} is not made from a roll export; use `notices inserts`", field="mailing")
    raws = read_accounts(options.input, fmt=options.format, encoding=options.encoding)
    control = _control(options)
    if control is not None:
        reconcile(raws, control)  # a cut-off or padded export stops here, before a wrong total is printed
    rules = Rules(options.date, post_sale=the_plan.mailing.id == "post-sale-notice", printable=printable)
    envelope = envelopes.for_profile(collector.envelope)
    envelopes.require_return_fit(envelope, collector.return_address, collector.profile_file)
    layout = envelopes.address_layout(envelope)
    return collector, the_plan, [(seq, fits_window(validate(raw, rules), layout)) for seq, raw in enumerate(raws, start=1)]


def with_envelope(collector: Collector, stock: str | None) -> Collector:
    """The collector with ``--envelope`` as its stock (checked now: an unknown id stops the run before anything renders)."""
    if stock is None:
        return collector
    envelopes.stock(stock)
    return dataclasses.replace(collector, facts={**collector.facts, "envelope": {**collector.envelope, "stock": stock}})


def fits_window(item: Record | Rejection, layout: envelopes.AddressLayout) -> Record | Rejection:
    """A record whose address the envelope's window cannot show whole, with the barcode and clearances, is rejected: never cut."""
    if isinstance(item, Rejection):
        return item
    mailing = item.mailing
    reason = layout.lines_fit(envelopes.address_lines(item.owners, mailing.line1, mailing.line2, mailing.last_line))
    if reason is None:
        return item
    problem = Problem(reason, item.source_file, item.first_line, "mailing_address")
    return Rejection(item.account_id, item.source_file, item.first_line, (problem,))


def _control(options: Options) -> Control | None:
    """The export's record count and control total, from a control file and/or the options (the options win)."""
    if options.control is None and options.expect_records is None and options.expect_total is None:
        return None
    given = read_control(options.control) if options.control is not None else Control()
    return Control(records=given.records if options.expect_records is None else options.expect_records,
                   total=given.total if options.expect_total is None else options.expect_total,
                   file=given.file)


def placeholders_printed(collector: Collector, the_plan: Plan, options: Options, checked: Checked) -> list[str]:
    """The profile's placeholders the mailing's documents print, found by composing them once.

    The first record of each statement shape is composed with the inserts, and every profile value the
    templates read is noted: what one piece prints, its shape's others print too (a template's branches
    follow the record's lines and sale, which the shape holds).
    """
    composer = Composer(collector, the_plan, options.language)
    firsts: dict[Shape, Record] = {}
    for _, item in checked:
        if isinstance(item, Record):
            firsts.setdefault(shape(item), item)
    statement = the_plan.parts[0]
    for record in firsts.values():
        composer.fragment(statement, record, seq=1, pages=1, **statement_dates(collector, the_plan.day, record))
    for part in the_plan.parts[1:]:
        composer.fragment(part, None, seq=0, pages=1)
    return printed_placeholders(collector.placeholders, composer.read)


def _check_options(options: Options) -> None:
    if options.executor not in ("local", "dask"):
        raise ConfigError("Unknown executor: use local or dask", field="executor", value=options.executor)
    if options.executor == "dask" and not options.scheduler:
        raise ConfigError("The Dask executor needs --scheduler ADDRESS", field="scheduler")
    if options.sort not in ("input", "zip"):
        raise ConfigError("Unknown print order: use input or zip", field="sort", value=options.sort)
    if options.shard is not None:
        index, count = options.shard
        if not (count >= 1 and 1 <= index <= count):
            raise ConfigError("A shard is i/n with 1 <= i <= n", field="shard", value=f"{index}/{count}")


def run(options: Options, progress: ProgressHook | None = None) -> Summary:
    """Render a whole mailing into ``options.out``; see the module docstring."""
    started = time.monotonic()
    cpu_started = cpu_seconds()
    _check_options(options)
    collector, the_plan, checked = load(options)
    if not options.proof:
        refuse_placeholders(collector, placeholders_printed(collector, the_plan, options, checked))
    span = len(checked)  # the whole input's sequences: every shard draws its serials from the input's one block
    if options.shard is not None:
        index, count = options.shard
        # A shard is a fixed slice of the input by position, so n machines given 1/n .. n/n cover it exactly once.
        checked = [(seq, item) for seq, item in checked if seq % count == index - 1]
    folder = OutputFolder(options.out)
    folder.lock()
    try:
        names = [f"pieces/{piece_name(seq, item.account_id)}" for seq, item in checked if isinstance(item, Record)]
        names += [f"print/{_print_name(options, collector)}", "manifest.csv", "manifest.json", "rejects.csv"]
        identity = run_identity(options, collector)
        done = folder.prepare(identity, options.resume, names, options.force)  # a refused resume reserves no serials
        block = None if options.proof else serials.for_run(
            collector.imb, collector.profile_file, serials.ledger_path(options.home, options.out), identity, span,
            collector=collector.id, mailing=options.mailing, notice_date=options.date.isoformat())
        serials.settle(folder.state, block, options.resume)
        job = make_job(collector, the_plan, options.language, reuse_layouts=options.reuse_layouts, proof=options.proof,
                       serials=block)
        job = dataclasses.replace(job, inserts=tuple((the_plan.part(d), pdf) for d, pdf in render_inserts(job)))
        outcomes, stats = _render_all(options, job, checked, folder, done, progress)
        summary = _finish(options, job, outcomes, folder, records_in=len(checked))
        summary.resumed_pieces = len(done)
    except OSError as exc:
        # A full disk or a lost mount: what is journaled is safe; say so, and how to go on.
        raise BatchError(f"Cannot write to the output folder: {exc.strerror or exc}", file=str(options.out),
                         hint="free space (or fix the folder), then run again with --resume") from None
    finally:
        folder.drop_spool()
        folder.unlock()
    summary.executor = options.executor
    summary.workers, summary.workers_replaced = stats.workers, stats.replaced
    summary.reused_layouts = stats.reused
    summary.notes = list(stats.notes) + serials.notes(options.home, block)
    summary.serials = serials.summary(options.home, options.out, block)
    summary.cpu_seconds = round(cpu_seconds() - cpu_started + stats.cpu_seconds, 3)
    summary.peak_rss_workers_mb = [round(kb / 1024, 1) for kb in stats.peaks_kb]
    summary.peak_rss_main_mb = round(peak_rss_kb() / 1024, 1)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


@dataclass(frozen=True)
class _PoolStats:
    workers: int = 0
    replaced: int = 0
    peaks_kb: tuple[int, ...] = ()
    cpu_seconds: float = 0.0  # the workers' (a Dask cluster's CPU is not counted)
    reused: int = 0
    notes: tuple[str, ...] = ()  # what the pool could not do here (a memory bound this platform cannot measure)


def _chunks(items: Sequence[tuple[int, Record]], size: int) -> Iterator[list[tuple[int, Record]]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _render_all(options: Options, job: Job, checked: Checked, folder: OutputFolder, done: dict[int, dict[str, object]],
                progress: ProgressHook | None) -> tuple[dict[int, Outcome], _PoolStats]:
    """Render what the journal does not hold yet, on the executor the options name."""
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Record]] = []
    for seq, item in checked:
        if isinstance(item, Rejection):
            outcomes[seq] = Outcome(seq, item.account_id, "rejected", item.file, item.line, reason=item.reason,
                                    findings=[asdict(p) for p in item.problems])
        elif seq in done:
            outcomes[seq] = outcome_from_journal(dict(done[seq]))
        else:
            todo.append((seq, item))
    consume = _Consumer(dict(todo), job, folder, outcomes, progress, len(outcomes), len(checked), options.breaker)
    if progress:
        progress(len(outcomes), len(checked))
    folder.pieces.mkdir(parents=True, exist_ok=True)
    # Pieces of one shape, one after another: a worker lays each shape out once and reuses it for the
    # rest (notices.fields), with only a few layouts kept. The order changes the speed, not the bytes.
    todo.sort(key=lambda item: (shape(item[1]), item[0]))
    chunks = _chunks(todo, max(1, options.chunk))
    spec = JobSpec(job.collector, job.plan, job.language, options.reuse_layouts, tuple(job.shared), options.proof, job.serials)
    if options.executor == "dask":
        assert options.scheduler is not None  # checked by run()
        consume(DaskExecutor(options.scheduler, dask_chunk, spec, fail=given_up).map(chunks))
        return outcomes, _PoolStats(reused=consume.reused)
    if options.workers == 1 or not todo:
        # In this process, without time or memory bounds: for debugging and small test runs.
        consume(render_chunk(job, chunk) for chunk in chunks)
        return outcomes, _PoolStats(reused=consume.reused)
    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, -(-len(todo) // max(1, options.chunk))))
    pool = LocalPool(workers, init_worker, (spec,), worker_chunk, given_up,
                     item_timeout=options.piece_timeout, memory_mb=options.piece_memory_mb,
                     preload=["notices.workers"], recycle_after=options.recycle_after)
    consume(pool.map(chunks))
    notes = (pool.memory_note,) if pool.memory_note else ()
    return outcomes, _PoolStats(workers, pool.replaced, tuple(pool.peaks_kb), pool.cpu_seconds, consume.reused, notes)


class _Consumer:
    """Write each finished piece under its final name, then journal it: the journal never names a piece not on disk."""

    def __init__(self, records: dict[int, Record], job: Job, folder: OutputFolder, outcomes: dict[int, Outcome],
                 progress: ProgressHook | None, finished: int, total: int, breaker: int) -> None:
        self.records, self.job, self.folder, self.outcomes = records, job, folder, outcomes
        self.progress, self.finished, self.total, self.breaker = progress, finished, total, breaker
        self.rendered = self.failed = self.reused = 0
        blocks = [b for part in [job.statement, *(p for p, _ in job.inserts)] for b in part.blocks]
        self.blocks = shared_text(" ".join(b.id for b in blocks))
        self.citations = shared_text("; ".join(dict.fromkeys(b.citation for b in blocks)))

    def __call__(self, results: Iterable[list[PieceResult]]) -> None:
        for chunk in results:
            entries = []
            for result in chunk:
                outcome = self._outcome(result)
                if result.pdf is not None:
                    self.folder.write_piece(outcome.piece_file, result.pdf)
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
            if self.failed >= self.breaker and not self.rendered:
                raise ComplianceError(
                    f"The first {self.failed} pieces of the run all failed (the last: {entries[-1]['reason']}); "
                    "the run stopped, since what they share (templates, profile, fonts) is probably wrong",
                    hint="see .notices/journal.jsonl for each piece's findings",
                )
            if self.progress:
                self.progress(self.finished, self.total)

    def _outcome(self, result: PieceResult) -> Outcome:
        record = self.records[result.seq]
        base = Outcome(
            seq=result.seq,
            account_id=record.account_id,
            status="rendered" if result.pdf is not None else "quarantined",
            source_file=record.source_file,
            source_line=record.first_line,
            edition=self.job.plan.edition.id,
            language=self.job.language,
            blocks=self.blocks,
            citations=self.citations,
        )
        if result.pdf is None:
            return dataclasses.replace(base, reason=result.error, findings=result.findings)
        # The same barcode and marks the worker drew: pure functions of the profile, the run's serial block and the record.
        made = self.job.production
        code = made.barcode(result.seq, record)
        sheets = production.sheets_of(result.pages, made.duplex)
        marks = " ".join(c for _, c in made.marks(result.statement_pages, sheets))
        over = made.over_capacity(sheets)
        return dataclasses.replace(base, piece_file=piece_name(result.seq, record.account_id), pages=result.pages,
                                   statement_pages=result.statement_pages, sha256=hashlib.sha256(result.pdf).hexdigest(),
                                   sheets=sheets, sort_key=production.sort_key(record),
                                   imb_tracking=code.tracking if code else "", imb_routing=code.routing if code else "",
                                   imb_bars=code.bars if code else "", omr_marks=marks, over_capacity=over,
                                   flat=over and made.flat_mailing)


def print_order(outcomes: list[Outcome], sort: str) -> list[Outcome]:
    """The print file's order: the export's (``input``), or by ZIP+4 then input order (``zip``); then the unprinted, by input order.

    Only the order of the print file changes: each piece's bytes (and its barcode's serial) follow its input sequence.
    """
    if sort not in ("input", "zip"):
        raise ConfigError("Unknown print order: use input or zip", field="sort", value=sort)
    printed = [o for o in outcomes if o.status == "rendered"]
    if sort == "zip":
        printed.sort(key=lambda o: (o.sort_key, o.seq))
    # Pieces for flat mailing are numbered in their own print file's sequence.
    placed = [dataclasses.replace(o, print_sequence=index) for flat in (False, True)
              for index, o in enumerate((o for o in printed if o.flat == flat), start=1)]
    return placed + [o for o in outcomes if o.status != "rendered"]


def _print_name(options: Options, collector: Collector) -> str:
    return print_file_name(options.mailing, collector.id, options.date, options.shard)


def _finish(options: Options, job: Job, outcomes: dict[int, Outcome], folder: OutputFolder, records_in: int) -> Summary:
    """Assemble the print file in mailing order, then write the manifest and the rejects.

    A run with nothing to print writes no print file: an empty one could be fed to a printer as if it were the mailing.
    """
    target = folder.print / _print_name(options, job.collector)

    def statement_of(outcome: Outcome) -> Fragment:
        spooled = folder.spooled(outcome.seq)
        if spooled is not None:
            return spooled
        # Rendered before a resume: read back from its file, object for object.
        return read_fragment((folder.pieces / outcome.piece_file).read_bytes(), outcome.statement_pages)

    title = f"{job.plan.mailing.title}: {job.collector.name}, {options.date.isoformat()}"
    ordered, pages = print_order([outcomes[seq] for seq in sorted(outcomes)], options.sort), 0
    # A proof is never a mailing: its pieces are written to look at, but no print file to feed a printer.
    printed = any(o.status == "rendered" for o in ordered) and not options.proof
    written: list[Path] = []
    if printed:
        folder.print.mkdir(parents=True, exist_ok=True)
        ordered, pages, written = write_print_files(target, ordered, statement_of, job.shared, duplex=job.collector.duplex,
                                                    info=pdf_info(job.plan, title))
        folder.claim(*written)
    ordered.sort(key=lambda o: o.seq)  # the manifest stays in input order; print_sequence gives the print file's
    folder.drop_spool()
    summary = Summary(
        # Counted from the input, not from the outcomes: a piece lost on the way unbalances the books (exit 5).
        records_in=records_in,
        rendered=sum(o.status == "rendered" for o in ordered),
        rejected=sum(o.status == "rejected" for o in ordered),
        quarantined=sum(o.status == "quarantined" for o in ordered),
        pages=pages,
        print_file=str(target) if target in written else "",
        flat_print_file=next((str(p) for p in written if p != target), ""),
        over_capacity=sum(o.over_capacity for o in ordered),
        manifest=str(options.out / "manifest.csv"),
        rejects=str(options.out / "rejects.csv"),
        out=str(options.out),
        edition=job.plan.edition.id,
        edition_label=job.plan.edition.label,
        mailing=job.plan.mailing.id,
        documents=[p.document.id for p in job.plan.parts],
        skipped_documents=list(job.plan.skipped),
        placeholders=list(job.collector.placeholders),
        shard=f"{options.shard[0]}/{options.shard[1]}" if options.shard else "",
        proof=options.proof,
    )
    folder.claim(*write_manifest(options.out, ordered, summary))
    return summary
