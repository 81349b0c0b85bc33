"""Reading a plain file's structure from its bytes gives the page facts pypdf's reading gives, and any other file is read by pypdf.

``read_pages`` reads what ``notices render`` writes (a plain file: notices/compliance/plainpdf.py)
without pypdf; ``read_pages_in_full`` is the reading it replaced, kept for every other file. The
reference below is that reading with every font judged afresh by pypdf; the plain reading judges a
font from the bytes of its objects, or remembers it from a font written alike, as a worker does.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from conftest import CITY_CSV, CITY_DATE, COUNTY_CSV, COUNTY_DATE, SAMPLES
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

import notices.compliance.pdftext as pdftext
from notices.batch import run
from notices.compliance import PageFacts, check_pdf, read_pages, target_for
from notices.compliance.plainpdf import read_plain
from notices.errors import InputError
from notices.options import Options
from notices.standards import PDF_A, PDF_UA

SALES = SAMPLES / "baltimore-city-sale-results.csv"
RUNS = {  # every sample roll, and a few accounts in each PDF standard
    "city": (CITY_CSV, "baltimore-city", "final-notice", CITY_DATE, "print", None),
    "county": (COUNTY_CSV, "baltimore-county", "final-notice", COUNTY_DATE, "print", None),
    "sales": (SALES, "baltimore-city", "post-sale-notice", dt.date(2027, 7, 1), "print", None),
    "city-pdfa": (CITY_CSV, "baltimore-city", "final-notice", CITY_DATE, PDF_A, 6),
    "city-pdfua": (CITY_CSV, "baltimore-city", "final-notice", CITY_DATE, PDF_UA, 6),
}
Outcome = tuple[str, Any]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, bytes]]]:
    """Per run, its piece files and its print file: (name, bytes)."""
    made = {}
    for name, (roll, collector, mailing, day, variant, lines) in RUNS.items():
        folder = tmp_path_factory.mktemp(name)
        if lines is not None:
            head = roll.read_text(encoding="utf-8").splitlines()[:lines]
            roll = folder / "roll.csv"
            roll.write_text("\n".join(head) + "\n", encoding="utf-8")
        summary = run(Options(roll, folder / "out", collector, mailing, day, workers=1, pdf_variant=variant))
        assert summary.rendered >= 2 and summary.print_file
        files = sorted((folder / "out" / "pieces").glob("*.pdf")) + [Path(summary.print_file)]
        made[name] = [(f"{name}/{path.name}", path.read_bytes()) for path in files]
    return made


@pytest.fixture()
def fresh_fonts() -> Iterator[None]:
    """No font judged before the test, nor left judged after it."""
    pdftext._FONTS.clear()
    yield
    pdftext._FONTS.clear()


def outcome(read: Callable[..., list[PageFacts]], pdf: bytes, first: int | None = None) -> Outcome:
    """What a reading gives: the facts, or the error it raises (object ids, which differ between readings, left out)."""
    try:
        return "facts", read(pdf, first=first)
    except InputError as error:
        return "input error", re.sub(r"(IndirectObject\(\d+, \d+), \d+\)", r"\1)", str(error))
    except Exception as error:  # noqa: BLE001 - a reading that fails on a damaged file must fail the same way
        return "failure", type(error).__name__


IN_FULL = pdftext.read_pages_in_full


def reference(pdf: bytes, first: int | None = None) -> Outcome:
    """pypdf's reading, every font judged from this file's own bytes (and forgotten after)."""
    pdftext._FONTS.clear()
    try:
        return outcome(IN_FULL, pdf, first)
    finally:
        pdftext._FONTS.clear()


@pytest.fixture()
def in_full(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The files that ``read_pages`` left to pypdf, as it reads them."""
    read: list[bytes] = []
    real = pdftext.read_pages_in_full

    def counting(pdf: bytes, file: str = "", first: int | None = None) -> list[PageFacts]:
        read.append(pdf)
        return real(pdf, file, first)

    monkeypatch.setattr(pdftext, "read_pages_in_full", counting)
    return read


