"""The check reads print production from the PDF: the windows' fit at every insert shift, the barcode read back, the sheets."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import random
from pathlib import Path

import pytest
from conftest import CITY_CSV, CITY_DATE, COUNTY_CSV, COUNTY_DATE, SAMPLES, SPEC_BARS, SPEC_TRACKING, csv_text, read_csv
from conftest import row as roll_row
from pypdf import PdfReader
from reportlab.graphics.barcode.usps4s import USPS_4State
from reportlab.pdfgen import canvas
from typer.testing import CliRunner

from notices import Options, run
from notices.cli import app
from notices.collectors import load_collector
from notices.compliance.imbcode import BarcodeUnreadable, decode
from notices.compliance.postal import PostalTarget, check_postal
from notices.compliance.report import Finding, Report
from notices.postal import envelopes, imb

SALE_CSV = SAMPLES / "baltimore-city-sale-results.csv"
SALE_DATE = dt.date(2027, 7, 1)
SINGLE = envelopes.stock("no10-single-window")
ADDRESS = ["ANN LEE", "1 MAIN ST", "BALTIMORE MD 21201-1234"]
TRACKING, ROUTING = "00300999999000000007", "212011234"


@pytest.mark.parametrize("routing", sorted(SPEC_BARS))
def test_the_specifications_examples_read_back_to_their_codes(routing: str) -> None:
    """Each published example's 65 bars decode to the tracking code and routing code it was made from."""
    decoded = decode(SPEC_BARS[routing])
    assert (decoded.tracking, decoded.routing) == (SPEC_TRACKING, routing)


def test_any_code_reportlabs_encoder_draws_reads_back() -> None:
    """The decoder, written from the specification, inverts the encoder that draws our bars, for every routing length."""
    pick = random.Random(12)
    for _ in range(300):
        tracking = f"{pick.randint(0, 9)}{pick.randint(0, 4)}" + "".join(str(pick.randint(0, 9)) for _ in range(18))
        routing = "".join(str(pick.randint(0, 9)) for _ in range(pick.choice([0, 5, 9, 11])))
        decoded = decode(str(USPS_4State(tracking, routing).barcodes))
        assert (decoded.tracking, decoded.routing) == (tracking, routing)


def test_a_damaged_barcode_does_not_read() -> None:
    """Any one bar misread, or two bars swapped, breaks a table or the frame check sequence: never a wrong code."""
    bars = SPEC_BARS["01234567891"]
    for index in range(65):
        for other in "FADT":
            if other != bars[index]:
                with pytest.raises(BarcodeUnreadable):
                    decode(bars[:index] + other + bars[index + 1:])
    with pytest.raises(BarcodeUnreadable):
        decode(bars[::-1])


# --------------------------------------------------------------------------------------------
# Mutations of a piece drawn here (not by the renderer): each gives exactly the finding it should.


def _piece(address_shift: tuple[float, float] = (0.0, 0.0), bar_shift: float = 0.0, bars: str | None = None,
           pages: int = 2, stock: envelopes.Envelope = SINGLE, back: tuple[float, float] | None = None) -> bytes:
    """A piece for a stock as its layout places it: the address lines, the bars (drawn through a scaled matrix, as
    another program might), the return address's top-left corner at ``back``, and its other pages; every page says something."""
    layout = envelopes.address_layout(stock)
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(612, 792))
    if back is not None:
        page.setFont("Helvetica", 8)  # three lines at 8 pt fit the 7/8 in window with 1/4 in each side
        for index, line in enumerate(["Bureau of Revenue Collections", "200 Holliday Street", "Baltimore MD 21202"]):
            page.drawString(back[0] * 72, (11 - back[1]) * 72 - 7 - index * 8.4, line)
    page.setFont("Helvetica", stock.address_pt)
    for index, line in enumerate(ADDRESS):
        baseline = layout.first_baseline + index * layout.pitch + address_shift[1]
        page.drawString((layout.box.left + address_shift[0]) * 72, (11 - baseline) * 72, line)
    page.saveState()
    page.scale(0.5, 0.5)  # the bars drawn at twice the size through a matrix that halves them
    for x, y, width, height in imb.bar_rects(bars or imb.encode(TRACKING, ROUTING), layout.barcode_box.left,
                                             layout.barcode_box.bottom + bar_shift):
        page.rect(x * 144, (11 - y - height) * 144, width * 144, height * 144, stroke=0, fill=1)
    page.restoreState()
    page.drawString(72, 500, "Statement of taxes due")
    for number in range(2, pages + 1):
        page.showPage()
        page.setFont("Helvetica", 10)
        page.drawString(72, 700, f"Page {number}")
    page.save()
    return out.getvalue()


