"""Turn a run's profile, a record and its sequence into what the print room needs of a piece: barcode, marks, sheets, where it prints.

The worker that draws a piece and the main process that writes its manifest row both call these, so
the two agree by construction: each is a pure function of the profile, the run's serial block, the
record and the piece's page counts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..model import Collector, Record
from . import envelopes, imb, omr

DEFAULT_SHEET_CAPACITY = 5  # tri-folded US Letter sheets a #10 envelope takes on an inserter (confirm with the mail house)


@dataclass(frozen=True)
class Production:
    """A run's print-production settings, made once in the main process and sent to every worker."""

    mailer: imb.Mailer | None  # the profile's [imb], read and checked once per run; None: no barcode
    serials: imb.SerialBlock | None
    inserter: omr.Inserter | None
    duplex: bool
    sheet_capacity: int
    flat_mailing: bool

    def barcode(self, seq: int, record: Record) -> imb.Barcode | None:
        """The piece's Intelligent Mail barcode: its serial from the run's block, its routing code from ZIP+4 and delivery point."""
        if self.mailer is None:
            return None
        return imb.barcode(self.mailer, seq, record.mailing.zip, record.mailing.delivery_point, self.serials)

    def marks(self, statement_pages: int, sheets: int) -> list[tuple[int, str]]:
        """(page index, code) of the OMR marks the piece's pages carry; none without an inserter profile."""
        return [] if self.inserter is None else self.inserter.on_pages(statement_pages, sheets, self.duplex)

    def over_capacity(self, sheets: int) -> bool:
        return self.sheet_capacity > 0 and sheets > self.sheet_capacity


def piece_pages(statement_pages: int, insert_pages: Sequence[int], duplex: bool) -> int:
    """A piece's page count, as ``assemble.add_mailpiece`` writes it: duplex, every document starts on a front side."""
    pages = statement_pages
    for count in insert_pages:
        pages += (pages % 2 if duplex else 0) + count
    return pages


def sheets_of(pages: int, duplex: bool) -> int:
    return -(-pages // 2) if duplex else pages


def sort_key(record: Record) -> str:
    """ZIP+4 (nine digits, a five-digit ZIP padded with zeros), then the delivery point when the export gives one."""
    digits = imb.routing_code(record.mailing.zip)
    return ((digits + "0000")[:9] + record.mailing.delivery_point[:2]) if digits else "999999999"


def with_options(collector: Collector, inserter: str | None = None, serial_range: str | None = None) -> Collector:
    """The collector with ``--inserter`` and ``--serial-range`` laid over its ``[print]`` and ``[imb]`` (checked now)."""
    facts = dict(collector.facts)
    if inserter is not None:
        omr.inserter(inserter, field="inserter")
        facts["print"] = {**(collector.get("print", {}) or {}), "inserter": inserter}
    if serial_range is not None:
        facts["imb"] = {**(collector.imb or {}), "serial_range": serial_range}
    return dataclasses.replace(collector, facts=facts)


def for_run(collector: Collector, serials: imb.SerialBlock | None) -> Production:
    """The run's production settings from the profile; an inserter whose marks a window would show is refused here."""
    envelope = envelopes.for_profile(collector.envelope)
    found = omr.for_profile(collector.get("print", {}))
    if found is not None:
        omr.check_windows(found, envelope)
    capacity = collector.get("envelope.sheet_capacity", envelope.sheet_capacity)
    if not isinstance(capacity, int) or capacity < 0:
        raise ConfigError("A sheet capacity is a count of sheets (0: no limit)", file=collector.profile_file,
                          field="envelope.sheet_capacity", value=capacity)
    # A malformed [imb] stops the run here, not in a worker; the pieces then reuse what was read.
    mailer = imb.mailer(collector.imb, collector.profile_file) if collector.imb is not None else None
    return Production(mailer, serials, found, collector.duplex, capacity,
                      bool(collector.get("print.flat_mailing", False)))
