"""The date picks the law: every mailing carries the blocks in force on its date, and says which edition it used."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import csv_text, row
from pypdf import PdfReader
from typer.testing import CliRunner

from notices.batch import Options, run
from notices.cli import app
from notices.collectors import load_collector
from notices.compliance import find_words, page_texts
from notices.errors import LawError
from notices.inserts import run as run_inserts
from notices.resolve import plan
from notices.statutes import load_registry

BEFORE = dt.date(2027, 4, 30)
AFTER = dt.date(2027, 5, 1)
NINE_ITEMS = ["tp-14-812-b-1", "tp-14-812-b-2", "tp-14-812-b-3", "tp-14-812-b-4", "tp-14-812-b-5", "tp-14-812-b-6-i",
              "tp-14-812-b-6-ii", "tp-14-812-b-8-i", "tp-14-812-b-8-ii", "tp-14-812-b-9-other"]
INSTALLMENT_ITEMS = ["tp-14-812-b-9-i", "tp-14-812-b-9-ii", "tp-14-812-b-9-iii", "tp-14-812-b-10"]


def _text(block_id: str) -> str:
    return load_registry().block(block_id).text


def _metadata(pdf: bytes) -> dict[str, str]:
    """The PDF's document information, keys without the slash (WeasyPrint drops the hyphens of meta names)."""
    info: dict[Any, Any] = dict(PdfReader(io.BytesIO(pdf)).metadata or {})
    return {str(k).lstrip("/"): str(v) for k, v in info.items()}


@pytest.fixture(scope="module")
def final_notices(tmp_path_factory: pytest.TempPathFactory) -> dict[dt.date, tuple[Any, Path]]:
    """One County account's Final Bill and Legal Notice, rendered on the day before and the day of Chapter 108."""
    made = {}
    for day in (BEFORE, AFTER):
        folder = tmp_path_factory.mktemp(f"final-{day.isoformat()}")
        roll = folder / "roll.csv"
        roll.write_text(csv_text([row()]), encoding="utf-8")
        summary = run(Options(roll, folder / "out", "baltimore-county", "final-notice", day, workers=1))
        made[day] = (summary, folder / "out")
    return made


def _piece(out: Path) -> tuple[dict[str, Any], bytes]:
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    (piece,) = manifest["pieces"]
    return piece, (out / "pieces" / piece["piece_file"]).read_bytes()


class TestFinalNoticeInsertByDate:
    def test_notice_dated_2027_04_30_carries_items_1_to_9_and_no_installment_item(self, final_notices: dict) -> None:
        """On the last day before Chapter 108 the § 14-812(b) insert has nine items and no installment plan item."""
        piece, pdf = _piece(final_notices[BEFORE][1])
        blocks = piece["blocks"].split()
        assert all(b in blocks for b in NINE_ITEMS)
        assert not any(b in blocks for b in INSTALLMENT_ITEMS)
        assert find_words(_text("tp-14-812-b-9-i"), page_texts(pdf)) is None

    def test_notice_dated_2027_05_01_carries_items_1_to_10_with_installment_item_9(self, final_notices: dict) -> None:
        """From May 1, 2027 the insert has ten items: item 9 is installment plans, the old item 9 becomes 10."""
        piece, pdf = _piece(final_notices[AFTER][1])
        blocks = piece["blocks"].split()
        assert all(b in blocks for b in INSTALLMENT_ITEMS)
        assert "tp-14-812-b-9-other" not in blocks
        assert blocks.index("tp-14-812-b-8-ii") < blocks.index("tp-14-812-b-9-i") < blocks.index("tp-14-812-b-10")
        assert find_words(_text("tp-14-812-b-9-i"), page_texts(pdf)) is not None

    def test_manifest_records_the_edition_in_force(self, final_notices: dict) -> None:
        """The summary and every manifest row name the edition of the law that was used."""
        for day, edition in ((BEFORE, "2026-01-01"), (AFTER, "2027-05-01")):
            summary, out = final_notices[day]
            assert summary.edition == edition
            piece, _ = _piece(out)
            assert piece["edition"] == edition
            assert f",{edition}," in (out / "manifest.csv").read_text("utf-8").splitlines()[1]

    def test_piece_pdf_metadata_records_the_edition(self, final_notices: dict) -> None:
        """A piece PDF names the edition of the law in its metadata, like the inserts do."""
        _, pdf = _piece(final_notices[AFTER][1])
        assert _metadata(pdf).get("noticesedition") == "2027-05-01"


