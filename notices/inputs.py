"""Turn a roll export file (CSV or JSON Lines) into raw accounts that remember their file and lines."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .errors import InputError

Format = Literal["csv", "jsonl"]

ACCOUNT_FIELDS = (
    "account_id",
    "owner_name",
    "owner_name_2",
    "mailing_address_1",
    "mailing_address_2",
    "mailing_city",
    "mailing_state",
    "mailing_zip",
    "delivery_point",  # the two USPS delivery-point digits after ZIP+4, for an 11-digit barcode routing code
    "property_address",
    "first_advertisement_date",
    "total_due",
    # the notice after tax sale (§ 14-817.1)
    "sale_date",
    "highest_bid",
    "lien_amount",
    "redemption_before_filing",
    "redemption_after_filing",
    "owner_occupied",
    "purchaser",
)
LINE_FIELDS = ("source", "period", "amount", "interest", "penalty")
REQUIRED_COLUMNS = (
    "account_id",
    "owner_name",
    "mailing_address_1",
    "mailing_city",
    "mailing_state",
    "mailing_zip",
    "property_address",
)
REQUIRED_LINE_COLUMNS = ("source", "period", "amount")
MAX_FILE_BYTES = 2 * 1024**3


class Flaw(NamedTuple):
    """A problem the reader found in a row or object; validate reports it with the account."""

    line: int
    field: str  # "" when it is the whole row or object
    reason: str
    value: Any = None


@dataclass
class RawLine:
    """One tax line as read, with the file line it came from."""

    line: int
    fields: dict[str, Any]


@dataclass
class RawAccount:
    """The rows (CSV) or object (JSON Lines) of one account, not yet validated."""

    account_id: str
    file: str
    first_line: int
    fields: dict[str, Any]
    lines: list[RawLine] = field(default_factory=list)
    conflicts: list[tuple[int, str, Any]] = field(default_factory=list)  # (line, field, value)
    broken: list[Flaw] = field(default_factory=list)
    unread: list[int] = field(default_factory=list)  # lines whose values could not be read at all

    @property
    def source_lines(self) -> tuple[int, ...]:
        found = {self.first_line, *(raw.line for raw in self.lines)}
        return tuple(sorted(found))


def detect_format(path: Path, given: str | None = None) -> Format:
    if given:
        if given not in ("csv", "jsonl"):
            raise InputError("Unknown input format; use csv or jsonl", field="format", value=given)
        return given  # type: ignore[return-value]  # one of Format's two values, checked just above
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise InputError(
        "Cannot tell the input format from the file name", file=str(path), hint="name it .csv or .jsonl, or pass --format"
    )


def _decode(path: Path, name: str, encoding: str) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError("Input file is larger than 2 GiB; split it with --shard or by hand", file=name)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("Input file not found", file=name) from None
    except IsADirectoryError:
        raise InputError("Input is a folder, not a file", file=name) from None
    except OSError as exc:
        raise InputError(f"Cannot read input file: {exc.strerror}", file=name) from None
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except LookupError:
        raise InputError("Unknown encoding", field="encoding", value=encoding, hint="try utf-8, cp1252 or latin-1") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4]
        raise InputError(
            f"Input is not valid {encoding}: byte {bad[:1].hex()} at byte offset {exc.start}",
            file=name,
            line=line,
            value=bad.decode("latin-1"),
            hint="if the file came from Excel or Windows, run again with --encoding cp1252",
        ) from None


def read_accounts(path: Path, *, fmt: str | None = None, encoding: str = "utf-8") -> list[RawAccount]:
    """Read the whole file (a bad file must stop the run before anything is rendered)."""
    kind = detect_format(path, fmt)
    name = visible(str(path))  # a file name holding undecodable bytes must not stop the manifest's write
    text = _decode(path, name, encoding)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError("Input holds a NUL byte: it is not a text export", file=name, line=line,
                         hint="check the export settings or --encoding")
    if kind == "csv" and text and not text.endswith(("\n", "\r")):
        # The last row may be whole, or cut between two cells: only the export can tell, and an
        # account cut short would print a lower total than it owes.
        raise InputError(
            "The file does not end with a line break: the export may have been cut off in its last row",
            file=name,
            line=text.count("\n") + 1,
            hint="check the export finished (its size or record count); if it is complete, end the last row with a line break",
        )
    accounts = _read_csv(name, text) if kind == "csv" else list(_read_jsonl(name, text))
    if not accounts:
        raise InputError("Input holds no records", file=name)
    _flag_twin_ids(accounts)
    return accounts


def visible(text: str) -> str:
    r"""The text with what cannot be seen or written (control and invisible characters, lone surrogates) spelled as escapes like \ud800.

    Rejected values and reasons go into the manifest and the rejects file, which are UTF-8: a lone
    surrogate from JSON (``"\ud800"``) would stop that write, and a right-to-left override would
    turn the clerk's view of the value around.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


