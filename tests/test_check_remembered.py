"""What the check remembers from one piece to the next (a line's words, figures and page number, a page's
lower case, a statement's words lower-cased, the record's figures as printed) is what reading afresh gives."""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Sequence

import pytest
from conftest import SAMPLES, job_for
from test_check_fast import job, record  # the City's final notice and a record, as the fast check's tests make them

import notices.compliance.facts as facts
import notices.compliance.pdftext as pdftext
import notices.compliance.unexpected as unexpected
from notices.batch import load
from notices.compliance import Target, read_pages
from notices.compliance.patterns import TOTAL, money_amounts
from notices.compliance.pdftext import PageFacts, PageNumber, PdfText, fixed_words, words
from notices.compliance.report import Recorder, Span
from notices.formatting import locale_for, long_date, money
from notices.model import Record
from notices.options import Options
from notices.piece import must_show, render_chunk
from notices.statutes import load_registry

# Lines a loose key would mix up: the same but for a digit, a case, a sign, a mark; page numbers in other digits.
TRICKY = """\
Total due $4,680.31
Total due $4,680.32
TOTAL DUE $4,680.31
total due ($4,680.31)
Water and sewer FY 2027 -$5.00 1.234,56 US$
Water and sewer FY 2026 -$5.00 1.234,56 US$
Page 1 of 2
Page 1 of 3
Página 2 de 3
Page 1 of \u0663
Page 1 of \u00b3
Notice page 2 of 2\u00a0
1.
\u2022
ΟΔΟΣ ΣΟΦΟΣ ΣΤΑΣΙΣ
İSTANBUL Straße
co-\nowner of record
"""


@functools.cache
def page_texts() -> tuple[str, ...]:
    """The pages of three real pieces (a two-page statement among them), and the tricky lines as pages."""
    j = job()
    made = render_chunk(j, [(1, record("01-01-0002-001")), (2, record("01-01-0002-002", "BO DIAZ AND CY DIAZ", 12)),
                            (3, record("01-01-0002-003", lines=40))])
    texts = [page.text for r in made for page in read_pages(r.pdf or r.failed_pdf or b"")]
    lines = TRICKY.splitlines()
    return tuple(texts + ["\n".join(lines[i:i + 3]) for i in range(0, len(lines), 3)] + [TRICKY, ""])


def _fresh_number(lines: Sequence[str]) -> PageNumber | None:
    """The page's "Page k of n" as read before lines remembered it: the last line that ends with one."""
    for line in reversed(lines):
        match = pdftext._PAGE_NUMBER.search(line)
        if match:
            return PageNumber(pdftext._furniture_key(line[:match.start()].split()), int(match.group(1)), int(match.group(2)))
    return None


def _clear() -> None:
    pdftext._line.cache_clear()
    pdftext._page_words.cache_clear()
    facts.line_figures.cache_clear()


@pytest.mark.parametrize("warm", [False, True])
def test_a_pdfs_words_read_line_by_line_are_its_words_read_afresh(warm: bool) -> None:
    texts = page_texts()
    _clear()
    if warm:  # every line seen before, in other pages
        PdfText([PageFacts(t, 612, 792) for t in reversed(texts)])
        pdftext._page_words.cache_clear()
    for first in range(len(texts)):
        pages = [PageFacts(t, 612, 792) for t in texts[first:first + 4]]
        text = PdfText(pages)
        assert text.lower == text.joined.lower()
        for k in range(len(pages)):
            on_page = [w for w, p in zip(text.words, text.page_of, strict=True) if p == k]
            assert text.vocabularies[k] == frozenset(w.lower() for w in on_page)
            assert text.numbers[k] == _fresh_number([line for p, line in text.lines if p == k])
        for lo in range(-1, len(pages) + 1):
            for hi in range(-1, len(pages) + 1):
                assert text.lines_on(lo, hi) == [(p, line) for p, line in text.lines if lo <= p <= hi]


