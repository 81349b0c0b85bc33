"""A hyphen at the end of a line: a name such as SMITH-JONES broken after its hyphen is still found, as printed."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import CITY_DATE, csv_text, row

from notices import Options
from notices.batch import load
from notices.compliance.pdftext import PageFacts, PdfText, page_texts, words
from notices.model import Record

# A name long enough to wrap in the statement's facts table; the line breaks after a hyphen of its own.
LONG_NAME = "ANNE-MARIE WASHINGTON TRUSTEE OF THE THOMPSON-WILLIAMSON-BARRINGTON FAMILY TRUST"


def _text(*pages: str) -> PdfText:
    return PdfText([PageFacts(page, 612.0, 792.0) for page in pages])


def test_pdfiums_mark_for_a_hyphen_that_ended_a_line_reads_as_the_hyphen_printed() -> None:
    """PDFium joins the two lines and writes the hyphen as U+FFFE: the name is found with its hyphen."""
    text = _text("Owner on the tax roll THOMPSON-WILLIAMSON\ufffeBARRINGTON FAMILY TRUST\nProperty 1 MAIN ST")
    assert text.find(words("THOMPSON-WILLIAMSON-BARRINGTON FAMILY TRUST")) == 5


def test_a_hyphen_at_a_line_end_is_read_as_printed_and_as_soft_hyphenation() -> None:
    """Broken after SMITH-, SMITH-JONES is found; broken after fore-, foreclosure is found too (a file made elsewhere)."""
    text = _text("owner SMITH-\nJONES may lose the property to fore-\nclosure")
    assert text.find(words("SMITH-JONES may lose")) == 1
    assert text.find(words("the property to foreclosure")) == 4
    assert text.search(re.compile(r"smith-jones"), 0, len(text.words)) == (1, 2)


def test_a_compound_printed_without_its_hyphen_on_one_line_is_not_found() -> None:
    """Reading line-end hyphens both ways does not make hyphens optional: LOWINCOME is not LOW-INCOME."""
    assert _text("for LOWINCOME homeowners").find(words("LOW-INCOME homeowners")) is None
    assert _text("for LOW-\nINCOME homeowners").find(words("LOW-INCOME homeowners")) == 1


def test_a_piece_whose_owner_name_breaks_after_a_hyphen_is_rendered_not_quarantined(tmp_path: Path) -> None:
    """The statute check found the name in neither reading and quarantined a correct statement; it is rendered now."""
    from conftest import job_for

    from notices.piece import render_chunk

    source = tmp_path / "roll.csv"
    source.write_text(csv_text([row(owner_name=LONG_NAME, owner_name_2="C/O RESIDENT AGENTS OF MARYLAND INC")]),
                      encoding="utf-8")
    _, _, checked = load(Options(source, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE))
    records = [(seq, item) for seq, item in checked if isinstance(item, Record)]
    job = job_for("baltimore-city", "final-notice", CITY_DATE, with_inserts=True)
    [piece] = render_chunk(job, records)
    assert piece.error == "" and piece.pdf is not None
    assert "THOMPSON-WILLIAMSON\ufffeBARRINGTON" in page_texts(piece.pdf)[0]  # the break this test is about
