"""Turn a kept layout into its pages drawn once, and another piece's field words into that piece's pages: only the fields are drawn again.

``fields`` writes a later piece of a skeleton into a kept layout without laying it out again, but
drawing the page (the statute's words, the frame, the headings) and subsetting its fonts cost as
much again. A ``Drawn`` is the kept layout drawn once, with the content stream of each page cut
where each field's text is drawn (``_Cut``): a piece's page is those same bytes with its own field
text drawn as WeasyPrint's own ``draw_text`` draws it (its steps and stream calls for plain words,
``_Plain``; ``draw_text`` itself otherwise), from the same graphics state, put back into the cuts.
So a piece's content streams are the operators a full drawing of that page writes, in the same
order: the same glyphs at the same positions, and text a reader (PDFium for the statute check,
pdftotext, copy and paste) extracts in the same order as from a full layout.

The fonts are drawn once too, and shared: each font of the kept page is embedded with the glyphs
the page draws plus those of ``FIELD_CHARACTERS`` in the styles the fields use, so the words of
most pieces need no new glyph. A piece is written this way only when each glyph its fields draw is
in the shared font with the same width and stands for the same text the font's ToUnicode map
gives it (what a full layout would have written), its drawing leaves the graphics state as the kept
piece's did, and it adds no resource; otherwise it is drawn in full (``fields.Layout.write``), only
slower. ``tests/test_drawn.py`` holds the two to the same text, positions and statute findings.

The objects other than the pages and their content streams (fonts, resources) are the same in every
piece of the shape; they are marked with the drawing's key (``Fragment.common``), so a print file
writes them once.

The content streams are not moved into one form XObject per shape, drawn by every page with a
field layer on top: readers extract a page's text in the order it is drawn, so the fields' words
would come after all the page's other words, and the statute check (which reads words in order,
for example the notice date after the "Date" line) would read a different text than from a full
layout. Drawing the fields in place keeps the order exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydyf
import weasyprint.draw
import weasyprint.pdf
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.matrix import Matrix
from weasyprint.pdf.stream import Stream
from weasyprint.text.ffi import FROM_UNITS, ffi, pango
from weasyprint.text.fonts import get_pango_font_key

from .pdfwriter import FINAL_BLOCK, ZLIB_HEADER, Fragment, deflated_blocks

# Characters the shared fonts carry for the fields besides the page's own: printable ASCII, Latin-1
# and the usual typographic marks. A field with another character is drawn in full (its glyph is
# not in the shared font), which is only slower.
FIELD_CHARACTERS = "".join(
    chr(c) for c in [*range(0x20, 0x7F), *range(0xA0, 0x100), 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026]
)
_MARK = b"%field"


class _Mark(bytes):
    """Where a field's text was drawn in a page's content stream, in place of its operators."""

    cut: int


def _state(stream: Any) -> tuple[Any, ...]:
    """What of a stream's graphics and text state a field's drawing reads and changes."""
    return (stream._current_color, stream._current_alpha, stream._current_font, stream._old_font,
            stream._current_color_stroke, stream._current_alpha_stroke)


def _set_state(stream: Any, state: tuple[Any, ...]) -> None:
    (stream._current_color, stream._current_alpha, stream._current_font, stream._old_font,
     stream._current_color_stroke, stream._current_alpha_stroke) = state


@dataclass
class _Cut:
    """One field's text in the kept drawing: the state it was drawn from and left, and how its operators join the stream's."""

    page: int
    args: tuple[Any, ...]  # offset_x, text_overflow, block_ellipsis as draw_inline_level passed them
    before: tuple[Any, ...]
    after: tuple[Any, ...]
    joined: bool  # it was drawn right after a text object's "ET"
    popped: bool  # its "BT" took that "ET" back, continuing the text object


@dataclass
class _Page:
    """A page's content stream as the kept drawing wrote it, cut at its fields, its unchanging parts compressed once."""

    number: int  # of its content stream in ``objects``
    extra: dict[Any, Any]
    parts: list[tuple[bytes, bytes] | int]  # in order: (operators, their deflate blocks), or the index of a cut

    @classmethod
    def cut(cls, number: int, extra: dict[Any, Any], parts: list[bytes | int]) -> _Page:
        """Operators are joined by newlines (as pydyf joins them); each unchanging run is compressed once, on its own.

        Each run ends with a full flush, so no later block refers back into it: the runs and each
        piece's field text, compressed apart, join into one valid deflate stream (``stream``).
        """
        units: list[tuple[bytes, bytes] | int] = []
        for index, part in enumerate(parts):
            if isinstance(part, int):
                units.append(part)
                continue
            raw = part if index == len(parts) - 1 else part + b"\n"
            units.append((raw, deflated_blocks(raw)))
        return cls(number, extra, units)

    def stream(self, fields: list[tuple[bytes, bytes]]) -> bytes:
        """The page's content stream object with these fields in its cuts (``_unit``: their operators and
        those compressed), as pydyf would write it."""
        blocks, checksum = [ZLIB_HEADER], 1
        for unit in self.parts:
            raw, block = fields[unit] if isinstance(unit, int) else unit
            checksum = zlib.adler32(raw, checksum)
            blocks.append(block)
        blocks += [FINAL_BLOCK, checksum.to_bytes(4, "big")]
        data = b"".join(blocks)
        extra = pydyf.Dictionary({**self.extra, "Filter": "/FlateDecode", "Length": len(data)})
        return b"\n".join((extra.data, b"stream", data, b"endstream"))


