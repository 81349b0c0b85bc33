"""Turn a PDF (its bytes, or the facts of its pages) into folded words and lines that remember their page.

Words are compared after folding what the statute's typography and line breaking may change:
quotes, apostrophes, dashes, line breaks and hyphenation at line ends.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import ctypes
import functools
import hashlib
import importlib
import io
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, count, islice, repeat
from operator import add
from typing import Any, NamedTuple

import pypdf
import pypdfium2.raw as pdfium
from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import DictionaryObject, IndirectObject

from ..errors import InputError
from .plainpdf import PlainPage, PlainPdf, read_plain

LETTER = (612.0, 792.0)
MARGIN = 18.0  # 0.25 in: no text may be drawn closer to the sheet's edge (printers cannot reach it)

_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00ad": "", "\u0002": "-",  # PDFium: a hyphen it broke a line at
    }
)
_HYPHEN_EOL = re.compile(r"(\w)-[ \t]*\n\s*(\w)")
_HYPHEN_BREAK = re.compile(r"-[ \t]*\n")  # in every match of _HYPHEN_EOL, and found much faster
# PDFium's text for a hyphen that ended a line: the hyphen becomes U+FFFE and the two lines are joined
# (Chromium's viewer removes it again, FormatStringWithHyphens); read here as the hyphen and line end it was.
_PDFIUM_HYPHEN = "\ufffe"
_ASCII_FOLDED = [chr(c) for c in _FOLD if c < 128]
_FOLDED = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")  # the characters _FOLD changes
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]|[a-z][.)]|[•·*\-–o▪■●◦])$")
_DIGITS = re.compile(r"\d+")
# A running "Page 2 of 3" ("Página 2 de 3") at a line's end: a document's own count of its pages.
_PAGE_NUMBER = re.compile(r"(?i)(?<!\w)(?:page|p[aá]gina)\s+(\d{1,3})\s+(?:of|de)\s+(\d{1,3})\s*$")

PageRead = tuple[str, tuple[str, ...]]  # a page's text, and its runs of text outside the printable area


# --------------------------------------------------------------------------------------------
# Words: folding, and the text of a PDF as one list of words that remember their page.


def fold(text: str) -> str:
    """Fold typography and line breaking so that only the words and their order remain."""
    return " ".join(_join_hyphenated(_typography(text).replace("\r\n", "\n")).split())


def _typography(text: str) -> str:
    """NFKC, then the quotes, dashes and spaces of _FOLD made plain."""
    if text.isascii() and not any(c in text for c in _ASCII_FOLDED):
        return text  # NFKC leaves ASCII as it is, and _FOLD changes none of its characters
    # As .translate(_FOLD), which looks up every character; a text has few of these.
    return _FOLDED.sub(lambda m: _FOLD[ord(m.group())], unicodedata.normalize("NFKC", text))


def _line_end_hyphens(text: str) -> str:
    return text.replace(_PDFIUM_HYPHEN, "-\n") if _PDFIUM_HYPHEN in text else text


def _join_hyphenated(text: str) -> str:
    """A word hyphenated at a line end made whole again, as if the hyphen were a soft one (``_hyphens_kept``: as printed)."""
    text = _line_end_hyphens(text)
    return _HYPHEN_EOL.sub(r"\1\2", text) if _HYPHEN_BREAK.search(text) else text


def _hyphens_kept(text: str) -> str:
    """The lines joined at each hyphen that ends one, the hyphen kept: the words as printed when it is a hard one
    (SMITH-JONES broken after SMITH-). The shipped templates never hyphenate a word, so in their pieces every
    such hyphen is one; a file made elsewhere may break words with soft ones, as ``_join_hyphenated`` reads them."""
    return _HYPHEN_EOL.sub(r"\1-\2", _line_end_hyphens(text))


def words(text: str) -> list[str]:
    """The folded words of ``text``; double quotes around words are only typography, so they go."""
    folded = fold(text)
    if '"' not in folded:  # words joined by one space: nothing to strip, no word left empty
        return folded.split(" ") if folded else []
    out = []
    for word in folded.split(" "):
        word = word.strip('"')
        if word:
            out.append(word)
    return out


@functools.lru_cache(maxsize=512)
def fixed_words(text: str) -> tuple[str, ...]:
    """``words`` of a registry text, cached: the same statements are looked for in every piece."""
    return tuple(words(text))


def text_key(text: str) -> str:
    """A registry text's folded words as one string: two blocks with the same key print the same words."""
    return " ".join(fixed_words(text))


class PageNumber(NamedTuple):
    """What a page's running footer says of it: whose page it is (its label, digits ignored), and "k of n"."""

    label: str
    number: int
    of: int