class TestEveryMailingAtTheBoundaries:
    @pytest.mark.parametrize("mailing", ["final-notice", "post-sale-notice"])
    def test_per_record_mailings_switch_insert_items_on_2027_05_01(self, mailing: str) -> None:
        """Both mailings that carry the § 14-812(b) insert switch editions on the same day."""
        collector = load_collector("baltimore-city")
        before = plan(collector, mailing, BEFORE).part("tax-sale-insert").block_ids
        after = plan(collector, mailing, AFTER).part("tax-sale-insert").block_ids
        assert "tp-14-812-b-9-other" in before and "tp-14-812-b-9-i" not in before
        assert "tp-14-812-b-9-i" in after and "tp-14-812-b-10" in after and "tp-14-812-b-9-other" not in after

    def test_post_sale_item_a7_changes_on_2026_01_01(self) -> None:
        """§ 14-817.1(a)(7) takes its Chapter 231 wording from January 1, 2026."""
        collector = load_collector("baltimore-city")
        before = plan(collector, "post-sale-notice", dt.date(2025, 12, 31)).part("post-sale-statement").block_ids
        after = plan(collector, "post-sale-notice", dt.date(2026, 1, 1)).part("post-sale-statement").block_ids
        assert "tp-14-817-1-a-7" in before and "tp-14-817-1-a-7-2026" not in before
        assert "tp-14-817-1-a-7-2026" in after and "tp-14-817-1-a-7" not in after

    @pytest.mark.parametrize("day, edition", [(dt.date(2025, 12, 31), "2024-07-01"), (dt.date(2026, 1, 1), "2026-01-01"),
                                              (BEFORE, "2026-01-01"), (AFTER, "2027-05-01")])
    def test_edition_changes_on_its_first_day(self, day: dt.date, edition: str) -> None:
        """Each edition starts on its own first day, not the day after."""
        assert plan(load_collector("baltimore-county"), "bill-inserts", day).edition.id == edition

    def test_bill_inserts_switch_on_2027_05_01(self) -> None:
        """The installment insert joins the HPP insert on 2027-05-01, and is skipped the day before."""
        collector = load_collector("baltimore-county")
        before = plan(collector, "bill-inserts", BEFORE)
        after = plan(collector, "bill-inserts", AFTER)
        assert [p.document.id for p in before.parts] == ["hpp-insert"] and before.skipped == ("installment-insert",)
        assert [p.document.id for p in after.parts] == ["hpp-insert", "installment-insert"] and after.skipped == ()

    def test_a_date_before_the_registry_is_refused(self) -> None:
        """The law before 2024-07-01 is not recorded, so it is refused rather than guessed."""
        with pytest.raises(LawError):
            plan(load_collector("baltimore-county"), "bill-inserts", dt.date(2024, 6, 30))


class TestBillInsertsByDate:
    def test_bill_inserts_on_2027_04_30_make_only_the_hpp_insert(self, tmp_path: Path) -> None:
        """The day before May 1, 2027 only the HPP insert is printed; the manifest says the other is not yet required."""
        summary = run_inserts("baltimore-county", "bill-inserts", BEFORE, tmp_path)
        assert [p.name for p in (tmp_path / "inserts").iterdir()] == ["hpp-insert-baltimore-county-2027-04-30.pdf"]
        manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
        rows = {r["document"]: r for r in manifest["inserts"]}
        assert rows["hpp-insert"]["status"] == "rendered"
        assert rows["installment-insert"]["status"] == "not-required"
        assert "not yet required" in rows["installment-insert"]["reason"] and "2027-05-01" in rows["installment-insert"]["reason"]
        assert manifest["summary"]["edition"] == summary.edition == "2026-01-01"
        assert "installment-insert,not-required" in (tmp_path / "manifest.csv").read_text("utf-8")

    def test_installment_insert_before_2027_05_01_is_a_clear_error_exit_2(self, tmp_path: Path) -> None:
        """Asking for the § 4-201.2 insert before it exists exits 2 with the date it starts, and writes no PDF."""
        result = CliRunner().invoke(app, ["render", "--mailing", "installment-insert", "--collector", "baltimore-county",
                                          "--date", "2027-04-30", "--out", str(tmp_path / "out")])
        assert result.exit_code == 2
        assert "not required on 2027-04-30" in result.output and "2027-05-01" in result.output
        assert not list(tmp_path.rglob("*.pdf"))

    def test_installment_statement_is_verbatim_in_the_insert_from_2027_05_01(self, tmp_path: Path) -> None:
        """The § 4-201.2(a)(1) statement is printed word for word in the bill insert from its first day, and the
        insert's metadata records the edition."""
        run_inserts("baltimore-county", "bill-inserts", AFTER, tmp_path)
        pdf = (tmp_path / "inserts" / "installment-insert-baltimore-county-2027-05-01.pdf").read_bytes()
        assert find_words(_text("tp-4-201-2-a-1"), page_texts(pdf)) is not None
        meta = _metadata(pdf)
        assert meta["noticesedition"] == "2027-05-01"
        assert meta["noticesdate"] == "2027-05-01"
        hpp = (tmp_path / "inserts" / "hpp-insert-baltimore-county-2027-05-01.pdf").read_bytes()
        assert find_words(_text("tp-4-201-2-a-1"), page_texts(hpp)) is None
