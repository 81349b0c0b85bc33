"""A field's words drawn into a shape's drawing by the plain path (``drawn._Plain``, with its kept parts) are the operators WeasyPrint's own ``draw_text`` writes for them, and the same decision where they cannot share the drawing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

import pytest
from conftest import job_for
from test_fields import MAILINGS, _records
from tinycss2.color4 import parse_color

from notices import drawn
from notices.fields import proven_toolchain
from notices.model import Record
from notices.piece import render_chunk

pytestmark = pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")

DAY = dt.date(2027, 2, 1)


@dataclasses.dataclass
class _Compared:
    pairs: list[tuple[str, list[bytes] | None, list[bytes] | None]]  # the field's words, the plain path's operators, draw_text's
    handed_over: int  # fields the plain path left to draw_text
    drawings: dict[int, drawn.Drawn]  # those the fields were drawn into, by id


def _compare_every_field(monkeypatch: pytest.MonkeyPatch) -> _Compared:
    """Each field drawn into a drawing is drawn both ways; the pieces carry the plain path's operators."""
    compared = _Compared([], 0, {})
    plain, full = drawn.Drawn._draw, drawn.Drawn._draw_in_full

    def both(self: drawn.Drawn, box: Any, cut: Any) -> list[bytes] | None:
        ours = plain(self, box, cut)
        compared.pairs.append((box.text, ours, full(self, box, cut)))
        compared.drawings[id(self)] = self
        return ours

    def handed_over(self: drawn.Drawn, box: Any, cut: Any) -> list[bytes] | None:
        compared.handed_over += 1
        return full(self, box, cut)

    monkeypatch.setattr(drawn.Drawn, "_draw", both)
    monkeypatch.setattr(drawn.Drawn, "_draw_in_full", handed_over)
    return compared


def _render(collector: str, items: list[tuple[int, Record]], mailing: str = "final-notice", day: dt.date = DAY,
            language: str = "en", chunk: int = 8) -> Any:
    job = job_for(collector, mailing, day, language, reuse_layouts=True, with_inserts=True)
    for start in range(0, len(items), chunk):
        render_chunk(job, items[start:start + chunk])
    return job


def _differing(compared: _Compared) -> list[tuple[str, list[bytes] | None, list[bytes] | None]]:
    return [(words, ours, theirs) for words, ours, theirs in compared.pairs if ours != theirs]