class _Line(NamedTuple):
    words: tuple[str, ...]
    joined: str
    mark: bool  # list marks only ("1.", "•")
    key: str  # the furniture key: lower case, digits ignored
    number: PageNumber | None  # the "Page k of n" the line ends with
    lower: str  # joined, lower-cased
    vocabulary: frozenset[str]  # its words lower-cased


@functools.lru_cache(maxsize=4096)
def _line(raw: str) -> _Line:
    """One line of a page's text, folded: cached, as most lines of a statement are the same in every piece."""
    folded = tuple(words(raw))
    joined = " ".join(folded)
    lower = joined.lower()
    return _Line(folded, joined, all(_LIST_MARK.match(w) for w in folded), _DIGITS.sub("#", lower), _line_number(joined), lower,
                 frozenset(lower.split(" ")) if folded else frozenset())  # lower() never looks past a space


def _furniture_key(line: Sequence[str]) -> str:
    return _DIGITS.sub("#", " ".join(line).lower())


@dataclass(frozen=True)
class PageFacts:
    """What one page of a PDF shows: its text, its size, and its drawing problems."""

    text: str
    width: float
    height: float
    outside: tuple[str, ...] = ()
    unembedded: tuple[str, ...] = ()


@dataclass(frozen=True)
class _PageWords:
    """One page's text as folded lines and words, worked out once per text: an insert's pages recur in every piece."""

    lines: tuple[str, ...]  # each line's words, joined by a space
    line_starts: tuple[int, ...]  # the page's word index where each line begins, and one past the last
    marks: tuple[bool, ...]  # per word: its line holds list marks only
    line_index: tuple[int, ...]  # per word: its line on the page
    edges: tuple[tuple[int, str], ...]  # (line, furniture key) of the first two and last three lines that are not marks
    keys: frozenset[str]  # furniture keys of the page's raw lines of two words or more
    line_keys: frozenset[str]  # furniture keys of its folded lines
    words: tuple[str, ...]
    vocabulary: frozenset[str]  # its words lower-cased
    starts: tuple[int, ...]  # where each word starts in " ".join(words)
    joined: str
    lower: str  # joined, lower-cased
    number: PageNumber | None
    hard_words: tuple[str, ...] | None = None  # ``words`` with the hyphens that ended a line kept, when it had any


@functools.lru_cache(maxsize=64)  # a statement page is seen once; the insert's pages stay
def _page_words(text: str) -> _PageWords:
    """What PdfText needs of one page, from its text alone."""
    typeset = _typography(text)
    folded = _join_hyphenated(typeset)
    page_lines = [line for line in map(_line, folded.splitlines()) if line.words]
    content = [i for i, line in enumerate(page_lines) if not line.mark]
    edges = sorted(set(content[:2] + content[-3:]))  # a running header or footer is a page's first or last lines
    raw = page_lines if folded == text else map(_line, text.splitlines())  # the same lines when folding changed nothing
    keys = frozenset(line.key for line in raw if len(line.words) >= 2)
    counts = [len(line.words) for line in page_lines]
    flat = list(chain.from_iterable(line.words for line in page_lines))
    # Word i starts after the i words before it and a space after each.
    starts = map(add, accumulate(map(len, flat), initial=0), count())
    # As " ".join(flat) and its lower(), which never looks past a space: line by line.
    joined = " ".join(line.joined for line in page_lines)
    lower = " ".join(line.lower for line in page_lines)
    return _PageWords(
        lines=tuple(line.joined for line in page_lines),
        line_starts=tuple(accumulate(counts, initial=0)),
        marks=tuple(chain.from_iterable(repeat(line.mark, n) for line, n in zip(page_lines, counts, strict=True))),
        line_index=tuple(chain.from_iterable(repeat(i, n) for i, n in enumerate(counts))),
        edges=tuple((i, page_lines[i].key) for i in edges),
        keys=keys,
        line_keys=frozenset(line.key for line in page_lines),
        words=tuple(flat),
        vocabulary=frozenset().union(*(line.vocabulary for line in page_lines)),
        starts=tuple(islice(starts, len(flat))),
        joined=joined,
        lower=lower,
        number=_page_number(page_lines),
        hard_words=_hard_words(typeset, flat) if folded != typeset else None,
    )


def _hard_words(typeset: str, words: Sequence[str]) -> tuple[str, ...] | None:
    """The page's words with the hyphens that ended a line kept (``_hyphens_kept``), one for one with ``words``;
    None when there is no such hyphen."""
    kept = tuple(chain.from_iterable(line.words for line in map(_line, _hyphens_kept(typeset).splitlines())))
    return kept if len(kept) == len(words) and kept != tuple(words) else None


