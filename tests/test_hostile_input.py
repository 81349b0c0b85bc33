"""Hostile and damaged exports: every account ends as a record or a clear rejection, a broken file is refused, nothing crashes."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import BAD_ROLL, CITY_CSV, CITY_DATE, CITY_JSONL, ROOT, csv_text, read_csv, row

from notices.control import Control, file_total, read_control, reconcile
from notices.errors import InputError
from notices.formatting import money, number
from notices.inputs import read_accounts
from notices.model import Record, Rejection
from notices.resources import printable
from notices.validate import MAX_AMOUNT, MAX_TOTAL, Rules, validate

RULES = Rules(CITY_DATE, printable=printable)


def checked(path: Path, **kwargs: str) -> list[Record | Rejection]:
    """Read and validate every account of a file, as a run does."""
    return [validate(raw, RULES) for raw in read_accounts(path, **kwargs)]


def csv_file(tmp_path: Path, *rows: dict[str, str]) -> Path:
    """A CSV roll export of these rows."""
    path = tmp_path / "roll.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def account(**changes: Any) -> dict[str, Any]:
    """The first account of the JSON Lines sample, with some keys changed."""
    data: dict[str, Any] = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
    data.update(changes)
    return data


def jsonl_file(tmp_path: Path, *lines: str) -> Path:
    """A JSON Lines roll export of these lines, each ended by a line break."""
    path = tmp_path / "roll.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def problems(result: Record | Rejection) -> list[tuple[int | None, str | None]]:
    """The (line, field) of each problem of a rejection."""
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return [(p.line, p.field) for p in result.problems]


def reasons(result: Record | Rejection) -> str:
    """A rejection's reasons, joined, to search in."""
    assert isinstance(result, Rejection), f"expected a rejection, got {result!r}"
    return " | ".join(p.reason for p in result.problems)


class TestRepeatedRows:
    def test_exact_repeated_csv_row_rejects_the_account_instead_of_doubling_it(self, tmp_path: Path) -> None:
        """A row repeated in every column rejects its account, naming both lines, rather than adding the amount twice."""
        path = csv_file(tmp_path, row(), row(period="FY 2026"), row(), row(account_id="B-2"))
        first, other = checked(path)
        assert problems(first) == [(4, None)]
        assert "line 4 repeats line 2 exactly" in reasons(first)
        assert isinstance(other, Record)

    def test_row_repeated_with_only_spaces_added_is_still_a_repeat(self, tmp_path: Path) -> None:
        """Cells that differ only in surrounding spaces are the same tax line, and are rejected as a repeat."""
        path = csv_file(tmp_path, row(), row(amount=" 100.00 "))
        assert problems(checked(path)[0]) == [(3, None)]

    def test_same_tax_line_twice_in_a_json_object_is_rejected(self, tmp_path: Path) -> None:
        """A JSON Lines account listing one tax line twice is rejected on 'lines', naming both places."""
        line = {"source": "Real property tax", "period": "FY 2027", "amount": "10.00"}
        path = jsonl_file(tmp_path, json.dumps(account(lines=[line, line])))
        [result] = checked(path)
        assert problems(result) == [(1, "lines")]
        assert "tax line 2 repeats tax line 1" in reasons(result)


class TestDuplicateJsonKeys:
    @pytest.mark.parametrize("key", ["owner_name", "account_id", "mailing_zip"])
    def test_key_given_twice_in_an_account_rejects_it_naming_the_key(self, tmp_path: Path, key: str) -> None:
        """An object naming an account key twice is rejected on that key, since json would silently keep the last."""
        text = json.dumps(account())
        path = jsonl_file(tmp_path, text[:-1] + f', "{key}": "21201"}}')
        [result] = checked(path)
        assert (1, key) in problems(result)
        assert f"'{key}' 2 times" in reasons(result)

    def test_amount_given_twice_in_a_tax_line_rejects_the_account(self, tmp_path: Path) -> None:
        """A tax line naming 'amount' twice is rejected on 'amount', and says which tax line."""
        text = json.dumps(account(lines=[{"source": "Real property tax", "period": "FY 2027", "amount": "10.00"}]))
        path = jsonl_file(tmp_path, text.replace('"amount": "10.00"', '"amount": "10.00", "amount": "1000.00"'))
        [result] = checked(path)
        assert problems(result) == [(1, "amount")]
        assert "tax line 1 gives the key 'amount' 2 times" in reasons(result)


