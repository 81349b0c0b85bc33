"""Turn the registry file of mandated blocks into typed blocks, editions, documents and mailings."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

from ..errors import ConfigError, LawError
from ..model import Block, Edition

REGISTRY_FILE = "blocks.toml"
KINDS = ("statement", "content", "form")
CHECKS = ("", "date-line", "owner-total", "itemized", "one-page")  # the named checks of notices/compliance/facts.py


@dataclass(frozen=True)
class Document:
    """One printed part of a mailing; an insert starts on a sheet of its own."""

    id: str
    title: str
    insert: bool
    one_page_block: str | None = None


@dataclass(frozen=True)
class Mailing:
    """What goes into one envelope, document by document."""

    id: str
    title: str
    citation: str
    documents: tuple[str, ...]
    per_record: bool


@dataclass(frozen=True)
class Registry:
    """Every block the project knows, and the editions, documents and mailings they make up."""

    registry_from: dt.date
    blocks: tuple[Block, ...]
    editions: tuple[Edition, ...]
    documents: dict[str, Document]
    mailings: dict[str, Mailing]

    def block(self, block_id: str) -> Block:
        for block in self.blocks:
            if block.id == block_id:
                return block
        raise LawError("No such block in the statute registry", value=block_id)

    def mailing(self, mailing_id: str) -> Mailing:
        try:
            return self.mailings[mailing_id]
        except KeyError:
            known = ", ".join(sorted(self.mailings))
            raise LawError(f"Unknown mailing; choose one of {known}", field="mailing", value=mailing_id) from None

    def edition_on(self, day: dt.date) -> Edition:
        self.require_recorded(day)
        return [e for e in self.editions if e.in_force_from <= day][-1]

    def require_recorded(self, day: dt.date) -> None:
        if day < self.registry_from:
            raise LawError(
                f"The statute registry records the law from {self.registry_from.isoformat()} only",
                field="date",
                value=day.isoformat(),
            )

    def in_force(self, document: str, day: dt.date) -> list[Block]:
        """The blocks of one document in force on ``day``, in statutory order."""
        self.require_recorded(day)
        found = [b for b in self.blocks if b.document == document and b.in_force_on(day)]
        return sorted(found, key=lambda b: b.order)


def _check_name(raw: dict[str, object]) -> str:
    name = str(raw.get("check", ""))
    if name not in CHECKS:
        raise ConfigError(f"Unknown check; choose one of {', '.join(CHECKS[1:])}", field="check", value=raw.get("id"))
    return name


def _block(raw: dict[str, object], texts: dict[str, str], spanish: dict[str, str]) -> Block:
    kind = str(raw.get("kind"))
    if kind not in KINDS:
        raise ConfigError("Block kind must be statement, content or form", field="kind", value=kind)
    text = str(raw.get("text", ""))
    translation_es = str(raw.get("translation_es", ""))
    if "text_from" in raw:
        text = texts[str(raw["text_from"])]
        translation_es = translation_es or spanish[str(raw["text_from"])]
    if translation_es and not text:
        raise ConfigError("Only a block with fixed words can carry a translation", field="translation_es", value=raw.get("id"))
    if kind == "statement" and not text:
        raise ConfigError("A statement block needs its exact words", field="text", value=raw.get("id"))
    return Block(
        id=str(raw["id"]),
        citation=str(raw["citation"]),
        kind=kind,  # type: ignore[arg-type]  # checked against BlockKind above
        title=str(raw["title"]),
        document=str(raw["document"]),
        order=int(raw["order"]),  # type: ignore[call-overload]  # TOML gives an int; int() refuses anything else
        in_force_from=raw["in_force_from"],  # type: ignore[arg-type]  # a TOML date; the registry test holds it to that
        in_force_until=raw.get("in_force_until"),  # type: ignore[arg-type]  # a TOML date or absent
        text=text,
        applies_when=str(raw.get("applies_when", "always")),
        optional=bool(raw.get("optional", False)),
        note=str(raw.get("note", "")),
        translation_es=translation_es,
        expect=tuple(str(e) for e in raw.get("expect", ())),  # type: ignore[attr-defined]  # a TOML array of strings
        check=_check_name(raw),
        detect=tuple(str(e) for e in raw.get("detect", ())),  # type: ignore[attr-defined]  # a TOML array of strings
    )


@functools.cache
def load_registry() -> Registry:
    """Read the registry shipped with the package (cached: it is the same for a whole run)."""
    data = tomllib.loads(resources.files(__package__).joinpath(REGISTRY_FILE).read_text("utf-8"))
    texts = {str(b["id"]): str(b.get("text", "")) for b in data["block"]}
    spanish = {str(b["id"]): str(b.get("translation_es", "")) for b in data["block"]}
    blocks = tuple(_block(raw, texts, spanish) for raw in data["block"])
    ids = [b.id for b in blocks]
    if len(ids) != len(set(ids)):
        raise ConfigError("Duplicate block id in the statute registry", value=sorted({i for i in ids if ids.count(i) > 1}))
    documents = {d["id"]: Document(d["id"], d["title"], bool(d["insert"]), d.get("one_page_block")) for d in data["document"]}
    mailings = {
        m["id"]: Mailing(m["id"], m["title"], m["citation"], tuple(m["documents"]), bool(m["per_record"]))
        for m in data["mailing"]
    }
    editions = tuple(
        sorted((Edition(e["id"], e["label"], e["in_force_from"]) for e in data["edition"]), key=lambda e: e.in_force_from)
    )
    return Registry(data["registry_from"], blocks, editions, documents, mailings)


__all__ = ["Document", "Mailing", "Registry", "load_registry"]
