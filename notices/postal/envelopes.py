"""Turn envelope stocks and a collector's ``[envelope]`` into window geometry on the page, and an address into a fit or a reason.

Page coordinates are inches from the sheet's top-left corner, on the letter's first panel as it lies
behind the envelope's face. Nothing here lays text out: the widths and heights come from the bundled
font's own metrics, the same numbers WeasyPrint uses, so a record is refused before it is rendered
rather than printed with an address the window would cut.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..resources import read_face
from . import imb

DATA = Path(__file__).with_name("envelopes.toml")
FONT = "DejaVuSansCondensed.ttf"  # the address window's face (regular weight), as the stylesheet sets it
FLOW_GAP = 0.0625  # between the lowest window's reach and the statement's first line (the line's own leading is extra)
_FIRST_BASELINE_EM = 0.76  # the first baseline sits this far below the clear area's top: room for capitals, digits, ascenders


@dataclass(frozen=True)
class Rect:
    """A rectangle in page coordinates: inches from the sheet's left and top edges."""

    left: float
    top: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def inset(self, dx: float, dy: float) -> Rect:
        return Rect(self.left + dx, self.top + dy, self.width - 2 * dx, self.height - 2 * dy)

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.left + dx, self.top + dy, self.width, self.height)

    def to_dict(self) -> dict[str, float]:
        return {"left": round(self.left, 4), "top": round(self.top, 4), "width": round(self.width, 4), "height": round(self.height, 4)}


@dataclass(frozen=True)
class Envelope:
    """An envelope stock: its windows on the page, how far the insert may move, and the address type."""

    id: str
    title: str
    source: str
    address_window: Rect  # page coordinates
    return_window: Rect | None
    envelope_windows: dict[str, dict[str, float]]  # as the maker gives them: from the envelope's left and bottom
    size: tuple[float, float]  # the envelope's width and height
    insert: tuple[float, float]  # the first panel's top-left corner inside the envelope, nominal
    panel: tuple[float, float]  # the first panel's width and height (the fold)
    shift: tuple[float, float]  # how far the insert may move each way, across and up/down
    clearance: float
    address_pt: float
    line_height: float
    stock: bool = True  # False: windows the profile gives itself, placed as before and not held to clearances
    sheet_capacity: int = 5  # folded sheets the envelope takes; a piece with more is flagged (flat mailing)

    @property
    def clear_area(self) -> Rect:
        """Where the address and barcode may print: the window less the clearance and the shift, on every side."""
        return self.address_window.inset(self.clearance + self.shift[0], self.clearance + self.shift[1])

    @property
    def return_area(self) -> Rect | None:
        """Where the return address may print: its window less the clearance and the shift (a profile's own: the window)."""
        if self.return_window is None:
            return None
        if not self.stock:
            return self.return_window
        return self.return_window.inset(self.clearance + self.shift[0], self.clearance + self.shift[1])

    @property
    def flow_top(self) -> float | None:
        """How far down the page the statement's own text may begin: below every window at the insert's lowest place.

        Anything but the addresses must stay out of the windows at every position of the insert, so the
        text below them starts past the lowest window's edge moved down by the shift, with a gap for the
        first line's leading. A profile's own windows keep the stylesheet's fixed height (None).
        """
        if not self.stock:
            return None
        windows = [w for w in (self.address_window, self.return_window) if w is not None]
        return max(w.bottom for w in windows) + self.shift[1] + FLOW_GAP

    def corners(self) -> list[tuple[float, float]]:
        """Every extreme of the insert's movement (and the nominal place): the window moves the other way on the page."""
        dx, dy = self.shift
        return [(0.0, 0.0)] + [(sx * dx, sy * dy) for sx in (-1, 1) for sy in (-1, 1)]

    def loose_play(self) -> tuple[float, float]:
        """How far a loose insert could move each way, from the sizes alone (not the registration assumed)."""
        return (self.size[0] - self.panel[0]) / 2, (self.size[1] - self.panel[1]) / 2

    def to_dict(self) -> dict[str, Any]:
        """The geometry in page coordinates, inches and points, for ``notices envelopes show``."""
        def both(rect: Rect) -> dict[str, Any]:
            return {"inches": rect.to_dict(), "points": {k: round(v * 72, 2) for k, v in rect.to_dict().items()}}

        layout = address_layout(self)
        return {
            "id": self.id, "title": self.title, "source": self.source, "stock": self.stock,
            "envelope": {"width": self.size[0], "height": self.size[1], "windows": self.envelope_windows},
            "fold": {"panel_width": self.panel[0], "panel_height": round(self.panel[1], 4),
                     "insert_left": round(self.insert[0], 4), "insert_top": round(self.insert[1], 4)},
            "shift": {"x": self.shift[0], "y": self.shift[1]},
            "loose_play": {"x": round(self.loose_play()[0], 4), "y": round(self.loose_play()[1], 4)},
            "clearance": self.clearance,
            "sheet_capacity": self.sheet_capacity,
            "address_window": both(self.address_window),
            "return_window": both(self.return_window) if self.return_window else None,
            "clear_area": both(self.clear_area),
            "return_clear_area": both(self.return_area) if self.stock and self.return_area else None,
            "statement_top": None if self.flow_top is None else round(self.flow_top, 4),
            "address_pt": self.address_pt,
            "max_lines": layout.max_lines,
            "barcode": both(layout.barcode_box),
        }


