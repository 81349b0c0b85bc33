"""Large print (--large-print): every text run at least 18 pt, read from the PDF; the statute check still holds, one-page summary included."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_CSV, CITY_DATE, COUNTY_CSV, COUNTY_DATE, ROOT, subset_csv
from typer.testing import CliRunner

from notices import Options, run
from notices.cli import app
from notices.collectors import load_collector
from notices.compliance import check_file, fold, page_texts, target_for
from notices.compliance.typesize import LARGE_PRINT_PT, WINDOW_PT, text_runs
from notices.errors import ComplianceError, ConfigError, ResumeMismatch
from notices.inserts import run as run_inserts
from notices.postal import envelopes
from notices.workspace import init

COUNTY_IDS = ("0262284011", "0143652472")
CITY_IDS = ("12-06-1127-004", "09-03-3887-012")


def _render(tmp: Path, source: Path, ids: tuple[str, ...], collector: str, day: dt.date, **options: Any) -> tuple[Any, Path]:
    roll = subset_csv(source, ids, tmp / "roll.csv")
    out = tmp / "out"
    return run(Options(roll, out, collector, "final-notice", day, workers=1, **options)), out


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return _render(tmp_path_factory.mktemp("county-large"), COUNTY_CSV, COUNTY_IDS, "baltimore-county", COUNTY_DATE,
                   large_print=True)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return _render(tmp_path_factory.mktemp("city-large"), CITY_CSV, CITY_IDS, "baltimore-city", CITY_DATE, large_print=True)


def _pieces(out: Path) -> list[Path]:
    return sorted((out / "pieces").glob("*.pdf"))


def _in_window(run_box: tuple[float, float, float, float], collector: str, height: float = 792.0) -> bool:
    envelope = envelopes.for_profile(load_collector(collector).envelope)
    x, y = (run_box[0] + run_box[2]) / 2, (run_box[1] + run_box[3]) / 2
    return any(w.left * 72 <= x <= w.right * 72 and height - w.bottom * 72 <= y <= height - w.top * 72
               for w in (envelope.address_window, envelope.return_window) if w is not None)


class TestLargePrintRenders:
    @pytest.mark.parametrize("which", ["county", "city"])
    def test_the_sample_renders_in_large_print_and_every_piece_passes_the_check(self, which: str,
                                                                                request: pytest.FixtureRequest) -> None:
        summary, out = request.getfixturevalue(which)
        assert summary.rendered == 2 and summary.quarantined == 0
        collector, day = ("baltimore-county", COUNTY_DATE) if which == "county" else ("baltimore-city", CITY_DATE)
        target = target_for(collector, "final-notice", day, large_print=True)
        for piece in _pieces(out):
            report = check_file(str(piece), target)
            assert report.ok, [f.message for f in report.errors]
            sizes = [f for f in report.findings if f.block == "type-size"]
            assert [f.status for f in sizes] == ["ok"], sizes

    @pytest.mark.parametrize("which", ["county", "city"])
    def test_every_run_is_at_least_18_pt_but_the_window_address_keeps_its_postal_size(
            self, which: str, request: pytest.FixtureRequest) -> None:
        _, out = request.getfixturevalue(which)
        collector = "baltimore-county" if which == "county" else "baltimore-city"
        runs = text_runs(_pieces(out)[0].read_bytes())
        window = [r for r in runs if r.page == 0 and _in_window(r.box, collector)]
        body = [r for r in runs if r not in window]
        assert body and min(r.size for r in body) >= LARGE_PRINT_PT - 0.01
        assert any(r.size >= 20 for r in body), "headings are larger than the body text"
        # What shows through the windows is the address block at the size the window was measured for.
        assert window and all(WINDOW_PT <= r.size < LARGE_PRINT_PT for r in window)

    def test_the_manifest_and_summary_say_large_print(self, county: tuple[Any, Path]) -> None:
        summary, out = county
        assert summary.large_print is True
        assert json.loads((out / "manifest.json").read_text())["summary"]["large_print"] is True

    def test_the_insert_prints_the_collectors_large_print_summary_and_every_statute_word(self, county: tuple[Any, Path]) -> None:
        text = fold(" ".join(page_texts(_pieces(county[1])[0].read_bytes())))
        assert "Pay it within 6 months; sooner costs less." in text  # templates/baltimore-county/summary-large-print.html.j2
        assert "Your bill comes on July 1." not in text  # the standard summary's words
        # The statements are data and never shortened: the check found each verbatim (the report above), and here by eye.
        assert ("If this property is your principal residence and you are having difficulty paying the taxes on the "
                "property, there are programs that may help you.") in text

    def test_the_notice_after_tax_sale_renders_in_large_print(self, tmp_path: Path) -> None:
        roll = subset_csv(ROOT / "samples/baltimore-city-sale-results.csv", ("26-05-6289-033",), tmp_path / "sales.csv")
        summary = run(Options(roll, tmp_path / "out", "baltimore-city", "post-sale-notice", dt.date(2027, 7, 1), workers=1,
                              large_print=True))
        assert summary.rendered == 1 and summary.quarantined == 0
        report = check_file(str(_pieces(tmp_path / "out")[0]),
                            target_for("baltimore-city", "post-sale-notice", dt.date(2027, 7, 1), large_print=True))
        assert report.ok and any(f.block == "type-size" and f.status == "ok" for f in report.findings)

    def test_a_spanish_large_print_run_of_the_city_passes_too(self, tmp_path: Path) -> None:
        summary, _ = _render(tmp_path, CITY_CSV, CITY_IDS[:1], "baltimore-city", CITY_DATE, large_print=True, language="es")
        assert summary.rendered == 1 and summary.quarantined == 0


class TestTheTypeSizeCheck:
    def test_a_piece_in_ordinary_print_fails_the_large_print_check_naming_its_small_runs(self, tmp_path: Path) -> None:
        _, out = _render(tmp_path, COUNTY_CSV, COUNTY_IDS[:1], "baltimore-county", COUNTY_DATE)
        piece = _pieces(out)[0]
        assert check_file(str(piece), target_for("baltimore-county", "final-notice", COUNTY_DATE)).ok
        report = check_file(str(piece), target_for("baltimore-county", "final-notice", COUNTY_DATE, large_print=True))
        small = [f for f in report.errors if f.block == "type-size"]
        assert small and "below the 18 pt of large print" in small[0].message and small[0].page == 1

    def test_notices_check_large_print_reports_the_type_size_and_exits_3(self, county: tuple[Any, Path], tmp_path: Path) -> None:
        runner = CliRunner()
        ok = runner.invoke(app, ["check", str(_pieces(county[1])[0]), "-c", "baltimore-county", "-d", COUNTY_DATE.isoformat(),
                                 "--large-print", "--json"])
        assert ok.exit_code == 0, ok.output
        rows = json.loads(ok.output)["files"][0]["findings"]
        assert any(r["block"] == "type-size" and r["status"] == "ok" for r in rows)
        _, plain = _render(tmp_path, COUNTY_CSV, COUNTY_IDS[:1], "baltimore-county", COUNTY_DATE)
        bad = runner.invoke(app, ["check", str(_pieces(plain)[0]), "-c", "baltimore-county", "-d", COUNTY_DATE.isoformat(),
                                  "--large-print"])
        assert bad.exit_code == 3 and "type-size" in bad.output


class TestTheOnePageSummary:
    def _long_summary_home(self, tmp_path: Path) -> Path:
        """A workspace whose large-print summary is the standard one: too long for one page at 18 pt."""
        home = tmp_path / "office"
        init(home, "baltimore-county")
        folder = home / "collectors" / "baltimore-county"
        shutil.copy(ROOT / "templates/baltimore-county/summary.html.j2", folder / "summary-large-print.html.j2")
        return home

    def test_a_summary_that_overflows_at_18_pt_stops_the_run_before_any_piece(self, tmp_path: Path) -> None:
        home = self._long_summary_home(tmp_path)
        with pytest.raises(ComplianceError) as caught:
            _render(tmp_path, COUNTY_CSV, COUNTY_IDS, "baltimore-county", COUNTY_DATE, large_print=True, home=home)
        message = str(caught.value)
        assert "Baltimore County" in message and "tax-sale-insert" in message and "runs to 2 pages" in message
        assert caught.value.field == "large_print.summary"
        assert not list((tmp_path / "out").rglob("*.pdf"))

    def test_the_command_line_exits_3_on_an_overflowing_summary(self, tmp_path: Path) -> None:
        home = self._long_summary_home(tmp_path)
        roll = subset_csv(COUNTY_CSV, COUNTY_IDS[:1], tmp_path / "roll.csv")
        result = CliRunner().invoke(app, ["render", str(roll), "-c", "baltimore-county", "-d", COUNTY_DATE.isoformat(),
                                          "-o", str(tmp_path / "out"), "--large-print", "--proof", "--workers", "1",
                                          "--home", str(home), "--no-progress"])
        assert result.exit_code == 3, result.output
        assert "runs to 2 pages at 18 pt" in result.output

    def test_the_same_workspace_renders_in_ordinary_print(self, tmp_path: Path) -> None:
        home = self._long_summary_home(tmp_path)
        summary, _ = _render(tmp_path, COUNTY_CSV, COUNTY_IDS[:1], "baltimore-county", COUNTY_DATE, home=home)
        assert summary.rendered == 1

    def test_a_profile_naming_a_summary_outside_the_collectors_templates_is_refused(self, tmp_path: Path) -> None:
        home = tmp_path / "office"
        init(home, "baltimore-county")
        profile = home / "collectors" / "baltimore-county" / "collector.toml"
        profile.write_text(profile.read_text() + '\n[large_print]\nsummary = "../../secret.html.j2"\n')
        with pytest.raises(ConfigError) as caught:
            load_collector("baltimore-county", home=home)
        assert caught.value.field == "large_print.summary"


class TestResumeAndInserts:
    def test_a_resume_with_another_large_print_setting_is_refused(self, tmp_path: Path) -> None:
        roll = subset_csv(COUNTY_CSV, COUNTY_IDS[:1], tmp_path / "roll.csv")
        options = Options(roll, tmp_path / "out", "baltimore-county", "final-notice", COUNTY_DATE, workers=1)
        run(options)
        with pytest.raises(ResumeMismatch) as caught:
            run(dataclasses.replace(options, resume=True, large_print=True))
        assert "options" in str(caught.value)

    def test_the_bill_inserts_print_in_large_print_and_pass_the_check(self, tmp_path: Path) -> None:
        day = dt.date(2027, 7, 1)
        summary = run_inserts("baltimore-city", "bill-inserts", day, tmp_path, large_print=True)
        assert summary.large_print and len(summary.rendered) == 2
        for row in summary.rendered:
            assert row.file.endswith("-large-print.pdf")
            pdf = tmp_path / row.file
            report = check_file(str(pdf), target_for("baltimore-city", "bill-inserts", day, large_print=True), [row.document])
            assert report.ok, [f.message for f in report.errors]
            assert min(r.size for r in text_runs(pdf.read_bytes())) >= LARGE_PRINT_PT - 0.01
