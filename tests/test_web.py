"""Website content (§ 4-201.2(c), § 4-201.1(e), § 2-112(d)(4)(II)): the inserts' own words, as self-contained HTML."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notices.cli import app
from notices.collectors import load_collector
from notices.compliance import fold, page_texts
from notices.inserts import run as run_inserts
from notices.statutes import load_registry
from notices.web import block_texts, build, run, visible_text

BEFORE = dt.date(2027, 4, 30)
AFTER = dt.date(2027, 5, 1)
STATEMENT = "tp-4-201-2-a-1"


@pytest.fixture(scope="module")
def sites() -> dict[tuple[str, dt.date], dict[str, str]]:
    """The web files of both collectors, the day before and the day of Chapter 108 (built in memory)."""
    return {(c, d): build(c, d)[0] for c in ("baltimore-county", "baltimore-city") for d in (BEFORE, AFTER)}


def _statement() -> str:
    return fold(load_registry().block(STATEMENT).text)


class TestWhatIsWritten:
    def test_from_2027_05_01_every_insert_and_the_ombudsman_block_have_a_fragment(self, sites: dict) -> None:
        """On May 1, 2027 the site gets the HPP and installment fragments, the page, and the Ombudsman's block."""
        assert sorted(sites["baltimore-county", AFTER]) == [
            "hpp-insert.fragment.html", "index.html", "installment-insert.fragment.html", "ombudsman-installment.fragment.html"]

    def test_before_2027_05_01_only_the_hpp_content_is_written(self, sites: dict) -> None:
        """The day before, there is no installment content at all: the HPP fragment and the page only."""
        assert sorted(sites["baltimore-county", BEFORE]) == ["hpp-insert.fragment.html", "index.html"]

    def test_installment_statement_is_verbatim_on_the_page_from_2027_05_01_and_absent_before(self, sites: dict) -> None:
        """The § 4-201.2 statement is on the collector's page word for word from its first day, and not before."""
        for collector in ("baltimore-county", "baltimore-city"):
            assert _statement() in fold(visible_text(sites[collector, AFTER]["index.html"]))
            assert _statement() not in fold(visible_text(sites[collector, BEFORE]["index.html"]))

    def test_ombudsman_block_carries_statement_description_and_instructions(self, sites: dict) -> None:
        """§ 2-112(d)(4)(II): the statement verbatim, a complete description and detailed enrolment steps."""
        html = sites["baltimore-county", AFTER]["ombudsman-installment.fragment.html"]
        texts = block_texts(html)
        assert list(texts) == ["tp-2-112-d-4-ii-1", "tp-2-112-d-4-ii-2", "tp-2-112-d-4-ii-3"]
        assert fold(texts["tp-2-112-d-4-ii-1"]) == _statement()
        assert "escrow" in texts["tp-2-112-d-4-ii-2"] and "90 days" in texts["tp-2-112-d-4-ii-2"]
        assert "(833) 732-8411" in texts["tp-2-112-d-4-ii-3"]

    def test_hpp_fragment_links_to_the_application(self, sites: dict) -> None:
        """§ 4-201.1(e): the collector's page describes the Program and links to its application (a profile fact)."""
        link = load_collector("baltimore-county").get("hpp.application_website")
        html = sites["baltimore-county", BEFORE]["hpp-insert.fragment.html"]
        assert "tp-4-201-1-e" in block_texts(html)
        assert re.search(r'data-block="tp-4-201-1-e".*href="https://' + re.escape(link) + '"', html, re.S)

    def test_unconfirmed_application_link_is_reported_as_a_placeholder(self) -> None:
        """The application address is not confirmed, and the summary says so."""
        _, summary = build("baltimore-county", AFTER)
        assert any(p.startswith("hpp.application_website") for p in summary.placeholders)


