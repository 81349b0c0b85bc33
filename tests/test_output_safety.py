"""Nothing a user owns is lost, nothing wrong reaches a pipeline: safe folders, safe CSV cells, honest exit codes."""

from __future__ import annotations

import csv
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, csv_text, job_for, row
from typer.testing import CliRunner

from notices import Options, batch, piece, run
from notices.cli import app
from notices.errors import ForeignFiles, ResumeMismatch

runner = CliRunner()


@pytest.fixture(scope="module")
def roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three City accounts."""
    path = tmp_path_factory.mktemp("roll") / "roll.csv"
    path.write_text(csv_text([row(account_id=f"01-01-0001-00{i}") for i in (1, 2, 3)]), "utf-8")
    return path


def render(source: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["render", str(source), "-c", "baltimore-city", "-d", CITY_DATE.isoformat(), "-o", str(out),
                               "--workers", "1", "--no-progress", *extra])


class TestUserFiles:
    def test_a_folder_with_files_notices_did_not_write_is_refused_and_they_survive(self, roll: Path, tmp_path: Path) -> None:
        """A user's file in the output folder stops the run (exit 4), named, and is left as it was."""
        mine = tmp_path / "out" / "pieces" / "keep-me.pdf"
        mine.parent.mkdir(parents=True)
        mine.write_bytes(b"the user's own file")
        result = render(roll, tmp_path / "out")
        assert result.exit_code == 4, result.output
        assert "pieces/keep-me.pdf" in result.output
        assert mine.read_bytes() == b"the user's own file"

    def test_force_writes_beside_the_users_files_and_leaves_them(self, roll: Path, tmp_path: Path) -> None:
        """With --force the run goes on, and the user's file is still there, unchanged."""
        mine = tmp_path / "out" / "notes.txt"
        mine.parent.mkdir(parents=True)
        mine.write_text("mine")
        result = render(roll, tmp_path / "out", "--force")
        assert result.exit_code == 0, result.output
        assert mine.read_text() == "mine"
        assert len(list((tmp_path / "out" / "pieces").glob("*.pdf"))) == 3

    def test_a_users_file_where_notices_would_write_is_never_overwritten(self, roll: Path, tmp_path: Path) -> None:
        """Even with --force, a manifest.csv notices did not write is not overwritten: the run refuses."""
        theirs = tmp_path / "out" / "manifest.csv"
        theirs.parent.mkdir(parents=True)
        theirs.write_text("their manifest")
        result = render(roll, tmp_path / "out", "--force")
        assert result.exit_code == 4 and "manifest.csv" in result.output, result.output
        assert theirs.read_text() == "their manifest"

    def test_a_rerun_replaces_only_what_the_earlier_run_wrote(self, roll: Path, tmp_path: Path) -> None:
        """A second run into the same folder replaces the first run's files: a piece of an account now gone does not stay."""
        out = tmp_path / "out"
        assert render(roll, out).exit_code == 0
        shorter = tmp_path / "two.csv"
        shorter.write_text(csv_text([row(account_id="01-01-0001-001"), row(account_id="01-01-0001-002")]), "utf-8")
        result = render(shorter, out)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (out / "pieces").glob("*.pdf")) == ["000001-01-01-0001-001.pdf", "000002-01-01-0001-002.pdf"]

    def test_the_library_refuses_with_a_located_error(self, roll: Path, tmp_path: Path) -> None:
        """run() raises ForeignFiles naming the folder, for a caller that is not the CLI."""
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "x.txt").write_text("x")
        with pytest.raises(ForeignFiles) as caught:
            run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1))
        assert caught.value.file == str(tmp_path / "out") and "x.txt" in str(caught.value)

    def test_web_content_never_overwrites_a_sites_own_index(self, tmp_path: Path) -> None:
        """A site folder with its own index.html is refused, even with --force; the page is unchanged."""
        site = tmp_path / "site"
        site.mkdir()
        (site / "index.html").write_text("<h1>Our county</h1>")
        for extra in ([], ["--force"]):
            result = runner.invoke(app, ["web", "-c", "baltimore-city", "-d", "2027-07-01", "-o", str(site), *extra])
            assert result.exit_code == 4 and "index.html" in result.output, result.output
        assert (site / "index.html").read_text() == "<h1>Our county</h1>"

    def test_web_content_with_force_leaves_other_fragments_alone(self, tmp_path: Path) -> None:
        """A fragment the site wrote itself survives a --force run; the tool's own files are written beside it."""
        site = tmp_path / "site"
        site.mkdir()
        (site / "news.fragment.html").write_text("<p>news</p>")
        result = runner.invoke(app, ["web", "-c", "baltimore-city", "-d", "2027-07-01", "-o", str(site), "--force"])
        assert result.exit_code == 0, result.output
        assert (site / "news.fragment.html").read_text() == "<p>news</p>"
        assert (site / "index.html").exists()

    def test_bill_inserts_refuse_a_folder_of_other_files(self, tmp_path: Path) -> None:
        """The bill-insert mailing, too, refuses a folder holding files it did not write."""
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "budget.xlsx").write_bytes(b"x")
        result = runner.invoke(app, ["render", "-c", "baltimore-county", "-m", "bill-inserts", "-d", "2027-07-01",
                                     "-o", str(tmp_path / "out")])
        assert result.exit_code == 4 and "budget.xlsx" in result.output, result.output


