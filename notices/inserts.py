"""Turn a collector, a bill-insert mailing and a date into print-ready inserts, each checked, and a manifest.

The inserts that go with every property tax bill (Tax-Property § 4-201.1, and from 2027-05-01
§ 4-201.2) are the same for every bill, so they are made once per collector and date rather than
per record: one PDF per insert in force, checked by the very functions that check the inserts of a
per-record mailing (``batch.render_inserts``), and a manifest that names the edition of the law and
who designed each insert. § 4-201.2(b): the State Tax Sale Ombudsman designs the statewide insert
unless it describes a local installment program under § 10-208 or § 10-209, and then the collector
does. An Ombudsman's design is rendered from ``templates/base`` alone, so a collector's folder can
never change it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pypdf import PdfReader

from .collectors import load_collector
from .compose import Composer, markers, printed_placeholders, refuse_placeholders
from .errors import ConfigError
from .job import Job, make_job
from .model import Collector
from .output import OutputFolder, atomic_write, csv_bytes
from .piece import render_inserts
from .render import Renderer
from .resolve import Plan, plan
from .resources import templates_dir
from .statutes import Registry, load_registry

LOCAL_LAWS = ("10-208", "10-209")
INSERTS_FOLDER = "inserts"
MANIFEST_COLUMNS = (
    "document", "status", "reason", "file", "pages", "sha256", "blocks", "citations", "edition",
    "designer", "designer_role", "designer_basis", "layout", "language",
)


@dataclass(frozen=True)
class Designer:
    """Who the law makes responsible for an insert's design, the law that says so, and whose layout was printed.

    Two facts, kept apart: the Ombudsman is responsible for the statewide inserts, but the layout this
    tool prints is the project's own ``templates/base`` (the Ombudsman's design is not published as a
    template); a collector's insert is printed from its override when its folder has one.
    """

    role: Literal["ombudsman", "collector"]
    name: str
    basis: str
    layout: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.basis})" if self.basis else self.name


BASE_LAYOUT = "templates/base (this project's layout)"


def layout_of(collector: Collector, document_id: str, role: str) -> str:
    """Whose layout an insert is printed from: an Ombudsman's insert reads templates/base only (``design_view``)."""
    if role == "collector" and (collector.folder / f"{document_id}.html.j2").is_file():
        return f"templates/{collector.id} (the collector's own layout)"
    return BASE_LAYOUT


def designer(collector: Collector, document_id: str) -> Designer:
    """Who the law makes responsible for one insert's design (§ 4-201.1; § 4-201.2(b)), and whose layout is printed."""
    who = _responsible(collector, document_id)
    return dataclasses.replace(who, layout=layout_of(collector, document_id, who.role))


def _responsible(collector: Collector, document_id: str) -> Designer:
    ombudsman = collector.state_ombudsman_name
    if document_id == "hpp-insert":
        return Designer("ombudsman", ombudsman, "Tax-Property § 4-201.1")
    if document_id == "installment-insert":
        local = collector.local_installment
        if local is None:
            return Designer("ombudsman", ombudsman, "Tax-Property § 4-201.2(b)(1)")
        law = str(local.get("law", ""))
        if law not in LOCAL_LAWS:
            raise ConfigError(
                "A local installment program must name its law: 10-208 or 10-209",
                file=collector.profile_file,
                field="installment.local.law",
                value=law,
            )
        return Designer("collector", collector.name, "Tax-Property § 4-201.2(b)(2)")
    return Designer("collector", collector.name, "")


def design_view(collector: Collector, who: Designer) -> Collector:
    """The collector as its designer sees it: an Ombudsman's design reads templates/base only."""
    if who.role == "ombudsman":
        base = templates_dir() / "base"
        return dataclasses.replace(collector, folder=base, roots=(base,), own=None)
    return collector


