"""The project's own words never contradict the statute's: every document of every mailing of both shipped
collectors is composed, and the facts its prose states (durations with "up to" / "at least" / "within",
dollar amounts, ages, phone numbers, web addresses) are compared with the same kind of fact in the
statute blocks in force. The statute's words stand; a prose fact that disagrees with one fails.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from conftest import CITY_CSV, ROOT

from notices.collectors import load_collector
from notices.compose import Composer
from notices.deadlines import statement_dates
from notices.errors import LawError
from notices.inputs import read_accounts
from notices.model import Block, Record
from notices.resolve import Plan, plan
from notices.statutes import load_registry
from notices.validate import Rules, validate

COLLECTORS = ("baltimore-city", "baltimore-county")
# Before and after Chapter 108 (2027-05-01): the nine- and ten-item inserts, with and without § 4-201.2.
DATES = (dt.date(2027, 2, 1), dt.date(2027, 7, 1))
NUMBER = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "thirty": 30, "sixty": 60, "ninety": 90}
_N = r"(\d+|" + "|".join(NUMBER) + r")"
# A bound on a duration: the same number of the same unit said as a ceiling in one place and a floor in
# the other is the contradiction this catches ("up to 3 years" against "at least 3 years"). "As early
# as" is left out: it dates an event (the earliest foreclosure filing), it does not bound a duration,
# so a county's "redeem within 6 months" agrees with "foreclosure as early as 6 months after the sale".
CEILING = ("up to", "within", "at most", "no more than", "not more than", "on or before")
FLOOR = ("at least", "no less than", "not less than")
DURATION = re.compile(r"\b(" + "|".join(CEILING + FLOOR) + r")\s+" + _N + r"\s+(year|month|day)s?\b", re.I)
MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d\d)?)")
AGE = re.compile(r"\b" + _N + r"\s+years?\s+(?:old|of age)\b|\bage\s+(\d+)\b|\b(\d+)\s+or\s+older\b", re.I)
PHONE = re.compile(r"(?:1-)?\(?\b\d{3}\)?[\s.-]\d{3}-\d{4}\b")
WEB = re.compile(r"\b((?:https?://)?(?:[a-z0-9-]+\.)+(?:gov|org|com|net|us)(?:/[\w./-]*)?)", re.I)
STATEMENT = re.compile(r'<(p|h1|h2|h3|div|strong|span) class="statement[^"]*" data-block="[^"]*"[^>]*>.*?</\1>', re.S)
TRANSLATION = re.compile(r'<(p|div|span) class="translation[^"]*" lang="[^"]*">.*?</\1>', re.S)


@dataclass(frozen=True)
class Fact:
    kind: str  # duration, money, age, phone, web
    value: str  # normalised: "3 year", "250.00", "70", "8337328411", "dat.maryland.gov/taxsale"
    bound: str = ""  # for a duration: "ceiling" or "floor"
    said: str = ""  # the words, for the failure message


def number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER[word.lower()]


def facts(text: str) -> Iterator[Fact]:
    """The facts of the kinds that matter that a text states, each normalised for comparison."""
    text = " ".join(text.split())
    for m in DURATION.finditer(text):
        bound = "ceiling" if m.group(1).lower() in CEILING else "floor"
        yield Fact("duration", f"{number(m.group(2))} {m.group(3).lower()}", bound, m.group(0))
    for m in MONEY.finditer(text):
        yield Fact("money", f"{float(m.group(1).replace(',', '')):.2f}", said=m.group(0))
    for m in AGE.finditer(text):
        yield Fact("age", str(number(next(g for g in m.groups() if g))), said=m.group(0))
    for m in PHONE.finditer(text):
        yield Fact("phone", re.sub(r"\D", "", m.group(0)).removeprefix("1"), said=m.group(0))
    for m in WEB.finditer(text):
        yield Fact("web", re.sub(r"^https?://", "", m.group(1).lower()).rstrip("./"), said=m.group(0))


def contradictions(prose: list[Fact], statute: list[Fact]) -> list[str]:
    """Each prose fact that disagrees with a statute fact of its kind, as 'prose ≠ statute'."""
    found = []
    for p in prose:
        same_kind = [s for s in statute if s.kind == p.kind]
        if not same_kind:
            continue
        if p.kind == "duration":
            # The same period with the opposite bound: "up to 3 years" against "at least 3 years".
            found += [f"{p.said!r} ≠ {s.said!r}" for s in same_kind if s.value == p.value and s.bound != p.bound]
        elif p.kind == "age":
            found += [f"{p.said!r} ≠ {s.said!r}" for s in same_kind[:1] if p.value not in {s.value for s in same_kind}]
        elif p.kind in ("phone", "web", "money") and p.value not in {s.value for s in same_kind}:
            # The statute names one number, site or amount for this kind: prose that gives another contradicts it.
            found.append(f"{p.said!r} ≠ {' / '.join(s.said for s in same_kind)!r}")
    return found


def prose_text(composed: str) -> str:
    """The visible words of a composed document that are the project's or the collector's, not the statute's."""
    text = TRANSLATION.sub(" ", STATEMENT.sub(" ", composed))
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def statute_facts(blocks: tuple[Block, ...]) -> list[Fact]:
    """The facts the statute blocks in force state: statements' words, and content blocks' registry titles."""
    return [f for b in blocks for f in facts(" ".join(t for t in (b.text, b.title) if t))]


