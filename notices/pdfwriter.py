"""Turn pages from WeasyPrint, earlier piece files and shared parts into one PDF file, written object by object.

The file is written as pages arrive, so memory stays flat however long the mailing. A part that is the
same in every piece (the § 14-812(b) insert, a blank back page) is written once; each of its
occurrences is a small page object pointing at the same content streams, fonts and images.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import itertools
import re
import tempfile
import threading
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from . import standards

_SKIP_PAGE_KEYS = {"/Parent", "/Annots", "/B", "/StructParents", "/Metadata", "/PieceInfo"}
_REFERENCE = re.compile(rb"(?<![\d.])(\d+) 0 R\b")


ZLIB_HEADER = b"\x78\xda"  # deflate, 32 KiB window, best compression
FINAL_BLOCK = b"\x03\x00"  # an empty last block: the blocks before it end with a full flush, not the stream


def deflated_blocks(raw: bytes) -> bytes:
    """``raw`` as deflate blocks that end with a full flush, by this thread's compressor.

    A full flush makes the compressor forget what it read (zlib clears its match table and starts its
    window again), so the blocks are the same whatever it compressed before: one kept per thread, where
    setting up a new one (0.05 to 0.09 ms) cost more than compressing a piece's fields or its barcode.
    """
    compressor = getattr(_COMPRESSORS, "one", None)
    if compressor is None:
        compressor = _COMPRESSORS.one = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(raw) + compressor.flush(zlib.Z_FULL_FLUSH)


_COMPRESSORS = threading.local()  # a Dask worker may render in threads: two pieces never share a compressor


def deflate(raw: bytes) -> bytes:
    """``raw`` as the data of a /FlateDecode stream (a zlib stream), the same bytes whatever was compressed before."""
    return ZLIB_HEADER + deflated_blocks(raw) + FINAL_BLOCK + zlib.adler32(raw).to_bytes(4, "big")


def flate_stream(raw: bytes) -> bytes:
    """A content stream object's body holding ``raw``, compressed."""
    data = deflate(raw)
    return b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


@dataclass
class Fragment:
    """Pages as serialized objects, ready to be written into a file without parsing a PDF again.

    ``objects`` are (number, body) as numbered where they were made, ``pages`` the numbers of the page
    objects, ``parent`` the number their /Parent points at. ``add_fragment`` renumbers references
    inside the objects' dictionaries (never inside stream data) for the file it writes.
    """

    pages: list[int] = field(default_factory=list)
    objects: list[tuple[int, bytes]] = field(default_factory=list)
    parent: int = 2
    structure: standards.Structure | None = None  # the pages' tags, when the variant is tagged (PDF/UA)
    # Objects the same in every fragment of one key (the fonts and resources of a page drawn once,
    # ``drawn.Drawn``): a run spools them once (``lean``). A file writes any object once whatever its
    # key (``add_fragment`` knows objects by content).
    common: str = ""
    common_objects: frozenset[int] = frozenset()

    def lean(self) -> Fragment:
        """The fragment without the bodies of its common objects: enough for a file that has written them already."""
        if not self.common:
            return self
        return dataclasses.replace(self, objects=[(n, body) for n, body in self.objects if n not in self.common_objects])

    def with_commons(self, bodies: Sequence[tuple[int, bytes]]) -> Fragment:
        """A lean fragment made whole again with its common objects' bodies (``commons`` of another of its key)."""
        if not self.common or not bodies:
            return self
        have = {n for n, _ in self.objects}
        return dataclasses.replace(self, objects=sorted([*self.objects, *((n, b) for n, b in bodies if n not in have)]))

    def commons(self) -> list[tuple[int, bytes]]:
        """The bodies of its common objects (none when the fragment is lean)."""
        return [(n, body) for n, body in self.objects if n in self.common_objects]


_CONTENTS = re.compile(rb"/Contents\s*(\d+ 0 R|\[[^\]]*\])")