_SEEN = 4096  # fields kept per drawing (operators and deflate blocks): memory stays flat however long the mailing


def _unit(ops: list[bytes]) -> tuple[bytes, bytes]:
    """A field's operators as a cut of ``_Page.stream`` takes them: joined as pydyf joins them, and compressed
    (nothing drawn adds nothing, to the stream or to its checksum)."""
    if not ops:
        return b"", b""
    raw = b"\n".join(ops) + b"\n"
    return raw, deflated_blocks(raw)


class Drawn:
    """A kept layout drawn once: its objects and fonts, and each page's content cut at its fields."""

    def __init__(self, layout: Any, objects: Fragment, pages: list[_Page], cuts: dict[int, _Cut], fonts: dict[Any, Any],
                 page_rectangle: Any, resources: dict[str, Any], color_profiles: Any, output_intent: Any) -> None:
        self.layout = layout
        self.objects = objects
        self.pages = pages
        self.cuts = cuts
        self.fonts = fonts
        self.page_rectangle = page_rectangle
        self.resources = resources
        self.color_profiles = color_profiles
        self.output_intent = output_intent
        self.states = set(resources["ExtGState"])
        # A field's words and place -> its operators and their deflate blocks (``_unit``), or None when not plain.
        self.seen: dict[tuple[int, str, float, float], tuple[bytes, bytes] | None] = {}
        self.plain = _Plain(fonts, page_rectangle, color_profiles, output_intent)
        self.written = 0

    def fragment(self) -> Fragment | None:
        """The pages with the field boxes' current words drawn in place; None when they cannot share the drawing's fonts."""
        drawn: dict[int, tuple[bytes, bytes]] = {}
        for slot in self.layout.slots:
            box = slot.box
            # Many fields print the same words in many pieces (a date, a blank line, a city): drawn and
            # compressed once each (half a piece's fields on the bench's roll). The blocks end with a full
            # flush, so they are the bytes compressing them again would give.
            key = (id(box), box.text, box.position_x, box.position_y)
            if key in self.seen:
                unit = self.seen[key]
            else:
                ops = self._draw(box, self.cuts[id(box)])
                unit = None if ops is None else _unit(ops)
                if len(self.seen) < _SEEN:
                    self.seen[key] = unit
            if unit is None:
                return None
            drawn[id(box)] = unit
        fields = [drawn[key] for key in self.cuts]
        bodies = dict(self.objects.objects)
        for page in self.pages:
            bodies[page.number] = page.stream(fields)
        self.written += 1
        return Fragment(list(self.objects.pages), sorted(bodies.items()), self.objects.parent,
                        common=self.objects.common, common_objects=self.objects.common_objects)

    def _draw(self, box: Any, cut: _Cut) -> list[bytes] | None:
        """A field's operators as WeasyPrint draws them from the kept drawing's state, or None if they would differ in kind."""
        try:
            popped, items, stream = self.plain.draw(box, cut.args, cut.before, cut.joined)
        except _NotPlain:
            return self._draw_in_full(box, cut)
        if popped != cut.popped or _state(stream) != cut.after or not set(stream._resources["ExtGState"]) <= self.states:
            return self._draw_in_full(box, cut)  # it leaves another state than the kept piece's: WeasyPrint's drawing judges
        return _operators(items)

    def _draw_in_full(self, box: Any, cut: _Cut) -> list[bytes] | None:
        """A field's operators as WeasyPrint's own ``draw_text`` draws them, or None if they would differ in kind.

        Drawn with the shared fonts themselves, so the text operators' spacing is worked out against
        the widths those fonts were written with; what the drawing adds to them (the texts its glyphs
        stand for, a glyph's width, a missing glyph, a new face) is taken back after.
        """
        stream = _stream(self.fonts, self.page_rectangle, self.color_profiles, self.output_intent)
        _set_state(stream, cut.before)
        if cut.joined:
            stream.stream.append(b"ET")
        faces = dict(self.fonts)
        # Glyph widths and missing glyphs are only ever added to: their counts tell whether the drawing added one.
        saved = {key: (font.to_unicode, len(font.widths), len(font.missing)) for key, font in faces.items()}
        for font in faces.values():
            font.to_unicode = {}
        grown = True
        try:
            popped, items = _draw_field(stream, box, cut.args)
            used = {key: font.to_unicode for key, font in faces.items()}
            grown = any((len(font.widths), len(font.missing)) != saved[key][1:] for key, font in faces.items())
        finally:
            for key in set(self.fonts) - set(faces):
                del self.fonts[key]  # a face the kept drawing does not have
            for key, font in faces.items():
                font.to_unicode, widths, missing = saved[key]
                if grown:  # dicts keep their order: what the drawing added is at the end
                    for glyph in list(font.widths)[widths:]:
                        del font.widths[glyph]
                    for point in list(font.missing)[missing:]:
                        del font.missing[point]
        if (grown or len(self.fonts) != len(faces) or popped != cut.popped or _state(stream) != cut.after
                or items[-1:] != [b"ET"] or not set(stream._resources["ExtGState"]) <= self.states):
            return None
        for key, texts in used.items():
            shared = faces[key].to_unicode
            if any(shared.get(glyph) != text for glyph, text in texts.items()):
                return None  # a glyph the shared font lacks, or one its ToUnicode map gives other text than this field's
        # Its closing "ET" stays in the kept stream after the cut (or was taken back by the next text, as there).
        return _operators(items)