@dataclass(frozen=True)
class _Joined:
    """A PDF's words joined by spaces, where a word sequence or a pattern is looked for: the words as read, or the
    same words with the hyphens that ended a line kept (``_hard_words``: a name such as SMITH-JONES broken after
    its hyphen), looked in when the first has nothing."""

    padded: str  # " " + the words joined by spaces + " "
    lower: str  # the joined words, lower-cased word by word (lower() never looks past a space)
    starts: Sequence[int]  # where each word starts in the joined words

    @classmethod
    def of(cls, words: Sequence[str]) -> _Joined:
        starts = map(add, accumulate(map(len, words), initial=0), count())
        return cls(" " + " ".join(words) + " ", " ".join(word.lower() for word in words), list(islice(starts, len(words))))

    def char(self, word: int) -> int:
        """Where word ``word`` starts; past the last word, the end of the joined words."""
        return self.starts[word] if word < len(self.starts) else len(self.padded) - 2

    def word_at(self, char: int) -> int:
        """The index of the word that holds character ``char``."""
        return max(0, bisect.bisect_right(self.starts, char) - 1)

    def find(self, target: str, lo: int) -> int | None:
        """The word where ``target`` (words with a space before and after each) first stands from word ``lo`` on."""
        at = self.padded.find(target, self.char(lo))
        return None if at < 0 else self.word_at(at)

    def search(self, pattern: re.Pattern[str], lo: int, hi: int) -> tuple[int, int] | None:
        start = self.char(lo)
        end = max(start, self.char(hi) - 1) if hi < len(self.starts) else len(self.lower)
        match = _search(pattern, self.lower, start, end)
        if match is None:
            return None
        return self.word_at(match[0]), self.word_at(max(match[0], match[1] - 1)) + 1


def _page_number(lines: Sequence[_Line]) -> PageNumber | None:
    """The page's own "Page k of n", read from its last line that ends with one (the running footer)."""
    return next((line.number for line in reversed(lines) if line.number is not None), None)


def _line_number(joined: str) -> PageNumber | None:
    """The "Page k of n" a folded line ends with, and the label before it."""
    # A folded line ends with a word, so a match ends with its digit (and isdigit() holds for every \d).
    match = _PAGE_NUMBER.search(joined) if joined[-1:].isdigit() else None
    if match is None:
        return None
    return PageNumber(_furniture_key(joined[:match.start()].split()), int(match.group(1)), int(match.group(2)))


def _repeated_lines(pages: Sequence[_PageWords]) -> set[str]:
    """Lines (digits ignored) that appear on two pages or more: running headers and footers."""
    seen = Counter(chain.from_iterable(page.keys for page in pages))
    return {key for key, count in seen.items() if count >= 2}


class PdfText:
    """A PDF's pages and the folded words of all of them, each word tied to its page and line."""

    def __init__(self, pages: Sequence[PageFacts]) -> None:
        self.pages = list(pages)
        self.words: list[str] = []
        self.page_of: list[int] = []
        self.furniture: list[bool] = []
        self.line_of: list[int] = []
        self.line_words: list[int] = []  # the first word of each line
        self.lines: list[tuple[int, str]] = []  # (page, folded line)
        self.page_start: list[int] = []
        self.page_lines: list[int] = []  # where each page's lines begin in ``lines``, and one past the last
        self.starts: list[int] = []
        analysed = [_page_words(page.text) for page in self.pages]
        repeated = self.repeated = _repeated_lines(analysed)
        self.line_keys = [page.line_keys for page in analysed]  # per page: the furniture keys of its lines
        self.numbers = [page.number for page in analysed]  # per page: its own "Page k of n", if it prints one
        # Per page, its words lower-cased: as ``lower`` cases them, for lower() never looks past a space.
        self.vocabularies = [page.vocabulary for page in analysed]
        at = 0  # where the page's first word starts in ``joined``
        for number, page in enumerate(analysed):
            first_word, first_line = len(self.words), len(self.lines)
            self.page_start.append(first_word)
            self.page_lines.append(first_line)
            self.lines.extend(zip(repeat(number), page.lines))
            self.words.extend(page.words)
            self.page_of.extend(repeat(number, len(page.words)))
            self.line_of.extend(map(add, page.line_index, repeat(first_line)))
            self.line_words.extend(map(add, page.line_starts[:-1], repeat(first_word)))
            self.furniture.extend(page.marks)
            for line, key in page.edges:
                if key in repeated:
                    lo, hi = page.line_starts[line], page.line_starts[line + 1]
                    self.furniture[first_word + lo:first_word + hi] = repeat(True, hi - lo)
            if page.words:
                self.starts.extend(map(add, page.starts, repeat(at)))
                at += len(page.joined) + 1
        self.page_start.append(len(self.words))
        self.page_lines.append(len(self.lines))
        self.joined = " ".join(page.joined for page in analysed if page.words)
        # As self.joined.lower(): lower() never looks past a space, so each page's is its own.
        self.lower = " ".join(page.lower for page in analysed if page.words)
        self._as_read = _Joined(" " + self.joined + " ", self.lower, self.starts)
        self._hard = (_Joined.of(list(chain.from_iterable(page.hard_words or page.words for page in analysed)))
                      if any(page.hard_words for page in analysed) else None)

    def word_at(self, char: int) -> int:
        """The index of the word that holds character ``char`` of ``joined``."""
        return self._as_read.word_at(char)

    def char(self, word: int) -> int:
        """Where word ``word`` starts in ``joined``; past the last word, the end of ``joined``."""
        return self._as_read.char(word)

    def lower_end(self, word: int) -> int:
        """Where a search of ``lower`` that stops before word ``word`` ends (lower-casing may change a length)."""
        return self.char(word) if word < len(self.words) else len(self.lower)

    def find(self, needle: Sequence[str], lo: int = 0, hi: int | None = None) -> int | None:
        """The first word index where the exact word sequence ``needle`` starts inside [lo, hi)."""
        hi = len(self.words) if hi is None else hi
        if not needle or lo >= hi:
            return None
        target = " " + " ".join(needle) + " "
        index = self._as_read.find(target, lo)
        if index is None and self._hard is not None:
            index = self._hard.find(target, lo)
        return index if index is not None and index + len(needle) <= hi else None

    def search(self, pattern: re.Pattern[str], lo: int, hi: int) -> tuple[int, int] | None:
        """The first match of ``pattern`` in the lower-cased words [lo, hi): (first word, end word)."""
        found = self._as_read.search(pattern, lo, hi)
        if found is None and self._hard is not None:
            found = self._hard.search(pattern, lo, hi)
        return found

    def line_start(self, word: int) -> int:
        """The first word of the line ``word`` stands on."""
        line = self.line_of[word]
        while word > 0 and self.line_of[word - 1] == line:
            word -= 1
        return word

    def lines_on(self, first_page: int, last_page: int) -> list[tuple[int, str]]:
        """The folded lines of pages [first_page, last_page], each with its page."""
        pages = len(self.pages)
        lo, hi = min(max(first_page, 0), pages), min(max(last_page + 1, 0), pages)
        return self.lines[self.page_lines[lo]:self.page_lines[hi]] if lo < hi else []

    def blank(self, page: int) -> bool:
        return self.page_start[page] == self.page_start[page + 1]

    def page_number(self, word: int) -> int | None:
        return self.page_of[word] + 1 if 0 <= word < len(self.page_of) else None


