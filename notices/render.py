"""Turn HTML into PDF bytes with WeasyPrint: bundled fonts only, no network, no file outside the allow-list.

This module, ``fields`` (which reuses a laid-out piece for the next pieces of its skeleton) and ``drawn``
(which draws a kept layout once) are the only ones that import WeasyPrint; the main process of a run
with workers imports none of them. A ``Renderer`` points fontconfig at the bundled ``fonts/`` folder
(``isolate_fonts``) before it makes its font configuration, so no system font can slip into a notice,
and any warning WeasyPrint logs while it works (a missing font, a refused URL, bad CSS) fails the piece.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import logging
import multiprocessing.util
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pydyf
import weasyprint
import weasyprint.pdf.fonts
from weasyprint.text import ffi
from weasyprint.text.fonts import FontConfiguration, get_hb_object_data
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from . import cmaps, scratch, standards
from .errors import FetchDenied, RenderError
from .pdfwriter import Fragment, reachable
from .resources import fonts_dir, templates_dir

WEASYPRINT_VERSION = weasyprint.__version__
_NO_ID = b"0" * 32  # the identifier of the write whose hash becomes a file's identifier
_ID_MARK = b"/ID [("  # how pydyf writes a file identifier of letters and digits, in the trailer or the xref stream
# The libraries whose versions shape a PDF's bytes: layout and shaping (WeasyPrint, Pango, HarfBuzz,
# fontTools for subsetting), PDF objects (pydyf, pypdf, zlib) and the text the check reads (pypdfium2).
_SHAPERS = ("weasyprint", "pydyf", "pypdf", "pypdfium2", "fonttools", "jinja2", "babel")


# The C types WeasyPrint 70 (text/fonts.py, text/line_break.py, pdf/fonts.py) and this package (fields.py,
# drawn.py) name as strings while laying out and writing a piece: cffi parses each with pycparser on its
# first use, 2 to 3 ms apiece.
C_TYPES = ("PangoFcFontMap *", "FcChar8 **", "char[]", "char[4]", "PangoRectangle *", "PangoLogAttr[]",
           "unsigned int *", "int32_t *", "hb_tag_t[100]", "hb_codepoint_t[11]")


def parse_c_types() -> None:
    """Have cffi parse ``C_TYPES`` now, as their first use would; a name a later WeasyPrint no longer declares is left to it."""
    for name in C_TYPES:
        try:
            ffi.ffi.typeof(name)
        except Exception:  # noqa: BLE001, S112 - cffi's parse errors share no class of their own
            continue


@functools.cache
def _version(name: str) -> str:
    """An installed distribution's version, or "absent": asked at every Job (``fields.proven_toolchain``), and
    importlib.metadata searches the installed distributions each time (2.4 ms a toolchain)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def toolchain() -> dict[str, str]:
    """The version of every library that shapes the bytes, for the run's fingerprint (a resume after an upgrade is refused)."""
    versions = {name: _version(name) for name in _SHAPERS}
    versions["pango"] = str(ffi.pango.pango_version())
    versions["harfbuzz-subset"] = "present" if ffi.harfbuzz_subset is not None else "absent"
    # Every content stream is deflated (by WeasyPrint, and by this package: the fields, the barcode): another zlib
    # may compress the same operators into other bytes.
    versions["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    return versions


def isolate_fonts() -> None:
    """Point fontconfig at the bundled fonts only, for every font configuration made after this call.

    Fontconfig reads ``FONTCONFIG_FILE`` each time WeasyPrint makes a ``FontConfiguration``; the file
    is written once per user, and again only when the fonts folder moves.
    """
    cache = Path(tempfile.gettempdir()) / f"notices-fontconfig-{os.getuid() if hasattr(os, 'getuid') else 0}"
    cache.mkdir(parents=True, exist_ok=True)
    conf = cache / "fonts.conf"
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f"  <dir>{fonts_dir()}</dir>\n  <cachedir>{cache}</cachedir>\n</fontconfig>\n"
    )
    if not conf.exists() or conf.read_text() != text:
        tmp = conf.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(conf)
    os.environ["FONTCONFIG_FILE"] = str(conf)
    # Without HarfBuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps each subset with
    # the time unless SOURCE_DATE_EPOCH is set: a fixed stamp keeps the same input giving the same bytes.
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")


