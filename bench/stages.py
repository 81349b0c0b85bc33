"""Turn a run's functions into CPU seconds per stage: each stage's own CPU time, nested calls charged to the innermost stage.

Used by ``bench.py`` in two places: in the main process of a real ``notices render`` (journal,
assembly, manifest), and in one process that renders the same roll chunk by chunk as a worker does
(compose, layout, drawing, writing, check), where the workers' own stages can be timed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any


class Stages:
    """CPU time per stage, charged to whichever wrapped function is innermost when the time is spent."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.whole: dict[str, float] = {}  # CPU time of whole calls, their nested stages included (``include``)
        self._stack: list[str] = []
        self._mark = time.process_time()

    def _charge(self) -> None:
        now = time.process_time()
        if self._stack:
            top = self._stack[-1]
            self.seconds[top] = self.seconds.get(top, 0.0) + now - self._mark
        self._mark = now

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        """Charge the time spent in ``owner.name`` (a module function, or a class's method) to ``stage``."""
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._charge()
            self._stack.append(stage)
            try:
                return original(*args, **kwargs)
            finally:
                self._charge()
                self._stack.pop()

        setattr(owner, name, timed)

    def include(self, owner: Any, name: str, label: str) -> None:
        """Also count each call of ``owner.name`` whole, whatever stages run inside it, under ``label``."""
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.whole[label] = self.whole.get(label, 0.0) + time.process_time() - start

        setattr(owner, name, timed)

    def per_piece(self, pieces: int) -> dict[str, float]:
        return {stage: round(seconds / max(pieces, 1), 5) for stage, seconds in sorted(self.seconds.items())}


def time_main_process(stages: Stages) -> None:
    """Wrap what the main process of ``notices render`` does per piece and at the end (import inside: bench.py's process)."""
    from notices import batch, output

    stages.wrap(output.OutputFolder, "write_piece", "journal")
    stages.wrap(output.OutputFolder, "record", "journal")
    stages.wrap(output.OutputFolder, "spool", "journal")
    stages.wrap(batch, "write_print_file", "assembly")
    stages.wrap(batch, "write_manifest", "manifest")


def time_worker(stages: Stages, job: Any) -> None:
    """Wrap what a worker does per piece: compose, lay out, draw, write the piece file, check it."""
    from notices import drawn, fields, pdfwriter, piece

    stages.wrap(piece, "_compose", "compose")
    stages.wrap(piece, "check_composed", "compose")
    stages.wrap(job.renderer, "layout", "layout")
    stages.wrap(fields.Layout, "_place", "layout")
    stages.wrap(job.renderer, "fragment", "drawing")
    stages.wrap(drawn.Drawn, "fragment", "drawing")
    stages.wrap(piece, "draw", "drawing")
    stages.wrap(piece, "with_barcode", "drawing")
    stages.wrap(piece, "add_mailpiece", "writing")
    stages.wrap(pdfwriter.PdfStreamWriter, "close", "writing")
    stages.wrap(piece, "read_pages", "check")
    stages.wrap(piece, "shared_pages", "check")
    stages.wrap(piece, "check_pdf", "check")
    # The pieces laid out in full (the first of each skeleton, and any whose words do not fit a kept
    # layout), whole: layout, keeping and drawing the layout, writing and checking the piece.
    stages.include(piece, "_lay_out", "laid_out")
