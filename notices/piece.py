"""Turn records into settled, checked pieces, and a plan's inserts into checked PDFs made once per run.

A record is composed once, for the page count its shape had before ("Page X of Y" needs Y before
layout); it is composed again only when that guess was wrong. Its statement is written into a kept
layout of the same skeleton where one exists (``fields``), else laid out, with the chunk's other
pieces in one WeasyPrint call. Every piece file is then checked as ``notices check`` checks it.
"""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .assemble import add_mailpiece, blank_pdf, pdf_info
from .compliance import PageFacts, Target, check_composed, check_pdf, errors, read_pages, shared_pages
from .compose import skeleton
from .deadlines import statement_dates
from .drawn import draw
from .errors import ComplianceError, ConfigError, NoticesError, RenderError
from .fields import Layout
from .job import Job, shape
from .model import PieceResult, Record
from .pdfwriter import Fragment, PdfStreamWriter, overlay
from .postal import imb, omr, production

Item = tuple[int, Record]
_Written = tuple[int, Record, Fragment, int]  # a piece's statement as written, and its page count
INSERT_PAGES = 2
"""The page count an insert is first composed for (the § 14-812(b) insert's): a wrong guess costs a layout, never a byte."""


@dataclass(frozen=True)
class _Draft:
    """A record's statement HTML, composed for a page count."""

    html: str
    pages: int


def warm_up(job: Job) -> None:
    """Load the fonts and stylesheets with a throw-away layout, and draw the padding page's words once."""
    job.renderer.layout(job.composer.document(job.statement, ["<p>Warm <b>up</b> <i>fonts</i></p>"], title="warm-up"))
    blank_pdf()


def _failed(seq: int, record: Record, reason: str) -> PieceResult:
    return PieceResult(seq, record.account_id, None, 0, 0, reason)


def _compose(job: Job, seq: int, record: Record, pages: int) -> _Draft:
    dates = statement_dates(job.collector, job.plan.day, record)
    return _Draft(job.composer.fragment(job.statement, record, seq=seq, pages=pages, **dates), pages)


def render_chunk(job: Job, items: Sequence[Item]) -> list[PieceResult]:
    """Compose, lay out (one WeasyPrint call for the chunk), write, join and check each piece.

    A template error (ConfigError) or a template that prints the wrong blocks would fail every piece
    alike: it is raised, and stops the run at the first piece, instead of quarantining them all.
    """
    drafts: dict[int, _Draft] = {}
    results: dict[int, PieceResult] = {}
    records = dict(items)
    for seq, record in items:
        try:
            draft = _compose(job, seq, record, job.guess_pages(shape(record)))
        except ConfigError:
            raise
        except NoticesError as exc:
            results[seq] = _failed(seq, record, str(exc))
            continue
        problems = check_composed(draft.html, job.statement)
        if problems:
            raise ComplianceError(
                f"The {job.statement.document.title} template fails the statute check (account {record.account_id}): "
                + "; ".join(f"{f.block}: {f.message}" for f in problems),
                findings=problems,
            )
        drafts[seq] = draft
    todo = [seq for seq, _ in items if seq in drafts]
    if job.layouts is not None:
        todo = _reuse_layouts(job, todo, records, drafts, results)
    if todo:
        try:
            results.update(_lay_out(job, todo, records, drafts))
        except ConfigError:
            raise
        except NoticesError:
            # One bad piece must not sink its neighbours: lay the chunk out one piece at a time.
            for seq in todo:
                results.update(_lay_out_alone(job, seq, records, drafts))
    return [results[seq] for seq, _ in items]


def _lay_out_alone(job: Job, seq: int, records: dict[int, Record], drafts: dict[int, _Draft],
                   keep: bool = False, wrapped: str = "") -> dict[int, PieceResult]:
    try:
        return _lay_out(job, [seq], records, drafts, keep=keep, wrapped=wrapped)
    except ConfigError:
        raise
    except NoticesError as exc:
        return {seq: _failed(seq, records[seq], str(exc))}


