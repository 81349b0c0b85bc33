"""The bench's derived figures: what it reads from the runs it made."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from bench import _past_startup


def test_the_rate_past_the_start_up_is_the_extra_pieces_over_the_extra_time() -> None:
    past = _past_startup({"pieces": 1000, "wall_seconds": 4.15}, {"pieces": 16, "wall_seconds": 1.19},
                         {"pieces_per_second": 237.09})
    assert past == {"pieces": 984, "wall_seconds": 2.96, "pieces_per_second": 332.43, "ratio_vs_reportlab": 1.4}


def test_no_rate_past_the_start_up_when_the_run_is_no_larger_or_no_longer_than_one_chunk() -> None:
    canvas = {"pieces_per_second": 200.0}
    assert _past_startup({"pieces": 16, "wall_seconds": 1.2}, {"pieces": 16, "wall_seconds": 1.1}, canvas) is None
    assert _past_startup({"pieces": 32, "wall_seconds": 1.0}, {"pieces": 16, "wall_seconds": 1.1}, canvas) is None
