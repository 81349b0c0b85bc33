"""Turn a raw account into a typed Record, or into a Rejection whose problems name file, line and field."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .inputs import RawAccount, visible
from .model import MailingAddress, Problem, Record, Rejection, Sale, TaxLine

US_STATES = frozenset([
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
])
# ASCII digits only: \d alone would take Arabic-Indic or fullwidth digits, which a notice cannot print as such.
ZIP = re.compile(r"^\d{5}(-\d{4})?$", re.ASCII)
DELIVERY_POINT = re.compile(r"^\d{2}$", re.ASCII)
MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$", re.ASCII)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
CENT = Decimal("0.01")
NOT_AMOUNT = "not an amount: use plain dollars and cents like 1234.56 (no $ or commas, at most 2 decimals)"
# The largest amount, interest or penalty one tax line may hold: $99,999,999.99. Maryland's largest
# property-tax bills are a few million dollars a year, so a bigger figure is an export error (digits
# run together, a shifted decimal point), and it still fits the notice's amount column. It also keeps
# every sum far inside Decimal's 28 digits: a 28-digit amount used to stop the whole run unrendered.
MAX_AMOUNT = Decimal("99999999.99")
# The largest total (the lines' sum, total_due, or a sale figure such as the highest bid) one notice
# may show: $999,999,999.99, more than Baltimore City's whole yearly property-tax levy.
MAX_TOTAL = Decimal("999999999.99")
MAX_TEXT = 200
MAX_ID = 64
MAX_LINES = 200
MIN_ADVERTISEMENT_DAYS = 30
POST_SALE_DAYS = 60


@dataclass(frozen=True)
class Rules:
    """What validation needs to know about the mailing: its date, and whether it is after a sale."""

    notice_date: dt.date
    post_sale: bool = False
    printable: Callable[[str], str | None] | None = None  # returns the first unprintable character


class _Collect:
    def __init__(self, raw: RawAccount) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def add(self, reason: str, line: int | None, field: str | None, value: Any = None) -> None:
        # Escaped: the manifest and rejects file must be able to hold whatever the export held.
        shown = None if value is None else visible(_as_written(value)[:120])
        self.problems.append(Problem(visible(reason), self.raw.file, line, field, shown))

    def rejection(self) -> Rejection:
        return Rejection(visible(self.raw.account_id), self.raw.file, self.raw.first_line, tuple(self.problems))


def _as_written(value: Any, depth: int = 0) -> str:
    """A value as the roll wrote it: a JSON object, list or truth value in JSON (its numbers as read), not as Python shows it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if depth > 8 and isinstance(value, (dict, list)):
        return "…"  # the cell shows 120 characters at most
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_as_json(v, depth)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_as_json(v, depth) for v in value) + "]"
    return str(value)