def fonts_folder(font_config: FontConfiguration) -> Path | None:
    """Give a font configuration the folder WeasyPrint copies the stylesheet's fonts into, one that goes with it.

    WeasyPrint makes that folder at the first ``@font-face`` (2.5 MB of bundled fonts) and removes it
    when the configuration is collected, which never happens in a process that ends without tearing
    down its objects: every ``notices`` process (``cli.shared.end``, multiprocessing's workers) left its
    folder in the temporary folder, three a run and one more at each worker recycled. This one is
    removed at the process's exit handlers (multiprocessing's, which its children run too), or when
    the configuration is collected; a process killed outright (a worker at its bound, the preview's
    render process at its time limit or when the preview stops) leaves it for ``scratch.sweep_abandoned``,
    which runs here too, so any later process that lays out pages removes it.
    None: a WeasyPrint that keeps no such folder, or has made it already.
    """
    if getattr(font_config, "_folder", False) is not None:
        return None
    scratch.sweep_abandoned()
    folder, held = scratch.held_folder("fonts")
    font_config._folder = folder
    multiprocessing.util.Finalize(font_config, scratch.remove, args=(folder, held), exitpriority=0)
    return folder


# The WeasyPrint whose font subsetting ``keep_subsets`` wraps: ``Font._harfbuzz_subset(to_unicode, hinting)``
# reads the face, the glyph ids kept, ``missing`` and ``hinting``, and sets ``file_content`` when it succeeds.
SUBSETS_PROVEN = "70.0"
_SUBSETS_KEPT = 256  # a run draws a few dozen (face, glyphs) pairs; more only on a run of very varied shapes
SubsetKey = tuple[bytes, int, tuple[int, ...], bool, bool]
_subsets: dict[SubsetKey, bytes] = {}
_faces: dict[bytes, bytes] = {}  # one copy of each face's bytes, which every key of that face holds


def subset_key(font: Any, to_unicode: Any, hinting: Any) -> SubsetKey:
    """Everything HarfBuzz's subsetting of ``font`` reads: the face's bytes (read from the face, not
    ``file_content``, which a second write of one document finds already subset), its index in the
    file, the glyph ids kept, whether a missing glyph asks for the .notdef outline, and hinting."""
    face = get_hb_object_data(font.hb_face)
    face = _faces.setdefault(face, face)
    return face, font.index, tuple(sorted(to_unicode)), bool(font.missing), bool(hinting)


def keep_subsets() -> bool:
    """Make WeasyPrint subset each (face, glyphs) once per process; whether it is on (a proven WeasyPrint).

    Every drawing of a page subsets its fonts again (a shape's one drawing, a piece drawn in full, each
    insert, a document written twice for its /ID), and most drawings of a run keep the same glyphs of the
    same faces: the statute's words and the fields' characters. HarfBuzz gives the same bytes for the
    same inputs, so a kept subset is the bytes a fresh one would be; a failed subset (WeasyPrint warns)
    is never kept. Idempotent.
    """
    global _fresh_subset  # WeasyPrint's own, set once, called by the kept one
    font_class: Any = weasyprint.pdf.fonts.Font
    if WEASYPRINT_VERSION != SUBSETS_PROVEN:
        return False
    _fresh_subset = _install(font_class, "_harfbuzz_subset", _kept_subset, _fresh_subset)
    return True


def _install(owner: Any, name: str, replacement: Any, replaced: Any) -> Any:
    """Put ``replacement`` at ``owner.name`` unless it is there already; returns what it calls on to: the value it
    replaces now, or ``replaced`` (the one it replaced before) when it was there. So installing twice wraps once."""
    current = getattr(owner, name)
    if current is replacement:
        return replaced
    setattr(owner, name, replacement)
    return current


_fresh_subset: Any = None


def _kept_subset(font: Any, to_unicode: Any, hinting: Any) -> None:
    key = subset_key(font, to_unicode, hinting)
    kept = _subsets.get(key)
    if kept is not None:
        font.file_content = kept
        return
    before = font.file_content
    _fresh_subset(font, to_unicode, hinting)
    if font.file_content is before:
        return  # HarfBuzz failed and WeasyPrint warned: the next drawing must warn too
    if len(_subsets) >= _SUBSETS_KEPT or len(_faces) > _SUBSETS_KEPT:
        # Each key holds its face's bytes, not a number standing for them: dropping all is safe at any time.
        _subsets.clear()
        _faces.clear()
    _subsets[key] = font.file_content