# Letters of other alphabets that print like Latin ones: an id holding them names another account
# than the one it looks like. (Not all of Unicode's confusables: these are the ones a keyboard or an
# OCR step slips into Latin text.)
_LOOKALIKE = str.maketrans(
    "АВЕЅІЈКМНОРСТХУаеіјорсухԁһѕΑΒΕΖΗΙΚΜΝΟΡΤΥΧοντ",
    "ABESIJKMHOPCTXYaeijopcyxdhsABEZHIKMNOPTYXovt",
)


def id_key(account_id: str) -> str:
    """An account id with letter case, spacing, Unicode forms (NFC/NFD/NFKC) and look-alike letters set aside."""
    text = unicodedata.normalize("NFKC", " ".join(account_id.split()))
    return unicodedata.normalize("NFKC", text.translate(_LOOKALIKE).casefold())


def _flag_twin_ids(accounts: list[RawAccount]) -> None:
    """Reject accounts whose ids differ only in case, spacing, Unicode form or look-alike letters.

    Such ids would print alike on two notices for what is likely one account (whose lines the
    export split between them), and neither can be told to be the right one.
    """
    groups: dict[str, list[RawAccount]] = {}
    for account in accounts:
        if account.account_id:
            groups.setdefault(id_key(account.account_id), []).append(account)
    for group in groups.values():
        if len({a.account_id for a in group}) < 2:
            continue  # one id (JSON Lines objects that repeat an id are flagged where they are read)
        for account in group:
            other = next(b for b in group if b.account_id != account.account_id)
            account.broken.append(Flaw(
                account.first_line,
                "account_id",
                f"this id and {other.account_id!r} on line {other.first_line} are the same once letter case, spacing "
                "and look-alike letters are set aside: one account would get two notices; make the ids agree in the export",
                account.account_id,
            ))


def _read_csv(name: str, text: str) -> list[RawAccount]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("Input is empty: no header row", file=name, line=1) from None
    except csv.Error as exc:
        raise InputError(f"Broken CSV in the header: {exc}", file=name, line=1) from None
    columns = [c.strip().lower() for c in header]
    # A sale-results export (it has sale_date) may leave out the tax lines: they only itemize the lien.
    line_columns = () if "sale_date" in columns else REQUIRED_LINE_COLUMNS
    has_lines = any(c in columns for c in LINE_FIELDS)
    missing = [c for c in (*REQUIRED_COLUMNS, *line_columns) if c not in columns]
    if missing:
        raise InputError(
            f"Missing required column(s): {', '.join(missing)}",
            file=name,
            line=1,
            field=missing[0],
            hint=f"the header has: {', '.join(columns)}; see README 'Input format'",
        )
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    if dupes:
        raise InputError(f"Duplicate column(s) in the header: {', '.join(dupes)}", file=name, line=1)
    accounts: dict[str, RawAccount] = {}
    orphans: list[RawAccount] = []
    seen_rows: dict[tuple[str, ...], int] = {}  # a row's cells -> the line it was first on
    line_no = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(exc, name, start) from None
        line_no = start
        if not any(cell.strip() for cell in row):
            continue
        values = {columns[i]: cell for i, cell in enumerate(row) if i < len(columns)}
        account_id = values.get("account_id", "").strip()
        raw_line = RawLine(line_no, {k: values.get(k, "") for k in LINE_FIELDS})
        if len(row) != len(columns):
            problem = Flaw(line_no, "", f"row has {len(row)} fields, the header has {len(columns)}: check quoting")
            if account_id and account_id in accounts:
                holder = accounts[account_id]
            else:
                holder = RawAccount(account_id, name, line_no, {})
                if account_id:
                    accounts[account_id] = holder
                else:
                    orphans.append(holder)
            holder.broken.append(problem)
            holder.unread.append(line_no)
            continue
        if not account_id:
            orphan = RawAccount("", name, line_no, {k: values.get(k, "") for k in ACCOUNT_FIELDS}, [raw_line])
            orphans.append(orphan)
            continue
        account = accounts.get(account_id)
        if account is None:
            account = RawAccount(account_id, name, line_no, {k: values.get(k, "") for k in ACCOUNT_FIELDS})
            accounts[account_id] = account
        elif not account.fields:
            # The account's first row was broken: its first readable row gives the account fields.
            account.fields = {k: values.get(k, "") for k in ACCOUNT_FIELDS}
        else:
            for key in ACCOUNT_FIELDS:
                if key in values and values[key].strip() != str(account.fields.get(key, "")).strip():
                    account.conflicts.append((line_no, key, values[key]))
        cells = tuple(cell.strip() for cell in row)
        first = seen_rows.setdefault(cells, line_no)
        if first != line_no:
            # Merged as a second tax line it would double what is owed; a real second line differs somewhere.
            account.broken.append(Flaw(
                line_no, "", f"the row at line {line_no} repeats line {first} exactly: the same tax line twice would "
                "double the amount owed; delete the repeated row, or fix the export"))
        if has_lines:
            account.lines.append(raw_line)  # a repeated row too: the control total counts every row of the file
    ordered = sorted([*accounts.values(), *orphans], key=lambda a: a.first_line)
    return ordered


