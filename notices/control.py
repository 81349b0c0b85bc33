"""Check a roll export against the record count and control total its source system reported for it.

A tax-roll system that exports a mailing can say how many accounts it wrote and what their amounts
add up to. Checking the file against those figures before anything is rendered catches an export
cut off at a row boundary (which reads as a smaller, valid file: the last account would print a
lower total than it owes) and rows lost or added on the way to the print shop.

What is counted, and why:

- **records** is the number of accounts in the file: distinct ``account_id`` values in a CSV, objects
  in a JSON Lines file, plus any row or line that could not be tied to an account. It is the number
  of rows the manifest will have, rendered and rejected alike, so the control count checks what the
  run accounts for.
- **total** is the sum of every amount the file states, as written, rejected accounts included: for
  each tax-line row (a repeated row too), ``amount + interest + penalty``; for an account without
  tax-line amounts (a sale-results row), its ``lien_amount``. The source system added up what it
  exported, not what this tool accepts: leaving rejected accounts out would make any run with one
  rejection fail to reconcile, and the check would no longer tell a lost row from a bad one. An
  amount is read leniently for this sum (a sign, ``$``, thousands commas and extra decimals are
  taken as written), so ``-125.00`` or ``1.005``, which validation rejects, still count. A cell
  that is not a number at all (``12,34x``), or a row that could not be read, cannot be counted:
  when the totals then differ, the error lists those cells, since they may hold the difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from .errors import InputError
from .inputs import RawAccount, visible

MONEY_FIELDS = ("amount", "interest", "penalty")
# Lenient on purpose (see the module docstring): the control total is the source system's sum.
_NUMBER = re.compile(r"[-+]?\$?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_THOUSANDS = re.compile(r"[-+]?\$?\d{1,3}(,\d{3})+(\.\d*)?", re.ASCII)  # 1,234.56, not 12,34 (a decimal comma?)
_COUNT = re.compile(r"\d+", re.ASCII)
_TOO_BIG = 30  # digits before the point: past this a value is no amount, and adding it would overflow


@dataclass(frozen=True)
class Control:
    """The figures the export's source system reported: its account count and the sum of its amounts."""

    records: int | None = None
    total: Decimal | None = None
    file: str | None = None  # the control file they were read from, for the error


@dataclass(frozen=True)
class Unread:
    """An amount the control total could not count: its line, field and value as written."""

    line: int
    field: str
    value: str

    def __str__(self) -> str:
        return f"line {self.line} {self.field} {self.value!r}" if self.field else f"line {self.line} (unreadable row)"


def read_control(path: Path) -> Control:
    """Read the control figures from a small file, in either of two forms.

    Two lines of text (blank lines and ``#`` comments allowed)::

        records=13
        total=25123.45

    or one JSON object: ``{"records": 13, "total": "25123.45"}`` (the total as a string or a number).
    Either figure may be left out, not both. ``records`` is a whole number; ``total`` a plain decimal
    (a minus sign allowed, no ``$`` or commas). Anything else is an InputError naming the control
    file, its line and the key.
    """
    name = visible(str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"Cannot read the control file: {exc.strerror}", file=name) from None
    except UnicodeDecodeError:
        raise InputError("The control file is not UTF-8 text", file=name) from None
    given = _json_pairs(text, name) if text.lstrip().startswith("{") else _text_pairs(text, name)
    figures: dict[str, Any] = {}
    for line, key, value in given:
        if key not in ("records", "total"):
            raise InputError("Unknown key in the control file: use records and total", file=name, line=line, field=key)
        if key in figures:
            raise InputError("The control file gives this key twice", file=name, line=line, field=key)
        figures[key] = _figure(key, value, name, line)
    if not figures:
        raise InputError("The control file gives neither records nor total", file=name,
                         hint="write records=N and total=1234.56 on two lines")
    return Control(figures.get("records"), figures.get("total"), name)


