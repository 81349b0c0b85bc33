"""Turn money, dates and numbers into text for the notice's locale, with Babel."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"en": "en_US", "es": "es_US"}
# At most these round to zero (half-even, Babel's rounding), which must print without a minus sign.
HALF_CENT = Decimal("0.005")
HALF_THOUSANDTH = Decimal("0.0005")


def locale_for(language: str) -> str:
    return LOCALES.get(language, language)


def money(value: Decimal, locale: str | Locale = "en_US") -> str:
    """Dollars and cents; an amount that rounds to zero prints as $0.00, never -$0.00 (a -0 has a sign)."""
    if abs(value) <= HALF_CENT:
        value = abs(value)
    return format_currency(value, "USD", locale=locale, currency_digits=True)


def long_date(value: dt.date, locale: str | Locale = "en_US") -> str:
    return format_date(value, "long", locale=locale)


def number(value: int | Decimal, locale: str | Locale = "en_US") -> str:
    """A number as the locale writes it (at most three decimals); never "-0"."""
    amount = Decimal(value)
    if abs(amount) <= HALF_THOUSANDTH:
        amount = abs(amount)
    return format_decimal(amount, locale=locale)


def filters(locale: str) -> dict[str, object]:
    """The Jinja filters a template uses, bound to one locale.

    The locale is parsed once here, not on every call (Babel takes a parsed ``Locale`` as it is).
    Amounts and dates are remembered by their exact value, written out: a notice prints its total
    twice and the same two dates on every piece. The text depends on that value alone (Babel
    rounds under the default decimal context, which nothing that composes changes).
    """
    parsed = Locale.parse(locale)

    @functools.lru_cache(maxsize=4096)
    def money_of(exact: str) -> str:
        return money(Decimal(exact), parsed)

    @functools.lru_cache(maxsize=256)
    def date_of(value: dt.date) -> str:
        return long_date(value, parsed)

    return {
        # str() of a Decimal keeps its sign, digits and exponent, so equal keys are the same Decimal.
        "money": lambda v: money_of(str(Decimal(v))),
        # Plain dates only: two aware datetimes can be equal and fall on different days.
        "longdate": lambda v: date_of(v) if type(v) is dt.date else long_date(v, parsed),
        "number": lambda v: number(v, parsed),
    }