@pytest.mark.parametrize(("collector", "sample", "mailing", "day", "language", "share"), MAILINGS)
def test_every_field_of_every_mailing_is_drawn_as_draw_text_draws_it(
        collector: str, sample: str, mailing: str, day: dt.date, language: str, share: float,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every collector, mailing and language: the same operators (colour, text matrix, font, glyphs and kerning)
    from the plain path as from WeasyPrint, field by field, in the order the pieces meet them."""
    compared = _compare_every_field(monkeypatch)
    _render(collector, _records(collector, sample, mailing, day), mailing, day, language)
    assert _differing(compared) == []
    if share:  # not vacuous: where pieces share drawings, nearly every field took the plain path
        assert len(compared.pairs) > 50
        assert compared.handed_over <= len(compared.pairs) // 10


def test_random_words_are_drawn_as_draw_text_draws_them() -> None:
    """Words of random characters, most of them in the shared fonts and some not (a Kelvin sign drawn with the
    glyph of K, Greek, Vietnamese, a euro sign), in the owner, address and property fields: the same operators,
    or the same refusal, as WeasyPrint's."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        compared = _compare_every_field(monkeypatch)
        pool = [c for c in drawn.FIELD_CHARACTERS if not c.isspace()] * 4 + list("\u212a\u03bc\u1ea1\u20ac\u2116")
        rng = random.Random(20270201)

        def words() -> str:
            return " ".join("".join(rng.choice(pool) for _ in range(rng.randint(1, 9))) for _ in range(rng.randint(1, 3)))

        items = _records("baltimore-city", "baltimore-city-final-notices.csv")
        seq, first = items[0]
        twins = [(seq + i, dataclasses.replace(first, owners=(words(),), property_address=words(),
                                               mailing=dataclasses.replace(first.mailing, line1=words())))
                 for i in range(60)]
        job = _render("baltimore-city", twins, chunk=60)
    finally:
        monkeypatch.undo()
    assert _differing(compared) == []
    refused = sum(theirs is None for _, _, theirs in compared.pairs)
    assert len(compared.pairs) > 100 and refused > 0  # both kinds met
    assert job.layouts.drawn > 10


def test_a_glyph_standing_for_other_words_than_the_shared_fonts_give_it_is_not_drawn_in_after_its_own() -> None:
    """"A final" is drawn with the ligature glyph for "fi", and the shared font's ToUnicode map says that glyph is "fi";
    "A \ufb01nal" (the ligature character itself) draws the same glyph, which a reader would extract as other words:
    that piece is drawn in full, even after the glyph was drawn into the drawing for "fi". A Kelvin sign likewise."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        compared = _compare_every_field(monkeypatch)
        items = _records("baltimore-city", "baltimore-city-final-notices.csv")
        seq, first = items[0]
        names = ["A final", "A \ufb01nal", "KELVIN", "\u212aELVIN"]
        twins = [(seq + i, dataclasses.replace(first, owners=(name,))) for i, name in enumerate(names)]
        job = _render("baltimore-city", twins, chunk=4)
    finally:
        monkeypatch.undo()
    assert _differing(compared) == []
    refused = {words for words, ours, _ in compared.pairs if ours is None}
    assert refused == {"A \ufb01nal", "\u212aELVIN"}
    assert job.layouts.drawn == 2  # the fields of "A final" (the kept piece) and KELVIN went into the drawing


def test_a_colour_kept_for_one_colour_or_state_is_not_written_for_another() -> None:
    """The colour operators kept for a colour drawn from a state are those ``set_color`` writes, and another colour,
    or the same from another state, gets its own: black after black writes nothing, grey after black writes grey."""
    black, grey = parse_color("black"), parse_color("#333")

    def stream(state: tuple[Any, ...] | None = None) -> Any:
        new = drawn._stream({}, (0, 0, 612, 792), {}, None)
        if state is not None:
            drawn._set_state(new, state)
        return new

    def after(color: Any) -> tuple[Any, ...]:
        new = stream()
        new.set_color(color)
        return drawn._state(new)

    plain = drawn._Plain({}, (0, 0, 612, 792), {}, None)
    for state in (drawn._state(stream()), after(black), after(grey)):
        for color in (black, grey, grey, black):
            ours, theirs = stream(state), stream(state)
            plain._set_color(ours, color, state)
            theirs.set_color(color)
            assert (ours.stream, drawn._state(ours), ours._resources) == (theirs.stream, drawn._state(theirs), theirs._resources)
    assert len(plain.colors) == 6  # each colour from each state, the second time kept


def test_the_kept_parts_stay_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many different places, glyphs and colours a long mailing meets, each dict of kept parts stays bounded,
    and the parts drawn once they were dropped are still draw_text's."""
    monkeypatch.setattr(drawn, "_KEPT", 8)
    compared = _compare_every_field(monkeypatch)
    _render("baltimore-city", _records("baltimore-city", "baltimore-city-final-notices.csv"))
    assert _differing(compared) == []
    # Not vacuous: far more characters (so glyph parts) were met than a dict keeps.
    assert len({c for words, _, _ in compared.pairs for c in words}) > 4 * 8
    assert compared.drawings
    for drawing in compared.drawings.values():
        plain = drawing.plain
        assert len(plain.matrices) <= 8 and len(plain.colors) <= 8 and len(plain.glyphs) <= 8
        assert all(len(kept) <= 8 for kept in plain.glyphs.values())


def test_a_colour_weasyprint_warns_about_warns_at_every_field(caplog: pytest.LogCaptureFixture) -> None:
    """A colour in a space WeasyPrint does not support is never kept: its warning (which fails the piece) comes every time."""
    unsupported = parse_color("color(display-p3 0.1 0.2 0.3)")
    assert unsupported is not None and unsupported.space not in drawn._QUIET_SPACES
    plain = drawn._Plain({}, (0, 0, 612, 792), {}, None)
    state = drawn._state(drawn._stream({}, (0, 0, 612, 792), {}, None))
    with caplog.at_level("WARNING", logger="weasyprint"):
        for _ in range(3):
            plain._set_color(drawn._stream({}, (0, 0, 612, 792), {}, None), unsupported, state)
    assert sum("Unsupported color space" in r.getMessage() for r in caplog.records) == 3
    assert not plain.colors
