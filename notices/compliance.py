"""Turn a composed piece or a finished PDF into findings: which mandated blocks are there, where, and in order.

The PDF check reads the text the PDF itself carries (not the template), so it works on any PDF,
including an insert designed in another program. Words are compared after folding what the
statute's typography and line breaking may change: quotes, apostrophes, dashes, line breaks and
hyphenation at line ends.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from pypdf import PdfReader

from .compose import markers
from .model import Block
from .resolve import Part

Severity = Literal["ok", "error"]
LETTER = (612.0, 792.0)

_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00ad": "",
    }
)
_WORD = re.compile(r"[\w$%.,;:!?'\"()\-§/&]+")


@dataclass(frozen=True)
class Finding:
    """One result of the check: a block (or a page fact), whether it is satisfied, where, and why not."""

    block: str
    citation: str
    status: Severity
    message: str
    page: int | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fold(text: str) -> str:
    """Fold typography and line breaking so that only the words and their order remain."""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # hyphenation at a line end
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return fold(text).split(" ") if text.strip() else []


def page_texts(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [page.extract_text() or "" for page in reader.pages]


def find_words(needle: str, pages: Sequence[str]) -> tuple[int, int] | None:
    """Where the folded words of ``needle`` stand in the pages: (page index, offset in the whole text)."""
    target = fold(needle)
    joined = ""
    starts = []
    for text in pages:
        starts.append(len(joined))
        joined += fold(text) + " "
    at = joined.find(target)
    if at < 0:
        return None
    page = max(i for i, start in enumerate(starts) if start <= at)
    return page, at


def check_composed(html: str, part: Part) -> list[Finding]:
    """The composed HTML carries exactly the blocks in force, each once, in statutory order."""
    found = markers(html)
    expected = list(part.block_ids)
    findings: list[Finding] = []
    for block in part.blocks:
        count = found.count(block.id)
        if count == 0 and not block.optional:
            findings.append(Finding(block.id, block.citation, "error", "the template does not print this block"))
        elif count > 1:
            findings.append(Finding(block.id, block.citation, "error", f"printed {count} times"))
    for extra in sorted(set(found) - set(expected)):
        findings.append(Finding(extra, "", "error", "the template prints a block that is not in force or does not apply"))
    present = [b for b in found if b in expected]
    if not findings and present != [b for b in expected if b in present]:
        findings.append(Finding(part.document.id, "", "error", "blocks are out of statutory order: " + " ".join(present)))
    return findings


def check_statements(pages: Sequence[str], blocks: Sequence[Block]) -> list[Finding]:
    """Every statement block verbatim, in statutory order; each finding names the page it was found on."""
    findings: list[Finding] = []
    last = -1
    for block in blocks:
        if block.kind == "content":
            continue
        where = find_words(block.text, pages)
        if where is None:
            findings.append(Finding(block.id, block.citation, "error", "statement missing or not verbatim"))
            continue
        page, offset = where
        if offset < last:
            findings.append(Finding(block.id, block.citation, "error", "statement out of statutory order", page + 1))
        else:
            findings.append(Finding(block.id, block.citation, "ok", "verbatim", page + 1))
        last = max(last, offset)
    return findings


def check_pages(pdf: bytes) -> list[Finding]:
    """US Letter pages and embedded fonts only."""
    reader = PdfReader(io.BytesIO(pdf))
    findings: list[Finding] = []
    for number, page in enumerate(reader.pages, start=1):
        box = page.mediabox
        size = (round(float(box.width), 1), round(float(box.height), 1))
        if size != LETTER:
            findings.append(Finding("page-size", "", "error", f"page is {size[0]}x{size[1]} pt, not US Letter", number))
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for name, ref in fonts.items():
            font = ref.get_object()
            descriptor = None
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            else:
                descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else None
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                findings.append(Finding("fonts", "", "error", f"font {font.get('/BaseFont', name)} is not embedded", number))
    return findings


def errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "error"]