# Searches: the same requirement is looked for in the same words in nearly every piece (the statement's
# fixed text between two statutory blocks), and a profile fact's pattern (a phone number, a web address)
# is tried at every character. What a search finds depends only on the text it may read, so it is
# remembered by that text: from where it starts, less what the pattern can look back, to where it ends.
_SEARCHES: dict[tuple[re.Pattern[str], int, str], tuple[int, int] | None] = {}
_MAX_SEARCHES = 512
try:
    _RE_PARSER: Any = importlib.import_module("re._parser")  # the parser ``re`` compiles with (typeshed has no stubs for it)
except ImportError:  # another Python's layout: every search is made afresh
    _RE_PARSER = None


def _search(pattern: re.Pattern[str], text: str, start: int, end: int) -> tuple[int, int] | None:
    """``pattern.search(text, start, end).span()``, or None when nothing matches."""
    behind = _reach_back(pattern)
    if behind is None or not 0 <= start <= end <= len(text):  # re moves a start or an end outside the text
        match = pattern.search(text, start, end)
        return None if match is None else match.span()
    # A match reads nothing at or past ``end`` (re treats it as the end of the text), nor more than
    # ``behind`` characters before ``start``: the same characters there give the same match. Where the
    # window begins at the text's start, the offset says so, as ``\A`` and ``^`` can tell.
    window = max(0, start - behind)
    key = (pattern, start - window, text[window:end])
    if key in _SEARCHES:
        found = _SEARCHES[key]
    else:
        match = pattern.search(text, start, end)
        found = None if match is None else (match.start() - start, match.end() - start)
        if len(_SEARCHES) >= _MAX_SEARCHES:
            del _SEARCHES[next(iter(_SEARCHES))]  # the oldest: a piece's own words, not the statement's
        _SEARCHES[key] = found
    return None if found is None else (start + found[0], start + found[1])


@functools.lru_cache(maxsize=256)
def _reach_back(pattern: re.Pattern[str]) -> int | None:
    """How many characters before a search's start ``pattern`` may read; None when that cannot be told.

    re reads before where it tries a match only in a look-behind (which steps back its fixed width,
    inside one another too) and in an assertion on the character before (``\\b``, ``^`` in multi-line
    mode): their widths added up, plus one, bound it.
    """
    if _RE_PARSER is None:
        return None
    try:
        return _look_behind_widths(_RE_PARSER.parse(pattern.pattern, pattern.flags)) + 1
    except Exception:  # noqa: BLE001 - a pattern this cannot take apart is searched afresh every time
        return None