def _row(**changes: str) -> dict[str, str]:
    return {"piece_file": "piece.pdf", "account_id": "01-01-0001-001", "pages": "2", "sheets": "1", "imb_tracking": TRACKING,
            "imb_routing": ROUTING, "imb_bars": imb.encode(TRACKING, ROUTING), "print_first_page": "1", **changes}


def _check(pdf: bytes, row: dict[str, str] | None = None, stock: envelopes.Envelope = SINGLE) -> list[Finding]:
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    target = PostalTarget(stock, duplex=True, manifest=None if row is None else (row,))
    return check_postal(pdf, Report("piece.pdf", pages), target)


def _errors(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.block, f.message) for f in findings if f.status != "ok"]


def test_a_piece_laid_out_for_the_window_passes_with_its_margins() -> None:
    """Address and bars 1/8 in inside the window at every shift, the barcode as the manifest says, one sheet."""
    findings = _check(_piece(), _row())
    assert _errors(findings) == []
    rows = {f.block: f.message for f in findings}
    assert "reads tracking 00300999999000000007, routing 212011234, as the manifest gives" in rows["imb"]
    assert "left 0.125" in rows["envelope-address"] and "bottom 0.125" in rows["envelope-address"]
    assert rows["sheets"].startswith("2 pages on 1 sheets (duplex), as the manifest gives")


def test_an_address_moved_out_of_the_window_is_named() -> None:
    """The block moved 1/4 in left: its lines reach past the window's left edge, and nothing else is wrong."""
    found = _errors(_check(_piece(address_shift=(-0.25, 0.0)), _row()))
    assert len(found) == 1 and found[0][0] == "envelope-address"
    # 1/4 in less the 1/8 in of shift, and less the inset the layout gives a first glyph's ink (0.005 in at 8 pt)
    assert found[0][1].startswith("'ANN / 1 MA / BALT': 0.118 in past the address window's left edge")


def test_a_barcode_shifted_into_the_clearance_is_named() -> None:
    """The bars 0.05 in lower: they come within the bottom clearance; they still read."""
    found = _errors(_check(_piece(bar_shift=0.05), _row()))
    assert len(found) == 1 and found[0][0] == "envelope-address"
    low = sum(bar in "FD" for bar in imb.encode(TRACKING, ROUTING))  # the full bars and descenders reach lowest
    assert found[0][1].startswith(f"{low} bars of the barcode: within 0.075 in of the address window's bottom edge")


def test_an_address_line_in_the_barcodes_clear_zone_is_named() -> None:
    """The three lines one line and 0.02 in lower: the last comes within 0.028 in of the bars (still inside the window)."""
    pitch = envelopes.address_layout(SINGLE).pitch
    found = _errors(_check(_piece(address_shift=(0.0, pitch + 0.02)), _row()))
    # The glyphs that reach into the zone are named: the hyphen, at mid-height, does not.
    assert found == [("imb", "the barcode breaks the specification: 'BALTIMORE MD 212011234' in its clear zone "
                      "(0.125 in across, 0.028 in above and below)")]


