"""Turn a finished PDF and the law in force into a report: which mandated blocks are there, where, and in order.

The check reads the text the PDF itself carries (not the template), so it works on any PDF,
including an insert designed in another program. ``notices check`` and ``notices render`` call the
same entry point, :func:`check_pdf`, so the two can never disagree: ``check`` reads the file's
pages, ``render`` hands over what the pages of the piece it just joined show, read from its parts
(the statement once, the blank page and the inserts once per process), and
tests/test_check_fast.py holds the two to the same report.

What is checked, document by document (a piece file holds the statement, padding and the inserts;
a print file is cut at each statement and checked piece by piece):

* the piece whole: every document of the mailing, each with all its pages (as its own "Page k of
  n" counts them), once, in the mailing's order; a lone document is checked only when named;
* each statement (and each form element with fixed words) verbatim and in statutory order; a
  statement that differs is shown as a word-level diff against the closest passage;
* each content duty present, from the ``expect`` phrases and profile facts the registry gives the
  block, looked for between the statements that come before and after it in statutory order;
* special duties named by a block's ``check``: the "Date" line followed by the notice date, the
  owner's name and the total, the itemized list (every line from its header to the total) that sums
  to the total, the one-page summary;
* no statement of a block that is not in force on the date (or does not apply to the collector);
* each insert on a sheet of its own; page size, embedded fonts, no text outside the printable area;
* in large print (the plan's ``large_print``), every text run at least 18 pt, the envelope windows'
  address at least 8 pt (``typesize``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
from collections.abc import Sequence
from pathlib import Path

from ..collectors import load_collector
from ..errors import InputError
from ..resolve import plan
from ..statutes import load_registry
from .documents import DocumentFinder, first_page, first_words
from .facts import StatementFacts
from .pdftext import PageFacts, PageNumber, PdfText, iter_pages, read_pages
from .report import Finding, Recorder, Report, Span, Target, document_citation
from .sheets import page_facts, separate_inserts
from .statements import DocumentCheck
from .typesize import check_type_size
from .unexpected import UnexpectedBlocks
from .whole import WholePiece


def check_pdf(pdf: bytes | PdfText, target: Target, *, documents: Sequence[str] | None = None, file: str = "",
              pages: Sequence[PageFacts] | None = None) -> Report:
    """Hold a finished PDF against the law in force: the single check ``notices check`` and ``notices render`` share.

    ``documents`` names the documents the PDF holds, in order (e.g. a lone insert), and only those are
    checked. By default the PDF is a piece file or a print file: each piece must hold every document
    of the mailing (the statement, then each insert), found from the text, each whole, once and in
    order.

    ``pages`` are the facts of the PDF's pages when the caller knows them without reading the bytes
    (``notices render`` joins a piece from parts it has read: the statement, a blank page, the
    inserts read once per process); the report is then the one reading the bytes would give, which
    tests/test_check_fast.py holds render to.
    """
    if isinstance(pdf, PdfText):
        text = pdf
    elif pages is not None:
        text = PdfText(pages)
    elif documents:
        text = PdfText(read_pages(pdf, file))
    else:
        whole = _read_print_file(pdf, target, file)
        if isinstance(whole, Report):
            return whole
        text = PdfText(whole)
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
        copies = finder.copies(found[0])
        # Statements that differ are the pieces of a print file; the same page again is one piece's statement printed twice.
        if not found[0].document.insert and len({text.pages[p].text for p in copies}) > 1:
            return _check_print_file(text.pages, target, sorted({finder.first_page(p) for p in copies}), file,
                                     pdf if isinstance(pdf, bytes) else None)
        # Cut where the documents stand, in the PDF's order: a document out of place is named, not misread.
        spans = finder.split(sorted(found, key=lambda part: finder.evidence(part)[0]))
        WholePiece(text, target, recorder, finder).check(spans)
        if len(copies) > 1 and found[0].document.insert:
            recorder.add(target.plan.mailing.id, "error", f"this PDF holds {len(copies)} copies of the {found[0].document.title}: "
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
    if target.plan.large_print and isinstance(pdf, bytes):
        # Read from the bytes (the size of each run), so a check handed only the pages' text cannot make it.
        check_type_size(recorder, target, pdf, spans, file)
    report.findings = _in_statutory_order(recorder.findings, spans)
    return report


def _read_print_file(pdf: bytes, target: Target, file: str) -> Report | list[PageFacts]:
    """A print file's report, its pieces checked as its pages are read; or every page of a file that is not one.

    The pages are held until two different statements show it is a print file (``_print_file_starts``),
    then only the pages of the piece being read: a whole mailing's words are never held at once (a
    30,000-piece print file's took 1.8 GB). The pieces and findings are those of reading every page
    first (tests/test_check_whole.py); a file whose statements do not come in page order is read so.
    """
    needle = _statement_words(target)
    if needle is None:
        return list(iter_pages(pdf, file))
    held: list[PageFacts] = []  # the pages from ``base`` on
    base = 0
    numbers: dict[int, PageNumber | None] = {}  # the last pages' own "Page k of n": a statement's first page is among them
    starts: list[int] = []  # each piece's first page, until two statements differ
    shown: str | None = None  # the first statement's text
    print_file: _PrintFile | None = None
    try:
        for index, page in enumerate(iter_pages(pdf, file)):
            held.append(page)
            alone = PdfText([page])
            numbers[index] = alone.numbers[0]
            numbers.pop(index - _LOOK_BACK, None)
            if alone.find(needle) is None:
                continue
            try:
                start = first_page(numbers, index)
            except KeyError:  # its first page is further back than the numbers kept
                raise _OutOfOrder from None
            if print_file is not None:
                if start < base:
                    raise _OutOfOrder
                if start > base:
                    print_file.add(base, held[:start - base])
                    held, base = held[start - base:], start
                continue
            if start not in starts:
                bisect.insort(starts, start)
            if shown is None:
                shown = page.text
            elif page.text != shown:
                print_file = _PrintFile(target, file)
                bounds = [0, *starts[1:]]
                for first, end in itertools.pairwise(bounds):
                    print_file.add(first, held[first:end])
                held, base = held[bounds[-1]:], bounds[-1]
    except _OutOfOrder:
        read = read_pages(pdf, file)
        found = _print_file_starts(read, target)
        return read if found is None else _check_print_file(read, target, found, file, pdf)
    if print_file is None:
        return held
    print_file.add(base, held)
    return print_file.report(base + len(held), pdf)


_LOOK_BACK = 1024  # pages of "Page k of n" kept: a statement longer than this is read whole first


def _statement_words(target: Target) -> list[str] | None:
    """The words each piece's statement begins with, which mark where a piece of a print file starts (None: no statement)."""
    statement = target.plan.parts[0]
    return None if statement.document.insert else first_words(statement)