class TestAccountIds:
    def test_cyrillic_letter_in_an_id_is_rejected_by_name(self, tmp_path: Path) -> None:
        """An id holding Cyrillic 'Р' (it prints like Latin 'P') is rejected, naming the character."""
        [result] = checked(csv_file(tmp_path, row(account_id="\u0420-01-0001")))
        assert problems(result) == [(2, "account_id")]
        assert "U+0420 CYRILLIC CAPITAL LETTER ER" in reasons(result)

    def test_look_alike_id_rejects_the_latin_twin_too(self, tmp_path: Path) -> None:
        """'Р-1' beside 'P-1' rejects both, each naming the other's line: the rows may be one account split in two."""
        first, second = checked(csv_file(tmp_path, row(account_id="\u0420-1"), row(account_id="P-1")))
        assert "'P-1' on line 3" in reasons(first)
        assert problems(second) == [(3, "account_id")]
        assert "'\u0420-1' on line 2" in reasons(second)

    @pytest.mark.parametrize(("one", "other"), [
        ("AB-1", "ab-1"),
        ("AB 1", "AB  1"),
        ("\uff21\uff22-1", "AB-1"),  # fullwidth letters, equal under NFKC
        (unicodedata.normalize("NFC", "\u00c9-1"), unicodedata.normalize("NFD", "\u00c9-1")),
    ])
    def test_ids_equal_but_for_case_spacing_or_unicode_form_give_no_notice(self, tmp_path: Path, one: str, other: str) -> None:
        """Two ids that differ only in case, spacing or Unicode form are both rejected, each naming the other's line."""
        path = jsonl_file(tmp_path, json.dumps(account(account_id=one)), json.dumps(account(account_id=other)))
        first, second = checked(path)
        assert (1, "account_id") in problems(first) and "on line 2" in reasons(first)
        assert (2, "account_id") in problems(second) and "on line 1" in reasons(second)

    @pytest.mark.parametrize("account_id", ["../x", "a/b", "a\\b", "x\u0000y", "\u0000"])
    def test_id_that_could_steer_a_file_name_is_rejected(self, tmp_path: Path, account_id: str) -> None:
        """Ids with a path or a NUL (possible inside a JSON string) are rejected on account_id."""
        [result] = checked(jsonl_file(tmp_path, json.dumps(account(account_id=account_id))))
        assert problems(result) == [(1, "account_id")]

    def test_id_given_as_a_json_number_is_rejected(self, tmp_path: Path) -> None:
        """A numeric JSON id (which would lose its leading zeros) is rejected on account_id."""
        [result] = checked(jsonl_file(tmp_path, json.dumps(account(account_id=1010001))))
        assert problems(result) == [(1, "account_id")]
        assert "JSON string" in reasons(result)


class TestGarbledText:
    @pytest.mark.parametrize(("field", "value", "shown"), [
        ("owner_name", "JOS\u00c3\u00a9 GARCIA", "'Ã©' looks like 'é'"),
        ("property_address", "12 CAF\u00c3\u00a9 ST", "'Ã©' looks like 'é'"),
        ("owner_name", "O\u00e2\u20ac\u2122BRIEN", "'â€™' looks like '’'"),
        ("mailing_city", "BALTIMORE \u00c3\u0081", "looks like 'Á'"),  # Latin-1's C1 control, not cp1252's
    ])
    def test_mojibake_in_a_printed_field_is_rejected_with_the_encoding_advice(self, tmp_path: Path, field: str, value: str,
                                                                             shown: str) -> None:
        """UTF-8 read as Windows-1252 in any printed field is rejected, saying what it meant and suggesting --encoding."""
        [result] = checked(csv_file(tmp_path, row(**{field: value})))
        assert problems(result) == [(2, field)]
        assert shown in reasons(result)
        assert "--encoding utf-8" in reasons(result)

    def test_replacement_character_is_rejected_with_the_encoding_advice(self, tmp_path: Path) -> None:
        """U+FFFD, left where a converter lost a letter, is rejected and points at --encoding."""
        [result] = checked(csv_file(tmp_path, row(owner_name="JOS\ufffd GARCIA")))
        assert problems(result) == [(2, "owner_name")]
        assert "U+FFFD" in reasons(result) and "--encoding" in reasons(result)

    def test_utf8_file_read_as_cp1252_is_rejected_not_printed_garbled(self, tmp_path: Path) -> None:
        """A UTF-8 export run with --encoding cp1252 rejects its accented names instead of printing 'JOSÃ‰'."""
        path = csv_file(tmp_path, row(owner_name="JOSÉ NÚÑEZ"), row(account_id="B-2"))
        garbled, plain = checked(path, encoding="cp1252")
        assert problems(garbled) == [(2, "owner_name")]
        assert "--encoding utf-8" in reasons(garbled)
        assert isinstance(plain, Record)

    @pytest.mark.parametrize("name", ["JOSÉ’S PLACE LLC", "SÃO PAULO TRADING", "ÅNGSTRÖM", "Nguyễn Thị Hoa", "CAFÉ «LE MONDE»"])
    def test_genuine_accents_beside_symbols_are_not_taken_for_mojibake(self, tmp_path: Path, name: str) -> None:
        """Accented letters next to quotes or guillemets that are not UTF-8 in disguise still print."""
        [result] = checked(csv_file(tmp_path, row(owner_name=name)))
        assert isinstance(result, Record), reasons(result)


