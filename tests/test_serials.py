"""The serial ledger: blocks unique within a run, across runs and machines for the retention days, the same block for the same run."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
from pathlib import Path

import pytest
from conftest import CITY_DATE, csv_text, read_csv, row
from typer.testing import CliRunner

from notices import Options, run
from notices.cli import app
from notices.errors import ConfigError, ResumeMismatch, SerialsExhausted
from notices.postal import imb, serials

MAILER = imb.Mailer("00", "300", "123456789")  # six-digit serials: 0 .. 999999
DAY = dt.date(2027, 1, 4)


def _serials(block: imb.SerialBlock) -> set[int]:
    return {block.serial(seq) for seq in range(1, block.count + 1)}


def test_a_runs_block_holds_a_distinct_serial_for_every_piece(tmp_path: Path) -> None:
    block = serials.reserve(tmp_path / "serials.json", "run-a", 500, MAILER, today=DAY)
    assert len(_serials(block)) == 500


def test_two_runs_get_disjoint_blocks_and_the_ledger_records_them(tmp_path: Path) -> None:
    ledger = tmp_path / "serials.json"
    first = serials.reserve(ledger, "run-a", 300, MAILER, collector="baltimore-city", mailing="final-notice", today=DAY)
    second = serials.reserve(ledger, "run-b", 300, MAILER, today=DAY)
    assert not _serials(first) & _serials(second)
    entries = serials.read(ledger)
    assert [(e.key, e.first, e.count, e.collector) for e in entries] == [
        ("run-a", 0, 300, "baltimore-city"), ("run-b", 300, 300, "")]


def test_the_same_run_gets_its_block_back_and_its_use_moves_on(tmp_path: Path) -> None:
    ledger = tmp_path / "serials.json"
    first = serials.reserve(ledger, "run-a", 50, MAILER, today=DAY)
    serials.reserve(ledger, "run-b", 50, MAILER, today=DAY)
    again = serials.reserve(ledger, "run-a", 50, MAILER, today=DAY + dt.timedelta(days=10))
    assert again == first
    assert serials.read(ledger)[0].used == DAY + dt.timedelta(days=10)


def test_a_block_past_the_retention_days_is_handed_out_again(tmp_path: Path) -> None:
    ledger = tmp_path / "serials.json"
    small = imb.Mailer("00", "300", "123456789", serial_range=(0, 99))
    old = serials.reserve(ledger, "run-a", 80, small, today=DAY)
    with pytest.raises(SerialsExhausted, match="No 80 consecutive serials are free"):
        serials.reserve(ledger, "run-b", 80, small, today=DAY + dt.timedelta(days=44))
    reused = serials.reserve(ledger, "run-b", 80, small, today=DAY + dt.timedelta(days=45))
    assert _serials(reused) & _serials(old)
    assert [e.key for e in serials.read(ledger)] == ["run-b"]  # the expired block it covers is gone from the ledger


def test_a_block_wraps_within_the_serial_width(tmp_path: Path) -> None:
    ledger = tmp_path / "serials.json"
    narrow = imb.Mailer("00", "300", "123456789", serial_range=(999_900, 999_999))
    serials.reserve(ledger, "run-a", 60, narrow, today=DAY)
    serials.reserve(ledger, "run-b", 30, narrow, today=DAY)
    # Both expire; the next block starts after the newest and runs past 999999 back to 999900.
    wrapped = serials.reserve(ledger, "run-c", 30, narrow, today=DAY + dt.timedelta(days=46))
    assert wrapped.serial(1) == 999_990 and wrapped.serial(11) == 999_900 and wrapped.serial(30) == 999_919
    assert all(999_900 <= s <= 999_999 for s in _serials(wrapped))
    code = imb.barcode(narrow, 11, "21218", block=wrapped)
    assert code.tracking.endswith("999900") and len(code.tracking) == 20


def test_a_run_larger_than_the_range_is_a_clear_error(tmp_path: Path) -> None:
    tiny = imb.Mailer("00", "300", "123456789", serial_range=(0, 9))
    with pytest.raises(SerialsExhausted, match="needs 11 serials; the serial range holds 10"):
        serials.reserve(tmp_path / "serials.json", "run-a", 11, tiny, today=DAY)


def test_machines_given_their_own_ranges_never_meet() -> None:
    east = imb.mailer({"barcode_id": "00", "service_type": "300", "mailer_id": "123456789", "serial_range": "east",
                       "serial_ranges": {"east": "0-499999", "west": "500000-999999"}})
    west = imb.mailer({"barcode_id": "00", "service_type": "300", "mailer_id": "123456789", "serial_range": "500000-999999"})
    assert east is not None and west is not None
    assert east.serials == (0, 499_999) and west.serials == (500_000, 999_999)
    with pytest.raises(ConfigError, match="serial range"):
        imb.mailer({"barcode_id": "00", "service_type": "300", "mailer_id": "123456789", "serial_range": "0-1000000"})


def _reserve_in_process(args: tuple[str, str]) -> list[int]:
    ledger, key = args
    block = serials.reserve(Path(ledger), key, 200, MAILER, today=DAY)
    return sorted(_serials(block))


def test_concurrent_reservers_under_the_lock_never_share_a_serial(tmp_path: Path) -> None:
    ledger = str(tmp_path / "serials.json")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        blocks = pool.map(_reserve_in_process, [(ledger, f"run-{i}") for i in range(8)])
    every = [s for block in blocks for s in block]
    assert len(every) == len(set(every)) == 1600
    assert len(serials.read(Path(ledger))) == 8


def test_shards_of_one_input_share_its_block_and_draw_disjoint_serials(tmp_path: Path) -> None:
    identity = {"input": "abc", "options": json.dumps({"collector": "c", "shard": [1, 3]})}
    other_shard = {**identity, "options": json.dumps({"collector": "c", "shard": [2, 3]})}
    assert serials.run_key(identity) == serials.run_key(other_shard)
    ledger = tmp_path / "serials.json"
    one = serials.reserve(ledger, serials.run_key(identity), 90, MAILER, today=DAY)
    two = serials.reserve(ledger, serials.run_key(other_shard), 90, MAILER, today=DAY)
    assert one == two
    drawn = [{one.serial(seq) for seq in range(1, 91) if seq % 3 == index} for index in range(3)]
    assert sum(map(len, drawn)) == len(set().union(*drawn)) == 90


@pytest.fixture(scope="module")
def roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("serials")
    rows = [row(account_id=f"01-01-0002-{i:03d}", owner_name=f"OWNER {i}", mailing_zip="21218-1234") for i in range(1, 4)]
    path = folder / "roll.csv"
    path.write_text(csv_text(rows), "utf-8")
    return path


def _tracking(out: Path) -> list[str]:
    return [r["imb_tracking"] for r in read_csv(out / "manifest.csv")]


def test_runs_in_one_workspace_draw_new_serials_and_a_rerun_the_same(roll: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    base = Options(roll, tmp_path / "a", "baltimore-city", "final-notice", CITY_DATE, workers=1, home=home)
    first = run(base)
    again = run(Options(roll, tmp_path / "b", "baltimore-city", "final-notice", CITY_DATE, workers=1, home=home))
    other = run(Options(roll, tmp_path / "c", "baltimore-city", "final-notice", CITY_DATE, workers=1, home=home,
                        sort="zip"))
    assert _tracking(tmp_path / "a") == _tracking(tmp_path / "b")  # the same run: the same serials
    assert not set(_tracking(tmp_path / "a")) & set(_tracking(tmp_path / "c"))
    assert first.serials["first"] == again.serials["first"] != other.serials["first"]
    assert first.serials["ledger"] == str(home / ".notices" / "serials.json") and not first.notes
    shown = json.loads(CliRunner().invoke(app, ["serials", "list", "--json", "--home", str(home)]).output)
    assert [(r["first"], r["count"], r["collector"]) for r in shown["reservations"]] == [
        (0, 3, "baltimore-city"), (3, 3, "baltimore-city")]


def test_a_resume_reuses_the_block_and_without_a_workspace_the_folder_keeps_the_ledger(roll: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, home=None))
    before = _tracking(out)
    assert (out / ".notices" / "serials.json").is_file() and "output folder" in summary.notes[-1]
    run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, home=None, resume=True))
    assert _tracking(out) == before
    run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, home=None, serial_range="5000-9999"))
    assert [int(t[-6:]) for t in _tracking(out)] == [5000, 5001, 5002]
    noted = out / ".notices" / "serials-block.json"
    noted.write_text(noted.read_text().replace("5000", "6000"), "utf-8")  # as if the ledger had handed out another block
    with pytest.raises(ResumeMismatch, match="serials changed"):
        run(Options(roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, home=None, serial_range="5000-9999",
                    resume=True))


def test_serials_list_needs_a_workspace_or_a_folder() -> None:
    result = CliRunner().invoke(app, ["serials", "list"], env={"NOTICES_HOME": ""})
    assert result.exit_code == 2 and "--home" in result.output
