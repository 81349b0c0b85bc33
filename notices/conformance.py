"""Turn a finished PDF into the standard it declares (print, PDF/A-2b, PDF/UA-1) and what our checks find against it.

These are structural checks of the parts a standard asks for, read with pypdf: they are not a
validator of the ISO standards (veraPDF is one; it cannot be installed here), and the README says
which clauses they cover. Every file, whatever it declares: not encrypted, no JavaScript, no
embedded files, every font embedded (FontFile2/FontFile3/FontFile) and subset (a ``ABCDEF+`` tag).

- PDF/A-2b (``pdfaid:part=2``, ``conformance=B``): an XMP packet, not compressed, that agrees with
  the document info on title and producer; a ``GTS_PDFA1`` output intent with an embedded ICC
  profile of as many components as the device colours it stands for; a file identifier; no
  transparency group or soft mask without it; PDF 1.7 at most.
- PDF/UA-1 (``pdfuaid:part=1``): ``MarkInfo Marked true``; a structure tree with a parent tree;
  ``Lang``; ``DisplayDocTitle``; the XMP title equal to the info title; every page ``/Tabs /S``;
  every piece of content on every page (text, paths, images) inside a marked-content sequence with
  an MCID that the parent tree maps to an element of the tree, or inside an ``/Artifact``; every
  structure element reachable from the root (no orphan); every ``Figure`` with alternate text;
  element IDs in an IDTree, and every table cell's ``/Headers`` naming one of them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import BooleanObject, ContentStream, DictionaryObject, IndirectObject, StreamObject

from .compliance.pdftext import page_reader, pypdf_room
from .standards import PDF_A, PDF_UA, PRINT

_PAINT = {b"Tj", b"TJ", b"'", b'"', b"Do", b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"S", b"s", b"sh", b"INLINE IMAGE"}


@dataclass
class Conformance:
    """A file's declared standard and our checks' findings (empty: every check passed)."""

    file: str
    declared: str
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {"declared": self.declared, "ok": self.ok, "findings": list(self.findings)}


def _xmp(catalog: DictionaryObject) -> tuple[str, bool]:
    """The catalog's XMP packet as text, and whether its stream is compressed."""
    metadata = _get(catalog, "/Metadata")
    if not isinstance(metadata, StreamObject):
        return "", False
    return metadata.get_data().decode("utf-8", "replace"), "/Filter" in metadata


def _get(dictionary: Any, key: str) -> Any:
    """A dictionary's value, resolved when it is a reference (None when absent)."""
    value = dictionary.get(key)
    return value.get_object() if isinstance(value, IndirectObject) else value


def _true(value: Any) -> bool:
    return isinstance(value, BooleanObject) and bool(value)


def declared(xmp: str) -> str:
    """The variant an XMP packet declares: pdf/a-2b, pdf/ua-1, another PDF/A or UA as written, or print (none)."""
    part = re.search(r"pdfaid:part(?:=\"|>)(\d)", xmp)
    if part:
        level = re.search(r"pdfaid:conformance(?:=\"|>)([A-Za-z])", xmp)
        return f"pdf/a-{part.group(1)}{level.group(1).lower() if level else '?'}"
    ua = re.search(r"pdfuaid:part(?:=\"|>)(\d)", xmp)
    return f"pdf/ua-{ua.group(1)}" if ua else PRINT


