"""Turn a PDF's words into findings on statements that must not be there: not in force on the date, or not applying."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ..model import Block
from ..resolve import Plan
from ..statutes import Registry, load_registry
from .passages import closest, word_diff
from .patterns import requirement
from .pdftext import PdfText, fixed_words, text_key
from .report import Recorder, Span, Target

NEAR = 0.85  # a passage sharing this share of a statement not in force is that statement, slightly changed


class UnexpectedBlocks:
    """Looks for every registry block this mailing must not print, exactly, nearly or by its ``detect`` phrases."""

    def __init__(self, text: PdfText, target: Target, recorder: Recorder) -> None:
        self.text = text
        self.target = target
        self.add = recorder.add

    def check(self, spans: Sequence[Span]) -> None:
        """Statements of blocks not in force on the date, or not applying to this collector, must not be printed."""
        registry = load_registry()
        seen_texts = _candidates(self.target.plan)
        taken: list[tuple[int, int]] = []
        exact: dict[str, int | None] = {}
        for key, block in seen_texts.items():
            needle = fixed_words(block.text)
            at = exact[key] = self.text.find(needle)
            if at is not None:
                taken.append((at, at + len(needle)))
                self.report(block, at, spans)
        # Then near-verbatim copies (one or two words changed), unless an exact statement already stands there.
        vocabulary = frozenset().union(*self.text.vocabularies)  # each word lower-cased, as ``lower`` has them
        for key, block in seen_texts.items():
            needle = fixed_words(block.text)
            if exact[key] is not None or len(needle) < 8:
                continue
            if sum(map(vocabulary.__contains__, _lowered(block.text))) < NEAR * len(needle):
                continue  # cheap: most of the statement's words are not even in the PDF
            near = closest(needle, self.text, 0, len(self.text.words))
            if near is None or near[2] < NEAR or any(a < near[1] and near[0] < b for a, b in taken):
                continue
            taken.append((near[0], near[1]))
            self.report(block, near[0], spans, detail="nearly: " + word_diff(needle, self.text.words[near[0]:near[1]]))
        expected = {b.id for b in self.target.plan.blocks}
        for span in spans:
            for block in registry.in_force(span.document_id, self.target.day):
                if block.id in expected or not block.detect:
                    continue
                if block.text and text_key(block.text) in seen_texts:
                    continue
                for spec in block.detect:
                    req = requirement(spec, self.target.collector)
                    hit = self.text.search(req[0], span.lo, span.hi) if req else None
                    if hit:
                        self.report(block, hit[0], spans, detail=req[1] if req else "")
                        break

    def report(self, block: Block, at: int, spans: Sequence[Span], detail: str = "") -> None:
        doc = next((s.document_id for s in spans if s.lo <= at < s.hi), "")
        if not block.in_force_on(self.target.day):
            since = block.in_force_from.isoformat()
            why = (f"not in force on {self.target.day.isoformat()} (in force from {since}"
                   + (f" until {block.in_force_until.isoformat()}" if block.in_force_until else "") + ")")
        elif block.document not in self.target.plan.mailing.documents:
            return  # in force, belongs to another mailing: quoting it is the collector's choice
        else:
            why = f"does not apply to {self.target.collector.name} (condition: {block.applies_when})"
        found = f" ({detail})" if detail else ""
        self.add(block, "error", f"printed{found}, but {why}", at, document=doc)


@functools.lru_cache(maxsize=512)
def _lowered(text: str) -> tuple[str, ...]:
    """A registry text's words lower-cased, each as ``w.lower()``: the same candidates are weighed in every piece."""
    return tuple(w.lower() for w in fixed_words(text))


_CANDIDATES: dict[int, tuple[Plan, Registry, dict[str, Block]]] = {}  # per plan (kept, so its id stays its own)


def _candidates(plan: Plan) -> dict[str, Block]:
    """Per distinct text, the block whose words must not be printed (fixed words only; the Date line has none).

    Worked out once per plan: every piece of a run is checked against the same one.
    """
    registry = load_registry()
    cached = _CANDIDATES.get(id(plan))
    if cached is not None and cached[0] is plan and cached[1] is registry:
        return cached[2]
    mailing_docs = set(plan.mailing.documents)
    expected = {b.id for b in plan.blocks}
    printed = {text_key(b.text) for b in plan.blocks if b.text}
    seen_texts: dict[str, Block] = {}
    # Where two blocks share their words (§ 4-201.2(a)(1) and § 2-112(d)(4)(II)1), name the one of this mailing, or the first.
    ranked = sorted(enumerate(registry.blocks), key=lambda item: (item[1].document not in mailing_docs, item[0]))
    for _, block in ranked:
        if block.id in expected or not block.text or block.check == "date-line":
            continue
        key = text_key(block.text)
        if key in seen_texts or key in printed:
            continue
        seen_texts[key] = block
    if len(_CANDIDATES) >= 16:
        _CANDIDATES.clear()
    _CANDIDATES[id(plan)] = (plan, registry, seen_texts)
    return seen_texts