def test_a_page_number_in_other_digits_is_read() -> None:
    _clear()
    assert pdftext._line("Notice Page 1 of \u0663").number == PageNumber("notice", 1, 3)
    assert pdftext._line("Page 1 of \u00b3").number == PageNumber("", 1, 3)  # NFKC folds the superscript
    assert pdftext._line("Page 1 of 3 .").number is None


@pytest.mark.parametrize("warm", [False, True])
def test_a_lines_figures_remembered_are_the_figures_read_afresh(warm: bool) -> None:
    lines = [line for text in page_texts() for line in text.splitlines()]
    facts.line_figures.cache_clear()
    if warm:
        for line in reversed(lines):
            facts.line_figures(0, line)
    for line in lines:
        assert facts.line_figures(0, line) == (0, line, tuple(money_amounts(line)), bool(TOTAL.search(line)))
        assert facts.line_figures(1, line) == (1, line, tuple(money_amounts(line)), bool(TOTAL.search(line)))
    assert facts.line_figures.cache_info().hits >= (len(lines) if warm else 1)


def test_a_statements_figures_are_read_from_its_own_lines() -> None:
    """Two pieces whose lines differ only in their figures: each piece's total and items are its own."""
    texts = [page_texts()[0], page_texts()[0].replace("4.00", "5.00")]
    assert texts[0] != texts[1]
    for text in texts + texts:
        pdf = PdfText([PageFacts(text, 612, 792)])
        got = facts.StatementFacts(pdf, None, Recorder(pdf)).figures(Span(None, 0, len(pdf.words), 0, 0))  # type: ignore[arg-type]
        assert [(f.page, f.text, list(f.amounts), f.total) for f in got] == [
            (p, line, money_amounts(line), bool(TOTAL.search(line))) for p, line in pdf.lines]


def test_a_statements_words_lower_cased_once_are_its_words_lower_cased() -> None:
    texts = [b.text for b in load_registry().blocks if b.text] + ["Straße İSTANBUL ΣΟΦΟΣ", "“Quoted” words—dashed"]
    unexpected._lowered.cache_clear()
    for text in texts + texts:
        assert unexpected._lowered(text) == tuple(w.lower() for w in fixed_words(text))
        assert unexpected._lowered(text) == tuple(w.lower() for w in words(text))


SALES = SAMPLES / "baltimore-city-sale-results.csv"


@pytest.mark.parametrize(("roll", "mailing", "day"), [(SAMPLES / "baltimore-city-final-notices.csv", "final-notice", dt.date(2027, 2, 1)),
                                                      (SALES, "post-sale-notice", dt.date(2027, 7, 1))])
@pytest.mark.parametrize("language", ["en", "es"])
def test_what_a_piece_must_show_is_the_record_formatted_afresh(roll: object, mailing: str, day: dt.date, language: str) -> None:
    j = job_for("baltimore-city", mailing, day, language)
    _, _, checked = load(Options(roll, SAMPLES, "baltimore-city", mailing, day))  # type: ignore[arg-type]
    records = [item for _, item in checked if isinstance(item, Record)]
    assert records
    locale = locale_for(language)
    for r in records + records:  # the second time, every figure is one the composer has written before
        if r.sale is None:
            expected = [("owner name", r.owners[0]), ("total due", money(r.total_due, locale))]
        else:
            sale = r.sale
            expected = [("owner name", r.owners[0]), ("sale date", long_date(sale.sale_date, locale)),
                        ("highest bid", money(sale.highest_bid, locale)), ("lien amount", money(sale.lien_amount, locale)),
                        ("amount to redeem before a foreclosure action is filed", money(sale.redemption_before_filing, locale)),
                        ("amount to redeem after a foreclosure action is filed", money(sale.redemption_after_filing, locale))]
        assert [(label, text) for _, label, text in must_show(j, r)] == expected


