"""Turn what the check sees into its results: findings, where each document stands, and the report of one PDF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from ..model import Block, Collector
from ..resolve import Part, Plan
from .pdftext import PdfText

Severity = Literal["ok", "note", "error"]


@dataclass(frozen=True)
class Finding:
    """One result of the check: a block (or a page fact), whether it is satisfied, where, and why not."""

    block: str
    citation: str
    status: Severity
    message: str
    page: int | None = None
    document: str = ""
    diff: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "error"]


@dataclass(frozen=True)
class Target:
    """What a PDF is checked against: the collector, the law in force on the date, and what a record must show."""

    collector: Collector
    plan: Plan
    must_show: tuple[tuple[str, str, str], ...] = ()  # (block, label, text) from the record, when it is known
    first_advertisement: dt.date | None = None

    @property
    def day(self) -> dt.date:
        return self.plan.day

    @property
    def duplex(self) -> bool:
        return self.collector.duplex


@dataclass
class Span:
    """Where one document of the mailing stands in the PDF: a range of words and its pages."""

    part: Part
    lo: int
    hi: int
    first_page: int
    last_page: int
    shared: bool = False

    @property
    def document_id(self) -> str:
        return self.part.document.id

    def to_dict(self) -> dict[str, object]:
        return {"document": self.part.document.id, "title": self.part.document.title,
                "first_page": self.first_page + 1, "last_page": self.last_page + 1}


@dataclass
class Report:
    """The findings for one PDF, with the documents found in it."""

    file: str
    pages: int
    documents: list[Span] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not errors(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return errors(self.findings)

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "ok": self.ok, "pages": self.pages,
                "documents": [d.to_dict() for d in self.documents],
                "findings": [f.to_dict() for f in self.findings]}


class Recorder:
    """The findings of one check as they are made; a finding placed at a word is on that word's page."""

    def __init__(self, text: PdfText) -> None:
        self.text = text
        self.findings: list[Finding] = []

    def add(self, block: Block | str, status: Severity, message: str, word: int | None = None, *,
            document: str = "", citation: str = "", diff: str = "", page: int | None = None) -> None:
        block_id = block.id if isinstance(block, Block) else block
        cite = block.citation if isinstance(block, Block) else citation
        if page is None and word is not None:
            page = self.text.page_number(word)
        self.findings.append(Finding(block_id, cite, status, message, page, document, diff))


def document_citation(part: Part) -> str:
    """The citation of a document as a whole: the common stem of its blocks' citations (§ 14-812(b))."""
    cites = [b.citation for b in part.blocks] or [""]
    code = cites[0].split("§")[0]
    cites = [c for c in cites if c.startswith(code)]  # a local code's block (City Code Art. 28) does not change the stem
    stem = cites[0]
    for cite in cites[1:]:
        while not cite.startswith(stem):
            stem = stem[:-1]
    return stem[: stem.rfind(")") + 1] if ")" in stem and stem not in cites else stem.rstrip("(")