def _text_pairs(text: str, name: str) -> list[tuple[int | None, str, Any]]:
    pairs: list[tuple[int | None, str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise InputError("A control file line must read key=value, e.g. records=13", file=name, line=number, value=visible(line))
        pairs.append((number, key.strip().lower(), value.strip()))
    return pairs


def _json_pairs(text: str, name: str) -> list[tuple[int | None, str, Any]]:
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=list)
    except (json.JSONDecodeError, RecursionError):
        raise InputError("The control file is not valid JSON", file=name) from None
    if not isinstance(data, list):
        raise InputError("The control file must hold one JSON object", file=name)
    return [(None, key.strip().lower(), value) for key, value in data]


def _figure(key: str, value: Any, name: str, line: int | None) -> int | Decimal:
    text = str(value).strip() if isinstance(value, (str, Decimal)) else ""
    if key == "records":
        if _COUNT.fullmatch(text):
            return int(text)
        raise InputError("records must be a whole number of accounts", file=name, line=line, field=key, value=visible(str(value)))
    if re.fullmatch(r"-?\d+(\.\d+)?", text, re.ASCII) and len(text) <= _TOO_BIG:
        return Decimal(text)
    raise InputError("total must be a plain amount like 1234.56 (no $ or commas)", file=name, line=line, field=key,
                     value=visible(str(value)))


class Tally:
    """The file's account count and total, added up one account at a time as the run reads them."""

    def __init__(self) -> None:
        self.records = 0
        self.total = Decimal("0")
        self.unread: list[Unread] = []  # the amounts that could not be counted: few, or the file is refused anyway
        self.file: str | None = None

    def add(self, account: RawAccount) -> None:
        self.records += 1
        self.file = self.file or account.file
        self.unread.extend(Unread(line, "", "") for line in account.unread)
        with localcontext() as exact:
            exact.prec = 2 * _TOO_BIG  # every sum of amounts below 10**30 is then exact
            for line, key, value in _cells(account):
                amount = _amount(value)
                if amount is None:
                    self.unread.append(Unread(line, key, visible(str(value))[:40]))
                else:
                    self.total += amount

    def check(self, control: Control, *, file: str | None = None) -> None:
        """Refuse the file (InputError) when it does not hold the accounts and amounts the control figures say.

        ``file`` names it in the error, by default as the accounts do. A figure the control leaves out
        is not checked.
        """
        file = file or self.file
        wrong: list[tuple[str, str]] = []
        if control.records is not None and self.records != control.records:
            wrong.append(("records", f"the file holds {self.records:,} accounts, the control count is {control.records:,}"))
        unread: list[Unread] = []
        if control.total is not None:
            unread = self.unread
            if self.total != control.total:
                wrong.append(("total", f"its amounts add up to {self.total:,}, the control total is {control.total:,} "
                                       f"(a difference of {self.total - control.total:,})"))
        if not wrong:
            return
        hint = "the export may be cut off or hold rows it should not; export it again, or check the control figures"
        if control.file:
            hint += f" in {control.file}"
        if unread:
            shown = "; ".join(str(u) for u in unread[:5]) + ("; ..." if len(unread) > 5 else "")
            hint += f". {len(unread)} amount(s) could not be counted and may hold the difference: {shown}"
        raise InputError("The file does not match its control figures: " + "; ".join(text for _, text in wrong),
                         file=file, field=wrong[0][0], hint=hint)


def file_total(accounts: Iterable[RawAccount]) -> tuple[Decimal, list[Unread]]:
    """The sum of every amount the file states (see the module docstring), and the amounts it could not count."""
    tally = Tally()
    for account in accounts:
        tally.add(account)
    return tally.total, tally.unread


def _cells(account: RawAccount) -> list[tuple[int, str, Any]]:
    """(line, field, value) of each amount the account states: its tax lines', or else its lien amount."""
    cells = [(line.line, key, line.fields.get(key)) for line in account.lines for key in MONEY_FIELDS]
    cells = [cell for cell in cells if not _blank(cell[2])]
    if not cells and not _blank(account.fields.get("lien_amount")):
        return [(account.first_line, "lien_amount", account.fields.get("lien_amount"))]
    return cells


def reconcile(accounts: Iterable[RawAccount], control: Control, *, file: str | None = None) -> None:
    """Refuse the file (InputError) when it does not hold the accounts and amounts the control figures say.

    ``accounts`` is what ``read_accounts`` returned, before validation (and before any shard is
    taken: the figures are the whole file's); ``file`` names it in the error, by default as the
    accounts do. Call it before rendering: a file that does not reconcile is incomplete or altered,
    and no piece of it should be mailed. A run adds its accounts to a ``Tally`` as it checks them.
    """
    tally = Tally()
    for account in accounts:
        tally.add(account)
    tally.check(control, file=file)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _amount(value: Any) -> Decimal | None:
    """An amount as the source system would have added it up, or None when it is not a number."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if not (_NUMBER.fullmatch(text) or _THOUSANDS.fullmatch(text)):
            return None
        amount = Decimal(text.replace(",", "").replace("$", ""))
    else:
        return None
    if not amount.is_finite() or amount.adjusted() >= _TOO_BIG:
        return None
    return amount