def _as_json(value: Any, depth: int) -> str:
    """An item inside a JSON object or list: a string quoted, null as null."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "null" if value is None else _as_written(value, depth + 1)


def _text(c: _Collect, rules: Rules, key: str, value: Any, line: int, *, required: bool, limit: int = MAX_TEXT) -> str:
    if isinstance(value, (dict, list, bool)):  # only JSON gives these, and a notice cannot print them
        kind = "true or false" if isinstance(value, bool) else "list" if isinstance(value, list) else "object"
        c.add(f"must be text, not a JSON {kind}", line, key, value)
        return ""
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        if required:
            c.add("required value is missing", line, key)
        return ""
    if "\ufffd" in text:
        c.add("holds U+FFFD, the mark a conversion leaves where it could not read a letter: the letter is lost; export "
              "the roll again as UTF-8, or run with --encoding naming the file's real encoding", line, key, text)
        return ""
    if not text.isascii() and (garbled := mojibake(text)):
        stretch, meant = garbled
        c.add(f"{stretch!r} looks like {meant!r} read with the wrong encoding (UTF-8 taken for Windows-1252): if the run "
              "gave --encoding cp1252 or latin-1, run again with --encoding utf-8; otherwise fix the export at its source",
              line, key, text)
        return ""
    # isprintable() first: it is false for every such character, and true for most names, quickly.
    if not text.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text):
        c.add("holds a control or invisible character", line, key, text)
        return ""
    if len(text) > limit:
        c.add(f"longer than {limit} characters", line, key, text)
        return ""
    if rules.printable and (bad := rules.printable(text)):
        c.add(f"character {bad!r} (U+{ord(bad):04X}) cannot be printed with the bundled fonts", line, key, text)
        return ""
    return " ".join(text.split())


# What UTF-8's continuation bytes (0x80-0xBF) look like when a file is read as Windows-1252 or
# Latin-1, and the byte each such character stands for.
_CONTINUATION = {bytes([b]).decode(codec): b for codec in ("latin-1", "cp1252") for b in range(0x80, 0xC0)
                 if codec == "latin-1" or b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}
# A lead byte read the same way, then one to three continuation bytes. Two-byte sequences only from
# C2-C5 (they spell U+0080-U+017F, the letters a Maryland roll holds): a wider range would take
# genuine text such as "É’" (C9 92) for mojibake.
_GARBLED = re.compile("(?:[\u00c2-\u00c5]|[\u00e0-\u00f4][%s])[%s]" % ((re.escape("".join(_CONTINUATION)),) * 2))


def mojibake(text: str) -> tuple[str, str] | None:
    """The first stretch of ``text`` that is UTF-8 read as Windows-1252 or Latin-1 (e.g. 'Ã©' for 'é'), and what it meant."""
    for match in _GARBLED.finditer(text):
        start = match.start()
        lead = ord(text[start])
        size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        stretch = text[start : start + size]
        if len(stretch) < size or any(ch not in _CONTINUATION for ch in stretch[1:]):
            continue
        try:
            meant = bytes([lead, *(_CONTINUATION[ch] for ch in stretch[1:])]).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return stretch, meant
    return None


def _money(c: _Collect, key: str, value: Any, line: int, *, required: bool, limit: Decimal = MAX_AMOUNT) -> Decimal:
    """A non-negative amount in cents, at most ``limit``; 0 (and a problem) when it is not one."""
    if isinstance(value, Decimal):  # a JSON number: 1e3 is a number like any other (the schema allows it)
        amount, shown = value, str(value)
        if not amount.is_finite():
            c.add("not an amount: NaN and Infinity are not money", line, key, shown)
            return Decimal("0")
    else:
        shown = "" if value is None else str(value).strip()
        if not shown:
            if required:
                c.add("required amount is missing", line, key)
            return Decimal("0")
        if not MONEY.match(shown):
            c.add(NOT_AMOUNT, line, key, shown)
            return Decimal("0")
        amount = Decimal(shown)
    # Compared before any arithmetic: Decimal compares numbers of any size, but rounding 1e28 to cents overflows.
    if amount < 0:
        c.add("amount must not be negative (net credits into the lines they reduce)", line, key, shown)
        return Decimal("0")
    if amount > limit:
        c.add(f"more than ${limit:,} (the most one amount may be): check for digits run together or a shifted "
              "decimal point", line, key, shown)
        return Decimal("0")
    cents = amount.quantize(CENT)
    if cents != amount:
        c.add(NOT_AMOUNT, line, key, shown)
    # A zero written "-0.00" stays Decimal("-0.00") and would print as "-$0.00".
    return cents if cents else Decimal("0.00")


def _date(c: _Collect, key: str, value: Any, line: int, *, required: bool) -> dt.date | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            c.add("required date is missing", line, key)
        return None
    try:
        # The pattern first: fromisoformat also takes 20270315 and 2027-W11-1, which the format does not promise.
        if DATE.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    c.add("not a date: use YYYY-MM-DD", line, key, text)
    return None


def _flag(c: _Collect, key: str, value: Any, line: int) -> bool:
    text = "" if value is None else str(value).strip().lower()
    if text in ("", "0", "n", "no", "false"):
        return False
    if text in ("1", "y", "yes", "true"):
        return True
    c.add("not yes or no", line, key, text)
    return False


def validate(raw: RawAccount, rules: Rules) -> Record | Rejection:
    """Check one account completely, gathering every problem rather than stopping at the first."""
    c = _Collect(raw)
    f = raw.fields
    at = raw.first_line
    for flaw in raw.broken:
        c.add(flaw.reason, flaw.line, flaw.field or None, flaw.value)
    for line, key, value in raw.conflicts:
        c.add(f"disagrees with line {at} of the same account", line, key, value)
    if raw.broken and not raw.fields:
        # Nothing could be read (broken JSON, a row with the wrong number of fields): "owner_name
        # is missing" and the like would only hide the one real problem.
        return c.rejection()

    account_id = _account_id(c, rules, raw.account_id, at)
    owners = tuple(
        o
        for o in (
            _text(c, rules, "owner_name", f.get("owner_name"), at, required=True),
            _text(c, rules, "owner_name_2", f.get("owner_name_2"), at, required=False),
        )
        if o
    )
    given_state = _text(c, rules, "mailing_state", f.get("mailing_state"), at, required=True)
    state = given_state.upper()
    if state and state not in US_STATES:
        c.add("not a two-letter USPS state code", at, "mailing_state", given_state)
    zip_code = _text(c, rules, "mailing_zip", f.get("mailing_zip"), at, required=True)
    if zip_code and not ZIP.match(zip_code):
        c.add("not a ZIP code: use 12345 or 12345-6789", at, "mailing_zip", zip_code)
    delivery_point = _text(c, rules, "delivery_point", f.get("delivery_point"), at, required=False)
    if delivery_point and not DELIVERY_POINT.match(delivery_point):
        c.add("not a delivery point: use two digits, e.g. 07", at, "delivery_point", delivery_point)
    elif delivery_point and zip_code and len(zip_code) != 10:
        c.add("a delivery point needs the ZIP+4 (12345-6789) it belongs to", at, "delivery_point", delivery_point)
    mailing = MailingAddress(
        line1=_text(c, rules, "mailing_address_1", f.get("mailing_address_1"), at, required=True),
        line2=_text(c, rules, "mailing_address_2", f.get("mailing_address_2"), at, required=False),
        city=_text(c, rules, "mailing_city", f.get("mailing_city"), at, required=True),
        state=state,
        zip=zip_code,
        delivery_point=delivery_point,
    )
    property_address = _text(c, rules, "property_address", f.get("property_address"), at, required=True)

    lines: list[TaxLine] = []
    # After a tax sale the lines only itemize the lien amount, so a sale-results row may carry none.
    given = [item for item in raw.lines if not (rules.post_sale and _blank_line(item.fields))]
    if not given and not raw.broken and not rules.post_sale:
        c.add("account has no tax lines", at, "lines")
    if len(given) > MAX_LINES:
        c.add(f"account has {len(given)} tax lines; more than {MAX_LINES} cannot be printed as one notice", at, "lines")
    for item in given[:MAX_LINES]:
        v = item.fields
        lines.append(
            TaxLine(
                source=_text(c, rules, "source", v.get("source"), item.line, required=True, limit=80),
                period=_text(c, rules, "period", v.get("period"), item.line, required=True, limit=40),
                amount=_money(c, "amount", v.get("amount"), item.line, required=True),
                interest=_money(c, "interest", v.get("interest"), item.line, required=False),
                penalty=_money(c, "penalty", v.get("penalty"), item.line, required=False),
                line=item.line,
            )
        )
    total = sum((line.total for line in lines), Decimal("0"))
    if total > MAX_TOTAL:
        c.add(f"the tax lines add up to ${total:,}, more than ${MAX_TOTAL:,} (the most one notice may show): check the "
              "amounts for digits run together or a shifted decimal point", at, "total_due", str(total))
    given_total = f.get("total_due")
    if given_total not in (None, ""):
        stated = _money(c, "total_due", given_total, at, required=False, limit=MAX_TOTAL)
        if not c.problems and stated != total:
            c.add(f"total_due does not equal the sum of the lines ({total})", at, "total_due", given_total)
    if lines and not c.problems and total <= 0:
        c.add("nothing is due: the lines sum to zero", at, "amount", str(total))

    advertised = _date(c, "first_advertisement_date", f.get("first_advertisement_date"), at, required=False)
    if advertised and (advertised - rules.notice_date).days < MIN_ADVERTISEMENT_DAYS:
        c.add(
            f"first advertisement must be at least {MIN_ADVERTISEMENT_DAYS} days after the notice date "
            f"{rules.notice_date.isoformat()} (Tax-Property § 14-812(a)(1))",
            at,
            "first_advertisement_date",
            advertised.isoformat(),
        )

    sale = _sale(c, f, at, rules) if rules.post_sale else None
    if sale is not None and lines and not c.problems and total != sale.lien_amount:
        c.add(f"the tax lines itemize the lien amount at the time of sale and must add up to it; they sum to {total}",
              at, "lien_amount", str(sale.lien_amount))
    if c.problems:
        return c.rejection()
    return Record(
        account_id=account_id,
        owners=owners,
        mailing=mailing,
        property_address=property_address,
        lines=tuple(lines),
        source_file=raw.file,
        source_lines=raw.source_lines,
        first_advertisement_date=advertised,
        sale=sale,
    )


def _sale(c: _Collect, f: dict[str, Any], at: int, rules: Rules) -> Sale | None:
    sale_date = _date(c, "sale_date", f.get("sale_date"), at, required=True)
    amounts = {
        key: _money(c, key, f.get(key), at, required=True, limit=MAX_TOTAL)
        for key in ("highest_bid", "lien_amount", "redemption_before_filing", "redemption_after_filing")
    }
    occupied = _flag(c, "owner_occupied", f.get("owner_occupied"), at)
    if amounts["lien_amount"] == 0 and not any(p.field == "lien_amount" for p in c.problems):
        c.add("the lien amount at the time of sale must be more than zero", at, "lien_amount", f.get("lien_amount"))
    purchaser = _text(c, rules, "purchaser", f.get("purchaser"), at, required=False)
    if sale_date is None:
        return None
    if sale_date > rules.notice_date:
        c.add("the sale date is after the notice date", at, "sale_date", sale_date.isoformat())
    elif (rules.notice_date - sale_date).days > POST_SALE_DAYS:
        c.add(
            f"the notice after tax sale must be mailed within {POST_SALE_DAYS} days after the sale "
            f"(Tax-Property § 14-817.1(a)); the notice date is {(rules.notice_date - sale_date).days} days after it",
            at,
            "sale_date",
            sale_date.isoformat(),
        )
    return Sale(sale_date, amounts["highest_bid"], amounts["lien_amount"], amounts["redemption_before_filing"],
                amounts["redemption_after_filing"], occupied, purchaser)


def _blank_line(fields: dict[str, Any]) -> bool:
    return all(value is None or not str(value).strip() for value in fields.values())


def _account_id(c: _Collect, rules: Rules, given: str, at: int) -> str:
    """The account id, which names the piece's file and must not pass for another account's id."""
    account_id = _text(c, rules, "account_id", given, at, required=True, limit=MAX_ID)
    if account_id and ("/" in account_id or "\\" in account_id or ".." in account_id):
        c.add("account id must not hold a path", at, "account_id", account_id)
    elif odd := next((ch for ch in account_id if not " " <= ch <= "~"), None):
        # Cyrillic "Р" prints like Latin "P": such an id names another account than the one it looks like.
        c.add(f"account id holds {odd!r} (U+{ord(odd):04X} {unicodedata.name(odd, 'unnamed')}), not a plain ASCII "
              "letter, digit or mark: it may look like another letter; fix the id in the export", at, "account_id", account_id)
    return account_id


def reject_unrecognised(raw: RawAccount, reason: str) -> Rejection:
    return Rejection(visible(raw.account_id), raw.file, raw.first_line,
                     (Problem(visible(reason), raw.file, raw.first_line),))