def test_two_swapped_bars_do_not_read() -> None:
    """Two different bars swapped: the barcode is no valid code, and says so."""
    bars = imb.encode(TRACKING, ROUTING)
    first = next(i for i in range(64) if bars[i] != bars[i + 1])
    swapped = bars[:first] + bars[first + 1] + bars[first] + bars[first + 2:]
    found = _errors(_check(_piece(bars=swapped), _row()))
    assert len(found) == 1 and found[0][0] == "imb" and "does not read" in found[0][1]


def test_a_barcode_the_manifest_does_not_give_is_named() -> None:
    """The manifest gives another serial for this piece: the barcode is right in itself, wrong for the piece."""
    found = _errors(_check(_piece(), _row(imb_tracking="00300999999000000008")))
    assert len(found) == 1 and found[0][0] == "imb" and "the manifest gives tracking 00300999999000000008" in found[0][1]


def test_a_piece_the_manifest_does_not_list_is_named() -> None:
    """A manifest from another run: the piece is not in it, and its barcode is still read and reported."""
    findings = _check(_piece(), _row(piece_file="000009-other.pdf"))
    assert _errors(findings) == [("manifest", "the manifest has no rendered piece with this piece file piece.pdf")]
    assert any(f.block == "imb" and f.status == "ok" and "reads tracking 00300999999000000007" in f.message for f in findings)


def test_a_sheet_count_the_manifest_does_not_give_is_named() -> None:
    """Three pages where the manifest records two: the piece is not what the run wrote."""
    found = _errors(_check(_piece(pages=3), _row()))
    assert len(found) == 1 and found[0][0] == "sheets" and "3 pages on 2 sheets" in found[0][1]
    over = _errors(_check(_piece(pages=12)))
    assert len(over) == 1 and "the no10-single-window envelope takes 5" in over[0][1]


def test_the_return_address_is_held_to_the_double_windows_upper_window() -> None:
    """Set 1/4 in inside the return window it passes; set flush with the window's edge it is named, at the insert's
    extreme, while the recipient block below stays fine."""
    double = envelopes.stock("no10-double-window")
    window = double.return_window
    assert window is not None
    inside = _check(_piece(stock=double, back=(window.left + 0.25, window.top + 0.25)), stock=double)
    assert _errors(inside) == [] and {"envelope-address", "envelope-return", "imb"} <= {f.block for f in inside}
    flush = _errors(_check(_piece(stock=double, back=(window.left, window.top)), stock=double))
    assert [block for block, _ in flush] == ["envelope-return", "envelope-return"]
    assert "in past the return window's left edge" in flush[0][1] and "in past the return window's top edge" in flush[1][1]


def test_a_blank_page_that_does_not_say_so_is_named() -> None:
    """A padding page must say "This page intentionally left blank"; a page with nothing on it is a finding."""
    out = io.BytesIO()
    drawn = canvas.Canvas(out, pagesize=(612, 792))
    drawn.drawString(72, 700, "Statement")
    drawn.showPage()
    drawn.showPage()
    drawn.save()
    found = _errors(_check(out.getvalue()))
    assert ("padding-page", "the page is blank and does not say so: a padding page says \"This page intentionally left blank\"") in found


@pytest.mark.parametrize("stock", [None, *envelopes.stock_ids()])
def test_a_line_whose_first_glyph_reaches_left_of_its_origin_stays_in_the_window(tmp_path: Path, stock: str | None) -> None:
    """J's hook reaches 0.005 in left of where the line starts: the layout starts every line in by that much, so owners
    named J... print whole in the profile's own window and in each stock's (a print file of 1,000 pieces once failed
    `notices check` for 61 of them, though `notices render` had passed them)."""
    roll = tmp_path / "j.csv"
    roll.write_text(csv_text([roll_row(account_id="01-01-0001-001", owner_name="JANE JONES", mailing_address_1="J 1 JONES ST"),
                              roll_row(account_id="01-01-0001-002", owner_name="JOHN JAY", mailing_address_1="JAY ST")]),
                    "utf-8")
    out = tmp_path / "out"
    run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, envelope=stock, proof=True))
    rows = [r for r in read_csv(out / "manifest.csv") if r["status"] == "rendered"]
    assert len(rows) == 2
    envelope = envelopes.stock(stock) if stock else envelopes.for_profile(load_collector("baltimore-city").envelope)
    target = PostalTarget(envelope, load_collector("baltimore-city").duplex, manifest=tuple(rows), barcode=False)
    for item in rows:
        pdf = (out / "pieces" / item["piece_file"]).read_bytes()
        fit = [f for f in check_postal(pdf, Report(item["piece_file"], int(item["pages"])), target)
               if f.block == "envelope-address" and "not part of the address" not in f.message]
        assert [f.status for f in fit] == ["ok"], [f.message for f in fit]


