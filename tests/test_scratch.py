"""Scratch folders go with their process: a run leaves nothing in the temporary folder, a killed one nothing for long."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CLI_ALLOWING_PLACEHOLDERS, ROOT

from notices import scratch

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import baltimore_city_accounts, write_csv


def left_in(tmp: Path) -> list[str]:
    """What runs left in a temporary folder, but fontconfig's cache (one per user, kept on purpose)."""
    return sorted(p.name for p in tmp.iterdir() if not p.name.startswith("notices-fontconfig-"))


@pytest.mark.skipif(sys.platform == "win32", reason="fork server: POSIX")
def test_a_run_with_workers_leaves_nothing_in_the_temporary_folder(tmp_path: Path) -> None:
    """The index, and the fonts folder of every process that laid out pages (workers, the inserts' process)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    source = tmp_path / "city.csv"
    write_csv(baltimore_city_accounts(12, seed=3), source)
    command = [sys.executable, "-c", CLI_ALLOWING_PLACEHOLDERS, "render", str(source), "-c", "baltimore-city",
               "-d", "2027-02-01", "-o", str(tmp_path / "out"), "--workers", "2", "--chunk", "2", "--no-progress", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(tmp)})
    assert done.returncode == 0, done.stderr
    assert left_in(tmp) == []


_KILLED = """
import os, signal, sys, tempfile
tempfile.tempdir = sys.argv[1]
from notices.render import Renderer
renderer = Renderer()
print(renderer.font_config._folder, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


needs_flock_and_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or sys.platform == "win32",
                                              reason="flock and SIGKILL: POSIX")


def killed_fonts_folder(tmp: Path) -> Path:
    """The fonts folder of a process that made a Renderer in ``tmp`` and was killed with SIGKILL (so it could not remove it)."""
    done = subprocess.run([sys.executable, "-c", _KILLED, str(tmp)], capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    killed = Path(done.stdout.strip())
    assert killed.parent == tmp and killed.name.startswith(scratch.prefix("fonts")) and any(killed.iterdir())
    return killed


@needs_flock_and_sigkill
def test_the_fonts_folder_of_a_killed_process_is_swept_and_a_live_ones_is_not(tmp_path: Path) -> None:
    killed = killed_fonts_folder(tmp_path)
    live, held = scratch.held_folder("fonts")  # this process's own, in the real temporary folder
    try:
        assert scratch.sweep_abandoned(tmp_path) == [killed]
        assert scratch.sweep_abandoned(live.parent).count(live) == 0 and live.exists()
    finally:
        scratch.remove(live, held)
    assert not live.exists() and left_in(tmp_path) == []


@needs_flock_and_sigkill
def test_the_next_process_that_lays_out_pages_sweeps_a_killed_ones_fonts_folder(tmp_path: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the next run: the preview's render process, killed at its time limit, is followed by another."""
    from weasyprint.text.fonts import FontConfiguration

    from notices.render import fonts_folder

    killed = killed_fonts_folder(tmp_path)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    config = FontConfiguration()
    mine = fonts_folder(config)
    assert not killed.exists() and mine is not None and mine.exists()


def test_a_fonts_folder_goes_when_its_configuration_is_collected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.text.fonts import FontConfiguration

    from notices.render import fonts_folder

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    config = FontConfiguration()
    folder = fonts_folder(config)
    assert folder is not None and folder.exists() and fonts_folder(config) is None  # made once
    del config
    gc.collect()
    assert not folder.exists()