def _xmp_title(xmp: str) -> str | None:
    found = re.search(r"<dc:title>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.S)
    return None if found is None else _unescape(found.group(1))


def _xmp_producer(xmp: str) -> str | None:
    found = re.search(r"pdf:Producer(?:=\"([^\"]*)\"|>([^<]*)<)", xmp)
    return None if found is None else _unescape(found.group(1) if found.group(1) is not None else found.group(2))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def check(pdf: bytes, name: str = "", pages: int = 0) -> Conformance:
    """What ``pdf`` declares and what our checks find against that declaration (and against every file's rules).

    ``pages``: how many pages the file was read to hold, so pypdf reads a print file past its own limits (``pypdf_room``).
    """
    with pypdf_room(pages):
        return _check(pdf, name)


def _check(pdf: bytes, name: str) -> Conformance:
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert isinstance(catalog, DictionaryObject)
    xmp, compressed = _xmp(catalog)
    result = Conformance(name, declared(xmp))
    findings = result.findings
    if "/Encrypt" in reader.trailer:
        findings.append("the file is encrypted")
    findings += _active_content(catalog)
    findings += _fonts(reader, pdf)
    info: Any = reader.metadata or {}
    title = str(info.get("/Title", ""))
    if result.declared == PDF_A:
        findings += _pdfa(reader, pdf, catalog, xmp, compressed, title, str(info.get("/Producer", "")))
    elif result.declared == PDF_UA:
        findings += _pdfua(reader, catalog, xmp, title)
    elif result.declared != PRINT:
        findings.append(f"declares {result.declared}, which notices does not check (it checks pdf/a-2b and pdf/ua-1)")
    return result


def _active_content(catalog: DictionaryObject) -> list[str]:
    found = []
    names = _get(catalog, "/Names")
    if isinstance(names, DictionaryObject):
        if "/JavaScript" in names:
            found.append("the file carries JavaScript")
        if "/EmbeddedFiles" in names:
            found.append("the file carries embedded files")
    action = _get(catalog, "/OpenAction")
    if isinstance(action, DictionaryObject) and action.get("/S") == "/JavaScript":
        found.append("the file runs JavaScript when opened")
    if "/AA" in catalog:
        found.append("the file has additional actions (/AA)")
    return found


def _fonts(reader: PdfReader, pdf: bytes) -> list[str]:
    """Every font of every page (and of the forms they draw) embedded and subset."""
    found: list[str] = []
    seen: set[int] = set()

    def visit(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            return
        fonts = _get(resources, "/Font")
        for ref in (fonts.values() if isinstance(fonts, DictionaryObject) else ()):
            key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
            if key in seen:
                continue
            seen.add(key)
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            if str(font.get("/Subtype")) == "/Type3":
                continue  # drawn from the file's own procedures: nothing to embed
            descriptor = descriptor.get_object() if descriptor is not None else None
            if not isinstance(descriptor, DictionaryObject) or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                found.append(f"font {name} is not embedded")
            elif not re.match(r"^[A-Z]{6}\+", name):
                found.append(f"font {name} is embedded whole, not subset")
        xobjects = _get(resources, "/XObject")
        for ref in (xobjects.values() if isinstance(xobjects, DictionaryObject) else ()):
            key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
            if key in seen:
                continue
            seen.add(key)
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                visit(xobject.get("/Resources"))

    count, page_at = page_reader(reader, pdf)
    for index in range(count):
        visit(page_at(index).get("/Resources"))
        if index % _FORGET == _FORGET - 1:
            reader.resolved_objects.clear()  # the fonts seen are kept by number: what pypdf parsed need not be
    return found


_FORGET = 1024  # pages read between two clearings of pypdf's parsed objects


def _pdfa(reader: PdfReader, pdf: bytes, catalog: DictionaryObject, xmp: str, compressed: bool, title: str,
          producer: str) -> list[str]:
    found = []
    if xmp.count("pdfaid:conformance") == 0 or declared(xmp) != PDF_A:
        found.append("the XMP does not declare pdfaid:part=2 conformance=B")
    if compressed:
        found.append("the XMP metadata stream is compressed")
    if title and _xmp_title(xmp) != title:
        found.append(f"the XMP title {_xmp_title(xmp)!r} differs from the document info title {title!r}")
    if producer and _xmp_producer(xmp) != producer:
        found.append(f"the XMP producer {_xmp_producer(xmp)!r} differs from the document info producer {producer!r}")
    header = pdf[:8]
    if not header.startswith(b"%PDF-1.") or header[7:8] not in b"4567":
        found.append(f"PDF version {header!r} is not 1.4 to 1.7")
    if "/ID" not in reader.trailer:
        found.append("the trailer has no file identifier (/ID)")
    intents = catalog.get("/OutputIntents")
    intents = intents.get_object() if intents is not None else None
    pdfa = [i.get_object() for i in (intents or []) if i.get_object().get("/S") == "/GTS_PDFA1"]
    if not pdfa:
        found.append("no GTS_PDFA1 output intent: device colours have no meaning")
    else:
        profile = pdfa[0].get("/DestOutputProfile")
        profile = profile.get_object() if profile is not None else None
        if not isinstance(profile, StreamObject) or profile.get_data()[36:40] != b"acsp":
            found.append("the output intent has no embedded ICC profile")
        elif int(profile.get("/N", 0)) != 3:
            found.append(f"the output intent's ICC profile has {profile.get('/N')} components; notices draws RGB and grey")
    for index, page in enumerate(reader.pages, start=1):
        group = page.get("/Group")
        if group is not None and "/CS" not in group.get_object():
            found.append(f"page {index}: a transparency group without a colour space")
            break
    return found


def _pdfua(reader: PdfReader, catalog: DictionaryObject, xmp: str, title: str) -> list[str]:
    found = []
    marked = _get(catalog, "/MarkInfo")
    if not isinstance(marked, DictionaryObject) or not _true(marked.get("/Marked")):
        found.append("MarkInfo does not say Marked true")
    if not str(catalog.get("/Lang", "")).strip():
        found.append("the catalog has no Lang")
    preferences = _get(catalog, "/ViewerPreferences")
    if not isinstance(preferences, DictionaryObject) or not _true(preferences.get("/DisplayDocTitle")):
        found.append("ViewerPreferences does not say DisplayDocTitle true")
    xmp_title = _xmp_title(xmp)
    if not title or xmp_title != title:
        found.append(f"the document needs a title, the same in the info ({title!r}) and the XMP ({xmp_title!r})")
    root = catalog.get("/StructTreeRoot")
    root = root.get_object() if root is not None else None
    if not isinstance(root, DictionaryObject) or "/ParentTree" not in root:
        found.append("no structure tree with a parent tree")
        return found
    elements = _tree_elements(root)
    parent_tree = _numbers(_get(root, "/ParentTree"))
    mapped_orphans = 0
    for index, page in enumerate(reader.pages, start=1):
        if page.get("/Tabs") != "/S":
            found.append(f"page {index}: no /Tabs /S")
        key = page.get("/StructParents")
        mcids = parent_tree.get(int(key), []) if key is not None else []
        for problem in _page_marking(page, index, mcids, elements):
            found.append(problem)
            if len(found) > 50:
                return found
        mapped_orphans += sum(1 for e in mcids if e is not None and e not in elements)
    if mapped_orphans:
        found.append(f"{mapped_orphans} marked-content ids map to elements outside the structure tree")
    for number, element in elements.items():
        if element.get("/S") == "/Figure" and not str(element.get("/Alt", "")).strip():
            found.append(f"figure element {number} has no alternate text")
    found += _ids(root, elements)
    return found


def _ids(root: DictionaryObject, elements: dict[int, DictionaryObject]) -> list[str]:
    """Element IDs in the IDTree (PDF requires it once one exists), and every table cell's /Headers naming one."""
    named = {str(e["/ID"]) for e in elements.values() if "/ID" in e}
    if not named:
        return []
    tree = _get(root, "/IDTree")
    if tree is None:
        return ["structure elements have IDs but the structure tree has no IDTree"]
    known: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        names = _get(node, "/Names")
        known.update(str(key) for key in (names or [])[::2])
        todo.extend(kid.get_object() for kid in (_get(node, "/Kids") or []))
    found = []
    if named - known:
        found.append(f"{len(named - known)} element IDs are missing from the IDTree")
    for element in elements.values():
        attributes = _get(element, "/A")
        headers = _get(attributes, "/Headers") if isinstance(attributes, DictionaryObject) else None
        missing = [str(h) for h in (headers or []) if str(h) not in known]
        if missing:
            found.append(f"a table cell names headers that no element has: {', '.join(missing[:3])}")
            break
    return found


def _tree_elements(root: DictionaryObject) -> dict[int, DictionaryObject]:
    """Every structure element reachable from the root through /K, by object number."""
    elements: dict[int, DictionaryObject] = {}
    todo = [root.get("/K")]
    while todo:
        kid = todo.pop()
        if kid is None:
            continue
        if isinstance(kid, list):
            todo.extend(kid)
            continue
        if isinstance(kid, IndirectObject):
            if kid.idnum in elements:
                continue
            target = kid.get_object()
            if isinstance(target, DictionaryObject) and target.get("/Type", "/StructElem") == "/StructElem" and "/S" in target:
                elements[kid.idnum] = target
                todo.append(target.get("/K"))
    return elements


def _numbers(tree: Any) -> dict[int, list[int | None]]:
    """A number tree (flat /Nums or /Kids) as key -> element numbers by marked-content id."""
    out: dict[int, list[int | None]] = {}
    nums = tree.get("/Nums")
    if nums is not None:
        nums = nums.get_object()
        for key, value in zip(nums[::2], nums[1::2], strict=False):
            value = value.get_object()
            if isinstance(value, list):
                out[int(key)] = [v.idnum if isinstance(v, IndirectObject) else None for v in value]
    for kid in tree.get("/Kids", []) or []:
        out.update(_numbers(kid.get_object()))
    return out


def _page_marking(page: Any, index: int, mcids: list[int | None], elements: dict[int, DictionaryObject]) -> list[str]:
    """What on the page is drawn outside marked content, or marked with an id the parent tree does not map."""
    contents = page.get_contents()
    if contents is None:
        return []
    found: list[str] = []
    stack: list[str] = []  # per open sequence: "mcid", "artifact" or "other"
    unmarked = 0
    for operands, operator in ContentStream(contents, page.pdf).operations:
        if operator in (b"BDC", b"BMC"):
            tag = str(operands[0])
            properties = operands[1] if operator == b"BDC" and len(operands) > 1 else None
            if tag == "/Artifact":
                stack.append("artifact")
            elif isinstance(properties, DictionaryObject) and "/MCID" in properties:
                mcid = int(_get(properties, "/MCID"))
                element = mcids[mcid] if mcid < len(mcids) else None
                if element is None:
                    found.append(f"page {index}: marked-content id {mcid} is not in the parent tree")
                stack.append("mcid")
            else:
                stack.append("other")
        elif operator == b"EMC":
            if stack:
                stack.pop()
        elif operator in _PAINT and not any(kind in ("mcid", "artifact") for kind in stack):
            unmarked += 1
    if unmarked:
        found.append(f"page {index}: {unmarked} drawing operations are neither tagged content nor an artifact")
    return found
