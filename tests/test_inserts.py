"""The bill inserts (§ 4-201.1, § 4-201.2): one checked PDF per insert in force, its designer per § 4-201.2(b), a manifest."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pytest
from conftest import ROOT
from jinja2 import ChoiceLoader, DictLoader
from pypdf import PdfReader
from typer.testing import CliRunner

from notices import inserts
from notices.cli import app
from notices.collectors import load_collector
from notices.compliance import check_composed, fold, page_texts
from notices.compose import markers
from notices.errors import ConfigError
from notices.inserts import MANIFEST_COLUMNS, composer_for, designer, insert_job, run
from notices.piece import render_inserts
from notices.resources import templates_dir

DAY = dt.date(2027, 7, 1)  # the first bills that need the § 4-201.2 insert


def _text(pdf: bytes) -> str:
    return fold(" ".join(page_texts(pdf)))


def _meta(pdf: bytes) -> dict[str, str]:
    return {str(k).lstrip("/"): str(v) for k, v in (PdfReader(io.BytesIO(pdf)).metadata or {}).items()}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The July 2027 bill inserts of both collectors, rendered once for the module."""
    out = {}
    for collector in ("baltimore-county", "baltimore-city"):
        folder = tmp_path_factory.mktemp(collector)
        run(collector, "bill-inserts", DAY, folder)
        out[collector] = folder
    return out


def _pdf(made: dict[str, Path], collector: str, document: str) -> bytes:
    return (made[collector] / "inserts" / f"{document}-{collector}-{DAY.isoformat()}.pdf").read_bytes()


class TestDesigner:
    def test_collector_without_local_program_gets_the_ombudsmans_design(self) -> None:
        """§ 4-201.2(b)(1): with only the State program, the State Tax Sale Ombudsman designs the insert."""
        who = designer(load_collector("baltimore-county"), "installment-insert")
        assert (who.role, who.name, who.basis) == ("ombudsman", "State Tax Sale Ombudsman", "Tax-Property § 4-201.2(b)(1)")

    def test_collector_with_local_program_designs_its_own(self) -> None:
        """§ 4-201.2(b)(2): Baltimore City describes its § 10-208 monthly plan, so the City designs the insert."""
        who = designer(load_collector("baltimore-city"), "installment-insert")
        assert (who.role, who.name, who.basis) == ("collector", "Baltimore City", "Tax-Property § 4-201.2(b)(2)")

    def test_hpp_insert_is_always_the_ombudsmans(self) -> None:
        """§ 4-201.1: the HPP insert is designed by the Ombudsman, even for a collector with a local program."""
        assert designer(load_collector("baltimore-city"), "hpp-insert").role == "ombudsman"

    def test_local_program_under_another_law_is_a_configuration_error(self) -> None:
        """A local program must say whether it is under § 10-208 or § 10-209; anything else is refused."""
        city = load_collector("baltimore-city")
        facts = {**city.facts, "installment": {**city.facts["installment"], "local": {**city.facts["installment"]["local"], "law": "10-210"}}}
        with pytest.raises(ConfigError):
            designer(dataclasses.replace(city, facts=facts), "installment-insert")


