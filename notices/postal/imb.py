"""Turn the profile's mailer facts, a record's sequence and its ZIP into a USPS Intelligent Mail barcode, and that into PDF bars.

The bars are encoded by ReportLab's maintained encoder (USPS-B-3200, with the specification's test
vectors) and drawn here as filled rectangles at the specification's nominal sizes, straight into the
statement's first page after layout: the barcode then never enters the HTML, so pieces that differ
only in their fields still share one layout (``notices.fields``).
"""

from __future__ import annotations

import dataclasses
import functools
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


RETENTION_DAYS = 45  # USPS: a Full-Service serial stays unique within a Mailer ID for at least 45 days
_RANGE = re.compile(r"(\d+)-(\d+)")


@dataclass(frozen=True)
class Mailer:
    """The profile's ``[imb]`` facts: who the mail is from, for USPS, and which serials this machine may use."""

    barcode_id: str  # 2 digits, the second 0-4
    service_type: str  # 3 digits
    mailer_id: str  # 6 or 9 digits
    serial_start: int = 0  # the first serial of this collector's range (when no serial_range is given)
    serial_range: tuple[int, int] | None = None  # (first, last) serial this ledger may hand out, inclusive
    retention_days: int = RETENTION_DAYS  # how long a reserved block stays someone's

    @property
    def serial_digits(self) -> int:
        return 15 - len(self.mailer_id)  # 9 after a 6-digit Mailer ID, 6 after a 9-digit one

    @property
    def serials(self) -> tuple[int, int]:
        """The serials this mailer's runs draw from, inclusive: the profile's range, else serial_start to the top."""
        return self.serial_range or (self.serial_start, 10 ** self.serial_digits - 1)


@dataclass(frozen=True)
class SerialBlock:
    """A run's contiguous block of serials, as the ledger reserved it: ``count`` serials from ``first``,
    wrapping from ``last`` back to ``low`` (the range's ends), so piece ``seq`` (1, 2, ...) gets its own."""

    first: int
    count: int
    low: int
    last: int

    def serial(self, seq: int) -> int:
        size = self.last - self.low + 1
        return self.low + (self.first - self.low + seq - 1) % size

    def to_dict(self) -> dict[str, int]:
        return {"first": self.first, "count": self.count, "low": self.low, "last": self.last}


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
    found = Mailer(values["barcode_id"], values["service_type"], values["mailer_id"], int(facts.get("serial_start", 0)),
                   retention_days=int(facts.get("retention_days", RETENTION_DAYS)))
    chosen = facts.get("serial_range")
    if chosen:
        found = dataclasses.replace(found, serial_range=parse_range(str(chosen), found, facts.get("serial_ranges"), file))
    if not 0 <= found.serials[0] <= found.serials[1] < 10 ** found.serial_digits:
        raise ConfigError("The serial range does not fit the serial's digits", file=file, field="imb.serial_range",
                          value=f"{found.serials[0]}-{found.serials[1]}",
                          hint=f"a {len(found.mailer_id)}-digit Mailer ID leaves {found.serial_digits} digits: "
                               f"0-{10 ** found.serial_digits - 1}")
    return found


def parse_range(given: str, found: Mailer, named: Any, file: str | None = None) -> tuple[int, int]:
    """``LO-HI`` (inclusive), or the name of one of the profile's ``[imb.serial_ranges]``: a machine's own serials."""
    ranges = named if isinstance(named, dict) else {}
    text = str(ranges.get(given, given))
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise ConfigError("A serial range is LO-HI or the name of one of [imb.serial_ranges]", file=file,
                          field="imb.serial_range", value=given,
                          hint="named ranges: " + (", ".join(sorted(ranges)) or "none"))
    low, high = int(match.group(1)), int(match.group(2))
    if low > high or high >= 10 ** found.serial_digits:
        raise ConfigError("The serial range does not fit the serial's digits", file=file, field="imb.serial_range",
                          value=text, hint=f"LO <= HI <= {10 ** found.serial_digits - 1}")
    return low, high


