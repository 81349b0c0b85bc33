"""Turn one document's words into findings block by block: fixed words verbatim and in order, content duties, the one-page summary."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..model import Block
from .documents import verbatim
from .facts import StatementFacts, date_line
from .passages import closest, longest_in_order, word_diff
from .patterns import phrase_pattern, requirement
from .pdftext import PdfText, fixed_words, words
from .report import Recorder, Span, Target

FUZZY = 0.5  # a passage sharing at least half of a statement's words is "the statement, reworded"

Anchors = Sequence[tuple[int, tuple[int, int]]]  # (statutory order, (first word, end word)) of the blocks placed in order


class DocumentCheck:
    """Every block of one document at a time; the statement's special duties go to its StatementFacts."""

    def __init__(self, text: PdfText, target: Target, recorder: Recorder, facts: StatementFacts) -> None:
        self.text = text
        self.target = target
        self.add = recorder.add
        self.facts = facts
        self._reworded: dict[str, int] = {}  # statements found only as a near copy: where they stand

    def document(self, span: Span) -> None:
        """Every block of one document: fixed words, order, content duties, named checks."""
        part, doc = span.part, span.document_id
        first_document = doc == self.target.plan.parts[0].document.id
        anchors = self.fixed(span)
        # Content duties, looked for between the blocks before and after them in statutory order.
        positions: dict[str, int] = {}
        content = [b for b in part.blocks if not verbatim(b) and b.check != "date-line"]
        for block in content:
            region = self.region(block, anchors, span.lo, span.hi)
            self.content(block, region, span, positions)
        for block in content:
            if block.check == "one-page":
                self.one_page(block, span, anchors, positions)
        if self.target.must_show and first_document:
            self.must_show(span)
        if self.target.first_advertisement is not None and first_document:
            self.facts.advertisement(self.target.first_advertisement, part, doc, None)

    def fixed(self, span: Span) -> list[tuple[int, tuple[int, int]]]:
        """Statements and worded form elements exact and in statutory order; the anchors the content is looked for between."""
        text, part, doc = self.text, span.part, span.document_id
        placed: list[tuple[str, int]] = []
        ends: dict[str, tuple[int, int]] = {}
        for block in part.blocks:
            if verbatim(block):
                needle = list(fixed_words(block.text))
                at = text.find(needle, span.lo, span.hi)
                if at is None:
                    near = closest(needle, text, span.lo, span.hi)
                    if near and near[2] >= FUZZY:
                        diff = word_diff(needle, text.words[near[0]:near[1]])
                        self.add(block, "error", f"not verbatim: {diff}", near[0], document=doc, diff=diff)
                        self._reworded[block.id] = near[0]
                    else:
                        self.add(block, "error", "statement missing", document=doc)
                    continue
                placed.append((block.id, at))
                ends[block.id] = (at, at + len(needle))
            elif block.check == "date-line":
                hit = date_line(text, span.lo, span.hi)
                if hit is None:
                    self.add(block, "error", "no \"Date\" line followed by a date", document=doc)
                    continue
                at, shown = hit
                placed.append((block.id, at))
                ends[block.id] = (at, at + 1)
                if shown != self.target.day:
                    self.add(block, "error", f"the Date line shows {shown.isoformat()}, the notice date is "
                             f"{self.target.day.isoformat()}", at, document=doc)
                else:
                    self.add(block, "ok", f"Date: {shown.isoformat()}", at, document=doc)
        in_order = longest_in_order(placed)
        by_id = {b.id: b for b in part.blocks}
        for block_id, at in placed:
            block = by_id[block_id]
            if block.check == "date-line":
                if block_id not in in_order:
                    self.add(block, "error", "out of statutory order", at, document=doc)
                continue
            if block_id in in_order:
                self.add(block, "ok", "verbatim, in order", at, document=doc)
            else:
                self.add(block, "error", "verbatim but out of statutory order", at, document=doc)
        return sorted((by_id[b].order, ends[b]) for b, _ in placed if b in in_order)

    def must_show(self, span: Span) -> None:
        """What the record itself says (the owner's name, the total), each on the block that asks for it."""
        by_id = {b.id: b for b in span.part.blocks}
        for block_id, label, needle in self.target.must_show:
            if block_id not in by_id:
                continue
            at = self.text.find(words(needle), span.lo, span.hi)
            if at is None:
                hit = self.text.search(re.compile(phrase_pattern(needle)), span.lo, span.hi)
                at = hit[0] if hit else None
            if at is None:
                self.add(by_id[block_id], "error", f"from the roll: {label} {needle!r} not found in the PDF text",
                         document=span.document_id)
            else:
                self.add(by_id[block_id], "ok", f"from the roll: {label} {needle}", at, document=span.document_id)

    def region(self, block: Block, anchors: Anchors, lo: int, hi: int) -> tuple[int, int]:
        """The words between the fixed blocks placed before and after ``block`` in statutory order."""
        start, end = lo, hi
        for order, (a, b) in anchors:
            if order < block.order:
                start = max(start, b)
            elif order > block.order:
                end = min(end, a)
                break
        return start, max(start, end)

    def content(self, block: Block, region: tuple[int, int], span: Span, positions: dict[str, int]) -> None:
        doc = span.document_id
        if block.check == "owner-total":
            self.facts.owner_total(block, span)
            return
        if block.check == "itemized":
            self.facts.itemized(block, span)
            return
        specs = [r for r in (requirement(s, self.target.collector) for s in block.expect) if r is not None]
        if not specs:
            if block.optional:
                self.add(block, "note", "optional: the collector may include it", document=doc)
            elif block.check != "one-page":
                self.add(block, "note", "no fixed content to look for: the collector chooses the words", document=doc)
            return
        missing = []
        hits: list[int] = []
        for pattern, shown in specs:
            hit = self.text.search(pattern, *region)
            if hit is None:
                missing.append(shown)
            else:
                hits.append(hit[0])
        if missing:
            elsewhere = [s for s in specs if s[1] in missing and self.text.search(s[0], span.lo, span.hi)]
            where = " (found elsewhere in the document, out of statutory order)" if elsewhere and len(elsewhere) == len(missing) else ""
            self.add(block, "error", "not found: " + "; ".join(missing) + where, document=doc)
            return
        first = min(hits)
        # Where the block begins, as a boundary for the summary before it: the line of its first (most
        # telling) requirement, heading included ("Questions? The Tax Sale Ombudsman can help").
        positions[block.id] = max(region[0], self.text.line_start(hits[0]))
        if block.check != "one-page":
            self.add(block, "ok", "present: " + "; ".join(s for _, s in specs), first, document=doc)

    def one_page(self, block: Block, span: Span, anchors: Anchors, positions: dict[str, int]) -> None:
        """The summary begins and ends on one page: from its first words to the last words before the next block."""
        doc = span.document_id
        if block.id not in positions and block.expect:
            return  # already reported missing
        text = self.text
        start = span.lo
        order = {b.id: b.order for b in span.part.blocks}
        later = [a for o, (a, _) in anchors if o > block.order]
        later += [pos for bid, pos in {**positions, **self._reworded}.items()
                  if bid != block.id and order.get(bid, 0) > block.order]
        first_word = next((w for w in range(start, span.hi) if not text.furniture[w]), start)
        later = [pos for pos in later if pos > first_word]
        end = min(later) if later else span.hi
        body = [w for w in range(start, end) if not text.furniture[w]]
        if not body:
            self.add(block, "error", "summary not found", document=doc)
            return
        first, last = text.page_of[body[0]], text.page_of[body[-1]]
        if first != last:
            self.add(block, "error", f"summary runs from page {first + 1} to page {last + 1}; it must begin and end on one page",
                     body[0], document=doc)
        else:
            self.add(block, "ok", f"summary on one page ({len(body)} words)", body[0], document=doc)
