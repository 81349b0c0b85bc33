"""Spanish mailings: statute words in English with a translation beside them, Babel formats, a one-page summary."""

from __future__ import annotations

import datetime as dt
import gettext
import json
import re
from pathlib import Path

import pytest
from conftest import job_for

from notices import Options, compose, i18n, run
from notices.compliance import find_words, page_texts
from notices.deadlines import statement_dates
from notices.errors import ComplianceError, ConfigError
from notices.inputs import read_accounts
from notices.model import Record
from notices.piece import render_inserts
from notices.statutes import load_registry
from notices.validate import Rules, validate

ROOT = Path(__file__).resolve().parent.parent
CITY_CSV = ROOT / "samples/baltimore-city-final-notices.csv"
SALES = ROOT / "samples/baltimore-city-sale-results.csv"
CITY_DATE = dt.date(2027, 2, 1)
FORMAT = re.compile(r"%(?:\(\w+\))?[sd%]")


def _first_accounts(tmp_path: Path, count: int) -> Path:
    """The first ``count`` accounts of the City sample (all their rows), as a file of their own."""
    lines = CITY_CSV.read_text("utf-8").splitlines(keepends=True)
    ids: list[str] = []
    kept = [lines[0]]
    for line in lines[1:]:
        account = line.split(",", 1)[0]
        if account not in ids:
            if len(ids) == count:
                break
            ids.append(account)
        kept.append(line)
    path = tmp_path / "city.csv"
    path.write_text("".join(kept), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def city_es(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("es")
    out = tmp / "out"
    summary = run(Options(_first_accounts(tmp, 3), out, "baltimore-city", "final-notice", CITY_DATE, language="es", workers=1))
    return out, summary


def _pieces(out: Path) -> list[dict[str, object]]:
    return json.loads((out / "manifest.json").read_text())["pieces"]


class TestSpanishFinalNotice:
    def test_a_spanish_run_of_the_city_sample_passes_the_statute_check(self, city_es: tuple[Path, object]) -> None:
        """Three City accounts render in Spanish: nothing quarantined, the manifest says es."""
        out, summary = city_es
        assert summary.balanced and summary.rendered == summary.records_in == 3  # type: ignore[attr-defined]
        assert {p["language"] for p in _pieces(out)} == {"es"}

    def test_each_statement_prints_in_the_statute_english_words_and_in_spanish(self, city_es: tuple[Path, object]) -> None:
        """Every statement of the statement and the insert is verbatim in English in the PDF text, its translation too."""
        out, _ = city_es
        registry = load_registry()
        for piece in _pieces(out):
            texts = page_texts((out / "pieces" / str(piece["piece_file"])).read_bytes())
            statements = [registry.block(b) for b in str(piece["blocks"]).split() if registry.block(b).kind != "content"]
            assert len(statements) >= 6
            for block in statements:
                english = find_words(block.text, texts)
                spanish = find_words(block.translation_es, texts)
                assert english is not None, block.id
                assert spanish is not None, block.id
                assert english[1] < spanish[1], f"{block.id}: the translation follows the statute's words"

    def test_dates_and_money_are_formatted_for_es_us(self, city_es: tuple[Path, object]) -> None:
        """The notice date prints as "1 de febrero de 2027" and the pay-by date in Spanish too."""
        out, _ = city_es
        texts = page_texts((out / "pieces" / str(_pieces(out)[0]["piece_file"])).read_bytes())
        assert find_words("1 de febrero de 2027", texts) is not None
        assert find_words("3 de marzo de 2027", texts) is not None
        assert find_words("Total adeudado", texts) is not None
        assert find_words("February", texts) is None

    def test_the_insert_and_its_summary_are_in_spanish_on_one_page(self, city_es: tuple[Path, object]) -> None:
        """The insert's summary heading is Spanish and the summary begins and ends on the insert's first page."""
        out, _ = city_es
        piece = _pieces(out)[0]
        texts = page_texts((out / "pieces" / str(piece["piece_file"])).read_bytes())
        first = int(piece["statement_pages"])  # type: ignore[call-overload]
        while not texts[first].strip():  # a blank back of the statement's last sheet
            first += 1
        summary = find_words("Cómo funciona la venta por impuestos y cómo conservar su propiedad", texts)
        last_step = find_words("Pague el gravamen original y todos los impuestos nuevos, aunque ya no viva allí.", texts)
        assert summary is not None and last_step is not None
        assert summary[0] == last_step[0] == first


class TestSpanishPostSale:
    def test_a_spanish_notice_after_tax_sale_renders_with_its_insert(self, tmp_path: Path) -> None:
        """The sale-results sample renders in Spanish; the § 14-817.1(c) line is in English and in Spanish."""
        summary = run(Options(SALES, tmp_path, "baltimore-city", "post-sale-notice", dt.date(2027, 7, 1), language="es", workers=1))
        assert summary.balanced and summary.rendered == summary.records_in == 10
        piece = _pieces(tmp_path)[0]
        texts = page_texts((tmp_path / "pieces" / str(piece["piece_file"])).read_bytes())
        block = load_registry().block("tp-14-817-1-c")
        assert find_words(block.text, texts) is not None and find_words(block.translation_es, texts) is not None
        assert find_words("12 de mayo de 2027", texts) is not None
        assert find_words("Su derecho a redimir", texts) is not None


class TestSpanishBillInsertsAndWeb:
    def test_the_bill_inserts_print_in_spanish_with_the_statement_verbatim(self, tmp_path: Path) -> None:
        """On 2027-07-01 both City bill inserts render in Spanish; § 4-201.2(a)(1) is in English with its translation."""
        from notices import inserts

        summary = inserts.run("baltimore-city", "bill-inserts", dt.date(2027, 7, 1), tmp_path, "es")
        assert [row.document for row in summary.rendered] == ["hpp-insert", "installment-insert"]
        block = load_registry().block("tp-4-201-2-a-1")
        for row in summary.rendered:
            texts = page_texts((tmp_path / row.file).read_bytes())
            assert row.language == "es" and row.pages == 1
            has_statement = find_words(block.text, texts) is not None
            assert has_statement == (row.document == "installment-insert")
            if has_statement:
                assert find_words(block.translation_es, texts) is not None
        hpp = page_texts((tmp_path / summary.rendered[0].file).read_bytes())
        assert find_words("Programa de Protección al Propietario de Vivienda", hpp) is not None

    def test_the_web_page_says_lang_es_and_carries_the_statement_in_english(self, tmp_path: Path) -> None:
        """The Spanish web page declares lang="es" and holds the statute's English words and the translation."""
        from notices import web

        web.run("baltimore-city", dt.date(2027, 7, 1), tmp_path, "es")
        page = (tmp_path / "index.html").read_text("utf-8")
        block = load_registry().block("tp-4-201-2-a-1")
        assert 'lang="es"' in page
        assert block.text in page and block.translation_es in page


class TestOnePage:
    def test_the_generic_summary_fits_one_page_in_spanish(self, tmp_path: Path) -> None:
        """A collector with no summary of its own gets the statewide one, and it still fits one page in Spanish."""
        from notices.collectors import load_collector
        from notices.job import make_job
        from notices.resolve import plan

        templates = ROOT / "templates"
        for folder in ("base", "baltimore-county"):
            (tmp_path / ("generic" if folder != "base" else folder)).mkdir()
        (tmp_path / "base/collector.toml").write_bytes((templates / "base/collector.toml").read_bytes())
        (tmp_path / "generic/collector.toml").write_bytes((templates / "baltimore-county/collector.toml").read_bytes())
        collector = load_collector("generic", root=tmp_path)
        for day in (dt.date(2027, 3, 1), dt.date(2027, 5, 1)):
            the_plan = plan(collector, "final-notice", day)
            job = make_job(collector, the_plan, "es", reuse_layouts=False)
            html = job.composer.fragment(the_plan.parts[1], None, seq=0, pages=1)
            assert "Impuestos sin pagar (después del vencimiento)" in html  # the statewide summary, in Spanish
            assert len(render_inserts(job)) == 1  # ComplianceError if the summary ran past one page


    def test_a_summary_that_overflows_in_translation_fails_the_render(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """If a translation pushes the § 14-812(b)(1) summary past one page, the insert is refused, not printed."""
        spanish = i18n.translations("es")

        class Wordy(gettext.NullTranslations):
            def gettext(self, message: str) -> str:
                text = spanish.gettext(message)
                return " ".join([text] * 40) if message == "What you must do:" else text

        monkeypatch.setattr(compose, "translations", lambda language: Wordy())
        job = job_for("baltimore-city", "final-notice", CITY_DATE, "es")
        with pytest.raises(ComplianceError) as caught:
            render_inserts(job)
        assert "tp-14-812-b-1" in str(caught.value) and "one page" in str(caught.value)


class TestComposedSpanish:
    def _html(self, language: str) -> str:
        raw = read_accounts(CITY_CSV)[0]
        record = validate(raw, Rules(CITY_DATE))
        assert isinstance(record, Record)
        job = job_for("baltimore-city", "final-notice", CITY_DATE, language)
        return str(job.composer.fragment(job.statement, record, seq=1, pages=1, **statement_dates(job.collector, job.plan.day, record)))

    def test_translations_carry_lang_and_no_block_marker(self) -> None:
        """Each translation element says lang="es" and carries no data-block, so the markers are the English ones."""
        english, spanish = self._html("en"), self._html("es")
        assert compose.markers(spanish) == compose.markers(english)
        translations = re.findall(r'<(\w+) class="translation[^"]*"[^>]*>', spanish)
        assert len(translations) == 4  # Date, title, body, City lien warning
        assert all('lang="es"' in t and "data-block" not in t for t in re.findall(r'<\w+ class="translation[^>]*>', spanish))
        assert 'class="translation' not in english

    def test_a_statement_without_a_translation_cannot_print_in_spanish(self) -> None:
        """A Spanish mailing refuses a statement the registry has no translation for, rather than print it untranslated."""
        block = load_registry().block("tp-14-812-b-2")
        hook = compose.statement_translation("es")
        assert "programas que pueden ayudarle" in hook(block)
        untranslated = type(block)(**{**block.__dict__, "translation_es": ""})
        with pytest.raises(Exception, match="no 'es' translation"):
            hook(untranslated)


class TestCatalog:
    def test_every_statement_in_the_registry_has_a_spanish_translation(self) -> None:
        """Each statement and form block holds translation_es, and it differs from the English words."""
        for block in load_registry().blocks:
            if block.kind != "content":
                assert block.translation_es and block.translation_es != block.text, block.id

    def test_every_template_string_has_a_spanish_translation(self) -> None:
        """Re-extracting the templates finds no string the Spanish catalog lacks (run notices/locale/refresh.py)."""
        assert i18n.untranslated("es") == []

    def test_each_translation_keeps_the_placeholders_of_its_english(self) -> None:
        """%(name)s placeholders (and %% signs) are the same in every msgid and its msgstr."""
        for message in i18n.read_catalog("es"):
            if message.id and message.string:
                assert sorted(FORMAT.findall(str(message.id))) == sorted(FORMAT.findall(str(message.string))), message.id

    def test_an_unknown_language_is_a_configuration_error(self) -> None:
        """A language with no catalog stops the run with a clear error."""
        with pytest.raises(ConfigError):
            i18n.translations("fr")

    def test_english_has_no_catalog_and_prints_the_templates_words(self) -> None:
        """English needs no catalog: its translations are the identity."""
        assert i18n.translations("en").gettext("Total due") == "Total due"
        assert i18n.translations("es").gettext("Total due") == "Total adeudado"