@functools.cache
def _data() -> dict[str, Any]:
    with DATA.open("rb") as handle:
        return tomllib.load(handle)


def stock_ids() -> list[str]:
    return sorted(_data()["stock"])


def stock(stock_id: str) -> Envelope:
    """An envelope stock by id, in page coordinates; an unknown id names the known ones."""
    data = _data()
    if stock_id not in data["stock"]:
        raise ConfigError("Unknown envelope stock", file=DATA.name, field="envelope.stock", value=stock_id,
                          hint="known stocks: " + ", ".join(stock_ids()))
    entry = {**data["defaults"], **data["stock"][stock_id]}
    fold = entry["fold"]
    width, height = float(entry["size"]["width"]), float(entry["size"]["height"])
    panel = (float(fold["page_width"]), float(fold["page_height"]) / int(fold["panels"]))
    insert = ((width - panel[0]) / 2, (height - panel[1]) / 2)  # centred: the nominal place

    def on_page(window: dict[str, float]) -> Rect:
        # From the envelope's left and bottom to the panel's left and top.
        top_in_envelope = height - float(window["bottom"]) - float(window["height"])
        return Rect(float(window["left"]) - insert[0], top_in_envelope - insert[1], float(window["width"]), float(window["height"]))

    windows = {name: {k: float(v) for k, v in entry[name].items()} for name in ("return_window", "address_window") if name in entry}
    return Envelope(
        id=stock_id, title=str(entry["title"]), source=str(entry["source"]),
        address_window=on_page(entry["address_window"]),
        return_window=on_page(entry["return_window"]) if "return_window" in entry else None,
        envelope_windows=windows, size=(width, height), insert=insert, panel=panel,
        shift=(float(entry["shift"]["x"]), float(entry["shift"]["y"])), clearance=float(entry["clearance"]),
        address_pt=float(entry["address_pt"]), line_height=float(entry["line_height"]),
        sheet_capacity=int(entry["sheet_capacity"]),
    )


def _rect(facts: Any) -> Rect:
    return Rect(float(facts["left"]), float(facts["top"]), float(facts["width"]), float(facts["height"]))


def for_profile(envelope: Any) -> Envelope:
    """The envelope a collector's ``[envelope]`` names: its ``stock``, or else the windows it gives itself.

    Windows given in the profile (``return_window``, ``address_window``, page coordinates) keep
    working as before: the address fills the window from its top at 9.5 pt, with no clearance or
    shift assumed, since the profile does not say which envelope they belong to.

    A stock is taken whole, as ``notices check --envelope`` takes it: a single-window stock has no return
    window, so no return address is printed on the insert (a window envelope's maker prints the sender's
    corner card on its face; the profile's own return window would lie behind the envelope's face, unseen).
    """
    envelope = envelope if isinstance(envelope, dict) else {}
    if envelope.get("stock"):
        return stock(str(envelope["stock"]))
    address = _rect(envelope.get("address_window", {"left": 0.75, "top": 2.0, "width": 4.0, "height": 1.125}))
    back = _rect(envelope.get("return_window", {"left": 0.75, "top": 0.5, "width": 3.25, "height": 0.875}))
    return Envelope(
        id="profile", title="the windows the collector's profile gives", source="collector profile [envelope]",
        address_window=address, return_window=back, envelope_windows={}, size=(9.5, 4.125), insert=(0.0, 0.0),
        panel=(8.5, 11 / 3), shift=(0.0, 0.0), clearance=0.0, address_pt=9.5, line_height=1.18, stock=False,
    )