class TestAmounts:
    @pytest.mark.parametrize("amount", ["1" * 28, "9" * 40 + ".99", "100000000.00"])
    def test_amount_above_the_maximum_is_rejected_in_a_csv(self, tmp_path: Path, amount: str) -> None:
        """An amount above MAX_AMOUNT (a 28-digit one used to crash the run) rejects its account on 'amount'."""
        [result] = checked(csv_file(tmp_path, row(amount=amount)))
        assert problems(result) == [(2, "amount")]
        assert "$99,999,999.99" in reasons(result)

    def test_largest_amount_is_accepted(self, tmp_path: Path) -> None:
        """MAX_AMOUNT itself is a valid amount."""
        [result] = checked(csv_file(tmp_path, row(amount=str(MAX_AMOUNT))))
        assert isinstance(result, Record) and result.total_due == MAX_AMOUNT

    @pytest.mark.parametrize("number", ["1e28", "1E400", "-1e400", "NaN", "Infinity", "-Infinity", "1" * 5000, "1e-400"])
    def test_huge_or_non_finite_json_number_is_rejected(self, tmp_path: Path, number: str) -> None:
        """JSON numbers too large, non-finite or with endless decimals reject the account on 'amount'; nothing crashes."""
        text = json.dumps(account(lines=[{"source": "Real property tax", "period": "FY 2027", "amount": "X"}]))
        [result] = checked(jsonl_file(tmp_path, text.replace('"X"', number)))
        assert problems(result) == [(1, "amount")]

    def test_total_above_the_maximum_is_rejected(self, tmp_path: Path) -> None:
        """Lines each within MAX_AMOUNT that add up to more than MAX_TOTAL reject the account on 'total_due'."""
        rows = [row(period=f"FY {2000 + n}", amount=str(MAX_AMOUNT)) for n in range(11)]
        [result] = checked(csv_file(tmp_path, *rows))
        assert problems(result) == [(2, "total_due")]
        assert f"${MAX_TOTAL:,}" in reasons(result)

    def test_object_nested_too_deeply_is_rejected_alone(self, tmp_path: Path) -> None:
        """A line of 100,000 nested lists is rejected with its line; the account after it is read."""
        path = jsonl_file(tmp_path, "[" * 100_000 + "]" * 100_000, json.dumps(account()))
        deep, good = checked(path)
        assert problems(deep) == [(1, None)]
        assert isinstance(good, Record)

    @pytest.mark.parametrize("value", [{"a": 1}, ["ANN"], True])
    def test_json_object_list_or_boolean_as_text_is_rejected(self, tmp_path: Path, value: Any) -> None:
        """An owner name that is a JSON object, list or boolean is rejected rather than printed as Python would show it."""
        [result] = checked(jsonl_file(tmp_path, json.dumps(account(owner_name=value))))
        assert problems(result) == [(1, "owner_name")]


