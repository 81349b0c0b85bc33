"""Turn one document's words into findings block by block: fixed words verbatim and in order, content duties, the one-page summary."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import repeat
from operator import sub
from typing import Any

from ..model import Block
from ..resolve import Part, Plan
from .documents import verbatim
from .facts import StatementFacts, date_line
from .passages import closest, longest_in_order, word_diff
from .patterns import phrase_pattern, requirement
from .pdftext import PdfText, fixed_words, words
from .report import Recorder, Span, Target

FUZZY = 0.5  # a passage sharing at least half of a statement's words is "the statement, reworded"

Anchors = Sequence[tuple[int, tuple[int, int]]]  # (statutory order, (first word, end word)) of the blocks placed in order

# Checks that read the record's figures (StatementFacts), not only the document's words.
_RECORD_CHECKS = ("owner-total", "itemized")


class _Kept:
    """What checking one document found, with word positions counted from its first word, to give again.

    Every piece carries the same inserts after its statement: the same words, checked the same way,
    only further on in the text. The findings of a document that is not the statement depend on the
    text from the character before its first word (a pattern looks one character back) to the end
    (``PdfText.find`` looks past the document's end), on the pages and lines of those words, and on
    the part, plan and collector; the key holds all of it, so a document is found again only when
    checking it again would find the same. Page numbers are kept as they are (a finding's message
    may name one); words are moved to where the document stands now.
    """

    LIMIT = 8  # the inserts of one mailing, for a few page counts of the statement before them

    def __init__(self) -> None:
        self.lock = threading.Lock()  # a process may check pieces in several threads
        self.entries: OrderedDict[tuple[Any, ...], tuple[Part, Plan, Any, list[tuple[tuple[Any, ...], dict[str, Any]]],
                                                         list[tuple[str, int]]]] = OrderedDict()

    @staticmethod
    def key(text: PdfText, target: Target, span: Span) -> tuple[Any, ...]:
        lo, hi = span.lo, span.hi
        start = text.char(lo)
        back = start - 1 if lo > 0 else start
        first_line = text.line_of[lo] if lo < len(text.line_of) else len(text.line_words)  # past the last: no lines
        return (
            id(span.part), id(target.plan), id(target.collector),
            lo == 0, hi - lo, len(text.words) - lo,
            # line_start walks back from a word of the document: past its first word only on a shared line
            lo > 0 and lo < len(text.line_of) and text.line_of[lo - 1] == first_line,
            # The words, and where each starts (one space after each word, and no word holds a space).
            text.joined[back:], text.lower[back:],
            tuple(text.furniture[lo:]), tuple(text.page_of[lo:]),
            # Each word's line follows from where the later lines begin, counted from the first word.
            tuple(map(sub, text.line_words[first_line + 1:], repeat(lo))),
        )


_KEPT = _Kept()


class DocumentCheck:
    """Every block of one document at a time; the statement's special duties go to its StatementFacts."""

    def __init__(self, text: PdfText, target: Target, recorder: Recorder, facts: StatementFacts) -> None:
        self.text = text
        self.target = target
        self.add = recorder.add
        self.facts = facts
        self._reworded: dict[str, int] = {}  # statements found only as a near copy: where they stand

    def document(self, span: Span) -> None:
        """Every block of one document: fixed words, order, content duties, named checks.

        A document after the first, whose checks read only its words, is found again when the same
        words were checked before in this process (see ``_Kept``).
        """
        first_document = span.document_id == self.target.plan.parts[0].document.id
        if first_document or self._reworded or any(b.check in _RECORD_CHECKS for b in span.part.blocks):
            self._document(span, first_document)
            return
        key = _Kept.key(self.text, self.target, span)
        with _KEPT.lock:
            kept = _KEPT.entries.get(key)
            if kept is not None:
                _KEPT.entries.move_to_end(key)
        if kept is None or kept[0] is not span.part or kept[1] is not self.target.plan or kept[2] is not self.target.collector:
            made = self._recorded(span)
            if made is not None:
                with _KEPT.lock:
                    _KEPT.entries[key] = (span.part, self.target.plan, self.target.collector, *made)
                    while len(_KEPT.entries) > _Kept.LIMIT:
                        _KEPT.entries.popitem(last=False)
            return
        calls, reworded = kept[3], kept[4]
        for args, kwargs in calls:
            self.add(*args[:3], *(None if word is None else span.lo + word for word in args[3:]), **kwargs)
        for block_id, word in reworded:
            self._reworded[block_id] = span.lo + word

    def _recorded(self, span: Span) -> tuple[list[tuple[tuple[Any, ...], dict[str, Any]]], list[tuple[str, int]]] | None:
        """Check the document, and note each finding made and each reworded statement, words counted from
        its first; None when a finding was placed in a way that cannot be moved (by page, or by word named)."""
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        movable = True
        add = self.add

        def noted(*args: Any, **kwargs: Any) -> None:
            nonlocal movable
            add(*args, **kwargs)
            movable = movable and len(args) <= 4 and set(kwargs) <= {"document", "diff", "citation"}
            calls.append((args[:3] + tuple(None if word is None else word - span.lo for word in args[3:]), kwargs))

        self.add = noted  # the recorder's add, noting each call
        try:
            self._document(span, False)
        finally:
            self.add = add
        if not movable:
            return None
        return calls, [(block_id, word - span.lo) for block_id, word in self._reworded.items()]

    def _document(self, span: Span, first_document: bool) -> None:
        part, doc = span.part, span.document_id
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
