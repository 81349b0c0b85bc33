"""An export's record count and control total are reconciled before anything renders, from flags or a control file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, csv_text, row
from typer.testing import CliRunner

from notices.cli import app

runner = CliRunner()


@pytest.fixture
def roll(tmp_path: Path) -> Path:
    """Two accounts, $100.00 and $250.50."""
    path = tmp_path / "roll.csv"
    path.write_text(csv_text([row(account_id="01-01-0001-001"), row(account_id="01-01-0001-002", amount="250.50")]), "utf-8")
    return path


def render(roll: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["render", str(roll), "-c", "baltimore-city", "-d", CITY_DATE.isoformat(), "-o", str(out),
                               "--workers", "1", "--no-progress", *extra])


def test_a_matching_count_and_total_render(roll: Path, tmp_path: Path) -> None:
    """--expect-records 2 --expect-total 350.50 agree with the file: the run renders both accounts."""
    result = render(roll, tmp_path / "out", "--expect-records", "2", "--expect-total", "350.50")
    assert result.exit_code == 0, result.output


def test_a_missing_account_is_refused_before_rendering(roll: Path, tmp_path: Path) -> None:
    """A file with fewer accounts than the source system exported (a cut-off export) exits 2 and writes no piece."""
    result = render(roll, tmp_path / "out", "--expect-records", "3")
    assert result.exit_code == 2, result.output
    assert not list((tmp_path / "out").glob("pieces/*.pdf"))


def test_a_wrong_total_from_a_control_file_is_refused(roll: Path, tmp_path: Path) -> None:
    """A control file whose total differs from the file's amounts stops the run with exit 2, naming the figures."""
    control = tmp_path / "control.txt"
    control.write_text("records=2\ntotal=999.99\n", "utf-8")
    result = render(roll, tmp_path / "out", "--control", str(control))
    assert result.exit_code == 2 and "999.99" in result.output, result.output


def test_the_flags_win_over_the_control_file(roll: Path, tmp_path: Path) -> None:
    """--expect-total given on the command line replaces the control file's total."""
    control = tmp_path / "control.txt"
    control.write_text("records=2\ntotal=1.00\n", "utf-8")
    result = render(roll, tmp_path / "out", "--control", str(control), "--expect-total", "350.50")
    assert result.exit_code == 0, result.output


def test_a_malformed_expected_total_is_a_usage_error(roll: Path, tmp_path: Path) -> None:
    """--expect-total 12.345 or $5 is refused as a usage error (exit 2), not read loosely."""
    for bad in ("12.345", "$5", "NaN"):
        result = render(roll, tmp_path / "out", "--expect-total", bad)
        assert result.exit_code == 2, (bad, result.output)
