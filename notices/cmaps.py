"""Turn a font's ToUnicode map, as WeasyPrint writes it (one ``bfchar`` entry per glyph), into ranges where glyphs run on.

A reader parses a font's ToUnicode map every time it opens a file: the check reads every piece's
statement page with PDFium, whose maps of the statement's two fonts (about 200 entries each) cost it
0.04 to 0.05 ms of the 1.1 to 1.4 ms that reading takes. The glyphs of a font's letters and digits
mostly follow one another as their characters do, so a ``bfrange`` entry says a run of them at
once: nine entries instead of 197 for each of the statement's fonts. The map says the same (ISO 32000-1, 9.10.3): every glyph
stands for the same text, as tests/test_cmaps.py holds PDFium, pypdf and pdftotext to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ENTRY = re.compile(rb"<([0-9a-f]{4})> <([0-9a-f]+)>")
_BLOCK = 100  # entries per begin...end block: the most a CMap's block may hold
_SURROGATES = range(0xD800, 0xE000)


def ranged(lines: Sequence[bytes]) -> list[bytes] | None:
    """The lines of a ToUnicode stream WeasyPrint wrote, with runs of glyphs as ``bfrange`` entries; None when the
    stream is not of the one form WeasyPrint writes (then it is left as it is)."""
    try:
        end = lines.index(b"endcodespacerange") + 1
        tail = lines.index(b"endcmap")
    except ValueError:
        return None
    glyphs: dict[int, bytes] = {}
    for line in lines[end:tail]:
        if line.endswith((b"beginbfchar", b"endbfchar")):
            continue
        entry = _ENTRY.fullmatch(line)
        if entry is None or int(entry.group(1), 16) in glyphs:
            return None
        glyphs[int(entry.group(1), 16)] = entry.group(2)
    runs: list[tuple[int, int, int]] = []  # (first glyph, last glyph, first character) of runs of two or more
    singles: list[tuple[int, bytes]] = []
    for glyph in sorted(glyphs):
        text = glyphs[glyph]
        char = int(text, 16) if len(text) == 4 else None
        if char is not None and runs and _continues(runs[-1], glyph, char):
            first, _, start = runs[-1]
            runs[-1] = (first, glyph, start)
        elif char is not None and char not in _SURROGATES:
            runs.append((glyph, glyph, char))
        else:
            singles.append((glyph, text))
    singles += [(first, b"%04x" % start) for first, last, start in runs if first == last]
    runs = [run for run in runs if run[0] != run[1]]
    body: list[bytes] = []
    for at in range(0, len(runs), _BLOCK):
        block = runs[at:at + _BLOCK]
        body += [b"%d beginbfrange" % len(block), *(b"<%04x> <%04x> <%04x>" % run for run in block), b"endbfrange"]
    singles.sort()
    for at in range(0, len(singles), _BLOCK):
        chars = singles[at:at + _BLOCK]
        body += [b"%d beginbfchar" % len(chars), *(b"<%04x> <%s>" % single for single in chars), b"endbfchar"]
    return [*lines[:end], *body, *lines[tail:]]


def _continues(run: tuple[int, int, int], glyph: int, char: int) -> bool:
    """Whether glyph -> char extends the run: the next glyph and character, the glyphs' first byte and the
    character's first byte the same (a range may change only the last byte of either). A run starts at no
    surrogate, and within one first byte it reaches none."""
    first, last, start = run
    return glyph == last + 1 and char == start + (glyph - first) and glyph >> 8 == first >> 8 and char >> 8 == start >> 8
