"""Turn a collector and a date into the website content the law asks for: each bill insert's words as HTML.

§ 4-201.2(c): a collector's website carries the same statement and information as the installment
insert; § 4-201.1(e): a concise description of the Homeowner Protection Program and a link to its
application; § 2-112(d)(4)(II): the State Tax Sale Ombudsman's own page carries the installment
statement, a complete description of the State program and detailed enrolment instructions.

The inserts' own templates make the HTML (``medium='web'``), with the very block partials the
printed inserts use, so the web page and the print cannot say different things. The output is one
self-contained fragment per document (its own ``lang`` and scoped inline styles, nothing to fetch)
and a full page for the collector's site, each checked like a composed insert: every block in
force once, in order, every statement verbatim.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .collectors import load_collector
from .compliance import Finding, check_composed, errors, fold
from .compose import markers, printed_placeholders, refuse_placeholders
from .errors import ComplianceError
from .inserts import Designer, composer_for, designer, not_required_reason
from .model import Block, Collector
from .output import OutputFolder, atomic_write
from .resolve import Part, Plan, applies, plan
from .statutes import load_registry

MAILING = "bill-inserts"
OMBUDSMAN_DOCUMENT = "ombudsman-web"
OMBUDSMAN_FILE = "ombudsman-installment"
# Web-only duties that ride with an insert's fragment: § 4-201.1(e) goes with the HPP insert.
WEB_EXTRAS = {"hpp-insert": "hpp-web"}
PAGE = "index.html"


@dataclass
class WebFile:
    """One file written for a website, with the blocks it carries."""

    file: str
    kind: str  # "fragment" or "page"
    documents: list[str]
    blocks: list[str]
    citations: list[str]
    designer: str
    sha256: str = ""


@dataclass
class WebSummary:
    """What ``notices web`` wrote, for the CLI and the folder's manifest.json."""

    collector: str
    date: str
    language: str
    edition: str
    edition_label: str
    out: str
    files: list[WebFile] = field(default_factory=list)
    not_required: dict[str, str] = field(default_factory=dict)
    placeholders: list[str] = field(default_factory=list)
    seconds: float = 0.0
    proof: bool = False  # written with --proof: every file shows a proof notice

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Text(HTMLParser):
    """Collect the visible text of a page, and of each element marked with data-block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.hidden = 0
        self.all: list[str] = []
        self.blocks: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        block = dict(attrs).get("data-block")
        if block is not None:
            self.blocks.setdefault(block, [])
        self.stack.append((tag, block))
        if tag in ("style", "script", "template"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                for name, _ in self.stack[index:]:
                    if name in ("style", "script", "template"):
                        self.hidden -= 1
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        self.all.append(data)
        for _, block in self.stack:
            if block is not None:
                self.blocks[block].append(data)


def visible_text(html: str) -> str:
    """The words a reader sees, whitespace folded (no style or script content)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.all).split())


def block_texts(html: str) -> dict[str, str]:
    """The visible words of each element carrying data-block, by block id."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return {block: " ".join("".join(parts).split()) for block, parts in parser.blocks.items()}


def web_part(collector: Collector, document_id: str, day: dt.date) -> Part:
    """A web-only document's blocks in force on ``day`` that apply to the collector (may be none)."""
    registry = load_registry()
    blocks = tuple(b for b in registry.in_force(document_id, day) if applies(b, collector))
    return Part(registry.documents[document_id], blocks)


def _check(html: str, part: Part) -> None:
    """Every block once and in order (as for a composed insert), every statement verbatim in the visible text."""
    findings = check_composed(html, part)
    text = fold(visible_text(html))
    for block in part.blocks:
        if block.kind == "statement" and fold(block.text) not in text:
            findings.append(Finding(block.id, block.citation, "error", "statement missing or not verbatim on the web page"))
    bad = errors(findings)
    if bad:
        raise ComplianceError(
            f"The web content for {part.document.title} fails the statute check: "
            + "; ".join(f"{f.block}: {f.message}" for f in bad),
            findings=[*bad],  # list[object]: the error class is typed loosely
        )


@dataclass
class _Section:
    name: str
    documents: list[str]
    blocks: tuple[Block, ...]
    designer: Designer
    html: str
    composer: Any


