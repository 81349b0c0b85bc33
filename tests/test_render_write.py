"""A file written once has the bytes of the two writes its identifier needs, and an insert composed for a
guessed page count has the bytes of one composed for the count a first layout found."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from conftest import CITY_DATE, COUNTY_DATE, job_for

from notices import piece, render, standards
from notices.job import make_job

AFTER_CHAPTER_108 = dt.date(2027, 6, 1)  # the installment-plan insert is in force: bills carry two inserts


def two_writes(renderer: Any, document: Any) -> bytes:
    """What ``Renderer.write`` wrote before: the file with a blank identifier, then again with its hash as the identifier."""
    first = document.write_pdf(pdf_identifier=b"0" * 32, custom_metadata=True, **renderer._standard)
    identifier = hashlib.sha256(first).hexdigest()[:32].encode()
    again: bytes = document.write_pdf(pdf_identifier=identifier, custom_metadata=True, **renderer._standard)
    return again


def laid_out_insert(variant: str) -> tuple[Any, Any]:
    """The City's § 14-812(b) insert laid out for a PDF variant, and its renderer."""
    city = job_for("baltimore-city", "final-notice", CITY_DATE)
    job = make_job(city.collector, city.plan, "en", reuse_layouts=False, pdf_variant=variant)
    renderer = job.renderer._renderer()
    part = job.plan.parts[1]
    html = job.composer.fragment(part, None, seq=0, pages=2)
    return renderer, renderer.layout(job.composer.document(part, [html], title=part.document.title))


@pytest.mark.parametrize("variant", standards.VARIANTS)
def test_one_write_gives_the_bytes_of_two(variant: str) -> None:
    """Print, PDF/A-2b and PDF/UA-1: the identifier swapped into the first write gives the second write's bytes."""
    renderer, document = laid_out_insert(variant)
    written = renderer.write(document)
    assert written == two_writes(renderer, document)
    assert b"0" * 32 not in written


def test_a_file_where_the_identifier_is_not_found_once_is_written_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Should pydyf write the identifier otherwise, the file is written twice, as before: the same bytes."""
    renderer, document = laid_out_insert(standards.PRINT)
    calls: list[object] = []
    real = document.write_pdf

    def counted(*args: Any, **kwargs: Any) -> bytes:
        calls.append(kwargs.get("pdf_identifier"))
        written: bytes = real(*args, **kwargs)
        return written

    monkeypatch.setattr(document, "write_pdf", counted)
    monkeypatch.setattr(render, "_ID_MARK", b"/Identifier-written-elsewhere (")
    assert renderer.write(document) == two_writes(renderer, document) and len(calls) == 2 + 2
    calls.clear()
    monkeypatch.undo()
    monkeypatch.setattr(document, "write_pdf", counted)
    renderer.write(document)
    assert len(calls) == 1


def inserts_as_before(job: Any) -> list[tuple[str, bytes]]:
    """``render_inserts`` as it was: composed with no page count, laid out, composed again for the count it found."""
    made = []
    for part in job.plan.parts[1:] if job.plan.mailing.per_record else job.plan.parts:
        html = job.composer.fragment(part, None, seq=0, pages=0)
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        html = job.composer.fragment(part, None, seq=0, pages=len(document.pages))
        document = job.renderer.layout(job.composer.document(part, [html], title=part.document.title))
        made.append((part.document.id, job.renderer._renderer().write(document)))
    return made


@pytest.mark.parametrize(("collector", "mailing", "day", "language"), [
    ("baltimore-city", "final-notice", CITY_DATE, "en"),
    ("baltimore-city", "final-notice", CITY_DATE, "es"),
    ("baltimore-county", "post-sale-notice", COUNTY_DATE, "en"),
    ("baltimore-county", "bill-inserts", AFTER_CHAPTER_108, "en"),
])
def test_an_insert_composed_for_a_guessed_page_count_is_the_insert_composed_for_its_count(
        collector: str, mailing: str, day: dt.date, language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every insert of both collectors' mailings, both languages: the same bytes whether the guess was right or not."""
    job = job_for(collector, mailing, day, language)
    expected = inserts_as_before(job)
    assert expected and all(pdf.startswith(b"%PDF") for _, pdf in expected)
    for guess in (1, 2, 3):
        monkeypatch.setattr(piece, "INSERT_PAGES", guess)
        assert piece.render_inserts(job) == expected, guess
