"""Reading a roll export: bad files stop the run with file and line, bad rows are held for rejection."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from conftest import BAD_ROLL, CITY_CSV, CITY_DATE, CITY_JSONL, COLUMNS, csv_text, read_csv, row

from notices.batch import Options, run
from notices.errors import InputError
from notices.inputs import read_accounts
from notices.model import Record, Rejection
from notices.resources import printable
from notices.validate import Rules, validate

RULES = Rules(CITY_DATE, printable=printable)


def checked(path: Path, **kwargs: str) -> list[Record | Rejection]:
    return [validate(raw, RULES) for raw in read_accounts(path, **kwargs)]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


class TestBadFiles:
    def test_unclosed_quote_stops_with_the_line_it_starts_on(self, tmp_path: Path) -> None:
        """A quote never closed is a broken file: InputError naming the file and the row where the quote opens."""
        text = csv_text([row(), row(account_id="01-01-0001-002")])
        broken = text + '01-01-0001-003,"ANN LEE,,1 MAIN ST,,BALTIMORE,MD,21201,1 MAIN ST,,Real property tax,FY 2027,1.00,0,0\n'
        path = write(tmp_path / "roll.csv", broken + csv_text([row(account_id="01-01-0001-004")]).split("\n", 1)[1])
        with pytest.raises(InputError) as caught:
            read_accounts(path)
        assert caught.value.file == str(path)
        assert caught.value.line == 4
        assert "quot" in str(caught.value)

    def test_stray_quote_after_a_quoted_field_stops_the_run_before_rendering(self, tmp_path: Path) -> None:
        """Text after a closing quote is broken quoting: the run stops on that line and writes no piece."""
        text = csv_text([row()]) + '01-01-0001-002,"ANN" LEE,,1 MAIN ST,,BALTIMORE,MD,21201,1 MAIN ST,,Real property tax,FY 2027,1.00,0,0\n'
        path = write(tmp_path / "roll.csv", text)
        out = tmp_path / "out"
        with pytest.raises(InputError) as caught:
            run(Options(path, out, "baltimore-city", "final-notice", CITY_DATE, workers=1))
        assert (caught.value.file, caught.value.line) == (str(path), 3)
        assert not (out / "pieces").exists()

    def test_cp1252_bytes_ask_for_an_encoding_then_read_with_it(self, tmp_path: Path) -> None:
        """Windows-1252 bytes in a UTF-8 read name the line and suggest --encoding cp1252, which then works."""
        text = csv_text([row(), row(account_id="01-01-0001-002", owner_name="JOSÉ NÚÑEZ")])
        path = write(tmp_path / "excel.csv", text.encode("cp1252"))
        with pytest.raises(InputError) as caught:
            read_accounts(path)
        assert caught.value.file == str(path)
        assert caught.value.line == 3
        assert "--encoding cp1252" in str(caught.value)
        records = checked(path, encoding="cp1252")
        assert [type(r) for r in records] == [Record, Record]
        assert records[1].owners == ("JOSÉ NÚÑEZ",)  # type: ignore[union-attr]

    @pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
    def test_a_utf16_export_asks_for_utf8_or_utf16_not_cp1252_then_reads_with_it(self, tmp_path: Path, codec: str) -> None:
        """A file that starts with a UTF-16 byte-order mark is named as UTF-16, and --encoding utf-16 reads it."""
        text = csv_text([row(), row(account_id="01-01-0001-002", owner_name="JOSÉ NÚÑEZ")])
        bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
        path = write(tmp_path / "unicode.csv", bom + text.encode(codec))
        with pytest.raises(InputError) as caught:
            read_accounts(path)
        assert "UTF-16" in str(caught.value) and "--encoding utf-16" in str(caught.value)
        assert "cp1252" not in str(caught.value)
        with pytest.raises(InputError) as misread:  # read as cp1252 it holds NULs: named as UTF-16 all the same
            read_accounts(path, encoding="cp1252")
        assert "NUL" in str(misread.value) and "--encoding utf-16" in str(misread.value)
        records = checked(path, encoding="utf-16")
        assert [type(r) for r in records] == [Record, Record]
        assert records[1].owners == ("JOSÉ NÚÑEZ",)  # type: ignore[union-attr]

    def test_unknown_encoding_is_named(self, tmp_path: Path) -> None:
        """An encoding Python does not know is an InputError on the encoding option, not a LookupError."""
        path = write(tmp_path / "roll.csv", csv_text([row()]))
        with pytest.raises(InputError) as caught:
            read_accounts(path, encoding="klingon-8")
        assert caught.value.field == "encoding"

    def test_utf8_bom_is_accepted(self, tmp_path: Path) -> None:
        """A byte-order mark (Excel's 'CSV UTF-8') does not spoil the first column name."""
        path = write(tmp_path / "bom.csv", b"\xef\xbb\xbf" + csv_text([row(owner_name="ZOË ÅNGSTRÖM")]).encode())
        [record] = checked(path)
        assert isinstance(record, Record)
        assert record.account_id == "01-01-0001-001"
        assert record.owners == ("ZOË ÅNGSTRÖM",)

    def test_missing_required_column_is_named(self, tmp_path: Path) -> None:
        """A header without a required column is an InputError on line 1 naming that column."""
        columns = [c for c in COLUMNS if c != "mailing_zip"]
        path = write(tmp_path / "roll.csv", csv_text([row()], columns))
        with pytest.raises(InputError) as caught:
            read_accounts(path)
        assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), 1, "mailing_zip")
        assert "mailing_zip" in str(caught.value)

    def test_missing_required_column_renders_nothing(self, tmp_path: Path) -> None:
        """End to end, a missing column stops the run before any piece, print file or manifest is written."""
        columns = [c for c in COLUMNS if c != "amount"]
        path = write(tmp_path / "roll.csv", csv_text([row()], columns))
        out = tmp_path / "out"
        with pytest.raises(InputError) as caught:
            run(Options(path, out, "baltimore-city", "final-notice", CITY_DATE, workers=1))
        assert caught.value.field == "amount"
        assert not (out / "pieces").exists()
        assert not (out / "print").exists()
        assert not (out / "manifest.csv").exists()

    def test_header_only_file_holds_no_records(self, tmp_path: Path) -> None:
        """A file with a header and no rows is an InputError, not an empty mailing."""
        path = write(tmp_path / "roll.csv", csv_text([]))
        with pytest.raises(InputError, match="no records"):
            read_accounts(path)

    def test_nul_byte_is_not_a_text_export(self, tmp_path: Path) -> None:
        """A NUL byte (a UTF-16 or binary file read as UTF-8) stops the run with its line."""
        path = write(tmp_path / "roll.csv", csv_text([row()]).encode() + b"01-01-0001-002,\x00\n")
        with pytest.raises(InputError) as caught:
            read_accounts(path)
        assert caught.value.line == 3


    def test_duplicate_header_column_stops_the_run(self, tmp_path: Path) -> None:
        """A header naming a column twice is ambiguous: InputError on line 1."""
        path = write(tmp_path / "roll.csv", csv_text([row()], [*COLUMNS, "amount"]))
        with pytest.raises(InputError, match="Duplicate column") as caught:
            read_accounts(path)
        assert caught.value.line == 1


