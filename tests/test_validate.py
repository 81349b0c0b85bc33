"""Validating one account: every bad value is rejected with its file, line and field, never corrected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CITY_DATE, CITY_JSONL, csv_text, row

from notices.inputs import read_accounts
from notices.model import Record, Rejection
from notices.resources import printable
from notices.validate import Rules, validate

RULES = Rules(CITY_DATE, printable=printable)


def one(tmp_path: Path, *rows: dict[str, str]) -> Record | Rejection:
    """Validate the single account the rows make."""
    path = tmp_path / "roll.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    [raw] = read_accounts(path)
    return validate(raw, RULES)


def where(result: Record | Rejection) -> list[tuple[int | None, str | None]]:
    """The (line, field) of each problem of a rejection."""
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return [(p.line, p.field) for p in result.problems]


def test_good_row_is_a_record(tmp_path: Path) -> None:
    """The baseline row the other tests spoil is itself valid."""
    assert isinstance(one(tmp_path, row()), Record)


def test_rejection_names_the_file(tmp_path: Path) -> None:
    """Every problem carries the path of the file it came from."""
    result = one(tmp_path, row(owner_name=""))
    assert isinstance(result, Rejection)
    assert {p.file for p in result.problems} == {str(tmp_path / "roll.csv")}


@pytest.mark.parametrize(
    "field", ["account_id", "owner_name", "mailing_address_1", "mailing_city", "mailing_state", "mailing_zip",
              "property_address"],
)
def test_missing_account_value_is_rejected(tmp_path: Path, field: str) -> None:
    """An empty required account cell rejects the account, naming the field and its line."""
    assert where(one(tmp_path, row(**{field: ""}))) == [(2, field)]


@pytest.mark.parametrize("field", ["source", "period", "amount"])
def test_missing_line_value_is_rejected(tmp_path: Path, field: str) -> None:
    """An empty required cell of a tax line rejects the account, naming the line that lacks it."""
    assert where(one(tmp_path, row(), row(**{"period": "FY 2026", field: ""}))) == [(3, field)]


def test_missing_optional_values_default(tmp_path: Path) -> None:
    """Empty interest and penalty count as 0, and empty optional names are left out."""
    record = one(tmp_path, row(amount="50.00", interest="", penalty="", owner_name_2="", mailing_address_2=""))
    assert isinstance(record, Record)
    assert record.owners == ("ANN LEE",)
    assert str(record.total_due) == "50.00"


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1,234.56", "no $ or commas"),
        ("$12.00", "no $ or commas"),
        ("1.005", "at most 2 decimals"),
        ("12,34x", "not an amount"),
        ("1e3", "not an amount"),
        ("-125.00", "must not be negative"),
    ],
)
def test_bad_money_is_rejected(tmp_path: Path, amount: str, reason: str) -> None:
    """Commas, dollar signs, three decimals, exponents and negatives are rejected on the line that holds them."""
    result = one(tmp_path, row(), row(period="FY 2026", amount=amount))
    assert where(result) == [(3, "amount")]
    assert reason in result.problems[0].reason  # type: ignore[union-attr]
    assert result.problems[0].value == amount  # type: ignore[union-attr]


@pytest.mark.parametrize("field", ["interest", "penalty"])
def test_bad_interest_or_penalty_is_rejected(tmp_path: Path, field: str) -> None:
    """Interest and penalty follow the same money rules as the amount."""
    assert where(one(tmp_path, row(**{field: "3.333"}))) == [(2, field)]


def test_money_keeps_its_cents_exactly(tmp_path: Path) -> None:
    """Amounts are Decimal to the cent, so 0.10 + 0.20 is exactly 0.30."""
    record = one(tmp_path, row(amount="0.1", interest="0.20", penalty="0"))
    assert isinstance(record, Record)
    assert str(record.total_due) == "0.30"


def jsonl_account(tmp_path: Path, **changes: object) -> Record | Rejection:
    """Validate the first account of the JSON Lines sample with some keys changed."""
    account = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
    account.update(changes)
    path = tmp_path / "roll.jsonl"
    path.write_text(json.dumps(account) + "\n", encoding="utf-8")
    [raw] = read_accounts(path)
    return validate(raw, RULES)


class TestTotalDue:
    LINES = [{"source": "Real property tax", "period": "FY 2027", "amount": "100.00", "interest": "4.00", "penalty": "2.00"}]

    def test_total_that_agrees_is_accepted(self, tmp_path: Path) -> None:
        """A stated total equal to amount + interest + penalty is fine."""
        record = jsonl_account(tmp_path, lines=self.LINES, total_due="106.00")
        assert isinstance(record, Record)
        assert str(record.total_due) == "106.00"

    def test_total_that_disagrees_is_rejected_not_corrected(self, tmp_path: Path) -> None:
        """A stated total one cent off rejects the account; it is never replaced by the computed one."""
        result = jsonl_account(tmp_path, lines=self.LINES, total_due="106.01")
        assert where(result) == [(1, "total_due")]
        assert "106.00" in result.problems[0].reason  # type: ignore[union-attr]
        assert result.problems[0].value == "106.01"  # type: ignore[union-attr]

    def test_total_in_a_csv_column_is_checked(self, tmp_path: Path) -> None:
        """The optional total_due column of a CSV is checked against the account's rows."""
        path = tmp_path / "roll.csv"
        columns = ("account_id", "owner_name", "mailing_address_1", "mailing_city", "mailing_state", "mailing_zip",
                   "property_address", "total_due", "source", "period", "amount")
        path.write_text(csv_text([row(total_due="150.00"), row(total_due="150.00", period="FY 2026", amount="40.00")],
                                 columns), encoding="utf-8")
        [raw] = read_accounts(path)
        result = validate(raw, RULES)
        assert where(result) == [(2, "total_due")]

    def test_zero_total_is_rejected(self, tmp_path: Path) -> None:
        """An account whose lines sum to nothing has nothing to sell a lien for."""
        assert where(one(tmp_path, row(amount="0.00"))) == [(2, "amount")]