class _Bounds:
    """A glyph's ink box by code point, in em from its origin (0 for one the font lacks), read only for the characters asked about.

    Reading every glyph's outline up front took over a second at every run's start, for the few
    dozen characters an address uses.
    """

    def __init__(self, font: Any, names: dict[int, str], units: float) -> None:
        self._glyf, self._names, self._units = font["glyf"], names, units
        self._known: dict[int, tuple[float, float, float, float]] = {}

    def of(self, code: int) -> tuple[float, float, float, float]:
        """Top, bottom, left and right of the glyph's ink."""
        known = self._known.get(code)
        if known is None:
            name = self._names.get(code)
            if name is None:
                known = (0.0, 0.0, 0.0, 0.0)
            else:
                glyph = self._glyf[name]
                glyph.recalcBounds(self._glyf)
                top, bottom, left, right = (getattr(glyph, key, 0) / self._units for key in ("yMax", "yMin", "xMin", "xMax"))
                known = (top, bottom, left, right)
            self._known[code] = known
        return known


@dataclass(frozen=True)
class _Font:
    units: float
    ascent: float
    descent: float
    advance: dict[int, float]
    bounds: _Bounds

    def top(self, code: int) -> float:
        return self.bounds.of(code)[0]

    def bottom(self, code: int) -> float:
        return self.bounds.of(code)[1]

    def ink(self, line: str) -> tuple[float, float]:
        """Where a line's ink begins and ends, in em from its origin: its glyphs' advances, less what the first
        glyph's ink reaches before its origin (J's hook) and plus what the last one's reaches past its advance."""
        if not line:
            return 0.0, 0.0
        width = self.width(line)
        last = ord(line[-1])
        return min(0.0, self.bounds.of(ord(line[0]))[2]), width + max(0.0, self.bounds.of(last)[3] - self.advance.get(last, 0.6))

    def width(self, text: str) -> float:
        """The sum of the characters' advances, in em (0.6 for a character the font lacks)."""
        advance = self._advance_of.get
        return sum([advance(ch, 0.6) for ch in text])

    @functools.cached_property
    def _advance_of(self) -> dict[str, float]:
        # By character, not code point: no ord() for each of the roll's millions of address characters.
        return {chr(code): width for code, width in self.advance.items()}

    @functools.cached_property
    def reach(self) -> float:
        """How far (em) the ink of a Latin letter, digit or sign may reach before its origin: the inset that keeps a
        line's first glyph inside the box it is placed in."""
        return max(0.0, -min(self.bounds.of(code)[2] for code in _LATIN))


# The characters an address line may begin with, for the inset every line gets: Latin-1's printable
# ones. A line that begins with another (whose ink reaches further) is measured on its own.
_LATIN = (*range(0x21, 0x7F), *range(0xA1, 0x100))


@functools.cache
def address_face() -> _Font:
    """The measures of the address window's face (``FONT``), read once per process (``serverwarm``: once for all it forks)."""
    font = read_face(FONT)
    units = float(font["head"].unitsPerEm)
    names = font.getBestCmap()
    hmtx = font["hmtx"]
    advance = {code: hmtx[name][0] / units for code, name in names.items()}
    return _Font(units, font["hhea"].ascent / units, -font["hhea"].descent / units, advance, _Bounds(font, names, units))


