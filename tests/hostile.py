"""A throwaway collector, in a temporary folder, whose templates a test makes hostile; and one statement
composed or rendered with it."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from conftest import CITY_DATE

from notices.collectors import load_collector
from notices.compose import Composer
from notices.model import Collector, MailingAddress, Record, TaxLine
from notices.resolve import plan
from notices.resources import templates_dir

STATEMENT = "final-notice-statement.html.j2"

RECORD = Record(
    account_id="01-01-0001-001",
    owners=("ANN LEE",),
    mailing=MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"),
    property_address="1 MAIN ST",
    lines=(TaxLine("Real property tax", "FY 2027", Decimal("100.00")),),
    source_file="roll.csv",
    source_lines=(2,),
)


def hostile_collector(root: Path, snippet: str = "", style: str | None = None,
                      files: Mapping[str, str] | None = None) -> Collector:
    """A collector folder ``root/hostile`` copying Baltimore City's profile and its statement template plus
    ``snippet`` (just before the statement's end), with an optional style.css and other template ``files``."""
    (root / "base").mkdir(parents=True, exist_ok=True)
    shutil.copy(templates_dir() / "base" / "collector.toml", root / "base" / "collector.toml")
    folder = root / "hostile"
    folder.mkdir(exist_ok=True)
    shutil.copy(templates_dir() / "baltimore-city" / "collector.toml", folder / "collector.toml")
    template = (templates_dir() / "base" / STATEMENT).read_text("utf-8")
    assert template.count("</section>") == 1
    (folder / STATEMENT).write_text(template.replace("</section>", snippet + "</section>"), "utf-8")
    if style is not None:
        (folder / "style.css").write_text(style, "utf-8")
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, "utf-8")
    return load_collector("hostile", root=root)


def compose_statement(collector: Collector, record: Record = RECORD, language: str = "en") -> str:
    """The HTML document of one statement for ``record`` with the collector's templates."""
    the_plan = plan(collector, "final-notice", CITY_DATE)
    composer = Composer(collector, the_plan, language)
    part = the_plan.parts[0]
    fragment = composer.fragment(part, record, seq=1, pay_by=CITY_DATE + dt.timedelta(days=30))
    return composer.document(part, [fragment], title="test")


def render_statement(collector: Collector) -> bytes:
    """One statement for RECORD with the collector's templates, as PDF bytes."""
    from notices.render import Renderer

    return Renderer(collector.folder).pdf(compose_statement(collector))
