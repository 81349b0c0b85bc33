"""Turn one laid-out piece and another piece's field values into the other piece's pages, without a new layout.

The statement templates mark each per-account value as a field (``compose.field``). Pieces whose HTML
differs only inside fields have the same skeleton, so they would be laid out alike: the batch lays
out the first piece of each skeleton in full, keeps it (``Layouts``), and writes every later piece of
that skeleton by swapping its words into the field boxes and writing the pages again. Laying out a
statement costs WeasyPrint about 40 ms; swapping its fields costs about 2.

The swap must give the bytes a full layout would give. It does when a field's width cannot move
anything else, so each field box is vetted once per skeleton (``vet``): alone on its line, inside
boxes whose width does not follow their content (no auto-width float, inline-block, absolute box,
margin box, auto-layout table, flex or grid), left-, right- or centre-aligned, its words not copied
into generated text; and each value once per piece (``Layout.write``): plain spaces, one line in
the room the box has. The new box is made with the same WeasyPrint calls and arithmetic its inline
layout uses (``split_first_line``, then the text-align offset), so the two paths are byte-identical;
``tests/test_fields.py`` holds them to it. Anything else is laid out in full, as before.

Words that take two lines (an owner line of two long names) move everything below them, so no
one-line layout can take them; but pieces whose field wraps alike lay out alike. The first such
piece of a skeleton is kept apart, one for each set of fields that wrap (``Layouts.wrapped``), each
such field's two boxes as one slot (``_Slot.then``), and later pieces whose words take two lines
there are broken and placed as WeasyPrint's inline layout breaks and places them
(``Layout._place_wrapped``); the kept piece's own words must come out as its full layout laid them
out, or it is not kept.

Like ``render``, this module uses WeasyPrint, here its layout internals. Those change without notice
between releases, so reuse is on only with the exact versions it was proven with
(``fingerprint.REUSE_PROVEN``, the same pins as ``constraints.txt``); with any other, every piece
gets a full layout, which is only slower.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.formatting_structure import boxes
from weasyprint.text import ffi
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, pango
from weasyprint.text.line_break import Layout as PangoLayout
from weasyprint.text.line_break import line_size, split_first_line

from .fingerprint import reuse_refused
from .render import toolchain

T = TypeVar("T")


def proven_toolchain() -> bool:
    """Whether the installed WeasyPrint and pydyf are the versions layout reuse was proven with, subsetting with
    HarfBuzz (``fingerprint.REUSE_PROVEN``).

    Without HarfBuzz-subset WeasyPrint subsets fonts with fontTools, and then a piece written into a
    kept layout is not byte-identical to one laid out alone (tests/test_fields.py, run without the
    library, shows it): reuse stays off there.
    """
    return reuse_refused(toolchain()) is None


_PLACED = 4096  # fields' placements kept per layout: memory stays flat however long the mailing
_PLAIN = re.compile(r"\S+(?: \S+)*|\xa0")  # words with single spaces, or the blank of an unused line
_SHAPES = 4096  # words shaped once and kept, per process, for every slot and shape that prints them in the same style
_STYLES = 64  # Pango layouts kept per process to copy a field's from, one per style that shapes words (``_Shaped.setup``)
_SLACK = TO_UNITS  # Pango units (one point) a shaped line must leave free to be known to fit without breaking
_WRAPS = object()  # what ``Layout._place`` answers for words that take more than their line
_Change = tuple[str, Any, float, float]  # a text box's new text, Pango layout, width and x


class _Context:
    """What ``split_first_line`` reads from a layout context: the hyphenation dictionaries it caches."""

    def __init__(self) -> None:
        self.dictionaries: dict[Any, Any] = {}


@dataclass
class _Slot:
    """One field box on a laid-out page, and what its inline layout needs to place other words in it."""

    box: Any  # boxes.TextBox
    index: int  # which field of the piece
    block: Any  # the line's containing block
    line: Any  # boxes.LineBox
    inlines: list[Any]  # the inline boxes between the line and the text box, outermost first
    align: str  # "start", "end" or "center"
    metrics: tuple[float, float]  # height and baseline a one-line text in this style has
    shape: tuple[Any, ...] | None = None  # what of its style shapes its words (``_shape_key``); None: never shaped ahead
    then: _Slot | None = None  # the box of the field's second line, when its words wrap in this layout (``_place_wrapped``)
    follows: bool = False  # this is such a second line: placed with the first


class Layout:
    """A laid-out piece whose fields can take another piece's words."""

    def __init__(self, document: Any, slots: list[_Slot], fields: int, shapes: dict[Any, _Shaped] | None = None) -> None:
        self.document = document
        self.slots = slots
        self.fields = fields
        self.shapes: dict[Any, _Shaped] = {} if shapes is None else shapes  # (slot.shape, words) -> their shaping, shared
        self.context = _Context()
        # (field, words) -> what _place makes of them: the change of the field's box (or its two lines'), None, or _WRAPS
        self.placed: dict[tuple[int, str], tuple[_Change, ...] | object | None] = {}
        self.drawn: Any = None  # drawn.Drawn once drawn, False when its fields cannot be cut out of one drawing
        self.wrapped = tuple(sorted({slot.index for slot in slots if slot.then is not None}))  # fields on two lines
        self.wraps: tuple[int, ...] = ()  # the fields whose words wrap, when only they failed the last ``write``
        self.key = ""  # its skeleton (``Layouts.keep``)

    @property
    def pages(self) -> int:
        return len(self.document.pages)

    def write(self, values: Sequence[str], write: Callable[[Any], T]) -> T | None:
        """What ``write(document)`` makes of the piece with these field values; None when a value does not fit."""
        self.wraps = ()
        if len(values) != self.fields:
            return None
        changes: list[tuple[Any, _Change]] = []
        wraps = []
        for slot in self.slots:
            if slot.follows:
                continue  # placed with its first line
            # Many fields print the same words in many pieces (a tax year, a city, a blank line): placed once each.
            # A Pango layout is only read when drawn (WeasyPrint reactivates it each time), so one serves them all.
            key = (slot.index, values[slot.index])
            change = self.placed[key] if key in self.placed else self._changes(slot, values[slot.index])
            if len(self.placed) < _PLACED:
                self.placed[key] = change
            if change is _WRAPS:
                wraps.append(slot.index)  # the piece may still fit a layout whose field takes two lines: tell the caller
                continue
            if change is None:
                return None
            assert isinstance(change, tuple)
            changes.extend(zip((slot.box,) if slot.then is None else (slot.box, slot.then.box), change, strict=True))
        if wraps:
            self.wraps = tuple(sorted(set(wraps)))
            return None
        originals = []
        for box, change in changes:
            originals.append((box, (box.text, box.pango_layout, box.width, box.position_x)))
            box.text, box.pango_layout, box.width, box.position_x = change
        try:
            return write(self.document)
        finally:
            for box, original in originals:
                box.text, box.pango_layout, box.width, box.position_x = original

    def _changes(self, slot: _Slot, text: str) -> tuple[_Change, ...] | object | None:
        if slot.then is not None:
            return self._place_wrapped(slot, text)
        change = self._place(slot, text)
        return change if change is None or change is _WRAPS else (change,)

    def _place(self, slot: _Slot, text: str) -> _Change | object | None:
        """The text box's new (text, Pango layout, width, x), computed as WeasyPrint's inline layout computes them;
        ``_WRAPS`` when the words take more than the line."""
        if not _PLAIN.fullmatch(text):
            return None  # collapsible or leading spaces, or an empty value: let the full layout decide
        box = slot.box
        start, x, available = _room(slot)
        max_x = start + available
        shaped = self._shaped(slot, text, max_x - x)
        if shaped is not None:
            layout, width, height, baseline = shaped.placed(max_x - x), shaped.width, shaped.height, shaped.baseline
        else:
            layout, _length, resume, width, height, baseline = split_first_line(
                text, box.style, self.context, max_x - x, box.justification_spacing, is_line_start=True)
            if resume is not None:
                return _WRAPS  # a full layout would break it, or a layout whose field takes two lines can place it
            if layout.text != text:
                return None
        if (height, baseline) != slot.metrics:
            return None  # it would shape differently: a full layout must place it
        at = _aligned(slot, start, x, available, width)
        return None if at is None else (text, layout, width, at)

    def _place_wrapped(self, slot: _Slot, text: str) -> tuple[_Change, _Change] | None:
        """A field's two lines, broken and placed as WeasyPrint's inline layout breaks and places them; None unless
        the words take exactly two lines.

        The steps of ``get_next_linebox`` for a line holding one text box: ``split_inline_box`` widens
        the line's limit by a billionth once for the line and once per inline box, ``split_text_box``
        breaks the words with ``split_first_line`` (which drops the spaces that end the first line);
        the second line starts after them (``skip_first_whitespace``) and must hold the rest.
        """
        assert slot.then is not None
        if not _PLAIN.fullmatch(text) or "\xad" in text:
            return None  # a soft hyphen could be hyphenated: a full layout decides
        first = self._line(slot, text)
        if first is None or first[0] is None:
            return None  # one line holds it: the one-line layout takes it
        resume, line = first
        rest = text.encode()[resume:]
        if line[0] != text.encode()[:resume].decode().rstrip(" "):
            return None  # broken otherwise than at a space
        second = self._line(slot.then, rest.lstrip(b" ").decode())
        if second is None or second[0] is not None:
            return None  # a third line
        return line, second[1]

    def _line(self, slot: _Slot, text: str) -> tuple[int | None, _Change] | None:
        """Where the words break after the slot's line (None: they fit) and the line's box change; None if it overflows."""
        start, x, available = _room(slot)
        max_x = start + available
        for _ in range(1 + len(slot.inlines)):
            max_x *= 1 + 1e-9  # as split_inline_box does, for the line and each inline box in it
        if not text:
            return None
        layout, length, resume, width, height, baseline = split_first_line(
            text, slot.box.style, self.context, max_x - x, slot.box.justification_spacing, is_line_start=True)
        if length <= 0 or (height, baseline) != slot.metrics:
            return None
        at = _aligned(slot, start, x, available, width)
        return None if at is None else (resume, (layout.text, layout, width, at))

    def _shaped(self, slot: _Slot, text: str, max_width: float) -> _Shaped | None:
        """The words shaped as they will be drawn, when that shaping is known to be what ``split_first_line`` would give.

        It is when the line fits with room to spare: Pango breaks a line only where the width runs
        out, and shapes each item of a line that fits whole as it shapes it without a width, so the
        layout, its width, height and baseline are those of the unbroken line. Else (or a style
        shaped otherwise) ``split_first_line`` decides, as a full layout does.
        """
        if slot.shape is None:
            return None
        key = (slot.shape, text)
        shaped = self.shapes.get(key)
        if shaped is None or not shaped.kept:
            shaped = _Shaped(slot.box.style, text, slot.shape)
            if len(self.shapes) >= _SHAPES:
                self.shapes.clear()  # memory stays flat; the words printed most are shaped again soon enough
            self.shapes[key] = shaped
        if not shaped.fits or shaped.width > max_width:
            return None
        if slot.box.style["white_space"] == "normal" and not (
                max_width < 2 ** 21 and shaped.units + _SLACK <= int(max(0, max_width) * TO_UNITS)):
            return None  # too close to the edge to be sure Pango would not break it
        return shaped


