"""Turn a run's settings into one frozen value: every default and toggle of a run, documented once.

The CLI's flags map onto these fields one to one and read their defaults from here, as do the pools
and the library, so a default cannot drift between them. The environment variables a run honours
(``NOTICES_REUSE_LAYOUTS``, and ``NOTICES_HOME`` through ``workspace.home_from``) are read here, when
an ``Options`` is made, never at import.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

from .workspace import home_from

Executor = Literal["local", "dask"]

WORKER_PRELOAD = ("notices.serverexit", "notices.native", "notices.workers", "notices.piece", "reportlab.graphics.barcode.usps4s",
                  "notices.serverwarm", "notices.serverfreeze")
"""What the fork server loads once for every local worker it forks: WeasyPrint (``native`` finds its libraries), the
package and the barcode encoder (``postal.imb.encode``: ReportLab's barcode package imports all its widgets and
platypus first, 0.07 to 0.1 s that each worker paid on its first barcode, now paid once by the server, also in a run
that draws none, such as a proof); first, what makes the server end at once when its caller has (``serverexit``);
then the caches every process it forks would fill alike (``serverwarm``); last, what keeps the processes it forks
from walking all that (``serverfreeze``)."""
CHUNK = 16
"""Pieces per task a worker is handed (laid out in one WeasyPrint call when they need a layout): enough to amortize
each task's round trip and journal entry, few enough to keep a retry cheap and the last tasks even."""
PIECE_TIMEOUT = 60.0
"""Seconds a piece may take before it is given up (a normal piece takes well under one)."""
PIECE_MEMORY_MB = 1024.0
"""Resident memory a worker may reach while rendering (a worker idles near 150 MB)."""
RECYCLE_AFTER = 2500
"""Pieces a worker renders before a fresh process takes over (its memory creeps ~1 KB a piece)."""
BREAKER = 10
"""A run whose first this-many finished pieces all failed stops: something they share is wrong."""
REUSE_LAYOUTS_ENV = "NOTICES_REUSE_LAYOUTS"


def reuse_layouts_from_env() -> bool:
    """Layout reuse is on unless ``NOTICES_REUSE_LAYOUTS=0``: every piece is then laid out and drawn in full, only slower.

    A reader sees the same pieces either way: the same words at the same places, the same statute
    findings, the same drawing operators (tests/test_drawn.py). The files' bytes differ: a kept shape's
    fonts carry the fields' characters, and its content streams are compressed in parts
    (notices/drawn.py). It is there to compare and to debug a layout.
    """
    return os.environ.get(REUSE_LAYOUTS_ENV, "1") != "0"


@dataclass(frozen=True)
class Options:
    """Everything a run needs; the CLI maps its flags onto these one to one."""

    input: Path
    out: Path
    collector: str
    mailing: str
    date: dt.date
    language: str = "en"
    encoding: str = "utf-8"
    format: str | None = None  # csv or jsonl; None: from the file name
    workers: int = 0  # 0: one per core; 1: in this process, without time or memory bounds
    chunk: int = CHUNK
    resume: bool = False
    shard: tuple[int, int] | None = None  # (i, n): only the pieces whose seq % n == i - 1
    executor: Executor = "local"
    scheduler: str | None = None  # the Dask scheduler's address, for executor="dask"
    piece_timeout: float = PIECE_TIMEOUT
    piece_memory_mb: float = PIECE_MEMORY_MB
    recycle_after: int = RECYCLE_AFTER
    breaker: int = BREAKER
    reuse_layouts: bool = field(default_factory=reuse_layouts_from_env)
    force: bool = False  # write beside files notices did not write (never over them)
    envelope: str | None = None  # an envelope stock (notices/postal/envelopes.toml) over the profile's [envelope]
    sort: str = "input"  # the print file's order: input (the export's) or zip (ZIP+4 and delivery point, then input order)
    inserter: str | None = None  # an inserter profile (notices/postal/inserters.toml) over the profile's [print] inserter
    serial_range: str | None = None  # LO-HI or a name of [imb.serial_ranges]: this machine's barcode serials
    # The export's own figures, reconciled with the file before anything renders (notices.control):
    control: Path | None = None  # a control file: records=N and total=1234.56, or the same as JSON
    expect_records: int | None = None  # accounts the source system says it exported
    expect_total: Decimal | None = None  # the sum of every amount it exported
    # The collector's workspace (notices.workspace): its profiles and templates come before the shipped ones.
    home: Path | None = field(default_factory=lambda: home_from(None))
    # Render although the documents print placeholder values of the profile: every page carries a
    # "PROOF - NOT FOR MAILING" band and no print file is written. Without it such a run is refused.
    proof: bool = False
    # The PDF standard every piece and the print file are written for (notices.standards.VARIANTS):
    # print (the default), pdf/a-2b (archive) or pdf/ua-1 (accessible: tagged).
    pdf_variant: str = "print"
    # Large print for owners who ask for it: every text run at least 18 pt (the address in the envelope
    # window keeps its postal size), the profile's large-print summary when it has one; checked from the PDF.
    large_print: bool = False
