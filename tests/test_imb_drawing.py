"""The Intelligent Mail barcode as a piece gets it: the profile's [imb] read once per run, the bars drawn from lines made once per box."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_CSV, CITY_DATE, SPEC_BARS, SPEC_TRACKING

from notices import Options, run
from notices.batch import load
from notices.collectors import load_collector
from notices.errors import ConfigError
from notices.model import Collector, Record
from notices.postal import envelopes, imb, production


def _formula(bars: str, left: float, bottom: float, page_height: float = 11.0) -> bytes:
    """The bars' drawing operators as one rectangle per bar, each formatted on its own: how they were always drawn."""
    top = bottom - imb.FULL_HEIGHT
    middle = top + imb.FULL_HEIGHT / 2
    ops = ["q", "0 g"]
    for index, bar in enumerate(bars):
        x = left + index * imb.BAR_PITCH
        upper = top if bar in "FA" else middle - imb.TRACKER_HEIGHT / 2
        lower = bottom if bar in "FD" else middle + imb.TRACKER_HEIGHT / 2
        y, width, height = upper, imb.BAR_WIDTH, lower - upper
        ops.append(f"{x * 72:.3f} {(page_height - y - height) * 72:.3f} {width * 72:.3f} {height * 72:.3f} re")
    ops += ["f", "Q"]
    return ("\n".join(ops) + "\n").encode("ascii")


def _random_box(rng: random.Random) -> tuple[float, float, float]:
    """A barcode box anywhere on a page: plain floats, whole inches, and points on the 0.0005 pt rounding edge."""
    kind = rng.randrange(3)
    if kind == 0:
        left, bottom = rng.uniform(0, 8.5), rng.uniform(0, 14)
    elif kind == 1:
        left, bottom = rng.randrange(9), rng.randrange(1, 15)
    else:
        left, bottom = rng.randrange(10 ** 6) / 144_000, rng.randrange(10 ** 6) / 72_000
    return left, bottom, rng.choice([11.0, 11, 14.0, rng.uniform(5, 17)])


def test_the_bars_are_drawn_byte_for_byte_as_one_rectangle_per_bar_for_any_bars_and_box() -> None:
    """Random bars at random boxes (and page heights): the joined lines equal the per-rectangle formula, rounding and all."""
    rng = random.Random(3200)
    for _ in range(600):
        count = imb.BARS if rng.random() < 0.8 else rng.randrange(0, 80)
        bars = "".join(rng.choice("FADT") for _ in range(count))
        left, bottom, page_height = _random_box(rng)
        expected = _formula(bars, left, bottom, page_height)
        assert imb.bars_stream(bars, left, bottom, page_height) == expected, (bars, left, bottom, page_height)
        assert imb.content_stream(imb.bar_rects(bars, left, bottom), page_height) == expected


@pytest.mark.parametrize("stock_id", envelopes.stock_ids())
def test_every_stocks_barcode_box_draws_the_encoders_bars_as_before(stock_id: str) -> None:
    """The specification's codes and a run of serials, in each envelope stock's barcode box, on the default page."""
    box = envelopes.address_layout(envelopes.stock(stock_id)).barcode_box
    codes = list(SPEC_BARS.values()) + [imb.encode(f"00300123456{serial:09d}", "212181234") for serial in range(0, 10 ** 9, 7_654_321)]
    for bars in codes:
        assert imb.bars_stream(bars, box.left, box.bottom) == _formula(bars, box.left, box.bottom)


def test_a_letter_the_encoder_never_gives_is_drawn_as_a_tracker_as_before() -> None:
    """Not F, A or D: a tracker, as the per-rectangle formula has always drawn it, not an error."""
    bars = imb.encode(SPEC_TRACKING, "01234567891")[:60] + "xT-tF"
    assert imb.bars_stream(bars, 0.5, 2.5) == _formula(bars, 0.5, 2.5) == _formula(bars.replace("x", "T").replace("-", "T").replace("t", "T"), 0.5, 2.5)


@pytest.fixture(scope="module")
def city() -> tuple[Collector, list[tuple[int, Record]]]:
    collector, _, checked = load(Options(CITY_CSV, Path("unused"), "baltimore-city", "final-notice", CITY_DATE))
    return collector, [(seq, item) for seq, item in checked if isinstance(item, Record)]