# The tinyhtml5 whose pattern cache ``keep_patterns`` repairs. Its ``chars_until`` (the tokenizer's
# way of reading a run of text up to one of some characters) looks its pattern up under (characters,
# opposite) but stores it under (pattern, opposite), so it never finds one: it builds the pattern's
# source again for every run of text it reads, some 40 % of parsing a statement's HTML.
PATTERNS_PROVEN = "2.1.0"
_PATTERNS_KEPT = 64  # the tokenizer asks for about a dozen sets of characters, all constants


class _Patterns(dict[tuple[Any, bool], "re.Pattern[str]"]):
    """tinyhtml5's pattern cache, filled under the key it is read with: the pattern ``chars_until`` itself builds."""

    def __missing__(self, key: tuple[Any, bool]) -> re.Pattern[str]:
        characters, opposite = key
        source = "".join([f"\\x{ord(character):02x}" for character in characters])
        if not opposite:
            source = f"^{source}"
        pattern = re.compile(f"[{source}]+")
        if len(self) >= _PATTERNS_KEPT:
            self.clear()
        self[key] = pattern
        return pattern


def keep_patterns() -> bool:
    """Make tinyhtml5 build each of its tokenizer's patterns once per process; whether it is on (a proven tinyhtml5).

    The pattern is the one tinyhtml5 would build for the same characters, so the tree it parses is
    the same; only the lookup finds it (``tests/test_render_parse.py``). Idempotent.
    """
    if _version("tinyhtml5") != PATTERNS_PROVEN:
        return False
    stream: Any = importlib.import_module("tinyhtml5.inputstream")  # WeasyPrint's HTML parser; it ships no types
    if not isinstance(stream.characters_until_regex, _Patterns):
        stream.characters_until_regex = _Patterns()
    return True


# A glyph string as WeasyPrint's ``draw_first_line`` hands it to ``show_text``: hex glyph runs and the
# numbers between them, nothing else (a string of any other form is shown as given).
_GLYPH_ARRAY = re.compile(r"[<>0-9a-fA-F.\- ]*")


def join_glyphs() -> None:
    """Make every drawing show a line's glyphs as one string where WeasyPrint writes a zero shift between each.

    WeasyPrint ends a glyph's string and starts the next with a shift of ``0`` (its kerning, truncated)
    between most glyphs: ``[<0025>0<0044>0<0051>] TJ``. A zero shift moves nothing, so
    ``[<002500440051>] TJ`` puts every glyph at the same place and reads as the same text; a reader
    (PDFium in the check, the printer's RIP) parses one string instead of one per glyph, about a quarter
    less work for the check's reading of each page. Every drawing goes through the same method (a
    shape's full drawing, a piece's fields, the inserts), so the bytes stay the same whichever path drew
    a page. Idempotent.
    """
    global _plain_show_text
    _plain_show_text = _install(pydyf.Stream, "show_text", _joined_show_text, _plain_show_text)


_plain_show_text: Any = None


def _joined_show_text(stream: Any, text: str) -> None:
    if _GLYPH_ARRAY.fullmatch(text):
        text = text.replace(">0<", "")
        if text.endswith(">0"):
            text = text[:-1]
    _plain_show_text(stream, text)


# The WeasyPrint whose glyph widths ``exact_widths`` fixes: ``draw_first_line`` asks ``glyph in font.widths``
# and, the first time, writes there the glyph's width rounded from Pango's at the size it draws it at.
WIDTHS_PROVEN = "70.0"
_ADVANCES_KEPT = 64  # faces: the bundled four, a workspace's own
_advances: dict[bytes, tuple[int, tuple[int, ...]] | None] = {}  # a face's digest -> (units per em, advances)


