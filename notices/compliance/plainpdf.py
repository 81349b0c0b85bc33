"""Turn the bytes of a plain PDF into its pages' sizes and fonts, or None when the file is not plain.

A plain PDF has one cross-reference table whose every entry points at its object, no encryption,
no object streams, and its pages as the kids of one /Pages node that passes them nothing: what
``notices render`` writes for each piece. For such a file this reads what the check needs of its
structure with a few regular expressions, where pypdf would parse the whole file (two thirds of the
cost of reading a piece, PDFium aside). It reads only the objects on the way to the pages and their
fonts, in a strict subset of PDF syntax in which pypdf reads the same values; anything outside it
(a comment, an escape in a string or a name, a number pypdf would repair, an inherited attribute, a
page tree of several levels, a table pypdf would rebuild) gives None, and pypdf reads the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

_TAIL = re.compile(rb"(?:\r\n|\r|\n)(?P<keyword>startxref)(?:\r\n|\r|\n)(?P<offset>\d{1,10})(?:\r\n|\r|\n)%%EOF(?:\r\n|\r|\n)?\Z")
_XREF_HEAD = re.compile(rb"xref(?:\r\n|\r|\n)0 (\d{1,7})(?:\r\n|\r|\n)")
_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(?: \r| \n|\r\n)")
_OBJECT_HEAD = re.compile(rb"(\d{1,10}) 0 obj[ \t\r\n]*")
_SPACE = re.compile(rb"[ \t\r\n]*")  # matches everywhere, if only the empty string
# One token of the subset: a reference (generation 0), a number, a name without escapes, a keyword,
# a literal string without escapes or nested parentheses, a hex string, a bracket. The lookaheads end a
# token where pypdf ends it: a number at the first character that cannot continue one, a reference at
# a character that is not a letter, a name and a keyword at whitespace or a delimiter.
_TOKEN = re.compile(
    rb"(?P<ref>(?P<number>\d{1,10}) 0 R)(?=[ \t\r\n/\[\]<>()])"
    rb"|(?P<real>[+-]?(?:\d{1,20}\.\d{0,20}|\.\d{1,20}))(?![0-9+,\-.])"
    rb"|(?P<int>[+-]?\d{1,20})(?![0-9+,\-.])"
    rb"|(?P<name>/[^\x00-\x20\x7f-\xff()<>\[\]{}/%#]{1,127})(?=[ \t\r\n\x0b\x0c()<>\[\]{}/%])"
    rb"|(?P<keyword>true|false|null)(?=[ \t\r\n/\[\]<>()])"
    rb"|\((?P<string>[^\\()]*)\)"
    rb"|<(?P<hex>[0-9A-Fa-f \t\r\n]*)>"
    rb"|(?P<open><<|\[)|(?P<close>>>|\])"
)
# Pages (and items of an array): a print file of 30,000 pieces has 120,000 pages, past pypdf's limit of
# 100,000 page-tree entries, which refuses it; read plain, it holds what its pages say, a few hundred bytes each.
_MAX_PAGES = 2_000_000
_MAX_KEYS = 100  # per dictionary: with _MAX_PAGES, far below pypdf's limit on the entries of a page tree
_MAX_DEPTH = 32
_TRAILER_KEYS = {"/Size", "/Root", "/Info", "/ID"}  # anything else (/Encrypt, /Prev, /XRefStm) is not plain


@dataclass(frozen=True)
class Ref:
    """An indirect reference (generation 0, the only one plain files use)."""

    number: int


Value: TypeAlias = "int | float | str | bytes | bool | Ref | list[Value] | dict[str, Value] | None"


# Objects as written -> their values: the pages of a shape's pieces are written alike, object numbers and all.
_PARSED: dict[bytes, Value] = {}
_MAX_PARSED = 4096
_MAX_REMEMBERED = 4096  # bytes: a page, its resources, a font's dictionaries; not a long string someone wrote


class _NotPlain(Exception):
    """The file leaves the subset: pypdf reads it."""


@dataclass(frozen=True)
class PlainPage:
    """What the check needs of one page's dictionary."""

    body: bytes  # the page's dictionary as written: two pages written alike draw the same
    width: float
    height: float
    fonts: tuple[tuple[str, int], ...]  # each font of its resources: the name pypdf gives it, and its object


class PlainPdf:
    """The file's object offsets (generation 0, in use), its first pages, and its fonts judged on demand."""

    def __init__(self, reader: _Reader, pages: list[PlainPage], numbers: list[int]) -> None:
        self._reader = reader
        self.offsets = reader.offsets
        self.pages = pages
        self.page_numbers = numbers  # every page's object number, in order

    def pages_between(self, start: int, stop: int) -> list[PlainPage] | None:
        """The facts of pages ``start`` to ``stop`` (not included), as ``read_plain`` gives its first pages; None: not plain."""
        try:
            found = []
            for number in self.page_numbers[start:stop]:
                page, body = self._reader._object_and_body(number)
                assert isinstance(page, dict)  # read_plain saw every page: a dictionary
                found.append(self._reader.page(page, body))
            return found
        except _NotPlain:
            return None

    def unembedded(self, number: int, name: str) -> tuple[str | None] | None:
        """What pdftext._missing_font says of font object ``number`` (named ``name``), as pypdf reads it; None: not plain.

        (None,) when the font is fine (a Type 3 font, or one that carries its program), else (its name,).
        """
        try:
            return (self._reader.missing_font(number, name),)
        except _NotPlain:
            return None