def routing_code(zip_code: str, delivery_point: str = "") -> str:
    """The routing code from a ZIP, ZIP+4 and delivery point: 11, 9, 5 or (none usable) 0 digits."""
    digits = "".join(_DIGITS.findall(zip_code))
    if len(digits) == 9 and len(delivery_point) == 2 and delivery_point.isdigit():
        return digits + delivery_point
    return digits if len(digits) in (5, 9) else ""


def first_block(mailer_facts: Mailer, count: int = 1) -> SerialBlock:
    """The block a run gets from an empty ledger (and a proof, which reserves none): the range's first serials."""
    low, last = mailer_facts.serials
    return SerialBlock(low, count, low, last)


def serial(mailer_facts: Mailer, seq: int, block: SerialBlock | None = None) -> int:
    """The piece's serial: its place in the run's reserved block, by the record's sequence, so a rerun or a
    resume of the same run (the same block) gives the same serial, and shards (disjoint sequences) draw
    disjoint serials from the one block of their input."""
    return (block or first_block(mailer_facts)).serial(seq)


def encode(tracking: str, routing: str) -> str:
    """The 65 bars of a tracking code and routing code, by ReportLab's USPS-B-3200 encoder."""
    # Imported here, so `import notices` stays light; a local worker has it from the fork server (options.WORKER_PRELOAD).
    from reportlab.graphics.barcode.usps4s import USPS_4State  # noqa: PLC0415

    bars = str(USPS_4State(tracking, routing).barcodes)
    if len(bars) != BARS:  # pragma: no cover - the encoder always gives 65
        raise ValueError(f"the encoder gave {len(bars)} bars")
    return bars


def barcode(mailer_facts: Mailer, seq: int, zip_code: str, delivery_point: str = "",
            block: SerialBlock | None = None) -> Barcode:
    """The barcode of the piece with sequence ``seq`` mailed to ``zip_code`` (and its delivery point), from the run's block."""
    number = serial(mailer_facts, seq, block)
    tracking = (mailer_facts.barcode_id + mailer_facts.service_type + mailer_facts.mailer_id
                + f"{number:0{mailer_facts.serial_digits}d}")
    routing = routing_code(zip_code, delivery_point)
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
    ops = ["q", "0 g", *(_fill_op(rect, page_height) for rect in rects), "f", "Q"]
    return ("\n".join(ops) + "\n").encode("ascii")


def _fill_op(rect: tuple[float, float, float, float], page_height: float) -> str:
    x, y, width, height = rect
    return f"{x * 72:.3f} {(page_height - y - height) * 72:.3f} {width * 72:.3f} {height * 72:.3f} re"


def bars_stream(bars: str, left: float, bottom: float, page_height: float = 11.0) -> bytes:
    """``content_stream(bar_rects(bars, left, bottom), page_height)``, byte for byte, from lines made once per box.

    A bar's rectangle depends only on its position and its letter, so a box has 4 lines per position,
    each formatted once by the very code ``content_stream`` runs; a piece's stream is then a join.
    """
    try:
        lines = map(dict.__getitem__, _bar_lines(left, bottom, page_height, len(bars)), bars)
        return b"q\n0 g\n" + b"".join(lines) + b"f\nQ\n"
    except KeyError:  # a letter the encoder never gives: bar_rects draws it as a tracker, and so does this
        return content_stream(bar_rects(bars, left, bottom), page_height)


# typed: a box given as 1 and as 1.0 keeps lines of its own, so no cached line can come from other arguments.
@functools.lru_cache(maxsize=16, typed=True)
def _bar_lines(left: float, bottom: float, page_height: float, count: int) -> tuple[dict[str, bytes], ...]:
    """Each position's operator line (with its newline) for each of the four bar letters."""
    by_letter = {letter: [_fill_op(rect, page_height).encode("ascii") + b"\n" for rect in bar_rects(letter * count, left, bottom)]
                 for letter in "FADT"}
    return tuple({letter: lines[index] for letter, lines in by_letter.items()} for index in range(count))
