"""Pieces whose fields are drawn into a shape's page drawn once read as laid out alone: words, positions, statute findings; and the same bytes whichever piece was kept."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, job_for
from pypdf import PdfReader
from test_fields import MAILINGS, _records

from notices import Options, batch
from notices.assemble import add_mailpiece
from notices.compliance import Target, check_pdf, page_texts
from notices.fields import proven_toolchain
from notices.job import shape
from notices.model import Record
from notices.pdfwriter import Fragment, PdfStreamWriter, read_fragment
from notices.piece import PieceResult, must_show, render_chunk

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import baltimore_city_accounts, write_csv

pytestmark = pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")


def _render(collector: str, items: list[tuple[int, Record]], mailing: str, day: dt.date, language: str, *,
            reuse: bool, draw_once: bool = True, chunk: int = 8) -> tuple[dict[int, PieceResult], Any]:
    job = job_for(collector, mailing, day, language, reuse_layouts=reuse, with_inserts=True)
    if job.layouts is not None:
        job.layouts.draw_once = draw_once
    results = {}
    for start in range(0, len(items), chunk):
        for result in render_chunk(job, items[start:start + chunk]):
            results[result.seq] = result
    return results, job


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>|<page ')
# A glyph's width in a font is rounded to 1/1000 em at the size it is first drawn at, in a full
# layout and in a drawing shared by a shape alike, so a word's box may end a hundredth of a point
# from where a full layout puts it (a 600 dpi printer's dot is 0.12 pt).
TOLERANCE = 0.05


def _bbox_words(pdf: bytes, folder: Path, name: str) -> list[tuple[str, tuple[float, ...]]]:
    """pdftotext's words, each with its box, page by page (what a reader's text selection and search see)."""
    source, target = folder / f"{name}.pdf", folder / f"{name}.html"
    source.write_bytes(pdf)
    subprocess.run(["pdftotext", "-bbox", str(source), str(target)], check=True, capture_output=True)
    found = _WORD.finditer(target.read_text(encoding="utf-8"))
    return [("<page>", ()) if m.group(5) is None else (m.group(5), tuple(float(m.group(i)) for i in range(1, 5))) for m in found]


def _contents(pdf: bytes, pages: int) -> list[bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    return [reader.pages[i].get_contents().get_data() for i in range(pages)]  # type: ignore[union-attr]  # every page has content


def _same_words_and_places(ours: list[tuple[str, tuple[float, ...]]], theirs: list[tuple[str, tuple[float, ...]]]) -> bool:
    return [w for w, _ in ours] == [w for w, _ in theirs] and all(
        abs(a - b) <= TOLERANCE for (_, one), (_, other) in zip(ours, theirs, strict=True) for a, b in zip(one, other, strict=True))


@pytest.mark.parametrize(("collector", "sample", "mailing", "day", "language", "share"), MAILINGS)
def test_fields_drawn_into_a_page_drawn_once_read_as_a_full_layout(
        collector: str, sample: str, mailing: str, day: dt.date, language: str, share: float, tmp_path: Path) -> None:
    """Every mailing, collector and language: the same words at the same places (pdftotext -bbox, to 0.05 pt), the same
    text for the statute check (PDFium), the same findings, as each piece laid out and drawn on its own."""
    _read_as_a_full_layout(collector, _records(collector, sample, mailing, day), mailing, day, language, share, tmp_path)


@pytest.mark.slow
def test_every_shape_of_a_roll_the_samples_do_not_hold_reads_as_a_full_layout(tmp_path: Path) -> None:
    """240 synthetic City accounts from a seed no other test or the bench uses: 30 shapes, tables of 1 to 12 rows,
    one- and two-page statements, each piece read as the same piece laid out and drawn on its own."""
    roll = tmp_path / "roll.csv"
    write_csv(baltimore_city_accounts(240, seed=31), roll)
    day = dt.date(2027, 2, 1)
    options = Options(input=roll, out=tmp_path / "unused", collector="baltimore-city", mailing="final-notice", date=day)
    items = [(seq, item) for seq, item in batch.load(options)[2] if isinstance(item, Record)]
    assert len(items) == 240 and len({shape(record) for _, record in items}) >= 25
    drawn = _read_as_a_full_layout("baltimore-city", items, "final-notice", day, "en", 0.8, tmp_path)
    assert {result.statement_pages for result in drawn.values()} == {1, 2}


def _read_as_a_full_layout(collector: str, items: list[tuple[int, Record]], mailing: str, day: dt.date, language: str,
                           share: float, tmp_path: Path) -> dict[int, PieceResult]:
    """Render the pieces into kept layouts and each alone; hold each pair to the same reading. Returns the former."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is not installed: .ci/run installs poppler-utils")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    drawn, job = _render(collector, items, mailing, day, language, reuse=True)
    alone, _ = _render(collector, items, mailing, day, language, reuse=False)
    assert sorted(drawn) == sorted(alone) == [seq for seq, _ in items]
    records = dict(items)
    for seq in alone:
        ours, theirs = drawn[seq], alone[seq]
        assert (ours.pdf is None) == (theirs.pdf is None), f"piece {seq}: rendered on one path only"
        if theirs.pdf is None:
            assert ours.error == theirs.error
            continue
        assert ours.pdf is not None
        # The page's operators, decompressed, are the ones a full drawing writes (only the fonts' glyph sets differ).
        assert _contents(ours.pdf, ours.statement_pages) == _contents(theirs.pdf, theirs.statement_pages), f"piece {seq}"
        words = _bbox_words(ours.pdf, tmp_path, f"{seq}-drawn")
        assert words and _same_words_and_places(words, _bbox_words(theirs.pdf, tmp_path, f"{seq}-alone")), f"piece {seq}"
        assert page_texts(ours.pdf) == page_texts(theirs.pdf), f"piece {seq}"
        target = Target(job.collector, job.plan, tuple(must_show(job, records[seq])), records[seq].first_advertisement_date)
        assert check_pdf(ours.pdf, target).findings == check_pdf(theirs.pdf, target).findings, f"piece {seq}"
    # Not vacuous: where pieces share layouts, most of them had only their fields drawn.
    assert job.layouts.drawn >= int(job.layouts.reused * 0.8)
    assert job.layouts.drawn >= int(len(items) * share * 0.8)
    return drawn


