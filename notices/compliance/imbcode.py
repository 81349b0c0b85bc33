"""Turn the 65 states of an Intelligent Mail barcode (F, A, D, T) back into its tracking code and routing code.

USPS-B-3200's encoding run backwards, written from the specification and not from the encoder that
draws our bars (ReportLab's), so the check does not share a mistake with the renderer: each bar
carries one bit of a character in its descender and one in its ascender (the specification's
table 4); ten 13-bit characters are each a codeword's entry in the 5-of-13 or 2-of-13 table, or
its complement, which carries a bit of the frame check sequence; the codewords are the digits of
the binary data in bases 659 (or 1318), 1365 and 636; the data's CRC-11 must equal that sequence.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

BARS = 65
# USPS-B-3200 table 4 (bar-to-character mapping): for bar i, (descender character, bit, ascender character, bit).
_BAR_BITS = (
    (7, 2, 4, 3), (1, 10, 0, 0), (9, 12, 2, 8), (5, 5, 6, 11), (8, 9, 3, 1), (0, 1, 5, 12), (2, 5, 1, 8),
    (4, 4, 9, 11), (6, 3, 8, 10), (3, 9, 7, 6), (5, 11, 1, 4), (8, 5, 2, 12), (9, 10, 0, 2), (7, 1, 6, 7),
    (3, 6, 4, 9), (0, 3, 8, 6), (6, 4, 2, 7), (1, 1, 9, 9), (7, 10, 5, 2), (4, 0, 3, 8), (6, 2, 0, 4),
    (8, 11, 1, 0), (9, 8, 3, 12), (2, 6, 7, 7), (5, 1, 4, 10), (1, 12, 6, 9), (7, 3, 8, 0), (5, 8, 9, 7),
    (4, 6, 2, 10), (3, 4, 0, 5), (8, 4, 5, 7), (7, 11, 1, 9), (6, 0, 9, 6), (0, 6, 4, 8), (2, 1, 3, 2),
    (5, 9, 8, 12), (4, 11, 6, 1), (9, 5, 7, 4), (3, 3, 1, 2), (0, 7, 2, 0), (1, 3, 4, 1), (6, 10, 3, 5),
    (8, 7, 9, 4), (2, 11, 5, 6), (0, 8, 7, 12), (4, 2, 8, 1), (5, 10, 3, 0), (9, 3, 0, 9), (6, 5, 2, 4),
    (7, 8, 1, 7), (5, 0, 4, 5), (2, 3, 0, 10), (6, 12, 9, 2), (3, 11, 1, 6), (8, 8, 7, 9), (5, 4, 0, 11),
    (1, 5, 2, 2), (9, 1, 4, 12), (8, 3, 6, 6), (7, 0, 3, 7), (4, 7, 7, 5), (0, 12, 1, 11), (2, 9, 9, 0),
    (6, 8, 5, 3), (3, 10, 8, 2),
)


class BarcodeUnreadable(ValueError):
    """The bars are not a valid Intelligent Mail barcode; the message says which rule they break."""


@dataclass(frozen=True)
class Decoded:
    """What a barcode carries."""

    tracking: str  # 20 digits: barcode ID, service type, mailer ID and serial
    routing: str  # 0, 5, 9 or 11 digits


def _reverse13(value: int) -> int:
    return int(f"{value:013b}"[::-1], 2)


@functools.cache
def _table(ones: int) -> tuple[int, ...]:
    """USPS-B-3200's N-of-13 table (appendix: 5 of 13 has 1287 entries, 2 of 13 has 78).

    Pairs of a value and its bit reversal fill the table from the front, in increasing order;
    values equal to their reversal fill it from the back.
    """
    front: list[int] = []
    back: list[int] = []
    for value in range(8192):
        if value.bit_count() != ones:
            continue
        reverse = _reverse13(value)
        if reverse < value:
            continue
        if reverse == value:
            back.append(value)
        else:
            front += [value, reverse]
    return tuple(front + back[::-1])


@functools.cache
def _codeword_of() -> dict[int, int]:
    """A 13-bit character into its codeword: 0-1286 from the 5-of-13 table, 1287-1364 from the 2-of-13."""
    five, two = _table(5), _table(2)
    return {**{c: i for i, c in enumerate(five)}, **{c: 1287 + i for i, c in enumerate(two)}}


def crc11(value: int) -> int:
    """The frame check sequence of the 102-bit binary data (USPS-B-3200, the 11-bit CRC over 13 bytes)."""
    data = value.to_bytes(13, "big")
    fcs = 0x07FF
    for index, byte in enumerate(data):
        bits, shifted = (6, byte << 5) if index == 0 else (8, byte << 3)  # the first byte's two top bits are unused
        for _ in range(bits):
            fcs = ((fcs << 1) ^ 0x0F35 if (fcs ^ shifted) & 0x400 else fcs << 1) & 0x7FF
            shifted <<= 1
    return fcs


def decode(bars: str) -> Decoded:
    """The tracking and routing codes of 65 bars; :class:`BarcodeUnreadable` when the bars break a rule of the specification."""
    if len(bars) != BARS or set(bars) - set("FADT"):
        raise BarcodeUnreadable(f"an Intelligent Mail barcode has 65 bars of F, A, D and T; these are {len(bars)}")
    characters = [0] * 10
    for bar, (d_char, d_bit, a_char, a_bit) in zip(bars, _BAR_BITS, strict=True):
        if bar in "FD":
            characters[d_char] |= 1 << d_bit
        if bar in "FA":
            characters[a_char] |= 1 << a_bit
    table = _codeword_of()
    codewords, fcs = [], 0
    for index, character in enumerate(characters):
        if character in table:
            codewords.append(table[character])
        elif (~character & 0x1FFF) in table:
            codewords.append(table[~character & 0x1FFF])
            fcs |= 1 << index
        else:
            raise BarcodeUnreadable(f"character {chr(65 + index)} ({character:013b}) is in neither table of the specification")
    first, last = codewords[0], codewords[9]
    if last % 2:
        raise BarcodeUnreadable("codeword J is odd: the bars are read in the wrong direction or damaged")
    if first > 658:
        first -= 659
        fcs |= 1 << 10
    value = first
    for codeword in codewords[1:9]:
        if codeword > 1364:  # pragma: no cover - the tables hold no larger codeword
            raise BarcodeUnreadable("a codeword is out of range")
        value = value * 1365 + codeword
    value = value * 636 + last // 2
    if crc11(value) != fcs:
        raise BarcodeUnreadable("the frame check sequence does not match the data: a bar is misread or misprinted")
    return _fields(value)


def _fields(value: int) -> Decoded:
    """The binary data back into its digits: 18 tracking digits, the barcode ID's two, then the routing code."""
    digits = []
    for _ in range(18):
        value, digit = divmod(value, 10)
        digits.append(str(digit))
    value, second = divmod(value, 5)
    value, first = divmod(value, 10)
    tracking = f"{first}{second}" + "".join(reversed(digits))
    if value == 0:
        routing = ""
    elif value <= 100_000:
        routing = f"{value - 1:05d}"
    elif value <= 1_000_100_000:
        routing = f"{value - 100_001:09d}"
    elif value <= 101_000_100_000:
        routing = f"{value - 1_000_100_001:011d}"
    else:
        raise BarcodeUnreadable("the routing part of the data is out of range")
    return Decoded(tracking, routing)
