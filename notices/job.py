"""Turn a run's collector, plan and language into a Job: what a worker builds once and reuses for every piece.

A Job is made from values (the collector and the plan are loaded once per run, in the main process)
so a worker process, local or on a Dask cluster, never loads a profile or the law again.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from pypdf import PdfReader

from . import standards
from .compose import Composer
from .model import Collector, Record
from .pdfwriter import Fragment
from .postal import envelopes, production
from .postal.imb import SerialBlock
from .resolve import Part, Plan
from .workspace import template_roots

if TYPE_CHECKING:
    from .fields import Layouts

Shape = tuple[int, int, int]
"""What decides a statement's boxes: table rows, line sources, and whether it is a post-sale notice."""


class PdfRenderer(Protocol):
    """What the pipeline asks of a renderer (``render.Renderer``; a test may pass a double)."""

    def layout(self, html: str, what: str = ...) -> Any: ...

    def write(self, document: Any, pages: Sequence[Any] | None = ..., what: str = ...,
              identifier: bytes | None = ...) -> bytes: ...

    def fragment(self, document: Any, pages: Sequence[Any], what: str = ...) -> Fragment: ...

    def objects(self, document: Any, pages: Sequence[Any], what: str = ...) -> Any: ...


class _Deferred:
    """A Job's Renderer, made on its first use. The main process of a run with workers lays nothing out
    (its workers make the pieces, and the inserts are made beside it, ``workers.make_inserts``): its Job
    never makes one, so that process never loads WeasyPrint.
    """

    def __init__(self, collector: Collector, pdf_variant: str) -> None:
        self._collector, self._variant = collector, pdf_variant
        self._made: PdfRenderer | None = None

    def _renderer(self) -> PdfRenderer:
        if self._made is None:
            from .render import Renderer  # noqa: PLC0415 - WeasyPrint, only in a process that lays out

            self._made = Renderer(template_roots(self._collector), self._collector.own, variant=self._variant)
        return self._made

    def layout(self, html: str, what: str = "piece") -> Any:
        return self._renderer().layout(html, what)

    def write(self, document: Any, pages: Sequence[Any] | None = None, what: str = "piece",
              identifier: bytes | None = None) -> bytes:
        return self._renderer().write(document, pages, what, identifier)

    def fragment(self, document: Any, pages: Sequence[Any], what: str = "piece") -> Fragment:
        return self._renderer().fragment(document, pages, what)

    def objects(self, document: Any, pages: Sequence[Any], what: str = "piece") -> Any:
        return self._renderer().objects(document, pages, what)


def _layouts(reuse_layouts: bool) -> Layouts | None:
    """A store of kept layouts, when reusing them (and only then is ``fields``, with WeasyPrint, imported)."""
    if not reuse_layouts:
        return None
    from .fields import Layouts, proven_toolchain  # noqa: PLC0415 - see _Deferred

    # Off unless the toolchain is the one reuse was proven with: then every piece gets a full layout.
    return Layouts() if proven_toolchain() else None


@dataclass(frozen=True)
class Job:
    """One run's set-up in one process: values that do not change, plus two caches that only speed it up."""

    collector: Collector
    plan: Plan
    language: str
    composer: Composer
    renderer: PdfRenderer
    inserts: tuple[tuple[Part, bytes], ...] = ()
    layouts: Layouts | None = None  # a laid-out piece per skeleton, when reusing layouts
    pdf_variant: str = standards.PRINT  # the PDF standard every file is written for (notices.standards)
    page_counts: dict[Shape, int] = field(default_factory=dict)  # a piece's shape -> its page count, as seen
    kinds: Mapping[Shape, int] = field(default_factory=dict)  # a shape -> its skeleton kind (batch.layout_kinds)
    serials: SerialBlock | None = None  # the run's block from the serial ledger (notices.postal.serials); drawn by the main process

    @functools.cached_property
    def production(self) -> production.Production:
        """The barcode, OMR marks and sheet capacity settings of the run (notices.postal.production)."""
        return production.for_run(self.collector, self.serials)

    @functools.cached_property
    def insert_pages(self) -> list[int]:
        """Each insert's page count, in order: a piece's sheets are known before it is written."""
        return [len(PdfReader(io.BytesIO(pdf)).pages) for _, pdf in self.inserts]

    def guess_pages(self, shape: Shape) -> int:
        """The page count to compose a piece of this shape for: as seen, else as seen for a shape of its skeleton
        kind, else as the nearest smaller shape seen.

        Shapes of one kind composed the same statement but for its fields (``batch.layout_kinds``), so they
        lay out alike: a worker that has laid out one of them composes the others for the right page count
        and writes them into the kept layout, where a guess from the nearest smaller shape (say, eight rows
        from five sources guessed from eleven rows from two, two pages) laid them out twice more. Otherwise
        a statement grows with its rows and its sources' lines, so a shape seldom has fewer pages than a
        smaller one. A wrong guess costs only a layout, never a byte (piece.py).
        """
        known = self.page_counts.get(shape)
        if known is not None:
            return known
        kind = self.kinds.get(shape)
        if kind is not None:  # a scan of the shapes laid out so far, a few: cheaper than keeping a second table
            alike = next((pages for seen, pages in self.page_counts.items() if self.kinds.get(seen) == kind), None)
            if alike is not None:
                return alike
        rows, sources, sale = shape
        smaller = [(r + s, pages) for (r, s, p), pages in self.page_counts.items() if p == sale and r + s <= rows + sources]
        return max(smaller)[1] if smaller else 1

    @property
    def statement(self) -> Part:
        return self.plan.parts[0]

    @functools.cached_property
    def address_layout(self) -> envelopes.AddressLayout:
        """Where the envelope's window puts the address and the barcode (the profile's stock or windows)."""
        return envelopes.address_layout(envelopes.for_profile(self.collector.envelope))

    @property
    def shared(self) -> list[tuple[str, bytes]]:
        """The inserts as the assembler takes them: document id and PDF."""
        return [(part.document.id, pdf) for part, pdf in self.inserts]


