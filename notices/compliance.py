"""Turn a composed piece or a finished PDF into findings: which mandated blocks are there, where, and in order.

The PDF check reads the text the PDF itself carries (not the template), so it works on any PDF,
including an insert designed in another program. Words are compared after folding what the
statute's typography and line breaking may change: quotes, apostrophes, dashes, line breaks and
hyphenation at line ends. ``notices check`` and ``notices render`` call the same entry point,
:func:`check_pdf`, so the two can never disagree: ``check`` reads the file's pages, ``render`` hands
over what the pages of the piece it just joined show, read from its parts (the statement once, the
blank page and the inserts once per process), and tests/test_check_fast.py holds the two to the
same report.

What is checked, document by document (a piece file holds the statement, padding and the inserts;
a print file is cut at each statement and checked piece by piece):

* each statement (and each form element with fixed words) verbatim and in statutory order; a
  statement that differs is shown as a word-level diff against the closest passage;
* each content duty present, from the ``expect`` phrases and profile facts the registry gives the
  block, looked for between the statements that come before and after it in statutory order;
* special duties named by a block's ``check``: the "Date" line followed by the notice date, the
  owner's name and the total, the itemized lines that sum to the total, the one-page summary;
* no statement of a block that is not in force on the date (or does not apply to the collector);
* each insert on a sheet of its own; page size, embedded fonts, no text outside the printable area.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import functools
import hashlib
import io
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import accumulate, chain, count, islice, repeat
from operator import add
from typing import Any, Literal, NamedTuple

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .compose import markers
from .errors import InputError
from .model import Block, Collector
from .resolve import Part, Plan

Severity = Literal["ok", "note", "error"]
LETTER = (612.0, 792.0)
MARGIN = 18.0  # 0.25 in: no text may be drawn closer to the sheet's edge (printers cannot reach it)
FUZZY = 0.5  # a passage sharing at least half of a statement's words is "the statement, reworded"
NEAR = 0.85  # a passage sharing this share of a statement not in force is that statement, slightly changed

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
_FOLDED = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")  # the characters _FOLD changes
_LIST_MARK = re.compile(r"^(?:\d{1,2}[.)]|[a-z][.)]|[•·*\-–o▪■●◦])$")
_TOTAL = re.compile(r"(?i)\btotal\b")
_DIGITS = re.compile(r"\d+")
_MONEY = re.compile(r"(-|\()?\s*(?:US)?\$\s?(\d{1,3}(?:,\d{3})+|\d+)\.(\d\d)\)?|(-)?(\d{1,3}(?:[.,]\d{3})+|\d+),(\d\d)\s?(?:US)?\$")
_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"], start=1)},
    **{m: i for i, m in enumerate(
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"], start=1)},
}
_DATE = (
    r"(?P<month>[A-Za-z]+)\.? (?P<day>\d{1,2}),? (?P<year>\d{4})"
    r"|(?P<day2>\d{1,2}) de (?P<month2>[a-z]+) de (?P<year2>\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{4})"
)


_OWNER = re.compile(
    r"(?<!\w)(?:owner on the tax roll|owner of record|owner's name|owner name|name of owner|(?:property )?owner\s*:"
    r"|propietario en el registro de impuestos|nombre del propietario|propietario\s*:)\s*:?\s*"
)


@dataclass(frozen=True)
class Finding:
    """One result of the check: a block (or a page fact), whether it is satisfied, where, and why not."""

    block: str
    citation: str
    status: Severity
    message: str
    page: int | None = None
    document: str = ""
    diff: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Words: folding, and the text of a PDF as one list of words that remember their page.


def fold(text: str) -> str:
    """Fold typography and line breaking so that only the words and their order remain."""
    return " ".join(_join_hyphenated(_typography(text).replace("\r\n", "\n")).split())


def _typography(text: str) -> str:
    """NFKC, then the quotes, dashes and spaces of _FOLD made plain."""
    # As .translate(_FOLD), which looks up every character; a text has few of these.
    return _FOLDED.sub(lambda m: _FOLD[ord(m.group())], unicodedata.normalize("NFKC", text))


def _join_hyphenated(text: str) -> str:
    """A word hyphenated at a line end made whole again."""
    return _HYPHEN_EOL.sub(r"\1\2", text) if _HYPHEN_BREAK.search(text) else text


def words(text: str) -> list[str]:
    """The folded words of ``text``; double quotes around words are only typography, so they go."""
    out = []
    for word in fold(text).split(" "):
        word = word.strip('"')
        if word:
            out.append(word)
    return out


@functools.lru_cache(maxsize=512)
def _words(text: str) -> tuple[str, ...]:
    """``words`` of a registry text, cached: the same statements are looked for in every piece."""
    return tuple(words(text))


class _Line(NamedTuple):
    words: tuple[str, ...]
    joined: str
    mark: bool  # list marks only ("1.", "•")
    key: str  # the furniture key: lower case, digits ignored


@functools.lru_cache(maxsize=4096)
def _line(raw: str) -> _Line:
    """One line of a page's text, folded: cached, as most lines of a statement are the same in every piece."""
    folded = tuple(words(raw))
    return _Line(folded, " ".join(folded), all(_LIST_MARK.match(w) for w in folded), _furniture_key(folded))


def _key(text: str) -> str:
    return " ".join(_words(text))


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
    starts: tuple[int, ...]  # where each word starts in " ".join(words)
    joined: str


@functools.lru_cache(maxsize=64)  # a statement page is seen once; the insert's pages stay
def _page_words(text: str) -> _PageWords:
    """What PdfText needs of one page, from its text alone."""
    folded = _join_hyphenated(_typography(text))
    page_lines = [line for line in map(_line, folded.splitlines()) if line.words]
    content = [i for i, line in enumerate(page_lines) if not line.mark]
    edges = sorted(set(content[:2] + content[-3:]))  # a running header or footer is a page's first or last lines
    keys = frozenset(line.key for line in map(_line, text.splitlines()) if len(line.words) >= 2)
    counts = [len(line.words) for line in page_lines]
    flat = list(chain.from_iterable(line.words for line in page_lines))
    # Word i starts after the i words before it and a space after each.
    starts = map(add, accumulate(map(len, flat), initial=0), count())
    return _PageWords(
        lines=tuple(line.joined for line in page_lines),
        line_starts=tuple(accumulate(counts, initial=0)),
        marks=tuple(chain.from_iterable(repeat(line.mark, n) for line, n in zip(page_lines, counts))),
        line_index=tuple(chain.from_iterable(repeat(i, n) for i, n in enumerate(counts))),
        edges=tuple((i, page_lines[i].key) for i in edges),
        keys=keys,
        line_keys=frozenset(line.key for line in page_lines),
        words=tuple(flat),
        starts=tuple(islice(starts, len(flat))),
        joined=" ".join(flat),
    )