def _reuse_layouts(job: Job, seqs: Sequence[int], records: dict[int, Record], drafts: dict[int, _Draft],
                   results: dict[int, PieceResult]) -> list[int]:
    """Write the pieces whose skeleton was laid out before by swapping their fields; returns the rest.

    The first piece of a skeleton is laid out on its own, and kept: the pieces after it reuse it.
    """
    assert job.layouts is not None
    rest = []
    written: list[_Written] = []
    for seq in seqs:
        record = records[seq]
        pages = job.guess_pages(shape(record))
        if drafts[seq].pages != pages:  # an earlier piece of this chunk has just shown its shape's length
            drafts[seq] = _compose(job, seq, record, pages)
        key, values = skeleton(drafts[seq].html)  # the document around it is the same for every piece of a run
        layout = job.layouts.get(key)
        if layout is False:
            results.update(_lay_out_alone(job, seq, records, drafts, keep=True))
            continue
        statement = _into_layout(job, layout, values) if layout else None
        if layout is not None and statement is None and layout.wraps:
            layout, statement = _into_wrapped_layout(job, (key, values), layout.wraps, seq, record, drafts)
            if layout is None:
                # Laid out alone and kept for the next pieces of its skeleton whose words wrap alike.
                results.update(_lay_out_alone(job, seq, records, drafts, keep=True, wrapped=key))
                continue
        if layout is None or statement is None:
            rest.append(seq)  # its fields cannot be swapped, or a value does not fit: lay it out
            continue
        job.layouts.reused += 1
        written.append((seq, record, statement, layout.pages))
    for seq, result in _finish_pieces(job, written).items():
        results[seq] = dataclasses.replace(result, reused=True)
    return rest


def _into_layout(job: Job, layout: Layout, values: Sequence[str]) -> Fragment | None:
    """The piece's statement written into a kept layout with these field values; None when a value does not fit it."""
    if layout.drawn is None and job.layouts is not None and job.layouts.draw_once:
        # Drawn with the kept piece's own words, before another piece's are swapped in.
        layout.drawn = draw(layout, job.renderer.objects) or False
    return layout.write(values, functools.partial(_write_statement, job, layout))


def _into_wrapped_layout(job: Job, skeleton_of: tuple[str, list[str]], fields: tuple[int, ...], seq: int, record: Record,
                     drafts: dict[int, _Draft]) -> tuple[Layout | None, Fragment | None]:
    """A piece whose words wrap in these fields, written into the layout kept for its skeleton's pieces that wrap
    there: (None, None) when none is kept or the piece's words do not fit it, to be laid out alone (and kept) instead.

    ``skeleton_of``: the piece's skeleton and field values, as composed. The layout may have another
    page count than that skeleton's (a wrapped line took the statement onto another page): the piece
    is composed again with it, as its full layout would be.
    """
    assert job.layouts is not None
    key, values = skeleton_of
    layout = job.layouts.wrapped(key, fields)
    if layout is None:
        return None, None
    if layout.pages != drafts[seq].pages:
        draft = _compose(job, seq, record, layout.pages)
        own, values = skeleton(draft.html)
        if own != layout.key:
            return None, None
        drafts[seq] = draft
    statement = _into_layout(job, layout, values)
    return (layout, statement) if statement is not None else (None, None)


def _keep(job: Job, html: str, document: Any, wrapped: str = "") -> Fragment | None:
    """Keep a piece laid out alone for the next pieces of its skeleton, and write it as they will be written.

    The piece goes through its kept layout like any later piece (its own words swapped into its own
    boxes): whether a piece's fields are drawn into the shape's drawing must not depend on whether it
    came first, or its bytes would depend on the worker and chunk it landed in. None: write it in full.
    """
    assert job.layouts is not None
    key, values = skeleton(html)
    layout = job.layouts.keep(key, document, values, also=wrapped)
    if layout is None or not job.layouts.draw_once:
        return None
    layout.drawn = draw(layout, job.renderer.objects) or False
    if layout.drawn is False:
        return None
    return layout.write(values, functools.partial(_write_statement, job, layout))


def _write_statement(job: Job, layout: Layout, document: Any) -> Fragment:
    """A kept layout holding this piece's words as a statement's pages: its fields drawn into the kept drawing
    (``drawn``) where their glyphs are in its fonts, else the pages drawn in full."""
    assert job.layouts is not None
    if job.layouts.draw_once and layout.drawn is not False:
        fragment: Fragment | None = layout.drawn.fragment() if layout.drawn is not None else None
        if fragment is not None:
            job.layouts.drawn += 1
            return fragment
    # Through a copy, as a full layout writes its pieces: a fresh font table for each piece.
    whole: Fragment = job.renderer.fragment(document, document.pages)
    return whole