class _OutOfOrder(Exception):
    """A print file whose statements cannot be placed as its pages are read: out of page order, or too long."""


def _print_file_starts(pages: Sequence[PageFacts], target: Target) -> list[int] | None:
    """The first page of each piece when ``pages`` are a print file's, else None, found one page at a time.

    A print file holds the statement's first words on two pages or more, with different text (the same
    page again is one piece's statement printed twice): what ``check_pdf`` finds in the whole file's
    words, found here without them, which took 200 MB per 1,000 pieces of a print file.
    """
    needle = _statement_words(target)
    if needle is None or len(pages) < 2:
        return None
    copies, numbers = [], []
    for index, page in enumerate(pages):
        alone = PdfText([page])
        numbers.append(alone.numbers[0])
        if alone.find(needle) is not None:
            copies.append(index)
    if len({pages[p].text for p in copies}) < 2:
        return None
    return sorted({first_page(numbers, p) for p in copies})


def _check_print_file(pages: Sequence[PageFacts], target: Target, starts: Sequence[int], file: str,
                      pdf: bytes | None = None) -> Report:
    """A print file whose pieces start at ``starts``: each piece checked as a piece file on its own (``_PrintFile``)."""
    bounds = [0, *starts[1:], len(pages)]
    found = _PrintFile(target, file)
    for first, end in itertools.pairwise(bounds):
        found.add(first, pages[first:end])
    return found.report(len(pages), pdf)


