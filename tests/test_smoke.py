"""The shipped samples render end to end, and every record is accounted for."""

import datetime as dt
from pathlib import Path

from notices.batch import Options, run

ROOT = Path(__file__).resolve().parent.parent


def test_baltimore_city_sample_renders_every_record(tmp_path: Path) -> None:
    """Every account of the City sample becomes one piece, and the books balance."""
    summary = run(Options(ROOT / "samples/baltimore-city-final-notices.csv", tmp_path, "baltimore-city", "final-notice",
                          dt.date(2027, 2, 1), workers=1))
    assert summary.balanced
    assert summary.rendered == summary.records_in == 67
    assert len(list((tmp_path / "pieces").glob("*.pdf"))) == 67
