"""Turn a finished PDF and an envelope stock into findings on print production: the windows' fit, the barcode, the sheets.

Measured from the PDF alone, as a mail house would see the pieces (never from the renderer's
numbers): the glyph boxes PDFium reports and the rectangles the content stream fills on each piece's
first page are carried through the fold into the envelope, and held to the stock's windows at every
extreme of the insert's allowed shift; the Intelligent Mail barcode's 65 bars are found among the
filled rectangles, measured against USPS-B-3200's ranges, read back to their codes
(:mod:`notices.compliance.imbcode`) and matched to the manifest; each piece's pages and sheets are
counted.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from ..errors import InputError
from ..model import Collector
from ..postal import imb
from ..postal.envelopes import Envelope, Rect
from .drawn import Box, Glyph, draws_outlines, filled_rectangles, glyphs
from .imbcode import BarcodeUnreadable, decode
from .pdftext import give_back, page_key, page_reader, pypdf_room
from .report import Finding, Report

FIT_CITATION = "USPS DMM 601.6.3"
IMB_CITATION = "USPS-B-3200"
SHEETS_CITATION = ""
# USPS-B-3200's ranges, in inches: a bar's extent above and below the tracker's centre line.
BAR_WIDTH = (0.015, 0.025)
BAR_PITCH = (0.0416, 0.050)  # centre to centre: 20 to 24 bars per inch
LENGTH = (2.667, 3.225)
LONG_EXTENT = (0.0625, 0.0825)  # a full bar both ways, an ascender up, a descender down
SHORT_EXTENT = (0.0195, 0.0285)  # the tracker both ways, an ascender down, a descender up
CLEAR_ACROSS = 0.125  # nothing else printed this close to the barcode's left and right
CLEAR_ABOVE_BELOW = 0.028  # and above and below it
_SLACK = 0.002  # measuring slack: PDFium's glyph boxes stray from the font's outlines by up to a tenth of a point
_BLOCK_GAP = 0.1  # lines further apart than this are not one address block
_BAR_SHAPE = (0.008, 0.035, 0.02, 0.25)  # what may be a bar: width and height ranges, wide enough to find a misprinted one
_ADDRESS, _RETURN, _IMB, _SHEETS, _BLANK = "envelope-address", "envelope-return", "imb", "sheets", "padding-page"
_MANIFEST = "manifest"


@dataclass(frozen=True)
class PostalTarget:
    """What a PDF's print production is held to: the envelope, duplex or simplex, and the manifest when given."""

    envelope: Envelope
    duplex: bool
    manifest: tuple[dict[str, str], ...] | None = None
    barcode: bool = True  # the profile prints an Intelligent Mail barcode: a piece without one is a finding


def postal_target(envelope: Envelope, collector: Collector, manifest: Path | None = None) -> PostalTarget:
    """What a collector's pieces are held to in this envelope (``manifest``: a run's manifest.csv to match them to)."""
    return PostalTarget(envelope, collector.duplex, read_manifest(manifest) if manifest is not None else None,
                        imb.mailer(collector.imb) is not None)


@dataclass
class _Piece:
    """One piece of the PDF: where it starts and ends, and the findings on it."""

    label: str  # "" for a piece file, "piece k" in a print file
    first: int
    end: int
    findings: list[Finding] = field(default_factory=list)

    def add(self, block: str, citation: str, status: str, message: str, page: int | None = None) -> None:
        prefix = f"{self.label}: " if self.label else ""
        self.findings.append(Finding(block, citation, status, prefix + message, page, ""))  # type: ignore[arg-type]


