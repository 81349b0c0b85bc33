"""Turn a roll export into a finished mailing: piece files, a print file, a manifest and the rejects.

The orchestrator calls the stages in order: read and validate the input, resolve the plan, render the
inserts once, then render each piece on an executor (``piece.render_chunk``, a chunk of pieces per
call), then assemble the print file and write the manifest. Every input account ends as exactly one
manifest row: rendered, rejected or quarantined. A journal of finished pieces lets ``resume``
finish an interrupted run without gaps or duplicates.

The main process holds no record and no outcome for longer than it works on it: each stage writes
what the next needs into the run's index on disk (``notices.index``) and the next reads it back a
few at a time, so its memory does not grow with the mailing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import fingerprint, standards, trace
from .assemble import flat_name, pdf_info, print_file_name, write_print_file
from .cluster import DaskExecutor
from .collectors import load_collector
from .compose import Composer, printed_placeholders, refuse_placeholders, skeleton
from .control import Control, Tally, read_control
from .deadlines import statement_dates
from .errors import BatchError, ComplianceError, ConfigError, NoticesError
from .executors import Aside, LocalPool, cpu_seconds, peak_rss_kb, start_fork_server
from .index import RunIndex
from .inputs import Reading, raw_accounts, read_into
from .job import Job, JobSpec, Shape, insert_parts, make_job, shape
from .model import Collector, Outcome, PieceResult, Problem, Record, Rejection, Summary
from .options import WORKER_PRELOAD, Options
from .output import OutputFolder, piece_name, shared_text, write_manifest
from .pdfwriter import Fragment, read_fragment
from .postal import envelopes, production, serials
from .postal.imb import SerialBlock
from .resolve import Plan, plan
from .resources import printable
from .validate import Rules, validate
from .workers import dask_chunk, given_up, init_worker, make_inserts, worker_chunk

ProgressHook = Callable[[int, int], None]
Checked = list[tuple[int, Record | Rejection]]


def load(options: Options) -> tuple[Collector, Plan, Checked]:
    """The whole input read and validated, as a list: for a small file in a test or a benchmark (a run streams it through its index)."""
    with RunIndex() as index:
        collector, the_plan = settle(options)
        check_input(options, index, collector, the_plan, read_input(options, index))
        return collector, the_plan, list(index.checked())


def settle(options: Options) -> tuple[Collector, Plan]:
    """The run's collector (its profile, with the options' envelope, inserter and serial range) and its plan."""
    collector = with_envelope(load_collector(options.collector, home=options.home), options.envelope)
    collector = production.with_options(collector, options.inserter, options.serial_range)
    the_plan = plan(collector, options.mailing, options.date, large_print=options.large_print)
    if not the_plan.mailing.per_record:
        raise BatchError(f"The {the_plan.mailing.title} is not made from a roll export: render it without INPUT "
                         f"(`notices render -m {the_plan.mailing.id}`; from Python, `notices.inserts.run`)", field="mailing")
    return collector, the_plan


def read_input(options: Options, index: RunIndex) -> Reading:
    """Read the whole input file into ``index`` first (``check_input`` then validates it): a file that is not text, has
    the wrong columns or no records stops the run here, before anything is rendered."""
    return read_into(index, options.input, fmt=options.format, encoding=options.encoding)


def check_input(options: Options, index: RunIndex, collector: Collector, the_plan: Plan, reading: Reading) -> None:
    """Validate each account of a file read into ``index`` (``read_input``), and the control figures.

    One account at a time: it is read from the index, counted for the control figures, validated, and
    written back as its record or rejection; the control figures are checked once the file is read.
    """
    control = _control(options)
    tally = Tally() if control is not None else None
    rules = Rules(options.date, post_sale=the_plan.mailing.id == "post-sale-notice", printable=printable)
    envelope = envelopes.for_profile(collector.envelope)
    envelopes.require_return_fit(envelope, collector.return_address, collector.profile_file)
    layout = envelopes.address_layout(envelope)

    def checked() -> Iterator[tuple[int, Record | Rejection, Shape | None]]:
        for seq, raw in enumerate(raw_accounts(index, reading), start=1):
            if tally is not None:
                tally.add(raw)
            item = fits_window(validate(raw, rules), layout)
            yield seq, item, shape(item) if isinstance(item, Record) else None

    index.add_checked(checked())
    if control is not None and tally is not None:
        tally.check(control)  # a cut-off or padded export stops here, before a wrong total is printed


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


def compose_firsts(collector: Collector, the_plan: Plan, options: Options,
                   checked: Iterable[tuple[int, Record | Rejection]]) -> tuple[Composer, dict[Shape, str]]:
    """The statement of the first record of each shape, composed once, and the composer that noted what they read.

    ``checked`` need only hold those first records (``RunIndex.first_of_each_shape``).
    """
    composer = Composer(collector, the_plan, options.language, pdf_variant=options.pdf_variant)
    firsts: dict[Shape, Record] = {}
    for _, item in checked:
        if isinstance(item, Record):
            firsts.setdefault(shape(item), item)
    statement = the_plan.parts[0]
    composed: dict[Shape, str] = {}
    for found, record in firsts.items():
        try:
            composed[found] = composer.fragment(statement, record, seq=1, pages=1,
                                                **statement_dates(collector, the_plan.day, record))
        except ConfigError:
            raise  # a template or law error would fail every piece: the run stops, as its workers would stop it
        except NoticesError:
            if not options.proof:
                raise  # the placeholder check needs every shape: a run stops here, as it always has
            # A proof checks no placeholders: its workers quarantine what cannot be composed, piece by piece.
    return composer, composed


def placeholders_printed(composer: Composer, the_plan: Plan) -> list[str]:
    """The profile's placeholders the mailing's documents print, given a composer that composed the first
    statement of each shape (``compose_firsts``): the inserts are composed here.

    Every profile value the templates read is noted: what one piece prints, its shape's others print
    too (a template's branches follow the record's lines and sale, which the shape holds).
    """
    for part in the_plan.parts[1:]:
        composer.fragment(part, None, seq=0, pages=1)
    return printed_placeholders(composer.collector.placeholders, composer.read)


def layout_kinds(statements: dict[Shape, str]) -> dict[Shape, int]:
    """Shapes whose first statements have one skeleton (``fields.skeleton``) get one kind: a worker given a
    kind's chunks lays that skeleton out once, where two shapes of one skeleton sent to two workers
    would each be laid out twice. (Say, one and two sources of two rows: the sources do not always
    change the statement's boxes.) The kinds change which worker renders a chunk, never a byte.
    """
    kinds: dict[str, int] = {}
    return {found: kinds.setdefault(skeleton(html)[0], len(kinds)) for found, html in statements.items()}


def _kind_of(kinds: Mapping[Shape, int], found: Shape) -> Hashable:
    """A shape's kind as the pool and the render order know it: its skeleton kind (``layout_kinds``), else the shape."""
    return ("skeleton", kinds[found]) if found in kinds else found


def render_order(kinds: Mapping[Shape, int], counts: Mapping[Shape, int]) -> list[Shape]:
    """The order the shapes are handed out in: kind by kind (``layout_kinds``; a shape of no kind is one of its
    own), the kind with the fewest pieces first, and a kind's shapes smallest first.

    The workers spread over the small kinds while the pool's read-ahead can still see them, each
    laying its own out, and meet on the largest kind last: the one kind laid out twice, and its
    chunks even out the end of the run. Handed out smallest shape first, the largest kind (the
    fewest rows, the most common) came first, and a worker that had finished a small kind joined
    the other's and laid it out a second time: five full layouts a run of the bench's roll, not four.
    The order changes which worker renders a chunk, never a byte.
    """
    groups: dict[Hashable, list[Shape]] = {}
    for found in sorted(counts):
        groups.setdefault(_kind_of(kinds, found), []).append(found)
    ranked = sorted(groups.values(), key=lambda shapes: (sum(counts[s] for s in shapes), shapes[0]))
    return [found for shapes in ranked for found in shapes]


def _check_options(options: Options) -> None:
    # A bound that cannot be met would quarantine every piece and blame the templates: refused here, by name.
    for field, value, least, what in (
        ("workers", options.workers, 0, "The number of workers must be 0 (one per core) or more"),
        ("chunk", options.chunk, 1, "A chunk must hold at least 1 piece"),
        ("piece_memory_mb", options.piece_memory_mb, 0, "A worker's memory bound must be 0 MB (no bound) or more"),
        ("piece_timeout", options.piece_timeout, sys.float_info.min, "A piece's time bound must be more than 0 seconds"),
    ):
        if not value >= least:  # NaN too
            raise ConfigError(what, field=field, value=value)
    if options.executor not in ("local", "dask"):
        raise ConfigError("Unknown executor: use local or dask", field="executor", value=options.executor)
    if options.executor == "dask" and not options.scheduler:
        raise ConfigError("The Dask executor needs --scheduler ADDRESS", field="scheduler")
    standards.check_variant(options.pdf_variant)
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
    local = options.executor == "local" and options.workers != 1
    if local:
        start_fork_server(WORKER_PRELOAD)  # it loads WeasyPrint while this process reads the input
    with RunIndex() as index, contextlib.ExitStack() as stack:
        collector, the_plan = settle(options)
        reading = read_input(options, index)
        trace.mark("roll read")
        aside = None
        if local:
            # The inserts depend on the collector and the plan alone: another process makes them (and
            # checks them) while this one validates the accounts, checks the first statements and
            # prepares the folder. After the file is read, so a file that cannot be read starts
            # nothing; a run refused below (its control figures, its placeholders) stops it unasked.
            aside = Aside(make_inserts, _spec(options, collector, the_plan).early())
            stack.callback(aside.close)
        check_input(options, index, collector, the_plan, reading)
        trace.mark("accounts checked")
        composer, firsts = compose_firsts(collector, the_plan, options, index.first_of_each_shape())
        trace.mark("first statements composed")
        if not options.proof:
            refuse_placeholders(collector, placeholders_printed(composer, the_plan))
        templates = composer.compiled()  # the statement's (and, but in a proof, the inserts'): the workers compile them no more
        if options.large_print:  # a summary longer than a page stops the run before the folder, the serial ledger or any piece
            from .largeprint import require_summary_fits  # noqa: PLC0415 - the statute check, in this process only for large print

            require_summary_fits(make_job(collector, the_plan, options.language, reuse_layouts=False, proof=options.proof))
        # The workers set themselves up (fonts, stylesheets, a first layout) while this one prepares
        # the folder: they are then only told the inserts. They fork from the fork server, like the
        # inserts' process: the checks above come first, so a refused run starts no worker. With
        # workers this process lays nothing out, so it never loads WeasyPrint.
        pool = None
        kinds = layout_kinds(firsts)
        todo = index.to_render() if local else 0
        if todo:
            firsts_in_order = first_pieces(kinds, index.shape_counts(), index.first_of_each_shape())
            pool = _early_pool(options, collector, the_plan, todo, kinds, templates, firsts_in_order)
            trace.mark("workers started")
            stack.callback(pool.close)  # after map() (which closes it itself) there is nothing left to close
        span = index.records_in()  # the whole input's sequences: every shard draws its serials from the input's one block
        if options.shard is not None:
            # A shard is a fixed slice of the input by position, so n machines given 1/n .. n/n cover it exactly once.
            index.take_shard(*options.shard)
        summary, stats, block = _run_indexed(options, collector, the_plan, index, span, progress, pool, aside, kinds, templates)
    summary.executor = options.executor
    summary.workers, summary.workers_replaced = stats.workers, stats.replaced
    summary.reused_layouts = stats.reused
    summary.notes += list(stats.notes) + serials.notes(options.home, block)
    summary.serials = serials.summary(options.home, options.out, block)
    summary.cpu_seconds = round(cpu_seconds() - cpu_started + stats.cpu_seconds + (aside.cpu_seconds if aside else 0.0), 3)
    summary.peak_rss_workers_mb = [round(kb / 1024, 1) for kb in stats.peaks_kb]
    summary.peak_rss_main_mb = round(peak_rss_kb() / 1024, 1)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _run_indexed(options: Options, collector: Collector, the_plan: Plan, index: RunIndex, span: int,
                 progress: ProgressHook | None, pool: LocalPool | None,
                 aside: Aside | None = None, kinds: dict[Shape, int] | None = None,
                 templates: tuple[tuple[str, bytes], ...] = ()) -> tuple[Summary, _PoolStats, SerialBlock | None]:
    """Everything after the input is checked: the folder, the inserts, the pieces, the print file and the manifest.

    ``aside`` is making the inserts (``workers.make_inserts``); when it could not, they are made here,
    and a broken insert raises here the error it would have raised there. ``kinds`` (``layout_kinds``)
    guide the renderers' page guesses.
    """
    made = None
    if aside is not None:
        made = aside.result()
        trace.mark("inserts received")
    tools, inserts = made if made is not None else (None, None)
    folder = OutputFolder(options.out)
    folder.lock()
    try:
        names = itertools.chain((f"pieces/{piece_name(seq, account_id)}" for seq, account_id in index.piece_accounts()),
                                (f"print/{_print_name(options, collector)}", "manifest.csv", "manifest.json", "rejects.csv"))
        tools = tools if tools is not None else fingerprint.toolchain()
        identity = fingerprint.run_identity(options, collector, tools)
        for seq, entry in folder.prepare(identity, options.resume, names, options.force):
            if entry is None:
                index.forget(seq)
            else:
                index.add_outcomes([(entry, None)])
        resumed = sum(index.counts().values())
        # After the folder's checks: a refused resume reserves no serials.
        block = None if options.proof else serials.for_run(
            collector.imb, collector.profile_file, serials.ledger_path(options.home, options.out), identity, span,
            collector=collector.id, mailing=options.mailing, notice_date=options.date.isoformat())
        serials.settle(folder.state, block, options.resume)
        # Layouts are kept only where pieces are laid out: here, without workers.
        here = pool is None and options.executor == "local"
        job = make_job(collector, the_plan, options.language, reuse_layouts=options.reuse_layouts and here,
                       proof=options.proof, serials=block, pdf_variant=options.pdf_variant, kinds=kinds, templates=templates)
        if inserts is None:
            from .piece import render_inserts  # noqa: PLC0415 - WeasyPrint: only when this process lays out

            inserts = render_inserts(job)
            trace.mark("inserts made")
        job = dataclasses.replace(job, inserts=insert_parts(the_plan, inserts))
        stats = _render_all(options, job, index, folder, progress, pool, templates)
        trace.mark("last piece in")
        summary = _finish(options, job, index, folder, records_in=index.records_in())
        summary.resumed_pieces = resumed
        summary.notes = _reuse_note(options, tools)
    except OSError as exc:
        # A full disk or a lost mount: what is journaled is safe; say so, and how to go on.
        raise BatchError(f"Cannot write to the output folder: {exc.strerror or exc}", file=str(options.out),
                         hint="free space (or fix the folder), then run again with --resume") from None
    finally:
        folder.drop_spool()
        folder.unlock()
    return summary, stats, block


def _reuse_note(options: Options, tools: dict[str, str]) -> list[str]:
    """Say so when this machine lays every piece out in full though the run asked for reuse: the same pages, far slower.

    The figures are the bench's 1,000 pieces (README: Fonts without HarfBuzz-subset): 4 s with layout reuse, 41 s
    laid out in full, 137 s laid out in full with fontTools subsetting each piece's fonts.
    """
    why = fingerprint.reuse_refused(tools)
    if why is None or not options.reuse_layouts or options.executor != "local" or standards.full_layout(options.pdf_variant):
        return []
    subsetting = tools.get("harfbuzz-subset") != "present"
    how, times, mend = ((" and its fonts subset by fontTools", 30, "apt-get install -y libharfbuzz-subset0; ") if subsetting
                        else ("", 10, ""))
    return [f"every piece was laid out in full{how}, about {times} times slower than with layout reuse: {why} "
            f"({mend}README: Fonts without HarfBuzz-subset)"]


@dataclass(frozen=True)
class _PoolStats:
    workers: int = 0
    replaced: int = 0
    peaks_kb: tuple[int, ...] = ()
    cpu_seconds: float = 0.0  # the workers' (a Dask cluster's CPU is not counted)
    reused: int = 0
    notes: tuple[str, ...] = ()  # what the pool could not do here (a memory bound this platform cannot measure)


def _render_all(options: Options, job: Job, index: RunIndex, folder: OutputFolder, progress: ProgressHook | None,
                pool: LocalPool | None, templates: tuple[tuple[str, bytes], ...] = ()) -> _PoolStats:
    """Render what the journal does not hold yet, on the executor the options name; every outcome goes to the index."""
    index.add_rejections()
    finished, total, todo = sum(index.counts().values()), index.records_in(), index.to_render()
    consume = _Consumer(_Records(index), job, folder, index, progress, finished, total, options.breaker)
    if progress:
        progress(finished, total)
    folder.pieces.mkdir(parents=True, exist_ok=True)
    # Pieces of one shape, one after another, kind by kind (render_order): a worker lays each out once and
    # reuses it for the rest (notices.fields), with only a few layouts kept. The order changes the speed, not the bytes.
    chunks = index.chunks_to_render(max(1, options.chunk), render_order(job.kinds, index.shape_counts()))
    spec = _spec(options, job.collector, job.plan, tuple(job.shared), job.serials, job.kinds, templates)
    if options.executor == "dask":
        assert options.scheduler is not None  # checked by run()
        consume(DaskExecutor(options.scheduler, dask_chunk, spec, fail=given_up).map(chunks))
        return _PoolStats(reused=consume.reused)
    if pool is None or not todo:
        from .piece import render_chunk  # noqa: PLC0415 - WeasyPrint: only when this process lays out

        # In this process, without time or memory bounds: for debugging and small test runs.
        consume(render_chunk(job, chunk) for chunk in chunks)
        return _PoolStats(reused=consume.reused)
    pool.set_up((spec,))
    trace.mark("workers told the inserts")
    consume(pool.map(chunks))
    notes = (pool.memory_note,) if pool.memory_note else ()
    return _PoolStats(pool.workers, pool.replaced, tuple(pool.peaks_kb), pool.cpu_seconds, consume.reused, notes)


def _spec(options: Options, collector: Collector, the_plan: Plan, inserts: tuple[tuple[str, bytes], ...] = (),
          block: SerialBlock | None = None, kinds: Mapping[Shape, int] | None = None,
          templates: tuple[tuple[str, bytes], ...] = ()) -> JobSpec:
    return JobSpec(collector, the_plan, options.language, options.reuse_layouts, inserts, options.proof, block, options.pdf_variant,
                   tuple(sorted((kinds or {}).items())), templates)


def first_pieces(kinds: Mapping[Shape, int], counts: Mapping[Shape, int],
                 firsts: Iterable[tuple[int, Record | Rejection]]) -> list[tuple[int, Record]]:
    """The first record of each kind (``layout_kinds``), in the order the kinds are handed out (``render_order``): the
    first piece the pool's first worker is handed, then the next worker's (the pool gives each a kind no other is on)."""
    first_of = {shape(item): (seq, item) for seq, item in firsts if isinstance(item, Record)}
    found: dict[Hashable, tuple[int, Record]] = {}
    for named in render_order(kinds, counts):
        if named in first_of:
            found.setdefault(_kind_of(kinds, named), first_of[named])
    return list(found.values())


def _early_pool(options: Options, collector: Collector, the_plan: Plan, records: int, kinds: dict[Shape, int],
                templates: tuple[tuple[str, bytes], ...] = (), firsts: Sequence[tuple[int, Record]] = ()) -> LocalPool:
    """The run's local workers, started now from what is known before the inserts (``JobSpec.early``), each given the
    first piece it is likely to be handed (``first_pieces``), to lay out while the inserts are made."""
    workers = options.workers or os.cpu_count() or 1
    # No more workers than chunks: a chunk holds one shape, so there are at least as many as skeleton kinds.
    chunks = max(-(-records // max(1, options.chunk)), len(set(kinds.values())))
    workers = max(1, min(workers, chunks))
    pool = LocalPool(workers, init_worker, (_spec(options, collector, the_plan, kinds=kinds, templates=templates).early(),),
                     worker_chunk, given_up,
                     item_timeout=options.piece_timeout, memory_mb=options.piece_memory_mb,
                     preload=WORKER_PRELOAD, recycle_after=options.recycle_after, affinity=_ChunkKind(kinds),
                     first_args=[(first,) for first in firsts[:workers]])
    pool.start()
    return pool


class _ChunkKind:
    """A chunk's kind for the pool (a chunk holds one shape): its shape's (``_kind_of``)."""

    def __init__(self, kinds: dict[Shape, int]) -> None:
        self.kinds = kinds

    def __call__(self, chunk: list[tuple[int, Record]]) -> Hashable:
        return _kind_of(self.kinds, shape(chunk[0][1]))


class _Records:
    """The run's records by sequence number, read from the index when a piece comes back (none is held meanwhile)."""

    def __init__(self, index: RunIndex) -> None:
        self.index = index

    def __getitem__(self, seq: int) -> Record:
        return self.index.record(seq)


class _Consumer:
    """Write each finished piece under its final name, then journal it: the journal never names a piece not on disk."""

    def __init__(self, records: _Records, job: Job, folder: OutputFolder, outcomes: RunIndex,
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
            spooled: list[tuple[int, int] | None] = []
            for result in chunk:
                outcome = self._outcome(result)
                spooled.append(None)
                if result.pdf is not None:
                    self.folder.write_piece(outcome.piece_file, result.pdf)
                    if result.print_part is not None:
                        spooled[-1] = self.folder.spool(result.print_part)
                    self.rendered += 1
                    self.reused += result.reused
                else:
                    self.failed += 1
                entries.append(outcome.to_dict())
                self.finished += 1
            self.folder.record(*entries)
            self.outcomes.add_outcomes(zip(entries, spooled, strict=True))
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
        # The barcode the worker drew, as it drew it; the marks, a pure function of the profile and the page counts.
        made = self.job.production
        code = result.barcode
        sheets = production.sheets_of(result.pages, made.duplex)
        marks = " ".join(c for _, c in made.marks(result.statement_pages, sheets))
        over = made.over_capacity(sheets)
        return dataclasses.replace(base, piece_file=piece_name(result.seq, record.account_id), pages=result.pages,
                                   statement_pages=result.statement_pages, sha256=hashlib.sha256(result.pdf).hexdigest(),
                                   sheets=sheets, sort_key=production.sort_key(record),
                                   imb_tracking=code.tracking if code else "", imb_routing=code.routing if code else "",
                                   imb_bars=code.bars if code else "", omr_marks=marks, over_capacity=over,
                                   flat=over and made.flat_mailing)


def _print_name(options: Options, collector: Collector) -> str:
    return print_file_name(options.mailing, collector.id, options.date, options.shard)


def _finish(options: Options, job: Job, index: RunIndex, folder: OutputFolder, records_in: int) -> Summary:
    """Assemble the print file in mailing order, then write the manifest and the rejects, streaming from the index.

    A run with nothing to print writes no print file: an empty one could be fed to a printer as if it were the mailing.
    """
    target = folder.print / _print_name(options, job.collector)

    def statement_of(outcome: Outcome) -> Fragment:
        where = index.spooled_at(outcome.seq)
        spooled = folder.spooled(where) if where is not None else None
        if spooled is not None:
            return spooled
        # Rendered before a resume: read back from its file, object for object.
        return read_fragment((folder.pieces / outcome.piece_file).read_bytes(), outcome.statement_pages)

    title = f"{job.plan.mailing.title}: {job.collector.name}, {options.date.isoformat()}"
    # Only the order of the print file changes with --sort: each piece's bytes (and its barcode's serial) follow its input sequence.
    pages = 0
    # A proof is never a mailing: its pieces are written to look at, but no print file to feed a printer.
    printed = index.counts().get("rendered", 0) > 0 and not options.proof
    written: list[Path] = []
    for path, flat in ((target, False), (target.with_name(flat_name(target.name)), True)):
        # Pieces for flat mailing go to a print file of their own, numbered in its own sequence.
        ordered = index.in_print_order(options.sort, flat=flat)
        if printed and index.printed(flat=flat):
            folder.print.mkdir(parents=True, exist_ok=True)
            pages += write_print_file(path, ordered, statement_of, job.shared, duplex=job.collector.duplex,
                                      info=pdf_info(job.plan, title), placed=index.place, variant=job.pdf_variant,
                                      lang=job.language)
            written.append(path)
        else:
            index.place(ordered)
    trace.mark("print file written")
    folder.claim(*written)
    folder.drop_spool()
    counts = index.counts()
    summary = Summary(
        # Counted from the input, not from the outcomes: a piece lost on the way unbalances the books (exit 5).
        records_in=records_in,
        rendered=counts.get("rendered", 0),
        rejected=counts.get("rejected", 0),
        quarantined=counts.get("quarantined", 0),
        pages=pages,
        print_file=str(target) if target in written else "",
        flat_print_file=next((str(p) for p in written if p != target), ""),
        over_capacity=index.over_capacity(),
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
        pdf_variant=options.pdf_variant,
        large_print=options.large_print,
    )
    folder.claim(*write_manifest(options.out, index.outcomes(), summary))
    trace.mark("manifest written")
    return summary
