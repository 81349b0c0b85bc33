"""A run stopped by SIGTERM, Ctrl-C or a hangup says so, leaves nothing in the temporary folder, and --resume finishes it to the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_resume import command, fingerprint, finish, with_tmp
from test_scratch import left_in

from notices.cli.render import _after_stop
from notices.output import OutputFolder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from synthetic import baltimore_city_accounts, write_csv

COUNT = 240  # about two seconds of pieces on two workers: room to stop the run between its first piece and its last


def _as_from_a_terminal() -> None:
    """The signals at their defaults, as a terminal's shell starts a command: the tests themselves may run where they are
    ignored (a job started in the background with ``&`` ignores SIGINT), which the command would then rightly keep."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


def stop_after_first_pieces(source: Path, out: Path, env: dict[str, str], signum: int,
                            whole_group: bool) -> subprocess.CompletedProcess[str]:
    """Start a run, wait for its first pieces, send the signal (to the run alone, or to every process of it as a
    terminal's Ctrl-C does), and wait for the run to end."""
    process = subprocess.Popen(command(source, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True, env=env, preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 120
    while len(list((out / "pieces").glob("*.pdf"))) < 8 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if whole_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def roll(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The roll, and the sha256 of every piece and print file of one run never stopped."""
    folder = tmp_path_factory.mktemp("stop")
    source = folder / "city.csv"
    write_csv(baltimore_city_accounts(COUNT, seed=5), source)
    reference = folder / "reference"
    done = subprocess.run(command(source, reference), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return source, fingerprint(reference)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM, SIGHUP and process groups: POSIX")
@pytest.mark.parametrize(("signum", "whole_group", "code"),
                         [(signal.SIGTERM, False, 143), (signal.SIGINT, True, 130), (getattr(signal, "SIGHUP", 1), True, 129)],
                         ids=["sigterm", "ctrl-c", "hangup"])  # a closed terminal (an SSH session lost) hangs up every process of it
def test_a_stopped_run_says_so_cleans_up_and_resumes_to_the_same_bytes(roll: tuple[Path, dict[str, str]], tmp_path: Path,
                                                                      signum: int, whole_group: bool, code: int) -> None:
    source, expected = roll
    env = with_tmp(tmp_path / "tmp")
    out = tmp_path / "out"
    stopped = stop_after_first_pieces(source, out, env, signum, whole_group)
    assert stopped.returncode == code, stopped.stderr
    said = json.loads(stopped.stdout)
    assert said["ok"] is False and said["exit_code"] == code and said["error"] == "Stopped"
    assert said["signal"] == signal.Signals(signum).name and "--resume" in said["message"]
    assert "Traceback" not in stopped.stderr, "a worker or the fork server reported the signal as an error"
    assert left_in(tmp_path / "tmp") == [], "the run's index, fonts or multiprocessing folders stayed behind"
    assert 0 < len(list((out / "pieces").glob("*.pdf"))) < COUNT

    done = finish(source, out, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rendered"] == COUNT
    assert fingerprint(out) == expected, "the resumed run's bytes differ from a run never stopped"


def test_a_run_stopped_before_it_began_says_to_start_again_not_to_resume(tmp_path: Path) -> None:
    assert not OutputFolder(tmp_path).resumable
    assert "--resume" not in _after_stop(tmp_path) and "again" in _after_stop(tmp_path)
    (tmp_path / ".notices").mkdir()
    (tmp_path / ".notices" / "run.json").write_text("{}")
    assert OutputFolder(tmp_path).resumable and "--resume" in _after_stop(tmp_path)


_HANDLER = ("import signal, sys; from notices.cli import app; m = sys.modules['notices.cli.shared']; "
            "m.app = lambda: print(getattr(signal.getsignal(signal.{name}), '__name__', 'ignored')); m.main()")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM and SIGHUP: POSIX")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_a_hangup_stop_the_command_unless_whoever_started_it_ignores_them(name: str) -> None:
    def ignored() -> None:  # as a supervisor does with SIGTERM, or nohup with SIGHUP
        signal.signal(getattr(signal, name), signal.SIG_IGN)

    handler = _HANDLER.format(name=name)
    handled = subprocess.run([sys.executable, "-c", handler], capture_output=True, text=True, timeout=60)
    kept = subprocess.run([sys.executable, "-c", handler], capture_output=True, text=True, timeout=60, preexec_fn=ignored)
    assert (handled.stdout.strip(), kept.stdout.strip()) == ("_stop", "ignored")