def overlay(fragment: Fragment, page: int, content: bytes) -> Fragment:
    """The fragment with ``content`` (PDF drawing operators) drawn over one of its pages, as new objects.

    The page's own content is wrapped in ``q``/``Q``, so whatever graphics state it leaves does not
    reach the overlay; no stream's data is touched, only the page dictionary's /Contents.
    """
    bodies = dict(fragment.objects)
    number = fragment.pages[page]
    head, marker, data = bodies[number].partition(b"\nstream\n")
    found = _CONTENTS.search(head)
    if found is None:
        raise ValueError(f"page object {number} has no /Contents")
    own = found.group(1).strip(b"[]").strip()
    first = max([*bodies, fragment.parent]) + 1
    if fragment.structure is not None:  # drawn by us after layout, not part of the document's words
        content = standards.artifact(content)
    # The bars of a barcode take 2 KB as operators, 0.35 KB compressed: in every piece and in the print file.
    added = [(first, b"<< /Length 2 >>\nstream\nq\n\nendstream"), (first + 1, flate_stream(b"Q\n" + content))]
    contents = b"/Contents [%d 0 R %s %d 0 R]" % (first, own, first + 1)
    bodies[number] = head[:found.start()] + contents + head[found.end():] + marker + data
    return dataclasses.replace(fragment, pages=list(fragment.pages), objects=sorted([*bodies.items(), *added]))


def read_fragment(pdf: bytes, pages: int) -> Fragment:
    """The first ``pages`` pages of a file this writer wrote, as the Fragment they were written from.

    A resumed run reads back the pieces an earlier run finished: their objects, byte for byte, so the
    print file comes out as if the pieces had been made in this run.
    """
    xref = int(pdf[pdf.rindex(b"startxref") + 9:].split()[0])
    lines = pdf[xref:].split(b"\n", 2)
    size = int(lines[1].split()[1])
    entries = pdf[xref:].split(b"\n")[2:2 + size]
    offsets = {n: int(e[:10]) for n, e in enumerate(entries) if e[17:18] == b"n"}

    def body(number: int) -> bytes:
        start = offsets[number] + len(b"%d 0 obj\n" % number)
        head_end = pdf.find(b"\nendobj\n", start)
        stream_at = pdf.find(b"\nstream\n", start)
        if stream_at == -1 or stream_at > head_end:
            return pdf[start:head_end]
        length = int(re.search(rb"/Length (\d+)", pdf[start:stream_at]).group(1))  # type: ignore[union-attr]  # our own writer always writes /Length
        end = stream_at + len(b"\nstream\n") + length + len(b"\nendstream")
        return pdf[start:end]

    every = [int(n) for n in re.findall(rb"(\d+) 0 R", body(2).partition(b"/Kids")[2])]
    fragment = reachable(every[:pages], body, 2)
    root = re.search(rb"/StructTreeRoot (\d+) 0 R", body(1))
    if root is not None:
        fragment.structure = standards.structure_of(body, int(root.group(1)), every, pages)
    return fragment


_REFERENCE_NUMBER = re.compile(rb"(\d+) 0 R")


def _identities(bodies: dict[int, bytes], own: set[int]) -> dict[int, bytes]:
    """Each object's identity but the ``own`` ones': a digest of its bytes with each reference replaced by the identity of
    what it reaches, so that equal identities draw the same in any file. None for the objects on a cycle or reaching one."""
    identities: dict[int, bytes] = {}
    busy: set[int] = set()

    def identity(number: int) -> bytes | None:
        if number in identities:
            return identities[number]
        if number in busy or number in own:
            return None
        busy.add(number)
        head, marker, data = bodies[number].partition(b"\nstream\n")
        digest = hashlib.sha256()
        last = 0
        for match in _REFERENCE.finditer(head):
            child = int(match.group(1))
            if child in bodies:
                below = identity(child)
                if below is None:
                    busy.discard(number)
                    return None
                digest.update(head[last:match.start()] + b"<" + below + b">")
                last = match.end()
        digest.update(head[last:] + marker + data)
        busy.discard(number)
        identities[number] = digest.digest()
        return identities[number]

    for number in bodies:
        identity(number)
    return identities