def _csv_error(exc: csv.Error, name: str, line: int) -> InputError:
    """The reader's complaint as a clerk can act on it."""
    message = str(exc)
    if "unexpected end of data" in message:
        return InputError("The file ends inside a quoted field: a quote is not closed, or the export was cut off",
                          file=name, line=line, hint="check the quoting of this row and that the export finished")
    if "field larger than field limit" in message:
        return InputError(f"A field is longer than {csv.field_size_limit()} characters: a quote is probably not closed",
                          file=name, line=line, hint="fix the quoting of this row in the export")
    return InputError(f"Broken CSV quoting: {message}", file=name, line=line,
                      hint="a quote is not closed or a field holds a stray quote; fix the export")


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once (json keeps only the last value)."""

    repeated: dict[str, list[Any]]


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    made = _Object(pairs)
    made.repeated = {}
    if len(made) != len(pairs):
        for key, value in pairs:
            made.repeated.setdefault(key, []).append(value)
        made.repeated = {k: v for k, v in made.repeated.items() if len(v) > 1}
    return made


def _loads(raw: str) -> Any:
    # Every number as Decimal: money never goes through float, NaN and Infinity become values validate
    # can reject, and an integer of thousands of digits does not hit int()'s conversion limit.
    return json.loads(raw, parse_float=Decimal, parse_int=Decimal, parse_constant=Decimal, object_pairs_hook=_object)


def _repeated_keys(number: int, obj: dict[str, Any], where: str) -> Iterator[Flaw]:
    for key, values in (obj.repeated if isinstance(obj, _Object) else {}).items():
        shown = ", ".join(repr(v)[:40] for v in values)
        yield Flaw(number, key, f"{where} gives the key {key!r} {len(values)} times ({shown}): which value is meant "
                   "cannot be told; give each key once", values[-1])


def _read_jsonl(name: str, text: str) -> Iterator[RawAccount]:
    seen: dict[str, RawAccount] = {}
    # Split on "\n" only: str.splitlines() also breaks at U+2028 and U+0085, which JSON allows inside a string.
    rows = text.split("\n")
    for number, raw in enumerate(rows, start=1):
        if not raw.strip():
            continue
        try:
            data = _loads(raw)
        except json.JSONDecodeError as exc:
            if number == len(rows):
                # The last line, not ended by a line break, and not whole: what followed it is lost too.
                raise InputError("The last line is not complete JSON and the file does not end with a line break: "
                                 "the export was probably cut off", file=name, line=number,
                                 hint="check the export finished, and export again") from None
            yield _unreadable(name, number, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield _unreadable(name, number, "not an account: objects or lists nested too deeply")
            continue
        if not isinstance(data, dict):
            yield _unreadable(name, number, "a line must hold one JSON object per account")
            continue
        account_id = data.get("account_id")
        account = RawAccount(str(account_id).strip() if account_id is not None else "", name, number,
                             {k: data.get(k) for k in ACCOUNT_FIELDS})
        account.broken.extend(_repeated_keys(number, data, "this object"))
        if account_id is not None and not isinstance(account_id, str):
            account.broken.append(Flaw(number, "account_id", "must be a JSON string such as \"01-01-0001-001\": "
                                       "as a number it loses leading zeros", account_id))
        lines = data.get("lines", [])  # left out: no lines (validate says whether the mailing needs them)
        if not isinstance(lines, list):
            account.broken.append(Flaw(number, "lines", "must be a list of tax lines"))
        else:
            given: dict[str, int] = {}
            for index, item in enumerate(lines, start=1):
                if not isinstance(item, dict):
                    account.broken.append(Flaw(number, "lines", "each tax line must be an object"))
                    continue
                account.broken.extend(_repeated_keys(number, item, f"tax line {index}"))
                first = given.setdefault(json.dumps(item, sort_keys=True, default=str), index)
                if first != index:
                    account.broken.append(Flaw(number, "lines", f"tax line {index} repeats tax line {first} exactly: the "
                                               "same tax line twice would double the amount owed; give it once"))
                account.lines.append(RawLine(number, {k: item.get(k) for k in LINE_FIELDS}))
        if account.account_id in seen:
            # Two objects for one account: neither can be trusted to be the notice to mail.
            first_seen = seen[account.account_id]
            first_seen.broken.append(Flaw(first_seen.first_line, "account_id", f"the same account is on line {number} too"))
            account.broken.append(Flaw(number, "account_id", f"the same account is on line {first_seen.first_line} too"))
        elif account.account_id:
            seen[account.account_id] = account
        yield account


def _unreadable(name: str, number: int, reason: str) -> RawAccount:
    """A line that holds no account that can be read: rejected on its own."""
    account = RawAccount("", name, number, {})
    account.broken.append(Flaw(number, "", reason))
    account.unread.append(number)
    return account