def read_manifest(path: Path) -> tuple[dict[str, str], ...]:
    """The rendered rows of a run's manifest.csv; a missing or foreign file is an input error."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read the manifest: {exc.strerror}", file=str(path)) from None
    rows = list(csv.DictReader(io.StringIO(text)))
    needed = {"piece_file", "account_id", "pages", "sheets", "imb_tracking", "imb_routing", "print_first_page"}
    if not rows or needed - set(rows[0]):
        raise InputError("Not a notices manifest.csv (it lacks " + ", ".join(sorted(needed - set(rows[0] if rows else {}))) + ")",
                         file=str(path))
    return tuple(r for r in rows if r.get("status", "rendered") == "rendered")


def check_postal(pdf: bytes, report: Report, target: PostalTarget) -> list[Finding]:
    """The print-production findings of a PDF the statute check has cut into documents (``report``)."""
    starts = sorted({span.first_page for span in report.documents if not span.part.document.insert}) or [0]
    starts[0] = 0
    bounds = [*starts, report.pages]
    print_file = len(starts) > 1
    pieces = [_Piece(f"piece {k + 1}" if print_file else "", bounds[k], bounds[k + 1]) for k in range(len(starts))]
    band = _band(target.envelope)
    # Each piece's manifest row, by its first page in a print file, by its file name otherwise.
    key = "print_first_page" if print_file else "piece_file"
    flat = report.file.endswith("-flat.pdf")  # the flat-mailing print file numbers its pages on its own
    rows = None if target.manifest is None else {r[key]: r for r in target.manifest if not print_file or _flat(r) == flat}
    try:
        with pypdf_room(report.pages):
            reader = PdfReader(io.BytesIO(pdf))
            _, page_at = page_reader(reader, pdf)
            document = _pdfium(pdf, report)
            blank: dict[bytes, bool] = {}  # a page's dictionary -> whether it is blank and does not say so
            try:
                for k, piece in enumerate(pieces):
                    if k and not k % _REOPEN:
                        # PDFium keeps every object it parsed until the document is closed, pypdf until it is told to
                        # forget them: a print file's would pile up.
                        document.close()
                        document = _pdfium(pdf, report)
                        reader.resolved_objects.clear()
                        blank.clear()
                        give_back()
                    row = _manifest_row(rows, report.file, piece, print_file)
                    if target.manifest is not None and row is None:
                        where = f"first page {piece.first + 1}" if print_file else f"piece file {Path(report.file).name}"
                        piece.add(_MANIFEST, "", "error", f"the manifest has no rendered piece with this {where}", piece.first + 1)
                    first = page_at(piece.first)
                    shown = glyphs(document, piece.first, band)
                    _first_page(piece, target, filled_rectangles(first), shown, row)
                    _sheets(piece, target, row)
                    for number in range(piece.first, piece.end):
                        if number == piece.first and shown:
                            continue  # it shows characters, so it is not blank
                        page = first if number == piece.first else page_at(number)
                        # The blank page and the inserts' pages recur in every piece of a print file, each occurrence
                        # a dictionary naming the same objects: they draw the same, so each is looked at once.
                        drawn = page_key(page)
                        if drawn not in blank:
                            blank[drawn] = not _has_text(document, number) and not draws_outlines(page)
                        if blank[drawn]:
                            piece.add(_BLANK, "", "error", "the page is blank and does not say so: a padding page says "
                                      "\"This page intentionally left blank\"", number + 1)
            finally:
                document.close()
                if print_file:
                    give_back()  # what PDFium and pypdf parsed, 200 MB of a 30,000-piece print file, before the next stage
    except PyPdfError as exc:  # a limit pypdf keeps, or a file it cannot parse: named, as the statute check names one
        raise InputError(f"pypdf cannot read the PDF to measure it ({type(exc).__name__}: {exc})",
                         file=report.file or None) from None
    if not print_file:
        return pieces[0].findings
    return _summarised(pieces, target)


_REOPEN = 1024  # pieces measured per opening of the document by PDFium (each opening reads the page tree again)


def _pdfium(pdf: bytes, report: Report) -> Any:  # pypdfium2 has no type hints
    try:
        return pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise InputError(f"PDFium cannot read the PDF to measure it ({exc})", file=report.file or None) from None


def _band(envelope: Envelope) -> tuple[float, float]:
    """The part of the first page whose lines the check measures: the windows' footprints, with room for a line that
    runs past them and for the barcode's clear zone."""
    views = [w.footprint_on_page() for name in ("address_window", "return_window") if (w := _window(envelope, name))]
    if not views:
        return (0.0, math.inf)
    return (min(v.top for v in views) - 0.5, max(v.bottom for v in views) + 0.5)


