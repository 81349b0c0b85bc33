"""The command line: documented exit codes, JSON for pipelines, clear messages without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BAD_ROLL, CITY_JSONL, COLUMNS, ROOT, csv_text, row
from pypdf import PdfReader
from typer.testing import CliRunner

from notices.cli import app

runner = CliRunner()


def render(*args: str) -> object:
    return runner.invoke(app, ["render", *args, "--collector", "baltimore-city", "--date", "2027-02-01", "--no-progress"])


class TestRender:
    def test_sample_head_renders_with_exit_0_and_json_summary(self, tmp_path: Path) -> None:
        """The first accounts of the JSON Lines sample exit 0, and --json parses with rendered == records_in."""
        head = tmp_path / "head.jsonl"
        lines = CITY_JSONL.read_text("utf-8").splitlines()
        # Without 02-04-1398-031 (the fourth), whose address the window cannot hold (tests/test_smoke.py).
        head.write_text("\n".join(lines[:3] + lines[4:6]) + "\n", encoding="utf-8")
        result = render(str(head), "--out", str(tmp_path / "out"), "--json", "--workers", "1")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["ok"] is True and summary["exit_code"] == 0
        assert summary["rendered"] == summary["records_in"] == 5
        assert summary["balanced"] is True
        assert (tmp_path / "out" / "rejects.csv").read_text("utf-8").count("\n") == 1  # the header only

    def test_the_summary_line_counts_the_pages_to_print_and_a_proof_has_none(self, tmp_path: Path) -> None:
        """The pages in the summary are the print file's: a proof, which writes none, does not say "0 pages"."""
        head = tmp_path / "head.jsonl"
        lines = CITY_JSONL.read_text("utf-8").splitlines()
        head.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
        printed = render(str(head), "--out", str(tmp_path / "printed"), "--workers", "1")
        proof = render(str(head), "--out", str(tmp_path / "proof"), "--workers", "1", "--proof")
        assert printed.exit_code == proof.exit_code == 0, printed.output + proof.output
        first = printed.stdout.splitlines()[0]
        assert first.startswith("2 records in: 2 rendered") and " pages to print, " in first
        print_file = next((tmp_path / "printed" / "print").glob("*.pdf"))
        assert int(first.split("(")[1].split(" pages")[0]) == len(PdfReader(print_file).pages)
        assert "pages" not in proof.stdout.splitlines()[0]

    @pytest.mark.slow
    def test_sample_renders_with_exit_0_and_json_summary(self, tmp_path: Path) -> None:
        """The whole JSON Lines sample exits 1 (its one address too long for the window is rejected), with one parseable summary."""
        result = render(str(CITY_JSONL), "--out", str(tmp_path), "--json", "--workers", "2")
        assert result.exit_code == 1, result.output
        summary = json.loads(result.stdout)
        assert summary["exit_code"] == 1
        assert (summary["records_in"], summary["rendered"], summary["rejected"], summary["quarantined"]) == (67, 66, 1, 0)
        assert summary["balanced"] is True
        assert Path(summary["print_file"]).is_file()

    def test_bad_roll_exits_1_and_names_the_rejects(self, tmp_path: Path) -> None:
        """Rejected records give exit code 1 and a summary pointing at rejects.csv."""
        result = render(str(BAD_ROLL), "--out", str(tmp_path), "--workers", "1")
        assert result.exit_code == 1, result.output
        assert "9 rejected" in result.stdout
        assert "rejects.csv" in result.stdout

    def test_bad_roll_json_says_not_ok(self, tmp_path: Path) -> None:
        """With --json, a run with rejects reports ok false and exit code 1."""
        result = render(str(BAD_ROLL), "--out", str(tmp_path), "--workers", "1", "--json")
        assert result.exit_code == 1
        summary = json.loads(result.stdout)
        assert (summary["ok"], summary["exit_code"], summary["rejected"]) == (False, 1, 9)

    def test_missing_column_exits_2_naming_it_without_traceback(self, tmp_path: Path) -> None:
        """A file without a required column exits 2 with a message naming the column, and renders nothing."""
        path = tmp_path / "roll.csv"
        path.write_text(csv_text([row()], [c for c in COLUMNS if c != "property_address"]), encoding="utf-8")
        out = tmp_path / "out"
        result = render(str(path), "--out", str(out))
        assert result.exit_code == 2
        assert "property_address" in result.stderr
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert not (out / "pieces").exists()

    def test_missing_column_json_error(self, tmp_path: Path) -> None:
        """With --json, a bad file prints a JSON error naming the file, line and field."""
        path = tmp_path / "roll.csv"
        path.write_text(csv_text([row()], [c for c in COLUMNS if c != "amount"]), encoding="utf-8")
        result = render(str(path), "--out", str(tmp_path / "out"), "--json")
        assert result.exit_code == 2
        error = json.loads(result.stdout)
        assert (error["ok"], error["error"], error["file"], error["line"], error["field"]) == (
            False, "InputError", str(path), 1, "amount")

    def test_wrong_encoding_exits_2_suggesting_the_option(self, tmp_path: Path) -> None:
        """A cp1252 file read as UTF-8 exits 2 and tells the clerk which --encoding to use."""
        path = tmp_path / "roll.csv"
        path.write_bytes(csv_text([row(owner_name="JOSÉ NÚÑEZ")]).encode("cp1252"))
        result = render(str(path), "--out", str(tmp_path / "out"))
        assert result.exit_code == 2
        assert "--encoding cp1252" in result.stderr
        assert "roll.csv:2" in result.stderr

    def test_missing_input_file_exits_2(self, tmp_path: Path) -> None:
        """An input path that does not exist is a usage error with exit 2, not a traceback."""
        result = render(str(tmp_path / "nope.csv"), "--out", str(tmp_path / "out"))
        assert result.exit_code == 2
        assert "not found" in result.stderr

    def test_unknown_collector_exits_2_listing_the_known_ones(self, tmp_path: Path) -> None:
        """A collector id with no profile exits 2 and lists the collectors there are."""
        result = runner.invoke(app, ["render", str(BAD_ROLL), "-c", "atlantis", "-d", "2027-02-01", "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert "baltimore-city" in result.stderr

    def test_bad_date_is_a_usage_error(self, tmp_path: Path) -> None:
        """A date that is not YYYY-MM-DD exits 2 with the expected form."""
        result = runner.invoke(app, ["render", str(BAD_ROLL), "-c", "baltimore-city", "-d", "02/01/2027", "-o", str(tmp_path)])
        assert result.exit_code == 2
        assert "YYYY-MM-DD" in result.output


@pytest.mark.parametrize(("option", "value", "field"), [
    ("--workers", "-3", "workers"), ("--chunk", "0", "chunk"), ("--piece-timeout", "0", "piece_timeout"),
    ("--piece-timeout", "nan", "piece_timeout"), ("--piece-memory", "-1", "piece_memory_mb"),
])
def test_a_bound_no_piece_could_meet_is_refused_before_anything_runs(tmp_path: Path, option: str, value: str, field: str) -> None:
    """A negative time bound once quarantined every piece and blamed the templates (exit 3): now exit 2, naming it."""
    out = tmp_path / "out"
    result = render(str(BAD_ROLL), "--out", str(out), option, value, "--json")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["field"] == field
    assert not out.exists()


class TestUnwritableFolders:
    """A folder that cannot be made (here under a file: a read-only disk or a missing permission are the same) is
    a clear error with its exit code, never a crash with a log."""

    def test_a_render_whose_output_folder_cannot_be_made_exits_4(self, tmp_path: Path) -> None:
        (tmp_path / "a-file").write_text("not a folder")
        out = tmp_path / "a-file" / "out"
        result = render(str(BAD_ROLL), "--out", str(out), "--workers", "1")
        assert result.exit_code == 4, result.output
        assert "Cannot use the output folder" in result.output and str(out) in result.output
        assert "unexpected error" not in result.output and "Traceback" not in result.output

    def test_bill_inserts_whose_output_folder_cannot_be_made_exit_4(self, tmp_path: Path) -> None:
        (tmp_path / "a-file").write_text("not a folder")
        result = runner.invoke(app, ["render", "--collector", "baltimore-city", "--mailing", "bill-inserts",
                                     "--date", "2027-06-01", "--out", str(tmp_path / "a-file" / "out"), "--proof"])
        assert result.exit_code == 4, result.output
        assert "Cannot use the output folder" in result.output

    def test_a_proof_pack_whose_folder_cannot_be_made_exits_4_before_the_pack_is_made(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        import notices.proof

        def never(*args: object) -> None:
            raise AssertionError("the pack was made for a folder that cannot be")

        monkeypatch.setattr(notices.proof, "build", never)
        (tmp_path / "a-file").write_text("not a folder")
        result = runner.invoke(app, ["proof", "--collector", "baltimore-city", "--date", "2027-02-01",
                                     "--out", str(tmp_path / "a-file" / "out")])
        assert result.exit_code == 4, result.output
        assert "Cannot write the proof pack" in result.output

    def test_a_workspace_that_cannot_be_made_exits_2(self, tmp_path: Path) -> None:
        (tmp_path / "a-file").write_text("not a folder")
        result = runner.invoke(app, ["init", str(tmp_path / "a-file" / "ws"), "--collector", "baltimore-city"])
        assert result.exit_code == 2, result.output
        assert "Cannot create the workspace" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


class TestBlocks:
    def ids(self, date: str) -> dict[str, str]:
        result = runner.invoke(app, ["blocks", "-c", "baltimore-city", "-m", "final-notice", "-d", date, "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        return {b["id"]: b["title"] for doc in data["documents"] for b in doc["blocks"]}

    def test_installment_item_from_2027_05_01(self) -> None:
        """On 2027-05-01 the insert carries the installment item (§ 14-812(b)(9)) and the tenth item."""
        blocks = self.ids("2027-05-01")
        assert any("installment" in title.lower() for title in blocks.values())
        assert "tp-14-812-b-10" in blocks

    def test_no_installment_item_on_2027_04_30(self) -> None:
        """On 2027-04-30 the nine-item insert has no installment item."""
        blocks = self.ids("2027-04-30")
        assert not any("installment" in title.lower() for title in blocks.values())
        assert "tp-14-812-b-10" not in blocks

    def test_text_listing_has_citations_in_order(self) -> None:
        """The text listing shows each block with its citation, the statement before the insert."""
        result = runner.invoke(app, ["blocks", "-c", "baltimore-city", "-d", "2027-05-01"])
        assert result.exit_code == 0
        out = result.stdout
        assert "Tax-Property § 14-812(b)(9)(i)" in out
        assert out.index("tp-14-812-a-2-title") < out.index("tp-14-812-b-1") < out.index("tp-14-812-b-10")


class TestCollectors:
    def test_show_marks_placeholders(self) -> None:
        """`collectors show baltimore-city` marks each unconfirmed value and counts them."""
        result = runner.invoke(app, ["collectors", "show", "baltimore-city"])
        assert result.exit_code == 0, result.output
        flagged = [line for line in result.stdout.splitlines() if line.endswith("[PLACEHOLDER]")]
        assert any(line.strip().startswith("website:") for line in flagged)
        assert "placeholder values (unconfirmed" in result.stdout
        confirmed = [line for line in result.stdout.splitlines() if line.strip().startswith("toll_free:")]
        assert confirmed and not confirmed[0].endswith("[PLACEHOLDER]")

    def test_show_json_lists_placeholders(self) -> None:
        """`collectors show --json` lists the placeholder paths."""
        result = runner.invoke(app, ["collectors", "show", "baltimore-city", "--json"])
        data = json.loads(result.stdout)
        assert any(p.startswith("return_address") for p in data["placeholders"])

    def test_list_names_both_collectors(self) -> None:
        """`collectors list` names Baltimore City and Baltimore County."""
        result = runner.invoke(app, ["collectors", "list"])
        assert result.exit_code == 0
        assert "baltimore-city" in result.stdout and "baltimore-county" in result.stdout


@pytest.mark.parametrize("command", ["render", "blocks", "collectors list", "collectors show", "version"])
def test_every_command_is_in_the_readme(command: str) -> None:
    """Each command the CLI offers is documented in the README's command table."""
    assert f"`notices {command}" in (ROOT / "README.md").read_text("utf-8")


def _command(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``notices`` console script's own ``main``, in a process of its own, after ``prelude``."""
    code = f"{prelude}\nfrom notices.cli import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


class TestProcessEnd:
    """The command ends its process without Python's teardown of its objects, and loses nothing by it."""

    def test_exit_handlers_run_and_every_line_is_out(self) -> None:
        done = _command("import atexit; atexit.register(lambda: print('handler ran', flush=True))", "version")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "handler ran" and "notices" in done.stdout

    def test_an_error_keeps_its_exit_code_and_message(self, tmp_path: Path) -> None:
        done = _command("", "render", str(tmp_path / "missing.csv"), "--collector", "baltimore-city",
                        "--date", "2027-02-01", "--no-progress", "--json", "-o", str(tmp_path / "out"))
        assert done.returncode == 2
        assert json.loads(done.stdout)["ok"] is False

    def test_a_running_thread_is_waited_for_as_usual(self) -> None:
        prelude = ("import threading, time\n"
                   "threading.Thread(target=lambda: (time.sleep(2), print('thread done', flush=True))).start()")
        done = _command(prelude, "version")
        assert done.returncode == 0 and done.stdout.splitlines()[-1] == "thread done"

    def test_a_text_exit_is_printed_and_exits_1(self) -> None:
        prelude = ("import sys\nfrom notices.cli import app\n"  # the commands registered first, then the app replaced
                   "sys.modules['notices.cli.shared'].app = lambda: (_ for _ in ()).throw(SystemExit('stopped: why'))")
        done = _command(prelude, "version")
        assert done.returncode == 1 and done.stderr.strip() == "stopped: why"


class TestForkServerFirst:
    """`notices render` with local workers starts their fork server before Typer reads its options, and only then."""

    @pytest.fixture()
    def started_by(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[tuple[str, ...]]]:
        """The fork servers a command line starts before Typer reads it: the preloads each was asked for."""
        from notices.cli import start

        def started(line: str) -> list[tuple[str, ...]]:
            calls: list[tuple[str, ...]] = []
            monkeypatch.setattr(start, "start_fork_server", lambda preload: calls.append(tuple(preload)))
            start.fork_server_first(line.split())
            return calls

        return started

    @pytest.mark.parametrize("line", [
        "render roll.csv -c baltimore-city -d 2027-02-01 -o out",
        "render roll.csv --workers 2 -o out",
        "render roll.csv -w 0 --executor local",
        "render roll.csv --executor=local --workers=4",
    ])
    def test_a_render_with_local_workers_starts_it(self, started_by: Callable[[str], list[tuple[str, ...]]], line: str) -> None:
        from notices.options import WORKER_PRELOAD

        assert started_by(line) == [tuple(WORKER_PRELOAD)]

    @pytest.mark.parametrize("line", [
        "render roll.csv --workers 1 -o out",
        "render roll.csv -w1",
        "render roll.csv --workers=1",
        "render roll.csv --executor dask --scheduler tcp://host:8786",
        "render --help",
        "check piece.pdf -c baltimore-city",
        "",
    ])
    def test_anything_else_starts_nothing(self, started_by: Callable[[str], list[tuple[str, ...]]], line: str) -> None:
        assert started_by(line) == []

    def test_the_console_script_asks_before_typer_is_even_imported(self) -> None:
        prelude = ("import sys, notices.cli.start\n"
                   "notices.cli.start.fork_server_first = lambda args: print([args, 'typer' in sys.modules], flush=True)")
        done = _command(prelude, "render", "missing.csv", "-w", "2", "-c", "baltimore-city", "-d", "2027-02-01", "--json")
        assert done.returncode == 2, done.stderr  # then the command runs as usual: here, a file that is not there
        assert done.stdout.splitlines()[0] == "[['render', 'missing.csv', '-w', '2', '-c', 'baltimore-city', '-d', '2027-02-01', '--json'], False]"