def composer_for(collector: Collector, the_plan: Plan, language: str, who: Designer, *, proof: bool = False) -> Composer:
    """A Composer for one insert's design, with the designer in the document's metadata."""
    composer = Composer(design_view(collector, who), the_plan, language, proof=proof)
    # document.html.j2 writes these into <meta name="notices-designer"> and <meta name="notices-layout">,
    # hence the PDF's metadata: who answers for the design under the law, and whose layout was printed.
    composer.env.globals["designer"] = who.label
    composer.env.globals["layout"] = who.layout
    return composer


def mailing_of(document_id: str, registry: Registry | None = None) -> str:
    """The registry's one-document, not-per-record mailing for an insert (e.g. hpp-insert)."""
    registry = registry or load_registry()
    for mailing in registry.mailings.values():
        if mailing.documents == (document_id,) and not mailing.per_record:
            return mailing.id
    raise ConfigError("No mailing of its own for this insert in the statute registry", field="document", value=document_id)


def insert_job(collector: Collector, document_id: str, day: dt.date, language: str, *,
               proof: bool = False, large_print: bool = False) -> tuple[Job, Designer]:
    """A Job for one insert, with the designer's templates and stylesheet."""
    the_plan = plan(collector, mailing_of(document_id), day, large_print=large_print)
    who = designer(collector, document_id)
    job = make_job(collector, the_plan, language, reuse_layouts=False,
                   composer=composer_for(collector, the_plan, language, who, proof=proof),
                   renderer=Renderer(None) if who.role == "ombudsman" else None)
    return job, who


@dataclass
class InsertRow:
    """The manifest row of one insert of the mailing: rendered, or not required on the date."""

    document: str
    status: Literal["rendered", "not-required"]
    reason: str = ""
    file: str = ""
    pages: int = 0
    sha256: str = ""
    blocks: str = ""
    citations: str = ""
    edition: str = ""
    designer: str = ""
    designer_role: str = ""
    designer_basis: str = ""
    layout: str = ""
    language: str = ""


