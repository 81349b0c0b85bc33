"""Turn a roll export file (CSV or JSON Lines) into raw accounts that remember their file and lines."""

from __future__ import annotations

import codecs
import csv
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

from .errors import InputError
from .index import RunIndex

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


def _text_codec(encoding: str) -> str:
    return "utf-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _check_text(path: Path, name: str, encoding: str, kind: Format) -> str:
    """Decode the whole file once, a block at a time, before reading a row; returns the codec to read it with.

    What makes the file unusable (bytes that are not text in the encoding, a NUL, a CSV cut off inside
    its last row) stops the run here, before anything is read, whatever comes first in the file.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError("Input file is larger than 2 GiB; split it with --shard or by hand", file=name)
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after the last block
    except FileNotFoundError:
        raise InputError("Input file not found", file=name) from None
    except IsADirectoryError:
        raise InputError("Input is a folder, not a file", file=name) from None
    except OSError as exc:
        raise InputError(f"Cannot read input file: {exc.strerror}", file=name) from None
    codec = _text_codec(encoding)
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    except LookupError:
        handle.close()
        raise InputError("Unknown encoding", field="encoding", value=encoding, hint="try utf-8, cp1252 or latin-1") from None
    with handle:
        offset = 0  # of the block in the file
        newlines = 0  # in the text decoded so far
        last = ""
        if codec == "utf-8" and handle.read(3) != codecs.BOM_UTF8:
            handle.seek(0)
        offset = handle.tell()
        start = handle.read(2)
        handle.seek(offset)
        while True:
            block = handle.read(1 << 20)
            held = _held(decoder)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                data = held + block
                raise InputError(
                    f"Input is not valid {encoding}: byte {data[exc.start:exc.start + 1].hex()} at byte offset "
                    f"{offset - len(held) + exc.start}",
                    file=name,
                    line=newlines + data.count(b"\n", 0, exc.start) - held.count(b"\n") + 1,
                    value=data[exc.start : exc.start + 4].decode("latin-1"),
                    hint=_decoding_hint(start, "if the file came from Excel or Windows, run again with --encoding cp1252"),
                ) from None
            if "\x00" in text:
                raise InputError("Input holds a NUL byte: it is not a text export", file=name,
                                 line=newlines + text.count("\n", 0, text.index("\x00")) + 1,
                                 hint=_decoding_hint(start, "check the export settings or --encoding"))
            newlines += text.count("\n")
            last = text[-1:] or last
            offset += len(block)
            if not block:
                break
    if kind == "csv" and last and last not in "\n\r":
        # The last row may be whole, or cut between two cells: only the export can tell, and an
        # account cut short would print a lower total than it owes.
        raise InputError(
            "The file does not end with a line break: the export may have been cut off in its last row",
            file=name,
            line=newlines + 1,
            hint="check the export finished (its size or record count); if it is complete, end the last row with a line break",
        )
    return "utf-8-sig" if codec == "utf-8" else codec


def _decoding_hint(start: bytes, otherwise: str) -> str:
    """What to do about a file that does not read as text in the encoding asked for, from its first two bytes."""
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # Excel's "Unicode Text" and some exporters write UTF-16: read as UTF-8 it fails, as cp1252 it holds NULs.
        return 'the file is UTF-16 (its first bytes say so): export it as "CSV UTF-8", or run again with --encoding utf-16'
    return otherwise


def _held(decoder: codecs.IncrementalDecoder) -> bytes:
    """The bytes a decoder holds back from the last block (the start of a character the next block ends)."""
    try:
        held = decoder.getstate()[0]
    except (AttributeError, NotImplementedError):
        return b""
    return held if isinstance(held, bytes) else b""


@dataclass(frozen=True)
class Reading:
    """A roll export read into an index: what is needed to make its accounts from their stored rows."""

    name: str
    kind: Format
    columns: tuple[str, ...] = ()
    has_lines: bool = True


def read_into(index: RunIndex, path: Path, *, fmt: str | None = None, encoding: str = "utf-8") -> Reading:
    """Read the whole file into ``index``, a row at a time (a bad file must stop the run before anything is rendered)."""
    kind = detect_format(path, fmt)
    name = visible(str(path))  # a file name holding undecodable bytes must not stop the manifest's write
    codec = _check_text(path, name, encoding, kind)
    with open(path, encoding=codec, newline="" if kind == "csv" else "\n") as handle:
        if kind == "csv":
            reader = csv.reader(handle, strict=True)
            reading = _csv_header(name, reader)
            index.add_rows(_csv_rows(name, reader, reading.columns))
        else:
            reading = Reading(name, kind)
            index.add_rows(_jsonl_rows(name, handle))
    if not index.group_accounts(id_key, row_each=kind == "jsonl"):
        raise InputError("Input holds no records", file=name)
    return reading


def raw_accounts(index: RunIndex, reading: Reading) -> Iterator[RawAccount]:
    """The accounts of a file read into ``index``, one at a time, in the order they start in the file."""
    shared = index.shared_keys()
    for account_id, first_line in index.accounts():
        rows = index.rows_of(account_id, first_line)
        if reading.kind == "csv":
            account = _csv_account(reading, rows)
        else:
            account = _jsonl_account(reading.name, first_line, rows[[line for line, _, _ in rows].index(first_line)][2])
            if account_id:
                _flag_repeated_object(account, [line for line, _, _ in rows])
        key = id_key(account.account_id) if account.account_id else ""
        if key in shared and (twin := index.twin_of(account.account_id, key)):
            account.broken.append(_twin_flaw(account, *twin))
        yield account


def read_accounts(path: Path, *, fmt: str | None = None, encoding: str = "utf-8") -> list[RawAccount]:
    """Read the whole file into a list of accounts: for a sample or a test (a run reads an index, ``read_into``)."""
    with RunIndex() as index:
        return list(raw_accounts(index, read_into(index, path, fmt=fmt, encoding=encoding)))


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


def _twin_flaw(account: RawAccount, other_id: str, other_line: int) -> Flaw:
    """Accounts whose ids differ only in case, spacing, Unicode form or look-alike letters are both rejected.

    Such ids would print alike on two notices for what is likely one account (whose lines the
    export split between them), and neither can be told to be the right one.
    """
    return Flaw(account.first_line, "account_id",
                f"this id and {other_id!r} on line {other_line} are the same once letter case, spacing "
                "and look-alike letters are set aside: one account would get two notices; make the ids agree in the export",
                account.account_id)


def _csv_header(name: str, reader: Any) -> Reading:
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("Input is empty: no header row", file=name, line=1) from None
    except csv.Error as exc:
        raise InputError(f"Broken CSV in the header: {exc}", file=name, line=1) from None
    columns = [c.strip().lower() for c in header]
    # A sale-results export (it has sale_date) may leave out the tax lines: they only itemize the lien.
    line_columns = () if "sale_date" in columns else REQUIRED_LINE_COLUMNS
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
    return Reading(name, "csv", tuple(columns), any(c in columns for c in LINE_FIELDS))


_WHOLE, _BROKEN = 0, 1  # a row with as many fields as the header, or not


def _csv_rows(name: str, reader: Any, columns: tuple[str, ...]) -> Iterator[tuple[str, int, int, str]]:
    """Each row that is not blank: the account id it gives, its first line, whether it is whole, its cells."""
    at = columns.index("account_id")
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(exc, name, start) from None
        if not any(cell.strip() for cell in row):
            continue
        account_id = row[at].strip() if at < len(row) else ""
        yield account_id, start, _WHOLE if len(row) == len(columns) else _BROKEN, json.dumps(row, ensure_ascii=False)


def _csv_account(reading: Reading, rows: list[tuple[int, int, str]]) -> RawAccount:
    """An account from its rows, in file order: the first gives the account fields, the others must agree with it."""
    name, columns = reading.name, reading.columns
    account: RawAccount | None = None
    seen_rows: dict[tuple[str, ...], int] = {}  # a row's cells -> the line it was first on
    for line_no, kind, data in rows:
        row: list[str] = json.loads(data)
        values = {columns[i]: cell for i, cell in enumerate(row) if i < len(columns)}
        account_id = values.get("account_id", "").strip()
        raw_line = RawLine(line_no, {k: values.get(k, "") for k in LINE_FIELDS})
        if kind == _BROKEN:
            if account is None:
                account = RawAccount(account_id, name, line_no, {})
            account.broken.append(Flaw(line_no, "", f"row has {len(row)} fields, the header has {len(columns)}: check quoting"))
            account.unread.append(line_no)
            continue
        if not account_id:
            return RawAccount("", name, line_no, {k: values.get(k, "") for k in ACCOUNT_FIELDS}, [raw_line])
        if account is None:
            account = RawAccount(account_id, name, line_no, {k: values.get(k, "") for k in ACCOUNT_FIELDS})
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
        if reading.has_lines:
            account.lines.append(raw_line)  # a repeated row too: the control total counts every row of the file
    assert account is not None  # an account is made from at least one row
    return account


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


def _jsonl_rows(name: str, handle: IO[str]) -> Iterator[tuple[str, int, int, str]]:
    """Each line that is not blank: the account id its object gives ('' when it holds none that can be read), its number, its text."""
    for number, raw in enumerate(handle, start=1):
        ended = raw.endswith("\n")
        raw = raw[:-1] if ended else raw
        if not raw.strip():
            continue
        try:
            data = _loads(raw)
        except json.JSONDecodeError:
            if not ended:
                # The last line, not ended by a line break, and not whole: what followed it is lost too.
                raise InputError("The last line is not complete JSON and the file does not end with a line break: "
                                 "the export was probably cut off", file=name, line=number,
                                 hint="check the export finished, and export again") from None
            data = None
        except RecursionError:
            data = None
        account_id = data.get("account_id") if isinstance(data, dict) else None
        yield str(account_id).strip() if account_id is not None else "", number, 0, raw


def _jsonl_account(name: str, number: int, raw: str) -> RawAccount:
    """The account one line of JSON Lines holds, or a rejection of the line on its own."""
    try:
        data = _loads(raw)
    except json.JSONDecodeError as exc:
        return _unreadable(name, number, f"not valid JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return _unreadable(name, number, "not an account: objects or lists nested too deeply")
    if not isinstance(data, dict):
        return _unreadable(name, number, "a line must hold one JSON object per account")
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
        return account
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
    return account


def _flag_repeated_object(account: RawAccount, lines: list[int]) -> None:
    """Two objects for one account: neither can be trusted to be the notice to mail; each names the other's line."""
    if account.first_line == lines[0]:
        account.broken.extend(Flaw(account.first_line, "account_id", f"the same account is on line {other} too")
                              for other in lines[1:])
    else:
        account.broken.append(Flaw(account.first_line, "account_id", f"the same account is on line {lines[0]} too"))


def _unreadable(name: str, number: int, reason: str) -> RawAccount:
    """A line that holds no account that can be read: rejected on its own."""
    account = RawAccount("", name, number, {})
    account.broken.append(Flaw(number, "", reason))
    account.unread.append(number)
    return account