class PdfText:
    """A PDF's pages and the folded words of all of them, each word tied to its page and line."""

    def __init__(self, pages: Sequence[PageFacts]) -> None:
        self.pages = list(pages)
        self.words: list[str] = []
        self.page_of: list[int] = []
        self.furniture: list[bool] = []
        self.line_of: list[int] = []
        self.lines: list[tuple[int, str]] = []  # (page, folded line)
        self.page_start: list[int] = []
        self.starts: list[int] = []
        analysed = [_page_words(page.text) for page in self.pages]
        repeated = self.repeated = _repeated_lines(analysed)
        self.line_keys = [page.line_keys for page in analysed]  # per page: the furniture keys of its lines
        at = 0  # where the page's first word starts in ``joined``
        for number, page in enumerate(analysed):
            first_word, first_line = len(self.words), len(self.lines)
            self.page_start.append(first_word)
            self.lines.extend(zip(repeat(number), page.lines))
            self.words.extend(page.words)
            self.page_of.extend(repeat(number, len(page.words)))
            self.line_of.extend(map(add, page.line_index, repeat(first_line)))
            self.furniture.extend(page.marks)
            for line, key in page.edges:
                if key in repeated:
                    lo, hi = page.line_starts[line], page.line_starts[line + 1]
                    self.furniture[first_word + lo:first_word + hi] = repeat(True, hi - lo)
            if page.words:
                self.starts.extend(map(add, page.starts, repeat(at)))
                at += len(page.joined) + 1
        self.page_start.append(len(self.words))
        self.joined = " ".join(page.joined for page in analysed if page.words)
        self.lower = self.joined.lower()
        self._padded = " " + self.joined + " "

    def word_at(self, char: int) -> int:
        """The index of the word that holds character ``char`` of ``joined``."""
        return max(0, bisect.bisect_right(self.starts, char) - 1)

    def char(self, word: int) -> int:
        return self.starts[word] if word < len(self.starts) else len(self.joined)

    def find(self, needle: Sequence[str], lo: int = 0, hi: int | None = None) -> int | None:
        """The first word index where the exact word sequence ``needle`` starts inside [lo, hi)."""
        hi = len(self.words) if hi is None else hi
        if not needle or lo >= hi:
            return None
        target = " " + " ".join(needle) + " "
        at = self._padded.find(target, self.char(lo))
        if at < 0:
            return None
        index = self.word_at(at)
        return index if index + len(needle) <= hi else None

    def search(self, pattern: re.Pattern[str], lo: int, hi: int) -> tuple[int, int] | None:
        """The first match of ``pattern`` in the lower-cased words [lo, hi): (first word, end word)."""
        match = pattern.search(self.lower, self.char(lo), max(self.char(lo), self.char(hi) - 1) if hi < len(self.words) else len(self.lower))
        if match is None:
            return None
        return self.word_at(match.start()), self.word_at(max(match.start(), match.end() - 1)) + 1

    def line_start(self, word: int) -> int:
        """The first word of the line ``word`` stands on."""
        line = self.line_of[word]
        while word > 0 and self.line_of[word - 1] == line:
            word -= 1
        return word

    def blank(self, page: int) -> bool:
        return self.page_start[page] == self.page_start[page + 1]

    def page_number(self, word: int) -> int | None:
        return self.page_of[word] + 1 if 0 <= word < len(self.page_of) else None


def _furniture_key(line: Sequence[str]) -> str:
    return _DIGITS.sub("#", " ".join(line).lower())


def _repeated_lines(pages: Sequence[_PageWords]) -> set[str]:
    """Lines (digits ignored) that appear on two pages or more: running headers and footers."""
    seen: dict[str, int] = {}
    for page in pages:
        for key in page.keys:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count >= 2}


_PDFIUM_LOCK = threading.RLock()  # PDFium is not thread-safe


def _unembedded(page: Any) -> tuple[str, ...]:
    """The fonts a page uses without carrying them (Type 3 fonts are drawn by the PDF itself)."""
    fonts = (page.get("/Resources") or {}).get("/Font") or {}
    missing = []
    for name, ref in fonts.items():
        font = ref.get_object()
        if font.get("/Subtype") == "/Type3":
            continue
        if "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        else:
            descriptor = font.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else None
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.append(str(font.get("/BaseFont", name)))
    return tuple(missing)


def _outside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    left, bottom, right, top = box
    return left < MARGIN or bottom < MARGIN or right > width - MARGIN or top > height - MARGIN


def _where(text: str, box: tuple[float, float, float, float], height: float) -> str:
    return f"{text.strip()[:40]!r} at ({box[0] / 72:.2f} in, {(height - box[3]) / 72:.2f} in from the top)"


def _page_key(page: Any) -> bytes:
    """A digest of a page's dictionary, references and all but its parent: in one file, pages alike in it draw the same."""
    return hashlib.sha256(repr(sorted((str(k), repr(v)) for k, v in page.items() if k != "/Parent")).encode()).digest()


def _pypdf_text(page: Any, width: float, height: float) -> tuple[str, tuple[str, ...]]:
    """Text and out-of-area runs with pypdf (used when PDFium is not installed, or cannot read the file)."""
    outside: list[str] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: Any, size: float) -> None:
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


def _pdfium_text(document: Any, index: int, width: float, height: float) -> tuple[str, tuple[str, ...]]:
    """Text and out-of-area text boxes with PDFium: exact boxes, and about four times faster than pypdf."""
    page = document[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range().replace("\r\n", "\n")
        outside = []
        for i in range(textpage.count_rects()):
            box = textpage.get_rect(i)
            if _outside(box, width, height):
                shown = textpage.get_text_bounded(*box)
                if shown.strip():
                    outside.append(_where(shown, box, height))
        return text, tuple(outside)
    finally:
        textpage.close()
        page.close()


def read_pdf(pdf: bytes, file: str = "") -> PdfText:
    """Read a PDF's pages once (text by PDFium when installed, structure by pypdf); unreadable is an input error."""
    return PdfText(read_pages(pdf, file))


def read_pages(pdf: bytes, file: str = "", first: int | None = None) -> list[PageFacts]:
    """The facts of each page (or of the ``first`` pages), read from the bytes; a page drawn again later is read once."""
    quiet = logging.getLogger("pypdf")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # pypdf's repair notes ("EOF marker not found") are not the clerk's concern
    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted:
            raise InputError("The PDF is encrypted; the check needs to read its text", file=file or None)
        pages = list(reader.pages)[:first]
        sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in pages]
        # A print file repeats the blank page and the inserts' pages. A key names objects by their
        # number in this file, so it holds for this reading only.
        keys = [_page_key(p) for p in pages]
        first: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        todo = [i for i, key in enumerate(keys) if first[key] == i]
        read: dict[int, tuple[str, tuple[str, ...]]] = {}
        if todo:
            read = _read_pdfium(pdf, todo, sizes)
            for i in todo:
                if i not in read:
                    read[i] = _pypdf_text(pages[i], *sizes[i])
        facts: list[PageFacts] = []
        for i, page in enumerate(pages):
            if i in read:
                text, outside = read[i]
                facts.append(PageFacts(text, sizes[i][0], sizes[i][1], outside, _unembedded(page)))
            else:
                facts.append(facts[first[keys[i]]])
    except InputError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError) as exc:
        raise InputError(f"Not a readable PDF ({type(exc).__name__}: {exc})", file=file or None) from None
    finally:
        quiet.setLevel(level)
    return facts


