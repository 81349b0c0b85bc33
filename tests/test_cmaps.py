"""The fonts' ToUnicode maps written in ranges say what WeasyPrint's one entry per glyph says, to every reader."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import CITY_DATE, job_for
from pypdf import PdfReader

from notices import cmaps, piece
from notices.compliance import page_texts
from notices.model import MailingAddress, Record, TaxLine

HEAD = [b"/CIDInit /ProcSet findresource begin", b"12 dict begin", b"begincmap", b"/CMapName /Adobe-Identity-UCS def",
        b"1 begincodespacerange", b"<0000> <ffff>", b"endcodespacerange"]
TAIL = [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
_BFCHAR = re.compile(rb"<([0-9a-f]+)> <([0-9a-f]+)>")
_BFRANGE = re.compile(rb"<([0-9a-f]+)> <([0-9a-f]+)> <([0-9a-f]+)>")


def weasyprint_lines(glyphs: dict[int, str]) -> list[bytes]:
    """A ToUnicode stream's lines as WeasyPrint writes them: bfchar blocks of 100, in the map's own order."""
    items = list(glyphs.items())
    body: list[bytes] = []
    for at in range(0, len(items), 100):
        block = items[at:at + 100]
        body += [b"%d beginbfchar" % len(block)]
        body += [b"<%04x> <%s>" % (glyph, text.encode("utf-16-be").hex().encode()) for glyph, text in block]
        body += [b"endbfchar"]
    return [*HEAD, *body, *TAIL]


def read_map(lines: list[bytes]) -> dict[int, str]:
    """The glyph -> text map the lines say, read as ISO 32000-1 9.10.3 reads bfchar and bfrange (the last byte counts on)."""
    found: dict[int, str] = {}
    kind = b""
    entries = 0
    for line in lines:
        if line.endswith((b"beginbfchar", b"beginbfrange")):
            kind, entries = line.split()[1], int(line.split()[0])
            assert 1 <= entries <= 100
            continue
        if line in (b"endbfchar", b"endbfrange"):
            assert entries == 0
            kind = b""
            continue
        if kind == b"beginbfchar":
            glyph, text = _BFCHAR.fullmatch(line).groups()  # type: ignore[union-attr]
            found[int(glyph, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
            entries -= 1
        elif kind == b"beginbfrange":
            low, high, start = (int(part, 16) for part in _BFRANGE.fullmatch(line).groups())  # type: ignore[union-attr]
            assert low >> 8 == high >> 8 and (start & 0xFF) + high - low <= 0xFF
            for glyph in range(low, high + 1):
                found[glyph] = chr(start + glyph - low)
            entries -= 1
    return found


def test_a_map_in_ranges_says_what_the_map_of_one_entry_per_glyph_says() -> None:
    """Runs, a ligature, a character beyond the BMP, runs broken where a byte other than the last would change, more
    than 100 runs: the same map, in fewer entries, blocks of at most 100."""
    glyphs = {3 + i: chr(0x20 + i) for i in range(95)}  # a font's ASCII, in order
    glyphs[0x13AE] = "fi"
    glyphs[0x0400] = "\U0001f600"
    glyphs.update({0x00FE + i: chr(0x00FD + i) for i in range(6)})  # glyphs cross 0x00ff, characters cross 0x00ff
    glyphs.update({0x1000 + 3 * i + j: chr(0x4E00 + 3 * i + j) for i in range(150) for j in range(2)})  # 150 runs of two
    glyphs[0x2000] = "A"  # a run of one
    lines = weasyprint_lines(dict(reversed(list(glyphs.items()))))
    ranged = cmaps.ranged(lines)
    assert ranged is not None
    assert read_map(ranged) == read_map(lines) == glyphs
    assert sum(line.endswith(b"beginbfrange") for line in ranged) == 2
    assert len(ranged) < len(lines) / 2
    assert ranged[:len(HEAD)] == HEAD and ranged[-len(TAIL):] == TAIL


def test_a_stream_not_of_weasyprints_form_is_left_as_it_is() -> None:
    assert cmaps.ranged([*HEAD, b"1 beginbfrange", b"<0003> <0005> <0020>", b"endbfrange", *TAIL]) is None
    assert cmaps.ranged([b"/CIDInit /ProcSet findresource begin", b"endcmap"]) is None
    assert cmaps.ranged([*HEAD, b"2 beginbfchar", b"<0003> <0020>", b"<0003> <0021>", b"endbfchar", *TAIL]) is None


def test_a_piece_reads_the_same_with_its_fonts_maps_in_ranges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same piece, its maps in ranges and one entry per glyph: PDFium (the check), pypdf and pdftotext read the
    same text on every page, and every map of the piece is in ranges."""
    record = Record("03-02-1768-009", ("JOSÉ NÚÑEZ", "O'BRIEN & CO. — ÆØÅ"),
                    MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"), "1 MAIN ST",
                    (TaxLine("Real property tax", "FY 2027", Decimal("100.00")),), "roll.csv", (2,))
    (ranged,) = piece.render_chunk(job_for("baltimore-city", "final-notice", CITY_DATE, "es", with_inserts=True), [(1, record)])
    monkeypatch.setattr(cmaps, "ranged", lambda lines: None)
    (plain,) = piece.render_chunk(job_for("baltimore-city", "final-notice", CITY_DATE, "es", with_inserts=True), [(1, record)])
    assert ranged.pdf is not None and plain.pdf is not None and ranged.pdf != plain.pdf
    maps = [font["/ToUnicode"].get_data() for font in _fonts(ranged.pdf)]
    assert maps and all(b"beginbfrange" in data for data in maps)
    assert page_texts(ranged.pdf) == page_texts(plain.pdf)
    assert _pypdf_texts(ranged.pdf) == _pypdf_texts(plain.pdf)
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is not installed: .ci/run installs poppler-utils")
        return
    assert _pdftotext(ranged.pdf, tmp_path / "ranged") == _pdftotext(plain.pdf, tmp_path / "plain")


def _fonts(pdf: bytes) -> list:  # type: ignore[type-arg]  # pypdf's dictionaries
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            fonts[ref.idnum] = ref.get_object()
    return list(fonts.values())


def _pypdf_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _pdftotext(pdf: bytes, stem: Path) -> str:
    stem.with_suffix(".pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", "-layout", str(stem.with_suffix(".pdf")), str(stem.with_suffix(".txt"))], check=True)
    return stem.with_suffix(".txt").read_text(encoding="utf-8")
