"""All 24 collectors the law binds ship a profile; a new county's workspace renders a proof that passes the statute check."""

from __future__ import annotations

from pathlib import Path

from conftest import COUNTY_CSV, COUNTY_DATE
from typer.testing import CliRunner

from notices.batch import run
from notices.cli import app
from notices.collectors import available, load_collector
from notices.options import Options
from notices.workspace import init

runner = CliRunner()

COUNTIES = (
    "allegany", "anne-arundel", "baltimore-county", "calvert", "caroline", "carroll", "cecil", "charles", "dorchester",
    "frederick", "garrett", "harford", "howard", "kent", "montgomery", "prince-georges", "queen-annes", "st-marys",
    "somerset", "talbot", "washington", "wicomico", "worcester",
)
LOCAL = ("office", "phone", "website", "return_address", "remit_to", "water_sewer.sells_liens")


def test_collectors_list_shows_the_24_collectors_with_counts() -> None:
    """23 counties and Baltimore City are listed, each with its confirmed and placeholder counts."""
    assert available() == sorted([*COUNTIES, "baltimore-city"])
    result = runner.invoke(app, ["collectors", "list"])
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()
    assert len(rows) == 24
    assert all("confirmed" in row and "placeholders" in row for row in rows)
    assert any(row.startswith("prince-georges") and "Prince George's County" in row for row in rows)


def test_a_new_countys_local_facts_are_all_placeholders_and_statewide_ones_confirmed() -> None:
    """Nothing local is invented: every local fact of a new county is a placeholder; the Ombudsman is confirmed."""
    for collector_id in set(COUNTIES) - {"baltimore-county"}:
        collector = load_collector(collector_id)
        flagged = {p.split(" (")[0] for p in collector.placeholders}
        assert set(LOCAL) <= flagged, collector_id
        assert str(collector.get("phone")).startswith("[")
        assert "ombudsman.state.toll_free" in collector.confirmed


def test_a_fresh_county_workspace_renders_the_sample_roll_and_its_pieces_pass_the_check(tmp_path: Path) -> None:
    """A Talbot workspace from init renders the sample roll as a proof; its pieces pass `notices check`."""
    home = tmp_path / "ws"
    init(home, "talbot")
    out = tmp_path / "out"
    summary = run(Options(COUNTY_CSV, out, "talbot", "final-notice", COUNTY_DATE, workers=1, home=home))
    assert summary.rendered == summary.records_in and not summary.rejected and not summary.quarantined
    assert summary.placeholders
    pieces = sorted((out / "pieces").glob("*.pdf"))[:2]
    result = runner.invoke(app, ["check", *map(str, pieces), "-c", "talbot", "-d", COUNTY_DATE.isoformat(), "--home", str(home)])
    assert result.exit_code == 0, result.output