def sample_record(day: dt.date, post_sale: bool) -> Record:
    """A valid record for a statement: the City's first sample account, or a sale-results account."""
    source = ROOT / "samples" / ("baltimore-city-sale-results.csv" if post_sale else CITY_CSV.name)
    for raw in read_accounts(source):
        record = validate(raw, Rules(day, post_sale=post_sale))
        if isinstance(record, Record):
            return record
    raise AssertionError(f"no valid record in {source.name}")


def composed_documents(collector_id: str, day: dt.date) -> Iterator[tuple[str, Plan, str]]:
    """Every document of every mailing in force for a collector on a date: (document id, plan, HTML)."""
    collector = load_collector(collector_id)
    registry = load_registry()
    for mailing in registry.mailings.values():
        if mailing.id == "post-sale-notice":
            when = day if day.month == 7 else dt.date(day.year, 7, 1)  # 0-60 days after the sample sales
        else:
            when = day
        try:
            the_plan = plan(collector, mailing.id, when)
        except LawError:  # a mailing not in force on the date (the § 4-201.2 insert before May 2027)
            continue
        composer = Composer(collector, the_plan, "en")
        for part in the_plan.parts:
            if mailing.per_record and part is the_plan.parts[0]:
                try:
                    record = sample_record(when, mailing.id == "post-sale-notice")
                except AssertionError:
                    continue
                extra = statement_dates(collector, when, record)
                yield part.document.id, the_plan, composer.fragment(part, record, seq=1, pages=1, **extra)
            else:
                yield part.document.id, the_plan, composer.fragment(part, None, seq=0, pages=1)


CASES = [(c, d) for c in COLLECTORS for d in DATES]


@pytest.mark.parametrize(("collector_id", "day"), CASES, ids=[f"{c}-{d}" for c, d in CASES])
def test_no_document_states_a_fact_that_contradicts_the_statute(collector_id: str, day: dt.date) -> None:
    """No template or profile value of a shipped collector states a duration, amount, age, phone or site the statute contradicts."""
    documents = list(composed_documents(collector_id, day))
    # Every statute block in force for the collector, whichever mailing carries it: the HPP insert goes to
    # the same owners as the final notice's insert, whose § 14-812(b)(8)(i) describes the same Program.
    statute = statute_facts(tuple({b.id: b for _, the_plan, _ in documents for b in the_plan.blocks}.values()))
    problems = []
    for document, _, composed in documents:
        bad = contradictions(list(facts(prose_text(composed))), statute)
        problems += [f"{collector_id} {day} {document}: {b}" for b in bad]
    assert len(documents) >= 5, "every mailing's documents were composed"
    assert not problems, "\n".join(problems)


def test_the_old_hpp_wording_is_caught() -> None:
    """"for up to 3 years" in prose against § 14-812(b)(8)(i)'s "for at least 3 years" is a contradiction."""
    statute = list(facts("which could keep your home out of tax sale for at least 3 years"))
    assert contradictions(list(facts("can keep your home out of tax sale for up to 3 years")), statute)
    assert not contradictions(list(facts("can keep your home out of tax sale for at least three years")), statute)


def test_a_wrong_age_is_caught() -> None:
    """Prose that moves the credit's special benefit to 65 contradicts the statute's 70 years old or older."""
    statute = list(facts("if you are 70 years old or older, you may be eligible for a special benefit"))
    assert contradictions(list(facts("Homeowners 65 or older may get a special benefit.")), statute)
    assert not contradictions(list(facts("If you are 70 or older, ask about the special benefit.")), statute)


def test_the_checks_see_the_inserts_prose() -> None:
    """The composed insert's prose (not the statute's words) is what is compared: the HPP insert says "at least 3 years"."""
    day = DATES[1]
    docs = {d: prose_text(h) for d, _, h in composed_documents("baltimore-county", day)}
    assert "at least 3 years" in " ".join(docs["hpp-insert"].split())
    assert "at least 3 years" not in " ".join(docs["tax-sale-insert"].split())  # the statute's own words were dropped
