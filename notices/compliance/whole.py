"""Turn the documents and numbered pages of a piece into findings on the mailpiece as a whole: every document, complete, once, in order."""

from __future__ import annotations

from collections.abc import Sequence

from ..resolve import Part
from .documents import DocumentFinder
from .pdftext import PageNumber, PdfText
from .report import Recorder, Span, Target, document_citation


def _pages(numbers: Sequence[int]) -> str:
    return ("pages " if len(numbers) > 1 else "page ") + ", ".join(str(n + 1) for n in numbers)


class WholePiece:
    """Holds a piece file to the mailing: each document of the plan there once, with all its pages, in the plan's order.

    A document that prints its own "Page k of n" (every template of the project does) is whole when
    its pages 1 to n each stand once, in order, together; a page that prints no number is only
    held to not repeating another page of the piece.
    """

    def __init__(self, text: PdfText, target: Target, recorder: Recorder, finder: DocumentFinder) -> None:
        self.text = text
        self.target = target
        self.finder = finder
        self.recorder = recorder

    def check(self, spans: Sequence[Span]) -> None:
        labels = {span.document_id: self._label(span.part) for span in spans}
        strays = [p for p, n in enumerate(self.text.numbers) if n is not None and n.label not in labels.values()]
        present = set(labels)
        for part in self.target.plan.parts:
            if part.document.id not in present:
                self._missing(part, strays)
        self._order(spans)
        if spans[0].first_page > 0:
            self.error(spans[0].part, f"{_pages(list(range(spans[0].first_page)))} before it {'are' if spans[0].first_page > 1 else 'is'} "
                       "blank: a piece begins with its first document", 0)
        shown = list(labels.values())
        for span in spans:
            label = labels[span.document_id]
            if label is not None:
                # A label two documents print alike cannot tell their pages apart: then only the document's own pages count.
                self._numbered(span, label, alone=shown.count(label) > 1)
        self._repeated(spans, {label for label in labels.values() if label is not None})

    def error(self, part: Part, message: str, page: int | None = None) -> None:
        self.recorder.add(part.document.id, "error", message, page=None if page is None else page + 1,
                          document=part.document.id, citation=document_citation(part))

    def _label(self, part: Part) -> str | None:
        """The label of the running footer on the page where the document's first fixed words stand, if it is numbered."""
        first = self.finder.evidence(part)[0][0]
        number = self.text.numbers[self.text.page_of[first]]
        return number.label if number is not None else None

    def _missing(self, part: Part, strays: Sequence[int]) -> None:
        names = ", ".join(p.document.id for p in self.target.plan.parts)
        if not strays:
            self.error(part, f"missing: the {part.document.title} is not in this PDF; a piece holds every document of "
                       f"the mailing, in order ({names})")
            return
        numbered = ", ".join(f"{n.number} of {n.of}" for p in strays if (n := self.text.numbers[p]) is not None)
        self.error(part, f"missing or truncated: none of the fixed words of the {part.document.title} are in this PDF, "
                   f"and {_pages(strays)} (numbered {numbered}) belong to no document found: the pages with its "
                   "fixed words are lost", strays[0])

    def _order(self, spans: Sequence[Span]) -> None:
        plan = [p.document.id for p in self.target.plan.parts]
        expected = sorted(spans, key=lambda span: plan.index(span.document_id))
        for place, (span, wanted) in enumerate(zip(spans, expected, strict=True)):
            if span is not wanted:
                self.error(span.part, f"out of order: it is document {place + 1} of this PDF, the mailing puts it "
                           f"{expected.index(span) + 1} ({' then '.join(s.document_id for s in expected)})", span.first_page)

    def _numbered(self, span: Span, label: str, alone: bool) -> None:
        """Pages 1 to n of the document, each once, in order, with no other page between them."""
        mine = [(p, n) for p, n in enumerate(self.text.numbers) if n is not None and n.label == label
                and (not alone or span.first_page <= p <= span.last_page)]
        of = max(n.of for _, n in mine)
        shown = [n.number for _, n in mine]
        lost = [k for k in range(1, of + 1) if k not in shown]
        if lost:
            self.error(span.part, f"truncated: its page{'s' if len(lost) > 1 else ''} {', '.join(map(str, lost))} of {of} "
                       f"{'are' if len(lost) > 1 else 'is'} not in this PDF", span.first_page)
        for k in sorted({k for k in shown if shown.count(k) > 1}):
            twice = [p for p, n in mine if n.number == k]
            self.error(span.part, f"duplicated: its page {k} of {of} is printed {len(twice)} times ({_pages(twice)})", twice[1])
        if shown != sorted(shown):
            self.error(span.part, "out of order: its pages are " + _shown(mine), mine[0][0])
        elif self._apart([p for p, _ in mine]):
            self.error(span.part, "out of order: other pages stand between its pages " + _shown(mine), mine[0][0])

    def _apart(self, pages: Sequence[int]) -> bool:
        """Whether a page that is neither blank nor one of ``pages`` (in page order) stands between the first and last of them."""
        return any(p not in pages and not self.text.blank(p) for p in range(pages[0], pages[-1]))

    def _repeated(self, spans: Sequence[Span], numbered: set[str]) -> None:
        """A page that prints no number of its own must not repeat another page of the piece (blank pages aside)."""
        seen: dict[str, int] = {}
        for page, facts in enumerate(self.text.pages):
            number = self.text.numbers[page]
            if self.text.blank(page) or (number is not None and number.label in numbered):
                continue
            earlier = seen.setdefault(facts.text, page)
            if earlier != page:
                span = next((s for s in spans if s.first_page <= page <= s.last_page), spans[-1])
                self.error(span.part, f"duplicated: page {page + 1} repeats page {earlier + 1}", page)


def _shown(mine: Sequence[tuple[int, PageNumber]]) -> str:
    return ", ".join(f"{n.number} of {n.of} on page {p + 1}" for p, n in mine)
