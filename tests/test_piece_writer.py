"""A piece file joins its statement and the run's inserts: the inserts' objects, serialized once per process, are written by renumbering only.

Each piece file is a fresh writer, so each writes the inserts' pages and what they reach anew. The
first time a process meets an insert it walks the insert's objects with pypdf; every later file
renumbers that serialized copy. These tests hold the copy to the walk, byte for byte.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from conftest import CITY_DATE, job_for
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

import notices.pdfwriter as pdfwriter
from notices import standards
from notices.assemble import SharedPart, add_mailpiece
from notices.job import Job, make_job
from notices.model import MailingAddress, Record, TaxLine
from notices.pdfwriter import Fragment, PdfStreamWriter, read_fragment
from notices.piece import render_chunk, render_inserts


@functools.cache
def job(variant: str) -> Job:
    plain = job_for("baltimore-city", "final-notice", CITY_DATE)
    laid = make_job(plain.collector, plain.plan, "en", reuse_layouts=False, pdf_variant=variant)
    return make_job(plain.collector, plain.plan, "en", reuse_layouts=False, pdf_variant=variant,
                    inserts=render_inserts(laid))


def record(account: str, lines: int) -> Record:
    taxes = tuple(TaxLine("Real property tax", f"FY {2027 - i}", Decimal("100.00") + i, Decimal("4.00"), Decimal("2.00"))
                  for i in range(lines))
    return Record(account, ("ANN LEE",), MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"), "1 MAIN ST", taxes,
                  "roll.csv", (2,))


@functools.cache
def statements(variant: str) -> list[tuple[Fragment, int]]:
    """Real statements of the City's final notice, as a worker hands them to ``add_mailpiece``: one page, and several."""
    done = render_chunk(job(variant), [(1, record("01-01-0001-001", 2)), (2, record("01-01-0001-002", 40))])
    found = [(r.print_part, r.statement_pages) for r in done if r.print_part is not None]
    assert [pages > 1 for _, pages in found] == [False, True], "the statements are not one page and several"
    return found


def piece(statement: Fragment, pages: int, inserts: Sequence[SharedPart], variant: str) -> bytes:
    out = io.BytesIO()
    writer = PdfStreamWriter(out, info={"Title": "a piece"}, variant=variant)
    add_mailpiece(writer, statement, pages, inserts, duplex=True)
    writer.close()
    return out.getvalue()


def print_file(inserts: Sequence[SharedPart], variant: str) -> bytes:
    out = io.BytesIO()
    writer = PdfStreamWriter(out, info={"Title": "a print file"}, variant=variant)
    for statement, pages in statements(variant) * 2:
        add_mailpiece(writer, statement, pages, inserts, duplex=True, own_sheet=True)
    writer.close()
    return out.getvalue()


@pytest.mark.parametrize("variant", [standards.PRINT, standards.PDF_UA])
def test_a_piece_is_written_the_same_whether_its_inserts_are_fresh_or_cached(variant: str) -> None:
    """A piece file is the same bytes whether its process walks the inserts for it, meets them first, or has met them before."""
    inserts = [(part.document.id, pdf) for part, pdf in job(variant).inserts]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdfwriter, "_shared_copy", lambda pdf, keys: None)
        expected = [piece(statement, pages, inserts, variant) for statement, pages in statements(variant)]
        expected_print = print_file(inserts, variant)
    pdfwriter._shared_copy.cache_clear()
    for fresh, (statement, pages) in zip(expected, statements(variant), strict=True):
        assert piece(statement, pages, inserts, variant) == fresh  # its first meeting of the inserts: walked, then kept
        assert piece(statement, pages, inserts, variant) == fresh  # written from the kept copy
    assert print_file(inserts, variant) == expected_print
    info = pdfwriter._shared_copy.cache_info()
    assert info.hits >= len(inserts) and info.currsize >= len(inserts), "the pieces never wrote the kept copy"
    assert all(copy is not None for copy in map(pdfwriter._shared_copy.__wrapped__, [pdf for _, pdf in inserts],
                                                [()] * len(inserts)))


