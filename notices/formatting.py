"""Turn money, dates and numbers into text for the notice's locale, with Babel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"en": "en_US", "es": "es_US"}
# At most these round to zero (half-even, Babel's rounding), which must print without a minus sign.
HALF_CENT = Decimal("0.005")
HALF_THOUSANDTH = Decimal("0.0005")


def locale_for(language: str) -> str:
    return LOCALES.get(language, language)


def money(value: Decimal, locale: str = "en_US") -> str:
    """Dollars and cents; an amount that rounds to zero prints as $0.00, never -$0.00 (a -0 has a sign)."""
    if abs(value) <= HALF_CENT:
        value = abs(value)
    return format_currency(value, "USD", locale=locale, currency_digits=True)


def long_date(value: dt.date, locale: str = "en_US") -> str:
    return format_date(value, "long", locale=locale)


def number(value: int | Decimal, locale: str = "en_US") -> str:
    """A number as the locale writes it (at most three decimals); never "-0"."""
    amount = Decimal(value)
    if abs(amount) <= HALF_THOUSANDTH:
        amount = abs(amount)
    return format_decimal(amount, locale=locale)


def filters(locale: str) -> dict[str, object]:
    """The Jinja filters a template uses, bound to one locale."""
    return {
        "money": lambda v: money(Decimal(v), locale),
        "longdate": lambda v: long_date(v, locale),
        "number": lambda v: number(v, locale),
    }
