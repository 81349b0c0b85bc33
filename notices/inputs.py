"""Turn a roll export file (CSV or JSON Lines) into raw accounts that remember their file and lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

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
    broken: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)

    @property
    def source_lines(self) -> tuple[int, ...]:
        found = {self.first_line, *(raw.line for raw in self.lines)}
        return tuple(sorted(found))


def detect_format(path: Path, given: str | None = None) -> Format:
    if given:
        if given not in ("csv", "jsonl"):
            raise InputError("Unknown input format; use csv or jsonl", field="format", value=given)
        return given  # type: ignore[return-value]
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise InputError(
        "Cannot tell the input format from the file name", file=str(path), hint="name it .csv or .jsonl, or pass --format"
    )


def _decode(path: Path, encoding: str) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError("Input file is larger than 2 GiB; split it with --shard or by hand", file=str(path))
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("Input file not found", file=str(path)) from None
    except IsADirectoryError:
        raise InputError("Input is a folder, not a file", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"Cannot read input file: {exc.strerror}", file=str(path)) from None
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
            file=str(path),
            line=line,
            value=bad.decode("latin-1"),
            hint="if the file came from Excel or Windows, run again with --encoding cp1252",
        ) from None


def read_accounts(path: Path, *, fmt: str | None = None, encoding: str = "utf-8") -> list[RawAccount]:
    """Read the whole file (a bad file must stop the run before anything is rendered)."""
    kind = detect_format(path, fmt)
    text = _decode(path, encoding)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InputError("Input holds a NUL byte: it is not a text export", file=str(path), line=line, hint="check the export settings or --encoding")
    accounts = _read_csv(path, text) if kind == "csv" else list(_read_jsonl(path, text))
    if not accounts:
        raise InputError("Input holds no records", file=str(path))
    return accounts


def _read_csv(path: Path, text: str) -> list[RawAccount]:
    name = str(path)
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
    line_no = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(
                f"Broken CSV quoting: {exc}", file=name, line=start, hint="a quote is not closed or a field holds a stray quote; fix the export"
            ) from None
        line_no = start
        if not any(cell.strip() for cell in row):
            continue
        values = {columns[i]: cell for i, cell in enumerate(row) if i < len(columns)}
        account_id = values.get("account_id", "").strip()
        raw_line = RawLine(line_no, {k: values.get(k, "") for k in LINE_FIELDS})
        if len(row) != len(columns):
            problem = (line_no, "", f"row has {len(row)} fields, the header has {len(columns)}: check quoting")
            if account_id and account_id in accounts:
                accounts[account_id].broken.append(problem)
            else:
                holder = RawAccount(account_id, name, line_no, {})
                holder.broken.append(problem)
                if account_id:
                    accounts[account_id] = holder
                else:
                    orphans.append(holder)
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
        if has_lines:
            account.lines.append(raw_line)
    ordered = sorted([*accounts.values(), *orphans], key=lambda a: a.first_line)
    return ordered


def _read_jsonl(path: Path, text: str) -> Iterator[RawAccount]:
    name = str(path)
    seen: dict[str, RawAccount] = {}
    # Split on "\n" only: str.splitlines() also breaks at U+2028 and U+0085, which JSON allows inside a string.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            account = RawAccount("", name, number, {})
            account.broken.append((number, "", f"not valid JSON: {exc.msg} at column {exc.colno}"))
            yield account
            continue
        if not isinstance(data, dict):
            account = RawAccount("", name, number, {})
            account.broken.append((number, "", "a line must hold one JSON object per account"))
            yield account
            continue
        account_id = data.get("account_id")
        account = RawAccount(str(account_id).strip() if account_id is not None else "", name, number, {k: data.get(k) for k in ACCOUNT_FIELDS})
        lines = data.get("lines", [])  # left out: no lines (validate says whether the mailing needs them)
        if not isinstance(lines, list):
            account.broken.append((number, "lines", "must be a list of tax lines"))
        else:
            for item in lines:
                if not isinstance(item, dict):
                    account.broken.append((number, "lines", "each tax line must be an object"))
                    continue
                account.lines.append(RawLine(number, {k: item.get(k) for k in LINE_FIELDS}))
        if account.account_id in seen:
            # Two objects for one account: neither can be trusted to be the notice to mail.
            first = seen[account.account_id]
            first.broken.append((first.first_line, "account_id", f"the same account is on line {number} too"))
            account.broken.append((number, "account_id", f"the same account is on line {first.first_line} too"))
        elif account.account_id:
            seen[account.account_id] = account
        yield account
