"""`notices render` checks a piece from the facts of its parts; the report must be the one reading the piece file gives.

Render reads the statement's own PDF once and the blank page and the inserts once per process, and
hands those page facts to check_pdf with the finished piece. These tests render real pieces (clean,
two-page, off the sheet, a statement reworded, the insert's first or last page missing), catch what
render checked, and check the same piece file again from its bytes, as ``notices check FILE`` does.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from conftest import job_for
from pypdf import PdfReader

import notices.compliance as compliance
import notices.compliance.pdftext as pdftext
from notices import piece
from notices.compliance import Report, Target, check_pdf, read_pages
from notices.job import Job, make_job
from notices.model import MailingAddress, Record, TaxLine
from notices.pdfwriter import PdfStreamWriter
from notices.piece import render_chunk, render_inserts

CITY = "baltimore-city"
WINTER = dt.date(2027, 2, 1)
NEW_WORD = "otherwise"
CASES = ("clean", "two pages", "off the sheet", "reworded", "insert's first page missing", "insert's last page missing")


def record(account: str, owner: str = "ANN LEE", lines: int = 2) -> Record:
    taxes = tuple(TaxLine("Real property tax" if i % 2 == 0 else "Water and sewer", f"FY {2027 - i}",
                          Decimal("100.00") + i, Decimal("4.00"), Decimal("2.00")) for i in range(lines))
    return Record(account, (owner,), MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"), "1 MAIN ST", taxes,
                  "roll.csv", (2,))


@functools.cache
def job(insert_pages: tuple[int, ...] | None = None) -> Job:
    """The City's final notice; ``insert_pages`` keeps only those pages of the insert (a broken insert)."""
    plain = job_for(CITY, "final-notice", WINTER)
    inserts = render_inserts(plain)
    if insert_pages is not None:
        kept = []
        for document, pdf in inserts:
            out = io.BytesIO()
            writer = PdfStreamWriter(out)
            writer.add_pdf(pdf, insert_pages)
            writer.close()
            kept.append((document, out.getvalue()))
        inserts = kept
    return make_job(plain.collector, plain.plan, "en", reuse_layouts=True, inserts=inserts)


