"""Turn a PDF's pages and documents into findings on the sheets: inserts on sheets of their own, page size, fonts, printable area."""

from __future__ import annotations

from collections.abc import Sequence

from .pdftext import LETTER, PdfText
from .report import Recorder, Span, Target, document_citation


def separate_inserts(recorder: Recorder, target: Target, spans: Sequence[Span]) -> None:
    """Each insert begins on a sheet of its own (on a front side, printed duplex)."""
    for k, span in enumerate(spans):
        if not span.part.document.insert:
            continue
        doc = span.document_id
        cite = document_citation(span.part)
        if span.shared:
            recorder.add("separate-insert", "error", "the insert begins on a page of the document before it",
                         span.lo, document=doc, citation=cite)
        elif k and target.duplex and span.first_page % 2:
            recorder.add("separate-insert", "error", "the insert begins on the back of a sheet (duplex printing): "
                         "pad the document before it to an even number of pages", page=span.first_page + 1, document=doc,
                         citation=cite)
        else:
            recorder.add("separate-insert", "ok", "begins on a sheet of its own", page=span.first_page + 1, document=doc,
                         citation=cite)


def page_facts(recorder: Recorder, text: PdfText) -> None:
    """US Letter pages, every font embedded, no text within 0.25 in of the edge: a row per bad page, or one that all pass."""
    size_bad = fonts_bad = area_bad = False
    for number, page in enumerate(text.pages, start=1):
        size = (round(page.width, 1), round(page.height, 1))
        if size != LETTER:
            size_bad = True
            recorder.add("page-size", "error", f"page is {size[0]}x{size[1]} pt, not US Letter (612x792)", page=number)
        for font in page.unembedded:
            fonts_bad = True
            recorder.add("fonts", "error", f"font {font} is not embedded", page=number)
        if page.outside:
            area_bad = True
            more = f" and {len(page.outside) - 1} more" if len(page.outside) > 1 else ""
            recorder.add("printable-area", "error", f"text within 0.25 in of the edge: {page.outside[0]}{more}", page=number)
    n = len(text.pages)
    if not size_bad:
        recorder.add("page-size", "ok", f"{n} US Letter pages")
    if not fonts_bad:
        recorder.add("fonts", "ok", "every font is embedded")
    if not area_bad:
        recorder.add("printable-area", "ok", "no text within 0.25 in of the edge")