def _lay_out(job: Job, seqs: Sequence[int], records: dict[int, Record], drafts: dict[int, _Draft],
             keep: bool = False, wrapped: str = "",
             finish: Callable[[Job, Sequence[_Written]], dict[int, PieceResult]] | None = None) -> dict[int, PieceResult]:
    """Lay the pieces out in one document, then write each piece from its own pages.

    Every piece starts on a page of its own and carries nothing from its neighbours, so a piece's
    bytes do not depend on the chunk it was laid out in (tests/test_batch.py checks this).
    ``keep`` (one piece) keeps its layout for the next pieces of its skeleton (``job.layouts``);
    ``wrapped``: for those whose words wrap, as the piece's do, composed with that skeleton
    (``fields.Layouts.keep``). Such a piece may run longer than its shape: its page count is not
    the shape's guess.
    The page count guessed from the shape changes only the work, not the bytes: Y of "Page X of Y"
    is printed in the page margin only, so a piece's page count does not depend on it.
    ``finish``: what becomes of the written statements (joined and checked, ``_finish_pieces``).
    """
    drafts = {seq: drafts[seq] for seq in seqs}  # the caller's stay as they are, should it retry piece by piece
    for seq in seqs:
        guess = job.guess_pages(shape(records[seq]))
        if drafts[seq].pages != guess:
            drafts[seq] = _compose(job, seq, records[seq], guess)
    title = f"{job.plan.mailing.title}: {job.collector.name}"
    todo = list(seqs)
    out: dict[int, PieceResult] = {}
    for _ in range(3):
        document = job.renderer.layout(job.composer.document(job.statement, [drafts[s].html for s in todo], title=title))
        ranges = _page_ranges(document, todo)
        wrong = []
        written: list[_Written] = []
        for seq in todo:
            first, end = ranges[seq]
            if not wrapped:
                job.page_counts[shape(records[seq])] = end - first
            if end - first != drafts[seq].pages:
                wrong.append(seq)
                continue
            statement = None
            if keep and len(todo) == 1 and job.layouts is not None:
                statement = _keep(job, drafts[seq].html, document, wrapped)
            if statement is None:
                statement = job.renderer.fragment(document, document.pages[first:end])
            written.append((seq, records[seq], statement, end - first))
        out.update((finish or _finish_pieces)(job, written))
        if not wrong:
            return out
        # "Page X of Y" needs Y: lay out again, on their own, only the pieces that ran past their guess.
        for seq in wrong:
            drafts[seq] = _compose(job, seq, records[seq], ranges[seq][1] - ranges[seq][0])
        todo = wrong
    raise RenderError("the page count of a piece does not settle", value=todo[0])


def prepare(job: Job, seq: int, record: Record) -> None:
    """Lay out and keep the layout of the first piece of the shape this worker is likely to be handed first, before
    the inserts it needs to finish a piece are made: its chunk then finds the layout kept, as later pieces do.

    What it leaves (the kept layout, the shape's page count) is what that piece's own chunk would have
    left, and a piece's bytes never depend on which piece of its shape was kept. Whatever goes wrong is
    left for the chunk, which meets it again and reports it.
    """
    if job.layouts is None:
        return
    try:
        draft = _compose(job, seq, record, job.guess_pages(shape(record)))
        _lay_out(job, [seq], {seq: record}, {seq: draft}, keep=True, finish=_unfinished)
    except Exception:  # noqa: BLE001, S110 - see above
        pass


def _unfinished(_job: Job, _written: Sequence[_Written]) -> dict[int, PieceResult]:
    return {}


