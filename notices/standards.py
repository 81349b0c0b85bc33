"""Turn a PDF variant (print, PDF/A-2b, PDF/UA-1) into what the writer adds to a file: metadata, output intent, structure tree.

WeasyPrint writes a whole conforming file only when it writes the whole file; our writer takes its
pages as objects and joins statements, shared inserts and padding pages itself. So what a standard
asks at the level of the file is made here, for piece files and the print file alike:

- ``pdf/a-2b``: an XMP packet declaring ``pdfaid:part=2, conformance=B`` whose title and producer
  agree with the document info, and an sRGB output intent (``GTS_PDFA1``, the ICC profile embedded)
  that gives the device colours of the barcode and the padding words their meaning.
- ``pdf/ua-1``: the XMP ``pdfuaid:part=1`` with the title, ``MarkInfo Marked``, ``Lang``,
  ``DisplayDocTitle``, and one structure tree: each document of each piece is a ``Part`` holding the
  elements WeasyPrint tagged (``Structure``, carried beside the pages), and a ``ParentTree`` with an
  entry for each page. What our code draws (the barcode, the padding words) is marked ``Artifact``.

``print`` (the default) adds nothing: its bytes are what they were before variants existed.
This module reads bytes only: it imports neither WeasyPrint nor a PDF library.
"""

from __future__ import annotations

import importlib.util
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape as _html_escape
from pathlib import Path

from .errors import ConfigError

PRINT = "print"
PDF_A = "pdf/a-2b"
PDF_UA = "pdf/ua-1"
VARIANTS = (PRINT, PDF_A, PDF_UA)
"""What ``--pdf-variant`` accepts, the default first."""

SRGB = "sRGB IEC61966-2.1"


def check_variant(variant: str) -> str:
    """The variant, or a ConfigError naming the ones there are."""
    if variant not in VARIANTS:
        raise ConfigError(f"Unknown PDF variant: use {', '.join(VARIANTS)}", field="pdf_variant", value=variant)
    return variant


def tagged(variant: str) -> bool:
    """Whether the variant's files carry a structure tree (tags) and mark what is not content as artifacts."""
    return variant == PDF_UA


def full_layout(variant: str) -> bool:
    """Whether every piece of the variant must be laid out in full, never written into a kept layout.

    A standard's file is held to more than its pages' looks (tags bound to the laid-out boxes, one
    colour space for everything drawn), and only the full layout is proven to give it: the one hook a
    renderer that reuses layouts or shares page content must honour.
    """
    return variant != PRINT


def weasyprint_options(variant: str) -> dict[str, str]:
    """The options WeasyPrint's ``write_pdf`` gets for the variant: its own tagging and colour set-up."""
    return {} if variant == PRINT else {"pdf_variant": variant}


def artifact(content: bytes) -> bytes:
    """Drawing operators marked as an artifact: what a reader of the document's words must skip (PDF/UA 7.1)."""
    return b"/Artifact BMC\n" + content + b"EMC\n"


# -- the structure carried beside pages ------------------------------------------------------------
_REF = re.compile(rb"(?<![\d.])(\d+) 0 R\b")
_UP = re.compile(rb"/P\s+(\d+) 0 R")  # a structure element's parent (not /Pg: \s+ right after /P)
_PAGE = re.compile(rb"/Pg\s+(\d+) 0 R")
# WeasyPrint names a table's header cells "<table object number>-<row>-<column>": the number is
# renumbered with the table, so the IDs stay unique once many pieces share one file, and written with
# ten digits, so that IDs sort as the tables were written and the IDTree can grow piece by piece.
_HEADER_ID = re.compile(rb"\((\d+)(-\d+-\d+)\)")
_ELEMENT_ID = re.compile(rb"/ID\s*\((\d{10}-\d+-\d+)\)")


