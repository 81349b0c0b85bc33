"""A font subset kept for the process (``render.keep_subsets``) gives the bytes a fresh subset gives, for every key it is asked with."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import weasyprint.pdf.fonts

from notices import render
from notices.render import Renderer, subset_key
from notices.resources import templates_dir

pytestmark = pytest.mark.skipif(render.WEASYPRINT_VERSION != render.SUBSETS_PROVEN,
                                reason="subsets are kept only under the WeasyPrint they were proven on")

PAGES = [
    "<p>Total due <b>$1,234.56</b> <i>by March 1</i></p>",
    "<p>Zoë Ångström owes <b>$9.10</b></p>",  # glyphs the first page does not draw
    "<p>Total due <b>$1,234.56</b></p>",  # fewer faces than the first
]


def _html(body: str) -> str:
    return f'<html><body><section class="piece">{body}</section></body></html>'


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(templates_dir() / "baltimore-city")


@pytest.fixture
def empty() -> Iterator[None]:
    render._subsets.clear()
    render._faces.clear()
    yield
    render._subsets.clear()
    render._faces.clear()


def _fresh(renderer: Renderer, html: str, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(weasyprint.pdf.fonts.Font, "_harfbuzz_subset", render._fresh_subset)
        return renderer.pdf(_html(html))


def test_renderer_keeps_subsets_under_the_proven_weasyprint(renderer: Renderer) -> None:
    assert render.keep_subsets()
    assert render.keep_subsets()  # twice: still one wrapper, around WeasyPrint's own
    assert weasyprint.pdf.fonts.Font._harfbuzz_subset is render._kept_subset
    assert render._fresh_subset is not render._kept_subset


def test_a_kept_subset_writes_the_bytes_a_fresh_one_writes(renderer: Renderer, monkeypatch: pytest.MonkeyPatch, empty: None) -> None:
    fresh = [_fresh(renderer, page, monkeypatch) for page in PAGES]
    assert not render._subsets
    first = [renderer.pdf(_html(page)) for page in PAGES]  # each face's subsets made once and kept
    kept = len(render._subsets)
    again = [renderer.pdf(_html(page)) for page in reversed(PAGES)][::-1]  # all from the kept subsets
    assert len(render._subsets) == kept
    assert first == fresh
    assert again == fresh


def test_another_glyph_set_or_face_is_subset_again(renderer: Renderer, empty: None) -> None:
    renderer.pdf(_html(PAGES[0]))
    made = len(render._subsets)
    assert made == 3  # regular, bold, oblique
    renderer.pdf(_html(PAGES[1]))  # new glyphs in the regular and bold faces, no oblique
    assert len(render._subsets) == made + 2


class _Font:
    def __init__(self, face: Any, missing: dict[int, int] | None = None) -> None:
        self.hb_face = face
        self.index = 0
        self.missing = missing or {}


def test_the_key_holds_everything_the_subset_reads(renderer: Renderer, empty: None) -> None:
    document = renderer.layout(_html(PAGES[0]))
    renderer.write(document)
    faces = [font.hb_face for font in document.fonts.values()]
    regular = _Font(faces[0])
    base = subset_key(regular, {3: "a", 5: "b"}, False)
    assert subset_key(_Font(faces[0]), {5: "b", 3: "c"}, False) == base  # glyph ids, not their texts
    assert subset_key(regular, {3: "a"}, False) != base
    assert subset_key(regular, {3: "a", 5: "b"}, True) != base
    assert subset_key(_Font(faces[0], missing={0x1F600: 9}), {3: "a", 5: "b"}, False) != base
    assert subset_key(_Font(faces[1]), {3: "a", 5: "b"}, False) != base


def test_a_failed_subset_is_not_kept(renderer: Renderer, monkeypatch: pytest.MonkeyPatch, empty: None) -> None:
    failed: list[Any] = []

    def fails(font: Any, to_unicode: Any, hinting: Any) -> None:  # as WeasyPrint does: file_content left alone
        failed.append(font)

    monkeypatch.setattr(render, "_fresh_subset", fails)
    document = renderer.layout(_html(PAGES[0]))
    renderer.objects(document, document.pages)
    assert failed
    assert not render._subsets


def test_a_full_cache_starts_again_and_still_writes_fresh_bytes(renderer: Renderer, monkeypatch: pytest.MonkeyPatch,
                                                               empty: None) -> None:
    fresh = [_fresh(renderer, page, monkeypatch) for page in PAGES]
    monkeypatch.setattr(render, "_SUBSETS_KEPT", 2)  # every third subset drops the others
    assert [renderer.pdf(_html(page)) for page in PAGES + PAGES] == fresh + fresh
    assert len(render._subsets) <= 2