class TestRenderedInserts:
    def test_county_gets_the_ombudsmans_design_without_a_template_of_its_own(self, made: dict[str, Path]) -> None:
        """Baltimore County has no insert template, yet gets a checked installment insert designed by the Ombudsman."""
        assert not list((templates_dir() / "baltimore-county").glob("installment-insert*"))
        pdf = _pdf(made, "baltimore-county", "installment-insert")
        assert _meta(pdf)["noticesdesigner"] == "State Tax Sale Ombudsman (Tax-Property § 4-201.2(b)(1))"
        assert "Baltimore City monthly payment plan" not in _text(pdf)

    def test_metadata_keeps_who_answers_for_the_design_apart_from_whose_layout_was_printed(self, made: dict[str, Path]) -> None:
        """The Ombudsman answers for the statewide inserts, but the layout printed is this project's, and the PDF says both."""
        for collector_id in ("baltimore-city", "baltimore-county"):
            meta = _meta(_pdf(made, collector_id, "hpp-insert"))
            assert meta["noticesdesigner"].startswith("State Tax Sale Ombudsman")
            assert meta["noticeslayout"] == "templates/base (this project's layout)"
        assert _meta(_pdf(made, "baltimore-city", "installment-insert"))["noticeslayout"] == (
            "templates/baltimore-city (the collector's own layout)")

    def test_city_insert_is_the_citys_design_describing_both_programs(self, made: dict[str, Path]) -> None:
        """Baltimore City's insert carries its own design and describes the State program and its monthly plan."""
        city = load_collector("baltimore-city")
        pdf = _pdf(made, "baltimore-city", "installment-insert")
        text = _text(pdf)
        assert _meta(pdf)["noticesdesigner"] == "Baltimore City (Tax-Property § 4-201.2(b)(2))"
        assert "The State installment payment program" in text
        assert fold(city.get("installment.local.name")) in text
        assert fold(city.get("installment.local.how_to_enroll")) in text
        assert "Two ways to pay your property taxes in monthly installments" in text

    def test_hpp_insert_is_the_same_for_every_collector(self, made: dict[str, Path]) -> None:
        """The Ombudsman's design reads templates/base only: the City and the County print the same words."""
        assert _text(_pdf(made, "baltimore-city", "hpp-insert")) == _text(_pdf(made, "baltimore-county", "hpp-insert"))

    def test_hpp_insert_describes_the_program_and_asks_for_donations(self, made: dict[str, Path]) -> None:
        """The HPP insert states the limits and the years from the profile and points to the donation website."""
        county = load_collector("baltimore-county")
        text = _text(_pdf(made, "baltimore-county", "hpp-insert"))
        for fact in ("hpp.assessment_limit", "hpp.income_limit", "hpp.donation_website"):
            assert fold(str(county.get(fact))) in text
        assert "at least 3 years" in text and "donation" in text

    def test_manifest_has_one_row_per_insert_with_its_facts(self, made: dict[str, Path]) -> None:
        """manifest.csv and manifest.json list each insert with file, pages, sha256, blocks, citations, edition, designer."""
        folder = made["baltimore-city"]
        with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == MANIFEST_COLUMNS
        assert [r["document"] for r in rows] == ["hpp-insert", "installment-insert"]
        for r in rows:
            data = (folder / r["file"]).read_bytes()
            assert r["sha256"] == hashlib.sha256(data).hexdigest()
            assert int(r["pages"]) == len(PdfReader(io.BytesIO(data)).pages) >= 1
            assert r["edition"] == "2027-05-01"
        assert rows[0]["designer"] == "State Tax Sale Ombudsman" and rows[1]["designer"] == "Baltimore City"
        assert rows[0]["layout"] == "templates/base (this project's layout)"
        assert rows[1]["layout"] == "templates/baltimore-city (the collector's own layout)"
        assert rows[1]["blocks"] == "tp-4-201-2-a-1 tp-4-201-2-a-2 tp-4-201-2-a-3"
        assert "Tax-Property § 4-201.2(a)(1)" in rows[1]["citations"]
        data = json.loads((folder / "manifest.json").read_text("utf-8"))
        assert data["summary"]["collector"] == "baltimore-city" and len(data["inserts"]) == 2

    def test_the_same_inputs_give_the_same_bytes(self, made: dict[str, Path], tmp_path: Path) -> None:
        """A second run for the same collector and date writes byte-identical inserts (the print shop can compare hashes)."""
        run("baltimore-city", "bill-inserts", DAY, tmp_path)
        for name in ("hpp-insert", "installment-insert"):
            assert _pdf({"baltimore-city": tmp_path}, "baltimore-city", name) == _pdf(made, "baltimore-city", name)

    def test_a_rerun_on_another_date_leaves_no_stale_insert(self, tmp_path: Path) -> None:
        """Rendering again for an earlier date removes the installment insert of the later run."""
        run("baltimore-county", "bill-inserts", DAY, tmp_path)
        run("baltimore-county", "bill-inserts", dt.date(2027, 4, 30), tmp_path)
        assert [p.name for p in (tmp_path / "inserts").iterdir()] == ["hpp-insert-baltimore-county-2027-04-30.pdf"]