def test_a_line_beginning_with_a_glyph_that_reaches_further_is_refused_before_it_renders() -> None:
    """A first glyph whose ink reaches further left than any Latin letter's (a combining overlay) would be cut by the window."""
    layout = envelopes.address_layout(SINGLE)
    assert layout.lines_fit(["JANE JONES", "1 MAIN ST", "BALTIMORE MD 21201"]) is None
    reason = layout.lines_fit(["\u0338ANN LEE", "1 MAIN ST", "BALTIMORE MD 21201"])
    assert reason is not None and "reaches out of the no10-single-window window" in reason


# --------------------------------------------------------------------------------------------
# The measuring test: the samples rendered for each stock, measured from the piece files.


def _render(roll: Path, collector: str, mailing: str, day: dt.date, stock: str, out: Path) -> list[dict[str, str]]:
    run(Options(roll, out, collector, mailing, day, workers=1, envelope=stock))
    return [r for r in read_csv(out / "manifest.csv") if r["status"] == "rendered"]


RUNS = {
    "city": (CITY_CSV, "baltimore-city", "final-notice", CITY_DATE),
    "county": (COUNTY_CSV, "baltimore-county", "final-notice", COUNTY_DATE),
    "post-sale": (SALE_CSV, "baltimore-city", "post-sale-notice", SALE_DATE),
}


STOCKS = envelopes.stock_ids()


@pytest.fixture(scope="module", params=[(stock, name) for stock in STOCKS for name in sorted(RUNS)], ids=lambda p: f"{p[0]}-{p[1]}")
def stock_samples(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]:
    stock, name = request.param
    roll, collector, mailing, day = RUNS[name]
    out = tmp_path_factory.mktemp(f"{stock}-{name}")
    rows = _render(roll, collector, mailing, day, stock, out)
    return out, rows, load_collector(collector).duplex, envelopes.stock(stock)


def test_every_sample_pieces_address_and_barcode_fit_each_stock(
        stock_samples: tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]) -> None:
    """Measured in each piece file, for each stock: the address lines and the bars 1/8 in inside the window at every extreme
    of the shift, 0.028 in between the barcode and the address, the bars reading as the manifest gives, sheets as recorded."""
    out, rows, duplex, stock = stock_samples
    assert len(rows) >= 4  # the addresses the window cannot hold are rejected, not printed cut
    target = PostalTarget(stock, duplex, manifest=tuple(rows))
    for row in rows:
        pdf = (out / "pieces" / row["piece_file"]).read_bytes()
        report = Report(row["piece_file"], int(row["pages"]))
        findings = check_postal(pdf, report, target)
        kinds = {f.block for f in findings if f.status == "ok"}
        assert {"envelope-address", "imb", "sheets"} <= kinds, (row["account_id"], _errors(findings))
        fit = [f for f in findings if f.block == "envelope-address" and "not part of the address" not in f.message]
        assert [f.status for f in fit] == ["ok"], (row["account_id"], _errors(findings))
        assert [f.status for f in findings if f.block in ("imb", "sheets", "padding-page")] == ["ok", "ok"], row["account_id"]