def _look_behind_widths(node: Any) -> int:
    """The widths of the look-behinds in a parsed pattern (a SubPattern, or any part of one), nested ones included."""
    if isinstance(node, _RE_PARSER.SubPattern):
        total = 0
        for op, argument in node.data:
            if op in (_RE_PARSER.ASSERT, _RE_PARSER.ASSERT_NOT) and argument[0] < 0:
                low, high = argument[1].getwidth()
                if low != high or high >= _RE_PARSER.MAXREPEAT:
                    raise ValueError("a look-behind of no fixed width")
                total += high
            total += _look_behind_widths(argument)
        return total
    if isinstance(node, tuple | list):
        return sum(_look_behind_widths(item) for item in node)
    return 0


def find_words(needle: str, pages: Sequence[str]) -> tuple[int, int] | None:
    """Where the folded words of ``needle`` stand in the pages: (page index, word offset in the whole text)."""
    text = PdfText([PageFacts(t, *LETTER) for t in pages])
    at = text.find(words(needle))
    return None if at is None else (text.page_of[at], at)


# --------------------------------------------------------------------------------------------
# Reading a PDF: text by PDFium when installed, structure (sizes, fonts) by pypdf.


_PDFIUM_LOCK = threading.RLock()  # PDFium is not thread-safe


def _unembedded(page: PageObject, raw: _RawObjects | None = None) -> tuple[str, ...]:
    """The fonts a page uses without carrying them (Type 3 fonts are drawn by the PDF itself).

    A font whose objects have the same bytes as one judged before is not parsed again (``raw``):
    the pieces of a shape share their fonts, and parsing a font's widths cost a fifth of the check.
    """
    fonts = (page.get("/Resources") or {}).get("/Font") or {}
    missing = []
    for name, ref in fonts.items():
        key = raw.key(ref.idnum, str(name)) if raw is not None and isinstance(ref, IndirectObject) else None
        found = _FONTS.get(key) if key is not None else None
        if found is None:
            found = (_missing_font(ref.get_object(), str(name)),)
            if key is not None and len(_FONTS) < 1024:
                _FONTS[key] = found
        if found[0] is not None:
            missing.append(found[0])
    return tuple(missing)


def _missing_font(font: Any, name: str) -> str | None:
    """The font's name when it is neither a Type 3 font nor carries its program; None when it is fine."""
    if font.get("/Subtype") == "/Type3":
        return None
    if "/DescendantFonts" in font:
        descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
    else:
        descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
        return str(font.get("/BaseFont", name))
    return None


_FONTS: dict[bytes, tuple[str | None]] = {}  # a font's objects' bytes -> what _missing_font said of them
_OBJECT_REFERENCE = re.compile(rb"(?<![\d.])(\d+) (\d+) R\b")
_STREAM_START = re.compile(rb">>\s*stream\r?\n")
# An object's dictionary as written -> the references in it (number, generation): the fonts of a shape's
# pieces are written alike, and finding the references in a font's widths was most of the cost of its key.
_REFERENCES: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}


def _references(head: bytes) -> tuple[tuple[bytes, bytes], ...]:
    found = _REFERENCES.get(head)
    if found is None:
        found = tuple((match.group(1), match.group(2)) for match in _OBJECT_REFERENCE.finditer(head))
        if len(_REFERENCES) < 1024:
            _REFERENCES[head] = found
    return found


class _RawObjects:
    """A PDF's objects as written, found by its cross-reference table: enough to tell two fonts' objects apart by their bytes."""

    def __init__(self, pdf: bytes, offsets: dict[int, int]) -> None:
        self.pdf = pdf
        self.offsets = offsets

    def key(self, number: int, name: str) -> bytes | None:
        """A digest of the bytes of object ``number`` and every object its dictionaries reach (not stream data); None when unsure."""
        seen, todo, digest = {number}, [number], hashlib.sha256(name.encode())
        while todo:
            current = todo.pop()
            offset = self.offsets.get(current)
            if offset is None or len(seen) > 32 or not self.pdf.startswith(b"%d 0 obj" % current, offset):
                return None  # in an object stream, a table that misplaces it, or a font that reaches too much
            end = self.pdf.find(b"endobj", offset)
            if end < 0:
                return None
            body = self.pdf[offset:end]
            found = _STREAM_START.search(body)
            head = body if found is None else body[:found.end()]
            digest.update(b"%d\n" % len(head) + head)
            for reference, generation in _references(head):
                if generation != b"0":
                    return None  # only objects of generation 0 are looked up here
                child = int(reference)
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return digest.digest()