@dataclass(frozen=True)
class Structure:
    """The tagged elements of some pages, serialized, numbered as where they were read.

    ``objects``: (number, body) of every element; ``top``: the elements directly under the document,
    in reading order; ``containers``: the numbers their /P points at (the source's document element),
    renumbered to the ``Part`` the writer makes; ``marked``: for each page (its object number), the
    element of each marked-content id, in id order.
    """

    objects: tuple[tuple[int, bytes], ...]
    top: tuple[int, ...]
    containers: tuple[int, ...]
    marked: tuple[tuple[int, tuple[int, ...]], ...]


def _tokens(data: bytes) -> list[bytes]:
    return re.findall(rb"\[|\]|\d+ 0 R|-?\d+|null", data)


def _array(tokens: list[bytes], at: int) -> tuple[list[object], int]:
    """The array that opens at ``tokens[at]`` (a '['): ints, references (as ('R', n)) and nested arrays."""
    items: list[object] = []
    at += 1
    while tokens[at] != b"]":
        token = tokens[at]
        if token == b"[":
            inner, at = _array(tokens, at)
            items.append(inner)
        elif token.endswith(b" 0 R"):
            items.append(("R", int(token.split()[0])))
        else:
            items.append(None if token == b"null" else int(token))
        at += 1
    return items, at


def _after(key: bytes, body: bytes) -> bytes:
    found = body.find(key)
    return b"" if found == -1 else body[found + len(key):]


def _first_ref(key: bytes, body: bytes) -> int | None:
    found = re.search(re.escape(key) + rb"\s*\[?\s*(\d+) 0 R", body)
    return None if found is None else int(found.group(1))


def _parent_tree(body: Callable[[int], bytes], tree: int) -> dict[int, list[int | None]]:
    """A ParentTree's entries (flat /Nums, values inline or indirect arrays): key -> element per marked-content id."""
    tokens = _tokens(_after(b"/Nums", body(tree)))
    if not tokens or tokens[0] != b"[":
        return {}
    items, _ = _array(tokens, 0)
    entries: dict[int, list[int | None]] = {}
    for key, value in zip(items[::2], items[1::2], strict=False):
        if isinstance(value, tuple):  # an indirect array
            value, _ = _array(_tokens(body(value[1])), 0)
        if isinstance(key, int) and isinstance(value, list):
            entries[key] = [v[1] if isinstance(v, tuple) else None for v in value]
    return entries


def structure_of(body: Callable[[int], bytes], root: int, pages: Sequence[int], wanted: int | None = None) -> Structure:
    """The elements marking the first ``wanted`` (all by default) of ``pages`` (object numbers, in order).

    ``body(number)`` is an object's serialized dictionary; ``root`` the StructTreeRoot. The source is
    WeasyPrint (ParentTree keys are page indexes) or this writer (the same); elements WeasyPrint marks
    but leaves out of its tree (the page-margin boxes: "Page 1 of 2") are put back under the
    document, so every marked piece of content belongs to the tree.
    """
    wanted = len(pages) if wanted is None else wanted
    root_body = body(root)
    document = _first_ref(b"/K", root_body)
    tree = _first_ref(b"/ParentTree", root_body)
    if document is None or tree is None:
        raise ValueError(f"structure tree root {root} has no document element or parent tree")
    # This writer puts each document of a piece in a Part under the document: both are containers.
    containers = {document} | {n for n in (int(m) for m in _REF.findall(_after(b"/K", body(document))))
                               if b"/S /Part" in body(n)}
    entries = _parent_tree(body, tree)
    marked: list[tuple[int, tuple[int, ...]]] = []
    top: list[int] = []
    seen_top: set[int] = set()
    for index, page in enumerate(pages[:wanted]):
        elements = tuple(e for e in entries.get(index, []) if e is not None)
        if not elements:
            continue
        marked.append((page, elements))
        for element in elements:
            # Up to the element right under the document: the reading order is the order content is first met.
            current, hops = element, 0
            while True:
                parent = _UP.search(body(current))
                if parent is None or int(parent.group(1)) in containers:
                    break
                current, hops = int(parent.group(1)), hops + 1
                if hops > 10_000:
                    raise ValueError(f"structure element {element} has a cycle of parents")
            if current not in seen_top:
                seen_top.add(current)
                top.append(current)
    objects: dict[int, bytes] = {}
    todo = list(top)
    while todo:
        number = todo.pop()
        if number in objects:
            continue
        data = body(number)
        objects[number] = data
        down = _PAGE.sub(b"", _UP.sub(b"", data))
        todo.extend(int(m) for m in _REF.findall(down) if int(m) not in objects)
    return Structure(tuple(sorted(objects.items())), tuple(top), tuple(sorted(containers)), tuple(marked))