def test_nothing_but_the_addresses_shows_through_each_stocks_windows(
        stock_samples: tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]) -> None:
    """Every piece, every stock: no statement text in a window at any position of the insert, the return address (double
    window) 1/8 in inside its window, and nothing else wrong with the piece's print production."""
    out, rows, duplex, stock = stock_samples
    target = PostalTarget(stock, duplex, manifest=tuple(rows))
    for row in rows:
        pdf = (out / "pieces" / row["piece_file"]).read_bytes()
        findings = check_postal(pdf, Report(row["piece_file"], int(row["pages"])), target)
        assert _errors(findings) == [], row["account_id"]
        blocks = {f.block for f in findings}
        assert ("envelope-return" in blocks) == (stock.return_window is not None), row["account_id"]


def test_a_single_window_piece_prints_no_return_address_on_the_insert(
        stock_samples: tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]) -> None:
    """A single-window stock has no return window: the return address (the envelope maker's corner card) is not printed
    on a panel the envelope hides, whatever windows the profile gives itself."""
    out, rows, _, stock = stock_samples
    text = PdfReader(out / "pieces" / rows[0]["piece_file"]).pages[0].extract_text()
    collector = load_collector("baltimore-county" if "county" in out.name else "baltimore-city")
    assert (collector.return_address[1] in text) == (stock.return_window is not None)


def test_notices_check_reports_print_production_with_the_statute(
        stock_samples: tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]) -> None:
    """`notices check --manifest --envelope --json` has the barcode, fit and sheet rows beside the statute's, and passes."""
    out, rows, _, stock = stock_samples
    row = rows[-1]
    manifest = out / "manifest.csv"
    collector = "baltimore-county" if "county" in str(out) else "baltimore-city"
    mailing = "post-sale-notice" if "post-sale" in str(out) else "final-notice"
    day = {"baltimore-county": COUNTY_DATE}.get(collector, SALE_DATE if mailing == "post-sale-notice" else CITY_DATE)
    result = CliRunner().invoke(app, ["check", str(out / "pieces" / row["piece_file"]), "-c", collector, "-m", mailing,
                                      "-d", day.isoformat(), "--envelope", stock.id, "--manifest", str(manifest),
                                      "--json"])
    findings = json.loads(result.output)["files"][0]["findings"]
    by_block = {f["block"]: f for f in findings if f["block"] in ("imb", "sheets")}
    assert by_block["imb"]["status"] == "ok" and row["imb_tracking"] in by_block["imb"]["message"]
    assert by_block["sheets"]["status"] == "ok"
    assert any(f["block"].startswith("tp-") for f in findings)
    assert result.exit_code == 0, [f for f in findings if f["status"] != "ok"]


def test_a_print_file_is_measured_piece_by_piece_against_the_manifest(
        stock_samples: tuple[Path, list[dict[str, str]], bool, envelopes.Envelope]) -> None:
    """The print file is cut at each statement; each piece's barcode and sheets match its manifest row (by first page)."""
    out, rows, _, stock = stock_samples
    if "city" not in out.name or "sale" in out.name:
        pytest.skip("one mailing is enough for the print file")
    printed = next((out / "print").glob("*.pdf"))
    result = CliRunner().invoke(app, ["check", str(printed), "-c", "baltimore-city", "-d", CITY_DATE.isoformat(),
                                      "--envelope", stock.id, "--manifest", str(out / "manifest.csv"), "--json"])
    findings = json.loads(result.output)["files"][0]["findings"]
    summary = {f["block"]: f["message"] for f in findings if f["status"] == "ok" and f["block"] in ("imb", "sheets")}
    assert summary == {
        "imb": f"each of the {len(rows)} pieces: the barcode reads, keeps USPS-B-3200's dimensions and matches the manifest",
        "sheets": f"each of the {len(rows)} pieces: its sheets within the envelope's capacity, as many as the manifest gives",
    }


