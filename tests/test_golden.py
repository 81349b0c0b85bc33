"""Chosen accounts of both collectors render as recorded in tests/golden/: text per page, page count,
page size and fonts (not PDF bytes, which change with every WeasyPrint upgrade).

On a mismatch the test writes ``<account>.obtained.json`` next to the expected file and fails with a
diff. Refresh the expected files, after checking the obtained ones, with NOTICES_REFRESH_GOLDEN=1.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_CSV, CITY_DATE, COUNTY_CSV, COUNTY_DATE, pdf_facts, subset_csv

from notices.batch import Options, run

GOLDEN = Path(__file__).resolve().parent / "golden"
REFRESH = os.environ.get("NOTICES_REFRESH_GOLDEN") == "1"
LONG = "20-03-2311-018"  # 24 lien lines: the itemized table runs past one page


@dataclass(frozen=True)
class Case:
    collector: str
    source: Path
    date: dt.date
    accounts: tuple[str, ...]


CASES = {
    "baltimore-city": Case("baltimore-city", CITY_CSV, CITY_DATE, (
        "26-01-6311-027",  # care-of line with a comma and double quotes
        LONG,
        "03-02-1768-009",  # accented names, two owners, ZIP+4
        "01-05-1871-006",  # apostrophe and ampersand
    )),
    "baltimore-county": Case("baltimore-county", COUNTY_CSV, COUNTY_DATE, (
        "0899406922",  # accented owner name
        "0953555487",  # a trust
        "0653095737",  # three tax lines
    )),
}
PARAMS = [(c, a) for c, case in CASES.items() for a in case.accounts]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, dict[str, Any]]]]:
    """Each collector's chosen accounts rendered once: (output folder, manifest rows by account)."""
    done = {}
    for name, case in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        source = subset_csv(case.source, case.accounts, folder / "roll.csv")
        summary = run(Options(source, folder / "out", case.collector, "final-notice", case.date, workers=1))
        assert summary.rendered == len(case.accounts), summary
        manifest = json.loads((folder / "out" / "manifest.json").read_text("utf-8"))
        done[name] = (folder / "out", {p["account_id"]: p for p in manifest["pieces"]})
    return done


def piece_bytes(runs: dict, collector: str, account: str) -> bytes:
    out, rows = runs[collector]
    return (out / "pieces" / rows[account]["piece_file"]).read_bytes()


