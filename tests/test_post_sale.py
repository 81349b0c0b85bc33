"""The notice after tax sale (Tax-Property § 14-817.1): every item of (a), the law by date, the 60 days, the insert."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import job_for

from notices import Options, run
from notices.collectors import load_collector
from notices.compliance import check_composed, find_words, fold, page_texts
from notices.deadlines import months_after, statement_dates
from notices.inputs import read_accounts
from notices.model import Record, Rejection
from notices.resolve import plan
from notices.statutes import load_registry
from notices.validate import Rules, validate

ROOT = Path(__file__).resolve().parent.parent
SALES = ROOT / "samples/baltimore-city-sale-results.csv"
NOTICE_DATE = dt.date(2027, 7, 1)
SALE_DATE = dt.date(2027, 5, 12)
STATEMENT = "post-sale-statement"

SALE_COLUMNS = (
    "account_id", "owner_name", "mailing_address_1", "mailing_city", "mailing_state", "mailing_zip", "property_address",
    "sale_date", "highest_bid", "lien_amount", "redemption_before_filing", "redemption_after_filing", "owner_occupied",
)
SALE_ROW = {
    "account_id": "11-22-3333-044", "owner_name": "ROSA DIAZ", "mailing_address_1": "12 N CHESTER ST",
    "mailing_city": "BALTIMORE", "mailing_state": "MD", "mailing_zip": "21231", "property_address": "12 N CHESTER ST",
    "sale_date": "2027-05-12", "highest_bid": "1500.00", "lien_amount": "1200.00", "redemption_before_filing": "1220.00",
    "redemption_after_filing": "2700.00", "owner_occupied": "yes",
}


def _write(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = SALE_COLUMNS) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for item in rows:
        writer.writerow([item.get(c, "") for c in columns])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _records(path: Path, day: dt.date) -> list[Record | Rejection]:
    return [validate(raw, Rules(day, post_sale=True)) for raw in read_accounts(path)]


class _BlockText(HTMLParser):
    """The text of each element that carries a data-block marker (a block's words, as composed)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.texts: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        block = dict(attrs).get("data-block")
        self.open.append((tag, block))
        if block:
            self.texts.setdefault(block, "")
        self.handle_data(" ")  # a table cell or a list item ends a word, as it does on the page

    def handle_endtag(self, tag: str) -> None:
        self.handle_data(" ")
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, block in self.open:
            if block:
                self.texts[block] += data


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("post-sale")
    summary = run(Options(SALES, out, "baltimore-city", "post-sale-notice", NOTICE_DATE, workers=1))
    return out, summary


class TestSample:
    def test_every_sale_result_renders_with_the_insert(self, sample_run: tuple[Path, object]) -> None:
        """The City sale-results sample renders every account for a 2027-07-01 notice, statement then insert."""
        out, summary = sample_run
        assert summary.balanced and summary.rendered == summary.records_in == 10  # type: ignore[attr-defined]
        assert summary.documents == ["post-sale-statement", "tax-sale-insert"]  # type: ignore[attr-defined]
        pieces = json.loads((out / "manifest.json").read_text())["pieces"]
        assert all(p["pages"] > p["statement_pages"] for p in pieces)

    def test_the_insert_is_the_ten_item_edition_in_force_on_2027_07_01(self, sample_run: tuple[Path, object]) -> None:
        """A notice dated 2027-07-01 carries the § 14-812(b) insert of Chapter 108 of 2025: items 1-10, installment item 9."""
        out, summary = sample_run
        assert summary.edition == "2027-05-01"  # type: ignore[attr-defined]
        piece = json.loads((out / "manifest.json").read_text())["pieces"][0]
        blocks = piece["blocks"].split()
        assert {"tp-14-812-b-9-i", "tp-14-812-b-9-ii", "tp-14-812-b-9-iii", "tp-14-812-b-10"} <= set(blocks)
        assert "tp-14-812-b-9-other" not in blocks
        texts = page_texts((out / "pieces" / piece["piece_file"]).read_bytes())
        insert_text = texts[piece["statement_pages"]:]
        registry = load_registry()
        for block_id in ("tp-14-812-b-2", "tp-14-812-b-6-i", "tp-14-812-b-8-i", "tp-14-812-b-9-i"):
            assert find_words(registry.block(block_id).text, insert_text) is not None, block_id

    def test_every_817_1_a_item_is_marked_in_the_html_and_worded_in_the_pdf(self, sample_run: tuple[Path, object]) -> None:
        """Each § 14-817.1 block in force is in the composed HTML, in order, and its words are in the piece's PDF text."""
        out, _ = sample_run
        job = job_for("baltimore-city", "post-sale-notice", NOTICE_DATE)
        part = job.plan.part(STATEMENT)
        expected = ["tp-14-817-1-a-sold", "tp-14-817-1-a-date", "tp-14-817-1-a-bid", "tp-14-817-1-a-lien",
                    "tp-14-817-1-a-redeem", "tp-14-817-1-a-foreclose", "tp-14-817-1-a-7-2026", "tp-14-817-1-a-fees",
                    "tp-14-817-1-a-after", "tp-14-817-1-c"]
        assert list(part.block_ids) == expected
        pieces = json.loads((out / "manifest.json").read_text())["pieces"]
        for seq, record in enumerate(_records(SALES, NOTICE_DATE), start=1):
            assert isinstance(record, Record)
            html = job.composer.fragment(part, record, seq=seq, pages=1, **statement_dates(job.collector, job.plan.day, record))
            assert check_composed(html, part) == []
            parser = _BlockText()
            parser.feed(html)
            assert list(parser.texts) == expected
            texts = page_texts((out / "pieces" / pieces[seq - 1]["piece_file"]).read_bytes())
            statement_text = texts[: pieces[seq - 1]["statement_pages"]]
            for block_id, words in parser.texts.items():
                assert fold(words), block_id
                assert find_words(words, statement_text) is not None, (record.account_id, block_id)

    def test_the_notice_prints_the_sale_figures_and_the_dates_counted_from_the_sale(self, sample_run: tuple[Path, object]) -> None:
        """The first piece shows the sale date, bid, lien, both redemption amounts, and the 4- and 6-month dates."""
        out, _ = sample_run
        piece = json.loads((out / "manifest.json").read_text())["pieces"][0]
        texts = page_texts((out / "pieces" / piece["piece_file"]).read_bytes())
        for needle in ("May 12, 2027", "$2,900.00", "$2,446.41", "$2,486.62", "$3,936.62",
                       "on or after November 12, 2027.", "(after September 12, 2027)", "$250.00;", "$500.00.",
                       "CHESAPEAKE LIEN HOLDINGS LLC"):
            assert find_words(needle, texts) is not None, needle


class TestLawByDate:
    @pytest.mark.parametrize(("day", "block_id", "other"), [
        (dt.date(2025, 12, 31), "tp-14-817-1-a-7", "tp-14-817-1-a-7-2026"),
        (dt.date(2026, 1, 1), "tp-14-817-1-a-7-2026", "tp-14-817-1-a-7"),
    ])
    def test_a_7_follows_chapter_231_of_2025_from_2026_01_01(self, tmp_path: Path, day: dt.date, block_id: str, other: str) -> None:
        """A notice dated 2025-12-31 states the old (a)(7); one dated 2026-01-01 the owner-occupied rule of Chapter 231."""
        sale = (day - dt.timedelta(days=40)).isoformat()
        records = _records(_write(tmp_path / "s.csv", [{**SALE_ROW, "sale_date": sale}]), day)
        assert isinstance(records[0], Record)
        job = job_for("baltimore-city", "post-sale-notice", day)
        part = job.plan.part(STATEMENT)
        assert block_id in part.block_ids and other not in part.block_ids
        html = job.composer.fragment(part, records[0], seq=1, pages=1, **statement_dates(job.collector, job.plan.day, records[0]))
        assert check_composed(html, part) == []
        assert f'data-block="{block_id}"' in html and f'data-block="{other}"' not in html
        owner_occupied_rule = "taxes accruing after the sale are not part of the amount to redeem"
        assert (owner_occupied_rule in html) == (block_id == "tp-14-817-1-a-7-2026")

    def test_the_insert_before_2027_05_01_is_the_nine_item_edition(self) -> None:
        """A notice after the 2026 sale (dated 2026-07-01) carries the insert without the installment item."""
        the_plan = plan(load_collector("baltimore-city"), "post-sale-notice", dt.date(2026, 7, 1))
        blocks = the_plan.part("tax-sale-insert").block_ids
        assert "tp-14-812-b-9-other" in blocks and "tp-14-812-b-9-i" not in blocks


class TestSixtyDays:
    @pytest.mark.parametrize(("sale", "ok"), [("2027-05-02", True), ("2027-05-01", False), ("2027-07-01", True), ("2027-07-02", False)])
    def test_a_notice_more_than_60_days_after_the_sale_is_rejected(self, tmp_path: Path, sale: str, ok: bool) -> None:
        """60 days after the sale (2027-05-02 to 2027-07-01) passes; 61 days, or a sale after the notice date, is rejected."""
        record = _records(_write(tmp_path / "s.csv", [{**SALE_ROW, "sale_date": sale}]), NOTICE_DATE)[0]
        assert isinstance(record, Record) == ok
        if not ok:
            assert isinstance(record, Rejection)
            assert [p.field for p in record.problems] == ["sale_date"]

    def test_the_rejection_says_why_and_cites_the_statute(self, tmp_path: Path) -> None:
        """The reason names the 60 days, the statute and how late the notice is."""
        record = _records(_write(tmp_path / "s.csv", [{**SALE_ROW, "sale_date": "2027-04-01"}]), NOTICE_DATE)[0]
        assert isinstance(record, Rejection)
        assert "within 60 days" in record.reason and "§ 14-817.1(a)" in record.reason and "91 days" in record.reason

    def test_a_late_run_rejects_every_account_and_prints_nothing(self, tmp_path: Path) -> None:
        """Rendering the May 12 sample on 2027-07-12 (61 days) rejects all ten accounts."""
        summary = run(Options(SALES, tmp_path, "baltimore-city", "post-sale-notice", dt.date(2027, 7, 12), workers=1))
        assert summary.balanced and summary.rejected == summary.records_in == 10 and summary.rendered == 0


class TestSaleResultsFormat:
    def test_an_export_without_tax_line_columns_is_read(self, tmp_path: Path) -> None:
        """A sale-results export needs no source/period/amount columns: the lien is then printed without itemization."""
        record = _records(_write(tmp_path / "s.csv", [SALE_ROW]), NOTICE_DATE)[0]
        assert isinstance(record, Record) and record.lines == ()
        assert record.sale is not None and record.sale.lien_amount == 1200 and record.sale.owner_occupied

    def test_a_json_lines_sale_result_may_leave_out_its_lines(self, tmp_path: Path) -> None:
        """In JSON Lines a sale result without a "lines" key is valid for the notice after tax sale, not for a final notice."""
        path = tmp_path / "s.jsonl"
        path.write_text(json.dumps(SALE_ROW) + "\n", encoding="utf-8")
        (raw,) = read_accounts(path)
        assert isinstance(validate(raw, Rules(NOTICE_DATE, post_sale=True)), Record)
        assert isinstance(validate(raw, Rules(dt.date(2027, 2, 1))), Rejection)

    def test_tax_lines_must_add_up_to_the_lien_amount(self, tmp_path: Path) -> None:
        """Lines itemize the lien at the time of sale: lines that sum to something else are a rejection."""
        columns = (*SALE_COLUMNS, "source", "period", "amount")
        good = _records(_write(tmp_path / "a.csv", [{**SALE_ROW, "source": "Real property tax", "period": "FY 2027", "amount": "1200.00"}], columns), NOTICE_DATE)[0]
        bad = _records(_write(tmp_path / "b.csv", [{**SALE_ROW, "source": "Real property tax", "period": "FY 2027", "amount": "1100.00"}], columns), NOTICE_DATE)[0]
        assert isinstance(good, Record) and len(good.lines) == 1
        assert isinstance(bad, Rejection) and [p.field for p in bad.problems] == ["lien_amount"]

    @pytest.mark.parametrize("field", ["sale_date", "highest_bid", "lien_amount", "redemption_before_filing", "redemption_after_filing"])
    def test_each_sale_figure_is_required(self, tmp_path: Path, field: str) -> None:
        """A sale-results row without one of the figures the notice must state is rejected, naming the field."""
        record = _records(_write(tmp_path / "s.csv", [{**SALE_ROW, field: ""}]), NOTICE_DATE)[0]
        assert isinstance(record, Rejection) and field in [p.field for p in record.problems]

    def test_a_final_notice_still_needs_tax_lines(self, tmp_path: Path) -> None:
        """Only the notice after tax sale may go without lines: a final notice for the same row is rejected."""
        raw = read_accounts(_write(tmp_path / "s.csv", [SALE_ROW]))[0]
        record = validate(raw, Rules(dt.date(2027, 2, 1)))
        assert isinstance(record, Rejection) and "account has no tax lines" in record.reason


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2027, 5, 12), 6, dt.date(2027, 11, 12)),
    (dt.date(2027, 8, 31), 6, dt.date(2028, 2, 29)),
    (dt.date(2027, 10, 31), 4, dt.date(2028, 2, 29)),
    (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
])
def test_months_after_the_sale_end_on_the_same_day_or_the_month_end(day: dt.date, months: int, expected: dt.date) -> None:
    """"6 months from the sale" lands on the same day of the month, or the month's last day when there is none."""
    assert months_after(day, months) == expected