def insert_pdf(*, page_entry: TextStringObject | None = None, content: bytes = b"BT ET") -> bytes:
    """A one-page insert drawn by pypdf, with a font and a content stream (and, if asked, a string in its page dictionary)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    font: Any = writer._add_object(DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                                                                NameObject("/Subtype"): NameObject("/Type1"),
                                                                NameObject("/BaseFont"): NameObject("/Helvetica")}))
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if page_entry is not None:
        page[NameObject("/PieceName")] = page_entry
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_statement() -> Fragment:
    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    writer.add_blank()
    writer.close()
    return read_fragment(out.getvalue(), 1)


@pytest.mark.parametrize(("words", "kept"), [
    (TextStringObject("4 0 R"), False),  # reads like a reference to one of the insert's objects in a file: walked each time
    (TextStringObject("2 0 R"), True),  # reads like the page tree's reference, which every file numbers 2
    (None, True),
])
def test_an_insert_whose_words_read_like_a_reference_is_still_written_exactly(words: TextStringObject | None,
                                                                              kept: bool) -> None:
    """Words in an insert's page dictionary that read like a reference are never renumbered: its copy is kept only when proven."""
    pdf = insert_pdf(page_entry=words, content=b"BT /F1 9 Tf (3 0 R 4 0 R) Tj ET")  # a stream's data is never read for references
    inserts = [("insert", pdf), ("other", insert_pdf(content=b"BT ET"))]
    statement = blank_statement()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdfwriter, "_shared_copy", lambda pdf, keys: None)
        expected = piece(statement, 1, inserts, standards.PRINT)
    assert (pdfwriter._shared_copy(pdf, ()) is not None) is kept
    for _ in range(2):
        assert piece(statement, 1, inserts, standards.PRINT) == expected


def test_a_statement_is_renumbered_as_written_whatever_its_heads_hold() -> None:
    """References are renumbered wherever they are the fragment's, a percent sign or a leading zero notwithstanding, twice alike."""
    page = b"<</Type /Page/Parent 9 0 R/Contents 05 0 R/Resources <</Font <</F1 6 0 R>>>>/PieceInfo (100% 7 0 R) /Other 007 0 R>>"
    fragment = Fragment([4], [(4, page), (5, b"<</Length 5>>\nstream\n6 0 R\nendstream"),
                              (6, b"<</Type /Font/Subtype /Type1/BaseFont /Helvetica/Note (5%) /Drawn 5 0 R>>")], parent=9)
    written = []
    for _ in range(2):
        out = io.BytesIO()
        writer = PdfStreamWriter(out)
        writer.add_fragment(fragment)
        writer.close()
        written.append(out.getvalue())
    assert written[0] == written[1]
    assert (b"3 0 obj\n<</Type /Page/Parent 2 0 R/Contents 4 0 R/Resources <</Font <</F1 5 0 R>>>>"
            b"/PieceInfo (100% 7 0 R) /Other 007 0 R>>\nendobj\n") in written[0]
    assert b"4 0 obj\n<</Length 5>>\nstream\n6 0 R\nendstream\nendobj\n" in written[0]
    assert b"5 0 obj\n<</Type /Font/Subtype /Type1/BaseFont /Helvetica/Note (5%) /Drawn 4 0 R>>\nendobj\n" in written[0]


def test_a_file_of_many_pages_lists_every_page_in_order_holding_only_the_latest() -> None:
    """The page tree of a print file names every page in order, and the writer keeps only a block of their numbers:
    the rest wait in a temporary file (a 100,000-piece print file has 400,000 pages)."""
    import re

    from pypdf import PdfReader

    count = 3 * pdfwriter._BLOCK + 5
    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    held = 0
    for _ in range(count):
        writer.add_blank()
        held = max(held, len(writer.pages._tail))
    assert len(writer.pages) == count
    writer.close()
    reader = PdfReader(io.BytesIO(out.getvalue()))
    numbers = [page.indirect_reference.idnum for page in reader.pages if page.indirect_reference is not None]
    assert len(numbers) == count
    kids = re.search(rb"/Kids \[(.*?)\] >>", out.getvalue(), re.S)
    assert kids is not None and kids.group(1) == b" ".join(b"%d 0 R" % n for n in numbers)
    assert held < 2 * pdfwriter._BLOCK