def reword(j: Job, html: str) -> str:
    """The statement's first statutory paragraph with one word changed (as a clerk's edit of the template would)."""
    block = next(b for b in j.statement.blocks if b.kind == "statement" and len(b.text.split()) >= 12)
    match = re.search(rf'<(\w+)\b[^>]*data-block="{re.escape(block.id)}"[^>]*>.*?</\1>', html, re.S)
    assert match, block.id
    word = next(w for w in block.text.split()[len(block.text.split()) // 2:] if w.isalpha() and len(w) >= 4)
    changed = re.sub(rf"\b{word}\b", NEW_WORD, match.group(0), count=1)
    assert changed != match.group(0)
    return html[:match.start()] + changed + html[match.end():]


Caught = tuple[bytes, Target, dict[str, Any], Report]


def render(j: Job, records: list[Record], edit: Any = None) -> list[Caught]:
    """Render pieces as `notices render` does, catching each check_pdf call: the piece, its target, how, the report."""
    caught: list[Caught] = []
    real = compliance.check_pdf

    def spy(pdf: Any, target: Target, **kwargs: Any) -> Report:
        report = real(pdf, target, **kwargs)
        caught.append((pdf, target, kwargs, report))
        return report

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(piece, "check_pdf", spy)
        if edit is not None:
            fragment = j.composer.fragment
            patch.setattr(j.composer, "fragment", lambda part, *a, **k: edit(j, fragment(part, *a, **k)))
        render_chunk(j, list(enumerate(records, start=1)))
    assert len(caught) == len(records)
    return caught


@pytest.fixture(scope="module")
def pieces() -> dict[str, list[Caught]]:
    return {
        "clean": render(job(), [record("01-01-0001-001"), record("01-01-0001-002", owner="BO DIAZ", lines=5)]),
        "two pages": render(job(), [record("01-01-0001-003", lines=12)]),
        "off the sheet": render(job(), [record("01-01-0001-004", owner="W" * 120)]),
        "reworded": render(job(), [record("01-01-0001-005")], edit=reword),
        "insert's first page missing": render(job((1,)), [record("01-01-0001-006")]),
        "insert's last page missing": render(job((0,)), [record("01-01-0001-007")]),
    }


def rows(report: Report) -> list[tuple[Any, ...]]:
    return [(f.block, f.citation, f.status, f.message, f.page, f.document, f.diff) for f in report.findings]


def test_render_reads_the_parts_not_the_piece(pieces: dict[str, list[Caught]]) -> None:
    """Every piece was checked from the facts of its parts (the fast path), not by reading its bytes."""
    for caught in pieces.values():
        for pdf, _, kwargs, report in caught:
            assert kwargs.get("pages") is not None and len(kwargs["pages"]) == report.pages == len(PdfReader(io.BytesIO(pdf)).pages)


def test_the_broken_pieces_are_broken(pieces: dict[str, list[Caught]]) -> None:
    """The comparison below is not won by reports that say nothing: the clean pieces pass, each broken one fails as it should."""
    assert all(report.ok for _, _, _, report in pieces["clean"] + pieces["two pages"])
    assert any(report.pages == 4 for *_, report in pieces["clean"])
    assert pieces["two pages"][0][3].pages == 4 and pieces["two pages"][0][3].documents[0].last_page == 1  # no blank
    assert {f.block for f in pieces["off the sheet"][0][3].errors} == {"printable-area"}
    reworded = pieces["reworded"][0][3].errors
    assert reworded and all(NEW_WORD in f.message for f in reworded)
    first_missing = pieces["insert's first page missing"][0][3]
    assert first_missing.pages == 3 and first_missing.errors
    # The insert's fixed words are all on its last page: without it, the insert is not recognised, and the piece is not whole.
    last_missing = pieces["insert's last page missing"][0][3]
    assert last_missing.pages == 3 and [d.part.document.id for d in last_missing.documents] == ["final-notice-statement"]
    assert [f.block for f in last_missing.errors] == ["tax-sale-insert"]


@pytest.mark.parametrize("case", CASES)
def test_render_report_is_the_report_of_the_piece_file(pieces: dict[str, list[Caught]], case: str) -> None:
    """Report for report, finding for finding (same order, messages, pages, diffs): the piece file read from scratch."""
    for pdf, target, _, seen in pieces[case]:
        again = check_pdf(pdf, target)
        assert rows(seen) == rows(again)
        assert seen.to_dict() == again.to_dict()


@pytest.mark.parametrize("case", CASES)
def test_facts_of_the_parts_are_the_facts_of_the_piece(pieces: dict[str, list[Caught]], case: str) -> None:
    """Page by page, what render knew from the parts is what reading the piece file finds: text, size, fonts, text off the sheet."""
    for pdf, _, kwargs, _ in pieces[case]:
        assert list(kwargs["pages"]) == read_pages(pdf)


@pytest.mark.parametrize("reading", ["plain", "in full"])
def test_a_page_repeated_in_a_file_is_read_once_and_the_same(pieces: dict[str, list[Caught]], reading: str) -> None:
    """A print file repeats the blank page and the insert's pages: reading each once gives what reading every page gives.

    Both readings: the file's structure read as a plain file, and by pypdf (each finds pages alike its own way).
    """
    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    inserts = [(part.document.id, pdf) for part, pdf in job().inserts]
    statements = []
    for pdf, _, _, report in pieces["clean"] + pieces["two pages"]:
        statements.append(report.documents[0].last_page + 1)
        writer.add_pdf(pdf, range(statements[-1]))
        if statements[-1] % 2:
            writer.add_blank()
        for document, insert in inserts:
            writer.add_shared(document, insert)
    writer.close()
    insert_pages = sum(len(PdfReader(io.BytesIO(pdf)).pages) for _, pdf in inserts)
    total = sum(n + n % 2 + insert_pages for n in statements)
    distinct = sum(statements) + any(n % 2 for n in statements) + insert_pages
    assert any(n % 2 for n in statements) and distinct < total
    read: list[int] = []
    real = pdftext.read_pdfium

    def counting(pdf: bytes, indexes: Any, sizes: Any) -> Any:
        read.extend(indexes)
        return real(pdf, indexes, sizes)

    def not_in_full(*args: Any) -> Any:
        raise AssertionError("the plain file was read by pypdf")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdftext, "read_pdfium", counting)
        if reading == "plain":
            patch.setattr(pdftext, "read_pages_in_full", not_in_full)
        read_file = read_pages if reading == "plain" else pdftext.read_pages_in_full
        once = read_file(out.getvalue())
        assert (len(once), len(read)) == (total, distinct)
        # No two pages alike: every page is read.
        patch.setattr(pdftext, "plain_page_key" if reading == "plain" else "page_key", lambda page: str(id(page)))
        every = read_file(out.getvalue())
        assert len(read) == distinct + total
    assert once == every


def _one_font_pdf(descriptor_extra: bytes) -> bytes:
    """A one-page PDF whose only font is a Type 0 font; ``descriptor_extra`` goes into its descriptor (a /FontFile2, or not)."""
    content = b"BT /F1 12 Tf 72 700 Td <0001> Tj ET"
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Probe /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Probe /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /Probe /Flags 4" + descriptor_extra + b" >>",
        b"<< /Length 1 >>\nstream\nx\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def test_a_font_judged_before_is_judged_again_when_its_bytes_differ() -> None:
    """The check remembers fonts by the bytes of their objects (pieces of a shape share theirs), never by their name."""
    embedded, bare = _one_font_pdf(b" /FontFile2 8 0 R"), _one_font_pdf(b"")
    assert read_pages(embedded)[0].unembedded == ()
    assert read_pages(bare)[0].unembedded == ("/Probe",)
    assert read_pages(embedded)[0].unembedded == () and read_pages(bare)[0].unembedded == ("/Probe",)