def obtained_facts(runs: dict, collector: str, account: str) -> dict[str, Any]:
    """The golden record of one piece: its pages as text lines, sizes and fonts."""
    import io

    from pypdf import PdfReader

    pdf = piece_bytes(runs, collector, account)
    facts = pdf_facts(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    for page, raw in zip(facts["pages"], reader.pages, strict=True):
        # Stored as lines so a diff is readable; compared with whitespace folded (see ``comparable``).
        lines = [" ".join(line.split()) for line in (raw.extract_text() or "").splitlines()]
        page["lines"] = [line for line in lines if line]
        del page["text"]
    case = CASES[collector]
    return {
        "collector": collector,
        "account_id": account,
        "mailing": "final-notice",
        "date": case.date.isoformat(),
        "statement_pages": runs[collector][1][account]["statement_pages"],
        **facts,
    }


def comparable(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts with each page's text folded to single spaces: line breaks inside a page do not count."""
    pages = [{**p, "lines": " ".join(" ".join(p["lines"]).split())} for p in facts["pages"]]
    return {**facts, "pages": pages}


def dump(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(("collector", "account"), PARAMS, ids=[f"{c}-{a}" for c, a in PARAMS])
def test_piece_matches_golden(runs: dict, collector: str, account: str) -> None:
    """The piece's page count, page sizes, fonts and text per page equal the golden file."""
    expected_path = GOLDEN / collector / f"{account}.json"
    obtained_path = expected_path.with_name(f"{account}.obtained.json")
    obtained = obtained_facts(runs, collector, account)
    if REFRESH:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        expected_path.write_text(dump(obtained), "utf-8")
        obtained_path.unlink(missing_ok=True)
        return
    if not expected_path.exists():
        obtained_path.parent.mkdir(parents=True, exist_ok=True)
        obtained_path.write_text(dump(obtained), "utf-8")
        pytest.fail(f"no golden file {expected_path}; check {obtained_path} and run with NOTICES_REFRESH_GOLDEN=1")
    expected = json.loads(expected_path.read_text("utf-8"))
    if comparable(expected) == comparable(obtained):
        obtained_path.unlink(missing_ok=True)
        return
    obtained_path.write_text(dump(obtained), "utf-8")
    diff = "".join(difflib.unified_diff(dump(expected).splitlines(True), dump(obtained).splitlines(True),
                                        str(expected_path), str(obtained_path), n=2))
    pytest.fail(f"{collector} {account} differs from its golden file (obtained written to {obtained_path};"
                f" refresh with NOTICES_REFRESH_GOLDEN=1 once it is right):\n{diff}", pytrace=False)


def test_every_golden_file_is_still_used() -> None:
    """No golden file is left over from an account this test no longer renders, and no obtained file is committed."""
    wanted = {GOLDEN / c / f"{a}.json" for c, a in PARAMS}
    present = set(GOLDEN.glob("*/*.json"))
    assert {p for p in present if not p.name.endswith(".obtained.json")} <= wanted
    if not REFRESH:
        assert wanted <= present


@pytest.mark.parametrize(("collector", "account"), PARAMS, ids=[f"{c}-{a}" for c, a in PARAMS])
def test_insert_starts_on_its_own_sheet(runs: dict, collector: str, account: str) -> None:
    """The statement is padded to an even number of pages, so the insert begins on the front of a new sheet."""
    facts = pdf_facts(piece_bytes(runs, collector, account))
    statement = runs[collector][1][account]["statement_pages"]
    padded = statement + statement % 2
    texts = [p["text"] for p in facts["pages"]]
    assert all(f"Account {account}" in t for t in texts[:statement])
    if padded > statement:
        assert texts[statement] == "", "the padding page must be blank"
    assert f"Account {account}" not in texts[padded], "the insert must not share a sheet with the statement"
    assert "Tax sale insert" in texts[padded]
    assert facts["page_count"] % 2 == 0, "each piece must end a sheet, so the next starts on a front"


@pytest.mark.parametrize("collector", list(CASES))
def test_pieces_start_on_odd_pages_of_the_print_file(runs: dict, collector: str) -> None:
    """In the print file every piece starts on an odd page (a front side), in mailing order."""
    _, rows = runs[collector]
    firsts = [rows[a]["print_first_page"] for a in CASES[collector].accounts]
    assert firsts == sorted(firsts)
    assert all(first % 2 == 1 for first in firsts)


class TestLongList:
    def statement_texts(self, runs: dict) -> list[str]:
        pages = pdf_facts(piece_bytes(runs, "baltimore-city", LONG))["pages"]
        return [p["text"] for p in pages[: runs["baltimore-city"][1][LONG]["statement_pages"]]]

    def test_runs_past_one_page_with_page_x_of_y(self, runs: dict) -> None:
        """The 24-line statement runs past one page, and each page says 'Page X of Y' with Y its own page count."""
        texts = self.statement_texts(runs)
        total = len(texts)
        assert total >= 2
        for number, text in enumerate(texts, start=1):
            assert f"Page {number} of {total}" in text

    def test_fits_two_pages(self, runs: dict) -> None:
        """The 24-line statement takes two pages (one duplex sheet): 'Page 1 of 2' and 'Page 2 of 2'."""
        texts = self.statement_texts(runs)
        assert len(texts) == 2
        assert "Page 1 of 2" in texts[0] and "Page 2 of 2" in texts[1]

    def test_table_headers_repeat_on_page_two(self, runs: dict) -> None:
        """The itemized table's header row is printed again at the top of page 2."""
        first, second = self.statement_texts(runs)[:2]
        assert "Source Period Amount" in first
        assert second.startswith("Source Period Amount")

    def test_every_line_and_the_total_are_printed(self, runs: dict) -> None:
        """All 24 lines' periods and the total appear across the statement pages."""
        text = " ".join(self.statement_texts(runs))
        for period in ("FY 2027", "2024-Q4", "2026-Q4", "ECB 5790412", "Property registration 2026"):
            assert period in text
        assert re.search(r"Total due \$22,336\.01", text)

    def test_short_statements_say_page_1_of_1(self, runs: dict) -> None:
        """A statement that fits one page is numbered 'Page 1 of 1'."""
        pages = pdf_facts(piece_bytes(runs, "baltimore-city", "03-02-1768-009"))["pages"]
        assert "Page 1 of 1" in pages[0]["text"]
