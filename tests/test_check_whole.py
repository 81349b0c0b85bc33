"""`notices check` holds a mailpiece whole: the itemization is the whole list between its header and the total.

The pieces are real: one `notices render` run (one worker) of three accounts, made once for the
module.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from conftest import SAMPLES, csv_text, row, subset_csv
from notices.batch import Options, run
from notices.compliance import PageFacts, Report, Target, check_pdf, read_pages, target_for

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
# A print file: cut where each piece begins.


def test_print_file_of_notices_of_sale_is_cut_where_each_notice_begins(tmp_path: Path) -> None:
    """The notice of sale prints its only fixed words on its second page: its print file is still cut at each notice's first page."""
    day = dt.date(2027, 7, 1)
    roll = subset_csv(SAMPLES / "baltimore-city-sale-results.csv", ["09-03-3887-012", "12-06-1127-004"], tmp_path / "sales.csv")
    summary = run(Options(roll, tmp_path / "out", CITY, "post-sale-notice", day, workers=1))
    report = check_pdf(Path(summary.print_file).read_bytes(), target_for(CITY, "post-sale-notice", day))
    assert report.ok, [(f.block, f.message) for f in report.errors]
    assert [(f.block, f.message) for f in report.findings if f.status == "ok"] == [
        ("piece 1", "compliant (pages 1-4)"), ("piece 2", "compliant (pages 5-8)")]


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