def _operators(items: list[Any]) -> list[bytes]:
    """A field's drawn operators as bytes, without the closing "ET" the kept drawing has after the cut."""
    return [op if isinstance(op, bytes) else pydyf._to_bytes(op) for op in items[:-1]]


def _stream(fonts: dict[Any, Any], page_rectangle: Any, color_profiles: Any, output_intent: Any) -> Any:
    """A content stream drawing with these fonts, as the kept page's did, into a list of its own."""
    return Stream(fonts, page_rectangle, _resources(), {}, None, color_profiles, output_intent)


def _resources() -> dict[str, dict[Any, Any]]:
    """A content stream's resources, empty: what a field's drawing adds is read from them after."""
    return {"ExtGState": {}, "XObject": {}, "Pattern": {}, "Shading": {}}


class _NotPlain(Exception):
    """A field's drawing needs more than ``_Plain`` writes: WeasyPrint's ``draw_text`` draws it."""


class _Plain:
    """Draws a field in glyphs the shared fonts already carry as ``draw_text`` does, keeping what repeats from field to field.

    ``draw_text`` and ``draw_first_line`` (weasyprint/draw/text.py) step by step, with the same
    stream methods, for a line of one direction with no decoration, ellipsis, emoji, bitmap font or
    glyph rise: so the same operators. Three things cost most there and are kept here, each under
    a key holding all its output depends on, in dicts of bounded size:

    - the colour's operators, for the state the field is drawn from and the colour;
    - the text matrix operator, for the field's place;
    - each glyph's part of the ``TJ`` string (its offset, id and kerning), for the font and size,
      the glyph, its Pango width and offset, and the text it stands for: valid because the shared
      fonts' widths and ToUnicode entries are never changed once written (``Drawn._draw_in_full``
      takes back whatever it adds).

    A run's glyphs are read from Pango in one call, not one attribute at a time. Anything else, or a
    glyph the shared font lacks (its width, or the text its ToUnicode map gives), raises
    ``_NotPlain`` before the fonts are touched: WeasyPrint then draws the field.
    """

    def __init__(self, fonts: dict[Any, Any], page_rectangle: Any, color_profiles: Any, output_intent: Any) -> None:
        self.fonts = fonts
        self.stream = _stream(fonts, page_rectangle, color_profiles, output_intent)
        self.colors: dict[tuple[Any, ...], tuple[list[Any], tuple[Any, ...], dict[str, Any]]] = {}
        self.matrices: dict[tuple[float, float], bytes] = {}
        self.glyphs: dict[tuple[Any, float], dict[tuple[int, int, int, bytes], str]] = {}  # per font and size

    def draw(self, box: Any, args: tuple[Any, ...], state: tuple[Any, ...], joined: bool) -> tuple[bool, list[Any], Any]:
        """Draw the field from ``state`` (after a text object's "ET" if ``joined``): whether its "BT" took that "ET"
        back, the operators it added after that, and the stream (its state and resources as the drawing left them)."""
        style = box.style
        decoration = style["text_decoration_line"]
        if (args[1:] != ("clip", "none") or style["visibility"] != "visible"
                or "underline" in decoration or "overline" in decoration or "line-through" in decoration
                or style["font_size"] < 1e-6 or _PANGO_VERSION < 14802):
            raise _NotPlain
        stream = self.stream  # one for every field: its list, state and resources are set afresh here
        stream.stream = [b"ET"] if joined else []
        stream._resources = _resources()
        _set_state(stream, state)
        length = len(stream.stream)
        self._set_color(stream, style["color"], state)
        layout = box.pango_layout
        layout.reactivate(style)
        try:
            popped = bool(stream.stream) and stream.stream[-1] == b"ET"
            stream.begin_text()
            if box.text.strip():  # draw_first_line draws no line of blank characters
                self._first_line(stream, box, layout)
            stream.end_text()
        finally:
            layout.deactivate()
        return popped, stream.stream[length - popped:], stream

    def _set_color(self, stream: Any, color: Any, state: tuple[Any, ...]) -> None:
        # set_color reads the stream's colour and alpha state and the colour, and writes operators,
        # that state and, for an alpha, an ExtGState resource.
        if color.space not in _QUIET_SPACES:
            # Any other space makes WeasyPrint warn (an unsupported one) or read the run's profiles: it
            # is drawn every time, so the warning fails every piece that prints it, not just the first.
            stream.set_color(color)
            return
        key = (state, color.space, color.coordinates, color.alpha)
        kept = self.colors.get(key)
        if kept is None:
            start = len(stream.stream)
            stream.set_color(color)
            kept = stream.stream[start:], _state(stream), dict(stream._resources["ExtGState"])
            if len(self.colors) >= _KEPT:
                self.colors.clear()
            self.colors[key] = kept
            return
        ops, after, states = kept
        stream.stream.extend(ops)
        _set_state(stream, after)
        stream._resources["ExtGState"].update(states)

    def _first_line(self, stream: Any, box: Any, layout: Any) -> None:
        pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _index = layout.get_first_line()
        x, y = box.position_x, box.position_y + box.baseline
        matrix = self.matrices.get((x, y))
        if matrix is None:
            stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)
            if len(self.matrices) >= _KEPT:
                self.matrices.clear()
            self.matrices[x, y] = stream.stream[-1]
        else:
            stream.stream.append(matrix)
        utf8_text = layout.text.encode()
        previous_pango_font = None
        string = ""
        run = first_line.runs[0]
        while run != ffi.NULL:
            glyph_item = run.data
            run = run.next
            glyph_string = glyph_item.glyphs
            count = glyph_string.num_glyphs
            item = glyph_item.item
            if item.analysis.level % 2 or count <= 0:
                raise _NotPlain  # right to left, or a run with nothing to draw
            pango_font = item.analysis.font
            if pango_font != previous_pango_font:
                previous_pango_font = pango_font
                key, _description, font_size = get_pango_font_key(pango_font)
                font = self.fonts.get(key)
                if font is None or font.bitmap or font.png or font.svg or font.colr:
                    raise _NotPlain  # a face the drawing lacks (``add_font`` would add it), or one drawn otherwise
                if string:
                    stream.show_text(string)
                string = ""
                stream.set_font_size(font.hash, font_size)
                kept = self._kept_glyphs(key, font_size)
            # PangoGlyphInfo: the glyph, its geometry's width, x and y offsets, its attributes; 32 bits each.
            glyphs = ffi.unpack(ffi.cast("int32_t *", glyph_string.glyphs), 5 * count)
            if any(glyphs[3::5]):
                raise _NotPlain  # a rise
            bounds = [item.offset + cluster for cluster in ffi.unpack(glyph_string.log_clusters, count)]
            bounds.append(item.offset + item.length)
            parts = ["<"]
            for glyph_id, width, x_offset, text in zip(glyphs[0::5], glyphs[1::5], glyphs[2::5],
                                                        map(utf8_text.__getitem__, map(slice, bounds, bounds[1:])), strict=True):
                part = kept.get((glyph_id, width, x_offset, text))
                if part is None:
                    part = self._glyph(font, font_size, glyph_id, width, x_offset, text)
                    if len(kept) >= _KEPT:
                        kept.clear()
                    kept[glyph_id, width, x_offset, text] = part
                parts.append(part)
            string += "".join(parts)
            if string[-1] == "<":
                string = string[:-1]
            else:
                string += ">"
        stream.show_text(string)

    def _kept_glyphs(self, key: Any, font_size: float) -> dict[tuple[int, int, int, bytes], str]:
        kept = self.glyphs.get((key, font_size))
        if kept is None:
            if len(self.glyphs) >= _KEPT:
                self.glyphs.clear()
            kept = self.glyphs[key, font_size] = {}
        return kept

    @staticmethod
    def _glyph(font: Any, font_size: float, glyph_id: int, width: int, x_offset: int, text: bytes) -> str:
        """A glyph's part of the TJ string, as draw_first_line writes it for a glyph already in the font."""
        if not 0 <= glyph_id < _EMPTY_GLYPH:
            raise _NotPlain  # an empty or a missing glyph
        logical_width = font.widths.get(glyph_id)
        try:
            same = font.to_unicode.get(glyph_id) == text.decode()
        except UnicodeDecodeError:
            raise _NotPlain from None  # a cluster cut inside a character: let WeasyPrint meet it
        if logical_width is None or not same:
            raise _NotPlain  # a glyph the shared font lacks, or one standing there for other text
        string = ""
        offset = x_offset / font_size
        if offset:
            string += f">{-offset}<"
        string += f"{glyph_id:04x}"
        kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
        if kerning:
            string += f">{int(kerning)}<"
        return string


