"""Never mail a placeholder: a run whose documents would print an unconfirmed profile value is refused,
naming each value and its key; --proof renders it anyway, every page marked, and writes no print file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import CITY_CSV, CITY_DATE, subset_csv
from pypdf import PdfReader
from typer.testing import CliRunner

from notices import web
from notices.batch import Options, run
from notices.cli import app
from notices.collectors import load_collector
from notices.compose import Composer
from notices.errors import ConfigError
from notices.inserts import run as run_inserts
from notices.resolve import plan

pytestmark = pytest.mark.refuses_placeholders
BAND = "PROOF - NOT FOR MAILING"
ACCOUNTS = ("26-01-6311-027", "20-03-2311-018")  # one short piece, one that runs past a page


@pytest.fixture(scope="module")
def roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("roll")
    return subset_csv(CITY_CSV, ACCOUNTS, folder / "roll.csv")


def _texts(pdf: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages]


def test_a_run_that_would_print_placeholders_is_refused_naming_each_value(roll: Path, tmp_path: Path) -> None:
    """The City's final notice prints unconfirmed addresses and numbers: the run stops before rendering, listing key and value."""
    with pytest.raises(ConfigError) as refused:
        run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1))
    message = str(refused.value)
    assert "return_address = " in message and "ombudsman.county.phone = '" in message
    assert "collector.toml" in message and "--proof" in message
    assert not (tmp_path / "out" / "pieces").exists()


def test_only_the_placeholders_the_documents_print_are_listed(roll: Path, tmp_path: Path) -> None:
    """A placeholder no template of the mailing reads (the State program's vendor) is not held against the run."""
    with pytest.raises(ConfigError) as refused:
        run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1))
    assert "installment.state.vendor" not in str(refused.value)
    assert any(p.startswith("installment.state.vendor") for p in load_collector("baltimore-city").placeholders)


def test_the_composer_notes_every_profile_value_a_template_reads() -> None:
    """Composing a document records the dotted keys of the profile values it printed."""
    collector = load_collector("baltimore-county")
    the_plan = plan(collector, "hpp-insert", CITY_DATE)
    composer = Composer(collector, the_plan)
    composer.fragment(the_plan.parts[0], None, seq=0, pages=1)
    assert {"hpp.name", "hpp.donation_website", "ombudsman.state.toll_free"} <= composer.read


def test_a_proof_marks_every_page_writes_no_print_file_and_says_so(roll: Path, tmp_path: Path) -> None:
    """With proof=True the pieces render, each statement and insert page carries the band, and no print file is written."""
    summary = run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1, proof=True))
    assert summary.rendered == 2 and summary.print_file == "" and summary.proof
    assert not list((tmp_path / "out" / "print").glob("*.pdf"))
    assert json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))["summary"]["proof"] is True
    for piece in (tmp_path / "out" / "pieces").glob("*.pdf"):
        texts = _texts(piece)
        # Every page but a duplex blank back (added by the print layout, with nothing on it) carries the band.
        assert all(BAND in t for t in texts if t), (piece.name, texts)
        assert sum(BAND in t for t in texts) >= 3


def test_the_band_does_not_change_the_statements_layout(roll: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A proof has the same pages, and the same words besides the band, as the real piece."""
    proof = run(Options(roll, tmp_path / "proof", "baltimore-city", "final-notice", CITY_DATE, workers=1, proof=True))
    import notices.batch

    monkeypatch.setattr(notices.batch, "refuse_placeholders", lambda *a, **k: None)
    real = run(Options(roll, tmp_path / "real", "baltimore-city", "final-notice", CITY_DATE, workers=1))
    assert proof.rendered == real.rendered == 2
    for piece in (tmp_path / "real" / "pieces").glob("*.pdf"):
        marked = _texts(tmp_path / "proof" / "pieces" / piece.name)
        plain = _texts(piece)
        assert len(marked) == len(plain)
        assert [t.replace(BAND, "").strip() for t in marked] == plain


def test_the_cli_refuses_with_exit_2_and_proof_renders_with_exit_0(roll: Path, tmp_path: Path) -> None:
    """`notices render` without --proof exits 2 naming the values; with --proof it renders and reports proof: true."""
    args = ["render", str(roll), "-c", "baltimore-city", "-d", "2027-02-01", "--no-progress"]
    refused = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "a")])
    assert refused.exit_code == 2 and "placeholder" in refused.output
    done = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "b"), "--proof", "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["proof"] is True and data["print_file"] == ""


def test_bill_inserts_refuse_placeholders_and_a_proof_marks_their_pages(tmp_path: Path) -> None:
    """The HPP insert prints the unconfirmed donation page: refused, or with proof every page is marked."""
    with pytest.raises(ConfigError, match=r"hpp\.donation_website = "):
        run_inserts("baltimore-county", "hpp-insert", CITY_DATE, tmp_path / "a")
    summary = run_inserts("baltimore-county", "hpp-insert", CITY_DATE, tmp_path / "b", proof=True)
    assert summary.proof
    [row] = summary.rendered
    assert all(BAND in t for t in _texts(tmp_path / "b" / row.file))


def test_web_content_refuses_placeholders_and_a_proof_shows_a_notice(tmp_path: Path) -> None:
    """Website content that shows unconfirmed values is refused; with proof every file carries a visible notice."""
    with pytest.raises(ConfigError, match="placeholder"):
        web.run("baltimore-county", CITY_DATE, tmp_path / "a")
    files, summary = web.build("baltimore-county", CITY_DATE, proof=True)
    assert summary.proof
    assert all("PROOF - NOT FOR PUBLISHING" in text for name, text in files.items() if name.endswith(".html"))