def _summarised(pieces: Sequence[_Piece], target: PostalTarget) -> list[Finding]:
    """A print file: every piece's failures, and one row per kind of check that every piece passes."""
    matched = " and matches the manifest" if target.manifest is not None else ""
    stock = target.envelope.stock
    whose = f"the {target.envelope.id}" if stock else "the profile's own"
    cleared = " with the clearances at every position of the insert" if stock else ""
    said = {
        _ADDRESS: f"the address{' and barcode' if target.barcode else ''} inside {whose} address window{cleared}",
        _RETURN: f"the return address inside {whose} return window{cleared}",
        _IMB: f"the barcode reads{', keeps' if matched else ' and keeps'} USPS-B-3200's dimensions{matched}",
        _SHEETS: "its sheets within the envelope's capacity" + (", as many as the manifest gives" if matched else ""),
    }
    out: list[Finding] = []
    for kind, message in said.items():
        rows = [f for piece in pieces for f in piece.findings if f.block == kind]
        bad = [f for f in rows if f.status != "ok"]
        if rows and not bad:
            out.append(Finding(kind, rows[0].citation, "ok", f"each of the {len(pieces)} pieces: {message}"))
        out += bad
    out += [f for piece in pieces for f in piece.findings if f.block not in said]
    return out


def _manifest_row(rows: dict[str, dict[str, str]] | None, file: str, piece: _Piece, print_file: bool) -> dict[str, str] | None:
    if rows is None:
        return None
    return rows.get(str(piece.first + 1) if print_file else Path(file).name)


def _flat(row: dict[str, str]) -> bool:
    return row.get("flat", "").lower() in ("true", "1")


def _has_text(document: Any, index: int) -> bool:  # pypdfium2 has no type hints
    page = document[index]
    textpage = page.get_textpage()
    try:
        return bool(textpage.count_chars())
    finally:
        textpage.close()
        page.close()


# --------------------------------------------------------------------------------------------
# The first page: what shows through the windows, and the barcode.


def _first_page(piece: _Piece, target: PostalTarget, rects: Sequence[Box], shown: Sequence[Glyph],
                row: dict[str, str] | None) -> None:
    envelope = target.envelope
    page = piece.first + 1
    bars, bar_problem = _find_bars(rects)
    if bars is None:
        if row is not None and row.get("imb_bars"):
            piece.add(_IMB, IMB_CITATION, "error", f"no Intelligent Mail barcode found ({bar_problem}); the manifest gives "
                      f"tracking {row['imb_tracking']}", page)
        elif target.barcode:
            piece.add(_IMB, IMB_CITATION, "error", f"no Intelligent Mail barcode on the first page ({bar_problem}); the "
                      "profile prints one", page)
    else:
        _barcode(piece, bars, rects, shown, row, page)
    window = _window(envelope, "address_window")
    if window is None:
        return
    block, others = _address_block(envelope, window, shown)
    if not block:
        piece.add(_ADDRESS, FIT_CITATION, "error", f"no address shows through the {envelope.id} address window", page)
    else:
        boxes = [g.box for g in block] + ([b for b, _ in bars] if bars else [])
        what = f"the address ({len({g.line for g in block})} lines{' and the barcode' if bars else ''})"
        _fit(piece, _ADDRESS, envelope, window, boxes, block + [Glyph("|", b, -1) for b, _ in bars or []], what, page)
    for line in others:
        text = _text(line)
        piece.add(_ADDRESS, FIT_CITATION, "error", f"{text[:40]!r}, not part of the address, shows through the {envelope.id} "
                  "address window at some position of the insert", page)
    back = _window(envelope, "return_window")
    if back is not None:
        mine, _ = _address_block(envelope, back, shown)
        if not mine:
            piece.add(_RETURN, FIT_CITATION, "error", f"no return address shows through the {envelope.id} return window", page)
        else:
            _fit(piece, _RETURN, envelope, back, [g.box for g in mine], mine,
                 f"the return address ({len({g.line for g in mine})} lines)", page)