def test_a_pieces_serial_routing_and_bars_are_those_of_the_profiles_imb_table(city: tuple[Collector, list[tuple[int, Record]]]) -> None:
    """What the run's production gives each piece is what the [imb] table, the run's block and the record give."""
    collector, records = city
    block = imb.SerialBlock(999_990, len(records), 0, 999_999)  # wraps past the top of six-digit serials
    made = production.for_run(collector, block)
    for seq, record in records:
        read_now = imb.mailer(collector.imb, collector.profile_file)  # the table read again for this piece
        assert read_now is not None
        assert made.barcode(seq, record) == imb.barcode(read_now, seq, record.mailing.zip, record.mailing.delivery_point, block)


def test_the_profiles_imb_table_is_read_once_when_the_run_sets_up_not_per_piece(
        city: tuple[Collector, list[tuple[int, Record]]], monkeypatch: pytest.MonkeyPatch) -> None:
    collector, records = city
    made = production.for_run(collector, None)
    expected = [made.barcode(seq, record) for seq, record in records]

    def read_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the [imb] table was read again for a piece")

    monkeypatch.setattr(imb, "mailer", read_again)
    assert [made.barcode(seq, record) for seq, record in records] == expected


def test_a_profile_without_a_barcode_gives_pieces_none(city: tuple[Collector, list[tuple[int, Record]]]) -> None:
    collector, records = city
    for table in ({**(collector.imb or {}), "enabled": False}, None):
        facts = {key: value for key, value in collector.facts.items() if key != "imb"}
        quiet = dataclasses.replace(collector, facts=facts if table is None else {**facts, "imb": table})
        made = production.for_run(quiet, None)
        assert all(made.barcode(seq, record) is None for seq, record in records[:5])


FACT = "An Intelligent Mail barcode fact is malformed"
DIGITS = "The serial range does not fit the serial's digits"
MALFORMED = [
    pytest.param({"mailer_id": "12345"}, "imb.mailer_id", FACT, id="short-mailer-id"),
    pytest.param({"barcode_id": "05"}, "imb.barcode_id", FACT, id="barcode-id-second-digit"),
    pytest.param({"service_type": "30"}, "imb.service_type", FACT, id="short-service-type"),
    pytest.param({"serial_range": "12-3"}, "imb.serial_range", DIGITS, id="range-backwards"),
    pytest.param({"serial_range": "east"}, "imb.serial_range", "A serial range is LO-HI or the name of one of [imb.serial_ranges]",
                 id="range-unknown-name"),
    pytest.param({"mailer_id": "123456789", "serial_start": 10 ** 6}, "imb.serial_range", DIGITS, id="start-past-the-digits"),
]


def _with_imb(collector: Collector, changes: dict[str, Any]) -> Collector:
    return dataclasses.replace(collector, facts={**collector.facts, "imb": {**(collector.imb or {}), **changes}})


@pytest.mark.parametrize(("changes", "field", "message"), MALFORMED)
def test_a_malformed_imb_table_stops_the_run_when_production_is_set_up_with_the_tables_own_error(
        changes: dict[str, Any], field: str, message: str) -> None:
    """The error a piece would have met, raised before any piece: same type, message, file, field, value and hint."""
    collector = _with_imb(load_collector("baltimore-city"), changes)
    with pytest.raises(ConfigError) as direct:
        imb.mailer(collector.imb, collector.profile_file)
    with pytest.raises(ConfigError) as caught:
        production.for_run(collector, None)
    error = caught.value
    assert type(error) is type(direct.value) is ConfigError and error.message == direct.value.message == message
    assert (error.file, error.field, error.value, error.hint) == (collector.profile_file, field, direct.value.value, direct.value.hint)


def test_a_proofs_malformed_serial_range_stops_it_before_any_piece(tmp_path: Path) -> None:
    """A proof reserves no serials, so production's set-up is where a bad --serial-range is met: no piece is written."""
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as caught:
        run(Options(CITY_CSV, out, "baltimore-city", "final-notice", CITY_DATE, workers=1, proof=True, serial_range="12-3"))
    assert caught.value.field == "imb.serial_range" and caught.value.value == "12-3"
    assert not list((out / "pieces").glob("*.pdf"))