class TestTestimony:
    def _with_testimony(self) -> object:
        county = load_collector("baltimore-county")
        quote = {"quote": "The Program let me keep the house my parents built.", "name": "R. J.", "place": "Dundalk"}
        return dataclasses.replace(county, facts={**county.facts, "hpp": {**county.facts["hpp"], "testimony": [quote]}})

    def test_no_testimony_in_the_profile_prints_no_testimony_block(self) -> None:
        """The optional § 4-201.1(2) block is left out when the profile has no testimony."""
        job, _ = insert_job(load_collector("baltimore-county"), "hpp-insert", DAY, "en")
        html = job.composer.fragment(job.plan.parts[0], None, seq=0, pages=1)
        assert "tp-4-201-1-2" not in markers(html)
        assert check_composed(html, job.plan.parts[0]) == []

    def test_testimony_from_the_profile_is_printed_between_description_and_appeal(self) -> None:
        """Testimony in the profile is printed, in statutory order, and passes the statute check."""
        job, who = insert_job(load_collector("baltimore-county"), "hpp-insert", DAY, "en")
        job = dataclasses.replace(job, composer=composer_for(self._with_testimony(), job.plan, "en", who))
        ((_, pdf),) = render_inserts(job)
        html = job.composer.fragment(job.plan.parts[0], None, seq=0, pages=1)
        assert markers(html) == ["tp-4-201-1-1", "tp-4-201-1-2", "tp-4-201-1-3"]
        assert "The Program let me keep the house my parents built." in _text(pdf)


class TestCommandLine:
    def test_render_bill_inserts_needs_no_roll(self, tmp_path: Path) -> None:
        """`notices render --mailing bill-inserts` takes no INPUT and writes the inserts and the manifest."""
        result = CliRunner().invoke(app, ["render", "--mailing", "bill-inserts", "-c", "baltimore-county", "-d", "2027-05-01",
                                          "-o", str(tmp_path), "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert [r["document"] for r in summary["inserts"]] == ["hpp-insert", "installment-insert"]
        assert (tmp_path / "inserts" / "installment-insert-baltimore-county-2027-05-01.pdf").is_file()

    def test_a_roll_given_to_bill_inserts_is_a_usage_error(self, tmp_path: Path) -> None:
        """The bill inserts are the same for every bill: an INPUT file is refused with exit 2."""
        result = CliRunner().invoke(app, ["render", str(ROOT / "samples/baltimore-county-final-notices.csv"), "--mailing",
                                          "hpp-insert", "-c", "baltimore-county", "-d", "2027-05-01", "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert not (tmp_path / "inserts").exists()

    def test_the_library_given_a_roll_for_the_bill_inserts_says_how_to_make_them(self, tmp_path: Path) -> None:
        """`notices.batch.run` with an insert mailing names the command and the function that make it (no such command as
        `notices inserts`)."""
        from notices.batch import run as run_batch
        from notices.errors import BatchError
        from notices.options import Options

        with pytest.raises(BatchError) as caught:
            run_batch(Options(ROOT / "samples/baltimore-county-final-notices.csv", tmp_path, "baltimore-county", "bill-inserts",
                              dt.date(2027, 5, 1), workers=1))
        assert "`notices render -m bill-inserts`" in str(caught.value) and "notices.inserts.run" in str(caught.value)

    def test_a_per_record_mailing_without_a_roll_is_a_usage_error(self, tmp_path: Path) -> None:
        """The Final Bill and Legal Notice is made from a roll export: without INPUT the command exits 2."""
        result = CliRunner().invoke(app, ["render", "-c", "baltimore-county", "-d", "2027-05-01", "-o", str(tmp_path)])
        assert result.exit_code == 2

    def test_an_insert_that_fails_the_statute_check_exits_3_and_writes_nothing(self, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """A design that leaves out the mandated statement is caught by the statute check: exit 3, no PDF, no manifest."""
        real = inserts.composer_for

        def without_statement(*args: object, **kwargs: object) -> object:
            composer = real(*args, **kwargs)  # type: ignore[arg-type]
            blank = DictLoader({"installment-insert.html.j2": "<section class=\"piece insert\" id=\"insert\">Pay monthly.</section>"})
            composer.env.loader = ChoiceLoader([blank, composer.env.loader])
            return composer

        monkeypatch.setattr(inserts, "composer_for", without_statement)
        result = CliRunner().invoke(app, ["render", "--mailing", "installment-insert", "-c", "baltimore-county",
                                          "-d", "2027-05-01", "-o", str(tmp_path)])
        assert result.exit_code == 3, result.output
        assert "tp-4-201-2-a-1" in result.output
        assert not (tmp_path / "inserts").exists() and not (tmp_path / "manifest.csv").exists()