@dataclass(frozen=True)
class _Window:
    """A window in envelope coordinates (inches from the envelope's left and top), with its clearance and the insert's play."""

    name: str
    left: float
    top: float
    right: float
    bottom: float
    clearance: float
    shift: tuple[float, float]
    offset: tuple[float, float]  # where the first panel's top-left corner lies in the envelope, nominally

    def footprint_on_page(self) -> Box:
        """Every point of the page that shows through the window at some position of the insert."""
        (dx, dy), (ox, oy) = self.shift, self.offset
        return Box(self.left - ox - dx, self.top - oy - dy, self.right - ox + dx, self.bottom - oy + dy)


def _window(envelope: Envelope, name: str) -> _Window | None:
    """A stock's window as its maker gives it, carried into the envelope's top-down coordinates; a profile's own, as given."""
    if envelope.stock:
        given = envelope.envelope_windows.get(name)
        if given is None:
            return None
        height = envelope.size[1]
        top = height - given["bottom"] - given["height"]
        return _Window(name, given["left"], top, given["left"] + given["width"], top + given["height"], envelope.clearance,
                       envelope.shift, envelope.insert)
    rect: Rect | None = envelope.address_window if name == "address_window" else envelope.return_window
    if rect is None:
        return None
    return _Window(name, rect.left, rect.top, rect.right, rect.bottom, 0.0, (0.0, 0.0), (0.0, 0.0))


def _lines(shown: Sequence[Glyph]) -> list[list[Glyph]]:
    by_line: dict[int, list[Glyph]] = {}
    for glyph in shown:
        by_line.setdefault(glyph.line, []).append(glyph)
    return list(by_line.values())


def _address_block(envelope: Envelope, window: _Window, shown: Sequence[Glyph]) -> tuple[list[Glyph], list[list[Glyph]]]:
    """The lines that show through the window (each whole, with what runs past its edge): the block, and other printing.

    The block is the largest run of lines set close together; text further away that also shows
    (a heading below the address, say) is other printing in the window.
    """
    view = window.footprint_on_page()
    seen = [line for line in _lines(shown) if any(g.box.meets(view) for g in line)]
    if not seen:
        return [], []
    # A line PDFium reads as one may run on beside the window (a masthead beside the return address): keep the part within reach.
    reach = Box(view.left - 1.0, view.top, view.right + 1.0, view.bottom)
    seen = [[g for g in line if g.box.meets(reach)] for line in seen]
    seen.sort(key=lambda line: min(g.box.top for g in line))
    runs: list[list[list[Glyph]]] = [[seen[0]]]
    for line in seen[1:]:
        last = runs[-1][-1]
        if min(g.box.top for g in line) - max(g.box.bottom for g in last) <= _BLOCK_GAP:
            runs[-1].append(line)
        else:
            runs.append([line])
    block = max(runs, key=lambda run: sum(len(line) for line in run))
    return [g for line in block for g in line], [line for run in runs if run is not block for line in run]


def _fit(piece: _Piece, kind: str, envelope: Envelope, window: _Window, boxes: Sequence[Box], named: Sequence[Glyph],
         what: str, page: int) -> None:
    """Every box through the fold into the envelope, inside the window less its clearance at every extreme of the shift."""
    (dx, dy), (ox, oy) = window.shift, window.offset
    fold = envelope.panel[1] if envelope.stock else math.inf
    worst = {
        "left": min(b.left for b in boxes) + ox - dx - window.left,
        "right": window.right - (max(b.right for b in boxes) + ox + dx),
        "top": min(b.top for b in boxes) + oy - dy - window.top,
        "bottom": window.bottom - (max(b.bottom for b in boxes) + oy + dy),
    }
    margins = ", ".join(f"{side} {round(value, 3) + 0.0:.3f}" for side, value in worst.items())  # no "-0.000"
    name = window.name.replace("_", " ")
    below = [g for g in named if g.box.bottom > fold + _SLACK]
    if below:
        piece.add(kind, FIT_CITATION, "error", f"{_named(below)} lies below the fold ({fold:.3f} in): not on the panel behind "
                  f"the {name}", page)
    bad = [side for side, value in worst.items() if value < window.clearance - _SLACK]
    if not bad:
        shift = f" at every position of the insert (±{dx:g} in across, ±{dy:g} in up and down)" if envelope.stock else ""
        whose = f"the {envelope.id}" if envelope.stock else "the profile's own"
        cleared = f"{window.clearance:g} in clear" if envelope.stock else "no clearance assumed"
        piece.add(kind, FIT_CITATION, "ok", f"{what} inside {whose} {name}{shift}, {cleared} (worst margins, in: {margins})", page)
        return
    for side in bad:
        outside = [g for g in named if _margin(g.box, side, window) < window.clearance - _SLACK]
        where = (f"{-worst[side]:.3f} in past the {name}'s {side} edge" if worst[side] < 0
                 else f"within {worst[side]:.3f} in of the {name}'s {side} edge")
        piece.add(kind, FIT_CITATION, "error", f"{_named(outside)}: {where} (at the insert's {'extreme' if envelope.stock else 'place'}); "
                  f"it needs {window.clearance:g} in clear", page)


