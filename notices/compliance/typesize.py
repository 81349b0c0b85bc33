"""Turn a PDF's text runs into their type size as printed, and a large-print PDF into findings on it.

The size of a run is read from the page objects PDFium finds (the font size times the scale of the
run's matrix, through any form it is drawn in), so it is the size on paper, whatever the template or
stylesheet said. Large print asks every run to be at least 18 pt. The one exception is what shows
through the envelope's windows on a statement's first page (the return address and the owner's
address): it keeps the size the window was measured for, and must still be at least 8 pt, as USPS
asks of an address read through a window.
"""

from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium

from ..errors import InputError
from ..postal import envelopes
from .report import Recorder, Span, Target

LARGE_PRINT_PT = 18.0
"""The smallest type a large-print piece may print (the usual large-print standard, and the request's)."""
WINDOW_PT = 8.0
"""The smallest type USPS reads through an envelope window."""
TOLERANCE = 0.01  # points: a size written as 18 may come back as 17.9999 through the matrices
CHECK = "type-size"
CITATION = "large print (--large-print)"

_LOCK = threading.RLock()  # PDFium is not thread-safe
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Run:
    """One text object of a page: its words, its size in points as printed, and its box in points from the bottom-left."""

    page: int  # 0-based
    text: str
    size: float
    box: tuple[float, float, float, float]  # left, bottom, right, top
    page_height: float


def _times(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix of ``inner`` drawn inside ``outer`` (PDF row-vector convention: inner, then outer)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])


def _text(obj: Any, textpage: Any) -> str:
    length = pdfium.FPDFTextObj_GetText(obj, textpage, None, 0)
    if length <= 0:
        return ""
    buffer = (ctypes.c_ushort * length)()
    pdfium.FPDFTextObj_GetText(obj, textpage, buffer, length)
    return bytes(buffer).decode("utf-16-le", "ignore").rstrip("\x00")


def _objects(parent: Any, form: bool, outer: Matrix, textpage: Any) -> Iterator[tuple[str, float, tuple[float, float, float, float]]]:
    """(text, size, box) of every text object of a page or form, forms followed with their matrices."""
    count = pdfium.FPDFFormObj_CountObjects(parent) if form else pdfium.FPDFPage_CountObjects(parent)
    for index in range(max(count, 0)):
        obj = pdfium.FPDFFormObj_GetObject(parent, index) if form else pdfium.FPDFPage_GetObject(parent, index)
        kind = pdfium.FPDFPageObj_GetType(obj)
        raw = pdfium.FS_MATRIX()
        own = (raw.a, raw.b, raw.c, raw.d, raw.e, raw.f) if pdfium.FPDFPageObj_GetMatrix(obj, ctypes.byref(raw)) else _IDENTITY
        # An object's matrix holds the page's (or its form's) transformation; a form's is carried to what it draws.
        matrix = _times(own, outer)
        if kind == pdfium.FPDF_PAGEOBJ_FORM:
            yield from _objects(obj, True, matrix, textpage)
            continue
        if kind != pdfium.FPDF_PAGEOBJ_TEXT:
            continue
        words = _text(obj, textpage)
        if not words.strip():
            continue
        size = ctypes.c_float()
        if not pdfium.FPDFTextObj_GetFontSize(obj, ctypes.byref(size)):
            continue
        scale = math.sqrt(abs(matrix[0] * matrix[3] - matrix[1] * matrix[2]))
        left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        pdfium.FPDFPageObj_GetBounds(obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top))
        corners = [_apply(outer, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
        box = (min(x for x, _ in corners), min(y for _, y in corners), max(x for x, _ in corners), max(y for _, y in corners))
        yield words, size.value * scale, box


def text_runs(pdf: bytes, file: str = "") -> list[Run]:
    """Every text run of every page, with its printed size; an unreadable PDF is an input error."""
    runs: list[Run] = []
    with _LOCK:
        try:
            document = pypdfium2.PdfDocument(pdf)
        except Exception as exc:  # noqa: BLE001 - PDFium's own error type varies by version
            raise InputError(f"Not a readable PDF for the type-size check ({exc})", file=file or None) from None
        try:
            for number in range(len(document)):
                page = document[number]
                textpage = page.get_textpage()
                try:
                    height = page.get_height()
                    runs += [Run(number, t, s, b, height) for t, s, b in _objects(page.raw, False, _IDENTITY, textpage.raw)]
                finally:
                    textpage.close()
                    page.close()
        finally:
            document.close()
    return runs


def _windows(target: Target, height: float) -> list[tuple[float, float, float, float]]:
    """The envelope's windows on a statement's first page, in PDF points from the bottom-left."""
    envelope = envelopes.for_profile(target.collector.envelope)
    rects = [r for r in (envelope.address_window, envelope.return_window) if r is not None]
    return [(r.left * 72, height - r.bottom * 72, r.right * 72, height - r.top * 72) for r in rects]


def _inside(box: tuple[float, float, float, float], window: tuple[float, float, float, float]) -> bool:
    """Whether a run shows through a window: its centre is inside (an accent may stand a hair above the edge)."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return window[0] <= x <= window[2] and window[1] <= y <= window[3]


def check_type_size(recorder: Recorder, target: Target, pdf: bytes, spans: Sequence[Span], file: str = "") -> None:
    """Large print: every run at least 18 pt, but the envelope windows of a statement's first page, at least 8 pt there."""
    firsts = {span.first_page for span in spans if not span.part.document.insert}
    body: list[Run] = []
    window: list[Run] = []
    for run in text_runs(pdf, file):
        inside = run.page in firsts and any(_inside(run.box, w) for w in _windows(target, run.page_height))
        (window if inside else body).append(run)
    small = [r for r in body if r.size < LARGE_PRINT_PT - TOLERANCE]
    window_small = [r for r in window if r.size < WINDOW_PT - TOLERANCE]
    for run in small[:5]:
        recorder.add(CHECK, "error", f"text at {run.size:.1f} pt, below the {LARGE_PRINT_PT:g} pt of large print: "
                     f"{run.text.strip()[:40]!r}", page=run.page + 1, citation=CITATION)
    if len(small) > 5:
        recorder.add(CHECK, "error", f"and {len(small) - 5} more runs below {LARGE_PRINT_PT:g} pt", citation=CITATION)
    for run in window_small[:5]:
        recorder.add(CHECK, "error", f"address in the envelope window at {run.size:.1f} pt, below the {WINDOW_PT:g} pt "
                     f"USPS reads: {run.text.strip()[:40]!r}", page=run.page + 1, citation=CITATION)
    if not small and not window_small:
        smallest = min((r.size for r in body), default=0.0)
        kept = f"; the envelope windows' {len(window)} runs at their postal size, at least {WINDOW_PT:g} pt" if window else ""
        recorder.add(CHECK, "ok", f"large print: {len(body)} text runs, every one at least {LARGE_PRINT_PT:g} pt "
                     f"(smallest {smallest:.1f} pt){kept}", citation=CITATION)
