"""The main process of a run holds about the same memory for 20,000 records as for 1,000: it streams the input,
the journal and the manifest instead of holding them.

The run is the real command in a child process (so its peak is its own), on synthetic Baltimore City
rolls whose rows are shuffled (each account's rows scattered through the file), with ``--workers 1``
and the cheap stand-in renderer of ``tests/cheap_render.py``: only the per-piece rendering is
replaced, and it runs in the main process, so what is measured is the main process's own path
(read, index, validate, control total, journal, print file with the real inserts, manifest, rejects)
plus a renderer that holds nothing between pieces. Its peak is the summary's ``peak_rss_main_mb``
(``getrusage(RUSAGE_SELF)``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def roll(tmp_path: Path, count: int) -> Path:
    """A synthetic roll of ``count`` accounts, its rows in a shuffled order."""
    made = tmp_path / f"made-{count}.csv"
    subprocess.run([sys.executable, str(ROOT / "bench" / "synthetic.py"), "--count", str(count), "--out", str(made)],
                   check=True, capture_output=True)
    header, *rows = made.read_text("utf-8").splitlines()
    random.Random(count).shuffle(rows)
    path = tmp_path / f"roll-{count}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", "utf-8")
    return path


def peak_main_mb(tmp_path: Path, count: int) -> float:
    source = roll(tmp_path, count)
    out = tmp_path / f"out-{count}"
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "cheap_render.py"), "render", str(source),
                           "-c", "baltimore-city", "-m", "final-notice", "-d", "2027-02-01", "-o", str(out),
                           "--workers", "1", "--sort", "zip", "--expect-records", str(count), "--no-progress", "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["records_in"] == count == summary["rendered"] + summary["rejected"] + summary["quarantined"]
    assert summary["rendered"] > 0.9 * count and summary["print_file"]
    manifest = (out / "manifest.csv").read_text("utf-8").splitlines()
    assert len(manifest) == count + 1
    return float(summary["peak_rss_main_mb"])


@pytest.mark.slow
def test_the_main_process_peak_does_not_grow_with_the_mailing(tmp_path: Path) -> None:
    """20,000 records peak within 10 % of 1,000 in the main process."""
    small = peak_main_mb(tmp_path, 1_000)
    large = peak_main_mb(tmp_path, 20_000)
    print(f"peak RSS, main process: {small} MB at 1,000 records, {large} MB at 20,000 ({large / small - 1:+.1%})")
    assert large <= 1.10 * small, (small, large)