def test_rows_that_disagree_are_rejected(tmp_path: Path) -> None:
    """Two rows of one account with different owner names reject it, naming the second row and the field."""
    result = one(tmp_path, row(owner_name="TANYA R BOYD"), row(owner_name="TANYA BOYD", period="FY 2026"))
    assert where(result) == [(3, "owner_name")]
    assert result.problems[0].value == "TANYA BOYD"  # type: ignore[union-attr]
    assert "line 2" in result.problems[0].reason  # type: ignore[union-attr]


def test_rows_may_differ_only_in_line_fields(tmp_path: Path) -> None:
    """Rows of one account that differ only in source, period and money are one account with several lines."""
    record = one(tmp_path, row(), row(source="Water and sewer", period="2026-Q4", amount="20.00", interest="1.00"))
    assert isinstance(record, Record)
    assert len(record.lines) == 2


@pytest.mark.parametrize("account_id", ["../../etc/passwd", "a/b", "..", "C:\\Windows\\x", "01..02"])
def test_account_id_holding_a_path_is_rejected(tmp_path: Path, account_id: str) -> None:
    """An account id with a slash, a backslash or '..' is rejected: it could steer a file name."""
    assert where(one(tmp_path, row(account_id=account_id))) == [(2, "account_id")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner_name", "ANN\x07LEE"),
        ("owner_name", "ANN\tLEE"),
        ("mailing_address_1", "1 MAIN\x1bST"),
        ("property_address", "1 MAIN\u200bST"),  # zero-width space: invisible on paper
        ("owner_name", "ANN\u202eEEL"),  # right-to-left override: would print backwards
    ],
)
def test_control_characters_are_rejected(tmp_path: Path, field: str, value: str) -> None:
    """Control and invisible format characters are rejected on their field."""
    result = one(tmp_path, row(**{field: value}))
    assert where(result) == [(2, field)]
    assert "control or invisible" in result.problems[0].reason  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "bad"), [("王小明", "王"), ("ANN 🏠 LEE", "🏠"), ("𝒜NN LEE", "𝒜")])
def test_unprintable_characters_are_rejected_by_name(tmp_path: Path, name: str, bad: str) -> None:
    """A character the bundled fonts lack (CJK, an emoji) is rejected, naming the character and its code point."""
    result = one(tmp_path, row(owner_name=name))
    assert where(result) == [(2, "owner_name")]
    reason = result.problems[0].reason  # type: ignore[union-attr]
    assert repr(bad) in reason
    assert f"U+{ord(bad):04X}" in reason


@pytest.mark.parametrize("name", ["José Núñez", "Zoë Ångström", "Nguyễn Thị Hoa", "O'BRIEN & SONS"])
def test_accented_names_are_printable(tmp_path: Path, name: str) -> None:
    """Latin names with accents, Vietnamese diacritics and punctuation are accepted."""
    record = one(tmp_path, row(owner_name=name))
    assert isinstance(record, Record)
    assert record.owners == (name,)


@pytest.mark.parametrize(
    ("date", "ok"),
    [("2027-02-11", False), ("2027-03-02", False), ("2027-03-03", True), ("2027-03-08", True), ("", True)],
)
def test_first_advertisement_at_least_30_days_after_the_notice(tmp_path: Path, date: str, ok: bool) -> None:
    """An advertisement fewer than 30 days after 2027-02-01 is rejected; 30 days (2027-03-03) or none is fine."""
    result = one(tmp_path, row(first_advertisement_date=date))
    if ok:
        assert isinstance(result, Record)
    else:
        assert where(result) == [(2, "first_advertisement_date")]
        assert "30 days" in result.problems[0].reason  # type: ignore[union-attr]


def test_advertisement_date_must_be_a_date(tmp_path: Path) -> None:
    """A date not in YYYY-MM-DD form is rejected on its field."""
    assert where(one(tmp_path, row(first_advertisement_date="03/15/2027"))) == [(2, "first_advertisement_date")]


@pytest.mark.parametrize(("field", "value"), [("mailing_state", "Maryland"), ("mailing_state", "XX"),
                                              ("mailing_zip", "2120"), ("mailing_zip", "21201-12")])
def test_bad_state_or_zip_is_rejected(tmp_path: Path, field: str, value: str) -> None:
    """A state that is not a USPS code, or a ZIP that is not 5 or 5+4 digits, is rejected with the value given."""
    result = one(tmp_path, row(**{field: value}))
    assert where(result) == [(2, field)]
    assert result.problems[0].value == value  # type: ignore[union-attr]


def test_every_problem_of_an_account_is_reported(tmp_path: Path) -> None:
    """Validation gathers all problems, not just the first, so one pass fixes the record."""
    result = one(tmp_path, row(owner_name="", mailing_zip="1", amount="1.005"))
    assert sorted(where(result)) == [(2, "amount"), (2, "mailing_zip"), (2, "owner_name")]


def test_overlong_name_is_rejected(tmp_path: Path) -> None:
    """A value longer than the notice can print is rejected on its field."""
    assert where(one(tmp_path, row(owner_name="A" * 201))) == [(2, "owner_name")]
