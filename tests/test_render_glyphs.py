"""A line's glyphs shown as one string (``render.join_glyphs``) read as the same text at the same places as WeasyPrint's own strings."""

from __future__ import annotations

import re
import zlib
from typing import Any

import pydyf
import pypdfium2
import pytest

from notices import render
from notices.render import Renderer
from notices.resources import templates_dir

PAGES = [
    "<p>AVATAR Wavy Tower, LTA: To pay by <b>March 1, 2027</b> <i>¿Qué pasa?</i> Zoë Ångström &amp; Co.</p>",
    "<p style='letter-spacing: 0.5pt'>Spaced letters keep their shifts</p><p style='text-align: justify'>"
    + "A justified paragraph of words long enough to wrap onto a second line and stretch its spaces. " * 3 + "</p>",
    "<h1>Final Bill and Legal Notice</h1><table><tr><td>2025</td><td>$1,234.56</td></tr></table>",
]


def _html(body: str) -> str:
    return f'<html><body><section class="piece">{body}</section></body></html>'


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(templates_dir() / "baltimore-city")


def _plain(renderer: Renderer, html: str, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(pydyf.Stream, "show_text", render._plain_show_text)
        return renderer.pdf(_html(html))


def _characters(pdf: bytes) -> list[list[tuple[str, tuple[float, ...]]]]:
    """Each page's characters as PDFium reads them, with their boxes."""
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    for page in document:
        text = page.get_textpage()
        pages.append([(text.get_text_range(i, 1), tuple(round(v, 3) for v in text.get_charbox(i)))
                      for i in range(text.count_chars())])
    return pages


def _shown(pdf: bytes) -> list[bytes]:
    """Every TJ array of the PDF's content streams."""
    arrays = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        arrays += re.findall(rb"\[([^\]]*)\] TJ", content)
    return arrays


def test_the_renderer_joins_glyph_strings(renderer: Renderer) -> None:
    render.join_glyphs()  # twice: still one wrapper, around pydyf's own
    assert pydyf.Stream.show_text is render._joined_show_text
    assert render._plain_show_text is not render._joined_show_text


@pytest.mark.parametrize("page", PAGES)
def test_joined_glyphs_read_as_the_same_characters_at_the_same_places(renderer: Renderer, page: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _plain(renderer, page, monkeypatch)
    joined = renderer.pdf(_html(page))
    assert any(b">0<" in shown for shown in _shown(plain))  # WeasyPrint's own strings: one per glyph
    assert not any(b">0<" in shown for shown in _shown(joined))
    assert _characters(joined) == _characters(plain)
    assert len(joined) < len(plain)


def test_shifts_that_move_a_glyph_are_kept() -> None:
    shown: list[Any] = []

    class Stream:
        pass

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render, "_plain_show_text", lambda stream, text: shown.append(text))
        for text in ["<0025>0<0044>0<0051>0", "<0025>-12<0044>0", "-0.5<0025>", "<0025>0.5<0044>", "(A>0<B)"]:
            render._joined_show_text(Stream(), text)
    assert shown == ["<002500440051>", "<0025>-12<0044>", "-0.5<0025>", "<0025>0.5<0044>", "(A>0<B)"]


def _bold_m_width(pdf: bytes) -> float:
    """The width the PDF gives the bold face's "M" (its font's /W entry for the glyph PDFium reads as "M")."""
    from io import BytesIO

    from pypdf import PdfReader

    font = next(f.get_object() for f in PdfReader(BytesIO(pdf)).pages[0]["/Resources"]["/Font"].values()
                if "Bold" in str(f.get_object()["/BaseFont"]))
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    glyph = int(re.search(r"<([0-9a-f]{4})> <004d>", cmap).group(1), 16)  # type: ignore[union-attr]
    widths = list(font["/DescendantFonts"][0].get_object()["/W"])
    for start, entries in zip(widths[0::2], widths[1::2], strict=True):
        if start <= glyph < start + len(entries):
            return float(entries[glyph - start])
    raise AssertionError("no width for M")


def test_a_glyphs_width_is_the_faces_whatever_size_first_drew_it(renderer: Renderer) -> None:
    """WeasyPrint rounds a glyph's width from the first size it draws it at (the bold "M" is 895 drawn first at 10 pt, 896
    at 12 pt), so a word's place hung on which text came first and a piece written into a kept layout put words 0.01 pt
    from its own full layout; ``render.exact_widths`` takes every width from the face."""
    small_first = renderer.pdf(_html("<p><b style='font-size: 10pt'>M</b> <b style='font-size: 12pt'>M</b></p>"))
    large_first = renderer.pdf(_html("<p><b style='font-size: 12pt'>M</b> <b style='font-size: 10pt'>M</b></p>"))
    assert _bold_m_width(small_first) == _bold_m_width(large_first) == 896  # 1834 units of 2048 a em: 895.5
