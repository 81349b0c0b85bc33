"""Turn a PDF page into what it draws where: filled rectangles from its content stream, glyph boxes from PDFium.

Everything is in inches from the sheet's top-left corner, y downwards, as notices/postal/ places it.
The content stream is read with a small tokenizer of our own (pypdf's parser is several times slower
on a statement's page): it follows the graphics state (``q``/``Q``/``cm``), form XObjects and their
matrices, and keeps every axis-aligned rectangle that is filled in a colour other than white.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_TOKEN = re.compile(
    rb"%[^\r\n]*"  # a comment
    rb"|\((?:\\.|[^\\()]|\((?:\\.|[^\\()])*\))*\)"  # a literal string (one level of nested brackets)
    rb"|<<|>>|<[0-9A-Fa-f\s]*>|\[|\]|\{|\}"
    rb"|/[^\s/\[\]()<>{}%]*"
    rb"|[-+]?(?:\d+\.?\d*|\.\d+)"
    rb"|[A-Za-z'\"*][A-Za-z0-9'\"*]*",
    re.DOTALL,
)
_OPERAND_HEADS = frozenset(b"%([]<>{}/0123456789+-.")
_FILL = frozenset({b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"})
_DISCARD = frozenset({b"n", b"S", b"s"})
_INLINE_IMAGE = re.compile(rb"(?<![A-Za-z])BI(?![A-Za-z]).*?(?<![A-Za-z])ID\s.*?\sEI(?![A-Za-z])", re.DOTALL)
_MAX_DEPTH = 4  # form XObjects inside form XObjects: deeper ones are not followed


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, inches from the top-left corner: left < right, top < bottom."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def meets(self, other: Box) -> bool:
        return self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom


@dataclass(frozen=True)
class Glyph:
    """One character the page shows and its ink box."""

    char: str
    box: Box
    line: int  # which line of the page's text (PDFium's reading order) it stands on
    spaced: bool = False  # a space comes before it in the page's text


def _times(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: the result maps a point by m first)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


class _Reader:
    """Walks content streams, keeping the filled rectangles in page inches."""

    def __init__(self, height: float) -> None:
        self.height = height  # the page's height in points: y turned downwards
        self.found: list[Box] = []

    def run(self, data: bytes, resources: Any, ctm: Matrix, depth: int = 0) -> None:
        stack: list[Matrix] = []
        operands: list[bytes] = []
        path: list[list[tuple[float, float]]] = []  # subpaths, in page points
        white = False
        in_text = False
        if b"BI" in data:
            data = _INLINE_IMAGE.sub(b" ", data)
        for token in _TOKEN.findall(data):
            if token[0] in _OPERAND_HEADS:
                if token[0] != 37:  # a comment is no operand
                    operands.append(token)
                continue
            if in_text:  # a text object paints no path: only its end matters here
                in_text = token != b"ET"
            elif token == b"BT":
                in_text = True
            elif token == b"q":
                stack.append(ctm)
            elif token == b"Q":
                ctm = stack.pop() if stack else ctm
            elif token == b"cm" and len(operands) >= 6:
                a, b, c, d, e, f = _numbers(operands[-6:])
                ctm = _times((a, b, c, d, e, f), ctm)
            elif token == b"re" and len(operands) >= 4:
                x, y, w, h = _numbers(operands[-4:])
                path.append([_apply(ctm, x, y), _apply(ctm, x + w, y), _apply(ctm, x + w, y + h), _apply(ctm, x, y + h)])
            elif token == b"m" and len(operands) >= 2:
                x, y = _numbers(operands[-2:])
                path.append([_apply(ctm, x, y)])
            elif token == b"l" and len(operands) >= 2 and path:
                x, y = _numbers(operands[-2:])
                path[-1].append(_apply(ctm, x, y))
            elif token in (b"c", b"v", b"y") and path:
                path[-1].append((float("nan"), float("nan")))  # a curve: this subpath is no rectangle
            elif token in _FILL:
                if not white:
                    self.found.extend(box for sub in path if (box := self._rectangle(sub)) is not None)
                path = []
            elif token in _DISCARD:
                path = []
            elif token in (b"g", b"rg", b"k"):
                values = _numbers(operands[-{b"g": 1, b"rg": 3, b"k": 4}[token]:])
                white = all(v >= 0.999 for v in values) if token != b"k" else all(v <= 0.001 for v in values)
            elif token in (b"sc", b"scn") and operands and all(o[0] not in b"/([<" for o in operands):
                white = False  # a colour space we do not follow is taken as ink
            elif token == b"Do" and operands and depth < _MAX_DEPTH:
                self._form(operands[-1], resources, ctm, depth)
            operands = []

    def _form(self, name: bytes, resources: Any, ctm: Matrix, depth: int) -> None:
        try:
            xobject = resources["/XObject"][name.decode("latin-1")].get_object()
        except (KeyError, TypeError, AttributeError):
            return
        if xobject.get("/Subtype") != "/Form":
            return
        values = [float(v) for v in xobject.get("/Matrix", IDENTITY)]
        matrix: Matrix = (values[0], values[1], values[2], values[3], values[4], values[5]) if len(values) == 6 else IDENTITY
        inner = xobject.get("/Resources", resources)
        self.run(xobject.get_data(), inner.get_object() if inner is not None else resources, _times(matrix, ctm), depth + 1)

    def _rectangle(self, points: list[tuple[float, float]]) -> Box | None:
        """An axis-aligned rectangle from its corners (a closing point may repeat the first), in page inches."""
        if len(points) == 5 and abs(points[4][0] - points[0][0]) < 1e-6 and abs(points[4][1] - points[0][1]) < 1e-6:
            points = points[:4]
        if len(points) != 4 or any(x != x for x, _ in points):
            return None
        xs = sorted({round(x, 4) for x, _ in points})
        ys = sorted({round(y, 4) for _, y in points})
        if len(xs) != 2 or len(ys) != 2:
            return None  # rotated or skewed, or not a rectangle
        return Box(xs[0] / 72, (self.height - ys[1]) / 72, xs[1] / 72, (self.height - ys[0]) / 72)


def _numbers(tokens: list[bytes]) -> tuple[float, ...]:
    return tuple(float(t) for t in tokens)


def filled_rectangles(page: PageObject) -> list[Box]:
    """Every axis-aligned rectangle the page fills with ink, in page inches from the top-left corner."""
    box = page.mediabox
    origin: Matrix = (1.0, 0.0, 0.0, 1.0, -float(box.left), -float(box.bottom))
    reader = _Reader(float(box.height))
    contents = page.get_contents()
    if contents is not None:
        data = contents.get_data()
        reader.run(data, (page.get("/Resources") or {}), origin)
    return reader.found


def glyphs(document: Any, index: int, band: tuple[float, float] | None = None) -> list[Glyph]:  # pypdfium2 has no type hints
    """The characters page ``index`` shows (spaces aside), each with its ink box and line, by PDFium.

    ``band`` (top, bottom, in inches): only the lines whose first character stands between them, as
    the address check looks at the top panel only and a glyph box costs a call into PDFium.
    """
    page = document[index]
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count)
        if len(text) != count:  # characters outside the basic plane: one by one
            text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
        found: list[Glyph] = []
        line, spaced = 0, False
        wanted: bool | None = None  # whether this line is measured: decided by its first character
        for i, char in enumerate(text):
            if char.isspace():
                if char == "\n":
                    line, wanted = line + 1, None
                spaced = True
                continue
            if wanted is not False:
                left, bottom, right, top = textpage.get_charbox(i)
                box = Box(left / 72, (height - top) / 72, right / 72, (height - bottom) / 72)
                if wanted is None:
                    wanted = band is None or (band[0] <= box.bottom and box.top <= band[1])
                if wanted:
                    found.append(Glyph(char, box, line, spaced))
            spaced = False
        return found
    finally:
        textpage.close()
        page.close()


def draws_outlines(page: PageObject) -> bool:
    """Whether a page fills any path of its own (a padding page's words are drawn so, with no font)."""
    contents = page.get_contents()
    if contents is None:
        return False
    data = contents.get_data()
    return any(token in _FILL for token in _tokens(data)) and any(token in (b"c", b"l") for token in _tokens(data))


def _tokens(data: bytes) -> Iterator[bytes]:
    for match in _TOKEN.finditer(data):
        yield match.group()