def _room(slot: _Slot) -> tuple[float, float, float]:
    """Where the slot's line starts, where its words start, and its width: get_next_linebox and avoid_collisions,
    for a line with no floats beside it."""
    block, line = slot.block, slot.line
    left = block.content_box_x() + line.margin_left
    right = block.content_box_x() + block.width - line.margin_right
    start = left - line.margin_left
    return start, start + line.text_indent, right - left


def _aligned(slot: _Slot, start: float, x: float, available: float, width: float) -> float | None:
    """The x of words this wide on the slot's line, offset as text_align offsets them; None if they overflow it."""
    # split_inline_box: each box's width runs from its content start to its last child's margin edge.
    inner = width
    for _ in slot.inlines:
        inner = x + inner - x
    line_width = x + inner - start
    if line_width > available:
        return None  # overflow: text-align would not apply, keep it simple and lay it out
    if slot.align == "start" or line_width >= available:
        return x
    if slot.align == "center":
        return x + (available - line_width) / 2
    return x + (available - line_width)


class Layouts:
    """The last laid-out piece of each skeleton, per process (least recently used dropped first; pieces come shape by shape)."""

    def __init__(self, size: int = 4, draw_once: bool = True) -> None:
        self.size = size
        self.draw_once = draw_once  # draw each kept layout once and only the fields per piece (``drawn``)
        self._kept: OrderedDict[str, Layout | None] = OrderedDict()
        # Per skeleton and the fields that take two lines there, a layout kept from a piece whose words wrapped so.
        self._wrapped: OrderedDict[tuple[str, tuple[int, ...]], Layout] = OrderedDict()
        self.shapes: dict[Any, _Shaped] = {}  # field words shaped once for every kept layout (``Layout._shaped``)
        self.reused = 0
        self.drawn = 0  # pieces whose pages were the kept drawing with their fields drawn in

    def get(self, key: str) -> Layout | Literal[False] | None:
        """The layout for this skeleton, None when its fields cannot be swapped, False when none is kept."""
        if key not in self._kept:
            return False
        self._kept.move_to_end(key)
        return self._kept[key]

    def wrapped(self, key: str, fields: tuple[int, ...]) -> Layout | None:
        """The layout kept for this skeleton's pieces whose words wrap in these fields (``keep``), if any."""
        if (key, fields) not in self._wrapped:
            return None
        self._wrapped.move_to_end((key, fields))
        return self._wrapped[key, fields]

    def keep(self, key: str, document: Any, values: Sequence[str], also: str = "") -> Layout | None:
        """Vet a fully laid-out piece's fields and keep it for the next pieces of its skeleton.

        A piece whose own words fail the vetting (one takes three lines, or shows in generated text)
        says nothing of the skeleton: nothing is kept and the next piece is tried. So whether a piece
        is written into a kept layout depends on its own words only, never on which piece of its
        shape came first (with ``drawn`` the two paths differ in their font bytes, and a piece's
        bytes must not depend on the worker or chunk it landed in).

        A piece one of whose fields takes two lines is kept apart, for the skeleton's pieces whose
        words wrap alike: under its skeleton and under ``also``, the skeleton its piece was first
        composed with (a wrapped owner line can take the statement onto another page, and with it
        its page count, which the skeleton holds).
        """
        try:
            layout = vet(document, values, self.shapes)
        except Misfit:
            return None
        if layout is not None:
            layout.key = key
        if layout is not None and layout.wrapped:
            for name in dict.fromkeys((key, also or key)):
                _bounded(self._wrapped, (name, layout.wrapped), layout, self.size)
        else:
            _bounded(self._kept, key, layout, self.size)
        return layout


