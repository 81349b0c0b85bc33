"""The shipped samples render end to end, and every record is accounted for."""

import datetime as dt
from pathlib import Path

from notices.batch import Options, run

ROOT = Path(__file__).resolve().parent.parent


def test_baltimore_city_sample_renders_every_record_whose_address_fits_the_window(tmp_path: Path) -> None:
    """Every account of the City sample becomes one piece but the one whose address would run out of the envelope window, and the books balance."""
    summary = run(Options(ROOT / "samples/baltimore-city-final-notices.csv", tmp_path, "baltimore-city", "final-notice",
                          dt.date(2027, 2, 1), workers=1))
    assert summary.balanced
    assert (summary.records_in, summary.rendered, summary.rejected) == (67, 66, 1)
    assert len(list((tmp_path / "pieces").glob("*.pdf"))) == 66
    # 02-04-1398-031's five long lines wrap to seven: the window used to hide the city line; now it is refused.
    rejects = (tmp_path / "rejects.csv").read_text("utf-8")
    assert "02-04-1398-031" in rejects and "the window holds 5" in rejects
