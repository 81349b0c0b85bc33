"""The published JSON Schema for JSON Lines accepts what the tool accepts and names what it needs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conftest import CITY_JSONL, ROOT

from notices.inputs import ACCOUNT_FIELDS, LINE_FIELDS, REQUIRED_COLUMNS, REQUIRED_LINE_COLUMNS

SCHEMA_PATH = ROOT / "schemas" / "roll-account.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text("utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Any:
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture()
def account() -> dict[str, Any]:
    return json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])


def messages(validator: Any, instance: dict[str, Any]) -> list[str]:
    return [error.message for error in validator.iter_errors(instance)]


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    """The schema declares draft 2020-12 and is itself valid under it."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_sample_line_validates(validator: Any) -> None:
    """Each of the 67 lines of the JSON Lines sample is valid."""
    lines = CITY_JSONL.read_text("utf-8").splitlines()
    assert len(lines) == 67
    for number, line in enumerate(lines, start=1):
        assert messages(validator, json.loads(line)) == [], f"line {number}"


def test_missing_owner_name_fails(validator: Any, account: dict[str, Any]) -> None:
    """An object without owner_name is invalid, and the error names the property."""
    del account["owner_name"]
    assert any("owner_name" in m for m in messages(validator, account))


def test_schema_covers_the_reader(schema: dict[str, Any]) -> None:
    """Every field the reader takes is described, and the required ones are required."""
    assert set(ACCOUNT_FIELDS) | {"lines"} <= set(schema["properties"])
    assert set(schema["required"]) == set(REQUIRED_COLUMNS)
    assert schema["else"]["required"] == ["lines"]  # lines may be left out only by a sale-results row
    line = schema["$defs"]["taxLine"]
    assert set(LINE_FIELDS) <= set(line["properties"])
    assert set(line["required"]) == set(REQUIRED_LINE_COLUMNS)


@pytest.mark.parametrize("amount", ["1234.56", "12", "0.5", 1234.56, 12])
def test_money_as_string_or_number_is_valid(validator: Any, account: dict[str, Any], amount: Any) -> None:
    """Money may be a plain decimal string or a JSON number."""
    account["lines"][0]["amount"] = amount
    assert messages(validator, account) == []


@pytest.mark.parametrize("amount", ["1,234.56", "$12.00", "1.005", "-5.00", -5, "", None])
def test_bad_money_fails(validator: Any, account: dict[str, Any], amount: Any) -> None:
    """Commas, a dollar sign, three decimals, negatives and blanks are not amounts."""
    account["lines"][0]["amount"] = amount
    assert messages(validator, account) != []


@pytest.mark.parametrize("account_id", ["../../etc/passwd", "a/b", "a\\b", " "])
def test_path_in_account_id_fails(validator: Any, account: dict[str, Any], account_id: str) -> None:
    """An account id holding a path (or nothing) is invalid, as it is to the tool."""
    account["account_id"] = account_id
    assert messages(validator, account) != []


def test_additional_properties_are_allowed(validator: Any, account: dict[str, Any]) -> None:
    """Extra keys from the collector's system (on the account or a line) do not make an object invalid."""
    account["assessment"] = "123400"
    account["lines"][0]["bill_number"] = 42
    assert messages(validator, account) == []


def test_optional_keys_may_be_absent_or_null(validator: Any, account: dict[str, Any]) -> None:
    """Optional values may be left out or null, as the reader treats both as empty."""
    account["owner_name_2"] = None
    account["mailing_address_2"] = None
    account.pop("first_advertisement_date", None)
    for line in account["lines"]:
        line.pop("interest", None)
        line["penalty"] = None
    assert messages(validator, account) == []


def test_account_without_lines_fails(validator: Any, account: dict[str, Any]) -> None:
    """An account needs at least one tax line."""
    account["lines"] = []
    assert messages(validator, account) != []


def test_readme_points_at_the_schema() -> None:
    """The README's input format section names the schema file, which exists."""
    assert "schemas/roll-account.schema.json" in (ROOT / "README.md").read_text("utf-8")
    assert SCHEMA_PATH.is_file()


def test_lines_are_required_except_on_a_sale_results_row(validator: Any, account: dict[str, Any]) -> None:
    """A final-notice account without lines fails the schema; a sale-results row without lines passes."""
    del account["lines"]
    assert messages(validator, account)
    account["sale_date"] = "2027-05-12"
    assert not messages(validator, account)
