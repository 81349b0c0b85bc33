"""Print production: envelope windows, the address's fit, the Intelligent Mail barcode, padding pages, sheets and order."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pypdfium2
import pytest
from conftest import CITY_DATE, COLUMNS, SPEC_BARS, SPEC_TRACKING, csv_text, read_csv, row
from pypdf import PdfReader
from typer.testing import CliRunner

from notices import Options, run
from notices.assemble import blank_pdf
from notices.cli import app
from notices.compliance import shared_pages
from notices.errors import ConfigError
from notices.postal import envelopes, imb
from notices.resources import fonts_dir

INCH = 72.0
PAGE_HEIGHT = 11.0


@pytest.mark.parametrize("routing", sorted(SPEC_BARS))
def test_the_encoder_gives_the_specifications_bars(routing: str) -> None:
    """The encoder turns the specification's example codes into its published 65 bars."""
    assert imb.encode(SPEC_TRACKING, routing) == SPEC_BARS[routing]


def test_a_pieces_barcode_follows_profile_sequence_and_zip() -> None:
    """Tracking code = barcode ID, service type, Mailer ID, serial from the sequence; routing from the ZIP+4."""
    mailer = imb.Mailer("00", "300", "123456", serial_start=1000)
    code = imb.barcode(mailer, 7, "21218-1234")
    assert code.tracking == "00300123456000001006"  # the first piece gets serial_start
    assert code.routing == "212181234"
    assert code.bars == imb.encode(code.tracking, code.routing)
    assert imb.barcode(mailer, 7, "21218-1234") == code  # a rerun gives the same serial and bars
    assert imb.routing_code("21218") == "21218" and imb.routing_code("2121") == ""


def test_a_delivery_point_makes_the_routing_code_eleven_digits() -> None:
    """ZIP+4 and the two delivery-point digits give the 11-digit routing code; a five-digit ZIP ignores them."""
    mailer = imb.Mailer("00", "300", "123456")
    code = imb.barcode(mailer, 1, "21218-1234", "07")
    assert code.routing == "21218123407" and code.bars == imb.encode(code.tracking, "21218123407")
    assert imb.routing_code("21218", "07") == "21218"


def test_shards_draw_disjoint_serials() -> None:
    """Shards split the sequence, so their serials never meet."""
    mailer = imb.Mailer("00", "300", "123456789")
    shards = [{imb.serial(mailer, seq) for seq in range(1, 101) if seq % 4 == index} for index in range(4)]
    assert sum(len(s) for s in shards) == len(set().union(*shards)) == 100


def test_the_double_window_lies_where_the_fold_puts_it() -> None:
    """The recipient window, 1 x 4 in at 0.625 in from the left and 1 in from the bottom, lands on the first panel."""
    stock = envelopes.stock("no10-double-window")
    assert stock.panel[1] == pytest.approx(11 / 3)
    window = stock.address_window
    assert (window.left, window.width, window.height) == pytest.approx((0.625 - 0.5, 4.0, 1.0))
    assert window.top == pytest.approx(4.125 - 1.0 - 1.0 - (4.125 - 11 / 3) / 2)
    shown = json.loads(CliRunner().invoke(app, ["envelopes", "show", "no10-double-window", "--json"]).output)
    assert shown["address_window"]["points"]["width"] == pytest.approx(288.0)
    assert shown["clear_area"]["inches"]["height"] == pytest.approx(0.5)


@pytest.mark.parametrize("stock_id", envelopes.stock_ids())
def test_the_statements_text_begins_below_every_window_at_the_inserts_lowest_place(stock_id: str) -> None:
    """The masthead's column (the template's min-height) ends past each window's lower edge moved down by the shift."""
    stock = envelopes.stock(stock_id)
    values = envelopes.template_values(envelopes.address_layout(stock))
    lowest = max(w.bottom for w in (stock.address_window, stock.return_window) if w is not None) + stock.shift[1]
    assert values["flow_top"] + 0.6 > lowest
    profile = envelopes.template_values(envelopes.address_layout(envelopes.for_profile({})))
    assert profile["flow_top"] is None  # a profile's own windows keep the stylesheet's height