# The colour spaces WeasyPrint's ``set_color`` draws from the colour and the stream's state alone, without a warning.
_QUIET_SPACES = frozenset({"srgb", "hsl", "hwb", "xyz-d65", "oklab", "oklch", "xyz-d50", "lab", "lch", "device-cmyk"})
_KEPT = 4096  # entries in each of a drawing's dicts of kept operators: memory stays flat however long the mailing
_PANGO_VERSION = pango.pango_version()
_EMPTY_GLYPH = pango.PANGO_GLYPH_EMPTY  # the unknown-glyph flag is above it


def _draw_field(stream: Any, box: Any, args: tuple[Any, ...]) -> tuple[bool | None, list[Any]]:
    """Draw a field's text; returns whether its "BT" took back the "ET" before it (continuing that text
    object) and the operators it added after that."""
    popped: list[bool] = []
    begin = stream.begin_text

    def begin_text() -> None:
        if not popped:
            popped.append(bool(stream.stream) and stream.stream[-1] == b"ET")
        begin()

    length = len(stream.stream)
    stream.begin_text = begin_text
    try:
        _DRAW_TEXT(stream, box, *args)
    finally:
        del stream.begin_text
    took = bool(popped and popped[0])
    start = length - took
    items = stream.stream[start:]
    del stream.stream[start:]
    return (popped[0] if popped else None), items