@pytest.mark.parametrize("run_name", list(RUNS))
def test_every_sample_file_reads_as_pypdf_reads_it(samples: dict[str, list[tuple[str, bytes]]], run_name: str,
                                                    fresh_fonts: None, in_full: list[bytes]) -> None:
    """Each piece file and the print file, whole and its first page alone: the facts of pypdf's reading, fonts judged afresh."""
    files = samples[run_name]
    expected = {(name, first): reference(pdf, first) for name, pdf in files for first in (None, 1)}
    assert all(kind == "facts" for kind, _ in expected.values())
    for name, pdf in files:
        assert read_plain(pdf) is not None, name
        for first in (None, 1):
            assert outcome(read_pages, pdf, first) == expected[name, first], (name, first)
    assert not in_full  # fonts and all


@pytest.mark.parametrize("run_name", ["city", "sales"])
def test_every_sample_piece_gets_the_report_of_pypdfs_reading(samples: dict[str, list[tuple[str, bytes]]],
                                                               run_name: str, fresh_fonts: None) -> None:
    """The report of each piece, from the plain reading's facts, is the report from pypdf's facts."""
    _, collector, mailing, day, _, _ = RUNS[run_name]
    target = target_for(collector, mailing, day)
    for name, pdf in samples[run_name][:-1]:
        plain = check_pdf(pdf, target, pages=read_pages(pdf))
        assert plain.to_dict() == check_pdf(pdf, target, pages=IN_FULL(pdf)).to_dict(), name


# --------------------------------------------------------------------------------------------
# Files the check must read as before: pypdf reads them, or the plain reading gives pypdf's facts.


def _pdf(objects: list[bytes], trailer: bytes = b"", *, xref_space: bytes = b" \n") -> bytes:
    """A PDF of ``objects`` (numbered from 1) with one cross-reference table; ``trailer`` goes into its trailer."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f%s" % (len(objects) + 1, xref_space)
    out += b"".join(b"%010d 00000 n%s" % (offset, xref_space) for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def _stream(content: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)


STREAM = _stream(b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET")
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _one_page(page: bytes = b"/MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R",
              pages: bytes = b"/Type /Pages /Count 1 /Kids [3 0 R]", font: bytes = HELVETICA, trailer: bytes = b"",
              stream: bytes = STREAM) -> bytes:
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< %s >>" % pages,
                 b"<< /Type /Page /Parent 2 0 R %s >>" % page, font, stream], trailer)


def _drawn(draw: Callable[[Any], object]) -> bytes:
    """A one-page PDF drawn with ReportLab's canvas (another program's file, its fonts not embedded)."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(612, 792))
    draw(page)
    page.showPage()
    page.save()
    return out.getvalue()


def _with_object_streams(pdf: bytes, tmp_path: Path) -> bytes:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf writes the object streams")
    (tmp_path / "in.pdf").write_bytes(pdf)
    subprocess.run([qpdf, "--object-streams=generate", str(tmp_path / "in.pdf"), str(tmp_path / "out.pdf")], check=True)
    written = (tmp_path / "out.pdf").read_bytes()
    assert b"/ObjStm" in written
    return written


def _encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _updated(pdf: bytes) -> bytes:
    """The file with an incremental update that changes its page's size (a second table, reached by /Prev)."""
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    page = re.search(rb"3 0 obj\n(.*?)\nendobj", pdf, re.S)
    assert page is not None
    changed = page.group(1).replace(b"[0 0 612 792]", b"[0 0 595 842]")
    at = len(pdf)
    body = b"3 0 obj\n%s\nendobj\n" % changed
    xref = at + len(body)
    return pdf + body + (b"xref\n0 1\n0000000000 65535 f \n3 1\n%010d 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\n"
                         b"startxref\n%d\n%%%%EOF\n" % (at, start, xref))


def _type0(descriptor_extra: bytes) -> bytes:
    """A page whose font is a Type 0 font; ``descriptor_extra`` goes into its descriptor (a /FontFile2, or not)."""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Probe /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        _stream(b"BT /F1 12 Tf 72 700 Td <0001> Tj ET"),
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Probe /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /Probe /Flags 4" + descriptor_extra + b" >>",
        _stream(b"x")])