class StructureTree:
    """A file's structure tree, written as pages arrive: a Part per document, an array per page in the ParentTree.

    Only the numbers of the Parts and of each page's array are kept, so a print file of any length
    holds little in memory.
    """

    def __init__(self, alloc: Callable[[], int]) -> None:
        self.alloc = alloc
        self.document = alloc()
        self.parts: list[int] = []
        self.nums: list[int] = []  # key (a page's /StructParents) -> the number of its array
        self.ids: list[int] = []  # the IDTree's leaves, in the order of their keys

    def keys(self, structure: Structure) -> dict[int, int]:
        """Reserve a ParentTree key for each marked page of ``structure`` (source page number -> key)."""
        keys = {}
        for page, _ in structure.marked:
            keys[page] = len(self.nums)
            self.nums.append(0)
        return keys

    def add(self, structure: Structure, pages: dict[int, int], keys: dict[int, int]) -> list[tuple[int, bytes]]:
        """The objects to write for one document's structure, its pages now numbered ``pages`` (source -> file)."""
        part = self.alloc()
        numbers = {number: self.alloc() for number, _ in structure.objects}
        refs = {**pages, **numbers, **dict.fromkeys(structure.containers, part)}

        def renumber(match: re.Match[bytes]) -> bytes:
            return b"%d 0 R" % refs[int(match.group(1))]

        def header(match: re.Match[bytes]) -> bytes:
            number = numbers.get(int(match.group(1)))
            return match.group(0) if number is None else b"(%010d%s)" % (number, match.group(2))

        out = [(numbers[n], _HEADER_ID.sub(header, _REF.sub(renumber, data))) for n, data in structure.objects]
        named = sorted((found.group(1), number) for number, data in out for found in [_ELEMENT_ID.search(data)] if found)
        if named:  # a leaf of the IDTree, which PDF requires once an element has an ID
            leaf = self.alloc()
            names = " ".join(f"({key.decode()}) {number} 0 R" for key, number in named)
            out.append((leaf, f"<< /Limits [({named[0][0].decode()}) ({named[-1][0].decode()})] /Names [{names}] >>".encode()))
            self.ids.append(leaf)
        kids = " ".join(f"{numbers[n]} 0 R" for n in structure.top)
        out.append((part, f"<< /Type /StructElem /S /Part /P {self.document} 0 R /K [{kids}] >>".encode()))
        self.parts.append(part)
        for page, elements in structure.marked:
            array = self.alloc()
            self.nums[keys[page]] = array
            out.append((array, ("[" + " ".join(f"{numbers[e]} 0 R" for e in elements) + "]").encode()))
        return out

    def finish(self) -> tuple[int, list[tuple[int, bytes]]]:
        """The StructTreeRoot's number, and the document element, parent tree and root to write."""
        root, tree = self.alloc(), self.alloc()
        kids = " ".join(f"{n} 0 R" for n in self.parts)
        nums = " ".join(f"{key} {array} 0 R" for key, array in enumerate(self.nums))
        objects = [
            (self.document, f"<< /Type /StructElem /S /Document /P {root} 0 R /K [{kids}] >>".encode()),
            (tree, f"<< /Nums [{nums}] >>".encode()),
        ]
        ids = ""
        if self.ids:
            id_tree = self.alloc()
            objects.append((id_tree, ("<< /Kids [" + " ".join(f"{n} 0 R" for n in self.ids) + "] >>").encode()))
            ids = f" /IDTree {id_tree} 0 R"
        objects.append((root, f"<< /Type /StructTreeRoot /K [{self.document} 0 R] /ParentTree {tree} 0 R "
                              f"/ParentTreeNextKey {len(self.nums)}{ids} >>".encode()))
        return root, objects