def test_a_profiles_own_window_refuses_an_address_only_when_its_wrapped_lines_overflow() -> None:
    """A profile's own window wraps a long line at spaces, by the font's advances: five lines of words fit, a
    line wide enough to wrap onto a sixth does not, and the reason counts the wrapped lines."""
    layout = envelopes.address_layout(envelopes.for_profile({}))
    assert layout.max_lines == 5
    five = ["JANE Q PUBLIC", "C/O ESTATE OF JOHN PUBLIC", "1234 NORTH CHARLES STREET", "APT 5", "BALTIMORE MD 21201"]
    assert layout.lines_fit(five) is None
    long_line = " ".join(["WASHINGTON"] * 12)
    reason = str(layout.lines_fit([*five[:4], long_line]))
    assert "wrapped; the window holds 5" in reason and "takes 5 lines" not in reason


def test_an_address_lines_width_is_the_sum_of_its_characters_advances() -> None:
    """Measured by character: the font's advance for each it has, 0.6 em for one it lacks."""
    font = envelopes.address_face()
    text = "Ñandú 21201 \U0001f600"
    assert font.width(text) == pytest.approx(sum(font.advance.get(ord(ch), 0.6) for ch in text))
    assert font.width("") == 0


def test_the_double_windows_return_address_sits_in_its_clear_area_at_the_address_type() -> None:
    """Three lines at 8 pt fit the 7/8 in return window with 1/8 in clearance and 1/8 in play each way; four do not,
    and a return address the window cannot hold stops the run with the reason, never cut."""
    stock = envelopes.stock("no10-double-window")
    placed = envelopes.return_layout(stock)
    area = stock.return_area
    assert placed is not None and area is not None and stock.return_window is not None
    assert area.left == pytest.approx(stock.return_window.left + 0.25) and area.height == pytest.approx(0.875 - 0.5)
    assert placed.font_pt == 8.0 and placed.first_baseline > area.top
    three = ["Office of Budget and Finance", "400 Washington Avenue", "Towson MD 21204"]
    assert placed.lines_fit(three) is None
    assert "holds 3 at 8 pt" in str(placed.lines_fit([*three, "Suite 100"]))
    assert "wide at 8 pt" in str(placed.lines_fit(["Bureau of Revenue Collections and Real Property Tax Sale Office"]))
    with pytest.raises(ConfigError, match="return address does not fit"):
        envelopes.require_return_fit(stock, [*three, "Suite 100"], "collector.toml")
    envelopes.require_return_fit(envelopes.stock("no10-single-window"), [*three, "Suite 100"])  # no return window


def test_the_address_fonts_glyph_bounds_read_on_demand_are_its_outlines() -> None:
    """Each character's top and bottom, read when first asked, are those of its glyph's outline (0 for one the font lacks)."""
    from fontTools.ttLib import TTFont

    font = envelopes.address_face()
    whole = TTFont(fonts_dir() / envelopes.FONT)
    glyf, names = whole["glyf"], whole.getBestCmap()
    for ch in "Agjpqy,.'-#0123456789 ÉÑçüß\u2019\u4e00":
        name = names.get(ord(ch))
        glyph = glyf[name] if name else None
        if glyph is not None:
            glyph.recalcBounds(glyf)
        expected = (getattr(glyph, "yMax", 0) / font.units, getattr(glyph, "yMin", 0) / font.units) if glyph else (0.0, 0.0)
        assert (font.top(ord(ch)), font.bottom(ord(ch))) == expected, ch
    assert font.bottom(ord("g")) < 0 < font.top(ord("A"))


def test_a_stock_is_taken_whole_whatever_windows_the_profile_gives() -> None:
    """render and check see one envelope: the single-window stock keeps no return window from the profile's [envelope]."""
    given = {"stock": "no10-single-window", "return_window": {"left": 0.75, "top": 0.5, "width": 3.25, "height": 0.875}}
    assert envelopes.for_profile(given) == envelopes.stock("no10-single-window")
    assert envelopes.template_values(envelopes.address_layout(envelopes.for_profile(given)))["return"] is None