def _key_afresh(text: PdfText, span: Span) -> tuple[object, ...]:
    """The kept document's key as first written: every word's start, furniture, page and line, one by one."""
    lo, hi = span.lo, span.hi
    start = text.char(lo)
    back = start - 1 if lo > 0 else start
    first_line = text.line_of[lo] if lo < len(text.line_of) else 0
    return (lo == 0, hi - lo, len(text.words) - lo,
            lo > 0 and lo < len(text.line_of) and text.line_of[lo - 1] == first_line,
            text.joined[back:], text.lower[back:], tuple(s - start for s in text.starts[lo:]),
            tuple(text.furniture[lo:]), tuple(text.page_of[lo:]), tuple(line - first_line for line in text.line_of[lo:]))


def _variants() -> list[list[str]]:
    """A statement and an insert's pages, and the same words with a line or a page broken elsewhere, a line repeated."""
    texts = page_texts()
    statement, insert = texts[0], [t for t in texts[1:4] if t.strip()]
    other = texts[4] if len(texts) > 4 else statement + "\nANOTHER OWNER"
    first = insert[0]
    cut = first.index("\n", len(first) // 2)
    moved = first.rsplit(" ", 1)
    return [
        [statement, *insert],
        [other, *insert],
        [statement, first[:cut] + " " + first[cut + 1:], *insert[1:]],  # a line break less
        [statement, first[:cut] + "\n" + first[cut:], *insert[1:]],  # an empty line more
        [statement, moved[0], moved[1] + "\n" + insert[1] if len(insert) > 1 else moved[1], *insert[2:]],  # a word on the next page
        [statement + "\n" + first.splitlines()[-1], *insert],  # the insert's last line printed on the statement too
        [statement.replace("\n", " ", 1), *insert],
        [*insert],
    ]


def test_the_kept_key_tells_apart_what_the_key_written_word_by_word_tells_apart() -> None:
    from notices.compliance.statements import _Kept
    j = job()
    target = Target(j.collector, j.plan)
    part = j.plan.parts[-1]
    keys = []
    for pages in _variants():
        text = PdfText([PageFacts(t, 612, 792) for t in pages])
        for lo in [*range(0, len(text.words) + 1, 23), len(text.words)] + text.page_start:
            span = Span(part, lo, len(text.words), 0, 0)
            keys.append((_Kept.key(text, target, span), _key_afresh(text, span)))
    for new, old in keys:
        for new2, old2 in keys:
            assert (new == new2) == (old == old2)
    assert len({new for new, _ in keys}) < len(keys)  # some keys are met again: the statement changed, the insert did not


def _words_afresh(text: str) -> list[str]:
    """``words`` as first written: NFKC and _FOLD on every text, every word stripped of its double quotes."""
    typography = pdftext._FOLDED.sub(lambda m: pdftext._FOLD[ord(m.group())], unicodedata.normalize("NFKC", text))
    folded = " ".join(pdftext._join_hyphenated(typography.replace("\r\n", "\n")).split())
    return [w for w in (word.strip('"') for word in folded.split(" ")) if w]


def test_words_read_the_short_way_are_the_words_read_in_full() -> None:
    odd = ["", " ", "\"", "\" \"", "\"quoted\" words", "a `b` c", "x\x02\ny", "co-\nowner", "co-\r\nowner", "tab\there",
           "\u201cCurly\u201d \u2018quotes\u2019 \u2014 dash", "ﬁne ligature", "plain ascii words", "ends with quote\"",
           "İSTANBUL Straße", "\u00a0non\u00a0breaking\u00a0"]
    lines = [line for text in page_texts() for line in text.splitlines()] + list(page_texts()) + odd
    for text in lines:
        assert words(text) == _words_afresh(text)
        assert pdftext._typography(text) == pdftext._FOLDED.sub(lambda m: pdftext._FOLD[ord(m.group())],
                                                                unicodedata.normalize("NFKC", text))
