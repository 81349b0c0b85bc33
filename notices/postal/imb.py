"""Turn the profile's mailer facts, a record's sequence and its ZIP into a USPS Intelligent Mail barcode, and that into PDF bars.

The bars are encoded by ReportLab's maintained encoder (USPS-B-3200, with the specification's test
vectors) and drawn here as filled rectangles at the specification's nominal sizes, straight into the
statement's first page after layout: the barcode then never enters the HTML, so pieces that differ
only in their fields still share one layout (``notices.fields``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

# USPS-B-3200 dimensions, in inches: the middle of each range the specification allows (and the
# ranges ReportLab's encoder checks against), so ordinary print gain stays within tolerance.
BAR_WIDTH = 0.020  # 0.015 - 0.025
BAR_PITCH = 1 / 22  # 22 bars per inch (20 - 24): centre to centre
FULL_HEIGHT = 0.145  # full bar 0.125 - 0.165
TRACKER_HEIGHT = 0.048  # tracker 0.039 - 0.057
CLEAR_ABOVE = 0.028  # between the barcode and the address line above it
BARS = 65
LENGTH = BAR_WIDTH + (BARS - 1) * BAR_PITCH  # 2.93 in: within the 2.667 - 3.225 in the specification allows

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Mailer:
    """The profile's ``[imb]`` facts: who the mail is from, for USPS."""

    barcode_id: str  # 2 digits, the second 0-4
    service_type: str  # 3 digits
    mailer_id: str  # 6 or 9 digits
    serial_start: int = 0  # the first serial of this collector's range

    @property
    def serial_digits(self) -> int:
        return 15 - len(self.mailer_id)  # 9 after a 6-digit Mailer ID, 6 after a 9-digit one


@dataclass(frozen=True)
class Barcode:
    """One piece's Intelligent Mail barcode: what it encodes and its 65 bars (F, A, D, T)."""

    tracking: str  # 20 digits
    routing: str  # 0, 5, 9 or 11 digits
    bars: str  # 65 characters


def mailer(facts: Any, file: str | None = None) -> Mailer | None:
    """The ``[imb]`` table of a profile as a Mailer; None when the profile prints no barcode (``enabled = false``)."""
    if not isinstance(facts, dict) or not facts.get("enabled", True):
        return None
    values = {key: str(facts.get(key, "")) for key in ("barcode_id", "service_type", "mailer_id")}
    rules = {"barcode_id": r"\d[0-4]", "service_type": r"\d{3}", "mailer_id": r"\d{6}|\d{9}"}
    for key, rule in rules.items():
        if not re.fullmatch(rule, values[key]):
            raise ConfigError("An Intelligent Mail barcode fact is malformed", file=file, field=f"imb.{key}",
                              value=values[key], hint=f"it must match {rule}")
    return Mailer(values["barcode_id"], values["service_type"], values["mailer_id"], int(facts.get("serial_start", 0)))


def routing_code(zip_code: str, delivery_point: str = "") -> str:
    """The routing code from a ZIP, ZIP+4 and delivery point: 11, 9, 5 or (none usable) 0 digits."""
    digits = "".join(_DIGITS.findall(zip_code))
    if len(digits) == 9 and len(delivery_point) == 2 and delivery_point.isdigit():
        return digits + delivery_point
    return digits if len(digits) in (5, 9) else ""


def serial(mailer_facts: Mailer, seq: int) -> int:
    """The piece's serial: the collector's start plus the record's sequence, so a rerun or a resume of the
    same run gives the same serial, and shards (disjoint sequences) draw disjoint serials."""
    return int((mailer_facts.serial_start + seq) % 10 ** mailer_facts.serial_digits)


def encode(tracking: str, routing: str) -> str:
    """The 65 bars of a tracking code and routing code, by ReportLab's USPS-B-3200 encoder."""
    from reportlab.graphics.barcode.usps4s import USPS_4State  # noqa: PLC0415 - loaded on first barcode: `import notices` stays light

    bars = str(USPS_4State(tracking, routing).barcodes)
    if len(bars) != BARS:  # pragma: no cover - the encoder always gives 65
        raise ValueError(f"the encoder gave {len(bars)} bars")
    return bars


def barcode(mailer_facts: Mailer, seq: int, zip_code: str) -> Barcode:
    """The barcode of the piece with sequence ``seq`` mailed to ``zip_code``."""
    number = serial(mailer_facts, seq)
    tracking = (mailer_facts.barcode_id + mailer_facts.service_type + mailer_facts.mailer_id
                + f"{number:0{mailer_facts.serial_digits}d}")
    routing = routing_code(zip_code)
    return Barcode(tracking, routing, encode(tracking, routing))


def bar_rects(bars: str, left: float, bottom: float) -> list[tuple[float, float, float, float]]:
    """Each bar as (x, y, width, height) in inches from the page's top-left corner, y downwards to the bar's top.

    ``bottom`` is where the full bars end (their lowest point). A descender (D) and a full bar (F)
    reach down to it; the tracker sits in the middle; an ascender (A) and F reach the top.
    """
    top = bottom - FULL_HEIGHT
    middle = top + FULL_HEIGHT / 2
    rects = []
    for index, bar in enumerate(bars):
        x = left + index * BAR_PITCH
        upper = top if bar in "FA" else middle - TRACKER_HEIGHT / 2
        lower = bottom if bar in "FD" else middle + TRACKER_HEIGHT / 2
        rects.append((x, upper, BAR_WIDTH, lower - upper))
    return rects


def content_stream(rects: list[tuple[float, float, float, float]], page_height: float = 11.0) -> bytes:
    """PDF drawing operators for the bars, in PDF user space (points, y upwards), black, filled."""
    ops = ["q", "0 g"]
    for x, y, width, height in rects:
        ops.append(f"{x * 72:.3f} {(page_height - y - height) * 72:.3f} {width * 72:.3f} {height * 72:.3f} re")
    ops += ["f", "Q"]
    return ("\n".join(ops) + "\n").encode("ascii")


def for_piece(facts: dict[str, Any] | None, seq: int, zip_code: str, file: str | None = None) -> Barcode | None:
    """The barcode of one piece from the profile's ``[imb]`` table; None when the profile prints none."""
    found = mailer(facts, file) if facts is not None else None
    return None if found is None else barcode(found, seq, zip_code)
