"""Turn the install layout into the two folders the renderer may read (templates and fonts), and what those fonts can print."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def data_root() -> Path:
    """The folder holding ``templates/`` and ``fonts/``.

    A wheel carries them inside the package (``notices/_data``); a source checkout or an editable
    install has them at the top of the repository.
    """
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if (root / "templates" / "base").is_dir() and (root / "fonts").is_dir():
            return root
    raise FileNotFoundError("notices: templates/ and fonts/ not found next to the package")


def templates_dir() -> Path:
    return data_root() / "templates"


def fonts_dir() -> Path:
    return data_root() / "fonts"


def read_face(name: str) -> Any:  # fontTools has no type hints
    """A bundled face (``fonts/<name>``), its tables parsed as they are asked for; each caller keeps its own.

    Read from its bytes, not from the open file: the fork server reads the faces for every process it
    forks (``serverwarm``), and an open file would be one read offset shared by all of them. Not one
    object for every caller: fontTools' glyphs change as they are measured (``recalcBounds``), and
    how a face draws a glyph (the padding page's words) must not depend on what else measured it.
    """
    from fontTools.ttLib import TTFont  # noqa: PLC0415 - see _covered

    return TTFont(io.BytesIO((fonts_dir() / name).read_bytes()), lazy=True)


@functools.cache
def _covered() -> frozenset[int]:
    """The code points every bundled face (regular, bold, italic) can print."""
    from fontTools.ttLib import TTFont  # noqa: PLC0415 - on first use: every process imports this module, few read a font

    covered: set[int] | None = None
    for path in sorted(fonts_dir().glob("*.ttf")):
        with TTFont(str(path), lazy=True) as font:
            points = set(font.getBestCmap() or {})
        covered = points if covered is None else covered & points
    return frozenset(covered or ())


@functools.cache
def _covered_text() -> frozenset[str]:
    return frozenset(map(chr, _covered()))


def printable(text: str) -> str | None:
    """The first character the bundled fonts cannot print (every face: regular, bold, italic), or None."""
    if _covered_text().issuperset(text):  # most values, at C speed: a roll has about twelve a row
        return None
    covered = _covered()
    for ch in text:
        if ord(ch) not in covered and not ch.isspace():
            return ch
    return None