def _raw_objects(pdf: bytes, reader: PdfReader) -> _RawObjects | None:
    """The objects of a PDF with a plain cross-reference table (no object streams), else None."""
    xref = getattr(reader, "xref", None)
    if not isinstance(xref, dict) or getattr(reader, "xref_objStm", None):
        return None
    return _RawObjects(pdf, dict(xref.get(0, {})))


def _outside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    left, bottom, right, top = box
    return left < MARGIN or bottom < MARGIN or right > width - MARGIN or top > height - MARGIN


def _where(text: str, box: tuple[float, float, float, float], height: float) -> str:
    return f"{text.strip()[:40]!r} at ({box[0] / 72:.2f} in, {(height - box[3]) / 72:.2f} in from the top)"


def page_key(page: PageObject) -> bytes:
    """A digest of a page's dictionary, references and all but its parent: in one file, pages alike in it draw the same."""
    return hashlib.sha256(repr(sorted((str(k), repr(v)) for k, v in page.items() if k != "/Parent")).encode()).digest()


def _pypdf_text(page: PageObject, width: float, height: float) -> PageRead:
    """Text and out-of-area runs with pypdf (used when PDFium is not installed, or cannot read the file)."""
    outside: list[str] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float) -> None:
        shown = text.strip()
        if not shown:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        em = size * (abs(tm[0] * cm[0]) or abs(tm[1] * cm[1]) or 1.0)
        # pypdf gives no widths here: a run's width is estimated low (0.3 em a character) so only a real overflow shows.
        box = (x, y - 0.2 * em, x + 0.3 * em * len(shown), y + 0.7 * em)
        if _outside(box, width, height):
            outside.append(_where(shown, box, height))

    return page.extract_text(visitor_text=visit) or "", tuple(outside)


class _Refused(Exception):
    """PDFium cannot load a page or its text: the file is read as PDFium refused it."""


def _pdfium_text(document: Any, index: int, width: float, height: float) -> PageRead:  # pypdfium2 has no type hints
    """Text and out-of-area text boxes with PDFium: exact boxes, and about four times faster than pypdf.

    PDFium's own calls, made as pypdfium2's page and text page objects make them (tests/test_check_reading.py
    holds the two to the same text and boxes): those objects' bookkeeping (a finalizer per handle, a
    call per box) cost a tenth of the check, and nothing here outlives the call.
    """
    page = pdfium.FPDF_LoadPage(document, index)
    if not page:
        raise _Refused
    try:
        textpage = pdfium.FPDFText_LoadPage(page)
        if not textpage:
            raise _Refused
        try:
            text = _page_text(textpage).replace("\r\n", "\n")
            count = pdfium.FPDFText_CountRects(textpage, 0, -1)
            if count == -1:
                raise _Refused
            left, top, right, bottom = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
            outside = []
            for i in range(count):
                if not pdfium.FPDFText_GetRect(textpage, i, left, top, right, bottom):
                    raise _Refused
                box = (left.value, bottom.value, right.value, top.value)
                if _outside(box, width, height):
                    shown = _bounded_text(textpage, box)
                    if shown.strip():
                        outside.append(_where(shown, box, height))
            return text, tuple(outside)
        finally:
            pdfium.FPDFText_ClosePage(textpage)
    finally:
        pdfium.FPDF_ClosePage(page)


def _page_text(textpage: Any) -> str:
    """All the text of a text page, as pypdfium2's ``get_text_range()`` gives it."""
    count = pdfium.FPDFText_CountChars(textpage)
    if count == -1:
        raise _Refused
    # Characters PDFium leaves out of the text (crbug.com/pdfium/2079) are dropped from either end of
    # the range first, or PDFium reads past it.
    first, last = 0, count - 1
    while first <= last:
        start = pdfium.FPDFText_GetTextIndexFromCharIndex(textpage, first)
        if start == -1:
            first += 1
            continue
        end = pdfium.FPDFText_GetTextIndexFromCharIndex(textpage, last)
        if end == -1:
            last -= 1
            continue
        buffer = (ctypes.c_ushort * (end + 2 - start))()
        written = pdfium.FPDFText_GetText(textpage, first, last + 1 - first, buffer)
        return codecs.decode(memoryview(buffer)[:written - 1], "utf-16-le", errors="ignore")
    return ""


def _bounded_text(textpage: Any, box: tuple[float, float, float, float]) -> str:
    """The text PDFium finds inside ``box`` (left, bottom, right, top), as pypdfium2's ``get_text_bounded`` gives it."""
    left, bottom, right, top = box
    size = pdfium.FPDFText_GetBoundedText(textpage, left, top, right, bottom, None, 0)
    if size <= 0:
        return ""
    buffer = (ctypes.c_ushort * size)()
    pdfium.FPDFText_GetBoundedText(textpage, left, top, right, bottom, buffer, size)
    return codecs.decode(buffer, "utf-16-le", errors="ignore")