@functools.lru_cache(maxsize=8)
def shared_pages(pdf: bytes) -> tuple[PageFacts, ...]:
    """The page facts of a PDF that every piece file carries (an insert): read once per process."""
    return tuple(read_pages(pdf))


def _read_pdfium(pdf: bytes, indexes: Sequence[int], sizes: Sequence[tuple[float, float]]) -> dict[int, tuple[str, tuple[str, ...]]]:
    try:
        import pypdfium2
    except ImportError:  # pragma: no cover - the pypdf path reads the same words
        return {}
    out: dict[int, tuple[str, tuple[str, ...]]] = {}
    with _PDFIUM_LOCK:
        try:
            document = pypdfium2.PdfDocument(pdf)
        except Exception:  # noqa: BLE001 - PDFium refuses what pypdf may still read
            return {}
        try:
            for i in indexes:
                out[i] = _pdfium_text(document, i, *sizes[i])
        except Exception:  # noqa: BLE001
            return {}
        finally:
            document.close()
    return out


# --------------------------------------------------------------------------------------------
# Compatibility helpers (older callers and tests use them).


def page_texts(pdf: bytes) -> list[str]:
    return [page.text for page in read_pdf(pdf).pages]


def find_words(needle: str, pages: Sequence[str]) -> tuple[int, int] | None:
    """Where the folded words of ``needle`` stand in the pages: (page index, word offset in the whole text)."""
    text = PdfText([PageFacts(t, *LETTER) for t in pages])
    at = text.find(words(needle))
    return None if at is None else (text.page_of[at], at)


def errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "error"]


# --------------------------------------------------------------------------------------------
# The composed HTML (before rendering): markers only.


def check_composed(html: str, part: Part) -> list[Finding]:
    """The composed HTML carries exactly the blocks in force, each once, in statutory order."""
    found = markers(html)
    expected = list(part.block_ids)
    findings: list[Finding] = []
    for block in part.blocks:
        count = found.count(block.id)
        if count == 0 and not block.optional:
            findings.append(Finding(block.id, block.citation, "error", "the template does not print this block"))
        elif count > 1:
            findings.append(Finding(block.id, block.citation, "error", f"printed {count} times"))
    for extra in sorted(set(found) - set(expected)):
        findings.append(Finding(extra, "", "error", "the template prints a block that is not in force or does not apply"))
    present = [b for b in found if b in expected]
    if not findings and present != [b for b in expected if b in present]:
        findings.append(Finding(part.document.id, "", "error", "blocks are out of statutory order: " + " ".join(present)))
    return findings


# --------------------------------------------------------------------------------------------
# Statements: exact, or the closest passage with a word-level diff.


def _verbatim(block: Block) -> bool:
    """Blocks whose words are fixed: statements, and form elements with words (the "Date" line has its own check)."""
    return bool(block.text) and block.kind in ("statement", "form") and block.check != "date-line"