class _ExactWidths(dict[int, Any]):  # WeasyPrint's Font.widths: glyph id -> thousandths of an em
    """A font's glyph widths, each the face's own advance in thousandths of an em, written when first asked for.

    WeasyPrint rounds a glyph's width from Pango's at the size it first draws it at: the bold face's
    "M" is 896 at one size and 895 at another. A page's width for a glyph, and the places of the
    glyphs after it, then hung on which text drew it first, so a piece written into a kept layout
    (whose fonts learned their glyphs from the shape's first drawing) put some words 0.01 pt from where
    its own full layout put them. From the face, a width is the same whatever drew it first. Glyph 0
    (.notdef, drawn for a missing character, which WeasyPrint warns of) keeps WeasyPrint's own rule.
    """

    def __init__(self, upem: int, advances: tuple[int, ...]) -> None:
        super().__init__()
        self.upem, self.advances = upem, advances

    def __contains__(self, glyph: object) -> bool:
        if isinstance(glyph, int) and 0 < glyph < len(self.advances) and not dict.__contains__(self, glyph):
            self[glyph] = round(self.advances[glyph] * 1000 / self.upem)
        return dict.__contains__(self, glyph)


def face_advances(face: bytes) -> tuple[int, tuple[int, ...]] | None:
    """A TrueType or OpenType face's units per em and each glyph's advance (``head``, ``hhea``, ``hmtx``); None for any
    other file (a collection, a variable face, a table cut short): WeasyPrint's own widths then stand."""
    key = hashlib.sha256(face).digest()
    if key in _advances:
        return _advances[key]
    found = None
    with contextlib.suppress(struct.error, KeyError, IndexError):
        if face[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            count = struct.unpack_from(">H", face, 4)[0]
            tables = {face[12 + 16 * i:16 + 16 * i]: struct.unpack_from(">II", face, 20 + 16 * i) for i in range(count)}
            if b"fvar" not in tables:
                upem = struct.unpack_from(">H", face, tables[b"head"][0] + 18)[0]
                metrics = struct.unpack_from(">H", face, tables[b"hhea"][0] + 34)[0]
                glyphs = struct.unpack_from(">H", face, tables[b"maxp"][0] + 4)[0]
                hmtx, length = tables[b"hmtx"]
                if upem and 0 < metrics <= glyphs and length >= 4 * metrics:
                    advances = struct.unpack_from(f">{2 * metrics}H", face, hmtx)[0::2]  # (advance, left side bearing) pairs
                    # Glyphs past the last full metric share its advance (the OpenType hmtx table).
                    found = (upem, advances + (advances[-1],) * (glyphs - metrics))
    if len(_advances) >= _ADVANCES_KEPT:
        _advances.clear()
    _advances[key] = found
    return found


def exact_widths() -> bool:
    """Make every WeasyPrint font take its glyphs' widths from its face; whether it is on (a proven WeasyPrint).

    Every drawing goes through it (a shape's drawing, a piece drawn in full, the inserts), so a glyph
    has one width in every file of a run, and a piece's words stand where its own full layout puts them
    whichever path drew it. Idempotent.
    """
    global _plain_font_init, _plain_vector_font
    font_class: Any = weasyprint.pdf.fonts.Font
    if WEASYPRINT_VERSION != WIDTHS_PROVEN:
        return False
    _plain_font_init = _install(font_class, "__init__", _exact_font_init, _plain_font_init)
    # A font's dictionary is written from a plain dict: its writing asks "i - 1 in widths" of glyphs no page
    # drew, which must not add them (``build_fonts_dictionary`` looks the function up in its module when it runs).
    _plain_vector_font = _install(weasyprint.pdf.fonts, "_build_vector_font_dictionary", _vector_font_written,
                                  _plain_vector_font)
    return True


_plain_font_init: Any = None
_plain_vector_font: Any = None


def _exact_font_init(font: Any, *args: Any, **kwargs: Any) -> None:
    _plain_font_init(font, *args, **kwargs)
    found = face_advances(font.file_content) if font.index == 0 and not font.variations and not font.bitmap else None
    if found is not None and not font.widths:
        font.widths = _ExactWidths(*found)


def _vector_font_written(font_dictionary: Any, pdf: Any, font: Any, widths: Any, *args: Any, **kwargs: Any) -> Any:
    # Its ToUnicode map, just written, in ranges (cmaps.py): the same map, which every reader of the file parses faster.
    to_unicode = pdf.objects[int(font_dictionary["ToUnicode"].split()[0])]
    lines = cmaps.ranged(to_unicode.stream)
    if lines is not None:
        to_unicode.stream = lines
    return _plain_vector_font(font_dictionary, pdf, font, dict(widths), *args, **kwargs)


class _Denied(FatalURLFetchingError):
    """Raised inside WeasyPrint so a forbidden fetch stops the render at once."""


class AllowListFetcher(URLFetcher):
    """Serve ``file:`` URLs inside the template and font folders; refuse everything else."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols=("file",), fail_on_errors=True)
        self.roots = tuple(Path(r).resolve() for r in roots)

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise _Denied(f"refused to fetch {url!r}: only the template and font folders may be read")
        asked = unquote(parts.path)
        try:
            # The real path, links followed and '..' folded: a link in a template folder to a file
            # elsewhere is judged by where it leads. A relative path would be read from the working folder.
            path = Path(asked).resolve()
            inside = os.path.isabs(asked) and any(path.is_relative_to(root) for root in self.roots) and path.is_file()
        except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte, a name too long
            inside = False
        if not inside:
            raise _Denied(f"refused to read {url!r}: outside the template and font folders, or missing")
        return super().fetch(path.as_uri(), headers)


# The one warning a piece may pass with: without libharfbuzz-subset0 (a fresh Debian machine),
# WeasyPrint subsets and embeds the fonts with fontTools instead and says so for every font of every
# piece. The glyphs, text and page facts are the same; only the font programs' bytes differ. Matched
# as the message's fixed start, so any other warning, about fonts or not, still fails the piece.
_FONTTOOLS_SUBSET = "Using fontTools instead of HarfBuzz-Subset for font "


def _tolerated(message: str) -> bool:
    """Whether a WeasyPrint warning leaves the PDF as correct as it would be without it."""
    return message.startswith(_FONTTOOLS_SUBSET)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not _tolerated(message):
            self.messages.append(message)


@contextmanager
def _no_warnings(what: str) -> Iterator[None]:
    """Fail on anything WeasyPrint logs at WARNING or above while the block runs, but the fontTools subsetting note."""
    logger = logging.getLogger("weasyprint")
    capture = _Capture()
    logger.addHandler(capture)
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    except _Denied as exc:
        raise FetchDenied(str(exc), field=what) from None
    except FatalURLFetchingError as exc:
        cause = exc.__cause__ or exc
        raise FetchDenied(str(cause), field=what) from None
    finally:
        logger.removeHandler(capture)
        logger.setLevel(previous)
    if capture.messages:
        raise RenderError("WeasyPrint warned: " + " | ".join(capture.messages[:3]), field=what)


class Renderer:
    """A WeasyPrint set-up reused for every piece of a run: fonts, stylesheets and fetcher parsed once."""

    def __init__(self, collector_folders: Path | Sequence[Path] | None = None, workspace: Path | None = None,
                 variant: str = standards.PRINT) -> None:
        """``collector_folders``: the collector's template search path, most specific first (a workspace
        folder, the shipped folder; templates/base may end it), where its stylesheet is found.
        ``workspace``: the collector's folder in a workspace. The files a document may read are those
        under the workspace folder, the shipped templates and the fonts: nothing else (a folder made
        up elsewhere, say by a test, gives its own files no access). ``variant``: the PDF standard the
        pages are written for (``standards``): PDF/UA pages carry their tags."""
        self.variant = standards.check_variant(variant)
        base = templates_dir() / "base"
        folders = [collector_folders] if isinstance(collector_folders, Path) else list(collector_folders or ())
        self.roots = [*([workspace] if workspace is not None else []), templates_dir(), fonts_dir()]
        self.fetcher = AllowListFetcher(self.roots)
        isolate_fonts()
        keep_subsets()
        keep_patterns()
        join_glyphs()
        exact_widths()
        self.font_config = FontConfiguration()
        fonts_folder(self.font_config)
        sheets = [base / "style.css"]
        # The most specific collector stylesheet is laid over base: a workspace's replaces the shipped one.
        own = next((f / "style.css" for f in folders if f.resolve() != base.resolve() and (f / "style.css").is_file()), None)
        if own is not None:
            sheets.append(own)
        with _no_warnings("stylesheet"):
            self.stylesheets = [
                weasyprint.CSS(filename=str(s), url_fetcher=self.fetcher, font_config=self.font_config) for s in sheets
            ]
        self.base_url = base.as_uri() + "/"

    def layout(self, html: str, what: str = "piece") -> Any:
        """Lay out one HTML document; returns a WeasyPrint Document."""
        with _no_warnings(what):
            document = weasyprint.HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                stylesheets=self.stylesheets, font_config=self.font_config
            )
        _refuse_attachments(document, what)
        return document

    def write(self, document: Any, pages: Sequence[Any] | None = None, what: str = "piece", identifier: bytes | None = None) -> bytes:
        """Write some (or all) pages of a laid-out document as a deterministic PDF.

        ``identifier`` (32 bytes) is the PDF's /ID when the caller already has a content hash
        (the batch hashes the piece's HTML and the run's fingerprint): one write instead of two.
        """
        doc = document if pages is None else document.copy(list(pages))
        with _no_warnings(what):
            if identifier is None:
                first: bytes = doc.write_pdf(pdf_identifier=_NO_ID, custom_metadata=True, **self._standard)
                # The identifier is the hash of the content, so the same piece always has the same bytes.
                identifier = hashlib.sha256(first).hexdigest()[:32].encode()
                # pydyf writes the identifier once, as a literal string of the same length at the file's
                # end (after every offset): swapping it in gives the bytes of a second write
                # (tests/test_render_write.py), without writing the document again.
                if first.count(_ID_MARK + _NO_ID) == 1 and identifier.isalnum():
                    return first.replace(_ID_MARK + _NO_ID, _ID_MARK + identifier)
            pdf: bytes = doc.write_pdf(pdf_identifier=identifier, custom_metadata=True, **self._standard)
            return pdf

    def fragment(self, document: Any, pages: Sequence[Any], what: str = "piece") -> Fragment:
        """Some pages of a laid-out document as PDF objects for ``PdfStreamWriter.add_fragment``.

        The same objects ``write`` would put in a file, taken before WeasyPrint serializes the whole
        file (object streams, cross-references) only for the piece writer to parse it back.
        """
        return objects_of(self.objects(document, pages, what))

    def objects(self, document: Any, pages: Sequence[Any], what: str = "piece") -> Any:
        """Some pages of a laid-out document as WeasyPrint's PDF (a pydyf PDF), before it is serialized."""
        captured: list[Any] = []

        def take(_document: Any, pdf: Any) -> None:
            captured.append(pdf)
            raise _Taken

        with _no_warnings(what), contextlib.suppress(_Taken):
            document.copy(list(pages)).write_pdf(finisher=take, **self._standard)
        return captured[0]

    @property
    def _standard(self) -> dict[str, str]:
        return standards.weasyprint_options(self.variant)

    def pdf(self, html: str, what: str = "piece") -> bytes:
        return self.write(self.layout(html, what), what=what)