def _sections(collector: Collector, the_plan: Plan, language: str) -> list[_Section]:
    sections = []
    for part in the_plan.parts:
        who = designer(collector, part.document.id)
        composer = composer_for(collector, the_plan, language, who)
        extra = web_part(collector, WEB_EXTRAS[part.document.id], the_plan.day) if part.document.id in WEB_EXTRAS else None
        context: dict[str, Any] = {"medium": "web"}
        if extra is not None:
            context["web_blocks"] = extra.blocks
        html = composer.fragment(part, None, seq=0, pages=1, **context)
        checked = Part(part.document, part.blocks + (extra.blocks if extra else ()))
        _check(html, checked)
        documents = [part.document.id] + ([extra.document.id] if extra and extra.blocks else [])
        sections.append(_Section(part.document.id, documents, _printed(html, checked), who, html, composer))
    ombudsman = web_part(collector, OMBUDSMAN_DOCUMENT, the_plan.day)
    if any(not b.optional for b in ombudsman.blocks):
        who = Designer("ombudsman", str(collector.get("ombudsman.state.name")), "Tax-Property § 2-112(d)(4)(II)")
        composer = composer_for(collector, the_plan, language, who)
        # Composer has no public call for a template other than a document's own; _render maps Jinja errors.
        html = composer.render("web/ombudsman-web.html.j2", part=ombudsman, blocks=ombudsman.blocks)
        _check(html, ombudsman)
        sections.append(_Section(OMBUDSMAN_FILE, [OMBUDSMAN_DOCUMENT], _printed(html, ombudsman), who, html, composer))
    return sections


def _printed(html: str, part: Part) -> tuple[Block, ...]:
    """The blocks a fragment actually carries (an optional block without content is left out)."""
    found = set(markers(html))
    return tuple(b for b in part.blocks if b.id in found)


def build(collector_id: str, day: dt.date, language: str = "en", home: Path | None = None, *,
          proof: bool = False) -> tuple[dict[str, str], WebSummary]:
    """Every file of the website content, by name, and the summary describing them (nothing is written).

    ``home``: the workspace whose profiles and templates come before the shipped ones. Content that
    would show a placeholder value of the profile is refused, unless ``proof``: then every file
    carries a visible proof notice.
    """
    collector = load_collector(collector_id, home=home)
    the_plan = plan(collector, MAILING, day)
    summary = WebSummary(collector.id, day.isoformat(), language, the_plan.edition.id, the_plan.edition.label, "",
                         placeholders=list(collector.placeholders))
    files: dict[str, str] = {}
    sections = _sections(collector, the_plan, language)
    read = {key for s in sections for key in s.composer.read}
    if not proof:
        refuse_placeholders(collector, printed_placeholders(collector.placeholders, read))
    summary.proof = proof
    for section in sections:
        section.composer.env.globals["proof"] = proof
        name = f"{section.name}.fragment.html"
        files[name] = section.composer.render(
            # The section's HTML is our own composed, autoescaped output: wrapping it does not unescape record text.
            "web/fragment.html.j2", body=Markup(section.html),  # noqa: S704
            lang=language, document_id=section.documents[0], designer_label=section.designer.label,
        )
        summary.files.append(_describe(name, "fragment", section.documents, section.blocks, section.designer.label))
    collector_sections = [s for s in sections if s.name != OMBUDSMAN_FILE]
    heading_composer = collector_sections[0].composer
    sections_html = [Markup(s.html) for s in collector_sections]  # noqa: S704 - composed, autoescaped HTML of our own
    files[PAGE] = heading_composer.render("web/page.html.j2", lang=language, sections=sections_html)
    blocks = tuple(b for s in collector_sections for b in s.blocks)
    summary.files.append(_describe(PAGE, "page", [d for s in collector_sections for d in s.documents], blocks, collector.name))
    for document_id in the_plan.skipped:
        summary.not_required[document_id] = not_required_reason(document_id, day)
    if not any(s.name == OMBUDSMAN_FILE for s in sections):
        summary.not_required[OMBUDSMAN_DOCUMENT] = not_required_reason(OMBUDSMAN_DOCUMENT, day)
    for item in summary.files:
        item.sha256 = hashlib.sha256(files[item.file].encode("utf-8")).hexdigest()
    return files, summary


def _describe(name: str, kind: str, documents: list[str], blocks: tuple[Block, ...], who: str) -> WebFile:
    return WebFile(name, kind, documents, [b.id for b in blocks], list(dict.fromkeys(b.citation for b in blocks)), who)


def run(collector_id: str, day: dt.date, out: Path, language: str = "en", force: bool = False,
        home: Path | None = None, *, proof: bool = False) -> WebSummary:
    """Write the website content into ``out``: fragments, index.html and manifest.json.

    A site folder usually holds the collector's own pages: notices replaces only the files it wrote
    there before (a fragment from an earlier date must not stay behind as if current), and refuses to
    overwrite any other; other files stop it unless ``force``, and then stay as they are.
    """
    started = time.monotonic()
    files, summary = build(collector_id, day, language, home, proof=proof)
    folder = OutputFolder(out)
    folder.lock()
    try:
        folder.clear([*files, "manifest.json"], force)
        for name, text in files.items():
            atomic_write(out / name, text.encode("utf-8"))
        summary.out = str(out)
        summary.seconds = round(time.monotonic() - started, 3)
        atomic_write(out / "manifest.json", json.dumps(summary.to_dict(), indent=1, ensure_ascii=False).encode("utf-8"))
        folder.claim(*(out / name for name in [*files, "manifest.json"]))
    finally:
        folder.unlock()
    return summary
