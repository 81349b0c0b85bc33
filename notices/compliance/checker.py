"""Turn a finished PDF and the law in force into a report: which mandated blocks are there, where, and in order.

The check reads the text the PDF itself carries (not the template), so it works on any PDF,
including an insert designed in another program. ``notices check`` and ``notices render`` call the
same entry point, :func:`check_pdf`, so the two can never disagree: ``check`` reads the file's
pages, ``render`` hands over what the pages of the piece it just joined show, read from its parts
(the statement once, the blank page and the inserts once per process), and
tests/test_check_fast.py holds the two to the same report.

What is checked, document by document (a piece file holds the statement, padding and the inserts;
a print file is cut at each statement and checked piece by piece):

* each statement (and each form element with fixed words) verbatim and in statutory order; a
  statement that differs is shown as a word-level diff against the closest passage;
* each content duty present, from the ``expect`` phrases and profile facts the registry gives the
  block, looked for between the statements that come before and after it in statutory order;
* special duties named by a block's ``check``: the "Date" line followed by the notice date, the
  owner's name and the total, the itemized lines that sum to the total, the one-page summary;
* no statement of a block that is not in force on the date (or does not apply to the collector);
* each insert on a sheet of its own; page size, embedded fonts, no text outside the printable area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..statutes import load_registry
from .documents import DocumentFinder
from .facts import StatementFacts
from .pdftext import PageFacts, PdfText, read_pdf
from .report import Finding, Recorder, Report, Span, Target, document_citation
from .sheets import page_facts, separate_inserts
from .statements import DocumentCheck
from .unexpected import UnexpectedBlocks


def check_pdf(pdf: bytes | PdfText, target: Target, *, documents: Sequence[str] | None = None, file: str = "",
              pages: Sequence[PageFacts] | None = None) -> Report:
    """Hold a finished PDF against the law in force: the single check ``notices check`` and ``notices render`` share.

    ``documents`` names the documents the PDF holds, in order (e.g. a lone insert); by default they
    are found from the text: a piece file holds the statement and its inserts, another PDF may hold
    any one of them.

    ``pages`` are the facts of the PDF's pages when the caller knows them without reading the bytes
    (``notices render`` joins a piece from parts it has read: the statement, a blank page, the
    inserts read once per process); the report is then the one reading the bytes would give, which
    tests/test_check_fast.py holds render to.
    """
    if isinstance(pdf, PdfText):
        text = pdf
    else:
        text = PdfText(pages) if pages is not None else read_pdf(pdf, file)
    recorder = Recorder(text)
    finder = DocumentFinder(text, target)
    report = Report(file, len(text.pages))
    if documents:
        parts = [target.plan.part(d) for d in documents]
        if len(parts) == 1:
            spans = [Span(parts[0], 0, len(text.words), 0, max(0, len(text.pages) - 1))]
        else:
            spans = finder.split(parts)
    else:
        parts = list(target.plan.parts)
        found = [p for p in parts if finder.evidence(p)]
        if not found:
            names = ", ".join(p.document.id for p in parts)
            recorder.add(target.plan.mailing.id, "error", f"none of the mailing's documents ({names}) was recognised in the PDF; "
                         "pass --document to check it as one of them", citation=target.plan.mailing.citation)
            page_facts(recorder, text)
            report.findings = recorder.findings
            return report
        spans = finder.split(found)
        for part in parts:
            if part not in found:
                recorder.add(part.document.id, "note", f"not in this PDF: the {part.document.title} goes in the same envelope; "
                             "check its own PDF", citation=document_citation(part))
        starts = finder.starts(found[0])
        if len(starts) > 1 and not found[0].document.insert:
            return _check_print_file(text, target, starts, file)
        if len(starts) > 1:
            recorder.add(target.plan.mailing.id, "error", f"this PDF holds {len(starts)} copies of the {found[0].document.title}: "
                         "check them one by one", citation=target.plan.mailing.citation)
    report.documents = spans
    facts = StatementFacts(text, target, recorder)
    contents = DocumentCheck(text, target, recorder, facts)
    for span in spans:
        contents.document(span)
        if not span.part.document.insert:
            facts.printed_advertisement(span)
    UnexpectedBlocks(text, target, recorder).check(spans)
    separate_inserts(recorder, target, spans)
    page_facts(recorder, text)
    report.findings = _in_statutory_order(recorder.findings, spans)
    return report


def _check_print_file(text: PdfText, target: Target, starts: Sequence[int], file: str) -> Report:
    """A print file: each piece (from one statement's first page to the next's) checked as a piece file on its own.

    One row per compliant piece, and every finding of the others, with pages counted in the print file.
    """
    bounds = [0, *starts[1:], len(text.pages)]
    report = Report(file, len(text.pages))
    findings = [Finding(target.plan.mailing.id, target.plan.mailing.citation, "note",
                        f"a print file of {len(bounds) - 1} pieces: each is checked as a piece file")]
    for k in range(len(bounds) - 1):
        first, end = bounds[k], bounds[k + 1]
        piece = check_pdf(PdfText(text.pages[first:end]), target, file=file)
        label = f"piece {k + 1}"
        if target.duplex and first % 2:
            findings.append(Finding(label, target.plan.mailing.citation, "error",
                                    f"{label} begins on the back of a sheet (duplex printing)", first + 1, label))
        for span in piece.documents:
            report.documents.append(Span(span.part, span.lo, span.hi, span.first_page + first, span.last_page + first, span.shared))
        if piece.ok and not first % 2 or piece.ok and not target.duplex:
            findings.append(Finding(label, "", "ok", f"compliant (pages {first + 1}-{end})", first + 1, label))
            continue
        for f in piece.errors:
            page = f.page + first if f.page is not None else None
            findings.append(Finding(f.block, f.citation, f.status, f"{label}: {f.message}", page, f"{label}: {f.document}", f.diff))
    report.findings = findings
    return report


def _in_statutory_order(findings: Sequence[Finding], spans: Sequence[Span]) -> list[Finding]:
    """One document after the other, each block's rows in statutory order; page facts last."""
    order = {b.id: b.order for b in load_registry().blocks}
    docs = {span.document_id: i for i, span in enumerate(spans)}

    def key(item: tuple[int, Finding]) -> tuple[int, int, int]:
        index, f = item
        if not f.document:
            return (len(docs) + 1, 0, index)
        return (docs.get(f.document, len(docs)), -1 if f.block == "separate-insert" else order.get(f.block, 999), index)

    return [f for _, f in sorted(enumerate(findings), key=key)]


def target_for(collector_id: str, mailing: str, day: dt.date, home: Path | None = None) -> Target:
    """The collector profile (from the workspace ``home`` first) and the law in force on ``day`` for one mailing."""
    from ..collectors import load_collector
    from ..resolve import plan

    collector = load_collector(collector_id, home=home)
    return Target(collector, plan(collector, mailing, day))


def check_file(path: str, target: Target, documents: Sequence[str] | None = None) -> Report:
    """Read a PDF file and check it (see :func:`check_pdf`); an unreadable file is an :class:`InputError`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"Cannot read the PDF: {exc.strerror}", file=str(path)) from None
    if b"%PDF-" not in data[:1024]:
        raise InputError("Not a PDF file (it does not begin with %PDF)", file=str(path))
    for document in documents or ():
        target.plan.part(document)  # a LawError names the document when it is not in this mailing on this date
    return check_pdf(data, target, documents=documents, file=str(path))
