"""Turn a collector and a date into a proof pack: one PDF holding every shape its final notice can take, each checked.

Each variant is a record (or a profile setting) built here, rendered by the same code as
``notices render`` (``views.render_record``), and preceded by a title page saying what it shows
and what the statute check found. A designer reads one file instead of hunting a roll for an
account with two owners or a lien list that runs to a second page.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from markupsafe import escape

from .collectors import load_collector
from .compliance import Finding
from .errors import NoticesError
from .model import Collector, MailingAddress, Record, TaxLine
from .render import Renderer
from .statutes import load_registry
from .views import Ask, join_pdfs, render_record

MAILING = "final-notice"
INSTALLMENT_ITEM = "tp-14-812-b-9-ii"  # § 14-812(b)(9): the installment programs, in the insert from 2027-05-01
LOCAL_STAND_IN = {
    # A § 10-209 program (overdue taxes), the only local program § 14-812(b)(9) describes: marked, like every placeholder.
    "name": "[local installment program]",
    "law": "10-209",
    "description": "[what the collector's program for paying overdue taxes in installments does and who qualifies]",
    "how_to_enroll": "[how to enroll in the local program]",
}
WATER_SEWER_STAND_IN = {
    # What a collector that sells water/sewer liens would have to write: marked, like every placeholder.
    "sells_liens": True,
    "program": "[water/sewer discount program]",
    "description": "[what the low-income water/sewer discount program does and who qualifies]",
    "how_to_apply": "[how to apply]",
    "phone": "[program phone]",
    "website": "[program website]",
}


@dataclass(frozen=True)
class Variant:
    """One shape of the notice: what it shows, its record, and the profile and language it is rendered with."""

    name: str
    shows: str
    record: Record
    language: str = "en"
    water_sewer: bool | None = None  # None: as the profile says; True/False: the (b)(7) item forced on or off
    large_print: bool = False
    installment: str = ""  # "": as the profile says; "state", "local" or "both": the (b)(9) programs described


@dataclass
class Result:
    """A variant as rendered: its PDF (none when it failed) and the check's findings."""

    variant: Variant
    pdf: bytes | None
    findings: list[Finding] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and not any(f.status == "error" for f in self.findings)


def _record(account: str, owners: tuple[str, ...], line1: str = "1 MAIN ST", line2: str = "",
            lines: tuple[TaxLine, ...] | None = None) -> Record:
    lines = lines or (TaxLine("Real property tax", "FY 2027", Decimal("2184.30"), Decimal("87.37"), Decimal("43.69")),)
    return Record(account, owners, MailingAddress(line1, line2, "BALTIMORE", "MD", "21201"), "1 MAIN ST", lines,
                  "proof", (2,))


def _long_list() -> tuple[TaxLine, ...]:
    """Thirty lien lines over several sources and years: enough to run the statement onto a second page."""
    sources = ("Real property tax", "Water and sewer", "Environmental citation", "Miscellaneous bill")
    return tuple(TaxLine(sources[i % len(sources)], f"FY {2027 - i // len(sources)}", Decimal(f"{120 + 37 * i}.{i % 100:02d}"),
                         Decimal("4.80") if i % 3 == 0 else Decimal("0")) for i in range(30))


def variants(collector: Collector) -> list[Variant]:
    """Every shape of the collector's final notice this pack shows."""
    water = TaxLine("Water and sewer", "2026-Q4", Decimal("668.16"))
    one = _record("PROOF-01", ("ANN LEE",))
    has_item = collector.water_sewer_program
    return [
        Variant("one owner", "One owner at a street address: the common case.", one),
        Variant("two owners", "Two owners on the roll, both named in the address window.", _record("PROOF-02", ("ANN LEE", "BEN LEE"))),
        Variant("care of", "An owner reached in care of someone else (the roll's second name line holds C/O).",
                _record("PROOF-03", ("HARBORVIEW ROWHOMES LLC", "C/O JANE DOE"), "400 E PRATT ST", "STE 800")),
        Variant("PO box", "A post office box as the mailing address.", _record("PROOF-04", ("ANN LEE",), "PO BOX 1234")),
        Variant("with water/sewer", "A water and sewer lien on the bill, and the insert's § 14-812(b)(7) water/sewer discount item"
                + ("" if has_item else " (this profile has none: it is shown with marked stand-in facts)") + ".",
                _record("PROOF-05", ("ANN LEE",), lines=(*one.lines, water)), water_sewer=True),
        Variant("without water/sewer", "No water/sewer item in the insert, as for a collector that does not sell water/sewer liens.",
                one, water_sewer=False),
        Variant("long lien list", "Thirty itemized lien lines: the statement runs to a second page.",
                _record("PROOF-06", ("ANN LEE",), lines=_long_list())),
        Variant("Spanish", "The notice in Spanish (--language es): the statute's English words with the translation beside them.",
                one, language="es"),
        Variant("large print", "The notice in large print (--large-print): every text run at least 18 pt, the envelope "
                "window's address at its postal size, the collector's large-print summary on one page; the check also "
                "reads the type size of every run.", one, large_print=True),
        Variant("State installment program", "The insert's § 14-812(b)(9) item describing the State installment program "
                "(§ 2-112(f)) only, as for a collector with no local program for overdue taxes.", one, installment="state"),
        Variant("local installment program", "The § 14-812(b)(9) item describing only a local program for overdue taxes "
                "(§ 10-209), as for a collector that does not offer the State program"
                + ("" if _local_10_209(collector) else " (this profile has none: it is shown with marked stand-in facts)") + ".",
                one, installment="local"),
        Variant("State and local installment programs", "The § 14-812(b)(9) item describing both the State program and "
                "the collector's § 10-209 program" + ("" if _local_10_209(collector) else " (stand-in facts, marked)") + ".",
                one, installment="both"),
    ]