class TestSpreadsheetCells:
    def test_formulas_in_rejected_values_are_written_as_text(self, tmp_path: Path) -> None:
        """A value such as =HYPERLINK(...) is written to rejects.csv behind a quote, so a spreadsheet shows it, not runs it."""
        source = tmp_path / "roll.csv"
        source.write_text(csv_text([row(amount='=HYPERLINK("http://x")'), row(account_id="01-01-0001-002", amount="+1+2")]),
                          "utf-8")
        result = render(source, tmp_path / "out")
        assert result.exit_code == 1, result.output
        with open(tmp_path / "out" / "rejects.csv", newline="", encoding="utf-8") as handle:
            values = [r["value"] for r in csv.DictReader(handle)]
        assert values and all(v.startswith("'") for v in values if v[:1] in "'=+-@"), values
        assert "'=HYPERLINK(\"http://x\")" in values


class TestExitCodes:
    def test_an_unexpected_error_exits_6_with_one_line_and_a_log(self, roll: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """A bug surfaces as exit 6, one line on stderr naming the log, no traceback; the log holds the traceback."""
        def broken(*_: Any, **__: Any) -> Any:
            raise RuntimeError("something no one expected")

        monkeypatch.setattr(batch, "check_input", broken)
        result = render(roll, tmp_path / "out")
        assert result.exit_code == 6, result.output
        assert "Traceback" not in result.output and "something no one expected" in result.output
        log = tmp_path / "out" / ".notices" / "error.log"
        assert "Traceback" in log.read_text() and "RuntimeError" in log.read_text()

    def test_an_unexpected_error_in_json_mode_is_json(self, roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """--json gets a JSON object with exit_code 6 and the log's path."""
        monkeypatch.setattr(batch, "check_input", lambda *_: 1 / 0)
        result = render(roll, tmp_path / "out", "--json")
        data = json.loads(result.stdout)
        assert result.exit_code == 6 and data["exit_code"] == 6 and data["log"].endswith("error.log")

    def test_a_run_with_every_record_rejected_writes_no_print_file(self, tmp_path: Path) -> None:
        """When nothing can be printed there is no print file to feed a printer by mistake; exit 1."""
        source = tmp_path / "roll.csv"
        source.write_text(csv_text([row(amount="lots")]), "utf-8")
        result = render(source, tmp_path / "out", "--json")
        assert result.exit_code == 1, result.output
        assert json.loads(result.stdout)["print_file"] == ""
        assert not list((tmp_path / "out").glob("print/*.pdf"))

    def test_an_output_path_that_is_a_file_is_a_usage_error(self, roll: Path, tmp_path: Path) -> None:
        """--out naming a file is exit 2 with a message, not a traceback."""
        target = tmp_path / "a-file"
        target.write_text("x")
        result = render(roll, target)
        assert result.exit_code == 2 and "is a file" in result.output, result.output

    def test_collectors_list_names_a_broken_profile_and_exits_2(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """One broken profile is listed with its error; the others are still listed."""
        import shutil

        from notices import collectors
        from notices.resources import templates_dir

        root = tmp_path / "templates"
        shutil.copytree(templates_dir(), root)
        (root / "baltimore-county" / "collector.toml").write_text("name = [unclosed", "utf-8")
        monkeypatch.setattr(collectors, "templates_dir", lambda: root)
        result = runner.invoke(app, ["collectors", "list"])
        assert result.exit_code == 2, result.output
        assert "baltimore-county" in result.output and "BROKEN" in result.output and "baltimore-city" in result.output


class TestResume:
    def test_resume_retries_quarantined_pieces(self, roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A piece quarantined in the first run is rendered again by --resume, once the cause is gone."""
        real = piece._checked

        def fail_second(job: Any, joined: Any, facts: Any) -> piece.PieceResult:
            if joined.seq == 2:
                return piece.PieceResult(joined.seq, joined.record.account_id, None, joined.statement_pages, 0, "a passing fault")
            return real(job, joined, facts)

        options = Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1)
        monkeypatch.setattr(piece, "_checked", fail_second)
        assert run(options).quarantined == 1
        monkeypatch.setattr(piece, "_checked", real)
        summary = run(dataclasses.replace(options, resume=True))
        assert (summary.rendered, summary.quarantined, summary.resumed_pieces) == (3, 0, 2)

    def test_a_library_upgrade_between_run_and_resume_is_refused(self, roll: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """The fingerprint holds every library that shapes the bytes: a resume after an upgrade is refused."""
        from notices import fingerprint, render

        options = Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1)
        run(options)
        monkeypatch.setattr(fingerprint, "toolchain", lambda: {**render.toolchain(), "pydyf": "99.0"})
        with pytest.raises(ResumeMismatch, match="tool"):
            run(dataclasses.replace(options, resume=True))


def test_a_profile_can_cap_a_pieces_pages() -> None:
    """A piece longer than the profile's print.max_pages is quarantined with the reason, not printed."""
    from conftest import GOOD

    from notices.model import MailingAddress, Record, TaxLine

    job = job_for("baltimore-city", "final-notice", CITY_DATE, with_inserts=True)
    capped = dataclasses.replace(job.collector, facts={**job.collector.facts, "print": {"duplex": True, "max_pages": 2}})
    job = dataclasses.replace(job, collector=capped)
    record = Record(GOOD["account_id"], ("ANN LEE",), MailingAddress("1 MAIN ST", "", "BALTIMORE", "MD", "21201"),
                    "1 MAIN ST", (TaxLine("Real property tax", "FY 2027", Decimal("100.00")),), "roll.csv", (2,))
    (result,) = piece.render_chunk(job, [(1, record)])
    assert result.pdf is None and "print.max_pages" in result.error


def test_a_plain_negative_number_stays_a_number_in_csv() -> None:
    """-125.00 is a number to a spreadsheet, not a formula: it is written as it is; -1+2 is not."""
    from notices.output import spreadsheet_safe

    assert spreadsheet_safe("-125.00") == "-125.00"
    assert spreadsheet_safe("-1+2") == "'-1+2"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet_safe(7) == 7


def test_writing_a_piece_leaves_its_name_out_of_the_interpreters_interned_strings(tmp_path: Path) -> None:
    """pathlib interns every part of a path it parses: with a new name for every piece, a long run's main process grew
    the interpreter's table of interned strings (1.9 MB over 100,000 pieces). Piece files are written by ``os.path``."""
    import sys

    from notices.output import OutputFolder

    name = "".join(["00042-", "account-", str(1234567), ".pdf"])  # made at run time, as a piece's name is: not interned
    OutputFolder(tmp_path).write_piece(name, b"%PDF-1.7\n")
    probe = "".join(["00042-", "account-", str(1234567), ".pdf"])
    assert sys.intern(probe) is probe, "the piece's name was interned"
    assert [p.name for p in (tmp_path / "pieces").iterdir()] == [name]  # written, and no temporary file left
    assert (tmp_path / "pieces" / name).read_bytes() == b"%PDF-1.7\n"