def _char_boxes(pdf: Path, wanted: list[str]) -> list[tuple[float, float, float, float]]:
    """The ink boxes (left, top, right, bottom in page inches from the top-left) of the characters of ``wanted`` lines."""
    page = pypdfium2.PdfDocument(str(pdf))[0]
    text = page.get_textpage()
    whole = text.get_text_range()
    boxes = []
    for line in wanted:
        # The occurrence on the first panel (the owner's name also prints lower down, in the facts table).
        starts = [i for i in range(len(whole)) if whole.startswith(line, i)]
        start = next(i for i in starts if PAGE_HEIGHT - text.get_charbox(i)[3] / INCH < 11 / 3)
        for index in range(start, start + len(line)):
            if whole[index].isspace():
                continue
            left, bottom, right, top = text.get_charbox(index)
            boxes.append((left / INCH, PAGE_HEIGHT - top / INCH, right / INCH, PAGE_HEIGHT - bottom / INCH))
    return boxes


@pytest.fixture(scope="module")
def single_window_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """A small roll rendered for the single-window stock, in ZIP order: one record too long for the window."""
    folder = tmp_path_factory.mktemp("postal")
    rows = [
        row(account_id="01-01-0001-001", owner_name="MARCUS T WILLIAMS", owner_name_2="DENISE R WILLIAMS",
            mailing_address_1="3011 GUILFORD AVE", mailing_zip="21218-1234"),
        row(account_id="01-01-0001-002", owner_name="ANN LEE", mailing_zip="21201"),
        row(account_id="01-01-0001-003", owner_name="HARBORVIEW ROWHOMES LLC", owner_name_2="C/O JANE DOE",
            mailing_address_1="400 E PRATT ST", mailing_address_2="STE 800", mailing_zip="21202"),
        row(account_id="01-01-0001-004", owner_name="BOB ROE", mailing_zip="21030"),
    ]
    roll = folder / "roll.csv"
    roll.write_text(csv_text(rows), "utf-8")
    out = folder / "out"
    run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, envelope="no10-single-window", sort="zip"))
    return out, read_csv(out / "manifest.csv")


def test_the_address_keeps_its_clearance_at_every_extreme_of_the_insert(single_window_run: tuple[Path, list[dict[str, str]]]) -> None:
    """Measured in the PDF, the address and the bars stay 1/8 in inside the window wherever the insert moves."""
    out, manifest = single_window_run
    stock = envelopes.stock("no10-single-window")
    layout = envelopes.address_layout(stock)
    first = next(r for r in manifest if r["account_id"] == "01-01-0001-001")
    lines = ["MARCUS T WILLIAMS", "DENISE R WILLIAMS", "3011 GUILFORD AVE", "BALTIMORE MD 21218-1234"]
    ink = _char_boxes(out / "pieces" / first["piece_file"], lines)
    bars = [(x, y, x + w, y + h) for x, y, w, h in imb.bar_rects(first["imb_bars"], layout.barcode_box.left, layout.barcode_box.bottom)]
    assert len(ink) == sum(len(line.replace(" ", "")) for line in lines) and len(bars) == 65
    for dx, dy in stock.corners():
        window = stock.address_window.moved(-dx, -dy)  # the insert moves one way, the window the other on the page
        for left, top, right, bottom in ink + bars:
            assert left >= window.left + stock.clearance - 1e-6 and right <= window.right - stock.clearance + 1e-6
            assert top >= window.top + stock.clearance - 1e-6 and bottom <= window.bottom - stock.clearance + 1e-6
    lowest_text = max(bottom for _, _, _, bottom in ink)
    assert min(top for _, top, _, _ in bars) - lowest_text >= imb.CLEAR_ABOVE - 1e-6
    assert stock.address_pt >= 8


def test_an_address_the_window_cannot_hold_is_rejected_with_the_reason(single_window_run: tuple[Path, list[dict[str, str]]]) -> None:
    """Five lines do not fit the single window with the barcode: the record is rejected, not printed cut."""
    out, _ = single_window_run
    rejected = {r["account_id"]: r for r in read_csv(out / "rejects.csv")}
    assert "01-01-0001-003" in rejected
    assert rejected["01-01-0001-003"]["field"] == "mailing_address"
    assert "5 lines" in rejected["01-01-0001-003"]["reason"]
    layout = envelopes.address_layout(envelopes.stock("no10-double-window"))
    assert "wide" in str(layout.lines_fit(["W" * 60, "1 MAIN ST", "BALTIMORE MD 21201"]))