class TestMarkup:
    @pytest.mark.parametrize("collector", ["baltimore-county", "baltimore-city"])
    def test_no_external_assets(self, sites: dict, collector: str) -> None:
        """Nothing to fetch: no stylesheet links, scripts, images, imports or url() in any file."""
        for name, html in sites[collector, AFTER].items():
            assert not re.search(r"<link\b|<script\b|<img\b|<iframe\b|@import|url\(", html, re.I), name

    def test_page_has_lang_viewport_one_h1_and_sections_with_h2(self, sites: dict) -> None:
        """The full page is a real document: lang, a viewport for phones, one h1, each insert a section headed by an h2."""
        html = sites["baltimore-city", AFTER]["index.html"]
        assert re.search(r'<html lang="en">', html)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert len(re.findall(r"<h1\b", html)) == 1
        assert len(re.findall(r"<section\b", html)) == 2 == len(re.findall(r'<h2 id="[^"]+"', html))

    def test_fragments_carry_lang_and_no_h1(self, sites: dict) -> None:
        """A fragment goes inside the collector's page: its own lang attribute, a section and an h2, never an h1."""
        for name, html in sites["baltimore-county", AFTER].items():
            if name.endswith(".fragment.html"):
                assert html.startswith('<div class="notices-web" lang="en"'), name
                assert "<section" in html and "<h2" in html and "<h1" not in html, name

    def test_styles_fit_a_320_px_screen(self, sites: dict) -> None:
        """The styles set a max-width and no fixed widths wider than a phone: readable at 320 px."""
        html = sites["baltimore-city", AFTER]["index.html"]
        css = "\n".join(re.findall(r"<style>(.*?)</style>", html, re.S))
        assert "max-width" in css
        for value, unit in re.findall(r"(?<![-\w])(?:width|min-width)\s*:\s*([\d.]+)(px|rem|em|in|cm|mm|pt)", css):
            assert float(value) * {"px": 1, "rem": 16, "em": 16, "in": 96, "cm": 37.8, "mm": 3.78, "pt": 4 / 3}[unit] <= 320

    def test_edition_is_recorded_in_page_and_manifest(self, tmp_path: Path) -> None:
        """index.html and manifest.json name the edition of the law the content follows."""
        summary = run("baltimore-county", AFTER, tmp_path)
        assert '<meta name="notices-edition" content="2027-05-01">' in (tmp_path / "index.html").read_text("utf-8")
        data = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
        assert data["edition"] == summary.edition == "2027-05-01"
        assert {f["file"] for f in data["files"]} == {p.name for p in tmp_path.glob("*.html")}


class TestSameWordsAsPrint:
    @pytest.mark.parametrize("collector", ["baltimore-county", "baltimore-city"])
    def test_each_block_on_the_web_reads_as_in_the_printed_insert(self, tmp_path: Path, sites: dict, collector: str) -> None:
        """Every statement and every insert block's visible words on the web page are in the insert's PDF text."""
        run_inserts(collector, "bill-inserts", AFTER, tmp_path)
        registry = load_registry()
        for document in ("hpp-insert", "installment-insert"):
            pdf = (tmp_path / "inserts" / f"{document}-{collector}-{AFTER.isoformat()}.pdf").read_bytes()
            printed = fold(" ".join(page_texts(pdf)))
            texts = block_texts(sites[collector, AFTER][f"{document}.fragment.html"])
            insert_blocks = [b for b in texts if registry.block(b).document == document]
            assert insert_blocks, document
            for block_id in insert_blocks:
                assert fold(texts[block_id]) in printed, (document, block_id, texts[block_id])


class TestCommandLine:
    def test_web_command_writes_the_files(self, tmp_path: Path) -> None:
        """`notices web` exits 0 and writes the fragments, the page and the manifest."""
        result = CliRunner().invoke(app, ["web", "-c", "baltimore-city", "-d", "2027-05-01", "-o", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "index.html").is_file() and (tmp_path / "installment-insert.fragment.html").is_file()

    def test_web_command_on_an_unrecorded_date_exits_2(self, tmp_path: Path) -> None:
        """A date before the registry's first is a clear error, not an empty page."""
        result = CliRunner().invoke(app, ["web", "-c", "baltimore-city", "-d", "2024-06-30", "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert not list(tmp_path.glob("*.html"))

    def test_a_rerun_for_an_earlier_date_removes_the_installment_fragment(self, tmp_path: Path) -> None:
        """Content of a later date must not stay behind when the folder is rebuilt for an earlier one."""
        run("baltimore-county", AFTER, tmp_path)
        run("baltimore-county", BEFORE, tmp_path)
        assert sorted(p.name for p in tmp_path.glob("*.html")) == ["hpp-insert.fragment.html", "index.html"]