PLAIN_FILES: dict[str, Callable[[], bytes]] = {
    "a standard font, not embedded": lambda: _one_page(),
    "a real number in the page size": lambda: _one_page(b"/MediaBox [0 0 612.5 792.25] /Resources << /Font << /F1 4 0 R >> >> "
                                                        b"/Contents 5 0 R"),
    "a font in resources of their own": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 6 0 R /Contents 5 0 R >>", HELVETICA, STREAM,
        b"<< /Font 7 0 R /ProcSet [/PDF /Text] >>", b"<< /F1 4 0 R >>"]),
    "a Type 3 font": lambda: _one_page(font=b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 1 1] /FontMatrix [1 0 0 1 0 0] "
                                            b"/CharProcs << >> /Encoding << /Differences [] >> /FirstChar 0 /LastChar 0 /Widths [0] >>"),
    "text outside the printable area": lambda: _one_page(trailer=b" /ID [<00ff> <00ff>] /Info 5 0 R",
                                                         stream=_stream(b"BT /F1 12 Tf 4 700 Td (Hello) Tj ET")),
    "a Type 0 font that carries its program": lambda: _type0(b" /FontFile2 8 0 R"),
    "a Type 0 font that does not": lambda: _type0(b""),
    "two pages alike and one not": lambda: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 3 /Kids [3 0 R 6 0 R 7 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        HELVETICA, STREAM,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 792 612] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"]),
}
OTHER_FILES: dict[str, Callable[[Path], bytes]] = {
    "another program's, a comment in its trailer": lambda tmp: _drawn(lambda page: (page.setFont("Helvetica", 10),
                                                                                     page.drawString(4, 400, "in the margin"))),
    "object streams": lambda tmp: _with_object_streams(_one_page(), tmp),
    "encrypted": lambda tmp: _encrypted(_one_page()),
    "an incremental update": lambda tmp: _updated(_one_page()),
    "a page size the pages inherit": lambda tmp: _one_page(b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R",
                                                           b"/Type /Pages /Count 1 /Kids [3 0 R] /MediaBox [0 0 612 792]"),
    "a page tree of two levels": lambda tmp: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [6 0 R] >>",
        b"<< /Type /Page /Parent 6 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        HELVETICA, STREAM, b"<< /Type /Pages /Parent 2 0 R /Count 1 /Kids [3 0 R] >>"]),
    "a page size pypdf cannot read": lambda tmp: _one_page(b"/MediaBox [0 0 612] /Contents 5 0 R"),
    "a name with an escape": lambda tmp: _one_page(b"/MediaBox [0 0 612 792] /Resources << /Font << /F#31 4 0 R >> >> /Contents 5 0 R"),
    "resources that are null": lambda tmp: _one_page(b"/MediaBox [0 0 612 792] /Resources null /Contents 5 0 R"),
    "a font descriptor that is null": lambda tmp: _one_page(font=b"<< /Type /Font /Subtype /TrueType /BaseFont /Probe "
                                                                 b"/FontDescriptor null >>"),
    "resources that refer to null": lambda tmp: _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources 6 0 R /Contents 5 0 R >>", HELVETICA, STREAM,
        b"null"]),
    "a comment in the page": lambda tmp: _one_page(b"/MediaBox [0 0 612 792] % a note\n/Resources << /Font << /F1 4 0 R >> >> "
                                                   b"/Contents 5 0 R"),
    "an encryption key in the trailer only": lambda tmp: _one_page(trailer=b" /Encrypt << /Filter /Standard /V 1 /R 2 >>"),
    "an xref entry that points elsewhere": lambda tmp: _one_page().replace(b"0000000009 00000 n", b"0000000010 00000 n"),
}


@pytest.mark.parametrize("case", list(PLAIN_FILES))
def test_a_plain_file_is_read_without_pypdf_to_pypdfs_facts(case: str, fresh_fonts: None, in_full: list[bytes]) -> None:
    """Its fonts judged from their bytes, then remembered: the facts of pypdf's reading, and pypdf never called."""
    pdf = PLAIN_FILES[case]()
    expected = reference(pdf)
    assert expected[0] == "facts" and read_plain(pdf) is not None
    assert outcome(read_pages, pdf) == expected  # its fonts judged from their objects
    assert outcome(read_pages, pdf) == expected and not in_full  # and remembered
    if case in ("a standard font, not embedded", "a Type 0 font that does not"):
        assert [page.unembedded for page in expected[1]] == [("/Helvetica",) if "standard" in case else ("/Probe",)]
    if case == "a Type 0 font that carries its program":
        assert [page.unembedded for page in expected[1]] == [()]
    if case == "text outside the printable area":
        assert [len(page.outside) for page in expected[1]] == [1]
    if case == "two pages alike and one not":
        assert [(page.width, page.height) for page in expected[1]] == [(612.0, 792.0)] * 2 + [(792.0, 612.0)]