def closest(needle: Sequence[str], text: PdfText, lo: int, hi: int) -> tuple[int, int, float] | None:
    """The passage of [lo, hi) closest to ``needle``: (first word, end word, share of needle's words matched)."""
    hay = text.words[lo:hi]
    if not hay or not needle:
        return None
    folded_hay = [w.lower() for w in hay]
    matcher = difflib.SequenceMatcher(None, [w.lower() for w in needle], folded_hay, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return None
    span = int(len(needle) * 1.5) + 2
    best: tuple[int, int, int] | None = None  # (matched, first block, last block)
    for i, first in enumerate(blocks):
        matched = 0
        last = i
        for j in range(i, len(blocks)):
            if blocks[j].b + blocks[j].size - first.b > span:
                break
            matched += blocks[j].size
            last = j
        if best is None or matched > best[0]:
            best = (matched, i, last)
    assert best is not None
    matched, i, j = best
    start = max(0, blocks[i].b - blocks[i].a)
    end = min(len(hay), blocks[j].b + blocks[j].size + (len(needle) - blocks[j].a - blocks[j].size))
    # A second, local match over just the passage gives the true share of words in place.
    local = difflib.SequenceMatcher(None, list(needle), hay[start:end], autojunk=False)
    share = sum(b.size for b in local.get_matching_blocks()) / len(needle)
    return lo + start, lo + end, share


def word_diff(expected: Sequence[str], found: Sequence[str]) -> str:
    """A compact word-level diff: ``- owner + proprietor`` for each place the words differ."""
    parts = []
    matcher = difflib.SequenceMatcher(None, list(expected), list(found), autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        change = []
        if a2 > a1:
            change.append("- " + " ".join(expected[a1:a2]))
        if b2 > b1:
            change.append("+ " + " ".join(found[b1:b2]))
        parts.append(" ".join(change))
    return "; ".join(parts)


def _longest_in_order(positions: Sequence[tuple[str, int]]) -> set[str]:
    """Ids of the longest run of blocks whose positions rise in statutory order (ties: the lowest ends)."""
    n = len(positions)
    if not n:
        return set()
    tails: list[int] = []  # index into positions of the smallest tail of each length
    back = [-1] * n
    for i, (_, pos) in enumerate(positions):
        k = bisect.bisect_left([positions[t][1] for t in tails], pos)
        back[i] = tails[k - 1] if k else -1
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    keep = set()
    i = tails[-1]
    while i >= 0:
        keep.add(positions[i][0])
        i = back[i]
    return keep


# --------------------------------------------------------------------------------------------
# Content: expectations (phrases and profile facts), the "Date" line, figures, the one-page summary.


@functools.lru_cache(maxsize=1024)
def _fact_pattern(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if 10 <= len(digits) <= 11 and re.fullmatch(r"[\d\s().+\-]+", value):
        d = digits[-10:]
        return rf"(?<!\d)(?:1[\s.\-]?)?\(?{d[:3]}\)?[\s.\-]?{d[3:6]}[\s.\-]?{d[6:]}(?!\d)"
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", value.strip().lower()).rstrip("/")
    if re.fullmatch(r"[a-z0-9.\-]+\.[a-z]{2,}(?:/\S*)?", host):
        # A web address may be broken at a slash or a dot at the end of a line.
        return r"(?:https?://)?(?:www\.)?" + "".join(re.escape(ch) + (r"\s?" if ch in "/." else "") for ch in host)
    return _phrase_pattern(value)


@functools.lru_cache(maxsize=1024)
def _phrase_pattern(value: str) -> str:
    """The words of ``value``, lower case, any spaces between them, beginning a word (not right after a \\w character)."""
    folded = [w.lower() for w in words(value)]
    if not folded:
        return r"(?<!\w)"
    # "(?<!\w)x" tested after the x, as "x(?<!\w.)" (x is never a line break): the same matches, but re
    # finds a pattern that begins with a character quickly, and tries one that begins with a look-behind
    # at every position.
    first = folded[0]
    return (re.escape(first[0]) + r"(?<!\w.)" + re.escape(first[1:])
            + "".join(r"\s+" + re.escape(w) for w in folded[1:]))


def requirement(spec: str, collector: Collector) -> tuple[re.Pattern[str], str] | None:
    """A requirement of a block's ``expect`` list as a pattern, or None when every alternative is an absent fact.

    ``spec`` holds alternatives separated by ``|``; ``{dotted.path}`` is a fact of the collector
    profile (a phone number matches however it is punctuated, a web address with or without
    ``https://www.``), anything else is a phrase that must begin a word (``foreclos`` finds
    foreclosure).
    """
    alternatives: list[str] = []
    shown: list[str] = []
    for alt, fact in _alternatives(spec):
        if fact:
            value = collector.get(fact)
            if value is None or isinstance(value, (dict, list)) or not str(value).strip():
                continue
            alternatives.append(_fact_pattern(str(value)))
            shown.append(str(value))
        else:
            alternatives.append(_phrase_pattern(alt))
            shown.append(f"“{alt}”")
    if not alternatives:
        return None
    return re.compile("|".join(f"(?:{a})" for a in alternatives)), " or ".join(shown)


@functools.lru_cache(maxsize=1024)
def _alternatives(spec: str) -> tuple[tuple[str, str], ...]:
    """The alternatives of a requirement: (phrase, "") or (alternative, dotted path of the profile fact it names)."""
    out = []
    for alt in (a.strip() for a in spec.split("|")):
        fact = re.fullmatch(r"\{([\w.]+)\}", alt)
        if alt:
            out.append((alt, fact.group(1) if fact else ""))
    return tuple(out)


def _parse_date(match: re.Match[str]) -> dt.date | None:
    g = match.groupdict()
    try:
        if g.get("iso"):
            return dt.date.fromisoformat(g["iso"])
        if g.get("y3"):
            return dt.date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
        month = g.get("month") or g.get("month2") or ""
        number = _MONTHS.get(month.lower()) or _MONTHS.get(month.lower()[:3], 0)
        if not number:
            for name, value in _MONTHS.items():
                if len(month) >= 3 and name.startswith(month.lower()):
                    number = value
                    break
        day = g.get("day") or g.get("day2")
        year = g.get("year") or g.get("year2")
        return dt.date(int(year), number, int(day)) if number and day and year else None
    except ValueError:
        return None


def money_amounts(line: str) -> list[Decimal]:
    """The dollar amounts a line of text shows, in order ($1,234.56, -$5.00, ($5.00), 1.234,56 US$)."""
    amounts: list[Decimal] = []
    if "$" not in line:
        return amounts  # every form the pattern knows has a dollar sign
    for m in _MONEY.finditer(line):
        try:
            if m.group(2) is not None:
                value = Decimal(m.group(2).replace(",", "") + "." + m.group(3))
                negative = bool(m.group(1))
            else:
                value = Decimal(re.sub(r"[.,]", "", m.group(5)) + "." + m.group(6))
                negative = bool(m.group(4))
        except InvalidOperation:
            continue
        amounts.append(-value if negative else value)
    return amounts


# --------------------------------------------------------------------------------------------
# What a PDF is held against, and the report.


@dataclass(frozen=True)
class Target:
    """What a PDF is checked against: the collector, the law in force on the date, and what a record must show."""

    collector: Collector
    plan: Plan
    must_show: tuple[tuple[str, str, str], ...] = ()  # (block, label, text) from the record, when it is known
    first_advertisement: dt.date | None = None

    @property
    def day(self) -> dt.date:
        return self.plan.day

    @property
    def duplex(self) -> bool:
        return bool(self.collector.get("print.duplex", True))


@dataclass
class Span:
    """Where one document of the mailing stands in the PDF: a range of words and its pages."""

    part: Part
    lo: int
    hi: int
    first_page: int
    last_page: int
    shared: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"document": self.part.document.id, "title": self.part.document.title,
                "first_page": self.first_page + 1, "last_page": self.last_page + 1}


@dataclass
class Report:
    """The findings for one PDF, with the documents found in it."""

    file: str
    pages: int
    documents: list[Span] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not errors(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return errors(self.findings)

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "ok": self.ok, "pages": self.pages,
                "documents": [d.to_dict() for d in self.documents],
                "findings": [f.to_dict() for f in self.findings]}


def _document_citation(part: Part) -> str:
    """The citation of a document as a whole: the common stem of its blocks' citations (§ 14-812(b))."""
    cites = [b.citation for b in part.blocks] or [""]
    code = cites[0].split("§")[0]
    cites = [c for c in cites if c.startswith(code)]  # a local code's block (City Code Art. 28) does not change the stem
    stem = cites[0]
    for cite in cites[1:]:
        while not cite.startswith(stem):
            stem = stem[:-1]
    return stem[: stem.rfind(")") + 1] if ")" in stem and stem not in cites else stem.rstrip("(")


class _Checker:
    def __init__(self, text: PdfText, target: Target) -> None:
        self.text = text
        self.target = target
        self.findings: list[Finding] = []
        self._evidence: dict[str, list[tuple[int, int]]] = {}
        self._reworded: dict[str, int] = {}  # statements found only as a near copy: where they stand

    def add(self, block: Block | str, status: Severity, message: str, word: int | None = None, *,
            document: str = "", citation: str = "", diff: str = "", page: int | None = None) -> None:
        block_id = block.id if isinstance(block, Block) else block
        cite = block.citation if isinstance(block, Block) else citation
        if page is None and word is not None:
            page = self.text.page_number(word)
        self.findings.append(Finding(block_id, cite, status, message, page, document, diff))

    # ---- documents in the PDF

    def evidence(self, part: Part) -> list[tuple[int, int]]:
        """Word ranges where the document's fixed words stand (exactly or nearly): it is in this PDF."""
        if part.document.id not in self._evidence:
            self._evidence[part.document.id] = self._find_evidence(part)
        return self._evidence[part.document.id]

    def _find_evidence(self, part: Part) -> list[tuple[int, int]]:
        found = []
        for block in part.blocks:
            if _verbatim(block):
                needle = list(_words(block.text))
                at = self.text.find(needle)
                if at is not None:
                    found.append((at, at + len(needle)))
                    continue
                near = closest(needle, self.text, 0, len(self.text.words)) if len(needle) >= 6 else None
                if near and near[2] >= 0.6:
                    found.append((near[0], near[1]))
            elif block.check == "date-line":
                hit = self.date_line(0, len(self.text.words))
                if hit:
                    found.append((hit[0], hit[0] + 1))
        if not any(_verbatim(b) for b in part.blocks):
            # A document with no fixed words (the § 4-201.1 insert) is known by all of its content at once.
            hits = []
            for block in part.blocks:
                for spec in block.expect if not block.optional else ():
                    req = requirement(spec, self.target.collector)
                    hit = self.text.search(req[0], 0, len(self.text.words)) if req else None
                    if req and hit is None:
                        return []
                    if hit:
                        hits.append(hit)
            found = sorted(hits)
        return sorted(found)

    def starts(self, part: Part) -> list[int]:
        """The pages where the document's first fixed words stand: more than one, and this is a print file."""
        block = next((b for b in part.blocks if _verbatim(b)), None)
        if block is None:
            return [0]
        needle, pages, at = list(_words(block.text)), [], 0
        while (found := self.text.find(needle, at)) is not None:
            if self.text.page_of[found] not in pages:
                pages.append(self.text.page_of[found])
            at = found + len(needle)
        return pages or [0]

    def split(self, parts: Sequence[Part]) -> list[Span]:
        """Cut the PDF into the documents found in it, in mailing order, at page boundaries where possible."""
        text = self.text
        npages = len(text.pages)
        found = [(part, ev) for part in parts if (ev := self.evidence(part))]
        if len(found) <= 1:
            part = found[0][0] if found else parts[0]
            return [Span(part, 0, len(text.words), 0, max(0, npages - 1))]
        owner: dict[int, int] = {}
        for k, (_, ev) in enumerate(found):
            for lo, hi in ev:
                owner.setdefault(text.page_of[lo], k)
                owner.setdefault(text.page_of[hi - 1], k)
        # A page with no fixed words (a statement's second page) belongs to the document whose
        # running header or footer it shares; a line every document shares says nothing.
        repeated = text.repeated
        keys = {p: set(ks & repeated) for p, ks in enumerate(text.line_keys)}
        per_doc: dict[int, set[str]] = {}
        for p, k in owner.items():
            per_doc.setdefault(k, set()).update(keys.get(p, set()))
        common = set.intersection(*per_doc.values()) if len(per_doc) > 1 else set()
        for p in range(npages):
            if p in owner or text.blank(p):
                continue
            mine = keys.get(p, set()) - common
            claims = {k for k, ks in per_doc.items() if ks & mine}
            if len(claims) == 1:
                owner[p] = claims.pop()
        spans: list[Span] = []
        start = 0
        shared = False
        for k, (part, ev) in enumerate(found):
            first_page = text.page_of[start] if start < len(text.words) else npages - 1
            if k == len(found) - 1:
                spans.append(Span(part, start, len(text.words), first_page, npages - 1, shared))
                break
            next_first = found[k + 1][1][0][0]
            before = [hi for _, hi in ev if hi <= next_first]
            pages = [p for p, o in owner.items() if o == k and p <= text.page_of[next_first]]
            pages += [text.page_of[hi - 1] for hi in before]
            last_page = max(pages) if pages else first_page
            if text.page_of[next_first] <= last_page:
                # The next document begins on this one's last page: cut after this one's last fixed words.
                end = max(before) if before else next_first
                last_page = text.page_of[max(start, end - 1)]
                shared = True
            else:
                # Pages claimed by nobody between two documents go to the later one: an insert's
                # first page is often its summary, with no fixed words of its own.
                end = text.page_start[last_page + 1]
                shared = False
            spans.append(Span(part, start, end, first_page, last_page))
            start = end
        return spans

    # ---- the checks of one document

    def document(self, span: Span) -> None:
        """Every block of one document: fixed words, order, content duties, named checks."""
        text, part, doc = self.text, span.part, span.part.document.id
        first_document = doc == self.target.plan.parts[0].document.id
        lo, hi = span.lo, span.hi
        # Statements and worded form elements: exact, in statutory order.
        placed: list[tuple[str, int]] = []
        ends: dict[str, tuple[int, int]] = {}
        for block in part.blocks:
            if _verbatim(block):
                needle = list(_words(block.text))
                at = text.find(needle, lo, hi)
                if at is None:
                    near = closest(needle, text, lo, hi)
                    if near and near[2] >= FUZZY:
                        diff = word_diff(needle, text.words[near[0]:near[1]])
                        self.add(block, "error", f"not verbatim: {diff}", near[0], document=doc, diff=diff)
                        self._reworded[block.id] = near[0]
                    else:
                        self.add(block, "error", "statement missing", document=doc)
                    continue
                placed.append((block.id, at))
                ends[block.id] = (at, at + len(needle))
            elif block.check == "date-line":
                hit = self.date_line(lo, hi)
                if hit is None:
                    self.add(block, "error", "no \"Date\" line followed by a date", document=doc)
                    continue
                at, shown = hit
                placed.append((block.id, at))
                ends[block.id] = (at, at + 1)
                if shown != self.target.day:
                    self.add(block, "error", f"the Date line shows {shown.isoformat()}, the notice date is "
                             f"{self.target.day.isoformat()}", at, document=doc)
                else:
                    self.add(block, "ok", f"Date: {shown.isoformat()}", at, document=doc)
        in_order = _longest_in_order(placed)
        by_id = {b.id: b for b in part.blocks}
        for block_id, at in placed:
            block = by_id[block_id]
            if block.check == "date-line":
                if block_id not in in_order:
                    self.add(block, "error", "out of statutory order", at, document=doc)
                continue
            if block_id in in_order:
                self.add(block, "ok", "verbatim, in order", at, document=doc)
            else:
                self.add(block, "error", "verbatim but out of statutory order", at, document=doc)
        anchors = sorted((by_id[b].order, ends[b]) for b, _ in placed if b in in_order)
        # Content duties, looked for between the blocks before and after them in statutory order.
        positions: dict[str, int] = {}
        content = [b for b in part.blocks if not _verbatim(b) and b.check != "date-line"]
        for block in content:
            region = self.region(block, anchors, lo, hi)
            self.content(block, region, span, positions)
        for block in content:
            if block.check == "one-page":
                self.one_page(block, span, anchors, positions)
        if self.target.must_show and first_document:
            for block_id, label, needle in self.target.must_show:
                if block_id not in by_id:
                    continue
                at = text.find(words(needle), lo, hi)
                if at is None:
                    at = self._find_folded_lower(needle, lo, hi)
                if at is None:
                    self.add(by_id[block_id], "error", f"from the roll: {label} {needle!r} not found in the PDF text", document=doc)
                else:
                    self.add(by_id[block_id], "ok", f"from the roll: {label} {needle}", at, document=doc)
        if self.target.first_advertisement is not None and first_document:
            self.advertisement(self.target.first_advertisement, part, doc, None)

    def _find_folded_lower(self, needle: str, lo: int, hi: int) -> int | None:
        hit = self.text.search(re.compile(_phrase_pattern(needle)), lo, hi)
        return hit[0] if hit else None

    def region(self, block: Block, anchors: Sequence[tuple[int, tuple[int, int]]], lo: int, hi: int) -> tuple[int, int]:
        start, end = lo, hi
        for order, (a, b) in anchors:
            if order < block.order:
                start = max(start, b)
            elif order > block.order:
                end = min(end, a)
                break
        return start, max(start, end)

    def content(self, block: Block, region: tuple[int, int], span: Span, positions: dict[str, int]) -> None:
        doc = span.part.document.id
        if block.check == "owner-total":
            self.owner_total(block, span)
            return
        if block.check == "itemized":
            self.itemized(block, span)
            return
        specs = [r for r in (requirement(s, self.target.collector) for s in block.expect) if r is not None]
        if not specs:
            if block.optional:
                self.add(block, "note", "optional: the collector may include it", document=doc)
            elif block.check != "one-page":
                self.add(block, "note", "no fixed content to look for: the collector chooses the words", document=doc)
            return
        missing = []
        hits: list[int] = []
        for pattern, shown in specs:
            hit = self.text.search(pattern, *region)
            if hit is None:
                missing.append(shown)
            else:
                hits.append(hit[0])
        if missing:
            elsewhere = [s for s in specs if s[1] in missing and self.text.search(s[0], span.lo, span.hi)]
            where = " (found elsewhere in the document, out of statutory order)" if elsewhere and len(elsewhere) == len(missing) else ""
            self.add(block, "error", "not found: " + "; ".join(missing) + where, document=doc)
            return
        first = min(hits)
        # Where the block begins, as a boundary for the summary before it: the line of its first (most
        # telling) requirement, heading included ("Questions? The Tax Sale Ombudsman can help").
        positions[block.id] = max(region[0], self.text.line_start(hits[0]))
        if block.check != "one-page":
            self.add(block, "ok", "present: " + "; ".join(s for _, s in specs), first, document=doc)

    def one_page(self, block: Block, span: Span, anchors: Sequence[tuple[int, tuple[int, int]]], positions: dict[str, int]) -> None:
        """The summary begins and ends on one page: from its first words to the last words before the next block."""
        doc = span.part.document.id
        if block.id not in positions and block.expect:
            return  # already reported missing
        text = self.text
        start = span.lo
        later = [a for order, (a, _) in anchors if order > block.order]
        later += [pos for bid, pos in {**positions, **self._reworded}.items()
                  if bid != block.id and self._order(span, bid) > block.order]
        first_word = next((w for w in range(start, span.hi) if not text.furniture[w]), start)
        later = [pos for pos in later if pos > first_word]
        end = min(later) if later else span.hi
        body = [w for w in range(start, end) if not text.furniture[w]]
        if not body:
            self.add(block, "error", "summary not found", document=doc)
            return
        first, last = text.page_of[body[0]], text.page_of[body[-1]]
        if first != last:
            self.add(block, "error", f"summary runs from page {first + 1} to page {last + 1}; it must begin and end on one page",
                     body[0], document=doc)
        else:
            self.add(block, "ok", f"summary on one page ({len(body)} words)", body[0], document=doc)

    def _order(self, span: Span, block_id: str) -> int:
        for b in span.part.blocks:
            if b.id == block_id:
                return b.order
        return 0

    def date_line(self, lo: int, hi: int) -> tuple[int, dt.date] | None:
        """The "Date" line: the word Date (capitalised, as the statute prints it), then a date."""
        pattern = re.compile(r"(?<!\w)Date(?:\s*/\s*\w+)?\s*:?\s*(?:" + _DATE + r")")
        end = self.text.char(hi) if hi < len(self.text.words) else len(self.text.joined)
        for match in pattern.finditer(self.text.joined, self.text.char(lo), end):
            day = _parse_date(match)
            if day is not None:
                return self.text.word_at(match.start()), day
        return None

    def owner_total(self, block: Block, span: Span) -> None:
        """§ 14-812(a)(1): a name and a total due; the record's own figures are checked through ``must_show``."""
        doc = span.part.document.id
        lines = [(p, line) for p, line in self.text.lines if span.first_page <= p <= span.last_page]
        owner = self.owner_label(span)
        if owner is None and not any(b == block.id for b, _, _ in self.target.must_show):
            self.add(block, "error", "no owner's name (a label such as \"Owner on the tax roll\" and a name)", document=doc)
        elif owner is not None:
            self.add(block, "ok", f"owner: {owner[1]}", owner[0], document=doc)
        totals = [(p, amounts[-1]) for p, line in lines
                  if _TOTAL.search(line) and (amounts := money_amounts(line))]
        if not totals:
            self.add(block, "error", "no total due (a line with \"Total\" and an amount)", document=doc)
            return
        values = {v for _, v in totals}
        if len(values) > 1:
            self.add(block, "error", "the statement shows different totals: " + ", ".join(f"${v:,}" for v in sorted(values)),
                     page=totals[0][0] + 1, document=doc)
        else:
            self.add(block, "ok", f"total due: ${totals[0][1]:,}", page=totals[0][0] + 1, document=doc)

    def owner_label(self, span: Span) -> tuple[int, str] | None:
        """A labelled owner's name: the words after the label, to the end of its line (a wrapped label is fine)."""
        match = _OWNER.search(self.text.lower, self.text.char(span.lo), self.text.char(span.hi) if span.hi < len(self.text.words) else len(self.text.lower))
        if match is None:
            return None
        first = self.text.word_at(match.end())
        if self.text.starts[first] < match.end():
            first += 1
        if first >= span.hi:
            return None
        line = self.text.line_of[first]
        name = [self.text.words[w] for w in range(first, min(span.hi, first + 12)) if self.text.line_of[w] == line]
        return first, " ".join(name)

    def itemized(self, block: Block, span: Span) -> None:
        """§ 14-812(a)(3): lines with amounts right above a total line, that add up to it."""
        doc = span.part.document.id
        lines = [(p, line) for p, line in self.text.lines if span.first_page <= p <= span.last_page]
        best: tuple[int, Decimal, Decimal, int] | None = None
        for i in range(len(lines) - 1, -1, -1):
            page, line = lines[i]
            amounts = money_amounts(line)
            if not (_TOTAL.search(line) and amounts):
                continue
            total, running, count = amounts[-1], Decimal("0"), 0
            for j in range(i - 1, -1, -1):
                prev = lines[j][1]
                found = money_amounts(prev)
                if _TOTAL.search(prev):
                    break
                if not found:
                    continue
                running += found[-1]
                count += 1
                if running == total:
                    break
            if count and running == total:
                self.add(block, "ok", f"{count} itemized lines sum to the total ${total:,}", page=page + 1, document=doc)
                return
            if best is None:
                best = (page, total, running, count)
        if best is None:
            self.add(block, "error", "no itemized list with a total line", document=doc)
        elif best[3] == 0:
            self.add(block, "error", f"no itemized lines above the total ${best[1]:,}", page=best[0] + 1, document=doc)
        else:
            self.add(block, "error", f"the {best[3]} itemized lines sum to ${best[2]:,}, the total is ${best[1]:,}",
                     page=best[0] + 1, document=doc)

    def advertisement(self, first: dt.date, part: Part, doc: str, word: int | None) -> None:
        block = next((b for b in part.blocks if b.check == "date-line"), None)
        if block is None:
            return
        if first < self.target.day + dt.timedelta(days=30):
            self.add(block, "error", f"first advertisement {first.isoformat()} is less than 30 days after the notice date "
                     f"{self.target.day.isoformat()}", word, document=doc)

    def printed_advertisement(self, span: Span) -> None:
        """A first-advertisement date printed on the statement must be at least 30 days after the notice date."""
        pattern = re.compile(r"(?i)advertis\w*[^.]{0,60}?(?:" + _DATE + r")")
        end = self.text.char(span.hi) if span.hi < len(self.text.words) else len(self.text.joined)
        for match in pattern.finditer(self.text.joined, self.text.char(span.lo), end):
            day = _parse_date(match)
            if day is not None:
                self.advertisement(day, span.part, span.part.document.id, self.text.word_at(match.start()))

    # ---- what must not be there

    def not_in_force(self, spans: Sequence[Span]) -> None:
        """Statements of blocks not in force on the date, or not applying to this collector, must not be printed."""
        from .statutes import load_registry

        registry = load_registry()
        mailing_docs = set(self.target.plan.mailing.documents)
        expected = {b.id for b in self.target.plan.blocks}
        printed = {_key(b.text) for b in self.target.plan.blocks if b.text}
        seen_texts: dict[str, Block] = {}
        # Where two blocks share their words (§ 4-201.2(a)(1) and § 2-112(d)(4)(II)1), name the one of this mailing, or the first.
        ranked = sorted(enumerate(registry.blocks), key=lambda item: (item[1].document not in mailing_docs, item[0]))
        for _, block in ranked:
            if block.id in expected or not block.text or block.check == "date-line":
                continue
            key = _key(block.text)
            if key in seen_texts or key in printed:
                continue
            seen_texts[key] = block
        taken: list[tuple[int, int]] = []
        exact: dict[str, int | None] = {}
        for key, block in seen_texts.items():
            needle = _words(block.text)
            at = exact[key] = self.text.find(needle)
            if at is not None:
                taken.append((at, at + len(needle)))
                self.report_unexpected(block, at, spans)
        # Then near-verbatim copies (one or two words changed), unless an exact statement already stands there.
        vocabulary = set(self.text.lower.split(" "))  # each word lower-cased, as lower() cases word by word
        for key, block in seen_texts.items():
            needle = _words(block.text)
            if exact[key] is not None or len(needle) < 8:
                continue
            if sum(w.lower() in vocabulary for w in needle) < NEAR * len(needle):
                continue  # cheap: most of the statement's words are not even in the PDF
            near = closest(needle, self.text, 0, len(self.text.words))
            if near is None or near[2] < NEAR or any(a < near[1] and near[0] < b for a, b in taken):
                continue
            taken.append((near[0], near[1]))
            self.report_unexpected(block, near[0], spans, detail="nearly: " + word_diff(needle, self.text.words[near[0]:near[1]]))
        for span in spans:
            for block in registry.in_force(span.part.document.id, self.target.day):
                if block.id in expected or not block.detect:
                    continue
                if block.text and _key(block.text) in seen_texts:
                    continue
                for spec in block.detect:
                    req = requirement(spec, self.target.collector)
                    hit = self.text.search(req[0], span.lo, span.hi) if req else None
                    if hit:
                        self.report_unexpected(block, hit[0], spans, detail=req[1] if req else "")
                        break

    def report_unexpected(self, block: Block, at: int, spans: Sequence[Span], detail: str = "") -> None:
        doc = next((s.part.document.id for s in spans if s.lo <= at < s.hi), "")
        if not block.in_force_on(self.target.day):
            since = block.in_force_from.isoformat()
            why = (f"not in force on {self.target.day.isoformat()} (in force from {since}"
                   + (f" until {block.in_force_until.isoformat()}" if block.in_force_until else "") + ")")
        elif block.document not in self.target.plan.mailing.documents:
            return  # in force, belongs to another mailing: quoting it is the collector's choice
        else:
            why = f"does not apply to {self.target.collector.name} (condition: {block.applies_when})"
        found = f" ({detail})" if detail else ""
        self.add(block, "error", f"printed{found}, but {why}", at, document=doc)

    # ---- the sheets

    def sheets(self, spans: Sequence[Span]) -> None:
        for k, span in enumerate(spans):
            if not span.part.document.insert:
                continue
            doc = span.part.document.id
            cite = _document_citation(span.part)
            if span.shared:
                self.add("separate-insert", "error", "the insert begins on a page of the document before it",
                         span.lo, document=doc, citation=cite)
            elif k and self.target.duplex and span.first_page % 2:
                self.add("separate-insert", "error", "the insert begins on the back of a sheet (duplex printing): "
                         "pad the document before it to an even number of pages", page=span.first_page + 1, document=doc,
                         citation=cite)
            else:
                self.add("separate-insert", "ok", "begins on a sheet of its own", page=span.first_page + 1, document=doc,
                         citation=cite)

    def page_facts(self) -> None:
        size_bad = fonts_bad = area_bad = False
        for number, page in enumerate(self.text.pages, start=1):
            size = (round(page.width, 1), round(page.height, 1))
            if size != LETTER:
                size_bad = True
                self.add("page-size", "error", f"page is {size[0]}x{size[1]} pt, not US Letter (612x792)", page=number)
            for font in page.unembedded:
                fonts_bad = True
                self.add("fonts", "error", f"font {font} is not embedded", page=number)
            if page.outside:
                area_bad = True
                more = f" and {len(page.outside) - 1} more" if len(page.outside) > 1 else ""
                self.add("printable-area", "error", f"text within 0.25 in of the edge: {page.outside[0]}{more}", page=number)
        n = len(self.text.pages)
        if not size_bad:
            self.add("page-size", "ok", f"{n} US Letter pages")
        if not fonts_bad:
            self.add("fonts", "ok", "every font is embedded")
        if not area_bad:
            self.add("printable-area", "ok", "no text within 0.25 in of the edge")


def check_pdf(pdf: bytes | PdfText, target: Target, *, documents: Sequence[str] | None = None, file: str = "",
              pages: Sequence[PageFacts] | None = None) -> Report:
    """Hold a finished PDF against the law in force: the single check ``notices check`` and ``notices render`` share.

    ``documents`` names the documents the PDF holds, in order (e.g. a lone insert); by default they
    are found from the text: a piece file holds the statement and its inserts, another PDF may hold
    any one of them.

    ``pages`` are the facts of the PDF's pages when the caller knows them without reading the bytes
    (``notices render`` joins a piece from parts it has read: the statement, a blank page, the
    inserts read once per process); the report is then the one reading the bytes would give, which
    tests/test_check_fast.py holds render to.
    """
    if isinstance(pdf, PdfText):
        text = pdf
    else:
        text = PdfText(pages) if pages is not None else read_pdf(pdf, file)
    checker = _Checker(text, target)
    report = Report(file, len(text.pages))
    if documents:
        parts = [target.plan.part(d) for d in documents]
        if len(parts) == 1:
            spans = [Span(parts[0], 0, len(text.words), 0, max(0, len(text.pages) - 1))]
        else:
            spans = checker.split(parts)
    else:
        parts = list(target.plan.parts)
        found = [p for p in parts if checker.evidence(p)]
        if not found:
            names = ", ".join(p.document.id for p in parts)
            checker.add(target.plan.mailing.id, "error", f"none of the mailing's documents ({names}) was recognised in the PDF; "
                        "pass --document to check it as one of them", citation=target.plan.mailing.citation)
            checker.page_facts()
            report.findings = checker.findings
            return report
        spans = checker.split(found)
        for part in parts:
            if part not in found:
                checker.add(part.document.id, "note", f"not in this PDF: the {part.document.title} goes in the same envelope; "
                            "check its own PDF", citation=_document_citation(part))
        starts = checker.starts(found[0])
        if len(starts) > 1 and not found[0].document.insert:
            return _check_print_file(text, target, starts, file)
        if len(starts) > 1:
            checker.add(target.plan.mailing.id, "error", f"this PDF holds {len(starts)} copies of the {found[0].document.title}: "
                        "check them one by one", citation=target.plan.mailing.citation)
    report.documents = spans
    for span in spans:
        checker.document(span)
        if not span.part.document.insert:
            checker.printed_advertisement(span)
    checker.not_in_force(spans)
    checker.sheets(spans)
    checker.page_facts()
    report.findings = _in_statutory_order(checker.findings, spans)
    return report


def _check_print_file(text: PdfText, target: Target, starts: Sequence[int], file: str) -> Report:
    """A print file: each piece (from one statement's first page to the next's) checked as a piece file on its own.

    One row per compliant piece, and every finding of the others, with pages counted in the print file.
    """
    bounds = [0, *starts[1:], len(text.pages)]
    report = Report(file, len(text.pages))
    findings = [Finding(target.plan.mailing.id, target.plan.mailing.citation, "note",
                        f"a print file of {len(bounds) - 1} pieces: each is checked as a piece file")]
    for k in range(len(bounds) - 1):
        first, end = bounds[k], bounds[k + 1]
        piece = check_pdf(PdfText(text.pages[first:end]), target, file=file)
        label = f"piece {k + 1}"
        if target.duplex and first % 2:
            findings.append(Finding(label, target.plan.mailing.citation, "error",
                                    f"{label} begins on the back of a sheet (duplex printing)", first + 1, label))
        for span in piece.documents:
            report.documents.append(Span(span.part, span.lo, span.hi, span.first_page + first, span.last_page + first, span.shared))
        if piece.ok and not first % 2 or piece.ok and not target.duplex:
            findings.append(Finding(label, "", "ok", f"compliant (pages {first + 1}-{end})", first + 1, label))
            continue
        for f in piece.errors:
            page = f.page + first if f.page is not None else None
            findings.append(Finding(f.block, f.citation, f.status, f"{label}: {f.message}", page, f"{label}: {f.document}", f.diff))
    report.findings = findings
    return report


def _in_statutory_order(findings: Sequence[Finding], spans: Sequence[Span]) -> list[Finding]:
    """One document after the other, each block's rows in statutory order; page facts last."""
    from .statutes import load_registry

    order = {b.id: b.order for b in load_registry().blocks}
    docs = {span.part.document.id: i for i, span in enumerate(spans)}

    def key(item: tuple[int, Finding]) -> tuple[int, int, int]:
        index, f = item
        if not f.document:
            return (len(docs) + 1, 0, index)
        return (docs.get(f.document, len(docs)), -1 if f.block == "separate-insert" else order.get(f.block, 999), index)

    return [f for _, f in sorted(enumerate(findings), key=key)]


def target_for(collector_id: str, mailing: str, day: dt.date) -> Target:
    """The collector profile and the law in force on ``day`` for one mailing."""
    from .collectors import load_collector
    from .resolve import plan

    collector = load_collector(collector_id)
    return Target(collector, plan(collector, mailing, day))


def check_file(path: str, target: Target, documents: Sequence[str] | None = None) -> Report:
    """Read a PDF file and check it (see :func:`check_pdf`); an unreadable file is an :class:`InputError`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"Cannot read the PDF: {exc.strerror}", file=str(path)) from None
    if b"%PDF-" not in data[:1024]:
        raise InputError("Not a PDF file (it does not begin with %PDF)", file=str(path))
    for document in documents or ():
        target.plan.part(document)  # a LawError names the document when it is not in this mailing on this date
    return check_pdf(data, target, documents=documents, file=str(path))


# --------------------------------------------------------------------------------------------
# Older entry points, kept for callers that check a part of a PDF.


def check_statements(pages: Sequence[str], blocks: Sequence[Block]) -> list[Finding]:
    """Every statement block verbatim, in statutory order; each finding names the page it was found on."""
    text = PdfText([PageFacts(t, *LETTER) for t in pages])
    placed, findings = [], []
    for block in blocks:
        if block.kind == "content" or not block.text:
            continue
        at = text.find(words(block.text))
        if at is None:
            findings.append(Finding(block.id, block.citation, "error", "statement missing or not verbatim"))
        else:
            placed.append((block.id, at))
    keep = _longest_in_order(placed)
    by_id = {b.id: b for b in blocks}
    for block_id, at in placed:
        status: Severity = "ok" if block_id in keep else "error"
        findings.append(Finding(block_id, by_id[block_id].citation, status,
                                "verbatim" if status == "ok" else "statement out of statutory order", text.page_of[at] + 1))
    return findings


def check_pages(pdf: bytes) -> list[Finding]:
    """US Letter pages, embedded fonts only, no text outside the printable area."""
    checker = _Checker(read_pdf(pdf), None)  # type: ignore[arg-type]
    checker.page_facts()
    return [f for f in checker.findings if f.status == "error"]