def _bounded(kept: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    kept[key] = value
    kept.move_to_end(key)
    if len(kept) > size:
        kept.popitem(last=False)


class Misfit(Exception):
    """The kept piece's own words fail the vetting; another piece of the skeleton may pass."""


def vet(document: Any, values: Sequence[str], shapes: dict[Any, _Shaped] | None = None) -> Layout | None:
    """A Layout when every field box of the document can take other words without moving anything; else None.

    Raises ``Misfit`` when what fails is this piece's words rather than the skeleton's boxes.
    """
    html = getattr(document, "_html", None)
    if html is None or not values:
        return None
    index = {id(el): k for k, el in enumerate(e for e in html.etree_element.iter() if _is_field(e))}
    if len(index) != len(values):
        return None
    slots: list[_Slot] = []
    parts: dict[int, _Slot] = {}  # the first line of each field whose words wrap
    context = _Context()
    for page in document.pages:
        walked = list(_walk(page._page_box, []))
        if any(_floated(b) for b, _ in walked):
            return None  # a float narrows lines by its own rules: not worth following
        for box, ancestors in walked:
            if not isinstance(box, boxes.TextBox):
                continue
            k = index.get(id(box.element))
            if k is None:
                if _generated(box, ancestors) and any(len(v) >= 3 and v in box.text for v in values):
                    raise Misfit  # a field's words copied into generated text (string-set, content()) would go stale
                continue
            whole = box.text == values[k]  # else a line of words that wrap (or collapsed)
            slot = _slot(box, ancestors, k, context)
            if slot is None:
                if not whole:
                    raise Misfit  # how this piece's words broke, not the skeleton's boxes
                return None
            if not whole:
                first = parts.setdefault(k, slot)
                if first is not slot:
                    if first.then is not None:
                        raise Misfit  # a third line
                    first.then, slot.follows = slot, True
            slots.append(slot)
    placed = {slot.index for slot in slots}
    if any(k not in placed and not value.strip(_COLLAPSIBLE) for k, value in enumerate(values)):
        raise Misfit  # an empty field has no box to take another piece's words
    for slot in parts.values():
        if slot.then is None:
            raise Misfit  # its words were collapsed
        style, align = slot.box.style, _alignment(slot.line, last=False)
        if align is None or style["overflow_wrap"] != "normal" or style["word_break"] != "normal" or style["hyphens"] == "auto":
            raise Misfit  # justified, or words that may break inside them: not placed here
        slot.align = align
    layout = Layout(document, slots, len(values), shapes)
    if not all(_placed_as_laid_out(layout, slot, values[slot.index]) for slot in parts.values()):
        raise Misfit
    return layout


def _placed_as_laid_out(layout: Layout, slot: _Slot, value: str) -> bool:
    """Whether placing the piece's own words in its two lines gives the boxes its full layout gave them."""
    assert slot.then is not None
    lines = layout._place_wrapped(slot, value)
    if lines is None:
        return False
    return all((change[0], change[2], change[3]) == (box.text, box.width, box.position_x)
               for change, box in zip(lines, (slot.box, slot.then.box), strict=True))


_COLLAPSIBLE = " \t\n\r\f"  # the white space HTML collapses (a no-break space is a character)


def _is_field(element: Any) -> bool:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1] == "span" and element.get("class") == "field"


