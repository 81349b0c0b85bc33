"""Turn a block's requirements, and the dates and dollar amounts a notice prints, into patterns and values."""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal, InvalidOperation

from ..model import Collector
from .pdftext import words

TOTAL = re.compile(r"(?i)\btotal\b")
_MONEY = re.compile(r"(-|\()?\s*(?:US)?\$\s?(\d{1,3}(?:,\d{3})+|\d+)\.(\d\d)\)?|(-)?(\d{1,3}(?:[.,]\d{3})+|\d+),(\d\d)\s?(?:US)?\$")
_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"], start=1)},
    **{m: i for i, m in enumerate(
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"], start=1)},
}
_DATE = (
    r"(?P<month>[A-Za-z]+)\.? (?P<day>\d{1,2}),? (?P<year>\d{4})"
    r"|(?P<day2>\d{1,2}) de (?P<month2>[a-z]+) de (?P<year2>\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{4})"
)
# The "Date" line: the word Date (capitalised, as the statute prints it), then a date.
DATE_LINE = re.compile(r"(?<!\w)Date(?:\s*/\s*\w+)?\s*:?\s*(?:" + _DATE + r")")
# A first-advertisement date printed on a statement.
ADVERTISED = re.compile(r"(?i)advertis\w*[^.]{0,60}?(?:" + _DATE + r")")
OWNER_LABEL = re.compile(
    r"(?<!\w)(?:owner on the tax roll|owner of record|owner's name|owner name|name of owner|(?:property )?owner\s*:"
    r"|propietario en el registro de impuestos|nombre del propietario|propietario\s*:)\s*:?\s*"
)


@functools.lru_cache(maxsize=1024)
def _fact_pattern(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if 10 <= len(digits) <= 11 and re.fullmatch(r"[\d\s().+\-]+", value):
        d = digits[-10:]
        return rf"(?<!\d)(?:1[\s.\-]?)?\(?{d[:3]}\)?[\s.\-]?{d[3:6]}[\s.\-]?{d[6:]}(?!\d)"
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.strip().lower()).rstrip("/")
    if re.fullmatch(r"[a-z0-9.\-]+\.[a-z]{2,}(?:/\S*)?", host):
        # A web address may be broken at a slash or a dot at the end of a line.
        return r"(?:https?://)?(?:www\.)?" + "".join(re.escape(ch) + (r"\s?" if ch in "/." else "") for ch in host)
    return phrase_pattern(value)


@functools.lru_cache(maxsize=1024)
def phrase_pattern(value: str) -> str:
    """The words of ``value``, lower case, any spaces between them, beginning a word (not right after a \\w character)."""
    folded = [w.lower() for w in words(value)]
    if not folded:
        return r"(?<!\w)"
    # "(?<!\w)x" tested after the x, as "x(?<!\w.)" (x is never a line break): the same matches, but re
    # finds a pattern that begins with a character quickly, and tries one that begins with a look-behind
    # at every position.
    first = folded[0]
    return (re.escape(first[0]) + r"(?<!\w.)" + re.escape(first[1:])
            + "".join(r"\s+" + re.escape(w) for w in folded[1:]))


def requirement(spec: str, collector: Collector) -> tuple[re.Pattern[str], str] | None:
    """A requirement of a block's ``expect`` list as a pattern, or None when every alternative is an absent fact.

    ``spec`` holds alternatives separated by ``|``; ``{dotted.path}`` is a fact of the collector
    profile (a phone number matches however it is punctuated, a web address with or without
    ``https://www.``), anything else is a phrase that must begin a word (``foreclos`` finds
    foreclosure).
    """
    return _requirement(spec, tuple(_fact(collector, fact) if fact else None for _, fact in _alternatives(spec)))


def _fact(collector: Collector, path: str) -> str | None:
    """A profile fact as the requirement prints it, or None when it is absent (no value, a table, a list, blank)."""
    value = collector.get(path)
    if value is None or isinstance(value, (dict, list)) or not str(value).strip():
        return None
    return str(value)


@functools.lru_cache(maxsize=1024)  # the same requirements, with the same facts, are looked for in every piece
def _requirement(spec: str, facts: tuple[str | None, ...]) -> tuple[re.Pattern[str], str] | None:
    """The pattern of ``spec``, given the value of each of its alternatives that names a fact."""
    alternatives: list[str] = []
    shown: list[str] = []
    for (alt, fact), value in zip(_alternatives(spec), facts, strict=True):
        if fact:
            if value is None:
                continue
            alternatives.append(_fact_pattern(value))
            shown.append(value)
        else:
            alternatives.append(phrase_pattern(alt))
            shown.append(f"“{alt}”")
    if not alternatives:
        return None
    return re.compile("|".join(f"(?:{a})" for a in alternatives)), " or ".join(shown)


@functools.lru_cache(maxsize=1024)
def _alternatives(spec: str) -> tuple[tuple[str, str], ...]:
    """The alternatives of a requirement: (phrase, "") or (alternative, dotted path of the profile fact it names)."""
    out = []
    for alt in (a.strip() for a in spec.split("|")):
        fact = re.fullmatch(r"\{([\w.]+)\}", alt)
        if alt:
            out.append((alt, fact.group(1) if fact else ""))
    return tuple(out)


def parse_date(match: re.Match[str]) -> dt.date | None:
    """The date a match of DATE_LINE or ADVERTISED shows, or None when it is no real date."""
    g = match.groupdict()
    try:
        if g.get("iso"):
            return dt.date.fromisoformat(g["iso"])
        if g.get("y3"):
            return dt.date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
        month = g.get("month") or g.get("month2") or ""
        number = _MONTHS.get(month.lower()) or _MONTHS.get(month.lower()[:3], 0)
        if not number:
            for name, value in _MONTHS.items():
                if len(month) >= 3 and name.startswith(month.lower()):
                    number = value
                    break
        day = g.get("day") or g.get("day2")
        year = g.get("year") or g.get("year2")
        return dt.date(int(year), number, int(day)) if number and day and year else None
    except ValueError:
        return None


def money_amounts(line: str) -> list[Decimal]:
    """The dollar amounts a line of text shows, in order ($1,234.56, -$5.00, ($5.00), 1.234,56 US$)."""
    amounts: list[Decimal] = []
    if "$" not in line:
        return amounts  # every form the pattern knows has a dollar sign
    for m in _MONEY.finditer(line):
        try:
            if m.group(2) is not None:
                value = Decimal(m.group(2).replace(",", "") + "." + m.group(3))
                negative = bool(m.group(1))
            else:
                value = Decimal(re.sub(r"[.,]", "", m.group(5)) + "." + m.group(6))
                negative = bool(m.group(4))
        except InvalidOperation:
            continue
        amounts.append(-value if negative else value)
    return amounts
