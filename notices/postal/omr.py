"""Turn an inserter profile (``inserters.toml``) and a piece's sheets into OMR marks, and those into PDF lines.

The marks are drawn after layout, like the barcode, so they never enter the HTML and pieces still share
layouts. Which marks a sheet carries is a pure function of the profile, the piece's sheet count and the
sheet's place in it; ``decode`` reads them back from the drawn rectangles (the tests do, from the PDF).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .envelopes import Envelope, Rect

DATA = Path(__file__).with_name("inserters.toml")
ALWAYS = ("benchmark", "safety", "timing")
ROLES = (*ALWAYS, "boc", "eoc", "parity", *(f"count{2 ** i}" for i in range(6)), "seq1", "seq2", "seq4")
CLEAR_SIDE = 0.125  # SV40221: 1/8 in clear each side of the marks
CLEAR_ENDS = 0.75  # 3/4 in clear before the first mark and after the last, and from the leading edge
PAGE = (8.5, 11.0)


@dataclass(frozen=True)
class Inserter:
    """An inserter profile: the code (mark roles, top to bottom), where it prints, and on which pages."""

    id: str
    title: str
    source: str
    code: tuple[str, ...]
    left: float
    top: float  # the first mark's centre
    length: float
    weight_pt: float
    pitch: float
    pages: str  # "first" or "every"
    parity: str  # "even" or "odd"

    @property
    def clear_zone(self) -> Rect:
        """The rectangle kept free of print around the marks (the part on the sheet)."""
        left = max(0.0, self.left - CLEAR_SIDE)
        top = self.top - CLEAR_ENDS
        bottom = self.top + (len(self.code) - 1) * self.pitch + CLEAR_ENDS
        return Rect(left, top, self.left + self.length + CLEAR_SIDE - left, bottom - top)

    def marks(self, sheets: int, sheet: int, last: bool) -> str:
        """The code on the ``sheet``-th marked sheet (1, 2, ...) of a set of ``sheets`` (``last``: no marked sheet follows):
        "1" a mark, "0" none, top to bottom."""
        present: dict[str, bool] = {role: True for role in ALWAYS}
        present["boc"] = sheet == 1
        present["eoc"] = last
        for role in self.code:
            if role.startswith("count"):
                present[role] = bool(sheets & int(role[5:]))
            elif role.startswith("seq"):
                present[role] = bool(sheet % 8 & int(role[3:]))
        bits = [present.get(role, False) for role in self.code]
        if "parity" in self.code:
            odd = sum(bits) % 2 == 1
            bits[self.code.index("parity")] = odd if self.parity == "even" else not odd
        return "".join("1" if bit else "0" for bit in bits)

    def on_pages(self, statement_pages: int, sheets: int, duplex: bool) -> list[tuple[int, str]]:
        """(page index in the piece, code) for each marked page: the first page, or every front side of the statement."""
        fronts = [0] if self.pages == "first" else list(range(0, statement_pages, 2 if duplex else 1))
        return [(page, self.marks(sheets, index, index == len(fronts))) for index, page in enumerate(fronts, start=1)]

    def rects(self, code: str) -> list[tuple[float, float, float, float]]:
        """Each mark as (x, y, width, height) in inches from the page's top-left corner, y downwards to its top."""
        height = self.weight_pt / 72
        return [(self.left, self.top + index * self.pitch - height / 2, self.length, height)
                for index, bit in enumerate(code) if bit == "1"]

    def decode(self, rects: list[tuple[float, float, float, float]]) -> str:
        """The code that drawn rectangles (as ``rects`` gives them) spell: which positions carry a mark."""
        found = {round((y + h / 2 - self.top) / self.pitch) for x, y, w, h in rects
                 if abs(x - self.left) < 0.01 and abs(w - self.length) < 0.01}
        return "".join("1" if index in found else "0" for index in range(len(self.code)))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "source": self.source, "code": list(self.code),
                "left": self.left, "top": self.top, "length": self.length, "weight_pt": self.weight_pt,
                "pitch": round(self.pitch, 4), "pages": self.pages, "parity": self.parity,
                "clear_zone": self.clear_zone.to_dict()}


@functools.cache
def _data() -> dict[str, Any]:
    with DATA.open("rb") as handle:
        return tomllib.load(handle)


def ids() -> list[str]:
    return sorted(_data()["inserter"])


def inserter(inserter_id: str, field: str = "print.inserter") -> Inserter:
    """An inserter profile by id, checked: an unknown id, an unknown mark or a mark off the sheet is a ConfigError."""
    data = _data()
    if inserter_id not in data["inserter"]:
        raise ConfigError("Unknown inserter profile", file=DATA.name, field=field, value=inserter_id,
                          hint="known inserters: " + ", ".join(ids()))
    entry = {**data["defaults"], **data["inserter"][inserter_id]}
    found = Inserter(inserter_id, str(entry["title"]), str(entry["source"]), tuple(str(r) for r in entry["code"]),
                     float(entry["left"]), float(entry["top"]), float(entry["length"]), float(entry["weight_pt"]),
                     float(entry["pitch"]), str(entry["pages"]), str(entry["parity"]))
    unknown = [role for role in found.code if role not in ROLES]
    where = f"inserter.{inserter_id}"
    if unknown or not found.code or found.code[0] != "benchmark":
        raise ConfigError("An inserter's code starts with the benchmark and names known marks", file=DATA.name,
                          field=f"{where}.code", value=unknown or list(found.code), hint="marks: " + ", ".join(ROLES))
    if found.pages not in ("first", "every") or found.parity not in ("even", "odd"):
        raise ConfigError("An inserter's pages is first or every, its parity even or odd", file=DATA.name, field=where)
    zone = found.clear_zone
    if zone.top < CLEAR_ENDS - 1e-9 or zone.bottom > PAGE[1] or zone.right > PAGE[0] or found.pitch < 0.1:
        raise ConfigError("An inserter's marks must lie on the sheet, 3/4 in from its leading edge, at least 1/10 in apart",
                          file=DATA.name, field=where, value=zone.to_dict())
    return found


def check_windows(found: Inserter, envelope: Envelope) -> None:
    """Refuse marks whose clear zone would show through a window of the envelope at any shift of the insert."""
    windows = [w for w in (envelope.address_window, envelope.return_window) if w is not None]
    zone = found.clear_zone
    for dx, dy in envelope.corners():
        for window in windows:
            seen = window.moved(-dx, -dy)
            if zone.left < seen.right and seen.left < zone.right and zone.top < seen.bottom and seen.top < zone.bottom:
                raise ConfigError(f"The {found.id} inserter's marks would show through the {envelope.id} envelope's window",
                                  file=DATA.name, field=f"inserter.{found.id}", value=zone.to_dict(),
                                  hint="move the marks (left, top) off the envelope's windows")


def for_profile(print_facts: Any) -> Inserter | None:
    """The inserter the profile's ``[print] inserter`` names; None when it names none (no marks)."""
    chosen = print_facts.get("inserter") if isinstance(print_facts, dict) else None
    return inserter(str(chosen)) if chosen else None


def content_stream(rects: list[tuple[float, float, float, float]], page_height: float = PAGE[1]) -> bytes:
    """PDF drawing operators for the marks: filled black rectangles, in points, y upwards."""
    ops = ["q", "0 g"]
    for x, y, width, height in rects:
        ops.append(f"{x * 72:.3f} {(page_height - y - height) * 72:.3f} {width * 72:.3f} {height * 72:.3f} re")
    ops += ["f", "Q"]
    return ("\n".join(ops) + "\n").encode("ascii")
