"""Pieces of one skeleton are written into one layout: the same bytes as laying each out, and only where that is exact."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from conftest import job_for

from notices import Options, batch
from notices.compose import skeleton
from notices.fields import Layouts, Misfit, _walk, proven_toolchain, shaping_ahead, vet
from notices.model import Record
from notices.piece import PieceResult, render_chunk
from notices.render import Renderer

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DAY = dt.date(2027, 2, 1)


def _records(collector: str, name: str, mailing: str = "final-notice", day: dt.date = DAY) -> list[tuple[int, Record]]:
    options = Options(input=SAMPLES / name, out=Path("unused"), collector=collector, mailing=mailing, date=day)
    return [(seq, item) for seq, item in batch.load(options)[2] if isinstance(item, Record)]


def _render(collector: str, items: list[tuple[int, Record]], reuse: bool, monkeypatch: pytest.MonkeyPatch,
            chunk: int = 8, mailing: str = "final-notice", day: dt.date = DAY,
            language: str = "en") -> tuple[dict[int, PieceResult], Any]:
    job = job_for(collector, mailing, day, language, reuse_layouts=reuse, with_inserts=True)
    if job.layouts is not None:
        job.layouts.draw_once = False  # the pages drawn in full, as a full layout draws them (test_drawn.py: drawn once)
    results = {}
    for start in range(0, len(items), chunk):
        for result in render_chunk(job, items[start:start + chunk]):
            results[result.seq] = result
    return results, job


# Every mailing made per record, both collectors, both languages. The notice after tax sale marks few
# fields (its dates stand inside sentences), so few of its pieces share a layout: it is held to the
# same bytes, not to a share of reuse. The City's 67 final notices take a minute a language in each
# test that renders them twice, so they run with the slow tests (in CI too); the default run still
# meets both collectors, both mailings and both languages.
MAILINGS = [
    pytest.param("baltimore-city", "baltimore-city-final-notices.csv", "final-notice", DAY, "en", 0.5, marks=pytest.mark.slow),
    ("baltimore-county", "baltimore-county-final-notices.csv", "final-notice", DAY, "en", 0.5),
    pytest.param("baltimore-city", "baltimore-city-final-notices.csv", "final-notice", DAY, "es", 0.4, marks=pytest.mark.slow),
    ("baltimore-county", "baltimore-county-final-notices.csv", "final-notice", DAY, "es", 0.4),
    ("baltimore-city", "baltimore-city-sale-results.csv", "post-sale-notice", dt.date(2027, 7, 1), "en", 0.0),
    ("baltimore-city", "baltimore-city-sale-results.csv", "post-sale-notice", dt.date(2027, 7, 1), "es", 0.0),
]


@pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")
@pytest.mark.parametrize(("collector", "sample", "mailing", "day", "language", "share"), MAILINGS)
def test_pieces_written_into_a_shared_layout_are_byte_identical_to_pieces_laid_out_alone(
        collector: str, sample: str, mailing: str, day: dt.date, language: str, share: float,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every mailing, collector and language: a piece written into a kept layout has the bytes of one laid out alone."""
    items = _records(collector, sample, mailing, day)
    reused, job = _render(collector, items, True, monkeypatch, mailing=mailing, day=day, language=language)
    alone, _ = _render(collector, items, False, monkeypatch, mailing=mailing, day=day, language=language)
    assert sorted(reused) == sorted(alone) == [seq for seq, _ in items]
    differ = [seq for seq in alone if reused[seq].pdf != alone[seq].pdf]
    assert not differ, f"pieces {differ[:5]} differ between a shared layout and their own"
    assert all(r.pdf for r in reused.values())
    # Not vacuous: where the templates mark their values as fields, most pieces really were written into another's layout.
    assert job.layouts.reused >= int(len(items) * share)
    assert sum(r.reused for r in reused.values()) == job.layouts.reused


@pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")
def test_a_value_that_would_wrap_is_laid_out_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    seq, first = _records("baltimore-city", "baltimore-city-final-notices.csv")[0]
    long_name = dataclasses.replace(first, owners=(("THE ESTATE OF " + "BARTHOLOMEW FITZGERALD-MONTGOMERY " * 4).strip(),))
    short_name = dataclasses.replace(first, owners=("A B",))
    items = [(seq, first), (seq + 1, long_name), (seq + 2, short_name)]
    reused, _ = _render("baltimore-city", items, True, monkeypatch, chunk=3)
    alone, _ = _render("baltimore-city", items, False, monkeypatch, chunk=3)
    assert [reused[s].reused for s, _ in items] == [False, False, True]
    assert all(reused[s].pdf == alone[s].pdf for s, _ in items)


@pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")
@pytest.mark.parametrize("language", ["en", "es"])
def test_pieces_whose_owner_line_wraps_written_into_a_layout_kept_for_them_are_byte_identical(
        language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Owner lines that take two lines: written into the layout of another piece whose owner line wrapped, each
    piece has the bytes of one laid out alone; one that takes three lines is laid out in full."""
    from test_drawn import _wrapping

    items, long = _wrapping(_records("baltimore-county", "baltimore-county-final-notices.csv")[:16])
    reused, _ = _render("baltimore-county", items, True, monkeypatch, language=language)
    alone, _ = _render("baltimore-county", items, False, monkeypatch, language=language)
    assert [s for s in alone if reused[s].pdf != alone[s].pdf] == []
    assert sum(reused[seq].reused for seq in long) >= len(long) - 3
    assert not any(reused[seq].reused for seq, record in items if len(record.owners[0]) > 90)


def _document(body: str, css: str = "") -> Any:
    html = f'<!DOCTYPE html><html><head><style>{css}</style></head><body>{body}</body></html>'
    return Renderer().layout(html)


def test_a_lone_field_in_a_block_can_take_other_words() -> None:
    layout = vet(_document('<p><span class="field">Alice Smith</span></p><p style="text-align: right"><span class="field">$1.00</span></p>'),
                 ["Alice Smith", "$1.00"])
    assert layout is not None and [s.align for s in layout.slots] == ["start", "end"]


@pytest.mark.parametrize(("body", "css"), [
    ('<p class="x"><span class="field">Alice Smith</span></p>', "p.x { string-set: who content() } @page { @top-center { content: string(who) } }"),
    ('<table><tr><td><span class="field">Alice Smith</span></td><td>x</td></tr></table>', ""),
    ('<p><span class="field">Alice Smith</span> and more words</p>', ""),
    ('<p style="float: left"><span class="field">Alice Smith</span></p>', ""),
    ('<p style="text-transform: uppercase"><span class="field">Alice Smith</span></p>', ""),
], ids=["copied into generated text", "auto-layout table", "not alone on its line", "floated", "text-transform"])
def test_a_field_whose_width_could_matter_is_never_swapped(body: str, css: str) -> None:
    try:
        layout = vet(_document(body, css), ["Alice Smith"])
    except Misfit:  # the words, not the boxes, fail: the next piece of the skeleton is tried
        layout = None
    assert layout is None


def test_the_skeleton_leaves_out_field_words_piece_number_and_page_name() -> None:
    one = '<section class="piece statement pa" id="piece-3" data-pages="1"><p><span class="field">O&#39;Neil</span></p></section>'
    two = '<section class="piece statement pb" id="piece-8" data-pages="1"><p><span class="field">Smith</span></p></section>'
    (key_one, values_one), (key_two, _) = skeleton(one), skeleton(two)
    assert key_one == key_two and values_one == ["O'Neil"]
    assert skeleton(one.replace('data-pages="1"', 'data-pages="2"'))[0] != key_one


def test_the_layouts_kept_are_bounded() -> None:
    kept = Layouts(size=2)
    for key in ("a", "b", "c"):
        kept.keep(key, _document("<p>x</p>"), [])
    assert kept.get("a") is False and kept.get("c") is None


def test_the_proven_versions_are_the_pinned_ones() -> None:
    """Layout reuse is on only with the WeasyPrint and pydyf that constraints.txt pins, the ones the tests prove."""
    from conftest import ROOT

    from notices.fingerprint import REUSE_PROVEN

    pinned = dict(line.lower().split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                  if "==" in line and not line.startswith("#"))
    packages = {name: version for name, version in REUSE_PROVEN.items() if name != "harfbuzz-subset"}
    assert packages and {name: pinned[name] for name in packages} == packages


@pytest.mark.skipif(not proven_toolchain(), reason="layout reuse is off without the proven WeasyPrint and HarfBuzz-subset")
def test_another_toolchain_turns_reuse_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a WeasyPrint other than the proven one, a Job keeps no layouts: every piece is laid out in full."""
    from notices import fields, fingerprint

    monkeypatch.setitem(fingerprint.REUSE_PROVEN, "weasyprint", "0.0-unproven")
    assert not fields.proven_toolchain()
    assert job_for("baltimore-city", "final-notice", DAY, reuse_layouts=True).layouts is None
    monkeypatch.undo()
    assert job_for("baltimore-city", "final-notice", DAY, reuse_layouts=True).layouts is not None


def test_without_harfbuzz_subset_reuse_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where fonts are subset by fontTools (no HarfBuzz-subset), a Job keeps no layouts: that path is not byte-identical."""
    from notices import fields

    monkeypatch.setattr(fields.ffi, "harfbuzz_subset", None)
    assert not fields.proven_toolchain()
    assert job_for("baltimore-city", "final-notice", DAY, reuse_layouts=True).layouts is None


def _two_fields(css: str = "") -> Any:
    body = '<p><span class="field">Alice Smith</span></p><p style="text-align: center"><span class="field">Bob Jones</span></p>'
    layout = vet(_document(body, css), ["Alice Smith", "Bob Jones"])
    assert layout is not None
    return layout


def _slow(slot: Any) -> Any:
    return dataclasses.replace(slot, shape=None)  # no shaping ahead: split_first_line places it, as a full layout does


def _operators(box: Any, change: Any) -> list[bytes]:
    import pydyf
    import weasyprint.draw
    from weasyprint.pdf.stream import Stream

    stream = Stream({}, (0, 0, 1, 1), {"ExtGState": {}, "XObject": {}, "Pattern": {}, "Shading": {}}, {}, None, {}, None)
    saved = box.text, box.pango_layout, box.width, box.position_x
    box.text, box.pango_layout, box.width, box.position_x = change
    try:
        weasyprint.draw.draw_text(stream, box, 0, "clip", "none")
    finally:
        box.text, box.pango_layout, box.width, box.position_x = saved
    return [op if isinstance(op, bytes) else pydyf._to_bytes(op) for op in stream.stream]


# Shaping ahead is on only with the Pango it was checked with; with another, the byte tests above still hold.
needs_shaping = pytest.mark.skipif(not shaping_ahead(), reason="shaping ahead is off with this Pango")


@needs_shaping
@pytest.mark.parametrize("words", ["Carol Q. Public-Whitaker", "$1,234.56", "Ünïcödé “quoted” — fine", "\xa0"])
def test_words_shaped_once_are_placed_and_drawn_as_split_first_line_places_and_draws_them(words: str) -> None:
    layout = _two_fields()
    for slot in layout.slots:
        assert slot.shape is not None
        shared, alone = layout._place(slot, words), layout._place(_slow(slot), words)
        assert shared is not None and alone is not None
        assert shared[0] == alone[0] and shared[2:] == alone[2:]
        assert _operators(slot.box, shared) == _operators(slot.box, alone)
        assert _operators(slot.box, shared) == _operators(slot.box, alone)  # drawn again from the kept shaping


@needs_shaping
def test_words_shaped_in_layouts_copied_per_style_are_placed_and_drawn_as_split_first_line_does() -> None:
    from notices import fields

    body = ('<p><span class="field">Alice Smith</span></p>'
            '<p style="font-weight: bold; font-size: 14px"><span class="field">Bob Jones</span></p>'
            '<p lang="es" style="font-variant-numeric: tabular-nums"><span class="field">Carol King</span></p>'
            '<p><span class="field">Dan Ray</span></p>')
    layout = vet(_document(body), ["Alice Smith", "Bob Jones", "Carol King", "Dan Ray"])
    assert layout is not None
    fields._SET_UP.clear()
    for words in ("Dora Lee-Ortiz", "$1,234.56", "Ünïcödé — fine"):
        for slot in layout.slots:
            shared, alone = layout._place(slot, words), layout._place(_slow(slot), words)
            assert shared is not None and alone is not None and isinstance(shared[1], fields._Shaped)
            assert shared[0] == alone[0] and shared[2:] == alone[2:]
            assert _operators(slot.box, shared) == _operators(slot.box, alone)
    # One layout set up per style, copied for every value: the first and last fields share theirs.
    assert len(fields._SET_UP) == len({slot.shape for slot in layout.slots}) == 3


@needs_shaping
def test_the_same_words_in_the_same_style_are_shaped_once_for_every_slot_and_layout() -> None:
    kept = Layouts()
    body = '<p><span class="field">Alice Smith</span></p><p style="text-align: right"><span class="field">Bob Jones</span></p>'
    renderer = Renderer()  # one font configuration, as in a job
    html = f"<!DOCTYPE html><html><body>{body}</body></html>"
    first, second = (kept.keep(key, renderer.layout(html), ["Alice Smith", "Bob Jones"]) for key in ("a", "b"))
    assert first is not None and second is not None and first.shapes is second.shapes is kept.shapes
    assert first.write(["Dora Lee", "Dora Lee"], lambda document: None) is None
    assert second.write(["Dora Lee", "Dora Lee"], lambda document: None) is None
    assert len([key for key in kept.shapes if key[1] == "Dora Lee"]) == 1


@needs_shaping
def test_the_words_shaped_ahead_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from notices import fields

    monkeypatch.setattr(fields, "_SHAPES", 3)
    layout = _two_fields()
    for number in range(10):
        assert layout._place(layout.slots[0], f"Owner {number}") is not None
        assert len(layout.shapes) <= 3


def test_words_that_nearly_fill_their_line_are_placed_by_split_first_line() -> None:
    from notices import fields

    probe = _two_fields()
    words = "Alice Smith"
    width = fields._Shaped(probe.slots[0].box.style, words, probe.slots[0].shape).width
    layout = vet(_document(f'<p style="width: {width + 0.5}px"><span class="field">{words}</span></p>'), [words])
    assert layout is not None
    slot = layout.slots[0]
    assert layout._shaped(slot, words, width + 0.5) is None  # within a point of the edge: not known to fit unbroken
    placed, alone = layout._place(slot, words), layout._place(_slow(slot), words)
    assert placed is not None and alone is not None
    assert not isinstance(placed[1], fields._Shaped) and placed[2:] == alone[2:]


@pytest.mark.parametrize("css", ["p { letter-spacing: 1px }", "p { word-spacing: 2px }", "p { text-overflow: ellipsis; overflow: hidden }"])
def test_spaced_or_ellipsized_fields_are_never_shaped_ahead(css: str) -> None:
    layout = _two_fields(css)
    assert all(slot.shape is None for slot in layout.slots)


# Words of the lengths that wrap on a real roll: two owners joined, a care-of company, names with accents.
_TWO_LINES = [
    "BLUE CRAB PROPERTY MANAGEMENT LLC and C/O RESIDENT AGENTS OF MARYLAND INC",
    "ROWHOUSE HOUSING PARTNERS LP and C/O HARBOR PROPERTY MANAGEMENT",
    "HERNÁNDEZ FAMILY REVOCABLE TRUST y C/O FATIMA H HERNÁNDEZ TRUSTEE",
    "2666 N PATTERSON PARK AVE LLC and C/O RESIDENT AGENTS OF MARYLAND INC",
    "A VERY-LONG-HYPHENATED-OWNER-NAME-THAT-ONLY-BREAKS-AT-HYPHENS-OR-SPACES LLC",
    "O'NEIL-FITZGERALD “THE ELDER” — TRUSTEE FOR THE O'NEIL-FITZGERALD FAMILY TRUST",
]


def _boxes(document: Any) -> list[tuple[str, float, float, float]]:
    """Each field text box: its words, width, x and y."""
    found = []
    for page in document.pages:
        for box, _ in _walk(page._page_box, []):
            if isinstance(getattr(box, "text", None), str) and box.element is not None and box.element.get("class") == "field":
                found.append((box.text, box.width, box.position_x, box.position_y))
    return found


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_words_that_wrap_to_two_lines_are_broken_and_placed_as_a_full_layout_breaks_and_places_them(align: str) -> None:
    """A layout kept from a piece whose field took two lines places other two-line words exactly where their own
    layout puts them (text, width, x of each line), and refuses words that take one line or three."""
    def page(words: str) -> str:
        return (f'<p style="width: 400px; text-align: {align}; font-size: 15px"><span class="field">{words}</span></p>'
                '<p><span class="field">Below</span></p>')

    kept = vet(_document(page(_TWO_LINES[0])), [_TWO_LINES[0], "Below"])
    assert kept is not None and kept.wrapped
    slot = kept.slots[0]
    assert slot.then is not None and slot.then.follows
    placed = 0
    for words in [*_TWO_LINES, *(w.lower() for w in _TWO_LINES), "ONE LINE ONLY", " ".join(_TWO_LINES[:2])]:
        own = _boxes(_document(page(words)))
        lines = kept._place_wrapped(slot, words)
        if len(own) != 3:  # one line, or three: not for this layout
            assert lines is None, words
            continue
        assert lines is not None, words
        assert [(text, width, x) for text, _, width, x in lines] == [box[:3] for box in own[:2]], words
        placed += 1
    assert placed >= 8  # not vacuous: most of the words took two lines


def test_pieces_whose_words_wrap_in_other_fields_keep_a_layout_each() -> None:
    """A skeleton keeps one layout per set of fields that take two lines, beside its one-line layout; each takes
    later words that wrap as it does, into the boxes their own full layout gives them."""
    def document(first: str, second: str) -> Any:
        return _document(f'<p style="width: 400px; font-size: 15px"><span class="field">{first}</span></p>'
                         f'<p style="width: 400px; font-size: 15px"><span class="field">{second}</span></p>')

    kept = Layouts()
    long, other = _TWO_LINES[0], _TWO_LINES[1]
    main = kept.keep("k", document("Short", "Short"), ["Short", "Short"])
    assert main is not None and not main.wrapped
    assert main.write([long, "Short"], _boxes) is None and main.wraps == (0,)
    assert main.write([long, long], _boxes) is None and main.wraps == (0, 1)
    first = kept.keep("k", document(long, "Short"), [long, "Short"])
    second = kept.keep("k", document("Short", long), ["Short", long])
    assert first is not None and second is not None and (first.wrapped, second.wrapped) == ((0,), (1,))
    assert kept.get("k") is main and kept.wrapped("k", (0,)) is first and kept.wrapped("k", (1,)) is second
    assert kept.wrapped("k", (0, 1)) is None
    assert first.write([other, "Tiny"], _boxes) == _boxes(document(other, "Tiny"))
    assert second.write(["Tiny", other], _boxes) == _boxes(document("Tiny", other))
    assert first.write(["Tiny", other], _boxes) is None  # its first field takes two lines, not one