def _renumbered(head: bytes, numbers: dict[int, int]) -> bytes:
    """A serialized dictionary with each reference to a number in ``numbers`` pointing at what it maps to."""
    if b" 0 R" not in head:
        # Nothing to renumber (a content stream's ``/Length``, different in every piece): not cached, where it
        # would only push out the heads that recur.
        return head
    form = _head_form(head)
    if form is None:
        def renumber(match: re.Match[bytes]) -> bytes:
            number = numbers.get(int(match.group(1)))
            return match.group(0) if number is None else b"%d 0 R" % number

        return _REFERENCE.sub(renumber, head)
    template, references = form
    return template % tuple(numbers.get(n, n) for n in references)


@functools.lru_cache(maxsize=1024)
def _head_form(head: bytes) -> tuple[bytes, tuple[int, ...]] | None:
    """A serialized dictionary as a format with a ``%d`` for each reference, and the numbers they point at, found once:
    every piece of a layout has the same heads. None when a reference is not written as ``%d`` would (a leading zero)."""
    parts, references, last = [], [], 0
    for match in _REFERENCE.finditer(head):
        digits = match.group(1)
        if digits != b"%d" % int(digits):
            return None
        parts += [head[last:match.start()].replace(b"%", b"%%"), b"%d 0 R"]
        references.append(int(digits))
        last = match.end()
    parts.append(head[last:].replace(b"%", b"%%"))
    return b"".join(parts), tuple(references)


@functools.lru_cache(maxsize=64)
def _identities_of(own: tuple[int, ...], others: tuple[tuple[int, bytes], ...]) -> dict[int, bytes]:
    """``_identities`` of a fragment's objects but its own ``own`` (pages, their content), kept: those are the fonts and
    resources every fragment of one layout or drawn shape shares, the same bytes under the same numbers. The answer is
    shared by every caller: read it, never change it."""
    return _identities({**dict(others), **dict.fromkeys(own, b"")}, set(own))


def reachable(pages: list[int], body: Callable[[int], bytes], tree: int) -> Fragment:
    """Pages and every object they reach (not the page tree ``tree``), each serialized by ``body(number)``."""
    seen, todo, objects = set(pages), list(pages), []
    while todo:
        number = todo.pop()
        data = body(number)
        objects.append((number, data))
        for match in _REFERENCE.finditer(data.partition(b"\nstream\n")[0]):  # never inside stream data
            child = int(match.group(1))
            if child != tree and child not in seen:
                seen.add(child)
                todo.append(child)
    objects.sort()
    return Fragment(pages, objects, tree)