class TestUnwritableText:
    def test_lone_surrogate_is_escaped_in_the_rejection(self, tmp_path: Path) -> None:
        """A lone surrogate from JSON is rejected and shown as the text \\ud800, so the manifest can be written."""
        text = json.dumps(account(owner_name="ANN \ud800 LEE", account_id="\udc00-1"))
        assert "\\ud800" in text  # json escapes it; the reader turns it back into a lone surrogate
        [result] = checked(jsonl_file(tmp_path, text))
        assert isinstance(result, Rejection)
        value = next(p.value for p in result.problems if p.field == "owner_name")
        assert value == "ANN \\ud800 LEE"
        assert result.account_id == "\\udc00-1"
        for problem in result.problems:
            json.dumps(problem.__dict__, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
        result.reason.encode("utf-8")

    def test_invisible_characters_are_shown_as_escapes(self, tmp_path: Path) -> None:
        """A right-to-left override in a rejected value is spelled out, so the rejects file reads the right way round."""
        [result] = checked(csv_file(tmp_path, row(owner_name="ANN\u202eEEL")))
        assert isinstance(result, Rejection)
        assert result.problems[0].value == "ANN\\u202eEEL"


class TestNegativeZero:
    @pytest.mark.parametrize("value", [Decimal("-0.00"), Decimal("-0"), Decimal("-0.004"), Decimal("-0.005")])
    def test_money_that_rounds_to_zero_prints_without_a_sign(self, value: Decimal) -> None:
        """Negative zero, or a negative amount that rounds to zero, prints as $0.00 in English and Spanish."""
        assert money(value) == "$0.00"
        assert "-" not in money(value, "es_US")

    @pytest.mark.parametrize("value", [Decimal("-0"), Decimal("-0.00"), Decimal("-0.0004")])
    def test_number_that_rounds_to_zero_prints_without_a_sign(self, value: Decimal) -> None:
        """A number filter value of negative zero (to three decimals) prints as 0."""
        assert number(value) == "0"

    def test_negative_amounts_keep_their_sign(self) -> None:
        """Only zero loses its sign: a real negative amount is still printed as one."""
        assert money(Decimal("-0.01")) == "-$0.01"

    def test_minus_zero_in_the_roll_is_read_as_zero(self, tmp_path: Path) -> None:
        """An interest of -0.00 (CSV) or -0.0 (JSON) is read as 0.00 without a sign, so it can never print as -$0.00."""
        [from_csv] = checked(csv_file(tmp_path, row(interest="-0.00")))
        text = json.dumps(account(lines=[{"source": "Real property tax", "period": "FY 2027", "amount": "5.00", "penalty": "X"}]))
        [from_json] = checked(jsonl_file(tmp_path, text.replace('"X"', "-0.0")))
        assert isinstance(from_csv, Record) and isinstance(from_json, Record)
        assert not from_csv.lines[0].interest.is_signed()
        assert not from_json.lines[0].penalty.is_signed()


def refused_as_cut_off(path: Path) -> InputError:
    """The InputError reading the file raises, which must say the export looks cut off."""
    with pytest.raises(InputError, match="cut off") as caught:
        read_accounts(path)
    return caught.value


class TestCutOffExports:
    def test_csv_without_a_final_line_break_is_refused(self, tmp_path: Path) -> None:
        """A CSV whose last row has no line break may be cut off mid-row: the file is refused, naming its last line."""
        path = tmp_path / "roll.csv"
        path.write_text(csv_text([row(), row(period="FY 2026")])[:-6], encoding="utf-8")
        error = refused_as_cut_off(path)
        assert (error.file, error.line) == (str(path), 3)

    def test_csv_cut_inside_a_quoted_field_is_refused(self, tmp_path: Path) -> None:
        """A CSV ending inside a quoted field is refused as cut off or unclosed, with the row's line."""
        path = tmp_path / "roll.csv"
        path.write_text(csv_text([row()]) + 'B-2,ANN LEE,,1 MAIN ST,"C/O MARIA\n', encoding="utf-8")
        assert refused_as_cut_off(path).line == 3

    def test_jsonl_with_a_cut_last_line_is_refused(self, tmp_path: Path) -> None:
        """A JSON Lines file whose unterminated last line is not whole JSON is refused: what followed is lost too."""
        path = tmp_path / "roll.jsonl"
        path.write_text(json.dumps(account()) + "\n" + json.dumps(account(account_id="B-2"))[:-30], encoding="utf-8")
        assert refused_as_cut_off(path).line == 2

    def test_jsonl_whose_last_line_is_whole_needs_no_final_line_break(self, tmp_path: Path) -> None:
        """JSON Lines allows the last line without a line break when it is complete."""
        path = tmp_path / "roll.jsonl"
        path.write_text(json.dumps(account()), encoding="utf-8")
        assert [type(r) for r in checked(path)] == [Record]

    def test_export_cut_between_rows_of_an_account_fails_its_control_total(self, tmp_path: Path) -> None:
        """A CSV cut cleanly between two rows of its last account reads fine, but does not reconcile with its control total."""
        text = csv_text([row(), row(account_id="B-2"), row(account_id="B-2", period="FY 2026", amount="50.00")])
        path = tmp_path / "roll.csv"
        path.write_text(text.rsplit("B-2", 1)[0], encoding="utf-8")  # the last row lost, whole rows kept
        with pytest.raises(InputError, match="control total") as caught:
            reconcile(read_accounts(path), Control(2, Decimal("250.00")), file=str(path))
        assert caught.value.field == "total"
        assert "a difference of -50.00" in str(caught.value)


class TestControlTotals:
    def test_sample_reconciles_with_its_count_and_total(self) -> None:
        """The city sample matches its own account count and the sum of its amounts."""
        raws = read_accounts(CITY_CSV)
        total = sum((Decimal(r[k] or "0") for r in read_csv(CITY_CSV) for k in ("amount", "interest", "penalty")), Decimal(0))
        reconcile(raws, Control(67, total), file=str(CITY_CSV))

    def test_wrong_count_is_refused_naming_both_numbers(self) -> None:
        """A control count one off refuses the file, naming the file, what it holds and what the control says."""
        with pytest.raises(InputError) as caught:
            reconcile(read_accounts(CITY_CSV), Control(68, None, "control.txt"))
        assert (caught.value.file, caught.value.field) == (str(CITY_CSV), "records")
        assert "holds 67 accounts, the control count is 68" in str(caught.value)
        assert "control.txt" in str(caught.value)

    def test_total_counts_rejected_accounts_and_names_what_it_cannot_read(self) -> None:
        """The bad roll's total includes rejected amounts (-125.00, 1.005) and lists '12,34x', which it cannot count."""
        raws = read_accounts(BAD_ROLL)
        total, unread = file_total(raws)
        readable = [r[k] for r in read_csv(BAD_ROLL) for k in ("amount", "interest", "penalty") if r[k] != "12,34x"]
        assert total == sum((Decimal(v) for v in readable), Decimal(0))
        assert [(u.line, u.field, u.value) for u in unread] == [(6, "amount", "12,34x")]
        reconcile(raws, Control(13, total), file=str(BAD_ROLL))
        with pytest.raises(InputError, match="12,34x"):
            reconcile(raws, Control(13, total + Decimal("12.34")), file=str(BAD_ROLL))

    def test_sale_results_count_their_lien_amounts(self, tmp_path: Path) -> None:
        """A sale-results account without tax-line amounts counts its lien amount in the total."""
        path = tmp_path / "sale.csv"
        path.write_text(csv_text([{**row(), "sale_date": "2027-05-12", "lien_amount": "812.50"}],
                                 ["account_id", "owner_name", "mailing_address_1", "mailing_city", "mailing_state",
                                  "mailing_zip", "property_address", "sale_date", "lien_amount"]), encoding="utf-8")
        assert file_total(read_accounts(path)) == (Decimal("812.50"), [])

    @pytest.mark.parametrize("text", ["records=13\ntotal=25123.45\n", "# from the roll system\n\nRECORDS = 13\ntotal=25123.45",
                                      '{"records": 13, "total": "25123.45"}', '{"records": 13, "total": 25123.45}'])
    def test_control_file_reads_as_text_or_json(self, tmp_path: Path, text: str) -> None:
        """A control file gives records and total as key=value lines or as one JSON object."""
        path = tmp_path / "control.txt"
        path.write_text(text, encoding="utf-8")
        assert read_control(path) == Control(13, Decimal("25123.45"), str(path))

    @pytest.mark.parametrize(("text", "line", "field"), [
        ("records=13\ntotal=1,234.00\n", 2, "total"),
        ("records=thirteen\n", 1, "records"),
        ("records=13\nrecords=14\n", 2, "records"),
        ("rows=13\n", 1, "rows"),
        ("records 13\n", 1, None),
        ("# nothing\n", None, None),
        ('{"records": 13.5}', None, "records"),
    ])
    def test_bad_control_file_is_refused_with_its_line_and_key(self, tmp_path: Path, text: str, line: int | None,
                                                               field: str | None) -> None:
        """A control file that cannot be read as records and total is an InputError naming its line and key."""
        path = tmp_path / "control.txt"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as caught:
            read_control(path)
        assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), line, field)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """One good account and four that used to crash the run (28 digits, 1e28, NaN, a lone surrogate), rendered once."""
    from notices.batch import Options, run

    folder = tmp_path_factory.mktemp("hostile")
    one_line = [{"source": "Real property tax", "period": "FY 2027", "amount": "X"}]
    template = json.dumps(account(lines=one_line))
    lines = [
        json.dumps(account()),
        template.replace('"X"', '"' + "1" * 28 + '"').replace("09-03-3887-012", "A-28-DIGITS"),
        template.replace('"X"', "1e28").replace("09-03-3887-012", "B-1E28"),
        template.replace('"X"', "NaN").replace("09-03-3887-012", "C-NAN"),
        json.dumps(account(account_id="D-\ud800", owner_name="\ud800")),
    ]
    path = folder / "roll.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run(Options(path, folder / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1)), folder / "out"


