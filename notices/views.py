"""Turn a designer's choice (collector, mailing, date, language, sample record) into what the preview shows.

A view is the mailing as ``notices render`` makes it (the same Job, inserts and piece code, so the
preview cannot show what the print file would not hold), the PNG image of each page, the statute
check's report of that PDF, and the placeholders still in the profile. Errors are part of a view,
not raised: a broken template or profile is what the designer needs to see, with its file and line.
A piece or insert that fails the check is shown too, its pages marked ``failing`` beside the findings:
the view never offers it as a PDF to download, and ``notices render`` still quarantines it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collectors import load_collector
from .compliance import Finding, Target, check_pdf
from .errors import ComplianceError, InputError, NoticesError
from .inputs import read_accounts
from .job import insert_parts, make_job
from .largeprint import require_summary_fits
from .model import Collector, Record, Rejection
from .piece import must_show, render_chunk, render_inserts
from .resolve import plan
from .resources import printable
from .validate import Rules, validate
from .web import build

MAILINGS = ("final-notice", "post-sale-notice", "bill-inserts")
LANGUAGES = ("en", "es")
SCALE = 1.0  # 72 pixels an inch: a Letter page is 612 x 792, sharp enough to read on a screen
THUMB = 0.5  # side by side: up to 24 columns of pages


def samples_dir() -> Path | None:
    """The shipped sample roll exports (``samples/`` of a source checkout); an installed wheel has none."""
    folder = Path(__file__).resolve().parent.parent / "samples"
    return folder if folder.is_dir() else None


@dataclass(frozen=True)
class Sample:
    """One account of a shipped sample file, as the page offers it."""

    file: str
    account: str
    owner: str
    mailing: str  # the mailing the file is made for: final-notice or post-sale-notice

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def samples(folder: Path | None = None) -> list[Sample]:
    """Every account of every sample CSV, in file order; a sale-results file (it has ``sale_date``) is for the post-sale notice."""
    folder = folder or samples_dir()
    found: list[Sample] = []
    # A file of bad records (bad-roll.csv, made to show rejections) last: the page opens on a good one.
    for path in sorted(folder.glob("*.csv"), key=lambda p: (p.name.startswith("bad-"), p.name)) if folder else ():
        try:
            raws = read_accounts(path)
        except InputError:
            continue  # a sample the reader refuses as a whole offers no record to show
        header = path.read_text(encoding="utf-8-sig").partition("\n")[0].lower()
        kind = "post-sale-notice" if "sale_date" in header else "final-notice"
        for raw in raws:
            found.append(Sample(path.name, raw.account_id, str(raw.fields.get("owner_name", "")), kind))
    return found


@dataclass(frozen=True)
class Ask:
    """What the designer asked to see."""

    collector: str
    mailing: str
    day: dt.date
    language: str = "en"
    sample: str = ""  # a file name in the samples folder; none for bill inserts
    account: str = ""  # an account of that file; "" for its first
    home: Path | None = None
    large_print: bool = False  # --large-print: every text run at least 18 pt, the check holding it to that

    @property
    def label(self) -> str:
        return f"{self.collector} {self.mailing} {self.day.isoformat()} {self.language}" + (" large print" if self.large_print else "")


@dataclass
class View:
    """What the page shows for one Ask: the PDF, its pages as PNG, the report, the placeholders, or the error."""

    ask: Ask
    pdf: bytes | None = None
    pages: list[bytes] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    documents: list[dict[str, object]] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    error: dict[str, object] | None = None
    seconds: float = 0.0
    failing: bool = False  # the pages are of a piece or insert that fails the check: shown, marked, never offered as a PDF

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failing and not any(f.status == "error" for f in self.findings)

    @property
    def download(self) -> bytes | None:
        """The PDF the page may offer: none for a failing render, which only a designer looking at it should see."""
        return None if self.failing else self.pdf

    def summary(self) -> dict[str, Any]:
        """Everything but the bytes, for the page."""
        return {
            "label": self.ask.label, "ok": self.ok, "failing": self.failing, "large_print": self.ask.large_print,
            "pages": len(self.pages), "error": self.error,
            "findings": [f.to_dict() for f in self.findings], "documents": self.documents,
            "placeholders": self.placeholders, "seconds": round(self.seconds, 2),
        }


def error_dict(exc: BaseException) -> dict[str, object]:
    """An error as the page shows it: our errors with their file and line, anything else by its type."""
    if isinstance(exc, NoticesError):
        return {**exc.to_dict(), "where": exc.where, "text": str(exc)}
    return {"error": type(exc).__name__, "message": str(exc), "where": "", "text": f"{type(exc).__name__}: {exc}"}


def record_for(ask: Ask, folder: Path | None = None) -> Record:
    """The sample account the Ask names, validated for the mailing's date as a run would validate it."""
    folder = folder or samples_dir()
    names = {s.file for s in samples(folder)}
    if folder is None or ask.sample not in names:
        raise InputError("Choose one of the shipped samples", field="sample", value=ask.sample)
    raws = read_accounts(folder / ask.sample)
    raw = next((r for r in raws if r.account_id == ask.account), None) if ask.account else raws[0]
    if raw is None:
        raise InputError("No such account in the sample", file=ask.sample, field="account", value=ask.account)
    checked = validate(raw, Rules(ask.day, post_sale=ask.mailing == "post-sale-notice", printable=printable))
    if isinstance(checked, Rejection):
        raise InputError(f"The sample record is rejected for this date: {checked.reason}", file=ask.sample, line=checked.line)
    return checked


@dataclass(frozen=True)
class Rendered:
    """One piece as ``notices render`` makes it: its PDF and report, or why it has none.

    ``failing``: the PDF is of a piece that fails the statute check (``render`` quarantines it), kept only to
    be looked at beside its findings; ``problem`` says why.
    """

    pdf: bytes | None
    findings: list[Finding]
    documents: list[dict[str, object]]
    problem: str = ""
    failing: bool = False


