"""`notices check` holds a mailpiece whole: every document of the mailing, with all its pages, once, in order.

The pieces are real: one `notices render` run (one worker) of three accounts, made once for the
module. Each is then broken with pypdf (a page or a whole document removed, printed twice, moved,
or a document cut short) and the check must fail naming the document that is broken, with its
citation. A lone statement or insert is checked only when it is named (``documents=``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SAMPLES, csv_text, row, subset_csv
from pypdf import PdfReader, PdfWriter

from notices.batch import Options, run
from notices.compliance import PageFacts, PdfText, Report, Target, check_pdf, read_pages, target_for

CITY = "baltimore-city"
WINTER = dt.date(2027, 2, 1)
STATEMENT, INSERT = "final-notice-statement", "tax-sale-insert"
CITATIONS = {STATEMENT: "Tax-Property § 14-812(a)", INSERT: "Tax-Property § 14-812(b)"}
SHORT, LONG, ITEMS = "01-01-0001-001", "01-01-0001-002", "01-01-0001-003"
LONG_ROWS = 12  # with interest and penalty, 36 itemized lines: the statement runs onto a second page


@dataclass(frozen=True)
class Piece:
    """A piece file as render made it, and which document each of its pages belongs to."""

    pdf: bytes
    owners: tuple[str, ...]  # per page: the document; "blank" for the padding before the insert

    def pages(self, order: Sequence[int]) -> bytes:
        """The piece rebuilt with its pages in ``order`` (a page may be left out or repeated)."""
        reader = PdfReader(io.BytesIO(self.pdf))
        writer = PdfWriter()
        for index in order:
            writer.add_page(reader.pages[index])
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    def of(self, document: str) -> list[int]:
        return [p for p, owner in enumerate(self.owners) if owner == document]


@pytest.fixture(scope="module")
def target() -> Target:
    return target_for(CITY, "final-notice", WINTER)


@pytest.fixture(scope="module")
def pieces(tmp_path_factory: pytest.TempPathFactory, target: Target) -> dict[str, Piece]:
    """A one-page statement (padded with a blank page), a two-page one, and one itemizing $900.00 and $50.00."""
    out = tmp_path_factory.mktemp("whole")
    rows = [row(account_id=SHORT, amount="512.40", interest="5.12")]
    rows += [row(account_id=LONG, period=f"FY {2027 - k}", amount=f"{100 + k}.00", interest="4.00", penalty="2.00")
             for k in range(LONG_ROWS)]
    rows += [row(account_id=ITEMS, amount="900.00"), row(account_id=ITEMS, source="Water and sewer", amount="50.00")]
    roll = out / "roll.csv"
    roll.write_text(csv_text(rows))
    summary = run(Options(roll, out / "out", CITY, "final-notice", WINTER, workers=1))
    assert summary.rendered == 3
    made = {}
    for path in sorted(Path(out / "out" / "pieces").glob("*.pdf")):
        pdf = path.read_bytes()
        report = check_pdf(pdf, target)
        statement, insert = report.documents
        owners = [STATEMENT] * (statement.last_page + 1) + ["blank"] * (insert.first_page - statement.last_page - 1)
        owners += [INSERT] * (report.pages - insert.first_page)
        made[path.stem.split("-", 1)[1]] = Piece(pdf, tuple(owners))
    return made


def named(report: Report) -> set[tuple[str, str]]:
    """The (document, citation) of each document-level error: the document itself, or its sheet."""
    return {(f.document, f.citation) for f in report.errors if f.block in (f.document, "separate-insert")}


def assert_names(report: Report, document: str) -> None:
    assert not report.ok
    assert (document, CITATIONS[document]) in named(report), [(f.block, f.document, f.message) for f in report.errors]


# --------------------------------------------------------------------------------------------
# The pieces render makes are whole.


def test_rendered_pieces_are_whole(pieces: dict[str, Piece], target: Target) -> None:
    """Each piece as made holds the statement then the insert, every page of each, and passes."""
    assert pieces[SHORT].owners == (STATEMENT, "blank", INSERT, INSERT)
    assert pieces[LONG].owners == (STATEMENT, STATEMENT, INSERT, INSERT)
    for piece in pieces.values():
        report = check_pdf(piece.pdf, target)
        assert report.ok, [(f.block, f.message) for f in report.errors]
        assert [d.part.document.id for d in report.documents] == [STATEMENT, INSERT]


# --------------------------------------------------------------------------------------------
# Each page: removed, printed twice, moved to the end or to the front.


def page_cases() -> list[tuple[str, int, str]]:
    return [(account, page, how) for account, pages in ((SHORT, 4), (LONG, 4)) for page in range(pages)
            for how in ("removed", "duplicated", "moved to the end", "moved to the front")
            if not ((how == "moved to the end" and page == pages - 1) or (how == "moved to the front" and page == 0))]


def reorder(n: int, page: int, how: str) -> list[int]:
    rest = [p for p in range(n) if p != page]
    return {"removed": rest, "duplicated": sorted([*range(n), page]), "moved to the end": rest + [page],
            "moved to the front": [page, *rest]}[how]


@pytest.mark.parametrize("account,page,how", page_cases(), ids=[f"{a[-1]}-p{p + 1}-{h.replace(' ', '-')}" for a, p, h in page_cases()])
def test_each_page_broken_names_its_document(pieces: dict[str, Piece], target: Target, account: str, page: int, how: str) -> None:
    """A page removed, printed twice or moved fails naming the document it belongs to (the padding: the insert's sheet)."""
    piece = pieces[account]
    owner = piece.owners[page]
    if owner == "blank":
        # Without its padding, or with two, the insert begins on the back of a sheet; padding first puts the statement there.
        owner = STATEMENT if how == "moved to the front" else INSERT
    assert_names(check_pdf(piece.pages(reorder(len(piece.owners), page, how)), target), owner)


# --------------------------------------------------------------------------------------------
# Each document: removed, cut short, printed twice, moved.


@pytest.mark.parametrize("account", [SHORT, LONG])
@pytest.mark.parametrize("document", [STATEMENT, INSERT])
def test_missing_document_is_named(pieces: dict[str, Piece], target: Target, account: str, document: str) -> None:
    """A piece without one of the mailing's documents fails naming that document: a lone document is no piece."""
    piece = pieces[account]
    kept = [p for p, owner in enumerate(piece.owners) if owner not in (document, "blank")]
    report = check_pdf(piece.pages(kept), target)
    assert_names(report, document)
    assert "missing" in next(f.message for f in report.errors if f.block == document)


@pytest.mark.parametrize("account", [SHORT, LONG])
@pytest.mark.parametrize("document", [STATEMENT, INSERT])
@pytest.mark.parametrize("end", ["first", "last"])
def test_truncated_document_is_named(pieces: dict[str, Piece], target: Target, account: str, document: str, end: str) -> None:
    """A document that lost its first or last page (the insert's last holds the credit, HPP and water items) fails, named."""
    piece = pieces[account]
    pages = piece.of(document)
    lost = pages[0] if end == "first" else pages[-1]
    report = check_pdf(piece.pages([p for p in range(len(piece.owners)) if p != lost]), target)
    assert_names(report, document)
    if len(pages) > 1:
        assert any("truncated" in f.message for f in report.errors if f.block == document)


def test_insert_without_its_last_page_is_not_a_lone_statement(pieces: dict[str, Piece], target: Target) -> None:
    """The insert's last page carries all its fixed words: without it the piece fails, and the insert's first page is named."""
    piece = pieces[SHORT]
    report = check_pdf(piece.pages(range(len(piece.owners) - 1)), target)
    (finding,) = [f for f in report.errors if f.block == INSERT]
    assert finding.page == 3 and "numbered 1 of 2" in finding.message and finding.citation == CITATIONS[INSERT]


@pytest.mark.parametrize("account", [SHORT, LONG])
@pytest.mark.parametrize("document", [STATEMENT, INSERT])
def test_duplicated_document_is_named(pieces: dict[str, Piece], target: Target, account: str, document: str) -> None:
    """A document printed twice, one copy right after the other, fails naming it."""
    piece = pieces[account]
    pages = piece.of(document)
    order = [*range(pages[-1] + 1), *pages, *range(pages[-1] + 1, len(piece.owners))]  # again, right after itself
    report = check_pdf(piece.pages(order), target)
    assert_names(report, document)
    assert any("duplicated" in f.message for f in report.errors if f.block == document)


@pytest.mark.parametrize("account", [SHORT, LONG])
def test_documents_out_of_order_are_named(pieces: dict[str, Piece], target: Target, account: str) -> None:
    """The insert before the statement fails naming both: the mailing puts the statement first."""
    piece = pieces[account]
    report = check_pdf(piece.pages(piece.of(INSERT) + piece.of(STATEMENT)), target)
    for document in (STATEMENT, INSERT):
        assert_names(report, document)
    assert all("out of order" in f.message for f in report.errors if f.block in (STATEMENT, INSERT))


# --------------------------------------------------------------------------------------------
# A print file: every piece whole; a lone document only when asked for.


def print_file(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(io.BytesIO(pdf))
        if len(writer.pages) % 2:
            writer.add_blank_page(612, 792)  # the next piece begins on a front side
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_each_piece_of_a_print_file_must_be_whole(pieces: dict[str, Piece], target: Target) -> None:
    """In a print file, a piece whose insert lost its last page is named; the whole pieces pass."""
    short, long, items = pieces[SHORT], pieces[LONG], pieces[ITEMS]
    assert check_pdf(print_file(long.pdf, short.pdf, items.pdf), target).ok
    report = check_pdf(print_file(long.pdf, short.pages(range(len(short.owners) - 1)), items.pdf), target)
    assert [(f.block, f.document, f.citation) for f in report.errors] == [(INSERT, f"piece 2: {INSERT}", CITATIONS[INSERT])]
    assert [f.block for f in report.findings if f.status == "ok"] == ["piece 1", "piece 3"]


def test_piece_printed_twice_in_a_print_file_is_named(pieces: dict[str, Piece], target: Target) -> None:
    """The same piece twice in a print file (apart or one after the other) fails naming the statement of the copy."""
    long, short = pieces[LONG], pieces[SHORT]
    for pdfs, copy in (((long.pdf, short.pdf, long.pdf), 3), ((long.pdf, long.pdf, short.pdf), 2)):
        report = check_pdf(print_file(*pdfs), target)
        assert [(f.block, f.document, f.citation) for f in report.errors] == [
            (STATEMENT, f"piece {copy}: {STATEMENT}", CITATIONS[STATEMENT])]
        assert f"piece {copy}: duplicated: it repeats piece 1" in report.errors[0].message


def test_print_file_of_notices_of_sale_is_cut_where_each_notice_begins(tmp_path: Path) -> None:
    """The notice of sale prints its only fixed words on its second page: its print file is still cut at each notice's first page."""
    day = dt.date(2027, 7, 1)
    roll = subset_csv(SAMPLES / "baltimore-city-sale-results.csv", ["09-03-3887-012", "12-06-1127-004"], tmp_path / "sales.csv")
    summary = run(Options(roll, tmp_path / "out", CITY, "post-sale-notice", day, workers=1))
    report = check_pdf(Path(summary.print_file).read_bytes(), target_for(CITY, "post-sale-notice", day))
    assert report.ok, [(f.block, f.message) for f in report.errors]
    assert [(f.block, f.message) for f in report.findings if f.status == "ok"] == [
        ("piece 1", "compliant (pages 1-4)"), ("piece 2", "compliant (pages 5-8)")]


@pytest.mark.parametrize("document", [STATEMENT, INSERT])
def test_lone_document_is_checked_only_when_named(pieces: dict[str, Piece], target: Target, document: str) -> None:
    """A PDF of the statement or the insert alone fails as a piece, and passes when checked as that document."""
    piece = pieces[SHORT]
    alone = piece.pages(piece.of(document))
    assert_names(check_pdf(alone, target), STATEMENT if document == INSERT else INSERT)
    report = check_pdf(alone, target, documents=[document])
    assert report.ok, [(f.block, f.message) for f in report.errors]


# --------------------------------------------------------------------------------------------
# The itemization: the whole list between its header and the total.


def with_total(pages: Sequence[PageFacts], shown: str, instead: str) -> list[PageFacts]:
    """The piece's pages as the check reads them, with the list's total line showing another amount."""
    line = f"Total due {shown}"
    assert line in pages[0].text
    return [PageFacts(p.text.replace(line, f"Total due {instead}"), p.width, p.height, p.outside, p.unembedded) for p in pages]


def itemized(report: Report) -> tuple[str, str]:
    finding = next(f for f in report.findings if f.block == "tp-14-812-a-3")
    return finding.status, finding.message


def test_itemization_counts_every_line_of_the_list(pieces: dict[str, Piece], target: Target) -> None:
    """Lines of $900.00 and $50.00 over "Total due $50.00" fail (a)(3): the $50.00 line alone does not make the list."""
    piece = pieces[ITEMS]
    pages = read_pages(piece.pdf)
    assert itemized(check_pdf(piece.pdf, target)) == ("ok", "2 itemized lines sum to the total $950.00")
    report = check_pdf(piece.pdf, target, pages=with_total(pages, "$950.00", "$50.00"))
    assert itemized(report) == ("error", "the 2 itemized lines sum to $950.00, the total is $50.00")
    assert {(f.block, f.citation) for f in report.errors} == {("tp-14-812-a-3", "Tax-Property § 14-812(a)(3)")}


def test_itemization_runs_across_pages(pieces: dict[str, Piece], target: Target) -> None:
    """A list broken across two pages repeats its header: every line on both pages is counted."""
    assert itemized(check_pdf(pieces[LONG].pdf, target)) == ("ok", f"{3 * LONG_ROWS} itemized lines sum to the total $1,338.00")


def test_a_print_file_is_checked_a_piece_at_a_time_not_as_one_text(pieces: dict[str, Piece], target: Target,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole file's words once took 200 MB per 1,000 pieces: no text longer than one piece is made, and the report is
    the one the whole file's words gave (the same findings, in order, and the same documents)."""
    import notices.compliance.checker as checker
    import notices.compliance.pdftext as pdftext

    long, short, items = pieces[LONG], pieces[SHORT], pieces[ITEMS]
    pdf = print_file(long.pdf, short.pdf, items.pdf, long.pdf)
    whole = check_pdf(PdfText(read_pages(pdf)), target)  # the words of every page at once, as before
    made: list[int] = []

    class Counted(PdfText):
        def __init__(self, pages: Sequence[PageFacts]) -> None:
            made.append(len(pages))
            super().__init__(pages)

    monkeypatch.setattr(checker, "PdfText", Counted)
    monkeypatch.setattr(pdftext, "PdfText", Counted)  # read_pdf's
    report = check_pdf(pdf, target)
    assert max(made) <= max(len(p.owners) for p in (long, short, items)) + 1
    assert [(f.block, f.status, f.message, f.page) for f in report.findings] == [
        (f.block, f.status, f.message, f.page) for f in whole.findings]
    assert [(s.document_id, s.first_page, s.last_page) for s in report.documents] == [
        (s.document_id, s.first_page, s.last_page) for s in whole.documents]
    assert not report.ok and "piece 4: duplicated" in report.errors[0].message


@pytest.mark.parametrize("window", [2, 1024])
def test_a_print_file_is_checked_as_its_pages_are_read_with_the_report_of_reading_them_all(
        pieces: dict[str, Piece], target: Target, monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    """The pages are read a window at a time and each piece checked once its last page is read: a 30,000-piece print
    file's words are never all held (they took 1.8 GB). Its report is the one reading every page first gives."""
    import notices.compliance.checker as checker
    import notices.compliance.pdftext as pdftext

    long, short, items = pieces[LONG], pieces[SHORT], pieces[ITEMS]
    pdf = print_file(short.pdf, long.pdf, items.pdf, short.pdf, long.pdf)
    whole = check_pdf(PdfText(read_pages(pdf)), target)
    monkeypatch.setattr(pdftext, "_WINDOW", window)

    def every_page(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole file was read at once")

    with monkeypatch.context() as patched:
        patched.setattr(checker, "read_pages", every_page)
        report = check_pdf(pdf, target)
    assert report.to_dict() == whole.to_dict()
    assert [f.block for f in report.findings if f.status == "ok"] == ["piece 1", "piece 2", "piece 3"]
    assert "piece 4: duplicated: it repeats piece 1 (page 1)" in report.errors[0].message


def test_a_print_file_whose_statements_cannot_be_placed_as_read_is_read_whole(
        pieces: dict[str, Piece], target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """A statement's first page further back than the pages kept (or out of page order) sends the check back to
    reading every page first: the same report."""
    import notices.compliance.checker as checker

    long, short, items = pieces[LONG], pieces[SHORT], pieces[ITEMS]
    pdf = print_file(long.pdf, short.pdf, items.pdf)
    whole = check_pdf(PdfText(read_pages(pdf)), target)
    monkeypatch.setattr(checker, "_LOOK_BACK", 0)  # no page's number kept
    assert check_pdf(pdf, target).to_dict() == whole.to_dict()