# Owner lines as long as those that wrap in the facts table on a real roll: two owners joined by "and" ("y"), each
# breaking at another word; one owner too long for two lines.
_WRAPPING = [
    ("BLUE CRAB PROPERTY MANAGEMENT LLC", "C/O RESIDENT AGENTS OF MARYLAND INC"),
    ("ROWHOUSE HOUSING PARTNERS LP", "C/O HARBOR PROPERTY MANAGEMENT"),
    ("HERNÁNDEZ FAMILY REVOCABLE TRUST", "C/O FATIMA H HERNÁNDEZ TRUSTEE"),
    ("FELLS POINT PROPERTY MANAGEMENT LLC", "C/O RESIDENT AGENTS OF MARYLAND INC"),
    ("2666 N PATTERSON PARK AVE LLC", "C/O RESIDENT AGENTS OF MARYLAND INC"),
    (("THE ESTATE OF " + "BARTHOLOMEW FITZGERALD-MONTGOMERY " * 3).strip(),),
]


def _wrapping(items: list[tuple[int, Record]]) -> tuple[list[tuple[int, Record]], set[int]]:
    """Every other piece with one of the long owner lines; and which pieces those are."""
    out, long = [], set()
    for n, (seq, record) in enumerate(items):
        if n % 2:
            record = dataclasses.replace(record, owners=_WRAPPING[n // 2 % len(_WRAPPING)])
            long.add(seq)
        out.append((seq, record))
    return out, long


@pytest.mark.parametrize(("collector", "sample", "language"), [
    pytest.param("baltimore-city", "baltimore-city-final-notices.csv", "en", marks=pytest.mark.slow),
    ("baltimore-city", "baltimore-city-final-notices.csv", "es"),
    ("baltimore-county", "baltimore-county-final-notices.csv", "en"),
    pytest.param("baltimore-county", "baltimore-county-final-notices.csv", "es", marks=pytest.mark.slow),
])
def test_owner_lines_that_wrap_are_drawn_into_a_layout_kept_for_them_and_read_as_a_full_layout(
        collector: str, sample: str, language: str, tmp_path: Path) -> None:
    """Pieces whose owner line takes two lines share a layout of their own: the same words, places and findings as
    each laid out alone, and most of them written into another's layout."""
    day = dt.date(2027, 2, 1)
    items, long = _wrapping(_records(collector, sample)[:24])
    drawn = _read_as_a_full_layout(collector, items, "final-notice", day, language, 0.5, tmp_path)
    assert sum(drawn[seq].reused for seq in long) >= len(long) // 2  # not each skeleton's first, nor the three-line owners


def test_pieces_whose_owner_line_or_property_address_wraps_read_as_a_full_layout(tmp_path: Path) -> None:
    """A property address that wraps, alone or with an owner line that wraps too: a kept layout for each set of
    fields that wrap, and every piece read as laid out alone."""
    day = dt.date(2027, 2, 1)
    address = "12345 NORTH CHARLES STREET EXTENDED REAR BUILDING UNIT 4B AND ADJACENT LOT PARCEL 7"
    items = []
    for n, (seq, record) in enumerate(_records("baltimore-city", "baltimore-city-final-notices.csv")[:24]):
        if n % 3 == 1:
            record = dataclasses.replace(record, property_address=address)
        elif n % 3 == 2:
            record = dataclasses.replace(record, owners=_WRAPPING[n % 5], property_address=address.replace("7", "12"))
        items.append((seq, record))
    drawn = _read_as_a_full_layout("baltimore-city", items, "final-notice", day, "en", 0.5, tmp_path)
    assert sum(drawn[seq].reused for n, (seq, _) in enumerate(items) if n % 3) >= 8


def test_a_piece_whose_owner_line_wraps_has_the_same_bytes_whichever_wrapped_piece_was_kept() -> None:
    items, long = _wrapping(_records("baltimore-city", "baltimore-city-final-notices.csv")[:24])
    day = dt.date(2027, 2, 1)
    forward, _ = _render("baltimore-city", items, "final-notice", day, "en", reuse=True)
    backward, _ = _render("baltimore-city", items[::-1], "final-notice", day, "en", reuse=True, chunk=5)
    assert sum(forward[seq].reused for seq in long) >= len(long) // 2
    assert [s for s in forward if forward[s].pdf != backward[s].pdf] == []


def test_an_owner_line_that_wraps_a_full_page_onto_a_second_is_written_into_a_two_page_layout(tmp_path: Path) -> None:
    """Page one holds ten rows and two owners, not a wrapped owner line too: such pieces take two pages where their
    shape takes one, and the later ones are written into the first one's two pages, read as laid out alone."""
    roll = tmp_path / "roll.csv"
    write_csv(baltimore_city_accounts(240, seed=31), roll)
    day = dt.date(2027, 2, 1)
    options = Options(input=roll, out=tmp_path / "unused", collector="baltimore-city", mailing="final-notice", date=day)
    full = [(seq, item) for seq, item in batch.load(options)[2] if isinstance(item, Record) and 8 <= shape(item)[0] <= 10]
    items = [(seq, dataclasses.replace(record, owners=_WRAPPING[n % 5]) if n % 3 else record)
             for n, (seq, record) in enumerate(full[:12])]
    drawn = _read_as_a_full_layout("baltimore-city", items, "final-notice", day, "en", 0.5, tmp_path)
    assert {drawn[seq].statement_pages for seq, _ in items[::3]} == {1}
    assert sum(drawn[seq].reused and drawn[seq].statement_pages == 2 for seq, _ in items) >= 4


def test_a_piece_has_the_same_bytes_whichever_piece_of_its_shape_was_drawn_first() -> None:
    """A worker keeps the first piece of a shape it meets; another worker, or another chunk size, meets another first."""
    items = _records("baltimore-city", "baltimore-city-final-notices.csv")
    day = dt.date(2027, 2, 1)
    forward, job = _render("baltimore-city", items, "final-notice", day, "en", reuse=True)
    backward, _ = _render("baltimore-city", items[::-1], "final-notice", day, "en", reuse=True, chunk=3)
    assert job.layouts.drawn > len(items) // 3
    assert [s for s in forward if forward[s].pdf != backward[s].pdf] == []


def test_a_fields_deflate_blocks_are_the_same_whatever_the_compressor_read_before() -> None:
    """One compressor serves every piece of a process: what it compressed for earlier pieces never shows in a later one."""
    import zlib

    from notices.pdfwriter import deflated_blocks

    fields = [b"BT /F1 9 Tf 1 0 0 -1 72 %d Tm <00120034> Tj ET\n" % n * (n % 5 + 1) for n in range(40)]
    fresh = []
    for raw in fields:
        alone = zlib.compressobj(9, zlib.DEFLATED, -15)
        fresh.append(alone.compress(raw) + alone.flush(zlib.Z_FULL_FLUSH))
    deflated_blocks(b"q 0 g 72 100 Tm <0012003400120034> Tj Q\n" * 50)  # an earlier piece's fields, much like these
    assert [deflated_blocks(raw) for raw in fields] == fresh
    assert zlib.decompress(b"".join(fresh) + b"\x03\x00", -15) == b"".join(fields)


def test_a_field_with_a_glyph_the_shared_fonts_lack_is_drawn_in_full() -> None:
    """A character outside the fonts drawn once (here Vietnamese) makes that piece's page drawn whole, with the same words."""
    items = _records("baltimore-city", "baltimore-city-final-notices.csv")
    seq, first = items[0]
    day = dt.date(2027, 2, 1)
    twins = [(seq, first), (seq + 1, dataclasses.replace(first, owners=("Trần Thị Hoa",))),
             (seq + 2, dataclasses.replace(first, owners=("ANN LEE",)))]
    drawn, job = _render("baltimore-city", twins, "final-notice", day, "en", reuse=True, chunk=3)
    alone, _ = _render("baltimore-city", twins, "final-notice", day, "en", reuse=False, chunk=3)
    assert [drawn[s].reused for s, _ in twins] == [False, True, True]
    assert job.layouts.drawn == 2  # the first piece's and ANN LEE's fields went into the drawing, not the third's
    assert all(page_texts(drawn[s].pdf or b"") == page_texts(alone[s].pdf or b"") for s, _ in twins)


def test_a_print_file_writes_a_shapes_fonts_once_and_the_same_from_pieces_read_back() -> None:
    """The fonts and resources of a page drawn once are written once in a file however many pieces carry them,
    and a print file made from the piece files (a resumed run) has the bytes of one made from the run's own parts."""
    items = _records("baltimore-city", "baltimore-city-final-notices.csv")
    drawn, job = _render("baltimore-city", items, "final-notice", dt.date(2027, 2, 1), "en", reuse=True)
    done = [r for r in drawn.values() if r.print_part is not None and r.pdf is not None]
    key = next(r.print_part.common for r in done if r.print_part is not None and r.print_part.common)
    same = [r for r in done if r.print_part is not None and r.print_part.common == key]
    assert len(same) >= 2

    def print_file(parts: list[Fragment], inserts: bool = True) -> bytes:
        out = io.BytesIO()
        writer = PdfStreamWriter(out)
        for part in parts:
            if inserts:
                add_mailpiece(writer, part, 1, job.shared, duplex=True, own_sheet=True)
            else:
                writer.add_fragment(part)
        writer.close()
        return out.getvalue()

    parts = [r.print_part for r in same if r.print_part is not None]
    one, all_of_them = print_file(parts[:1], inserts=False), print_file(parts, inserts=False)
    # Each further piece adds its own objects (its page and content), never the fonts and resources again.
    own = sum(len(body) + 64 for part in parts[1:] for _, body in part.lean().objects)
    assert len(all_of_them) - len(one) <= own
    assert sum(len(body) for _, body in parts[0].commons()) * (len(parts) - 1) > own
    read_back = [read_fragment(r.pdf or b"", r.statement_pages) for r in same]
    assert print_file(read_back) == print_file(parts)
