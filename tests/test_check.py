"""`notices check` proves from the PDF itself that a notice or insert carries what the statute requires, and can fail.

Mutated PDFs are made the fast way: a document is composed from the project's templates, its HTML
edited as a string (a block removed, reworded by one word, moved out of order), and several variants
laid out in one WeasyPrint call, then split into one PDF per variant.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import csv_text, job_for, row
from typer.testing import CliRunner

from notices import Options, run
from notices.cli import app
from notices.compliance import PageFacts, PdfText, Report, Target, check_pdf, fold, read_pdf, word_diff, words
from notices.deadlines import statement_dates
from notices.job import Job
from notices.model import Block, MailingAddress, Record, TaxLine
from notices.statutes import load_registry

CITY, COUNTY = "baltimore-city", "baltimore-county"
WINTER = dt.date(2027, 2, 1)  # the nine-item insert
SPRING = dt.date(2027, 5, 1)  # the ten-item insert of Chapter 108 of 2025
DOCUMENTS = ("final-notice-statement", "tax-sale-insert")
INSERT = DOCUMENTS[1]
MUTATIONS = ("removed", "reworded", "moved")
NEW_WORD = "otherwise"

runner = CliRunner()

RECORD = Record(
    account_id="01-01-0001-001",
    owners=("ANN LEE",),
    mailing=MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"),
    property_address="1 MAIN ST",
    lines=(
        TaxLine("Real property tax", "FY 2027", Decimal("1200.00"), Decimal("48.00"), Decimal("24.00")),
        TaxLine("Water and sewer", "2026-Q4", Decimal("310.55")),
    ),
    source_file="roll.csv",
    source_lines=(2, 3),
)


# --------------------------------------------------------------------------------------------
# Building PDFs from composed documents.


@functools.cache
def job(collector: str, day: dt.date) -> Job:
    job: Job = job_for(collector, "final-notice", day)
    return job


def compose(collector: str, day: dt.date, document: str) -> str:
    """The composed HTML fragment of one document: the statement for RECORD, or the insert."""
    j = job(collector, day)
    part = j.plan.part(document)
    if document == "final-notice-statement":
        return j.composer.fragment(part, RECORD, seq=1, pages=1, **statement_dates(j.collector, j.plan.day, RECORD))
    return j.composer.fragment(part, None, seq=0, pages=2)


def render_variants(collector: str, day: dt.date, document: str, fragments: list[str]) -> list[bytes]:
    """Lay out several variants of one document in one WeasyPrint call; one PDF per variant."""
    j = job(collector, day)
    part = j.plan.part(document)
    tagged = [re.sub(r'id="(?:piece-\d+|insert)"', f'id="variant-{k}"', f, count=1) for k, f in enumerate(fragments)]
    # Other ids (#summary) must stay unique across the variants of one layout.
    tagged = [re.sub(r'id="(?!variant-)([^"]+)"', rf'id="\1-v{k}"', f) for k, f in enumerate(tagged)]
    laid = j.renderer.layout(j.composer.document(part, tagged, title="variants"))
    starts = {}
    for index, page in enumerate(laid.pages):
        for anchor in page.anchors:
            if anchor.startswith("variant-"):
                starts.setdefault(int(anchor[8:]), index)
    assert sorted(starts) == list(range(len(fragments))), "a variant lost its anchor"
    bounds = [starts[k] for k in range(len(fragments))] + [len(laid.pages)]
    return [j.renderer.write(laid, laid.pages[bounds[k]:bounds[k + 1]]) for k in range(len(fragments))]


def check(pdf: bytes, collector: str, day: dt.date, documents: list[str] | None = None) -> Report:
    j = job(collector, day)
    return check_pdf(pdf, Target(j.collector, j.plan), documents=documents)


def failing(report: Report) -> set[tuple[str, str]]:
    return {(f.block, f.citation) for f in report.errors}


def element(html: str, block: Block) -> tuple[int, int]:
    """Where a block's printed element stands in the HTML (the whole "Date" line for the Date block)."""
    if block.check == "date-line":
        match = re.search(r'<p class="date-line">.*?</p>', html, re.S)
    else:
        match = re.search(rf'<(\w+)\b[^>]*data-block="{re.escape(block.id)}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"{block.id} is not in the composed HTML"
    return match.start(), match.end()


def one_word(block: Block) -> str:
    """A word of the statement, near its middle, that occurs in it once: the word the test changes."""
    if block.check == "date-line":
        return "Date"
    text = block.text.split()
    order = sorted(range(len(text)), key=lambda i: abs(i - len(text) // 2))
    for i in order:
        word = text[i]
        if word.isalpha() and len(word) >= 4 and text.count(word) == 1:
            return word
    raise AssertionError(f"no single word to change in {block.id}")


def mutate(html: str, block: Block, how: str, part_blocks: tuple[Block, ...]) -> str:
    start, end = element(html, block)
    piece = html[start:end]
    if how == "removed":
        return html[:start] + html[end:]
    if how == "reworded":
        word = one_word(block)
        open_end = piece.index(">") + 1
        close = piece.rindex("</")
        if block.check == "date-line":
            inner = piece.replace(">Date<", f">{NEW_WORD}<", 1)
        else:
            inner = piece[:open_end] + re.sub(rf"\b{word}\b", NEW_WORD, piece[open_end:close], count=1) + piece[close:]
        assert inner != piece
        return html[:start] + inner + html[end:]
    # moved: to the end of the document, or to its start when it is the last fixed words in statutory order
    rest = html[:start] + html[end:]
    ordered = [b for b in part_blocks if b.text]
    if block is ordered[-1]:
        at = rest.index(">", rest.index("<section")) + 1
    else:
        at = rest.rindex("</section>")
    return rest[:at] + piece + rest[at:]


def fixed_blocks(document: str) -> list[tuple[Block, dt.date]]:
    """Every block of the document with fixed words (statements, the "Date" line), with a date it is in force."""
    out = []
    for block in load_registry().blocks:
        if block.document != document or not block.text:
            continue
        day = max(WINTER, block.in_force_from)
        if block.in_force_on(day) and block.id in job(CITY, day).plan.part(document).block_ids:
            out.append((block, day))
    return out


CASES = [(block.id, day, how) for document in DOCUMENTS for block, day in fixed_blocks(document) for how in MUTATIONS]


@pytest.fixture(scope="module")
def mutated() -> dict[tuple[str, str], bytes]:
    """Every (block, mutation) of the City's statement and insert, rendered in one WeasyPrint call per document and date."""
    groups: dict[tuple[str, dt.date], list[tuple[str, str]]] = {}
    for block_id, day, how in CASES:
        groups.setdefault((load_registry().block(block_id).document, day), []).append((block_id, how))
    out: dict[tuple[str, str], bytes] = {}
    for (document, day), items in groups.items():
        base = compose(CITY, day, document)
        part_blocks = job(CITY, day).plan.part(document).blocks
        fragments = [mutate(base, load_registry().block(b), how, part_blocks) for b, how in items]
        for (b, how), pdf in zip(items, render_variants(CITY, day, document, fragments), strict=True):
            out[(b, how)] = pdf
    return out


@pytest.fixture(scope="module")
def clean() -> dict[tuple[str, dt.date], bytes]:
    """The unmutated statement and insert of the City on both dates."""
    return {(d, day): render_variants(CITY, day, d, [compose(CITY, day, d)])[0] for d in DOCUMENTS for day in (WINTER, SPRING)}


# --------------------------------------------------------------------------------------------
# Folding and diffs.


class TestWords:
    def test_fold_joins_quotes_dashes_breaks_and_hyphenation(self) -> None:
        """Curly quotes, dashes, line breaks and end-of-line hyphens fold away; the words stay."""
        assert fold("the collector\u2019s tax\u00a0roll \u2013 sub-\nject\nto") == "the collector's tax roll - subject to"

    def test_statement_is_found_through_typography_and_line_breaking(self) -> None:
        """A statement printed in curly quotes, with curly apostrophes, broken lines and a hyphenated line end, is verbatim."""
        b6 = load_registry().block("tp-14-812-b-6-i").text
        printed = "\u201c" + b6.replace("homeowners'", "home-\nowners\u2019").replace(" income ", "\nincome ") + "\u201d"
        text = PdfText([PageFacts("Heading\n" + printed, 612.0, 792.0)])
        assert text.find(words(b6)) == 1

    def test_word_diff_names_the_changed_word(self) -> None:
        """A one-word change reads as - old + new."""
        assert word_diff(words("you are the owner of it"), words("you are the proprietor of it")) == "- owner + proprietor"


# --------------------------------------------------------------------------------------------
# The check passes what is right.


class TestCompliant:
    @pytest.mark.parametrize("document", DOCUMENTS)
    @pytest.mark.parametrize("day", [WINTER, SPRING])
    def test_composed_document_passes(self, clean: dict[tuple[str, dt.date], bytes], document: str, day: dt.date) -> None:
        """The project's own statement and insert pass, block by block, on both sides of May 1, 2027."""
        report = check(clean[(document, day)], CITY, day, [document])
        assert report.ok, [f for f in report.errors]
        checked = {f.block for f in report.findings if f.status == "ok"}
        expected = {b.id for b in job(CITY, day).plan.part(document).blocks if b.text or b.expect or b.check}
        assert expected <= checked

    def test_rendered_piece_passes_the_command(self, tmp_path: Path) -> None:
        """A piece made by `notices render` passes `notices check` (exit 0), found as statement plus insert."""
        roll = tmp_path / "roll.csv"
        roll.write_text(csv_text([row(account_id="01-01-0001-001", amount="512.40", interest="5.12")]))
        summary = run(Options(roll, tmp_path / "out", CITY, "final-notice", WINTER, workers=1))
        assert summary.rendered == 1
        piece = next((tmp_path / "out" / "pieces").glob("*.pdf"))
        result = runner.invoke(app, ["check", str(piece), "-c", CITY, "-d", WINTER.isoformat(), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["ok"] and [d["document"] for d in data["files"][0]["documents"]] == list(DOCUMENTS)
        human = runner.invoke(app, ["check", str(piece), "-c", CITY, "-d", WINTER.isoformat()])
        assert human.exit_code == 0
        assert re.search(r"ok\s+tp-14-812-b-2\s+Tax-Property § 14-812\(b\)\(2\)\s+4\s", human.output)


# --------------------------------------------------------------------------------------------
# The check fails what is wrong, naming the block.


class TestEachFixedBlock:
    @pytest.mark.parametrize("block_id,day,how", CASES, ids=[f"{b}-{h}" for b, _, h in CASES])
    def test_mutation_is_named(self, mutated: dict[tuple[str, str], bytes], block_id: str, day: dt.date, how: str) -> None:
        """A statement removed, reworded by one word or moved out of order fails naming exactly that block and citation."""
        block = load_registry().block(block_id)
        report = check(mutated[(block_id, how)], CITY, day, [block.document])
        assert failing(report) == {(block.id, block.citation)}, [(f.block, f.message) for f in report.errors]
        if how == "reworded" and block.check != "date-line":
            (finding,) = report.errors
            assert finding.diff == f"- {one_word(block)} + {NEW_WORD}"
        if how == "moved":
            assert "out of statutory order" in report.errors[0].message


def _insert_with(html_edit: Any, collector: str = CITY, day: dt.date = WINTER) -> bytes:
    return render_variants(collector, day, "tax-sale-insert", [html_edit(compose(collector, day, "tax-sale-insert"))])[0]


class TestInsert:
    def test_summary_split_across_pages_fails(self) -> None:
        """A summary that runs onto a second page fails naming § 14-812(b)(1)."""
        def split(html: str) -> str:
            return html.replace("<li>", '<li style="break-before: page">', 4).replace('<li style="break-before: page">', "<li>", 3)
        report = check(_insert_with(split), CITY, WINTER, ["tax-sale-insert"])
        assert failing(report) == {("tp-14-812-b-1", "Tax-Property § 14-812(b)(1)")}
        assert "runs from page 1 to page 2" in report.errors[0].message

    def test_installment_item_before_may_2027_fails(self, clean: dict[tuple[str, dt.date], bytes]) -> None:
        """The ten-item insert (with the 2027 installment statement) checked for 2027-02-01 names § 14-812(b)(9)(i)."""
        report = check(clean[("tax-sale-insert", SPRING)], CITY, WINTER, ["tax-sale-insert"])
        b9 = load_registry().block("tp-14-812-b-9-i")
        assert (b9.id, b9.citation) in failing(report)
        assert "not in force on 2027-02-01" in next(f.message for f in report.errors if f.block == b9.id)

    def test_missing_ombudsman_contacts_fail(self) -> None:
        """Without the (b)(4) contact lines the Ombudsman's toll-free number and website are missing."""
        report = check(_insert_with(lambda h: re.sub(r'<div class="item" data-block="tp-14-812-b-4">.*?</div>', "", h, flags=re.S)),
                       CITY, WINTER, ["tax-sale-insert"])
        assert failing(report) == {("tp-14-812-b-4", "Tax-Property § 14-812(b)(4)")}
        assert "(833) 732-8411" in report.errors[0].message

    def test_missing_water_item_fails_where_it_applies(self) -> None:
        """The City sells water liens and names Water4All: an insert without (b)(7) fails."""
        report = check(_insert_with(lambda h: re.sub(r'<div class="item" data-block="tp-14-812-b-7">.*?</div>', "", h, flags=re.S)),
                       CITY, WINTER, ["tax-sale-insert"])
        assert failing(report) == {("tp-14-812-b-7", "Tax-Property § 14-812(b)(7)")}

    def test_water_item_fails_where_it_does_not_apply(self) -> None:
        """The County does not sell water liens: a water/sewer discount item on its insert is a finding."""
        extra = '<div class="item"><h2>Help with water and sewer bills</h2><p>Ask about the discount.</p></div>'
        report = check(_insert_with(lambda h: h.replace('<div class="item" data-block="tp-14-812-b-8-ii">', extra + '<div class="item" data-block="tp-14-812-b-8-ii">'),
                                    COUNTY, WINTER), COUNTY, WINTER, ["tax-sale-insert"])
        assert failing(report) == {("tp-14-812-b-7", "Tax-Property § 14-812(b)(7)")}
        assert "does not apply" in report.errors[0].message


class TestStatement:
    def test_itemized_lines_must_sum_to_the_total(self) -> None:
        """In Baltimore City the itemized lines must add up to the total: a wrong line amount fails (a)(3)."""
        pdf = render_variants(CITY, WINTER, "final-notice-statement",
                              [compose(CITY, WINTER, "final-notice-statement").replace("$310.55", "$310.50")])[0]
        report = check(pdf, CITY, WINTER, ["final-notice-statement"])
        assert ("tp-14-812-a-3", "Tax-Property § 14-812(a)(3)") in failing(report)

    def test_date_line_must_show_the_notice_date(self) -> None:
        """A Date line with another date than the notice date fails naming the Date line."""
        html = compose(CITY, WINTER, "final-notice-statement").replace("February 1, 2027", "January 25, 2027")
        report = check(render_variants(CITY, WINTER, "final-notice-statement", [html])[0], CITY, WINTER, ["final-notice-statement"])
        assert failing(report) == {("tp-14-812-a-2-date", "Tax-Property § 14-812(a)(2)")}

    def test_first_advertisement_too_soon_fails(self, clean: dict[tuple[str, dt.date], bytes]) -> None:
        """A known first-advertisement date less than 30 days after the notice date is a finding on the Date line."""
        j = job(CITY, WINTER)
        report = check_pdf(clean[("final-notice-statement", WINTER)], Target(j.collector, j.plan, first_advertisement=WINTER + dt.timedelta(days=20)),
                           documents=["final-notice-statement"])
        assert failing(report) == {("tp-14-812-a-2-date", "Tax-Property § 14-812(a)(2)")}

    def test_insert_on_the_back_of_the_statement_sheet_fails(self, clean: dict[tuple[str, dt.date], bytes]) -> None:
        """Printed duplex, an insert right after a one-page statement shares its sheet: a finding."""
        from pypdf import PdfWriter

        writer = PdfWriter()
        for key in (("final-notice-statement", WINTER), ("tax-sale-insert", WINTER)):
            writer.append(io.BytesIO(clean[key]))
        buffer = io.BytesIO()
        writer.write(buffer)
        report = check(buffer.getvalue(), CITY, WINTER)
        assert [d.part.document.id for d in report.documents] == list(DOCUMENTS)
        assert {f.block for f in report.errors} == {"separate-insert"}


# --------------------------------------------------------------------------------------------
# PDFs made elsewhere.


THIRD_PARTY = """<html><head><style>@page {{ size: letter; margin: 0.75in }} body {{ font-family: sans-serif; font-size: 10pt }}
{css}</style></head><body>
<h1>Tax sale: what happens and how to keep your home</h1>
<ol><li>Pay your taxes by the due date. You must pay even without a bill.</li>
<li>After the tax sale you can redeem your property until a court forecloses.</li></ol>
<p style="break-before: page">{b2}</p>
<p>The State Tax Sale Ombudsman can answer questions and help you apply for tax credits and other benefits.</p>
<p>State Tax Sale Ombudsman: toll-free 833-732-8411, https://dat.maryland.gov/taxsale</p>
{counsel}
<p>{b6}</p>
<p>More about the credit: visit dat.maryland.gov/taxsale or call 833.732.8411.</p>
<p>{b8}</p>
<p>Apply at dat.maryland.gov/taxsale or call (833) 732-8411.</p>
{extra}
</body></html>"""


def third_party(**changes: str) -> bytes:
    """An insert designed outside the project: hand-written HTML laid out by WeasyPrint directly."""
    import weasyprint

    import notices.render  # noqa: F401  (fonts: the bundled ones only)

    text = {b: load_registry().block(f"tp-14-812-b-{b[1:]}" + ("-i" if b != "b2" else "")).text for b in ("b2", "b6", "b8")}
    counsel = "<p>Free counseling: call the Homeowner's HOPE Hotline at 1-877-462-7555.</p>"
    values = {"css": "", "extra": "", "counsel": counsel, **text, **changes}
    return weasyprint.HTML(string=THIRD_PARTY.format(**values)).write_pdf()


class TestThirdParty:
    def test_compliant_county_insert_from_elsewhere_passes(self) -> None:
        """An insert made in another program, with every County item, passes when checked as the insert."""
        report = check(third_party(), COUNTY, WINTER, [INSERT])
        assert report.ok, [(f.block, f.message) for f in report.errors]
        assert [d.part.document.id for d in report.documents] == ["tax-sale-insert"]

    def test_insert_from_elsewhere_alone_is_no_piece(self) -> None:
        """Unless checked as the insert, the same PDF is recognised as the insert and fails as a piece without its statement."""
        report = check(third_party(), COUNTY, WINTER)
        assert [d.part.document.id for d in report.documents] == [INSERT]
        assert failing(report) == {("final-notice-statement", "Tax-Property § 14-812(a)")}

    def test_reworded_statement_shows_a_word_diff(self, tmp_path: Path) -> None:
        """A statement with one word changed fails with a word-level diff against the closest passage."""
        b2 = load_registry().block("tp-14-812-b-2").text.replace("principal residence", "main residence")
        path = tmp_path / "insert.pdf"
        path.write_bytes(third_party(b2=b2))
        result = runner.invoke(app, ["check", str(path), "-c", COUNTY, "-d", WINTER.isoformat(), "--document", INSERT])
        assert result.exit_code == 3
        assert re.search(r"FAIL\s+tp-14-812-b-2\s+Tax-Property § 14-812\(b\)\(2\)\s+2\s+not verbatim: - principal \+ main", result.output)

    def test_several_defects_are_each_named_and_nothing_else(self) -> None:
        """A reworded statement, a missing counseling line and a 2027 item are three findings, and only those three."""
        b2 = load_registry().block("tp-14-812-b-2").text.replace("principal residence", "main residence")
        b9 = load_registry().block("tp-14-812-b-9-i")
        report = check(third_party(b2=b2, counsel="", extra=f"<p>{b9.text}</p>"), COUNTY, WINTER, [INSERT])
        assert {f.block for f in report.errors} == {"tp-14-812-b-2", "tp-14-812-b-5", b9.id}

    def test_missing_counseling_line_is_reported(self) -> None:
        """Without the counseling phone the (b)(5) item fails and says what is missing."""
        report = check(third_party(counsel=""), COUNTY, WINTER, [INSERT])
        assert failing(report) == {("tp-14-812-b-5", "Tax-Property § 14-812(b)(5)")}
        assert "1-877-462-7555" in report.errors[0].message

    def test_2027_bill_insert_statement_on_a_winter_insert_fails(self) -> None:
        """The § 4-201.2(a)(1) installment statement, not in force before May 1, 2027, is a finding naming it."""
        a1 = load_registry().block("tp-4-201-2-a-1")
        report = check(third_party(extra=f"<p>{a1.text}</p>"), COUNTY, dt.date(2027, 4, 30), [INSERT])
        assert failing(report) == {(a1.id, a1.citation)}

    def test_text_outside_the_printable_area_and_wrong_page_size_fail(self) -> None:
        """Text within 0.25 in of the edge, and a page that is not US Letter, are findings."""
        css = "@page { size: A4; margin: 0 } body { margin: 0.1in }"
        report = check(third_party(css=css), COUNTY, WINTER, [INSERT])
        assert {f.block for f in report.errors} == {"printable-area", "page-size"}


class TestPrintFile:
    def test_each_piece_of_a_print_file_is_checked_and_a_bad_one_named(self, clean: dict[tuple[str, dt.date], bytes]) -> None:
        """A print file is cut at each statement; a piece with a reworded body is named with its pages, the others pass."""
        from pypdf import PdfWriter

        body = load_registry().block("tp-14-812-a-2-body")
        bad_html = mutate(compose(CITY, WINTER, "final-notice-statement"), body, "reworded", job(CITY, WINTER).plan.part("final-notice-statement").blocks)
        bad = render_variants(CITY, WINTER, "final-notice-statement", [bad_html])[0]
        writer = PdfWriter()
        for statement in (clean[("final-notice-statement", WINTER)], bad):
            writer.append(io.BytesIO(statement))
            writer.add_blank_page(612, 792)
            writer.append(io.BytesIO(clean[("tax-sale-insert", WINTER)]))
        buffer = io.BytesIO()
        writer.write(buffer)
        report = check(buffer.getvalue(), CITY, WINTER)
        assert [(f.block, f.page) for f in report.findings if f.status == "ok"] == [("piece 1", 1)]
        assert [(f.block, f.page, f.document) for f in report.errors] == [(body.id, 5, "piece 2: final-notice-statement")]


class TestCommand:
    def test_unreadable_pdf_is_a_usage_error(self, tmp_path: Path) -> None:
        """A file that is not a PDF gives a clear error and exit 2, no traceback."""
        path = tmp_path / "notes.pdf"
        path.write_text("not a pdf")
        result = runner.invoke(app, ["check", str(path), "-c", CITY, "-d", WINTER.isoformat()])
        assert result.exit_code == 2
        assert "Not a PDF file" in result.output and "Traceback" not in result.output

    def test_document_option_checks_the_whole_pdf_as_that_document(self, tmp_path: Path, clean: dict[tuple[str, dt.date], bytes]) -> None:
        """--document checks a PDF as the named document; an unknown document is a usage error."""
        path = tmp_path / "insert.pdf"
        path.write_bytes(clean[("tax-sale-insert", WINTER)])
        ok = runner.invoke(app, ["check", str(path), "-c", CITY, "-d", WINTER.isoformat(), "--document", "tax-sale-insert", "--json"])
        assert ok.exit_code == 0 and json.loads(ok.output)["files"][0]["documents"][0]["document"] == "tax-sale-insert"
        wrong = runner.invoke(app, ["check", str(path), "-c", CITY, "-d", WINTER.isoformat(), "--document", "hpp-insert"])
        assert wrong.exit_code == 2


class TestRenderUsesTheSameCheck:
    def test_render_checks_every_piece_and_insert_with_check_pdf(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """`notices render` calls the same check_pdf as `notices check`, on the insert and on each finished piece file."""
        import notices.piece as stage

        calls: list[tuple[bytes, Report]] = []
        real = stage.check_pdf

        def spy(pdf: Any, target: Target, **kwargs: Any) -> Report:
            report = real(pdf, target, **kwargs)
            calls.append((pdf, report))
            return report

        monkeypatch.setattr(stage, "check_pdf", spy)
        roll = tmp_path / "roll.csv"
        roll.write_text(csv_text([row(account_id=f"01-01-0001-00{i}") for i in range(1, 3)]))
        summary = run(Options(roll, tmp_path / "out", CITY, "final-notice", WINTER, workers=1))
        assert summary.rendered == 2
        assert any(r.documents and [d.part.document.id for d in r.documents] == ["tax-sale-insert"] for _, r in calls)
        j = job(CITY, WINTER)
        for piece in sorted((tmp_path / "out" / "pieces").glob("*.pdf")):
            seen = next(r for pdf, r in calls if pdf == piece.read_bytes())
            again = real(piece.read_bytes(), Target(j.collector, j.plan))
            # Render also holds the piece against the roll's own figures; everything else is the same report.
            rows = [(f.block, f.status, f.message, f.page) for f in seen.findings if not f.message.startswith("from the roll:")]
            assert rows == [(f.block, f.status, f.message, f.page) for f in again.findings]
            assert any(f.message.startswith("from the roll: owner name") for f in seen.findings)


    def test_piece_failing_the_check_is_quarantined(self, tmp_path: Path) -> None:
        """A property address too long to wrap runs off the sheet: render quarantines that piece, with the finding, and prints the other.

        (An owner's name that long never gets here: the envelope window refuses it first, see tests/test_postal.py.)
        """
        roll = tmp_path / "roll.csv"
        roll.write_text(csv_text([row(account_id="01-01-0001-001", property_address="W" * 120), row(account_id="01-01-0001-002")]))
        summary = run(Options(roll, tmp_path / "out", CITY, "final-notice", WINTER, workers=1))
        assert (summary.rendered, summary.quarantined) == (1, 1)
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        bad = next(p for p in manifest["pieces"] if p["status"] == "quarantined")
        assert bad["account_id"] == "01-01-0001-001" and {f["block"] for f in bad["findings"]} == {"printable-area"}
        assert [p.name for p in (tmp_path / "out" / "pieces").glob("*.pdf")] == ["000002-01-01-0001-002.pdf"]


def test_reading_a_pdf_twice_gives_the_same_words(tmp_path: Path) -> None:
    """Reading is deterministic (the shared insert's pages are cached by content)."""
    pdf = third_party()
    assert read_pdf(pdf).words == read_pdf(pdf).words


def test_near_copy_of_a_statement_not_in_force_is_named() -> None:
    """The 2027 installment statement with one word changed, on a 2027-02-01 insert, is still a finding naming § 14-812(b)(9)(i)."""
    b9 = load_registry().block("tp-14-812-b-9-i")
    report = check(third_party(extra=f"<p>{b9.text.replace('monthly', 'regular')}</p>"), COUNTY, WINTER, [INSERT])
    assert failing(report) == {(b9.id, b9.citation)}
    assert "nearly: - monthly + regular" in report.errors[0].message
