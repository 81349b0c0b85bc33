"""Hold the values that flow between stages: records, blocks, collectors and outcomes.

Every class but the run's ``Summary`` is frozen: a stage never changes what an earlier stage produced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .pdfwriter import Fragment
    from .postal.imb import Barcode

BlockKind = Literal["statement", "content", "form"]
Status = Literal["rendered", "rejected", "quarantined"]


@dataclass(frozen=True)
class TaxLine:
    """One lien source and period on an account, as the roll gives it."""

    source: str
    period: str
    amount: Decimal
    interest: Decimal = Decimal("0")
    penalty: Decimal = Decimal("0")
    line: int | None = None

    @property
    def total(self) -> Decimal:
        return self.amount + self.interest + self.penalty


@dataclass(frozen=True)
class MailingAddress:
    """The last address on the tax roll, as it goes in the envelope window."""

    line1: str
    line2: str
    city: str
    state: str
    zip: str
    delivery_point: str = ""  # two digits after the ZIP+4 (USPS), for the barcode's routing code; not printed

    @property
    def last_line(self) -> str:
        return f"{self.city} {self.state} {self.zip}"


@dataclass(frozen=True)
class Sale:
    """What a tax sale produced for one property (the notice after tax sale, § 14-817.1)."""

    sale_date: dt.date
    highest_bid: Decimal
    lien_amount: Decimal
    redemption_before_filing: Decimal
    redemption_after_filing: Decimal
    owner_occupied: bool
    purchaser: str = ""


@dataclass(frozen=True)
class Record:
    """One account of the roll export, validated: the unit that becomes one piece."""

    account_id: str
    owners: tuple[str, ...]
    mailing: MailingAddress
    property_address: str
    lines: tuple[TaxLine, ...]
    source_file: str
    source_lines: tuple[int, ...]
    first_advertisement_date: dt.date | None = None
    sale: Sale | None = None

    @property
    def total_due(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def first_line(self) -> int:
        return self.source_lines[0] if self.source_lines else 0


@dataclass(frozen=True)
class Problem:
    """Why a record was rejected: what, where, and the offending value."""

    reason: str
    file: str
    line: int | None
    field: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.field:
            where += f" field {self.field!r}"
        tail = f": {self.value!r}" if self.value is not None else ""
        return f"{self.reason} ({where}){tail}"


@dataclass(frozen=True)
class Rejection:
    """An account (or a row that could not be tied to one) that will not be printed."""

    account_id: str
    file: str
    line: int | None
    problems: tuple[Problem, ...]

    @property
    def reason(self) -> str:
        return "; ".join(str(p) for p in self.problems)


@dataclass(frozen=True)
class Block:
    """A piece of law a document must carry: a verbatim statement, a content duty or a form element."""

    id: str
    citation: str
    kind: BlockKind
    title: str
    document: str
    order: int
    in_force_from: dt.date
    in_force_until: dt.date | None = None
    text: str = ""
    applies_when: str = "always"
    optional: bool = False
    note: str = ""
    translation_es: str = ""  # a Spanish translation printed beside ``text``, never instead of it
    # What the PDF check looks for (notices/compliance/): phrases and {profile.facts} a content
    # block must show, a special check by name, and phrases that betray the block where it must not be.
    expect: tuple[str, ...] = ()
    check: str = ""
    detect: tuple[str, ...] = ()

    def in_force_on(self, day: dt.date) -> bool:
        return self.in_force_from <= day and (self.in_force_until is None or day < self.in_force_until)

    def translation(self, language: str) -> str:
        """The translation of ``text`` into ``language`` held in the registry, or "" if there is none."""
        return self.translation_es if language == "es" else ""


@dataclass(frozen=True)
class Edition:
    """A state of the law between two change dates, named for the manifest and the PDF metadata."""

    id: str
    label: str
    in_force_from: dt.date


@dataclass(frozen=True)
class Collector:
    """A collector profile: its facts, which of them are placeholders, and its template folders."""

    id: str
    name: str
    folder: Path  # the folder of its own profile: in the workspace, or shipped
    facts: dict[str, Any]
    placeholders: tuple[str, ...] = ()
    sources: tuple[Path, ...] = field(default_factory=tuple)
    # The template search path, most specific first (workspace folder, shipped folder, templates/base):
    # the Composer reads templates there, the Renderer may read files there and nowhere else but fonts.
    roots: tuple[Path, ...] = ()
    own: Path | None = None  # its folder in the workspace, when it has one there (the renderer may read it)
    confirmed: tuple[str, ...] = ()  # dotted keys of facts written with a source and a confirmed date

    def get(self, dotted: str, default: Any = None) -> Any:
        """A fact by its dotted profile key; for keys named in data (a block's ``expect``), not in code."""
        node: Any = self.facts
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    # The facts the code itself decides on, one typed accessor each, so no module spells a profile key.

    @property
    def duplex(self) -> bool:
        """Print on both sides: every document then starts on a front side."""
        return bool(self.get("print.duplex", True))

    @property
    def max_pages(self) -> int | None:
        """The most pages one piece may have (``print.max_pages``): more will not fold into the envelope."""
        cap = self.get("print.max_pages")
        return int(cap) if cap else None

    @property
    def envelope(self) -> dict[str, Any]:
        """The ``[envelope]`` table: a stock id, or the windows the profile gives itself (notices.postal.envelopes)."""
        table = self.get("envelope", {})
        return table if isinstance(table, dict) else {}

    @property
    def return_address(self) -> list[str]:
        """The lines the return window shows (``return_address``)."""
        return [str(line) for line in self.get("return_address", []) or []]

    @property
    def imb(self) -> dict[str, Any] | None:
        """The ``[imb]`` table (notices.postal.imb), or None when the profile has none."""
        table = self.get("imb")
        return table if isinstance(table, dict) else None

    @property
    def pay_within_days(self) -> int:
        """Days after the notice date by which the statement asks for payment."""
        return int(self.get("statement.pay_within_days", 30))

    @property
    def itemize_by_source(self) -> bool:
        return bool(self.get("statement.itemize_by_source", False))

    @property
    def lien_warning(self) -> bool:
        return bool(self.get("statement.lien_warning", False))

    @property
    def water_sewer_program(self) -> bool:
        """Sells water/sewer liens and names a low-income discount program (§ 14-812(b)(7))."""
        return bool(self.get("water_sewer.sells_liens", False) and self.get("water_sewer.program"))

    @property
    def local_installment(self) -> dict[str, Any] | None:
        """The local installment program (§ 10-208 or § 10-209), if the collector has one."""
        local = self.get("installment.local")
        if not local:
            return None
        return local if isinstance(local, dict) else {}  # a malformed entry still counts: its law is then missing

    @property
    def state_installment(self) -> bool:
        return bool(self.get("installment.state_program", True))

    @property
    def county_ombudsman(self) -> bool:
        return bool(self.get("ombudsman.county"))

    @property
    def state_ombudsman_name(self) -> str:
        return str(self.get("ombudsman.state.name", "State Tax Sale Ombudsman"))

    @property
    def profile_file(self) -> str | None:
        """The collector's own profile file, for errors that name where to fix a fact."""
        return str(self.sources[-1]) if self.sources else None


@dataclass(frozen=True)
class PieceResult:
    """One piece as a worker finished it: its PDF, or why it has none."""

    seq: int
    account_id: str
    pdf: bytes | None
    statement_pages: int
    pages: int
    error: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    reused: bool = False  # written into an earlier piece's layout
    print_part: Fragment | None = None  # the statement pages as written, for the print file without parsing
    failed_pdf: bytes | None = None  # a piece that failed the check, for the preview to show; never written or printed
    barcode: Barcode | None = None  # the Intelligent Mail barcode drawn on it, for the manifest


@dataclass(frozen=True)
class Outcome:
    """The manifest row of one input account: rendered, rejected or quarantined, and where it went."""

    seq: int
    account_id: str
    status: Status
    source_file: str
    source_line: int | None
    reason: str = ""
    piece_file: str = ""
    pages: int = 0
    statement_pages: int = 0
    sha256: str = ""
    print_first_page: int | None = None
    print_last_page: int | None = None
    blocks: str = ""
    citations: str = ""
    edition: str = ""
    language: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    sheets: int = 0  # sheets of paper the piece takes: duplex ceil(pages / 2), simplex its pages
    print_sequence: int | None = None  # its place in the print file (1, 2, ...)
    sort_key: str = ""  # what --sort ordered it by
    imb_tracking: str = ""  # the Intelligent Mail barcode's 20-digit tracking code
    imb_routing: str = ""  # its routing code (the ZIP, ZIP+4): 0, 5, 9 or 11 digits
    imb_bars: str = ""  # its 65 bars, F A D T
    omr_marks: str = ""  # the OMR code on each marked page ("1" a mark, top to bottom), space-separated
    over_capacity: bool = False  # more sheets than the envelope takes (notices.postal.production)
    flat: bool = False  # printed in the flat-mailing print file, with its own print sequence

    def to_dict(self) -> dict[str, Any]:
        """The row as ``dataclasses.asdict`` gives it, without its deep copy (0.04 ms a piece, now 0.005).

        Every value is plain: text, numbers, None, and findings as plain dicts, so the copy would only
        copy (tests/test_output_manifest.py holds the two equal).
        """
        return {name: getattr(self, name) for name in _OUTCOME_NAMES}


_OUTCOME_NAMES = tuple(Outcome.__dataclass_fields__)


@dataclass
class Summary:
    """What a run did, for the CLI's summary line and ``--json``."""

    records_in: int = 0
    rendered: int = 0
    rejected: int = 0
    quarantined: int = 0
    pages: int = 0
    print_file: str = ""
    manifest: str = ""
    rejects: str = ""
    out: str = ""
    edition: str = ""
    edition_label: str = ""
    mailing: str = ""
    documents: list[str] = field(default_factory=list)
    skipped_documents: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resumed_pieces: int = 0
    shard: str = ""  # "i/n" when the run covers one shard only: the manifest covers that shard's records
    proof: bool = False  # rendered with --proof: every page marked, no print file
    pdf_variant: str = "print"  # the PDF standard of every file: print, pdf/a-2b or pdf/ua-1 (notices.standards)
    large_print: bool = False  # rendered with --large-print: every text run at least 18 pt, checked
    executor: str = "local"
    workers: int = 0
    workers_replaced: int = 0
    reused_layouts: int = 0  # pieces written into an earlier piece's layout (notices.fields), not laid out anew
    peak_rss_main_mb: float = 0.0
    peak_rss_workers_mb: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # this process and its workers (a Dask cluster's CPU is not counted)
    notes: list[str] = field(default_factory=list)  # what this run could not do here, said rather than pretended
    over_capacity: int = 0  # pieces with more sheets than the envelope takes
    flat_print_file: str = ""  # the flat-mailing print file, when the profile sends such pieces there
    serials: dict[str, Any] = field(default_factory=dict)  # the run's block of barcode serials and the ledger it is in

    @property
    def balanced(self) -> bool:
        return self.records_in == self.rendered + self.rejected + self.quarantined

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["balanced"] = self.balanced
        return data