class TestEndToEnd:
    """One run over an export holding one good account and the accounts that used to crash the run."""

    def test_huge_amounts_are_rejected_and_the_good_account_renders(self, hostile_run: tuple[Any, Path]) -> None:
        """The run finishes: one piece rendered, four accounts rejected, none lost."""
        summary, _ = hostile_run
        assert (summary.records_in, summary.rendered, summary.rejected, summary.quarantined) == (5, 1, 4, 0)
        assert summary.balanced

    def test_manifest_and_rejects_hold_every_rejected_value_escaped(self, hostile_run: tuple[Any, Path]) -> None:
        """The manifest and rejects are written and readable as UTF-8, the lone surrogate shown as \\ud800."""
        _, out = hostile_run
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        assert [p["status"] for p in manifest["pieces"]] == ["rendered"] + ["rejected"] * 4
        rejects = {(r["account_id"], r["field"]): r["value"] for r in read_csv(out / "rejects.csv")}
        assert rejects[("A-28-DIGITS", "amount")] == "1" * 28
        assert rejects[("B-1E28", "amount")] == "1E+28"
        assert rejects[("C-NAN", "amount")] == "NaN"
        assert rejects[("D-\\ud800", "owner_name")] == "\\ud800"


class TestPublishedSchema:
    """The JSON Schema says what the tool now refuses, so an exporter can check a file before a run."""

    @pytest.fixture(scope="class")
    @classmethod
    def validator(cls) -> Any:
        import jsonschema

        schema = json.loads((ROOT / "schemas" / "roll-account.schema.json").read_text("utf-8"))
        return jsonschema.Draft202012Validator(schema)

    @pytest.mark.parametrize(("key", "value"), [
        ("account_id", "\u0420-01-0001"),
        ("account_id", "A\u00a0B"),
        ("lines", [{"source": "Real property tax", "period": "FY 2027", "amount": 1e28}]),
        ("lines", [{"source": "Real property tax", "period": "FY 2027", "amount": "1" * 28}]),
        ("total_due", "1000000000.00"),
    ])
    def test_schema_refuses_look_alike_ids_and_amounts_above_the_maximum(self, validator: Any, key: str, value: Any) -> None:
        """A non-ASCII id, a line amount above 99,999,999.99 and a total above 999,999,999.99 fail the schema."""
        assert list(validator.iter_errors(account(**{key: value})))

    @pytest.mark.parametrize(("key", "value"), [
        ("account_id", "01-01-0001-001 A"),
        ("lines", [{"source": "Real property tax", "period": "FY 2027", "amount": "99999999.99"}]),
        ("lines", [{"source": "Real property tax", "period": "FY 2027", "amount": 99999999.99}]),
    ])
    def test_schema_accepts_ascii_ids_and_the_largest_amount(self, validator: Any, key: str, value: Any) -> None:
        """A plain ASCII id with a space and an amount of exactly 99,999,999.99 pass the schema."""
        assert not list(validator.iter_errors(account(**{key: value})))