class TestForeignExports:
    def test_documented_columns_in_any_order_with_extras_and_crlf(self, tmp_path: Path) -> None:
        """An export not written by this project (own column order, extra columns, CRLF, capitalised names) reads."""
        ours = ["amount", "period", "source", "property_address", "mailing_zip", "mailing_state", "mailing_city",
                "mailing_address_1", "owner_name", "account_id"]
        theirs = {name: name.title().replace("_Id", "_ID") for name in ours}  # e.g. Account_ID, Owner_Name
        rows = [row(), row(period="FY 2026", amount="20.00"), row(account_id="B-2")]
        text = csv_text(({theirs[k]: r[k] for k in ours} | {"Assessment": "123400", "Ward": "09"} for r in rows),
                        [*theirs.values(), "Assessment", "Ward"])
        assert text.startswith("Amount,Period,Source,Property_Address")
        path = write(tmp_path / "roll.csv", text.replace("\n", "\r\n").encode("utf-8"))
        first, second = checked(path)
        assert isinstance(first, Record) and isinstance(second, Record)
        assert first.source_lines == (2, 3) and second.source_lines == (4,)
        assert str(first.total_due) == "120.00"


class TestBadRows:
    def test_row_with_too_many_fields_is_rejected_alone(self, tmp_path: Path) -> None:
        """A row with more fields than the header rejects its account with that line; the others go on."""
        text = csv_text([row(), row(account_id="01-01-0001-002")])
        lines = text.splitlines()
        lines[1] += ",EXTRA"
        path = write(tmp_path / "roll.csv", "\n".join(lines) + "\n")
        first, second = checked(path)
        assert isinstance(first, Rejection)
        assert [(p.file, p.line, p.field) for p in first.problems] == [(str(path), 2, None)]
        assert "16 fields" in first.problems[0].reason
        assert isinstance(second, Record)

    def test_broken_row_after_a_good_one_rejects_the_account(self, tmp_path: Path) -> None:
        """A short row among an account's good rows rejects the whole account, naming the short row."""
        text = csv_text([row(), row(period="FY 2026")])
        path = write(tmp_path / "roll.csv", text + "01-01-0001-001,ANN LEE\n")
        [rejection] = checked(path)
        assert isinstance(rejection, Rejection)
        assert [(p.line, p.field) for p in rejection.problems] == [(4, None)]

    def test_non_contiguous_rows_of_one_account_are_grouped(self, tmp_path: Path) -> None:
        """Rows of one account separated by another account's rows still make one piece, in file order."""
        path = write(tmp_path / "roll.csv", csv_text([
            row(account_id="A-1", period="FY 2026", amount="10.00"),
            row(account_id="B-2"),
            row(account_id="A-1", period="FY 2027", amount="20.00"),
        ]))
        records = checked(path)
        assert [r.account_id for r in records] == ["A-1", "B-2"]
        first = records[0]
        assert isinstance(first, Record)
        assert [(line.period, line.line) for line in first.lines] == [("FY 2026", 2), ("FY 2027", 4)]
        assert first.source_lines == (2, 4)
        assert str(first.total_due) == "30.00"

    def test_blank_lines_are_skipped_and_line_numbers_stay_physical(self, tmp_path: Path) -> None:
        """An empty line does not become a record, and later rows keep their physical line numbers."""
        text = csv_text([row()]) + "\n" + csv_text([row(account_id="B-2", amount="x")]).split("\n", 1)[1]
        path = write(tmp_path / "roll.csv", text)
        good, bad = checked(path)
        assert isinstance(good, Record)
        assert isinstance(bad, Rejection)
        assert [(p.line, p.field) for p in bad.problems] == [(4, "amount")]

    def test_quoted_newline_counts_as_one_row(self, tmp_path: Path) -> None:
        """A quoted field spanning two physical lines keeps the next row's line number right."""
        path = write(tmp_path / "roll.csv", csv_text([
            row(mailing_address_2="C/O MARIA\nKOWALSKI"),
            row(account_id="B-2", amount="1.005"),
        ]))
        first, second = checked(path)
        assert isinstance(first, Rejection)  # a line break in an address line is a control character
        assert [(p.line, p.field) for p in first.problems] == [(2, "mailing_address_2")]
        assert isinstance(second, Rejection)
        assert [(p.line, p.field) for p in second.problems] == [(4, "amount")]