_DRAW_TEXT = weasyprint.draw.draw_text
_BUILD_FONTS = weasyprint.pdf.build_fonts_dictionary


@contextlib.contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


def draw(layout: Any, objects_of: Any) -> Drawn | None:
    """Draw a kept layout once with its fields cut out, its fonts carrying ``FIELD_CHARACTERS``; None if a field cannot be cut.

    ``objects_of(document, pages)`` writes the pages (``render.Renderer.objects``) and returns the
    pydyf PDF before it is serialized.
    """
    document = layout.document
    slots = {id(slot.box): slot for slot in layout.slots}
    cuts: dict[int, _Cut] = {}
    page_of: dict[int, int] = {}
    for number, page in enumerate(document.pages):
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            if id(box) in slots:
                page_of[id(box)] = number
            stack.extend(getattr(box, "children", None) or ())
    found: dict[str, Any] = {}
    scratch: dict[Any, Any] = {}

    def draw_text(stream: Any, box: Any, offset_x: Any = 0, text_overflow: Any = "clip", block_ellipsis: Any = "none") -> Any:
        if id(box) not in slots:
            return _DRAW_TEXT(stream, box, offset_x, text_overflow, block_ellipsis)
        if id(box) in cuts:
            raise _Uncut  # drawn twice: one cut per field
        joined = bool(stream.stream) and stream.stream[-1] == b"ET"
        before = _state(stream)
        args = (offset_x, text_overflow, block_ellipsis)
        # Drawn with fonts of its own: the shared fonts must not depend on which piece of the shape was kept.
        fonts, stream._fonts = stream._fonts, scratch
        try:
            popped, items = _draw_field(stream, box, args)
        finally:
            stream._fonts = fonts
        if popped is None or items[-1:] != [b"ET"]:
            raise _Uncut  # no text object: nothing to cut
        mark = _Mark(_MARK)
        mark.cut = len(cuts)
        cuts[id(box)] = _Cut(page_of.get(id(box), -1), args, before, _state(stream), joined, popped)
        stream.stream.extend([mark, b"ET"])
        found.setdefault("resources", stream._resources)
        found.setdefault("profiles", (stream._color_profiles, stream._output_intent, stream.page_rectangle))
        return None

    def build_fonts(pdf: Any, fonts: Any, *args: Any) -> Any:
        # After the page is drawn, so the page's own words keep the texts their glyphs first stood for.
        probe = Stream(fonts, (0, 0, 1, 1), _resources(), {}, None, {}, None)
        faces = set()
        for slot in layout.slots:
            face = _face(slot.box.style)
            if face not in faces:  # a second field in the same face would teach its font nothing new
                faces.add(face)
                _draw_characters(probe, slot.box)
        found["fonts"] = fonts
        return _BUILD_FONTS(pdf, fonts, *args)

    try:
        with _patched(weasyprint.draw, "draw_text", draw_text), _patched(weasyprint.pdf, "build_fonts_dictionary", build_fonts):
            pdf = objects_of(document, document.pages)
    except _Uncut:
        return None
    if len(cuts) != len(slots) or "fonts" not in found:
        return None
    return _drawn(layout, pdf, cuts, found)