def read_plain(pdf: bytes, first: int | None = None) -> PlainPdf | None:
    """The offsets of a plain PDF's objects and the facts of its pages (its ``first`` ones); None when it is not plain."""
    try:
        return _Reader(pdf).read(first)
    except _NotPlain:
        return None


class _Reader:
    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        self.offsets: dict[int, int] = {}

    def read(self, first: int | None) -> PlainPdf:
        pdf = self.pdf
        if not pdf.startswith(b"%PDF-"):
            raise _NotPlain
        tail = _TAIL.search(pdf, max(0, len(pdf) - 64))
        if tail is None:
            raise _NotPlain
        trailer = self._xref(int(tail.group("offset")), tail.start("keyword"))
        catalog = self._object(_ref(trailer.get("/Root")))
        if not isinstance(catalog, dict) or catalog.get("/Type") != "/Catalog":
            raise _NotPlain
        tree = _ref(catalog.get("/Pages"))
        pages = self._object(tree)
        # One /Pages node, which passes its kids nothing (no /Resources, /MediaBox, /CropBox or /Rotate).
        if not isinstance(pages, dict) or set(pages) != {"/Type", "/Kids", "/Count"} or pages["/Type"] != "/Pages":
            raise _NotPlain
        kids, count = pages["/Kids"], pages["/Count"]
        if not isinstance(kids, list) or type(count) is not int or count != len(kids) or count > _MAX_PAGES:
            raise _NotPlain
        refs = [_ref(kid) for kid in kids]
        wanted = len(refs[:first])  # as pypdf's list of pages is cut
        read: list[PlainPage] = []
        for index, ref in enumerate(refs):
            # Every page is parsed, as pypdf parses every page of the tree before it gives the first.
            page, body = self._object_and_body(ref)
            if not isinstance(page, dict) or page.get("/Type") != "/Page" or page.get("/Parent") != Ref(tree):
                raise _NotPlain
            if index < wanted:
                read.append(self.page(page, body))
        return PlainPdf(self, read, refs)

    def page(self, page: dict[str, Value], body: bytes) -> PlainPage:
        return PlainPage(body, *_size(page.get("/MediaBox")), self._fonts(page))

    def _xref(self, start: int, keyword: int) -> dict[str, Value]:
        """The cross-reference table at ``start`` into ``offsets``, checked entry by entry; its trailer, which ends at ``keyword``."""
        pdf = self.pdf
        if not 0 < start < keyword or pdf[start - 1:start] not in (b"\r", b"\n", b" ", b"\t"):
            raise _NotPlain
        head = _XREF_HEAD.match(pdf, start)
        if head is None:
            raise _NotPlain
        size, at = int(head.group(1)), head.end()
        # Every entry is 20 bytes: ``size`` of them in 20 * ``size`` bytes stand one after the other.
        entries = _XREF_ENTRY.findall(pdf, at, at + 20 * size)
        if len(entries) != size:
            raise _NotPlain
        for number, (offset, generation, kind) in enumerate(entries):
            if kind == b"f":
                continue
            if number == 0 or generation != b"00000" or not pdf.startswith(b"%d 0 obj" % number, int(offset)):
                raise _NotPlain
            self.offsets[number] = int(offset)
        at += 20 * size
        if not pdf.startswith(b"trailer", at):
            raise _NotPlain
        trailer, after = _Parser(pdf).value(_skip(pdf, at + 7))
        if (not isinstance(trailer, dict) or not set(trailer) <= _TRAILER_KEYS or trailer.get("/Size") != size
                or after != keyword):
            raise _NotPlain
        return trailer

    def _object_and_body(self, number: int) -> tuple[Value, bytes]:
        """Object ``number`` (not a stream), and its bytes between its header and ``endobj``."""
        offset = self.offsets.get(number)
        end = self.pdf.find(b"endobj", offset) if offset is not None else -1
        if offset is None or end < 0:
            raise _NotPlain
        written = self.pdf[offset:end + 6]
        if written in _PARSED:
            value = _PARSED[written]
        else:
            value = _parse_object(written, number)
            if len(_PARSED) < _MAX_PARSED and len(written) <= _MAX_REMEMBERED:
                _PARSED[written] = value
        return value, written[len(b"%d 0 obj" % number):-6].strip(b" \t\r\n")

    def _object(self, number: int) -> Value:
        return self._object_and_body(number)[0]

    def _resolved(self, value: Value) -> Value:
        return self._object(value.number) if isinstance(value, Ref) else value

    def missing_font(self, number: int, name: str) -> str | None:
        """pdftext._missing_font of font object ``number``, reading each value as pypdf gives it there.

        pypdf's ``get`` gives a value as written (a reference unresolved), its ``[]`` and ``get_object``
        resolve one: so the subtype and the base font must be written in the font, the descendant
        fonts, their first and the descriptor may be referred to.
        """
        font = self._object(number)
        if not isinstance(font, dict):
            raise _NotPlain
        subtype, base = font.get("/Subtype"), font.get("/BaseFont", name)
        if not isinstance(subtype, str | None) or not isinstance(base, str):
            raise _NotPlain
        if subtype == "/Type3":
            return None
        if "/DescendantFonts" in font:
            descendants = self._resolved(font["/DescendantFonts"])
            if not isinstance(descendants, list) or not descendants:
                raise _NotPlain
            descendant = self._resolved(descendants[0])
            if not isinstance(descendant, dict):
                raise _NotPlain
            holder = descendant
        else:
            holder = font
        if "/FontDescriptor" not in holder:
            return base
        descriptor = self._resolved(holder["/FontDescriptor"])
        if not isinstance(descriptor, dict):
            raise _NotPlain  # null included: pypdf cannot look into it
        return None if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")) else base

    def _fonts(self, page: dict[str, Value]) -> tuple[tuple[str, int], ...]:
        """The fonts of a page's own resources, in the order they are written, each by reference.

        No resources, or no fonts in them, is no font; resources or fonts that are not a dictionary
        (null included) are left to pypdf, which refuses them.
        """
        if "/Resources" not in page:
            return ()
        resources = self._resolved(page["/Resources"])
        if not isinstance(resources, dict):
            raise _NotPlain
        if "/Font" not in resources:
            return ()
        fonts = self._resolved(resources["/Font"])
        if not isinstance(fonts, dict):
            raise _NotPlain
        return tuple((name, _ref(ref)) for name, ref in fonts.items())