class TestJsonLines:
    def test_every_sample_line_reads_as_a_record(self) -> None:
        """The JSON Lines sample holds the same 67 valid accounts as the CSV sample, in the same order."""
        from_jsonl = checked(CITY_JSONL)
        from_csv = checked(CITY_CSV)
        assert all(isinstance(r, Record) for r in from_jsonl)
        assert [r.account_id for r in from_jsonl] == [r.account_id for r in from_csv]
        assert [r.total_due for r in from_jsonl] == [r.total_due for r in from_csv]  # type: ignore[union-attr]

    def test_broken_line_is_rejected_and_the_others_go_on(self, tmp_path: Path) -> None:
        """A line that is not JSON rejects only that line, naming it; the lines before and after are records."""
        lines = CITY_JSONL.read_text("utf-8").splitlines()[:3]
        lines[1] = lines[1][:40]
        path = write(tmp_path / "roll.jsonl", "\n".join(lines) + "\n")
        first, broken, third = checked(path)
        assert isinstance(first, Record) and isinstance(third, Record)
        assert isinstance(broken, Rejection)
        assert [(p.file, p.line, p.field) for p in broken.problems] == [(str(path), 2, None)]
        assert "not valid JSON" in broken.problems[0].reason

    def test_line_that_is_not_an_object_is_rejected(self, tmp_path: Path) -> None:
        """A JSON array or number on a line is rejected with that line."""
        lines = CITY_JSONL.read_text("utf-8").splitlines()[:1] + ["[1, 2]"]
        path = write(tmp_path / "roll.jsonl", "\n".join(lines) + "\n")
        good, bad = checked(path)
        assert isinstance(good, Record)
        assert isinstance(bad, Rejection) and bad.problems[0].line == 2

    def test_lines_must_be_a_list(self, tmp_path: Path) -> None:
        """An account whose 'lines' is not a list is rejected on the field 'lines'."""
        account = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
        account["lines"] = {"source": "Real property tax"}
        path = write(tmp_path / "roll.jsonl", json.dumps(account) + "\n")
        [bad] = checked(path)
        assert isinstance(bad, Rejection)
        assert (bad.problems[0].line, bad.problems[0].field) == (1, "lines")

    def test_a_json_value_that_is_not_text_is_shown_as_the_roll_wrote_it(self, tmp_path: Path) -> None:
        """An object, list or true where text belongs is rejected with the value in JSON, numbers as written (not
        Python's {'a': Decimal('1.50')}), so the clerk finds it in the export."""
        account = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
        account["owner_name"] = {"a": 1.50, "b": [1, "x", None, False]}
        account["property_address"] = True
        path = write(tmp_path / "roll.jsonl", json.dumps(account).replace("1.5,", "1.50,") + "\n")
        [bad] = checked(path)
        assert isinstance(bad, Rejection)
        assert [(p.field, p.reason, p.value) for p in bad.problems] == [
            ("owner_name", "must be text, not a JSON object", '{"a": 1.50, "b": [1, "x", null, false]}'),
            ("property_address", "must be text, not a JSON true or false", "true")]

    def test_same_account_on_two_lines_rejects_both(self, tmp_path: Path) -> None:
        """Two objects with one account_id reject both, each naming the other's line: no ambiguous notice is mailed."""
        lines = CITY_JSONL.read_text("utf-8").splitlines()[:2]
        path = write(tmp_path / "roll.jsonl", "\n".join([lines[0], lines[1], lines[0]]) + "\n")
        first, middle, again = checked(path)
        assert isinstance(middle, Record)
        assert isinstance(first, Rejection) and isinstance(again, Rejection)
        assert [(p.line, p.field) for p in first.problems] == [(1, "account_id")]
        assert [(p.line, p.field) for p in again.problems] == [(3, "account_id")]
        assert "line 3" in first.problems[0].reason and "line 1" in again.problems[0].reason

    def test_line_separator_inside_a_string_does_not_split_the_line(self, tmp_path: Path) -> None:
        """U+2028 is legal inside a JSON string: the object stays one line, and later line numbers stay right."""
        lines = CITY_JSONL.read_text("utf-8").splitlines()[:2]
        account = json.loads(lines[0])
        account["mailing_address_2"] = "C/O JANE\u2028DOE"
        path = write(tmp_path / "roll.jsonl", json.dumps(account, ensure_ascii=False) + "\n" + lines[1][:30] + "\n")
        first, broken = checked(path)
        assert isinstance(first, Record)
        assert first.mailing.line2 == "C/O JANE DOE"
        assert isinstance(broken, Rejection) and broken.problems[0].line == 2

    def test_numbers_as_money_are_read_exactly(self, tmp_path: Path) -> None:
        """JSON numbers are read as Decimal, never through float: 0.1 + 0.2 is 0.30."""
        account = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
        account["lines"] = [{"source": "Real property tax", "period": "FY 2027", "amount": 0.1, "interest": 0.2}]
        account["total_due"] = 0.3
        path = write(tmp_path / "roll.jsonl", json.dumps(account) + "\n")
        [record] = checked(path)
        assert isinstance(record, Record)
        assert str(record.total_due) == "0.30"


    def test_numbers_in_exponent_form_are_amounts(self, tmp_path: Path) -> None:
        """A JSON number written 1e3 is 1000.00, as the published schema allows; 1.005 is still three decimals."""
        account = json.loads(CITY_JSONL.read_text("utf-8").splitlines()[0])
        account["lines"] = [{"source": "Real property tax", "period": "FY 2027", "amount": 1e3},
                            {"source": "Water and sewer", "period": "2026-Q4", "amount": 25, "interest": 0}]
        other = {**account, "account_id": "01-01-0001-999",
                 "lines": [{"source": "Real property tax", "period": "FY 2027", "amount": 1.005}]}
        text = json.dumps(account).replace('"amount": 1000.0', '"amount": 1e3')
        assert '"amount": 1e3' in text
        path = write(tmp_path / "roll.jsonl", text + "\n" + json.dumps(other) + "\n")
        record, rejection = checked(path)
        assert isinstance(record, Record) and str(record.total_due) == "1025.00"
        assert isinstance(rejection, Rejection)
        assert [(p.line, p.field, p.value) for p in rejection.problems] == [(2, "amount", "1.005")]

