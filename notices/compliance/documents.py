"""Turn a PDF's words into the documents of the mailing it holds: which are there, and where each begins and ends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import Block
from ..resolve import Part
from .facts import date_line
from .passages import closest
from .patterns import requirement
from .pdftext import PageNumber, PdfText, fixed_words
from .report import Span, Target


def verbatim(block: Block) -> bool:
    """Blocks whose words are fixed: statements, and form elements with words (the "Date" line has its own check)."""
    return bool(block.text) and block.kind in ("statement", "form") and block.check != "date-line"


def first_page(numbers: Sequence[PageNumber | None] | Mapping[int, PageNumber | None], page: int) -> int:
    """The page numbered 1 of the document that ``page`` is numbered k of, by each page's own "Page k of n"."""
    number = numbers[page]
    if number is None or number.number <= 1 or number.number > page + 1:
        return page
    first = numbers[page - number.number + 1]
    return page - number.number + 1 if first is not None and (first.label, first.number) == (number.label, 1) else page


def first_words(part: Part) -> list[str] | None:
    """The document's first fixed words, which stand on its first page (None: it has none)."""
    block = next((b for b in part.blocks if verbatim(b)), None)
    return None if block is None else list(fixed_words(block.text))


class DocumentFinder:
    """Finds each document of the mailing by its fixed words, and cuts the PDF into them."""

    def __init__(self, text: PdfText, target: Target) -> None:
        self.text = text
        self.target = target
        self._evidence: dict[str, list[tuple[int, int]]] = {}

    def evidence(self, part: Part) -> list[tuple[int, int]]:
        """Word ranges where the document's fixed words stand (exactly or nearly): it is in this PDF."""
        if part.document.id not in self._evidence:
            self._evidence[part.document.id] = self._find_evidence(part)
        return self._evidence[part.document.id]

    def _find_evidence(self, part: Part) -> list[tuple[int, int]]:
        found = []
        for block in part.blocks:
            if verbatim(block):
                needle = list(fixed_words(block.text))
                at = self.text.find(needle)
                if at is not None:
                    found.append((at, at + len(needle)))
                    continue
                near = closest(needle, self.text, 0, len(self.text.words)) if len(needle) >= 6 else None
                if near and near[2] >= 0.6:
                    found.append((near[0], near[1]))
            elif block.check == "date-line":
                dated = date_line(self.text, 0, len(self.text.words))
                if dated:
                    found.append((dated[0], dated[0] + 1))
        if not any(verbatim(b) for b in part.blocks):
            # A document with no fixed words (the § 4-201.1 insert) is known by all of its content at once.
            hits = []
            for block in part.blocks:
                for spec in block.expect if not block.optional else ():
                    req = requirement(spec, self.target.collector)
                    hit = self.text.search(req[0], 0, len(self.text.words)) if req else None
                    if req and hit is None:
                        return []
                    if hit:
                        hits.append(hit)
            found = sorted(hits)
        return sorted(found)

    def copies(self, part: Part) -> list[int]:
        """The pages where the document's first fixed words stand: more than one, and it is printed more than once."""
        needle = first_words(part)
        if needle is None:
            return [0]
        pages: list[int] = []
        at = 0
        while (found := self.text.find(needle, at)) is not None:
            if self.text.page_of[found] not in pages:
                pages.append(self.text.page_of[found])
            at = found + len(needle)
        return pages or [0]

    def first_page(self, page: int) -> int:
        """The page numbered 1 of the document that ``page`` is numbered k of (the notice of sale prints its form on page 2)."""
        return first_page(self.text.numbers, page)

    def split(self, parts: Sequence[Part]) -> list[Span]:
        """Cut the PDF into the documents found in it, in mailing order, at page boundaries where possible."""
        text = self.text
        npages = len(text.pages)
        found = [(part, ev) for part in parts if (ev := self.evidence(part))]
        if len(found) <= 1:
            part = found[0][0] if found else parts[0]
            return [Span(part, 0, len(text.words), 0, max(0, npages - 1))]
        owner = self._owners([ev for _, ev in found])
        spans: list[Span] = []
        start = 0
        shared = False
        for k, (part, ev) in enumerate(found):
            first_page = text.page_of[start] if start < len(text.words) else npages - 1
            if k == len(found) - 1:
                spans.append(Span(part, start, len(text.words), first_page, npages - 1, shared))
                break
            next_first = found[k + 1][1][0][0]
            before = [hi for _, hi in ev if hi <= next_first]
            pages = [p for p, o in owner.items() if o == k and p <= text.page_of[next_first]]
            pages += [text.page_of[hi - 1] for hi in before]
            last_page = max(pages) if pages else first_page
            if text.page_of[next_first] <= last_page:
                # The next document begins on this one's last page: cut after this one's last fixed words.
                end = max(before) if before else next_first
                last_page = text.page_of[max(start, end - 1)]
                shared = True
            else:
                # Pages claimed by nobody between two documents go to the later one: an insert's
                # first page is often its summary, with no fixed words of its own.
                end = text.page_start[last_page + 1]
                shared = False
            spans.append(Span(part, start, end, first_page, last_page))
            start = end
        return spans

    def _owners(self, evidence: Sequence[list[tuple[int, int]]]) -> dict[int, int]:
        """Page -> the document (its index in ``evidence``) the page belongs to, where that is known."""
        text = self.text
        owner: dict[int, int] = {}
        for k, ev in enumerate(evidence):
            for lo, hi in ev:
                owner.setdefault(text.page_of[lo], k)
                owner.setdefault(text.page_of[hi - 1], k)
        # A page with no fixed words (a statement's second page) belongs to the document whose
        # running header or footer it shares; a line every document shares says nothing.
        repeated = text.repeated
        keys = {p: set(ks & repeated) for p, ks in enumerate(text.line_keys)}
        per_doc: dict[int, set[str]] = {}
        for p, k in owner.items():
            per_doc.setdefault(k, set()).update(keys.get(p, set()))
        common = set.intersection(*per_doc.values()) if len(per_doc) > 1 else set()
        for p in range(len(text.pages)):
            if p in owner or text.blank(p):
                continue
            mine = keys.get(p, set()) - common
            claims = {k for k, ks in per_doc.items() if ks & mine}
            if len(claims) == 1:
                owner[p] = claims.pop()
        return owner
