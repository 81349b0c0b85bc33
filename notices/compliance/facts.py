"""Turn a statement's words into findings on what it states: the Date line, the owner and total, the itemization, the advertisement."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from ..model import Block
from ..resolve import Part
from .patterns import ADVERTISED, DATE_LINE, OWNER_LABEL, TOTAL, money_amounts, parse_date
from .pdftext import PdfText
from .report import Recorder, Span, Target


class Figures(NamedTuple):
    """One line of a statement with the dollar amounts it shows, read once for the owner-total and the itemized checks."""

    page: int
    text: str
    amounts: tuple[Decimal, ...]
    total: bool  # the line says "total"

    @property
    def total_line(self) -> bool:
        """A line that says "total" and shows an amount: "Total due $4,680.31"."""
        return self.total and bool(self.amounts)


def itemization(lines: Sequence[Figures], at: int) -> list[Decimal]:
    """The last amount of every line of the list that the total line ``at`` closes.

    The list runs up from the total to its header, the first line above with no amount; a list
    broken across pages repeats its header, so it begins at the header's first showing after the
    total line before it. Every line with an amount in between is an item: none may be left out
    for the rest to add up.
    """
    j = at - 1
    while j >= 0 and lines[j].amounts and not lines[j].total:
        j -= 1
    start = j + 1
    if j >= 0 and not lines[j].total:
        header = lines[j].text
        for k in range(j - 1, -1, -1):
            if lines[k].total_line:
                break
            if lines[k].text == header:
                start = k + 1
    return [line.amounts[-1] for line in lines[start:at] if line.amounts and not line.total]


@functools.lru_cache(maxsize=4096)
def line_figures(page: int, line: str) -> Figures:
    """A line's dollar amounts, and whether it says "total": cached, as most lines of a statement are the same in every piece."""
    return Figures(page, line, tuple(money_amounts(line)), bool(TOTAL.search(line)))


def date_line(text: PdfText, lo: int, hi: int) -> tuple[int, dt.date] | None:
    """The first "Date" line of words [lo, hi): where it stands, and the date it shows."""
    for match in DATE_LINE.finditer(text.joined, text.char(lo), text.char(hi)):
        day = parse_date(match)
        if day is not None:
            return text.word_at(match.start()), day
    return None


class StatementFacts:
    """The statement's special duties (a block's ``check``): each a finding on the block that names it."""

    def __init__(self, text: PdfText, target: Target, recorder: Recorder) -> None:
        self.text = text
        self.target = target
        self.add = recorder.add
        self._figures: dict[tuple[int, int], list[Figures]] = {}

    def figures(self, span: Span) -> list[Figures]:
        """The lines of the span's pages with their amounts, read once per document."""
        pages = (span.first_page, span.last_page)
        if pages not in self._figures:
            self._figures[pages] = [line_figures(p, line) for p, line in self.text.lines_on(*pages)]
        return self._figures[pages]

    def owner_total(self, block: Block, span: Span) -> None:
        """§ 14-812(a)(1): a name and a total due; the record's own figures are checked through ``must_show``."""
        doc = span.document_id
        owner = self.owner_label(span)
        if owner is None and not any(b == block.id for b, _, _ in self.target.must_show):
            self.add(block, "error", "no owner's name (a label such as \"Owner on the tax roll\" and a name)", document=doc)
        elif owner is not None:
            self.add(block, "ok", f"owner: {owner[1]}", owner[0], document=doc)
        totals = [(line.page, line.amounts[-1]) for line in self.figures(span) if line.total_line]
        if not totals:
            self.add(block, "error", "no total due (a line with \"Total\" and an amount)", document=doc)
            return
        values = {v for _, v in totals}
        if len(values) > 1:
            self.add(block, "error", "the statement shows different totals: " + ", ".join(f"${v:,}" for v in sorted(values)),
                     page=totals[0][0] + 1, document=doc)
        else:
            self.add(block, "ok", f"total due: ${totals[0][1]:,}", page=totals[0][0] + 1, document=doc)

    def owner_label(self, span: Span) -> tuple[int, str] | None:
        """A labelled owner's name: the words after the label, to the end of its line (a wrapped label is fine)."""
        text = self.text
        match = OWNER_LABEL.search(text.lower, text.char(span.lo), text.lower_end(span.hi))
        if match is None:
            return None
        first = text.word_at(match.end())
        if text.starts[first] < match.end():
            first += 1
        if first >= span.hi:
            return None
        line = text.line_of[first]
        name = [text.words[w] for w in range(first, min(span.hi, first + 12)) if text.line_of[w] == line]
        return first, " ".join(name)

    def itemized(self, block: Block, span: Span) -> None:
        """§ 14-812(a)(3): the whole list between its header and a total line, every amount in it, adds up to the total."""
        doc = span.document_id
        lines = self.figures(span)
        lists = [(line.page, line.amounts[-1], itemization(lines, i)) for i, line in reversed(list(enumerate(lines)))
                 if line.total_line]
        if not lists:
            self.add(block, "error", "no itemized list with a total line", document=doc)
            return
        items = [(page, total, amounts) for page, total, amounts in lists if amounts]
        if not items:
            page, total, _ = lists[0]
            self.add(block, "error", f"no itemized lines above the total ${total:,}", page=page + 1, document=doc)
            return
        for page, total, amounts in items:
            if sum(amounts) != total:
                self.add(block, "error", f"the {len(amounts)} itemized lines sum to ${sum(amounts):,}, the total is ${total:,}",
                         page=page + 1, document=doc)
                return
        page, total, amounts = items[0]
        self.add(block, "ok", f"{len(amounts)} itemized lines sum to the total ${total:,}", page=page + 1, document=doc)

    def advertisement(self, first: dt.date, part: Part, doc: str, word: int | None) -> None:
        """A first advertisement less than 30 days after the notice date is a finding on the Date line."""
        block = next((b for b in part.blocks if b.check == "date-line"), None)
        if block is None:
            return
        if first < self.target.day + dt.timedelta(days=30):
            self.add(block, "error", f"first advertisement {first.isoformat()} is less than 30 days after the notice date "
                     f"{self.target.day.isoformat()}", word, document=doc)

    def printed_advertisement(self, span: Span) -> None:
        """A first-advertisement date printed on the statement must be at least 30 days after the notice date."""
        for match in ADVERTISED.finditer(self.text.joined, self.text.char(span.lo), self.text.char(span.hi)):
            day = parse_date(match)
            if day is not None:
                self.advertisement(day, span.part, span.document_id, self.text.word_at(match.start()))