class TestBadRollEndToEnd:
    """samples/bad-roll.csv through notices.batch.run: the table in samples/README.md, row by row."""

    EXPECTED = {  # account_id: (line, field) of the one problem, as in samples/README.md
        "11-04-2208-017": (6, "amount"),
        "11-04-2208-018": (8, "amount"),
        "16-02-2431-006": (9, "owner_name"),
        "22-07-0614-020": (10, "mailing_state"),
        "22-07-0614-021": (11, "mailing_zip"),
        "../../etc/passwd": (12, "account_id"),
        "10-05-0310-012": (15, "first_advertisement_date"),
        "25-11-7519-037": (18, "owner_name"),
        "04-09-0558-025": (19, "amount"),
    }
    VALID = ("19-02-3168-064", "07-13-1573-044", "20-01-5663-091", "11-04-0473-056")

    def test_records_in_equal_rendered_plus_rejected(self, bad_roll_run: tuple) -> None:
        """Thirteen accounts in: four rendered, nine rejected, none lost."""
        summary, out = bad_roll_run
        assert (summary.records_in, summary.rendered, summary.rejected, summary.quarantined) == (13, 4, 9, 0)
        assert summary.balanced
        assert len(list((out / "pieces").glob("*.pdf"))) == 4

    def test_rejects_name_the_line_and_field_of_each_problem(self, bad_roll_run: tuple) -> None:
        """rejects.csv has exactly one row per bad account, with the file, line and field from the README table."""
        _, out = bad_roll_run
        rows = read_csv(out / "rejects.csv")
        found = {r["account_id"]: (int(r["line"]), r["field"]) for r in rows}
        assert found == self.EXPECTED
        assert len(rows) == len(self.EXPECTED)
        assert {r["file"] for r in rows} == {str(BAD_ROLL)}

    def test_rejects_quote_the_offending_value(self, bad_roll_run: tuple) -> None:
        """Each reject carries the value as it stood in the file, so a clerk can find and fix it."""
        _, out = bad_roll_run
        values = {r["account_id"]: r["value"] for r in read_csv(out / "rejects.csv")}
        assert values["11-04-2208-017"] == "12,34x"
        assert values["11-04-2208-018"] == "-125.00"
        assert values["22-07-0614-020"] == "Maryland"
        assert values["25-11-7519-037"] == "TANYA BOYD"
        assert values["04-09-0558-025"] == "1.005"

    def test_manifest_holds_every_account_in_file_order(self, bad_roll_run: tuple) -> None:
        """The manifest has one row per input account, in input order, rendered or rejected."""
        _, out = bad_roll_run
        rows = read_csv(out / "manifest.csv")
        ids = [r["account_id"] for r in rows]
        assert ids == list(dict.fromkeys(r["account_id"] for r in read_csv(BAD_ROLL)))
        status = {r["account_id"]: r["status"] for r in rows}
        assert {a for a, s in status.items() if s == "rendered"} == set(self.VALID)
        assert {a for a, s in status.items() if s == "rejected"} == set(self.EXPECTED)

    def test_no_piece_file_escapes_the_pieces_folder(self, bad_roll_run: tuple) -> None:
        """Whatever the account id holds, every file written stays inside the output folder."""
        _, out = bad_roll_run
        written = [p.resolve() for p in out.rglob("*") if p.is_file()]
        assert all(p.is_relative_to(out.resolve()) for p in written)
        assert not any("passwd" in p.name for p in written)