def _margin(box: Box, side: str, window: _Window) -> float:
    (dx, dy), (ox, oy) = window.shift, window.offset
    return {"left": box.left + ox - dx - window.left, "right": window.right - (box.right + ox + dx),
            "top": box.top + oy - dy - window.top, "bottom": window.bottom - (box.bottom + oy + dy)}[side]


def _text(line: Sequence[Glyph]) -> str:
    return "".join((" " if g.spaced and k else "") + g.char for k, g in enumerate(line))


def _named(shown: Sequence[Glyph]) -> str:
    """What a set of glyphs reads, for a message: its lines' text, or the bars."""
    bars = sum(g.line == -1 for g in shown)
    text = " / ".join(_text(line) for line in _lines([g for g in shown if g.line >= 0]))
    parts = ([repr(text[:60])] if text else []) + ([f"{bars} bar{'s' if bars > 1 else ''} of the barcode"] if bars else [])
    return " and ".join(parts) or "nothing"


# --------------------------------------------------------------------------------------------
# The barcode.

_Bar = tuple[Box, str]


def _find_bars(rects: Sequence[Box]) -> tuple[list[_Bar] | None, str]:
    """The longest row of bar-shaped rectangles at a bar's pitch, classified F/A/D/T about the tracker's centre line."""
    low_w, high_w, low_h, high_h = _BAR_SHAPE
    thin = sorted((b for b in rects if low_w <= b.width <= high_w and low_h <= b.height <= high_h), key=lambda b: b.left)
    rows: list[list[Box]] = []
    for box in thin:
        row = next((r for r in rows if 0.02 < box.left - r[-1].left < 0.07 and box.meets(Box(box.left, r[-1].top, box.right,
                                                                                                r[-1].bottom))), None)
        if row is None:
            rows.append([box])
        else:
            row.append(box)
    best = max(rows, key=len, default=[])
    if len(best) < 20:
        return None, "no row of bars" if not best else f"the longest row of bars has {len(best)}"
    centre = (max(b.top for b in best) + min(b.bottom for b in best)) / 2
    middle = (SHORT_EXTENT[1] + LONG_EXTENT[0]) / 2
    states = []
    for box in best:
        up, down = centre - box.top > middle, box.bottom - centre > middle
        states.append((box, "F" if up and down else "A" if up else "D" if down else "T"))
    return states, ""