def _walk(box: Any, ancestors: list[Any]) -> Iterator[tuple[Any, list[Any]]]:
    yield box, ancestors
    children = getattr(box, "children", None)
    if children:
        inner = [*ancestors, box]
        for child in children:
            yield from _walk(child, inner)


def _floated(box: Any) -> bool:
    return getattr(box, "style", None) is not None and box.style["float"] != "none"


def _generated(box: Any, ancestors: list[Any]) -> bool:
    """Text a stylesheet made (::before, string(), counters), not an element's own words."""
    return "::" in (box.element_tag or "") or (box.element is None) or any(
        isinstance(a, boxes.MarginBox) and a.element is None for a in ancestors)


def _zero_sides(box: Any) -> bool:
    return not any((box.margin_left, box.margin_right, box.padding_left, box.padding_right,
                    box.border_left_width, box.border_right_width))


def _content_sized(box: Any) -> bool:
    """Whether the box's width may follow its content (then a field's words could move its neighbours)."""
    style = box.style
    if isinstance(box, boxes.MarginBox):
        return bool(style["width"] == "auto")  # a margin box given a width keeps it, whatever its content
    if isinstance(box, (boxes.InlineBlockBox, boxes.FlexContainerBox, boxes.GridContainerBox)):
        return True
    if style["float"] != "none" or style["position"] in ("absolute", "fixed"):
        return bool(style["width"] == "auto")
    if isinstance(box, boxes.TableBox):
        return bool(style["table_layout"] != "fixed" or style["width"] == "auto")
    return False