def pypdf_room(pages: int) -> contextlib.AbstractContextManager[Any]:
    """pypdf's configuration with room for a file of ``pages`` pages, in its page tree and in the array of its kids.

    pypdf reads at most 100,000 of either, and a print file of 30,000 pieces has 120,000 pages: room for the pages
    the file was read to hold (plainly, without pypdf), and no more. Where this pypdf has no such configuration,
    it reads as it always did.
    """
    apply = getattr(pypdf, "apply_configuration", None)
    if apply is None:
        return contextlib.nullcontext()
    now = pypdf.get_configuration()
    return apply(page_tree_maximum_entries=max(now.page_tree_maximum_entries, pages + 1),  # type: ignore[no-any-return]
                 array_maximum_element_count=max(now.array_maximum_element_count, pages))


def page_reader(reader: PdfReader, pdf: bytes) -> tuple[int, Callable[[int], PageObject]]:
    """How many pages ``reader``'s file has, and page ``index`` of it, read when asked for.

    pypdf reads every page of the tree before it gives the first, holding 6.6 KB a page (800 MB for a
    print file of 30,000 pieces); a plain file's pages (plainpdf.py: one /Pages node that passes them
    nothing) are read one at a time from their objects, the same dictionaries.
    """
    plain = read_plain(pdf, 0)
    if plain is None:
        return len(reader.pages), reader.pages.__getitem__
    numbers = plain.page_numbers

    def page(index: int) -> PageObject:
        found = PageObject(reader, IndirectObject(numbers[index], 0, reader))
        own = reader.get_object(numbers[index]) if not found else None
        if isinstance(own, DictionaryObject):  # a pypdf that does not read the page's own entries from its reference
            found.update(own)
        return found

    return len(numbers), page


def read_pdf(pdf: bytes, file: str = "") -> PdfText:
    """Read a PDF's pages once (text by PDFium when installed, structure by pypdf); unreadable is an input error."""
    return PdfText(read_pages(pdf, file))


def read_pages(pdf: bytes, file: str = "", first: int | None = None) -> list[PageFacts]:
    """The facts of each page (or of the ``first`` pages), read from the bytes; a page drawn again later is read once.

    A plain file (what render writes, plainpdf.py) has its structure read without pypdf; the facts
    are the ones pypdf's reading gives (``read_pages_in_full``), which tests/test_check_reading.py holds it to.
    """
    facts = _read_plain(pdf, first)
    return facts if facts is not None else read_pages_in_full(pdf, file, first)


def plain_page_key(page: PlainPage) -> bytes:
    """A plain file's page as written, but for its object number: pages written alike draw the same."""
    return page.body


def _read_plain(pdf: bytes, first: int | None) -> list[PageFacts] | None:
    """The facts of a plain file's pages, or None when pypdf must read the file.

    None too when one of its fonts cannot be judged from the subset plainpdf reads, or when PDFium
    refuses the file (pypdf then reads the text).
    """
    plain = read_plain(pdf, first)
    if plain is None:
        return None
    return _plain_facts(pdf, _RawObjects(pdf, plain.offsets), plain, plain.pages, 0, {})


def iter_pages(pdf: bytes, file: str = "") -> Iterator[PageFacts]:
    """``read_pages``'s facts of every page, read a window of pages at a time: a print file's are never all held.

    A page written alike to one read shortly before is not read again. Should a later window leave
    the plain subset, the rest is read by pypdf, as ``read_pages`` reads a file that is not plain.
    """
    plain = read_plain(pdf, 0)
    if plain is None:
        yield from read_pages_in_full(pdf, file)
        return
    raw = _RawObjects(pdf, plain.offsets)
    known: dict[bytes, PageFacts] = {}
    for start in range(0, len(plain.page_numbers), _WINDOW):
        window = plain.pages_between(start, start + _WINDOW)
        facts = None if window is None else _plain_facts(pdf, raw, plain, window, start, known)
        if facts is None:
            yield from read_pages_in_full(pdf, file)[start:]
            return
        yield from facts
        if len(known) > _KNOWN_PAGES:
            known.clear()  # the pages every piece repeats are read again soon enough
        give_back()


_WINDOW = 4096  # pages read at a time: a print file's statements differ, the rest repeat, so about 1,024 read by PDFium
_KNOWN_PAGES = 4096


def give_back() -> None:
    """Hand the C heap's free memory back to the system (glibc): what PDFium parsed and freed at each close otherwise
    stays in the process, 2 MB more at each opening of a large print file (330 MB, not 110, after 30,000 pieces)."""
    if _TRIM is not None:
        _TRIM(0)


def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: its allocator keeps its own ways
        return None


_TRIM = _malloc_trim()