def _page_ranges(document: Any, seqs: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Which pages of a laid-out chunk belong to which piece, from the anchor each piece starts with."""
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


def must_show(job: Job, record: Record) -> list[tuple[str, str, str]]:
    """(block, label, text) the finished PDF must show for this record: the figures the notice is about."""
    # The composer's own filters, which remember each amount and date by its exact value: the statement
    # has just printed these, so they are written out once per piece, not again here.
    money, long_date = job.composer.env.filters["money"], job.composer.env.filters["longdate"]
    if record.sale is None:
        return [("tp-14-812-a-1", "owner name", record.owners[0]), ("tp-14-812-a-1", "total due", money(record.total_due))]
    sale = record.sale
    before = next((b for b in job.statement.block_ids if b.startswith("tp-14-817-1-a-7")), "tp-14-817-1-a-7")
    return [
        ("tp-14-817-1-a-sold", "owner name", record.owners[0]),
        ("tp-14-817-1-a-date", "sale date", long_date(sale.sale_date)),
        ("tp-14-817-1-a-bid", "highest bid", money(sale.highest_bid)),
        ("tp-14-817-1-a-lien", "lien amount", money(sale.lien_amount)),
        (before, "amount to redeem before a foreclosure action is filed", money(sale.redemption_before_filing)),
        ("tp-14-817-1-a-after", "amount to redeem after a foreclosure action is filed", money(sale.redemption_after_filing)),
    ]


def with_barcode(job: Job, seq: int, record: Record, statement: Fragment,
                 statement_pages: int = 1) -> tuple[Fragment, imb.Barcode | None]:
    """The statement with its Intelligent Mail barcode drawn below the address and its OMR marks, as the profile asks,
    and the barcode drawn (None: the profile prints none), which the manifest records as drawn.

    Drawn into the pages after layout, so neither bars nor marks enter the HTML: pieces still share layouts.
    """
    made = job.production
    found = made.barcode(seq, record)
    if found is not None:
        box = job.address_layout.barcode_box
        statement = overlay(statement, 0, imb.bars_stream(found.bars, box.left, box.bottom))
    if made.inserter is not None:
        sheets = production.sheets_of(production.piece_pages(statement_pages, job.insert_pages, made.duplex), made.duplex)
        for page, code in made.marks(statement_pages, sheets):
            statement = overlay(statement, page, omr.content_stream(made.inserter.rects(code)))
    return statement, found


@dataclass(frozen=True)
class _Joined:
    """A piece file joined from its statement and the inserts, before it is checked."""

    seq: int
    record: Record
    pdf: bytes
    statement: Fragment  # with its barcode and marks: the print file copies it
    statement_pages: int
    pages: int
    shared: list[bytes | None]  # the blank page and the inserts the piece carries after its statement
    barcode: imb.Barcode | None


def _finish_pieces(job: Job, written: Sequence[_Written]) -> dict[int, PieceResult]:
    """Join each statement with the inserts into its piece file, and check that file as `notices check` would.

    Stage by stage over the chunk (join them all, read all their statement pages, then check each), not piece
    by piece: PDFium's reading and the check's Python each keep their code and tables warm from one piece to the
    next (a worker's CPU 4.56 ms a piece instead of 5.04 on the bench's roll). No piece depends on another's stage.
    """
    joined = [_join(job, *piece) for piece in written]
    # What each page shows: the statement's pages read from the finished piece; the blank page and the
    # inserts, the same in every piece, read once per process.
    facts = [read_pages(piece.pdf, first=piece.statement_pages) if isinstance(piece, _Joined) else [] for piece in joined]
    return {piece.seq: _checked(job, piece, read) if isinstance(piece, _Joined) else piece
            for piece, read in zip(joined, facts, strict=True)}


def _join(job: Job, seq: int, record: Record, statement: Fragment, statement_pages: int) -> _Joined | PieceResult:
    """The piece file of a statement and the inserts; a PieceResult when it has more pages than the profile allows."""
    statement, code = with_barcode(job, seq, record, statement, statement_pages)
    out = io.BytesIO()
    title = f"{job.plan.mailing.title}: {job.collector.name}, account {record.account_id}"
    writer = PdfStreamWriter(out, info=pdf_info(job.plan, title), variant=job.pdf_variant, lang=job.language)
    pages, shared = add_mailpiece(writer, statement, statement_pages, job.shared, duplex=job.collector.duplex)
    writer.close()
    cap = job.collector.max_pages
    if cap is not None and pages > cap:
        return PieceResult(seq, record.account_id, None, statement_pages, 0,
                           f"the piece has {pages} pages; the collector's profile allows {cap} (print.max_pages)")
    return _Joined(seq, record, out.getvalue(), statement, statement_pages, pages, shared, code)


def _checked(job: Job, piece: _Joined, facts: list[PageFacts]) -> PieceResult:
    """The piece checked from its statement pages' facts and the inserts': settled, or failed with the check's findings."""
    for pdf in piece.shared:
        facts += shared_pages(blank_pdf() if pdf is None else pdf)
    record = piece.record
    target = Target(job.collector, job.plan, tuple(must_show(job, record)), record.first_advertisement_date)
    report = check_pdf(piece.pdf, target, pages=facts)
    if not report.ok:
        named = "; ".join(f"{f.block}: {f.message}" for f in report.errors[:3])
        return PieceResult(piece.seq, record.account_id, None, piece.statement_pages, 0, f"piece fails the statute check: {named}",
                           [f.to_dict() for f in report.errors], failed_pdf=piece.pdf)
    return PieceResult(piece.seq, record.account_id, piece.pdf, piece.statement_pages, piece.pages, print_part=piece.statement,
                       barcode=piece.barcode)


def render_inserts(job: Job) -> list[tuple[str, bytes]]:
    """Lay out each insert of the plan once (all its documents but a per-record statement); a non-compliant one stops the run."""
    made = []
    for part in job.plan.parts[1:] if job.plan.mailing.per_record else job.plan.parts:
        html = job.composer.fragment(part, None, seq=0, pages=INSERT_PAGES)
        findings = check_composed(html, part)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        if len(document.pages) != INSERT_PAGES:
            # "Page X of Y" is in the page margin: Y cannot change the count, so one more layout settles it.
            html = job.composer.fragment(part, None, seq=0, pages=len(document.pages))
            document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        pdf = job.renderer.write(document)
        # The same check as `notices check insert.pdf --document <id>`: words, order, content, one-page summary, pages.
        findings += check_pdf(pdf, Target(job.collector, job.plan), documents=[part.document.id]).findings
        bad = errors(findings)
        if bad:
            raise ComplianceError(
                f"The {part.document.title} fails the statute check: " + "; ".join(f"{f.block}: {f.message}" for f in bad),
                findings=bad, pdf=pdf,
            )
        made.append((part.document.id, pdf))
    return made