def make_job(collector: Collector, plan: Plan, language: str, *, reuse_layouts: bool,
             inserts: Sequence[tuple[str, bytes]] = (), composer: Composer | None = None,
             renderer: PdfRenderer | None = None, proof: bool = False, serials: SerialBlock | None = None,
             pdf_variant: str = standards.PRINT, kinds: Mapping[Shape, int] | None = None,
             templates: Sequence[tuple[str, bytes]] = ()) -> Job:
    # A standard's files are only ever laid out in full (standards.full_layout): the one place that says so.
    reuse_layouts = reuse_layouts and not standards.full_layout(pdf_variant)
    return Job(
        collector=collector,
        plan=plan,
        language=language,
        composer=composer or Composer(collector, plan, language, proof=proof, pdf_variant=pdf_variant, compiled=templates),
        renderer=renderer or _Deferred(collector, pdf_variant),
        inserts=insert_parts(plan, inserts),
        layouts=_layouts(reuse_layouts),
        serials=serials,
        pdf_variant=pdf_variant,
        kinds=kinds or {},
    )


def insert_parts(plan: Plan, inserts: Sequence[tuple[str, bytes]]) -> tuple[tuple[Part, bytes], ...]:
    """The inserts as a Job holds them: each document's part of the plan, with its PDF."""
    return tuple((plan.part(document_id), pdf) for document_id, pdf in inserts)


def shape(record: Record) -> Shape:
    """A record's statement shape: pieces of one shape mostly share a skeleton, a layout and a page count.

    (The envelope window always has the same number of lines, and each value is one field.)
    """
    rows = sum(1 + bool(line.interest) + bool(line.penalty) for line in record.lines)
    return rows, len({line.source for line in record.lines}), int(record.sale is not None)


@dataclass(frozen=True)
class JobSpec:
    """What a worker process needs to build its Job: plain values, sent once per worker (or per Dask task)."""

    collector: Collector
    plan: Plan
    language: str
    reuse_layouts: bool
    inserts: tuple[tuple[str, bytes], ...]
    proof: bool = False
    serials: SerialBlock | None = None  # the run's block of barcode serials: workers draw none themselves
    pdf_variant: str = standards.PRINT
    kinds: tuple[tuple[Shape, int], ...] = ()  # each shape's skeleton kind (batch.layout_kinds): page guesses only
    templates: tuple[tuple[str, bytes], ...] = ()  # compiled by the main process (Composer.compiled), not again here

    def build(self) -> Job:
        return make_job(self.collector, self.plan, self.language, reuse_layouts=self.reuse_layouts,
                        inserts=self.inserts, proof=self.proof, serials=self.serials, pdf_variant=self.pdf_variant,
                        kinds=dict(self.kinds), templates=self.templates)

    def early(self) -> JobSpec:
        """This spec without what the main process settles after starting its workers: the inserts and the serials.

        A worker set up from it does the slow part of its start (fonts, stylesheets, a first layout)
        while the main process makes the inserts; ``complete`` then fills them in.
        """
        return replace(self, inserts=(), serials=None)

    def complete(self, job: Job) -> Job:
        """A Job built from ``self.early()`` with this spec's inserts and serials: equal to ``self.build()`` but for its caches."""
        return replace(job, inserts=insert_parts(self.plan, self.inserts), serials=self.serials)

    def key(self) -> str:
        """Equal for equal specs, so a Dask worker process builds one Job per run, not one per task."""
        return hashlib.sha256(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