def _plain_facts(pdf: bytes, raw: _RawObjects, plain: PlainPdf, pages: Sequence[PlainPage], start: int,
                 known: dict[bytes, PageFacts]) -> list[PageFacts] | None:
    """The facts of ``pages``, the file's pages from ``start`` on; a page written alike to one in ``known`` (by
    ``plain_page_key``), or to one before it here, is not read again. None when pypdf must read the file."""
    keys = [plain_page_key(page) for page in pages]
    todo: list[int] = []  # the first page here of each key not known
    for i, key in enumerate(keys):
        if key not in known:
            known[key] = _UNREAD
            todo.append(i)
    unembedded: dict[int, tuple[str, ...]] = {}
    for i in todo:
        missing = []
        for name, number in pages[i].fonts:
            font = raw.key(number, name)
            if font is None:
                return None
            found = _FONTS.get(font)
            if found is None:
                found = plain.unembedded(number, name)
                if found is None:
                    return None
                if len(_FONTS) < 1024:
                    _FONTS[font] = found
            if found[0] is not None:
                missing.append(found[0])
        unembedded[i] = tuple(missing)
    sizes = {start + i: (pages[i].width, pages[i].height) for i in todo}
    read = read_pdfium(pdf, [start + i for i in todo], sizes) if todo else {}
    if len(read) != len(todo):
        return None
    for i in todo:
        text, outside = read[start + i]
        known[keys[i]] = PageFacts(text, pages[i].width, pages[i].height, outside, unembedded[i])
    return [known[key] for key in keys]


_UNREAD = PageFacts("", 0.0, 0.0)  # a key met in this window, its page read below


def read_pages_in_full(pdf: bytes, file: str = "", first: int | None = None) -> list[PageFacts]:
    """``read_pages`` of any PDF: its structure (sizes, fonts) read by pypdf; unreadable or encrypted is an input error."""
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # pypdf's repair notes ("EOF marker not found") are not the clerk's concern
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise InputError("The PDF is encrypted; the check needs to read its text", file=file or None)
        pages = list(reader.pages)[:first]
        raw = _raw_objects(pdf, reader)
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages]
        # A print file repeats the blank page and the inserts' pages. A key names objects by their
        # number in this file, so it holds for this reading only.
        keys = [page_key(p) for p in pages]
        original: dict[bytes, int] = {}  # per key, the first page that has it
        for i, key in enumerate(keys):
            original.setdefault(key, i)
        todo = [i for i, key in enumerate(keys) if original[key] == i]
        read: dict[int, PageRead] = {}
        if todo:
            read = read_pdfium(pdf, todo, sizes)
            for i in todo:
                if i not in read:
                    read[i] = _pypdf_text(pages[i], *sizes[i])
        facts: list[PageFacts] = []
        for i, page in enumerate(pages):
            if i in read:
                text, outside = read[i]
                facts.append(PageFacts(text, sizes[i][0], sizes[i][1], outside, _unembedded(page, raw)))
            else:
                facts.append(facts[original[keys[i]]])
    except InputError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError, NotImplementedError) as exc:
        # NotImplementedError: pypdf has no decoder for a stream's filter (a damaged or exotic file)
        raise InputError(f"Not a readable PDF ({type(exc).__name__}: {exc})", file=file or None) from None
    finally:
        quiet.setLevel(level)
    return facts


@functools.lru_cache(maxsize=8)
def shared_pages(pdf: bytes) -> tuple[PageFacts, ...]:
    """The page facts of a PDF that every piece file carries (an insert): read once per process."""
    return tuple(read_pages(pdf))


_PDFIUM_BATCH = 1024
"""Pages read per opening of a document: PDFium keeps every object it parsed until the document is closed, so
a print file is opened again every so many pages (reading its 16,000 pages at once held 180 MB more); each
opening costs the file's page tree again (0.4 to 0.6 s for a 120,000-page print file)."""


def read_pdfium(pdf: bytes, indexes: Sequence[int],
                sizes: Sequence[tuple[float, float]] | Mapping[int, tuple[float, float]]) -> dict[int, PageRead]:
    """The text of pages ``indexes`` by PDFium, or nothing when it refuses the file."""
    out: dict[int, PageRead] = {}
    with _PDFIUM_LOCK:
        for start in range(0, max(len(indexes), 1), _PDFIUM_BATCH):
            # ``pdf`` is PDFium's own buffer until the document is closed: it stays referenced here until then.
            document = pdfium.FPDF_LoadMemDocument64(pdf, len(pdf), None)
            if not document:
                return {}
            try:
                if pdfium.FPDF_GetPageCount(document) < 1:
                    return {}
                for i in indexes[start:start + _PDFIUM_BATCH]:
                    out[i] = _pdfium_text(document, i, *sizes[i])
            except Exception:  # noqa: BLE001 - PDFium refuses what pypdf may still read
                return {}
            finally:
                pdfium.FPDF_CloseDocument(document)
    return out


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page of a PDF, as the check reads it."""
    return [page.text for page in read_pdf(pdf).pages]