class _Uncut(Exception):
    """A field's text drew nothing to cut out (no glyph, an empty text object): the drawing cannot be shared."""


def _face(style: Any) -> tuple[str, ...]:
    """What of a box's style chooses the glyphs its words are drawn with: every font property but the size, and the language.

    A font's glyphs and their widths are written once, when first drawn (``draw_first_line``), so
    FIELD_CHARACTERS drawn again in a face already taught them adds nothing; drawing them for each
    field cost half of drawing a shape once. The size is left out because WeasyPrint keys a font
    without it (``get_pango_font_key``), and the bundled faces have no size-dependent glyphs.
    """
    return tuple(repr(style[name]) for name in _FACE_PROPERTIES)


_FACE_PROPERTIES = [*sorted(name for name in INITIAL_VALUES if name.startswith("font_") and name != "font_size"),
                    "lang", "letter_spacing", "text_transform"]


def _draw_characters(stream: Any, box: Any) -> None:
    """Draw FIELD_CHARACTERS in the box's style into a stream no page uses: its fonts learn their glyphs."""
    from weasyprint.text.line_break import split_first_line  # noqa: PLC0415 - only when a shape is drawn

    text = " ".join(FIELD_CHARACTERS.split())
    layout, *_ = split_first_line(text, box.style, _Context(), None, box.justification_spacing)
    saved = box.text, box.pango_layout
    box.text, box.pango_layout = text, layout
    try:
        _DRAW_TEXT(stream, box, 0, "clip", "none")
    finally:
        box.text, box.pango_layout = saved


