"""Turn money, dates and numbers into text for the notice's locale, with Babel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"en": "en_US", "es": "es_US"}


def locale_for(language: str) -> str:
    return LOCALES.get(language, language)


def money(value: Decimal, locale: str = "en_US") -> str:
    return format_currency(value, "USD", locale=locale, currency_digits=True)


def long_date(value: dt.date, locale: str = "en_US") -> str:
    return format_date(value, "long", locale=locale)


def number(value: int | Decimal, locale: str = "en_US") -> str:
    return format_decimal(value, locale=locale)


def filters(locale: str) -> dict[str, object]:
    """The Jinja filters a template uses, bound to one locale."""
    return {
        "money": lambda v: money(Decimal(v), locale),
        "longdate": lambda v: long_date(v, locale),
        "number": lambda v: number(v, locale),
    }