def _barcode(piece: _Piece, bars: Sequence[_Bar], rects: Sequence[Box], shown: Sequence[Glyph], row: dict[str, str] | None,
             page: int) -> None:
    """The bars against USPS-B-3200's dimensions and clear zones, read back, and matched to the manifest."""
    problems = []
    if len(bars) != 65:
        problems.append(f"{len(bars)} bars, not 65")
    widths = [b.width for b, _ in bars]
    pitches = [(b.left + b.right) / 2 - (a.left + a.right) / 2 for (a, _), (b, _) in itertools.pairwise(bars)]
    centre = (max(b.top for b, _ in bars) + min(b.bottom for b, _ in bars)) / 2
    ups = [(centre - b.top, s in "FA") for b, s in bars]
    downs = [(b.bottom - centre, s in "FD") for b, s in bars]
    length = bars[-1][0].right - bars[0][0].left
    for label, values, (low, high) in (("bar width", widths, BAR_WIDTH), ("bar pitch", pitches, BAR_PITCH),
                                       ("length", [length], LENGTH)):
        off = [v for v in values if not low - _SLACK <= v <= high + _SLACK]
        if off:
            problems.append(f"{label} {off[0]:.4f} in outside {low}-{high} in")
    for label, extents in (("upward", ups), ("downward", downs)):
        for extent, long in extents:
            low, high = LONG_EXTENT if long else SHORT_EXTENT
            if not low - _SLACK <= extent <= high + _SLACK:
                problems.append(f"a bar's {label} extent {extent:.4f} in outside {low}-{high} in")
                break
    zone = Box(bars[0][0].left - CLEAR_ACROSS, min(b.top for b, _ in bars) - CLEAR_ABOVE_BELOW,
               bars[-1][0].right + CLEAR_ACROSS, max(b.bottom for b, _ in bars) + CLEAR_ABOVE_BELOW)
    mine = {id(b) for b, _ in bars}
    intruders = [g for g in shown if g.box.meets(zone)] + [Glyph("▮", r, -2) for r in rects if id(r) not in mine and r.meets(zone)]
    if intruders:
        problems.append(f"{_named([g for g in intruders if g.line >= 0]) if any(g.line >= 0 for g in intruders) else 'a drawn mark'} "
                        f"in its clear zone ({CLEAR_ACROSS} in across, {CLEAR_ABOVE_BELOW} in above and below)")
    states = "".join(s for _, s in bars)
    measured = (f"{len(bars)} bars, width {sum(widths) / len(widths):.3f} in, pitch {sum(pitches) / max(1, len(pitches)):.4f} in, "
                f"length {length:.3f} in")
    try:
        codes = decode(states)
    except BarcodeUnreadable as exc:
        piece.add(_IMB, IMB_CITATION, "error", f"the barcode does not read: {exc} ({'; '.join(problems) or measured})", page)
        return
    for problem in problems:
        piece.add(_IMB, IMB_CITATION, "error", f"the barcode breaks the specification: {problem}", page)
    read = f"tracking {codes.tracking}, routing {codes.routing or '(none)'}"
    if row is None:
        if not problems:
            piece.add(_IMB, IMB_CITATION, "ok", f"reads {read} ({measured})", page)
        return
    wanted = (row["imb_tracking"], row["imb_routing"])
    if (codes.tracking, codes.routing) != wanted:
        piece.add(_IMB, IMB_CITATION, "error", f"reads {read}; the manifest gives tracking {wanted[0]}, routing "
                  f"{wanted[1] or '(none)'} for account {row['account_id']}", page)
    elif not problems:
        piece.add(_IMB, IMB_CITATION, "ok", f"reads {read}, as the manifest gives for account {row['account_id']} ({measured})", page)


# --------------------------------------------------------------------------------------------
# Sheets.


def _sheets(piece: _Piece, target: PostalTarget, row: dict[str, str] | None) -> None:
    """The piece's pages and sheets, against the envelope's capacity (a piece the manifest sends flat has none) and the manifest."""
    pages = piece.end - piece.first
    sheets = -(-pages // 2) if target.duplex else pages
    side = "duplex" if target.duplex else "simplex"
    said = f"{pages} pages on {sheets} sheets ({side})"
    capacity = target.envelope.sheet_capacity
    flat = row is not None and _flat(row)
    bad = False
    if capacity and sheets > capacity and not flat:
        bad = True
        piece.add(_SHEETS, SHEETS_CITATION, "error", f"{said}: the {target.envelope.id} envelope takes {capacity}",
                  piece.first + 1)
    if row is not None and (row["pages"], row["sheets"]) != (str(pages), str(sheets)):
        bad = True
        piece.add(_SHEETS, SHEETS_CITATION, "error", f"{said}; the manifest gives {row['pages']} pages on {row['sheets']} sheets "
                  f"for account {row['account_id']}", piece.first + 1)
    if not bad:
        agrees = ", as the manifest gives" if row is not None else ""
        room = "a flat piece" if flat else f"the envelope takes {capacity}" if capacity else "the envelope's capacity is not limited"
        piece.add(_SHEETS, SHEETS_CITATION, "ok", f"{said}{agrees}; {room}", piece.first + 1)
