"""Turn a collector, a mailing and a date into the documents to print and the blocks each must carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ConfigError, LawError
from .model import Block, Collector, Edition
from .statutes import Document, Mailing, Registry, load_registry

# Each condition a block may name in ``applies_when``, read off the collector profile.
CONDITIONS: dict[str, Callable[[Collector], bool]] = {
    "always": lambda c: True,
    "itemize-by-source": lambda c: c.itemize_by_source,
    "lien-warning": lambda c: c.lien_warning,
    "water-sewer-program": lambda c: c.water_sewer_program,
    "local-installment": lambda c: c.local_installment is not None,
    "state-installment": lambda c: c.state_installment,
    "county-ombudsman": lambda c: c.county_ombudsman,
}


@dataclass(frozen=True)
class Part:
    """One document of a mailing with the blocks it must carry on the day."""

    document: Document
    blocks: tuple[Block, ...]

    @property
    def block_ids(self) -> tuple[str, ...]:
        return tuple(b.id for b in self.blocks)


@dataclass(frozen=True)
class Plan:
    """What the law asks of one mailing on one day for one collector."""

    mailing: Mailing
    day: dt.date
    edition: Edition
    parts: tuple[Part, ...]
    skipped: tuple[str, ...]  # documents of the mailing not in force on the day
    # Printed for owners who ask for large print: body text of at least 18 pt, checked from the PDF
    # (notices/compliance/typesize.py). The law is the same; only the type and the summary's wording change.
    large_print: bool = False

    def part(self, document_id: str) -> Part:
        for part in self.parts:
            if part.document.id == document_id:
                return part
        raise LawError("Document not in force for this mailing on this date", field="document", value=document_id)

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(b for part in self.parts for b in part.blocks)


def applies(block: Block, collector: Collector) -> bool:
    try:
        return CONDITIONS[block.applies_when](collector)
    except KeyError:
        raise ConfigError("Unknown condition in the statute registry", field="applies_when", value=block.applies_when) from None


def plan(collector: Collector, mailing_id: str, day: dt.date, registry: Registry | None = None, *,
         large_print: bool = False) -> Plan:
    """Resolve the documents and blocks in force; a mailing with nothing in force is an error."""
    registry = registry or load_registry()
    mailing = registry.mailing(mailing_id)
    edition = registry.edition_on(day)
    parts: list[Part] = []
    skipped: list[str] = []
    for document_id in mailing.documents:
        in_force = registry.in_force(document_id, day)
        if not any(not b.optional for b in in_force):
            skipped.append(document_id)
            continue
        blocks = tuple(b for b in in_force if applies(b, collector))
        parts.append(Part(registry.documents[document_id], blocks))
    if not parts:
        starts = [b.in_force_from for d in mailing.documents for b in registry.blocks if b.document == d]
        first = min(starts).isoformat() if starts else "never"
        raise LawError(
            f"The {mailing.title} ({mailing.citation}) is not required on {day.isoformat()}; it is first required on {first}",
            field="date",
            value=day.isoformat(),
        )
    return Plan(mailing, day, edition, tuple(parts), tuple(skipped), large_print)