class _PrintFile:
    """A print file's report, a piece at a time: each piece (from one statement's first page to the next's) checked as a
    piece file on its own; one row per compliant piece, and every finding of the others, with pages counted in the print
    file; in large print, every run's size read from the file's bytes."""

    def __init__(self, target: Target, file: str) -> None:
        self.target = target
        self.file = file
        self.findings: list[Finding] = []
        self.documents: list[Span] = []
        self.firsts: dict[bytes, tuple[int, int]] = {}  # a digest of each piece's first page: the first piece that showed it, its page
        self.pieces = 0

    def add(self, first: int, pages: Sequence[PageFacts]) -> None:
        target, findings, k = self.target, self.findings, self.pieces
        self.pieces += 1
        end = first + len(pages)
        statement = target.plan.parts[0]
        piece = check_pdf(PdfText(pages), target, file=self.file)
        label = f"piece {k + 1}"
        if target.duplex and first % 2:
            findings.append(Finding(label, target.plan.mailing.citation, "error",
                                    f"{label} begins on the back of a sheet (duplex printing)", first + 1, label))
        earlier, at = self.firsts.setdefault(hashlib.sha256(pages[0].text.encode("utf-8", "surrogatepass")).digest(), (k, first))
        if earlier != k:
            # Each piece has a statement of its own: the same one again is a piece printed twice.
            findings.append(Finding(statement.document.id, document_citation(statement), "error",
                                    f"{label}: duplicated: it repeats piece {earlier + 1} (page {at + 1})",
                                    first + 1, f"{label}: {statement.document.id}"))
        for span in piece.documents:
            self.documents.append(Span(span.part, span.lo, span.hi, span.first_page + first, span.last_page + first, span.shared))
        if piece.ok and earlier == k and (not first % 2 or not target.duplex):
            findings.append(Finding(label, "", "ok", f"compliant (pages {first + 1}-{end})", first + 1, label))
            return
        for f in piece.errors:
            page = f.page + first if f.page is not None else None
            findings.append(Finding(f.block, f.citation, f.status, f"{label}: {f.message}", page, f"{label}: {f.document}", f.diff))

    def report(self, pages: int, pdf: bytes | None) -> Report:
        target = self.target
        report = Report(self.file, pages)
        report.documents = self.documents
        report.findings = [Finding(target.plan.mailing.id, target.plan.mailing.citation, "note",
                                   f"a print file of {self.pieces} pieces: each is checked as a piece file"), *self.findings]
        if target.plan.large_print and pdf is not None:
            sizes = Recorder(PdfText(()))  # its findings give their pages: no word to place
            check_type_size(sizes, target, pdf, report.documents, self.file)
            report.findings += sizes.findings
        return report


def _in_statutory_order(findings: Sequence[Finding], spans: Sequence[Span]) -> list[Finding]:
    """One document after the other (the document as a whole first), each block's rows in statutory order; page facts last."""
    order = {b.id: b.order for b in load_registry().blocks}
    docs = {span.document_id: i for i, span in enumerate(spans)}

    def key(item: tuple[int, Finding]) -> tuple[int, int, int]:
        index, f = item
        if not f.document:
            return (len(docs) + 1, 0, index)
        first = -2 if f.block == f.document else -1 if f.block == "separate-insert" else order.get(f.block, 999)
        return (docs.get(f.document, len(docs)), first, index)

    return [f for _, f in sorted(enumerate(findings), key=key)]


def target_for(collector_id: str, mailing: str, day: dt.date, home: Path | None = None, *, large_print: bool = False) -> Target:
    """The collector profile (from the workspace ``home`` first) and the law in force on ``day`` for one mailing.

    ``large_print``: the PDF is large print, so every text run must also be at least 18 pt.
    """
    collector = load_collector(collector_id, home=home)
    return Target(collector, plan(collector, mailing, day, large_print=large_print))


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