def _parse_object(body: bytes, number: int) -> Value:
    """The value of an object written as ``body`` (its header to its ``endobj``), which must hold nothing else."""
    head = _OBJECT_HEAD.match(body)
    if head is None or int(head.group(1)) != number:
        raise _NotPlain
    value, at = _Parser(body).value(head.end())
    if at != len(body) - 6:
        raise _NotPlain  # not the object's end: a stream, or "endobj" inside a string
    return value


def _skip(data: bytes, at: int) -> int:
    """Where the whitespace at ``at`` ends."""
    space = _SPACE.match(data, at)
    return space.end() if space is not None else at


def _ref(value: Value) -> int:
    if not isinstance(value, Ref):
        raise _NotPlain
    return value.number


def _size(box: Value) -> tuple[float, float]:
    """A page's own /MediaBox (an array of four numbers) as pypdf measures it: right minus left, top minus bottom."""
    if not isinstance(box, list) or len(box) != 4 or not all(type(v) in (int, float) for v in box):
        raise _NotPlain
    left, bottom, right, top = (float(v) for v in box)  # type: ignore[arg-type]
    return right - left, top - bottom


class _Parser:
    """Values of the subset, from a position in the file."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf

    def value(self, at: int, depth: int = 0) -> tuple[Value, int]:
        """The value that starts at ``at``, and where the text after it starts (whitespace skipped)."""
        if depth > _MAX_DEPTH:
            raise _NotPlain
        token = _TOKEN.match(self.pdf, at)
        if token is None:
            raise _NotPlain
        after = _skip(self.pdf, token.end())
        kind = token.lastgroup
        if kind == "ref" or kind == "number":
            return Ref(int(token.group("number"))), after
        if kind == "real":
            return float(token.group(kind)), after
        if kind == "int":
            return int(token.group(kind)), after
        if kind == "name":
            return token.group(kind).decode("ascii"), after
        if kind == "keyword":
            return {b"true": True, b"false": False, b"null": None}[token.group(kind)], after
        if kind == "string" or kind == "hex":
            return token.group(kind), after
        if kind == "open" and token.group(kind) == b"[":
            items: list[Value] = []
            while not self.pdf.startswith(b"]", after):
                item, after = self.value(after, depth + 1)
                items.append(item)
                if len(items) > _MAX_PAGES:
                    raise _NotPlain
            return items, _skip(self.pdf, after + 1)
        if kind == "open":
            entries: dict[str, Value] = {}
            while not self.pdf.startswith(b">>", after):
                key, after = self.value(after, depth + 1)
                if not isinstance(key, str) or key in entries:
                    raise _NotPlain  # a key that is not a name, or a key given twice (pypdf keeps the first)
                entries[key], after = self.value(after, depth + 1)
                if len(entries) > _MAX_KEYS:
                    raise _NotPlain
            return entries, _skip(self.pdf, after + 2)
        raise _NotPlain  # a closing bracket where a value must stand
