"""Turn a raw account into a typed Record, or into a Rejection whose problems name file, line and field."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .inputs import RawAccount
from .model import MailingAddress, Problem, Record, Rejection, Sale, TaxLine

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI AA AE AP".split()
)
ZIP = re.compile(r"^\d{5}(-\d{4})?$")
MONEY = re.compile(r"^-?\d+(\.\d{1,2})?$")
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
        shown = None if value is None else str(value)[:120]
        self.problems.append(Problem(reason, self.raw.file, line, field, shown))


def _text(c: _Collect, rules: Rules, key: str, value: Any, line: int, *, required: bool, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        if required:
            c.add("required value is missing", line, key)
        return ""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text):
        c.add("holds a control or invisible character", line, key, text)
        return ""
    if len(text) > limit:
        c.add(f"longer than {limit} characters", line, key, text)
        return ""
    if rules.printable and (bad := rules.printable(text)):
        c.add(f"character {bad!r} (U+{ord(bad):04X}) cannot be printed with the bundled fonts", line, key, text)
        return ""
    return " ".join(text.split())


def _money(c: _Collect, key: str, value: Any, line: int, *, required: bool) -> Decimal:
    if isinstance(value, Decimal):
        value = format(value, "f")  # a JSON number such as 1e3 is a number like any other (the schema allows it)
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            c.add("required amount is missing", line, key)
        return Decimal("0")
    if not MONEY.match(text):
        c.add("not an amount: use plain dollars and cents like 1234.56 (no $ or commas, at most 2 decimals)", line, key, text)
        return Decimal("0")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        c.add("not an amount", line, key, text)
        return Decimal("0")
    if amount < 0:
        c.add("amount must not be negative (net credits into the lines they reduce)", line, key, text)
    return amount.quantize(Decimal("0.01"))


def _date(c: _Collect, key: str, value: Any, line: int, *, required: bool) -> dt.date | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            c.add("required date is missing", line, key)
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
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
    for line, key, reason in raw.broken:
        c.add(reason, line, key or None)
    for line, key, value in raw.conflicts:
        c.add(f"disagrees with line {at} of the same account", line, key, value)
    if raw.broken and not raw.fields:
        # Nothing could be read (broken JSON, a row with the wrong number of fields): "owner_name
        # is missing" and the like would only hide the one real problem.
        return Rejection(raw.account_id, raw.file, at, tuple(c.problems))

    account_id = _text(c, rules, "account_id", raw.account_id, at, required=True, limit=MAX_ID)
    if account_id and ("/" in account_id or "\\" in account_id or ".." in account_id):
        c.add("account id must not hold a path", at, "account_id", account_id)
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
    mailing = MailingAddress(
        line1=_text(c, rules, "mailing_address_1", f.get("mailing_address_1"), at, required=True),
        line2=_text(c, rules, "mailing_address_2", f.get("mailing_address_2"), at, required=False),
        city=_text(c, rules, "mailing_city", f.get("mailing_city"), at, required=True),
        state=state,
        zip=zip_code,
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
    given_total = f.get("total_due")
    if given_total not in (None, ""):
        stated = _money(c, "total_due", given_total, at, required=False)
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
        return Rejection(raw.account_id, raw.file, at, tuple(c.problems))
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
        key: _money(c, key, f.get(key), at, required=True)
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


def reject_unrecognised(raw: RawAccount, reason: str) -> Rejection:
    return Rejection(raw.account_id, raw.file, raw.first_line, (Problem(reason, raw.file, raw.first_line),))