def _local_10_209(collector: Collector) -> bool:
    local = collector.local_installment
    return local is not None and str(local.get("law", "")) == "10-209"


def with_installment(collector: Collector, which: str) -> Collector:
    """The profile describing the State program, a § 10-209 local program, or both; stand-in facts when it has no local one."""
    if not which:
        return collector
    facts = copy.deepcopy(collector.facts)
    section = facts.setdefault("installment", {})
    section["state_program"] = which in ("state", "both")
    if which == "state":
        section.pop("local", None)
    elif not _local_10_209(collector):
        section["local"] = dict(LOCAL_STAND_IN)
    return dataclasses.replace(collector, facts=facts)


def installment_day(day: dt.date, variant: Variant) -> dt.date:
    """The date an installment variant is rendered on: the pack's, or the first day § 14-812(b)(9) is in force, if later."""
    if not variant.installment:
        return day
    first = next(b.in_force_from for b in load_registry().blocks if b.id == INSTALLMENT_ITEM)
    return max(day, first)


def with_water_sewer(collector: Collector, on: bool | None) -> Collector:
    """The profile with the (b)(7) water/sewer item on or off; stand-in facts when the profile has no program to name."""
    if on is None or on == collector.water_sewer_program:
        return collector
    facts = copy.deepcopy(collector.facts)
    section = facts.setdefault("water_sewer", {})
    if on:
        for key, value in WATER_SEWER_STAND_IN.items():
            section.setdefault(key, value)
        section["sells_liens"] = True
    else:
        section["sells_liens"] = False
    return dataclasses.replace(collector, facts=facts)


def render_variant(collector: Collector, day: dt.date, variant: Variant) -> Result:
    ask = Ask(collector.id, MAILING, installment_day(day, variant), variant.language, large_print=variant.large_print)
    shaped = with_installment(with_water_sewer(collector, variant.water_sewer), variant.installment)
    try:
        piece = render_record(shaped, ask, variant.record)
    except NoticesError as exc:
        return Result(variant, None, list(getattr(exc, "findings", None) or []), str(exc))
    # A failing piece's pages are not put in the pack: its title page lists the findings.
    return Result(variant, None if piece.failing else piece.pdf, piece.findings, piece.problem)


def title_page(collector: Collector, day: dt.date, number: int, count: int, result: Result, renderer: Renderer) -> bytes:
    """A page saying which variant follows, what it shows, and the check's result."""
    errors = [f for f in result.findings if f.status == "error"]
    found = sum(1 for f in result.findings if f.status == "ok")
    if result.ok:
        verdict = f"Statute check: complies ({found} checks passed)."
    else:
        verdict = "Statute check: FAILS. " + (result.error or f"{len(errors)} problems.")
    problems = "".join(f"<li>{escape(f.block)} ({escape(f.citation)}): {escape(f.message)}</li>" for f in errors[:12])
    dated = installment_day(day, result.variant)
    moved = (f"<p>Dated {dated.isoformat()}, the first day the insert carries § 14-812(b)(9): on {day.isoformat()} "
             "it has no installment item.</p>") if dated != day else ""
    html = (
        f"<html><head><title>Proof {number}</title></head><body style='font-family: DejaVu Sans Condensed'>"
        f"<p>Proof pack: {escape(collector.name)}, Final Bill and Legal Notice dated {day.isoformat()}</p>"
        f"<h1>Variant {number} of {count}: {escape(result.variant.name)}</h1>"
        f"<p>{escape(result.variant.shows)}</p>{moved}<p><b>{escape(verdict)}</b></p>"
        + (f"<ul>{problems}</ul>" if problems else "")
        + (f"<p>Account {escape(result.variant.record.account_id)}; language {escape(result.variant.language)}"
           f"{'; large print' if result.variant.large_print else ''}.</p>")
        + "</body></html>"
    )
    return renderer.pdf(html, what="proof title page")


def build(collector_id: str, day: dt.date, home: Path | None = None) -> tuple[bytes, list[Result]]:
    """The proof pack's PDF and each variant's result."""
    collector = load_collector(collector_id, home=home)
    renderer = Renderer()
    shapes = variants(collector)
    results = [render_variant(collector, day, v) for v in shapes]
    parts: list[bytes] = []
    for number, result in enumerate(results, start=1):
        parts.append(title_page(collector, day, number, len(results), result, renderer))
        if result.pdf is not None:
            parts.append(result.pdf)
    return join_pdfs(parts), results
