"""Turn settled statements and the run's inserts into mailpieces: piece files and the print file, in mailing order.

A mailpiece is its statement, then each insert on a sheet of its own. Printed duplex, every document
starts on a front side, so a document that ends on a front side is followed by a blank back page;
that rule lives here once, for the piece files and the print file alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from ._version import __version__
from .model import Outcome
from .pdfwriter import Fragment, PdfStreamWriter
from .resolve import Plan

SharedPart = tuple[str, bytes]
"""An insert as the run made it once: its document id and its PDF."""


def pdf_info(plan: Plan, title: str) -> dict[str, str]:
    """Document info for piece and print files: which mailing, date and edition of the law they carry."""
    return {
        "Title": title,
        "Producer": f"notices {__version__}",
        "noticesmailing": plan.mailing.id,
        "noticesdate": plan.day.isoformat(),
        "noticesedition": plan.edition.id,
        "noticeseditionlabel": plan.edition.label,
    }


def add_mailpiece(writer: PdfStreamWriter, statement: Fragment, statement_pages: int, inserts: Sequence[SharedPart],
                  *, duplex: bool, own_sheet: bool = False) -> tuple[int, list[bytes | None]]:
    """Write one mailpiece; returns its page count and the shared pages it added, in order (None: a blank back page).

    ``own_sheet`` pads the piece itself to a whole sheet, so that the next piece of a print file starts
    on a front side; a piece file ends with its last insert page.
    """
    writer.add_fragment(statement)
    pages = statement_pages
    shared: list[bytes | None] = []
    for document_id, pdf in inserts:
        if duplex and pages % 2:
            writer.add_blank()
            shared.append(None)
            pages += 1
        pages += writer.add_shared(document_id, pdf)
        shared.append(pdf)
    if own_sheet and duplex and pages % 2:
        writer.add_blank()
    return pages, shared


@functools.lru_cache(maxsize=1)
def blank_pdf() -> bytes:
    """A PDF of the one blank page a piece is padded with, as the piece writer writes it."""
    out = io.BytesIO()
    writer = PdfStreamWriter(out)
    writer.add_blank()
    writer.close()
    return out.getvalue()


def print_file_name(mailing: str, collector_id: str, day: dt.date, shard: tuple[int, int] | None) -> str:
    suffix = f"-shard-{shard[0]}-of-{shard[1]}" if shard else ""
    return f"{mailing}-{collector_id}-{day.isoformat()}{suffix}.pdf"


def flat_name(name: str) -> str:
    """The flat-mailing print file beside the letter one: pieces too thick for the envelope, in their own sequence."""
    return name.removesuffix(".pdf") + "-flat.pdf"


def write_print_file(target: Path, outcomes: Iterable[Outcome], statement_of: Callable[[Outcome], Fragment],
                     inserts: Sequence[SharedPart], *, duplex: bool, info: dict[str, str],
                     placed: Callable[[Iterable[Outcome]], None], variant: str = "print", lang: str = "en") -> int:
    """Write the rendered pieces, as they come in mailing order, into one file; returns its page count.

    Each piece is handed to ``placed`` with its pages in the print file, a few at a time as they are
    written (so a mailing of any length is never held). ``variant`` and ``lang``: the PDF standard
    (``notices.standards``) the file is written for, as its pieces were. Written under a temporary
    name and renamed when synced, so a crash never leaves a partial print file.
    """
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "wb") as handle:
        writer = PdfStreamWriter(handle, info=info, variant=variant, lang=lang)
        for batch in _batches(outcomes, 512):
            done = []
            for outcome in batch:
                first = len(writer.pages) + 1
                add_mailpiece(writer, statement_of(outcome), outcome.statement_pages, inserts, duplex=duplex,
                              own_sheet=True)
                done.append(dataclasses.replace(outcome, print_first_page=first, print_last_page=len(writer.pages)))
            placed(done)
        writer.close()
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(target)
    return len(writer.pages)


def _batches(items: Iterable[Outcome], size: int) -> Iterator[list[Outcome]]:
    source = iter(items)
    while batch := list(itertools.islice(source, size)):
        yield batch
