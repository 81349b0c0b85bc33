"""A real batch killed with SIGKILL at random points, then resumed, ends with no gap, no duplicate and the same bytes."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CLI_ALLOWING_PLACEHOLDERS, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import baltimore_city_accounts, write_csv

COUNT = 80
KILLS = 20


def command(source: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", CLI_ALLOWING_PLACEHOLDERS, "render", str(source), "-c", "baltimore-city",
            "-d", "2027-02-01", "-o", str(out), "--workers", "2", "--chunk", "4", "--no-progress", "--json", *extra]


def fingerprint(out: Path) -> dict[str, str]:
    files = sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))
    return {f"{f.parent.name}/{f.name}": hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def with_tmp(tmp: Path) -> dict[str, str]:
    """The environment of a run whose temporary folder (its index) is ``tmp``, so the test sees what runs leave there."""
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def finish(source: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Resume to the end (or start afresh when the kill came before the run had recorded its identity)."""
    done = subprocess.run(command(source, out, "--resume"), capture_output=True, text=True, timeout=300, env=env)
    if done.returncode == 4 and "Nothing to resume" in done.stdout + done.stderr:
        done = subprocess.run(command(source, out), capture_output=True, text=True, timeout=300, env=env)
    return done


@pytest.mark.slow
def test_kill_9_and_resume_leave_no_gap_no_duplicate_and_the_same_bytes(tmp_path: Path) -> None:
    """At least 20 SIGKILLs at seeded random moments; every resumed run matches one uninterrupted run byte for byte,
    and no killed run's index is left in the temporary folder."""
    env = with_tmp(tmp_path / "tmp")
    source = tmp_path / "city.csv"
    write_csv(baltimore_city_accounts(COUNT, seed=11), source)
    reference = tmp_path / "reference"
    done = subprocess.run(command(source, reference), capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    expected = fingerprint(reference)
    assert len(expected) == COUNT + 1

    rng = random.Random(20270201)
    kills = rounds = 0
    while kills < KILLS:
        rounds += 1
        out = tmp_path / f"round-{rounds}"
        first = True
        while True:
            # Each round starts afresh, then is killed and resumed until a resume gets to the end.
            process = subprocess.Popen(command(source, out, *([] if first else ["--resume"])), stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
            first = False
            try:
                process.wait(timeout=rng.uniform(0.3, 6.0))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # the run and its workers, at once
                process.wait()
                process.stdout.close()  # type: ignore[union-attr]
                process.stderr.close()  # type: ignore[union-attr]
                kills += 1
                if kills >= KILLS:
                    break
                continue
            stdout, stderr = process.communicate()
            if process.returncode == 4 and "Nothing to resume" in stdout + stderr:
                first = True  # killed before it began: nothing was promised, start again
                continue
            assert process.returncode == 0, stderr
            break
        done = finish(source, out, env)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["balanced"] and summary["rendered"] == summary["records_in"] == COUNT
        manifest = json.loads((out / "manifest.json").read_text())
        assert [p["seq"] for p in manifest["pieces"]] == list(range(1, COUNT + 1)), "a gap or a duplicate in the manifest"
        assert not list((out / "pieces").glob(".*.tmp")), "a temporary file was left behind"
        assert fingerprint(out) == expected, f"round {rounds}: the bytes differ from an uninterrupted run"
        time.sleep(0.1)
    assert kills >= KILLS
    # Each new run removed the index folders of the runs killed before it, and its own when it ended.
    assert not [p.name for p in (tmp_path / "tmp").glob("notices-*") if "fontconfig" not in p.name]