def _alignment(line: Any, last: bool = True) -> str | None:
    """How the line's words are aligned (``text_align``); ``last``: the line ends its block's words, or a field's."""
    style = line.style
    align = style["text_align_all"] if not last or style["text_align_last"] == "auto" else style["text_align_last"]
    ltr = style["direction"] == "ltr"
    if align == "left":
        return "start" if ltr else "end"
    if align == "right":
        return "end" if ltr else "start"
    return align if align in ("start", "end", "center") else None


def _slot(box: Any, ancestors: list[Any], k: int, context: _Context) -> _Slot | None:
    style = box.style
    if style["white_space"] not in ("normal", "nowrap") or style["text_transform"] != "none":
        return None
    if style["direction"] != "ltr" or style["text_overflow"] != "clip":
        return None
    lines = [i for i, a in enumerate(ancestors) if isinstance(a, boxes.LineBox)]
    if not lines or lines[-1] == 0:
        return None
    at = lines[-1]
    line, block, inlines = ancestors[at], ancestors[at - 1], ancestors[at + 1:]
    if not all(isinstance(b, boxes.InlineBox) and _zero_sides(b) for b in inlines):
        return None
    leaves = [b for b, _ in _walk(line, []) if not isinstance(b, (boxes.LineBox, boxes.InlineBox))]
    if leaves != [box] or line.text_indent or line.margin_left or line.margin_right:
        return None  # not alone on its line
    if any(_content_sized(a) for a in ancestors[:at] if getattr(a, "style", None) is not None):
        return None
    align = _alignment(line)
    if align is None or line.style["direction"] != "ltr":
        return None
    _, _, resume, _, height, baseline = split_first_line(box.text, style, context, None, box.justification_spacing)
    if resume is not None:
        raise Misfit
    return _Slot(box, k, block, line, list(inlines), align, (height, baseline), _shape_key(box, line))


# What Layout.setup, set_text and line_size read of a style (WeasyPrint 70), every font property among them.
_SHAPING = (*sorted(name for name in INITIAL_VALUES if name.startswith("font_")), "direction", "lang",
            "text_decoration_line", "word_spacing", "letter_spacing", "overflow_wrap", "tab_size", "white_space")


# The Pango (major, minor) whose line breaking shaping ahead was checked against (``Layout._shaped``): a line that
# fits is shaped as without a width. Pango comes from the system, not from constraints.txt: with another, every
# field's words take WeasyPrint's own path, which is only slower.
PANGO_PROVEN = (1, 50)


