"""An insert checked again (the same words after another piece's statement) is reported as checking it afresh reports it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from test_check_fast import job, record  # the City's final notice and a record, as the fast check's tests make them

import notices.compliance.statements as statements
from notices import piece
from notices.compliance import Report, Target, check_pdf, read_pages
from notices.compliance.documents import verbatim
from notices.job import Job
from notices.model import Record
from notices.piece import render_chunk

WINTER = dt.date(2027, 2, 1)


def pieces(j: Job, records: list[Record]) -> list[tuple[bytes, Target]]:
    """The piece files a run writes (or would, had they passed the check), each with the target it is checked against."""
    made = [r.pdf or r.failed_pdf for r in render_chunk(j, list(enumerate(records, start=1)))]
    assert all(made)
    return [(pdf, Target(j.collector, j.plan, tuple(piece.must_show(j, r)), r.first_advertisement_date))
            for pdf, r in zip(made, records, strict=True) if pdf is not None]


def rows(report: Report) -> list[dict[str, Any]]:
    return [f.to_dict() for f in report.findings]


def fresh(pdf: bytes, target: Target) -> Report:
    statements._KEPT.entries.clear()
    return check_pdf(pdf, target)


@pytest.fixture
def checked_again(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents checked afresh (not found again), in order."""
    seen: list[str] = []
    real = statements.DocumentCheck._recorded

    def spy(self: statements.DocumentCheck, span: Any) -> Any:
        seen.append(span.document_id)
        return real(self, span)

    monkeypatch.setattr(statements.DocumentCheck, "_recorded", spy)
    return seen


def test_the_insert_after_a_longer_statement_reads_as_checked_afresh(checked_again: list[str]) -> None:
    # Printed on both sides, a statement of one or two pages puts the insert on page 3, one of three pages on page 5.
    short, two_pages, three_pages = pieces(job(), [record("01-01-0002-001"), record("01-01-0002-002", "BO DIAZ AND CY DIAZ", 12),
                                                   record("01-01-0002-003", lines=40)])
    expected = {pdf: rows(fresh(pdf, target)) for pdf, target in (short, two_pages, three_pages)}
    assert [len(check_pdf(pdf, target).documents) for pdf, target in (short, two_pages, three_pages)] == [2, 2, 2]
    statements._KEPT.entries.clear()
    checked_again.clear()
    for pdf, target in (short, two_pages, three_pages, two_pages, short, three_pages):
        assert rows(check_pdf(pdf, target)) == expected[pdf]
    # Checked once for each page it starts on (a finding may name a page), found again after the other statements.
    assert checked_again == ["tax-sale-insert", "tax-sale-insert"]


def statement_word(target: Target, pages: list[str]) -> tuple[int, str]:
    """A word of one of the insert's statements that only one page prints once: (that page, the word)."""
    for block in target.plan.parts[1].blocks:
        if verbatim(block):
            for word in block.text.split():
                on = [i for i, text in enumerate(pages) if word in text]
                if word.isalpha() and len(word) >= 6 and len(on) == 1 and pages[on[0]].count(word) == 1:
                    return on[0], word
    raise AssertionError("no statement word printed once")


@pytest.mark.parametrize("where", ["a word of a statement", "the page footer"])
def test_an_insert_with_other_words_is_checked_afresh(checked_again: list[str], where: str) -> None:
    (pdf, target), = pieces(job(), [record("01-01-0002-004")])
    pages = read_pages(pdf)
    if where == "the page footer":
        at = next(i for i, page in enumerate(pages) if "Tax sale insert Page 1 of" in page.text)
        old, new = "Page 1 of", "Page 7 of"
    else:
        at, old = statement_word(target, [page.text for page in pages])
        new = "otherwise"
    page = pages[at]
    changed = [*pages[:at], dataclasses.replace(page, text=page.text.replace(old, new, 1)), *pages[at + 1:]]
    statements._KEPT.entries.clear()
    expected = rows(check_pdf(pdf, target, pages=changed))
    statements._KEPT.entries.clear()
    assert rows(check_pdf(pdf, target, pages=pages)) != expected  # the change shows in the findings
    checked_again.clear()
    assert rows(check_pdf(pdf, target, pages=changed)) == expected
    assert checked_again == ["tax-sale-insert"]


def test_the_statement_is_never_found_again(checked_again: list[str]) -> None:
    (pdf, target), = pieces(job(), [record("01-01-0002-006")])
    statements._KEPT.entries.clear()
    check_pdf(pdf, target)
    check_pdf(pdf, target)
    assert "final-notice-statement" not in checked_again
    assert all(key[0] != id(target.plan.parts[0]) for key in statements._KEPT.entries)