def tagged_page(page: bytes, key: int | None) -> bytes:
    """A serialized page dictionary keyed into the parent tree (when it has marked content) and in structure tab order."""
    return with_tab_order(page if key is None else with_key(page, key))


def with_key(page: bytes, key: int) -> bytes:
    """A serialized page dictionary with ``/StructParents key`` (replacing one it had)."""
    if b"/StructParents" in page:
        return re.sub(rb"/StructParents\s+\d+", b"/StructParents %d" % key, page, count=1)
    start = page.index(b"<<") + 2
    return page[:start] + b" /StructParents %d" % key + page[start:]


def with_tab_order(page: bytes) -> bytes:
    """A serialized page dictionary that says its annotations follow the structure (/Tabs /S), as PDF/UA asks of every page."""
    if b"/Tabs" in page:
        return page
    start = page.index(b"<<") + 2
    return page[:start] + b" /Tabs /S" + page[start:]


# -- the catalog -----------------------------------------------------------------------------------
def _srgb_profile() -> bytes:
    """The sRGB ICC profile WeasyPrint ships (ICC's own sRGB2014, free to embed), found without importing WeasyPrint."""
    spec = importlib.util.find_spec("weasyprint")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("WeasyPrint's sRGB colour profile is missing: PDF/A output needs it", field="pdf_variant")
    return (Path(next(iter(spec.submodule_search_locations))) / "pdf" / "sRGB2014.icc").read_bytes()


def _escape(text: str, quote: bool = False) -> str:
    """XML character data (with ``quote``, a double-quoted attribute value), as xml.sax.saxutils.escape writes it:
    that module imports urllib.request, http.client and ssl, 25 ms of the main process's start."""
    escaped = _html_escape(text, quote=False)
    return escaped.replace('"', "&quot;") if quote else escaped


def xmp(variant: str, title: str, producer: str) -> bytes:
    """The XMP packet of a file of the variant: its conformance, and the title and producer of its document info."""
    claim = {
        PDF_A: '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
               'pdfaid:part="2" pdfaid:conformance="B"/>',
        PDF_UA: '<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" pdfuaid:part="1"/>',
    }[variant]
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f"{claim}\n"
        f'<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:Producer="{_escape(producer, quote=True)}"/>\n'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_escape(title)}</rdf:li></rdf:Alt></dc:title></rdf:Description>\n'
        "</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="r"?>'
    )
    return text.encode("utf-8")


def catalog(variant: str, info: dict[str, str], lang: str, alloc: Callable[[], int],
            tree: StructureTree | None) -> tuple[bytes, list[tuple[int, bytes]]]:
    """The catalog entries a file of the variant adds, and the objects they point at (numbered by ``alloc``)."""
    if variant == PRINT:
        return b"", []
    objects: list[tuple[int, bytes]] = []
    metadata = alloc()
    packet = xmp(variant, info.get("Title", ""), info.get("Producer", ""))
    # Uncompressed, so that a tool reading the file's bytes finds the declaration (PDF/A-1 even requires it).
    objects.append((metadata, b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream" % (len(packet), packet)))
    entries = [f"/Metadata {metadata} 0 R", f"/Lang {_text(lang)}"]
    if variant == PDF_A:
        profile, intent = alloc(), alloc()
        icc = zlib.compress(_srgb_profile(), 9)
        objects.append((profile, b"<< /N 3 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(icc), icc)))
        objects.append((intent, f"<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier ({SRGB}) "
                                f"/Info ({SRGB}) /DestOutputProfile {profile} 0 R >>".encode()))
        entries.append(f"/OutputIntents [{intent} 0 R]")
    if tree is not None:
        root, parts = tree.finish()
        objects += parts
        entries += [f"/StructTreeRoot {root} 0 R", "/MarkInfo << /Marked true >>",
                    "/ViewerPreferences << /DisplayDocTitle true >>"]
    return (" " + " ".join(entries)).encode("ascii"), objects


def _text(text: str) -> str:
    if text.isascii():
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"