@dataclass
class InsertsSummary:
    """What a bill-insert run made, for the CLI and the manifest."""

    mailing: str
    mailing_title: str
    collector: str
    date: str
    language: str
    edition: str
    edition_label: str
    out: str
    manifest: str = ""
    inserts: list[InsertRow] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    seconds: float = 0.0
    proof: bool = False  # rendered with --proof: every page marked PROOF - NOT FOR MAILING
    large_print: bool = False  # rendered with --large-print: every text run at least 18 pt, checked

    @property
    def rendered(self) -> list[InsertRow]:
        return [row for row in self.inserts if row.status == "rendered"]

    @property
    def not_required(self) -> list[InsertRow]:
        return [row for row in self.inserts if row.status == "not-required"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def not_required_reason(document_id: str, day: dt.date, registry: Registry | None = None) -> str:
    """Why a document of the mailing is not printed on ``day``: not yet, or no longer, required."""
    registry = registry or load_registry()
    mandatory = [b for b in registry.blocks if b.document == document_id and not b.optional]
    later = sorted(b.in_force_from for b in mandatory if b.in_force_from > day)
    if later:
        return f"not yet required on {day.isoformat()}: first required on {later[0].isoformat()}"
    return f"not required on {day.isoformat()}"


def file_name(document_id: str, collector_id: str, day: dt.date, language: str, large_print: bool = False) -> str:
    suffix = ("" if language == "en" else f"-{language}") + ("-large-print" if large_print else "")
    return f"{document_id}-{collector_id}-{day.isoformat()}{suffix}.pdf"


def run(collector_id: str, mailing_id: str, day: dt.date, out: Path, language: str = "en", force: bool = False,
        home: Path | None = None, *, proof: bool = False, large_print: bool = False) -> InsertsSummary:
    """Render every insert of a not-per-record mailing in force on ``day`` into ``out/inserts/``, with a manifest.

    ``home``: the workspace whose profiles and templates come before the shipped ones. Inserts that
    would print a placeholder value of the profile are refused, before anything is rendered, unless
    ``proof``: then every page is marked PROOF - NOT FOR MAILING. ``large_print``: every text run at
    least 18 pt, checked from the PDF, in files named ``...-large-print.pdf``.
    """
    started = time.monotonic()
    collector = load_collector(collector_id, home=home)
    the_plan = plan(collector, mailing_id, day, large_print=large_print)  # LawError when nothing of the mailing is in force
    if the_plan.mailing.per_record:
        raise ConfigError(f"The {the_plan.mailing.title} is made from a roll export: give INPUT", field="mailing", value=mailing_id)
    summary = InsertsSummary(
        mailing=the_plan.mailing.id, mailing_title=the_plan.mailing.title, collector=collector.id, date=day.isoformat(),
        language=language, edition=the_plan.edition.id, edition_label=the_plan.edition.label, out=str(out),
        placeholders=list(collector.placeholders), proof=proof, large_print=large_print,
    )
    if not proof:
        read: set[str] = set()
        for part in the_plan.parts:
            probe = composer_for(collector, the_plan, language, designer(collector, part.document.id))
            probe.fragment(the_plan.part(part.document.id), None, seq=0, pages=1)
            read |= probe.read
        refuse_placeholders(collector, printed_placeholders(collector.placeholders, read))
    # Render and check every insert before touching the output folder: a failure leaves it as it was.
    rows: dict[str, InsertRow] = {}
    made: dict[str, bytes] = {}
    for part in the_plan.parts:
        job, who = insert_job(collector, part.document.id, day, language, proof=proof, large_print=large_print)
        ((document_id, pdf),) = render_inserts(job)  # the statute check; ComplianceError stops the run
        printed = set(markers(job.composer.fragment(job.plan.parts[0], None, seq=0, pages=1)))
        blocks = [b for b in job.plan.parts[0].blocks if b.id in printed]
        name = file_name(document_id, collector.id, day, language, large_print)
        made[name] = pdf
        rows[document_id] = InsertRow(
            document=document_id, status="rendered", file=f"{INSERTS_FOLDER}/{name}",
            pages=len(PdfReader(io.BytesIO(pdf)).pages), sha256=hashlib.sha256(pdf).hexdigest(),
            blocks=" ".join(b.id for b in blocks), citations="; ".join(dict.fromkeys(b.citation for b in blocks)),
            edition=the_plan.edition.id, designer=who.name, designer_role=who.role, designer_basis=who.basis,
            layout=who.layout, language=language,
        )
    folder = OutputFolder(out)
    folder.lock()
    try:
        target = out / INSERTS_FOLDER
        # Inserts of an earlier run (another date) must not pass for this one; files of others stay untouched.
        folder.clear([f"{INSERTS_FOLDER}/{name}" for name in made] + ["manifest.csv", "manifest.json"], force)
        for name, pdf in made.items():
            atomic_write(target / name, pdf)
            folder.claim(target / name)
        for document_id in the_plan.skipped:
            rows[document_id] = InsertRow(document=document_id, status="not-required",
                                          reason=not_required_reason(document_id, day), edition=the_plan.edition.id,
                                          language=language)
        summary.inserts = [rows[d] for d in the_plan.mailing.documents if d in rows]
        summary.manifest = str(out / "manifest.csv")
        summary.seconds = round(time.monotonic() - started, 3)
        folder.claim(*_write_manifest(out, summary))
    finally:
        folder.unlock()
    return summary


def _write_manifest(out: Path, summary: InsertsSummary) -> list[Path]:
    rows = [[getattr(row, column) for column in MANIFEST_COLUMNS] for row in summary.inserts]
    atomic_write(out / "manifest.csv", csv_bytes(MANIFEST_COLUMNS, rows))
    head = {k: v for k, v in summary.to_dict().items() if k != "inserts"}
    data = {"summary": head, "inserts": [asdict(row) for row in summary.inserts]}
    atomic_write(out / "manifest.json", json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"))
    return [out / "manifest.csv", out / "manifest.json"]