def render_record(collector: Collector, ask: Ask, record: Record) -> Rendered:
    """One piece exactly as ``notices render`` makes it, and its report; a failing piece comes with its findings."""
    the_plan = plan(collector, ask.mailing, ask.day, large_print=ask.large_print)
    job = make_job(collector, the_plan, ask.language, reuse_layouts=False)
    require_summary_fits(job)  # large print: as a run does, before any piece
    job = dataclasses.replace(job, inserts=insert_parts(the_plan, render_inserts(job)))
    [piece] = render_chunk(job, [(1, record)])
    if piece.pdf is None:
        return Rendered(piece.failed_pdf, [Finding(**f) for f in piece.findings], [], piece.error, piece.failed_pdf is not None)
    report = check_pdf(piece.pdf, Target(collector, the_plan, tuple(must_show(job, record)), record.first_advertisement_date))
    return Rendered(piece.pdf, report.findings, [d.to_dict() for d in report.documents])


def render_inserts_view(collector: Collector, ask: Ask) -> tuple[bytes, list[Finding], list[dict[str, object]]]:
    """The bill inserts in force, as ``notices render --mailing bill-inserts`` makes them, joined, with each one's report."""
    the_plan = plan(collector, ask.mailing, ask.day, large_print=ask.large_print)
    job = make_job(collector, the_plan, ask.language, reuse_layouts=False)
    made = render_inserts(job)
    findings: list[Finding] = []
    documents: list[dict[str, object]] = []
    first = 0
    for document_id, pdf in made:
        report = check_pdf(pdf, Target(collector, the_plan), documents=[document_id])
        # Page numbers in the joined file, as the designer sees them.
        findings += [dataclasses.replace(f, page=None if f.page is None else f.page + first) for f in report.findings]
        documents += [{**d.to_dict(), "first_page": first + d.first_page + 1, "last_page": first + d.last_page + 1}
                      for d in report.documents]
        first += report.pages
    return join_pdfs([pdf for _, pdf in made]), findings, documents


def make_view(ask: Ask, scale: float = SCALE, folder: Path | None = None) -> View:
    """Render what the Ask names and check it; a NoticesError (a broken template or profile) becomes the view's error."""
    started = time.monotonic()
    view = View(ask)
    try:
        collector = load_collector(ask.collector, home=ask.home)
        view.placeholders = list(collector.placeholders)
        if ask.mailing == "bill-inserts":
            view.pdf, view.findings, view.documents = render_inserts_view(collector, ask)
        else:
            record = record_for(ask, folder)
            piece = render_record(collector, ask, record)
            view.pdf, view.findings, view.documents, view.failing = piece.pdf, piece.findings, piece.documents, piece.failing
            if piece.problem:
                view.error = {"error": "ComplianceError", "message": piece.problem, "where": "", "text": piece.problem}
    except ComplianceError as exc:
        # A template that prints the wrong blocks, an insert or a large-print summary that fails: the findings say which,
        # and the failing document's pages are shown when there are any.
        view.error = error_dict(exc)
        view.findings = [f for f in exc.findings if isinstance(f, Finding)]
        view.pdf, view.failing = exc.pdf, exc.pdf is not None
    except NoticesError as exc:
        view.error = error_dict(exc)
    if view.pdf is not None:
        view.pages = page_images(view.pdf, scale)
    view.seconds = time.monotonic() - started
    return view


def page_images(pdf: bytes, scale: float = SCALE) -> list[bytes]:
    """Each page of a PDF as a PNG, drawn by PDFium as a printer's RIP would see it."""
    import pypdfium2  # noqa: PLC0415 - PDFium loads only when a page is drawn

    document = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for index in range(len(document)):
            buffer = io.BytesIO()
            document[index].render(scale=scale).to_pil().save(buffer, format="PNG", optimize=False)
            images.append(buffer.getvalue())
        return images
    finally:
        document.close()


def join_pdfs(pdfs: Sequence[bytes]) -> bytes:
    """Several PDFs as one file, page after page."""
    from pypdf import PdfReader, PdfWriter  # noqa: PLC0415 - pypdf loads only when files are joined

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def differences(views: Sequence[View]) -> list[dict[str, Any]]:
    """The blocks of several reports, one row per block, each column's status and page; ``differs`` marks a block
    that some reports have and others lack, or that passes in one and fails in another."""
    order: dict[str, str] = {}
    seen: list[dict[str, tuple[str, int | None]]] = []
    for view in views:
        mine: dict[str, tuple[str, int | None]] = {}
        for f in view.findings:
            order.setdefault(f.block, f.citation)
            if f.block not in mine or f.status == "error":
                mine[f.block] = (f.status, f.page)
        seen.append(mine)
    rows = []
    for block, citation in order.items():
        cells = [mine.get(block) for mine in seen]
        statuses = {cell[0] if cell else "absent" for cell in cells}
        rows.append({"block": block, "citation": citation, "differs": len(statuses) > 1,
                     "cells": [{"status": c[0], "page": c[1]} if c else {"status": "absent", "page": None} for c in cells]})
    return rows


def website_zip(collector_id: str, day: dt.date, language: str = "en", home: Path | None = None) -> bytes:
    """The website content ``notices web`` would write for the date, as one zip file (``index.html`` and the fragments)."""
    files, summary = build(collector_id, day, language, home)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            # A fixed date, so the same content gives the same bytes.
            archive.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), text)
        archive.writestr(zipfile.ZipInfo("manifest.json", (2024, 1, 1, 0, 0, 0)), json.dumps(summary.to_dict(), indent=1))
    return out.getvalue()