def shaping_ahead() -> bool:
    version = pango.pango_version()
    return (version // 10000, version // 100 % 100) == PANGO_PROVEN


def _shape_key(box: Any, line: Any) -> tuple[Any, ...] | None:
    """What of a field box's style decides how its words are shaped; None when its words must keep WeasyPrint's own path.

    Shaped ahead only with the Pango it was checked with (``shaping_ahead``), and where the words are
    drawn as set, with nothing added between them: no letter or word spacing (Pango would then
    measure more than the glyphs), no justification, no ellipsis (drawing would change a shared
    layout: ``_Shaped``).
    """
    style = box.style
    if (not shaping_ahead() or box.justification_spacing or style["letter_spacing"] != "normal" or style["word_spacing"]
            or style["overflow_wrap"] != "normal" or line.text_overflow != "clip" or line.block_ellipsis != "none"):
        return None
    return (style.font_config, *(repr(style[name]) for name in _SHAPING))  # the object: its id is never reused while kept


# WeasyPrint's bindings do not declare Pango's copy of a layout (in Pango since 1.0); declared again, it is the same.
ffi.ffi.cdef("PangoLayout * pango_layout_copy (PangoLayout *src);", override=True)
_SET_UP: dict[tuple[Any, ...], Any] = {}  # per shape, a layout as WeasyPrint sets it up, without text (``_Shaped.setup``)


class _Shaped(PangoLayout):  # type: ignore[misc]
    """A field's words shaped once, as ``draw_text`` shapes them, and kept shaped for every drawing that prints them.

    WeasyPrint makes a new Pango layout each time it draws a text box (``reactivate``): for the same
    style and words it is the same layout, so this one is kept instead. Only drawing with an
    ellipsis changes a layout (its width and text), and no line of a shaped field has one.
    """

    layout: Any  # the Pango layout while active, as in WeasyPrint's Layout
    language: Any

    def __init__(self, style: Any, text: str, shape: tuple[Any, ...]) -> None:
        self.shape = shape  # what of the style shapes the words (``_shape_key``): read by ``setup``, which the base calls
        super().__init__(style, 0)
        self.set_text(text, justify=True)
        pango.pango_layout_set_single_paragraph_mode(self.layout, True)
        line, resume = self.get_first_line()
        self.units = 0
        self.fits = resume is None and self.text == text
        if self.fits:
            extents = ffi.ffi.new("PangoRectangle *")
            pango.pango_layout_line_get_extents(line, ffi.ffi.NULL, extents)
            self.units = extents.width
        self.width, self.height = line_size(line, style)
        self.baseline = pango.pango_layout_get_baseline(self.layout) * FROM_UNITS
        self.shaped = self.text
        self.kept: list[Any] = [self.layout, self.language]
        super().deactivate()

    def setup(self, style: Any) -> None:
        """WeasyPrint's own set-up, made once per style and copied for each new field value.

        WeasyPrint makes a Pango context, a font description and the features' attributes afresh for
        every layout: a fifth of shaping a field's words (0.09 ms of a piece's 0.45). A copy
        (``pango_layout_copy``) has all the layout's settings, shares its context, which nothing
        changes once made, and holds no text. Everything ``setup`` reads of a style is in the
        shape (``_SHAPING``), so layouts of one shape are set up alike.
        """
        made = _SET_UP.get(self.shape)
        if made is None:
            if len(_SET_UP) >= _STYLES:
                _SET_UP.clear()
            made = _SET_UP[self.shape] = PangoLayout(style)
        self.__dict__.update(made.__dict__)
        self.style = style
        self.layout = ffi.ffi.gc(pango.pango_layout_copy(made.layout), ffi.gobject.g_object_unref)

    def placed(self, max_width: float) -> _Shaped:
        """This shaping for a box whose line has ``max_width`` (read only by an ellipsis, which is never drawn here)."""
        copy = object.__new__(_Shaped)
        copy.__dict__.update(self.__dict__)
        copy.max_width = max_width
        return copy

    def reactivate(self, style: Any) -> None:
        if self.kept and self.text == self.shaped:
            self.style = style
            self.layout, self.language = self.kept
        else:
            super().reactivate(style)

    def deactivate(self) -> None:
        if self.text != self.shaped:
            self.kept.clear()  # its drawing changed it (an ellipsis, which ``_shape_key`` rules out): no copy may reuse it
        super().deactivate()