@dataclass(frozen=True)
class AddressLayout:
    """Where the address lines and the barcode go in the window, in page coordinates."""

    envelope: Envelope
    box: Rect  # the box the template positions the lines in (its top is set so the first baseline lands right)
    first_baseline: float
    pitch: float  # inches between baselines
    max_lines: int
    barcode_box: Rect  # the bars: from the full bars' top to their bottom

    def lines_fit(self, lines: Sequence[str]) -> str | None:
        """Why these address lines cannot print in the window (None: they fit), measured by the font's metrics."""
        font, size = address_face(), self.envelope.address_pt / 72
        area = self.envelope.clear_area if self.envelope.stock else self.envelope.address_window
        if not self.envelope.stock:
            # A profile's own windows, as before: a long line wraps inside the window; refused only when the
            # wrapped lines would run past the window's lines (it used to hide them).
            wrapped = sum(_wrapped_lines(line, area.width / size, font) for line in lines)
            if wrapped > self.max_lines:
                return (f"the address takes {wrapped} lines at {self.envelope.address_pt:g} pt, wrapped; "
                        f"the window holds {self.max_lines}")
            return None
        if len(lines) > self.max_lines:
            return (f"the address has {len(lines)} lines; the {self.envelope.id} window holds {self.max_lines} "
                    f"at {self.envelope.address_pt:g} pt with the barcode and USPS clearances")
        for index, line in enumerate(lines):
            reason = _ink_fits(font, line, self.envelope.address_pt, self.box.left, area, f"address line {index + 1}",
                               f"{self.envelope.id} window")
            if reason is not None:
                return reason
            baseline = self.first_baseline + index * self.pitch
            if index == 0 and baseline - max((font.top(ord(c)) for c in line), default=0) * size < area.top - 1e-9:
                return f"address line 1 ({line!r}) reaches above the {self.envelope.id} window's clear area"
            low = baseline - min((font.bottom(ord(c)) for c in line), default=0) * size
            if low > self.barcode_box.top - imb.CLEAR_ABOVE + 1e-9:
                return (f"address line {index + 1} ({line!r}) reaches into the barcode's clear zone in the "
                        f"{self.envelope.id} window")
        return None


def _ink_fits(font: _Font, line: str, points: float, left: float, area: Rect, name: str, window: str) -> str | None:
    """Why a line placed at ``left`` would print ink outside ``area`` across (None: it does not), by the font's outlines."""
    size = points / 72
    begins, ends = font.ink(line)
    if left + begins * size < area.left - 1e-9:
        return f"{name} ({line!r}) begins with a character whose ink reaches out of the {window} at {points:g} pt"
    if left + ends * size > area.right + 1e-9:
        return f"{name} ({line!r}) is {ends * size:.2f} in wide at {points:g} pt; the {window} leaves {area.right - left:.2f} in"
    return None


def _wrapped_lines(line: str, room_em: float, font: _Font) -> int:
    """How many lines ``line`` takes when wrapped at spaces in ``room_em`` (a word longer than the room takes its own lines)."""
    count, used = 1, 0.0
    space = font.advance.get(ord(" "), 0.3)
    for word in line.split(" "):
        width = font.width(word)
        if used and used + space + width > room_em:
            count, used = count + 1, 0.0
        used = used + space + width if used else width
        while used > room_em:
            count, used = count + 1, used - room_em
    return count


def address_layout(envelope: Envelope) -> AddressLayout:
    """Lines from the top of the clear area, the barcode at its bottom (USPS: the barcode may go below the address)."""
    font, size = address_face(), envelope.address_pt / 72
    pitch = envelope.line_height * size
    half_leading = (pitch - (font.ascent + font.descent) * size) / 2
    if envelope.stock:
        area = envelope.clear_area
        first = area.top + _FIRST_BASELINE_EM * size
        box_top = first - half_leading - font.ascent * size
    else:
        area = envelope.address_window
        box_top = area.top
        first = box_top + half_leading + font.ascent * size
    bars = Rect(area.left, area.bottom - imb.FULL_HEIGHT, imb.LENGTH, imb.FULL_HEIGHT)
    # As many lines as fit when each reaches no lower than its baseline (capitals and digits; a line
    # with descenders is measured on its own by lines_fit).
    room = bars.top - imb.CLEAR_ABOVE - first
    max_lines = 5 if not envelope.stock else max(0, math.floor(room / pitch + 1e-9) + 1)
    # The lines start in by what a first glyph's ink may reach before its origin (J's hook: 0.005 in at
    # 8 pt): the window must show all of it (a stock's with the insert moved to its limits).
    inset = font.reach * size
    box = Rect(area.left + inset, box_top, area.width - inset, max_lines * pitch)
    return AddressLayout(envelope, box, first, pitch, max_lines, bars)