@pytest.mark.parametrize("case", list(OTHER_FILES))
def test_any_other_file_is_read_by_pypdf_as_before(case: str, tmp_path: Path, fresh_fonts: None, in_full: list[bytes]) -> None:
    """A file outside the plain subset is left to pypdf: the same facts, or the same input error (an encrypted file's)."""
    pdf = OTHER_FILES[case](tmp_path)
    expected = reference(pdf)
    assert outcome(read_pages, pdf) == outcome(read_pages, pdf) == expected and len(in_full) == 2  # both by pypdf
    if case == "encrypted":
        assert expected == ("input error", "The PDF is encrypted; the check needs to read its text")
    if case in ("a page size pypdf cannot read", "an encryption key in the trailer only"):
        assert expected[0] == "input error"
    if case == "another program's, a comment in its trailer":
        assert [(len(page.outside), page.unembedded) for page in expected[1]] == [(1, ("/Helvetica",))]
    if case == "an incremental update":
        assert [(page.width, page.height) for page in expected[1]] == [(595.0, 842.0)]


def test_a_damaged_piece_reads_as_pypdf_reads_it(samples: dict[str, list[tuple[str, bytes]]], fresh_fonts: None) -> None:
    """Piece files with a few bytes of their structure changed: whatever pypdf's reading gives (facts, an error), so does read_pages."""
    pieces = [pdf for _, pdf in samples["city"][:-1]]
    rng = random.Random(2027)
    alphabet = b" \n\r\t0123456789/<>[]()R.+-#%efnoxjt"
    plain = 0
    for _ in range(120):
        original = rng.choice(pieces)
        spots = [m.start() for m in re.finditer(rb"obj|<<|/Type|/Kids|/Parent|/MediaBox|/Resources|/Font|xref|trailer|"
                                                rb"startxref|/Root|/Size|\d{10} \d{5}", original)]
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 2))):
            at = max(0, min(len(data) - 1, rng.choice(spots) + rng.randrange(-8, 24)))
            change = rng.random()
            if change < 0.5:
                data[at] = rng.choice(alphabet)
            elif change < 0.75:
                del data[at]
            else:
                data[at:at] = bytes([rng.choice(alphabet)])
        damaged = bytes(data)
        first = rng.choice((1, None))
        expected = reference(damaged, first)
        IN_FULL(original)  # the undamaged file's fonts judged, as a worker's earlier pieces would have them
        plain += read_plain(damaged, first) is not None
        assert outcome(read_pages, damaged, first) == expected
    assert plain >= 10  # some damage leaves the file plain: the comparison is not only of files left to pypdf


def test_a_page_in_a_filter_no_reader_knows_is_an_input_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """When PDFium refuses a file, pypdf reads it; a content filter pypdf has no decoder for is an unreadable PDF, said in one line."""
    monkeypatch.setattr(pdftext, "read_pdfium", lambda *args: {})  # PDFium refuses the (damaged) file
    stream = b"<< /Length 5 /Filter /NoSuchDecode >>\nstream\nxxxxx\nendstream"
    with pytest.raises(InputError, match="Not a readable PDF"):
        read_pages(_one_page(stream=stream))