def test_the_manifest_records_barcode_sheets_and_zip_order(single_window_run: tuple[Path, list[dict[str, str]]]) -> None:
    """Each printed piece has its tracking code, routing code, 65 bars and sheets; the print file runs in ZIP+4 order."""
    _, manifest = single_window_run
    printed = sorted((r for r in manifest if r["status"] == "rendered"), key=lambda r: int(r["print_sequence"]))
    assert [r["account_id"] for r in printed] == ["01-01-0001-004", "01-01-0001-002", "01-01-0001-001"]
    assert [r["sort_key"] for r in printed] == sorted(r["sort_key"] for r in printed)
    for r in printed:
        assert len(r["imb_tracking"]) == 20 and len(r["imb_bars"]) == 65
        assert r["imb_bars"] == imb.encode(r["imb_tracking"], r["imb_routing"])
        assert int(r["sheets"]) == -(-int(r["pages"]) // 2)
    assert printed[-1]["imb_routing"] == "212181234"


def test_sorting_changes_no_pieces_bytes(single_window_run: tuple[Path, list[dict[str, str]]], tmp_path: Path) -> None:
    """The same roll in input order gives the same piece files, byte for byte: only the print file's order differs."""
    out, manifest = single_window_run
    again = tmp_path / "input-order"
    run(Options(out.parent / "roll.csv", again, "baltimore-city", "final-notice", CITY_DATE, workers=1,
                envelope="no10-single-window"))
    plain = {r["account_id"]: r for r in read_csv(again / "manifest.csv")}
    for r in manifest:
        if r["status"] == "rendered":
            assert plain[r["account_id"]]["sha256"] == r["sha256"]
    assert [r["print_sequence"] for r in read_csv(again / "manifest.csv") if r["status"] == "rendered"] == ["1", "2", "3"]


def test_a_padding_page_says_it_is_blank_and_the_check_reads_it_as_blank() -> None:
    """The padding back page shows its words as drawn outlines: an operator sees them, the statute check sees no text."""
    pdf = blank_pdf()
    drawn = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()
    assert b" c\n" in drawn and b"/Font" not in pdf  # curves (the outlines, in a compressed stream), no font
    assert shared_pages(pdf)[0].text == ""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=1).to_pil().convert("L")
    width, height = image.size
    dark = [x for x in range(width) for y in range(height // 2 - 12, height // 2 + 4) if image.getpixel((x, y)) < 160]
    assert dark and abs((min(dark) + max(dark)) / 2 - width / 2) < 3  # centred words


def test_delivery_points_route_sort_and_reject_with_file_line_and_field(tmp_path: Path) -> None:
    """ZIP+4 and delivery point give an 11-digit routing code and the ZIP order; a bad one is rejected, naming the line."""
    rows = [
        row(account_id="01-01-0003-001", owner_name="ANN LEE", mailing_zip="21218-1234", delivery_point="09"),
        row(account_id="01-01-0003-002", owner_name="BOB ROE", mailing_zip="21218-1234", delivery_point="02"),
        row(account_id="01-01-0003-003", owner_name="CY DOE", mailing_zip="21218-1234", delivery_point="7"),
        row(account_id="01-01-0003-004", owner_name="DI POE", mailing_zip="21218", delivery_point="07"),
    ]
    roll = tmp_path / "roll.csv"
    roll.write_text(csv_text(rows, [*COLUMNS, "delivery_point"]), "utf-8")
    run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1, sort="zip"))
    printed = {r["account_id"]: r for r in read_csv(tmp_path / "out" / "manifest.csv") if r["status"] == "rendered"}
    assert printed["01-01-0003-001"]["imb_routing"] == "21218123409"
    assert printed["01-01-0003-002"]["sort_key"] == "21218123402"
    assert [printed[a]["print_sequence"] for a in ("01-01-0003-002", "01-01-0003-001")] == ["1", "2"]
    rejected = {r["account_id"]: r for r in read_csv(tmp_path / "out" / "rejects.csv")}
    assert rejected["01-01-0003-003"]["field"] == "delivery_point" and rejected["01-01-0003-003"]["line"] == "4"
    assert rejected["01-01-0003-003"]["file"].endswith("roll.csv") and "two digits" in rejected["01-01-0003-003"]["reason"]
    assert "ZIP+4" in rejected["01-01-0003-004"]["reason"]