class _Context:
    def __init__(self) -> None:
        self.dictionaries: dict[Any, Any] = {}


def _drawn(layout: Any, pdf: Any, cuts: dict[int, _Cut], found: dict[str, Any]) -> Drawn | None:
    from .render import objects_of  # noqa: PLC0415 - render imports nothing from here; kept local to avoid a cycle

    fragment = objects_of(pdf)
    pages: list[_Page] = []
    for number in fragment.pages:
        page = pdf.objects[number]
        contents = int(page["Contents"].split()[0])
        stream = pdf.objects[contents]
        parts: list[bytes | int] = []
        run: list[bytes] = []
        items = list(stream.stream)
        for item in items:
            if isinstance(item, _Mark):
                if run:
                    parts.append(b"\n".join(run))
                    run = []
                parts.append(item.cut)
                continue
            run.append(pydyf._to_bytes(item))
        if run:
            parts.append(b"\n".join(run))
        if not parts or not isinstance(parts[-1], bytes):
            return None  # a page ends with its own operators (at least the "ET" after a field)
        pages.append(_Page.cut(contents, dict(stream.extra), parts))
    own = {p.number for p in pages} | set(fragment.pages)
    common = {n for n, _ in fragment.objects} - own
    key = hashlib.sha256(b"".join(b"%d %d\n" % (n, len(body)) + body for n, body in fragment.objects if n in common)).hexdigest()[:24]
    fragment = Fragment(fragment.pages, fragment.objects, fragment.parent, common=key, common_objects=frozenset(common))
    color_profiles, output_intent, rectangle = found["profiles"]
    drawn = Drawn(layout, fragment, pages, cuts, found["fonts"], rectangle, found["resources"], color_profiles, output_intent)
    return drawn
