"""Turn a statement's words and a PDF's words into the closest passage, a word-level diff, and the run in statutory order."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Sequence

from .pdftext import PdfText


def closest(needle: Sequence[str], text: PdfText, lo: int, hi: int) -> tuple[int, int, float] | None:
    """The passage of [lo, hi) closest to ``needle``: (first word, end word, share of needle's words matched)."""
    hay = text.words[lo:hi]
    if not hay or not needle:
        return None
    folded_hay = [w.lower() for w in hay]
    matcher = difflib.SequenceMatcher(None, [w.lower() for w in needle], folded_hay, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    if not blocks:
        return None
    span = int(len(needle) * 1.5) + 2
    best: tuple[int, int, int] | None = None  # (matched, first block, last block)
    for i, first in enumerate(blocks):
        matched = 0
        last = i
        for j in range(i, len(blocks)):
            if blocks[j].b + blocks[j].size - first.b > span:
                break
            matched += blocks[j].size
            last = j
        if best is None or matched > best[0]:
            best = (matched, i, last)
    assert best is not None
    matched, i, j = best
    start = max(0, blocks[i].b - blocks[i].a)
    end = min(len(hay), blocks[j].b + blocks[j].size + (len(needle) - blocks[j].a - blocks[j].size))
    # A second, local match over just the passage gives the true share of words in place.
    local = difflib.SequenceMatcher(None, list(needle), hay[start:end], autojunk=False)
    share = sum(b.size for b in local.get_matching_blocks()) / len(needle)
    return lo + start, lo + end, share


def word_diff(expected: Sequence[str], found: Sequence[str]) -> str:
    """A compact word-level diff: ``- owner + proprietor`` for each place the words differ."""
    parts = []
    matcher = difflib.SequenceMatcher(None, list(expected), list(found), autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            continue
        change = []
        if a2 > a1:
            change.append("- " + " ".join(expected[a1:a2]))
        if b2 > b1:
            change.append("+ " + " ".join(found[b1:b2]))
        parts.append(" ".join(change))
    return "; ".join(parts)


def longest_in_order(positions: Sequence[tuple[str, int]]) -> set[str]:
    """Ids of the longest run of blocks whose positions rise in statutory order (ties: the lowest ends)."""
    n = len(positions)
    if not n:
        return set()
    tails: list[int] = []  # index into positions of the smallest tail of each length
    back = [-1] * n
    for i, (_, pos) in enumerate(positions):
        k = bisect.bisect_left([positions[t][1] for t in tails], pos)
        back[i] = tails[k - 1] if k else -1
        if k == len(tails):
            tails.append(i)
        else:
            tails[k] = i
    keep = set()
    i = tails[-1]
    while i >= 0:
        keep.add(positions[i][0])
        i = back[i]
    return keep
