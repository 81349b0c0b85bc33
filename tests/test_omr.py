"""OMR marks per inserter profile, read back from the PDF's drawn rectangles; sheet capacity and the flat-mailing print file."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pypdfium2
import pytest
from conftest import CITY_DATE, csv_text, read_csv, row
from pypdf import PdfReader
from typer.testing import CliRunner

from notices import Options, run
from notices.cli import app
from notices.errors import ConfigError
from notices.model import Summary
from notices.postal import envelopes, omr
from notices.workspace import init

_RE = re.compile(rb"(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re\b")
PAGE_HEIGHT = 11.0


def drawn_rects(pdf: bytes, page: int) -> list[tuple[float, float, float, float]]:
    """Every rectangle a page's content streams draw, as (x, y, width, height) in inches from the top-left, y down."""
    data = PdfReader(io.BytesIO(pdf)).pages[page].get_contents()
    assert data is not None
    rects = []
    for match in _RE.finditer(data.get_data()):
        x, y, w, h = (float(v) / 72 for v in match.groups())
        rects.append((x, PAGE_HEIGHT - y - h, w, h))
    return rects


@pytest.fixture(scope="module")
def marked_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary, list[dict[str, str]]]:
    """Three pieces with OMR marks on every front side, an envelope taking 2 sheets, flat mailing on: one piece of 3 sheets."""
    base = tmp_path_factory.mktemp("omr")
    home = base / "home"
    init(home, "baltimore-city")
    profile = home / "collectors" / "baltimore-city" / "collector.toml"
    profile.write_text(profile.read_text("utf-8") + '\n[print]\ninserter = "pb-di-every"\nflat_mailing = true\n\n'
                       "[envelope]\nsheet_capacity = 2\n", "utf-8")
    rows = [row(account_id="A-1", owner_name="ANN LEE"), row(account_id="A-2", owner_name="BOB ROE")]
    rows += [row(account_id="A-3", owner_name="CY DOE", period=f"FY {2000 + i}") for i in range(75)]
    roll = base / "roll.csv"
    roll.write_text(csv_text(rows), "utf-8")
    out = base / "out"
    summary = run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, home=home))
    return out, summary, read_csv(out / "manifest.csv")


def test_the_marks_decoded_from_the_pdf_follow_the_scheme_and_the_sheet_count(marked_run: tuple[Path, Summary, list[dict[str, str]]]) -> None:
    out, _, manifest = marked_run
    scheme = omr.inserter("pb-di-every")
    for r in manifest:
        pdf = (out / "pieces" / r["piece_file"]).read_bytes()
        sheets = int(r["sheets"])
        fronts = range(0, len(PdfReader(io.BytesIO(pdf)).pages), 2)
        codes = [scheme.decode(drawn_rects(pdf, page)) for page in fronts]
        marked = [c for c in codes if c != "0" * len(scheme.code)]
        assert " ".join(marked) == r["omr_marks"]
        for index, code in enumerate(marked, start=1):
            bits = dict(zip(scheme.code, code, strict=True))
            assert bits["benchmark"] == bits["safety"] == bits["timing"] == "1"
            assert sum(int(bits[f"count{n}"]) * n for n in (1, 2, 4, 8)) == sheets
            assert sum(int(bits[f"seq{n}"]) * n for n in (1, 2, 4)) == index % 8
            assert bits["eoc"] == ("1" if index == len(marked) else "0")
            assert code.count("1") % 2 == 0  # even parity
    long_piece = next(r for r in manifest if r["account_id"] == "A-3")
    assert len(long_piece["omr_marks"].split()) == 2  # its statement has two front sides; the insert sheet has no marks


def test_no_text_prints_in_the_marks_clear_zone(marked_run: tuple[Path, Summary, list[dict[str, str]]]) -> None:
    out, _, manifest = marked_run
    zone = omr.inserter("pb-di-every").clear_zone
    page = pypdfium2.PdfDocument(str(out / "pieces" / manifest[0]["piece_file"]))[0]
    text = page.get_textpage()
    for index in range(text.count_chars()):
        left, bottom, right, top = (v / 72 for v in text.get_charbox(index))
        top, bottom = PAGE_HEIGHT - top, PAGE_HEIGHT - bottom
        assert right <= zone.left or left >= zone.right or bottom <= zone.top or top >= zone.bottom


def test_a_piece_over_the_envelopes_capacity_goes_to_the_flat_print_file(marked_run: tuple[Path, Summary, list[dict[str, str]]]) -> None:
    _, summary, manifest = marked_run
    flags = {r["account_id"]: (r["over_capacity"], r["flat"], r["print_sequence"]) for r in manifest}
    assert flags == {"A-1": ("False", "False", "1"), "A-2": ("False", "False", "2"), "A-3": ("True", "True", "1")}
    assert summary.over_capacity == 1 and summary.flat_print_file.endswith("-flat.pdf")
    letters = PdfReader(summary.print_file)
    flat = PdfReader(summary.flat_print_file)
    pages = {r["account_id"]: int(r["pages"]) for r in manifest}
    assert len(flat.pages) == pages["A-3"] and len(letters.pages) == pages["A-1"] + pages["A-2"]
    assert all("CY DOE" not in (p.extract_text() or "") for p in letters.pages)
    assert summary.pages == len(letters.pages) + len(flat.pages)


def test_marks_that_a_window_would_show_are_refused() -> None:
    scheme = omr.inserter("pb-di-count")
    stock = envelopes.stock("no10-double-window")
    omr.check_windows(scheme, stock)  # the shipped profiles keep to the second panel
    high = omr.Inserter(**{**scheme.__dict__, "left": 0.5, "top": 2.0})
    with pytest.raises(ConfigError, match="show through"):
        omr.check_windows(high, stock)


def test_an_unknown_inserter_names_the_known_ones_and_show_gives_the_geometry() -> None:
    with pytest.raises(ConfigError, match="Unknown inserter"):
        omr.inserter("no-such")
    shown = json.loads(CliRunner().invoke(app, ["inserters", "show", "pb-di-count", "--json"]).output)
    assert shown["code"][0] == "benchmark" and shown["clear_zone"]["top"] >= 0.75
    assert "pb-di-every" in CliRunner().invoke(app, ["inserters", "list"]).output


def test_the_inserter_option_is_checked_before_anything_renders() -> None:
    from notices.collectors import load_collector
    from notices.postal import production

    collector = production.with_options(load_collector("baltimore-city"), inserter="pb-di-count")
    made = production.for_run(collector, None)
    assert made.inserter is not None and made.inserter.id == "pb-di-count" and made.sheet_capacity == 5
    with pytest.raises(ConfigError, match="Unknown inserter") as caught:
        production.with_options(load_collector("baltimore-city"), inserter="pb-nope")
    assert caught.value.field == "inserter"