@dataclass(frozen=True)
class ReturnLayout:
    """Where the return address goes in its window: a box whose first baseline lands in the clear area, and its type."""

    envelope: Envelope
    box: Rect
    first_baseline: float
    pitch: float
    font_pt: float

    def lines_fit(self, lines: Sequence[str]) -> str | None:
        """Why these return address lines cannot show whole in the return window (None: they fit), by the font's metrics."""
        area = self.envelope.return_area
        if area is None or not self.envelope.stock:
            return None  # a profile's own window: placed as given, as before
        font, size = address_face(), self.font_pt / 72
        for index, line in enumerate(lines):
            reason = _ink_fits(font, line, self.font_pt, self.box.left, area, f"return address line {index + 1}",
                               f"{self.envelope.id} return window")
            if reason is not None:
                return reason
        if lines:
            baseline = self.first_baseline + (len(lines) - 1) * self.pitch
            low = baseline - min((font.bottom(ord(c)) for c in lines[-1]), default=0) * size
            if low > area.bottom + 1e-9:
                room = math.floor((area.bottom - self.first_baseline - font.descent * size) / self.pitch + 1e-9) + 1
                return (f"the return address has {len(lines)} lines; the {self.envelope.id} return window holds {room} at "
                        f"{self.font_pt:g} pt with USPS clearances")
        return None


def return_layout(envelope: Envelope) -> ReturnLayout | None:
    """The return address from the top of its window's clear area, in the address's type (None: no return window)."""
    area = envelope.return_area
    if area is None:
        return None
    font, size = address_face(), envelope.address_pt / 72
    pitch = envelope.line_height * size
    half_leading = (pitch - (font.ascent + font.descent) * size) / 2
    if envelope.stock:
        first = area.top + _FIRST_BASELINE_EM * size
        top = first - half_leading - font.ascent * size
    else:
        top = area.top
        first = top + half_leading + font.ascent * size
    inset = font.reach * size  # as the address's lines: a first glyph's ink stays in the window
    return ReturnLayout(envelope, Rect(area.left + inset, top, area.width - inset, area.bottom - top), first, pitch,
                        envelope.address_pt)


def require_return_fit(envelope: Envelope, lines: Sequence[str], profile: str | None = None) -> None:
    """Stop before anything renders when the profile's return address cannot show whole in the stock's return window."""
    placed = return_layout(envelope)
    reason = None if placed is None else placed.lines_fit(lines)
    if reason is not None:
        raise ConfigError("The return address does not fit the envelope's return window", file=profile,
                          field="return_address", value=reason,
                          hint="shorten the profile's return_address, or choose another stock (notices envelopes list)")


def address_lines(owners: Sequence[str], line1: str, line2: str, last_line: str) -> list[str]:
    """The lines of the window, in order, as the template prints them."""
    return [*owners, line1, *([line2] if line2 else []), last_line]


def template_values(layout: AddressLayout, margin_left: float = 0.6, margin_top: float = 0.6) -> dict[str, Any]:
    """What ``envelope.html.j2`` positions: boxes relative to the page's content box, in inches and points."""
    envelope = layout.envelope
    back = envelope.return_window
    flow = envelope.flow_top
    values: dict[str, Any] = {
        "stock": envelope.id,
        "address": {"left": round(layout.box.left - margin_left, 4), "top": round(layout.box.top - margin_top, 4),
                    "width": round(layout.box.width, 4), "font_pt": envelope.address_pt,
                    "line_pt": round(layout.pitch * 72, 3), "lines": layout.max_lines},
        "return": None if back is None else {"left": round(back.left - margin_left, 4), "top": round(back.top - margin_top, 4),
                                             "width": back.width, "height": back.height, "font_pt": None},
        # Where the masthead's column ends, so the statement's text begins below every window (None: the stylesheet's).
        "flow_top": None if flow is None else round(flow - margin_top, 4),
    }
    placed = return_layout(envelope)
    if envelope.stock and placed is not None:
        # A stock's return address: in its window's clear area, in the address's type, lines as close.
        values["return"] = {"left": round(placed.box.left - margin_left, 4), "top": round(placed.box.top - margin_top, 4),
                            "width": round(placed.box.width, 4), "height": round(placed.box.height, 4),
                            "font_pt": placed.font_pt, "line_pt": round(placed.pitch * 72, 3)}
    return values