class _Taken(Exception):
    """Stops ``write_pdf`` once its PDF objects exist: the piece writer writes them itself."""


_PAGE_ONLY = ("Annots", "B", "StructParents", "Metadata", "PieceInfo")  # what a copied page leaves behind


def objects_of(pdf: Any) -> Fragment:
    """The page objects of a pydyf PDF and every object they reach, serialized."""
    pages = list(pdf.pages["Kids"][::3])
    for number in pages:
        for key in _PAGE_ONLY:
            pdf.objects[number].pop(key, None)
    fragment = reachable(pages, lambda number: pdf.objects[number].data, pdf.pages.number)
    if "StructTreeRoot" in pdf.catalog:  # a tagged variant: the pages' tags travel with them
        root = int(bytes(pdf.catalog["StructTreeRoot"]).split()[0])
        fragment.structure = standards.structure_of(lambda number: pdf.objects[number].data, root, pages)
    return fragment


def _refuse_attachments(document: Any, what: str) -> None:
    """Fail on a file attachment (<link> or <a rel="attachment">): even an allowed file must not ride inside a notice."""
    urls = [getattr(a.source, "url", None) or "<link rel=attachment>" for a in document.metadata.attachments or ()]
    urls += [link[1] for page in document.pages for link in page.links if link[0] == "attachment"]
    if urls:
        raise FetchDenied(f"refused to attach {urls[0]!r}: a notice carries no file attachments", field=what)