def _pypdfium2_objects_reading(pdf: bytes, index: int, width: float, height: float) -> pdftext.PageRead:
    """The reading ``_pdfium_text`` replaced: pypdfium2's page and text page objects."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range().replace("\r\n", "\n")
        outside = []
        for i in range(textpage.count_rects()):
            box = textpage.get_rect(i)
            if pdftext._outside(box, width, height):
                shown = textpage.get_text_bounded(*box)
                if shown.strip():
                    outside.append(pdftext._where(shown, box, height))
        return text, tuple(outside)
    finally:
        textpage.close()
        page.close()
        document.close()


def test_pdfiums_own_calls_read_what_pypdfium2s_objects_read(samples: dict[str, list[tuple[str, bytes]]]) -> None:
    """Every page of every sample file (text outside the printable area included): the same text and boxes."""
    overflowing = io.BytesIO()
    drawing = canvas.Canvas(overflowing, pagesize=pdftext.LETTER)
    drawing.drawString(72, 700, "Inside the margins")
    drawing.drawString(2, 2, "Outside the printable area")
    drawing.save()
    files = [pdf for run in samples.values() for _, pdf in run] + [overflowing.getvalue()]
    outside = 0
    for pdf in files:
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        sizes = [pdftext.LETTER] * pages
        read = pdftext.read_pdfium(pdf, range(pages), sizes)
        assert read == {i: _pypdfium2_objects_reading(pdf, i, *sizes[i]) for i in range(pages)}
        outside += sum(bool(found) for _, found in read.values())
    assert outside >= 1
    assert pdftext.read_pdfium(b"%PDF-1.7\nnot a PDF", [0], [pdftext.LETTER]) == {}


SEARCHED = [r"\bab", r"(?<!\w)ab", r"a(?<!\w.)b", r"(?<=(?<=a)b)a", r"^a", r"(?m)^b", r"\Aa", r"b$", r"a\Z", r"(a)(?<=\1)b",
            r"(?<![\d.])\d+ 0 r", r"(?:1[\s.\-]?)?\(?12\)?(?!\d)", r"a\s+b", r"(?i)B\b", r"(?=ab)a", r"x*"]


def test_a_search_remembered_finds_what_a_fresh_search_finds() -> None:
    """Searches in short random texts of a few letters, so that many share the text a search may read but not what lies around it."""
    rng = random.Random(14)
    pdftext._SEARCHES.clear()
    remembered = 0
    for _ in range(6000):
        pattern = re.compile(rng.choice(SEARCHED))
        text = "".join(rng.choice("ab 1.\n") for _ in range(rng.randrange(0, 14)))
        start, end = rng.randrange(0, 16), rng.randrange(0, 16)
        before = len(pdftext._SEARCHES)
        fresh = pattern.search(text, start, end)
        assert pdftext._search(pattern, text, start, end) == (None if fresh is None else fresh.span())
        remembered += len(pdftext._SEARCHES) == before
    assert remembered > 1000  # most answers came from an earlier search of another text
    pdftext._SEARCHES.clear()


def test_how_far_a_pattern_looks_back_is_bounded_or_unknown() -> None:
    assert pdftext._reach_back(re.compile(r"abc")) == 1
    assert pdftext._reach_back(re.compile(r"(?<=(?<=ab)c)d")) == 4
    assert pdftext._reach_back(re.compile(r"x(?<!\w.)y|(?<!\d)z")) == 4


def test_pages_read_over_several_openings_of_the_document_read_as_in_one(samples: dict[str, list[tuple[str, bytes]]],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """PDFium keeps what it parsed until the document is closed, so a long file is opened again every so many pages."""
    name, pdf = samples["city"][-1]  # the print file
    at_once = read_pages(pdf)
    monkeypatch.setattr(pdftext, "_PDFIUM_BATCH", 2)
    assert len(at_once) > 4 and read_pages(pdf) == at_once, name


def test_a_plain_file_past_pypdfs_page_tree_limit_is_still_read() -> None:
    """A print file of 30,000 pieces has 120,000 pages; pypdf refuses more than 100,000 page-tree entries (as it may);
    read plain, every page is there."""
    from pypdf.errors import PyPdfError

    count = 100_001
    kids = b" ".join(b"%d 0 R" % (number + 5) for number in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    pdf = _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count %d /Kids [%s] >>" % (count, kids),
                HELVETICA, STREAM, *([page] * count)])
    with pytest.raises(PyPdfError):
        len(PdfReader(io.BytesIO(pdf)).pages)
    plain = read_plain(pdf)
    assert plain is not None and len(plain.pages) == count