def test_a_file_pypdf_will_not_measure_is_named_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf refusing a file past one of its limits (as it did a 30,000-piece print file) is that file's error, exit 2."""
    from pypdf.errors import LimitReachedError

    import notices.compliance.postal as postal

    roll = tmp_path / "one.csv"
    roll.write_text(csv_text([roll_row()]), "utf-8")
    run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1, proof=True))
    piece = next((tmp_path / "out" / "pieces").glob("*.pdf"))

    def refused(*args: object, **kwargs: object) -> None:
        raise LimitReachedError("Reached maximum array element count.")

    monkeypatch.setattr(postal, "PdfReader", refused)
    result = CliRunner().invoke(app, ["check", str(piece), "-c", "baltimore-city", "-d", CITY_DATE.isoformat()])
    assert result.exit_code == 2, result.output
    assert "pypdf cannot read the PDF to measure it (LimitReachedError" in result.output
    assert "Traceback" not in result.output


def _print_file(tmp_path: Path, pieces: int) -> tuple[Path, Path]:
    """A print file of ``pieces`` one-page statements (each padded with the blank back page), and its manifest."""
    roll = tmp_path / "roll.csv"
    roll.write_text(csv_text([roll_row(account_id=f"01-01-0001-{k:03d}", owner_name=f"ANN LEE {k}") for k in range(1, pieces + 1)]),
                    "utf-8")
    run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1))
    return next((tmp_path / "out" / "print").glob("*.pdf")), tmp_path / "out" / "manifest.csv"


def _postal_findings(printed: Path, manifest: Path) -> list[dict[str, object]]:
    from notices.compliance import check_file, target_for
    from notices.compliance.postal import postal_target

    target = target_for("baltimore-city", "final-notice", CITY_DATE)
    report = check_file(str(printed), target)
    postal = postal_target(envelopes.for_profile(target.collector.envelope), target.collector, manifest)
    return [f.to_dict() for f in check_postal(printed.read_bytes(), report, postal)]


def test_a_blank_page_every_piece_of_a_print_file_shares_is_named_in_each_piece(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The padding page is one set of objects drawn in every piece; looked at once, it is still named on each piece's page."""
    import notices.pdfwriter

    monkeypatch.setattr(notices.pdfwriter, "blank_page_words", lambda *args, **kwargs: b"")  # a back page that says nothing
    # The stream is kept once made: a cache of the test's own, so it is made from the patched words.
    monkeypatch.setattr(notices.pdfwriter, "_blank_content", functools.lru_cache(notices.pdfwriter._blank_content.__wrapped__))
    printed, manifest = _print_file(tmp_path, 3)
    blank = [f for f in _postal_findings(printed, manifest) if f["block"] == "padding-page"]
    assert [(f["status"], f["page"], str(f["message"]).split(":")[0]) for f in blank] == [
        ("error", 2, "piece 1"), ("error", 6, "piece 2"), ("error", 10, "piece 3")]


def test_a_print_files_pages_are_measured_one_at_a_time_with_the_findings_of_reading_them_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pypdf's list of pages (6.6 KB a page, 800 MB for 30,000 pieces) is never made for a plain file: same findings."""
    import notices.compliance.pdftext as pdftext
    from notices.conformance import check as check_standard

    printed, manifest = _print_file(tmp_path, 3)
    whole = _postal_findings(printed, manifest), check_standard(printed.read_bytes(), str(printed), 12)
    with monkeypatch.context() as patched:
        patched.setattr(pdftext, "read_plain", lambda *args, **kwargs: None)  # as for a file written elsewhere
        read_in_full = _postal_findings(printed, manifest), check_standard(printed.read_bytes(), str(printed), 12)

    def refused(self: PdfReader) -> object:
        raise AssertionError("pypdf was asked for every page")

    monkeypatch.setattr(PdfReader, "pages", property(refused))
    one_at_a_time = _postal_findings(printed, manifest), check_standard(printed.read_bytes(), str(printed), 12)
    assert one_at_a_time == read_in_full == whole
    assert [f["status"] for f in whole[0]] == ["ok"] * 4 and whole[1].ok