class PdfStreamWriter:
    """Write a PDF object by object: copy pages from other PDFs, share common parts, finish with the page tree."""

    def __init__(self, target: BinaryIO, *, info: dict[str, str] | None = None, variant: str = standards.PRINT,
                 lang: str = "en") -> None:
        self.out = target
        # Where the next byte goes, counted here: a file's own tell() is a system call, and the print file asks
        # it for every object it writes (seven a piece: 12 ms of the 1,000-piece run's end, on one core).
        self._at = target.tell()
        self.offsets = _Offsets()
        self.next_id = 3  # 1 catalog, 2 page tree
        self.pages = _Pages()  # page object numbers, in order
        self.info = info or {}
        self._shared: dict[str, list[bytes]] = {}  # name -> serialized page dictionaries
        self._written: dict[bytes, int] = {}  # an object's identity (its bytes and what it reaches) -> its number here
        self._blank_content: int | None = None
        self._digest = hashlib.sha256()  # of everything written: the file ID follows the content
        self.variant, self.lang = standards.check_variant(variant), lang
        self._tree = standards.StructureTree(self._alloc) if standards.tagged(variant) else None
        self._write_raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    # -- low level -------------------------------------------------------------------------
    def _write_raw(self, data: bytes) -> None:
        self._digest.update(data)
        self.out.write(data)
        self._at += len(data)

    def _tell(self) -> int:
        return self._at

    def _alloc(self) -> int:
        number = self.next_id
        self.next_id += 1
        return number

    def _write_body(self, number: int, body: bytes) -> None:
        self.offsets[number] = self._tell()
        self._write_raw(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")

    def _copy_pages(self, reader: PdfReader, indexes: Iterable[int], bodies: list[bytes] | None = None,
                    keys: dict[int, int] | None = None) -> list[int]:
        """Copy pages and everything they reach; returns the new page object numbers."""
        numbers = []
        for number, body, page in _copied(reader, indexes, self._alloc, keys):
            self._write_body(number, body)
            if page:
                numbers.append(number)
                if bodies is not None:
                    bodies.append(body)
        return numbers

    def _copy_shared(self, pdf: bytes, keys: dict[int, int] | None, bodies: list[bytes]) -> list[int]:
        """Copy all pages of a shared part, as ``_copy_pages`` would, from its objects serialized once per process."""
        part = _shared_copy(pdf, tuple(keys.items()) if keys else ())
        if part is None:
            reader = _shared_reader(pdf)
            return self._copy_pages(reader, range(len(reader.pages)), bodies, keys)
        start = self.next_id
        self.next_id += part.size
        numbers = []
        for number, body, page in part.at(start):
            self._write_body(number, body)
            if page:
                numbers.append(number)
                bodies.append(body)
        return numbers

    # -- public ----------------------------------------------------------------------------
    def add_pdf(self, pdf: bytes, pages: Sequence[int] | None = None) -> int:
        """Copy pages of a PDF (all by default); returns how many were added."""
        reader = PdfReader(io.BytesIO(pdf))
        indexes = list(range(len(reader.pages))) if pages is None else list(pages)
        self.pages.extend(self._copy_pages(reader, indexes))
        return len(indexes)

    def add_fragment(self, fragment: Fragment) -> int:
        """Write pages made elsewhere (``render.Renderer.fragment``, ``read_fragment``): no parsing, only renumbering.

        An object the file already holds, the same bytes reaching the same objects (a shape's fonts
        and resources, ``drawn``), is not written again: its references point at the one written.
        Known by content, not by where the fragment came from, so a piece read back from its file
        after a resume is written exactly as the same piece made in this run.
        """
        if self._tree is not None and fragment.structure is not None:
            return self._add_tagged_fragment(fragment)
        bodies = dict(fragment.objects)
        own = set(fragment.pages)  # a page sits once in the page tree; its content is its own
        for page in fragment.pages:
            found = _CONTENTS.search(bodies[page].partition(b"\nstream\n")[0])
            if found is not None:
                own.update(int(n) for n in _REFERENCE_NUMBER.findall(found.group(1)))
        identities = _identities_of(tuple(sorted(own & bodies.keys())),
                                    tuple((n, body) for n, body in sorted(bodies.items()) if n not in own))
        numbers: dict[int, int] = {}
        todo = []
        for number, body in sorted(fragment.objects):
            identity = identities.get(number)
            if identity is not None and identity in self._written:
                numbers[number] = self._written[identity]
                continue
            numbers[number] = self._alloc()
            if identity is not None:
                self._written[identity] = numbers[number]
            todo.append((number, body))
        numbers[fragment.parent] = 2
        for number, body in todo:
            head, marker, data = body.partition(b"\nstream\n")  # a stream's data is never touched
            self._write_body(numbers[number], _renumbered(head, numbers) + marker + data)
        self.pages.extend(numbers[page] for page in fragment.pages)
        return len(fragment.pages)

    def add_shared(self, name: str, pdf: bytes) -> int:
        """Add the pages of a part that repeats: its content and fonts are written the first time only."""
        structure = _shared_structure(pdf) if self._tree is not None else None
        if structure is not None:
            return self._add_tagged_shared(name, pdf, structure)
        if name not in self._shared:
            bodies: list[bytes] = []
            self.pages.extend(self._copy_shared(pdf, None, bodies))
            self._shared[name] = bodies
            return len(bodies)
        for body in self._shared[name]:
            # A page may sit once in the page tree: repeat the small page dictionary, share the rest.
            number = self._alloc()
            self._write_body(number, body)
            self.pages.append(number)
        return len(self._shared[name])

    # -- tagged files (PDF/UA): each page keyed into the parent tree, each document's tags written for its pages --
    def _add_tagged_fragment(self, fragment: Fragment) -> int:
        assert self._tree is not None and fragment.structure is not None
        keys = self._tree.keys(fragment.structure)
        pages = set(fragment.pages)
        objects = [(number, standards.tagged_page(body, keys.get(number)) if number in pages else body)
                   for number, body in fragment.objects]
        added = self.add_fragment(Fragment(fragment.pages, objects, fragment.parent))
        self._write_structure(fragment.structure, dict(zip(fragment.pages, self.pages.last(added), strict=True)), keys)
        return added

    def _add_tagged_shared(self, name: str, pdf: bytes, structure: standards.Structure) -> int:
        """A shared part's pages, as ``add_shared`` writes them, and a copy of its tags pointing at this occurrence's pages."""
        assert self._tree is not None
        keys = self._tree.keys(structure)
        reader = _shared_reader(pdf)
        sources = _page_numbers(reader)
        if name not in self._shared:
            bodies: list[bytes] = []
            numbers = self._copy_shared(pdf, keys, bodies)
            self._shared[name] = bodies
        else:
            numbers = []
            for source, body in zip(sources, self._shared[name], strict=True):
                numbers.append(self._alloc())
                self._write_body(numbers[-1], standards.tagged_page(body, keys.get(source)))
        self.pages.extend(numbers)
        self._write_structure(structure, dict(zip(sources, numbers, strict=True)), keys)
        return len(numbers)

    def _write_structure(self, structure: standards.Structure, pages: dict[int, int], keys: dict[int, int]) -> None:
        assert self._tree is not None
        for number, body in self._tree.add(structure, pages, keys):
            self._write_body(number, body)

    def add_blank(self, media_box: Sequence[float] = (0, 0, 612, 792)) -> None:
        """A padding back page that says so ("This page intentionally left blank"), so an operator can tell it from a misfeed.

        The words are drawn as outlines, not text: the page carries no font and no text, and the
        statute check reads it as the blank page it is. Its content is written once per file.
        """
        if self._blank_content is None:
            self._blank_content = self._alloc()
            self._write_body(self._blank_content, _blank_content(float(media_box[2]), float(media_box[3]),
                                                                 self._tree is not None))
        number = self._alloc()
        self._write_body(number, _blank_page(tuple(int(v) for v in media_box), self._blank_content, self._tree is not None))
        self.pages.append(number)

    def close(self) -> None:
        """Write the page tree, catalog, info, cross-reference table and trailer."""
        self.offsets[2] = self._tell()
        self._write_raw(f"2 0 obj\n<< /Type /Pages /Count {len(self.pages)} /Kids [".encode())
        for kids, last in self.pages.blocks():
            # The page tree's kids a block at a time: one string for all of them would grow with the mailing.
            self._write_raw(" ".join(f"{n} 0 R" for n in kids).encode() + (b"" if last else b" "))
        self.pages.close()
        self._write_raw(b"] >>\nendobj\n")
        entries, parts = standards.catalog(self.variant, self.info, self.lang, self._alloc, self._tree)
        for number, body in parts:
            self._write_body(number, body)
        self.offsets[1] = self._tell()
        self._write_raw(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R%s >>\nendobj\n" % entries)
        info_number = self._alloc()
        self.offsets[info_number] = self._tell()
        info = "".join(f"/{k} {_pdf_text(v)} " for k, v in sorted(self.info.items()))
        self._write_raw(f"{info_number} 0 obj\n<< {info}>>\nendobj\n".encode("ascii"))
        xref_at = self._tell()
        size = self.next_id
        digest = self._digest.hexdigest()[:32]  # of everything before the cross-reference table
        self._write_raw(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for block in self.offsets.table(size):
            self._write_raw(block)
        self.offsets.close()
        trailer = (f"trailer\n<< /Size {size} /Root 1 0 R /Info {info_number} 0 R /ID [<{digest}> <{digest}>] >>\n"
                   f"startxref\n{xref_at}\n%%EOF\n")
        self._write_raw(trailer.encode())



_BLOCK = 4096  # entries of the page tree and the cross-reference table written, or kept in memory, at a time


class _Pages:
    """A file's page object numbers in order, for its page tree: the latest in memory, the rest in a temporary file.

    A print file of 100,000 pieces has 400,000 pages; their numbers in one array (8 bytes each, and
    copied whenever it outgrew its room) were the one thing of the main process that grew with the
    mailing to the end: 3 MB, and 3 MB more while it was copied.
    """

    def __init__(self) -> None:
        self._count = 0
        self._tail = array("I")  # the numbers not spilled yet: at least the last _BLOCK, so a piece's own are here
        self._spill: IO[bytes] | None = None

    def __len__(self) -> int:
        return self._count

    def append(self, number: int) -> None:
        self.extend((number,))

    def extend(self, numbers: Iterable[int]) -> None:
        before = len(self._tail)
        self._tail.extend(numbers)
        self._count += len(self._tail) - before
        if len(self._tail) >= 2 * _BLOCK:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            self._spill.write(self._tail[:_BLOCK].tobytes())
            del self._tail[:_BLOCK]

    def last(self, count: int) -> list[int]:
        """The last ``count`` numbers (a fragment's own pages: never more than the block kept in memory)."""
        assert count <= len(self._tail), "a fragment's pages outnumber the page numbers kept in memory"
        return list(self._tail[len(self._tail) - count:]) if count else []

    def blocks(self) -> Iterator[tuple[array[int], bool]]:
        """All the numbers in order, a block at a time, each with whether it is the last."""
        if self._spill is not None:
            self._spill.seek(0)
            while data := self._spill.read(_BLOCK * self._tail.itemsize):
                block = array("I")
                block.frombytes(data)
                yield block, False
        yield self._tail, True

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


class _Offsets:
    """Where each object starts in the file, for its cross-reference table, in object-number order.

    Objects are written about in the order their numbers were given, so the offsets of a run of numbers
    that has no gap are final: past a block of them they go to a temporary file, already as table
    entries. A print file of 100,000 pieces has two million objects; their offsets in a dict would be
    the largest thing the main process holds.
    """

    def __init__(self) -> None:
        self._waiting: dict[int, int] = {}  # 1 and 2 (written last), and numbers written before a lower one
        self._next = 3  # the lowest number not yet in ``_ready`` or the file
        self._ready = array("Q")
        self._spill: IO[bytes] | None = None

    def __setitem__(self, number: int, offset: int) -> None:
        self._waiting[number] = offset
        while self._next in self._waiting:
            self._ready.append(self._waiting.pop(self._next))
            self._next += 1
        if len(self._ready) >= _BLOCK:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            self._spill.write(_entries(self._ready))
            self._ready = array("Q")

    def table(self, size: int) -> Iterator[bytes]:
        """The table's entries for objects 1 .. size - 1, a block at a time (a number never written is a free entry)."""
        yield b"".join(_entry(self._waiting.get(number)) for number in (1, 2) if number < size)
        if self._spill is not None:
            self._spill.seek(0)
            while block := self._spill.read(20 * _BLOCK):
                yield block
        yield _entries(self._ready)
        for start in range(self._next, size, _BLOCK):
            yield b"".join(_entry(self._waiting.get(number)) for number in range(start, min(size, start + _BLOCK)))

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _entry(offset: int | None) -> bytes:
    return b"%010d 00000 n \n" % offset if offset is not None else b"0000000000 00000 f \n"


def _entries(offsets: array[int]) -> bytes:
    return b"".join(b"%010d 00000 n \n" % offset for offset in offsets)


def _copied(reader: PdfReader, indexes: Iterable[int], alloc: Callable[[], int],
            keys: dict[int, int] | None = None) -> Iterator[tuple[int, bytes, bool]]:
    """Pages of a parsed PDF and every object they reach, numbered by ``alloc`` as met, in writing order: (number, body, is a page).

    ``keys``: the parent-tree key of each source page that has one (a tagged file), set as its /StructParents.
    """
    mapping: dict[int, int] = {}
    queue: deque[tuple[int, PdfObject]] = deque()

    def copy(obj: PdfObject) -> PdfObject:
        """A copy of ``obj`` whose indirect references point at the numbers ``alloc`` gave."""
        if isinstance(obj, IndirectObject):
            key = obj.idnum
            if key not in mapping:
                mapping[key] = alloc()
                target = obj.get_object()
                assert target is not None, f"a dangling reference to object {key}"
                queue.append((mapping[key], target))
            return IndirectObject(mapping[key], 0, None)
        if isinstance(obj, StreamObject):
            stream = StreamObject()
            stream._data = obj._data  # keep the encoded bytes: no re-compression
            for k, v in obj.items():
                stream[NameObject(k)] = copy(v)
            return stream
        if isinstance(obj, DictionaryObject):
            d = DictionaryObject()
            for k, v in obj.items():
                d[NameObject(k)] = copy(v)
            return d
        if isinstance(obj, ArrayObject):
            return ArrayObject(copy(v) for v in obj)
        return obj

    for index in indexes:
        page = reader.pages[index]
        d = DictionaryObject()
        for k, v in page.items():
            if k in _SKIP_PAGE_KEYS:
                continue
            d[NameObject(k)] = copy(v)
        for inherited in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
            if inherited not in d and inherited in page:
                d[NameObject(inherited)] = copy(page[inherited])
        d[NameObject("/Parent")] = IndirectObject(2, 0, None)
        source = page.indirect_reference.idnum if page.indirect_reference is not None else None
        if keys and source in keys:
            d[NameObject("/StructParents")] = NumberObject(keys[source])
        number = alloc()
        yield number, _serialized(d), True
        while queue:
            target, obj = queue.popleft()
            if isinstance(obj, IndirectObject):  # pragma: no cover - get_object() already resolved it
                resolved = obj.get_object()
                assert resolved is not None
                obj = resolved
            yield target, _serialized(copy(obj)), False


def _serialized(obj: PdfObject) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class _SharedCopy:
    """A shared part's pages and what they reach, copied and serialized once: written into any file by renumbering only.

    Numbered from 0 in the order ``_copied`` meets them, in writing order: (number, head with a ``%d`` for each reference to
    one of them, the numbers those point at, the rest of the body (a stream's data, never touched), is a page).
    """

    size: int
    objects: tuple[tuple[int, bytes, tuple[int, ...], bytes, bool], ...]

    def at(self, start: int) -> list[tuple[int, bytes, bool]]:
        """The objects as ``_copied`` writes them into a file whose next number is ``start``."""
        return [(start + number, head % tuple(start + r for r in references) + tail, page)
                for number, head, references, tail, page in self.objects]


_NEAR = 3  # the first number of a fresh file (1 and 2: its catalog and page tree)
_FAR = 10_000_000  # a second numbering, with more digits, that the serialized form must reproduce to be used


@functools.lru_cache(maxsize=16)
def _shared_copy(pdf: bytes, keys: tuple[tuple[int, int], ...]) -> _SharedCopy | None:
    """A shared part copied as ``_copied`` copies it, once per process (and parent-tree keys): every piece file writes it.

    References are found in the serialized dictionaries, as ``add_fragment`` finds them. Proven, not assumed: the
    copy renumbered for a second, distant numbering must equal a walk made with that numbering, or there is none
    (a string in the part that reads like a reference) and each file walks the part's objects itself.
    """
    reader = _shared_reader(pdf)

    def walk(first: int) -> list[tuple[int, bytes, bool]]:
        return list(_copied(reader, range(len(reader.pages)), itertools.count(first).__next__, dict(keys)))

    near = walk(_NEAR)
    size = len(near)
    objects = []
    for number, body, page in near:
        head, marker, data = body.partition(b"\nstream\n")  # a stream's data is never touched
        parts, references, last = [], [], 0
        for match in _REFERENCE.finditer(head):
            target = int(match.group(1))
            if _NEAR <= target < _NEAR + size:  # not the page tree's 2, which every file numbers so
                parts += [head[last:match.start()].replace(b"%", b"%%"), b"%d 0 R"]
                references.append(target - _NEAR)
                last = match.end()
        parts.append(head[last:].replace(b"%", b"%%"))
        objects.append((number - _NEAR, b"".join(parts), tuple(references), marker + data, page))
    copied = _SharedCopy(size, tuple(objects))
    if copied.at(_NEAR) != near or copied.at(_FAR) != walk(_FAR):
        return None
    return copied


@functools.lru_cache(maxsize=8)
def _shared_reader(pdf: bytes) -> PdfReader:
    """The parsed PDF of a shared part: every piece file of a run copies the same insert, so parse it once."""
    return PdfReader(io.BytesIO(pdf))


@functools.lru_cache(maxsize=8)
def _shared_structure(pdf: bytes) -> standards.Structure | None:
    """The tags of a shared part (WeasyPrint wrote it tagged), read once: every occurrence writes a copy for its own pages."""
    reader = _shared_reader(pdf)
    catalog = reader.trailer["/Root"]
    assert isinstance(catalog, DictionaryObject)
    root = catalog.raw_get("/StructTreeRoot") if "/StructTreeRoot" in catalog else None
    if not isinstance(root, IndirectObject):
        return None

    def body(number: int) -> bytes:
        buffer = io.BytesIO()
        obj = reader.get_object(number)
        assert obj is not None, f"a dangling reference to object {number}"
        obj.write_to_stream(buffer)
        return buffer.getvalue()

    return standards.structure_of(body, root.idnum, _page_numbers(reader))


def _page_numbers(reader: PdfReader) -> list[int]:
    """The object numbers of a file's pages, in order."""
    return [page.indirect_reference.idnum if page.indirect_reference is not None else -1 for page in reader.pages]


@functools.lru_cache(maxsize=16)
def _blank_content(width: float, height: float, tagged: bool) -> bytes:
    """The content stream object of a padding page's words, compressed: 4 KB instead of 15 KB in every piece file."""
    stream = blank_page_words(width, height)
    if tagged:  # not the document's words: a reader skips them
        stream = standards.artifact(stream)
    return flate_stream(stream)


@functools.lru_cache(maxsize=64)
def _blank_page(media_box: tuple[int, ...], content: int, tagged: bool) -> bytes:
    """The page dictionary of a padding back page drawn by ``content``: the same few in every piece file of a run."""
    d = DictionaryObject()
    d[NameObject("/Type")] = NameObject("/Page")
    d[NameObject("/MediaBox")] = ArrayObject(NumberObject(v) for v in media_box)
    d[NameObject("/Resources")] = DictionaryObject()
    d[NameObject("/Contents")] = IndirectObject(content, 0, None)
    d[NameObject("/Parent")] = IndirectObject(2, 0, None)
    if tagged:
        d[NameObject("/Tabs")] = NameObject("/S")
    return _serialized(d)


def _pdf_text(text: str) -> str:
    """A PDF text string: a literal when ASCII, else UTF-16BE with a byte-order mark (names may be accented)."""
    if text.isascii():
        return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


BLANK_WORDS = "This page intentionally left blank"


@functools.cache
def blank_page_words(width: float, height: float, size: float = 8.0) -> bytes:
    """Drawing operators for ``BLANK_WORDS``, small and centred, as filled glyph outlines of the bundled font."""
    from fontTools.pens.basePen import BasePen  # noqa: PLC0415 - loaded on first padding page: `import notices` stays light

    from .resources import read_face  # noqa: PLC0415 - the writer needs no install layout until it draws words

    font = read_face("DejaVuSansCondensed.ttf")
    scale = size / font["head"].unitsPerEm
    cmap, glyphs, hmtx = font.getBestCmap(), font.getGlyphSet(), font["hmtx"]
    names = [cmap[ord(ch)] for ch in BLANK_WORDS]
    x = (width - sum(hmtx[n][0] for n in names) * scale) / 2
    y = height / 2
    ops: list[str] = ["q", "0.35 g"]

    class _Pen(BasePen):  # type: ignore[misc]  # fontTools' pens carry no type information
        def __init__(self, origin: float) -> None:
            super().__init__(glyphs)
            self.origin = origin

        def at(self, point: tuple[float, float]) -> str:
            return f"{self.origin + point[0] * scale:.2f} {y + point[1] * scale:.2f}"

        def _moveTo(self, pt: tuple[float, float]) -> None:
            ops.append(self.at(pt) + " m")

        def _lineTo(self, pt: tuple[float, float]) -> None:
            ops.append(self.at(pt) + " l")

        def _curveToOne(self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]) -> None:
            ops.append(f"{self.at(p1)} {self.at(p2)} {self.at(p3)} c")

        def _closePath(self) -> None:
            ops.append("h")

    for name in names:
        glyphs[name].draw(_Pen(x))
        x += hmtx[name][0] * scale
    ops += ["f", "Q"]
    return ("\n".join(ops) + "\n").encode("ascii")
