"""Rendering is safe and repeatable: data prints literally, nothing outside templates/ and fonts/ is read,
warnings fail, the same input gives the same bytes, and only the bundled fonts are embedded."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, ROOT, csv_text, font_name, row
from hostile import RECORD, hostile_collector, render_statement
from weasyprint.urls import FatalURLFetchingError  # after notices.render, which isolates fontconfig first

from notices.batch import Options, run
from notices.collectors import load_collector
from notices.compliance import page_texts
from notices.compose import Composer
from notices.errors import FetchDenied, RenderError
from notices.model import Record
from notices.render import AllowListFetcher, Renderer
from notices.resolve import plan
from notices.resources import fonts_dir

HOSTILE = "<b>Ann</b> </span><script>x</script>"
PRINT_FILE = "print/final-notice-baltimore-city-2027-02-01.pdf"


@pytest.fixture(scope="module")
def small_roll(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three accounts: a hostile owner name, an ordinary one, and one whose list needs interest and penalty lines."""
    path = tmp_path_factory.mktemp("roll") / "roll.csv"
    path.write_text(csv_text([
        row(account_id="07-13-1573-044", owner_name=HOSTILE),
        row(account_id="07-13-1573-045", owner_name="ANN LEE & O'BRIEN \"JR\""),
        row(account_id="07-13-1573-046", owner_name="Zoë Ångström", interest="4.00", penalty="2.00"),
        row(account_id="07-13-1573-046", owner_name="Zoë Ångström", source="Water and sewer", period="2026-Q4"),
    ]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rendered(small_roll: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small roll rendered once, in this process."""
    out = tmp_path_factory.mktemp("first")
    summary = run(Options(small_roll, out, "baltimore-city", "final-notice", CITY_DATE, workers=1))
    assert summary.rendered == 3, summary
    return out


class TestDataPrintsLiterally:
    def test_markup_in_an_owner_name_prints_as_text(self, rendered: Path) -> None:
        """An owner named with HTML tags has the tags printed, character for character, not interpreted."""
        [piece] = (rendered / "pieces").glob("*-07-13-1573-044.pdf")
        text = "\n".join(page_texts(piece.read_bytes()))
        assert HOSTILE in text
        assert f"Owner on the tax roll {HOSTILE}" in " ".join(text.split())

    def test_quotes_and_ampersands_print_as_text(self, rendered: Path) -> None:
        """Ampersands, apostrophes and double quotes in data are printed, not swallowed as entities."""
        [piece] = (rendered / "pieces").glob("*-07-13-1573-045.pdf")
        assert "ANN LEE & O'BRIEN \"JR\"" in "\n".join(page_texts(piece.read_bytes()))


class TestAllowList:
    def test_unchanged_override_renders(self, tmp_path: Path) -> None:
        """The throwaway collector itself renders, so the failures below are the snippets' doing."""
        pdf = render_statement(hostile_collector(tmp_path))
        assert "ANN LEE" in page_texts(pdf)[0]

    @pytest.mark.parametrize(
        "snippet",
        [
            pytest.param('<img src="file:///etc/passwd">', id="file-url"),
            pytest.param('<link rel="stylesheet" href="http://example.com/x.css">', id="http-stylesheet"),
            pytest.param('<img src="http://example.com/x.png">', id="http-image"),
            pytest.param('<div style="background: url(https://example.com/x.png)">x</div>', id="https-background"),
            pytest.param('<img src="../../../etc/passwd">', id="relative-up-three"),
            pytest.param('<img src="../../../../../../../../etc/passwd">', id="relative-to-root"),
            pytest.param('<style>@import url("file:///etc/passwd");</style>', id="css-import"),
            pytest.param('<img src="data:image/png;base64,iVBORw0KGgo=">', id="data-url"),
        ],
    )
    def test_reference_outside_the_allow_list_fails(self, tmp_path: Path, snippet: str) -> None:
        """A template that reads a file or URL outside templates/ and fonts/ fails with FetchDenied."""
        with pytest.raises(FetchDenied):
            render_statement(hostile_collector(tmp_path, snippet))

    @pytest.mark.parametrize(
        "snippet",
        [
            pytest.param('<a rel="attachment" href="file:///etc/passwd">x</a>', id="anchor-outside"),
            pytest.param('<a rel="attachment" href="style.css">x</a>', id="anchor-inside-templates"),
            pytest.param('<link rel="attachment" href="style.css">', id="link-inside-templates"),
        ],
    )
    def test_attachment_fails_even_inside_the_allow_list(self, tmp_path: Path, snippet: str) -> None:
        """A file attachment fails the piece with FetchDenied, even when the file is in templates/."""
        with pytest.raises(FetchDenied, match="attach"):
            render_statement(hostile_collector(tmp_path, snippet))

    def test_file_beside_the_throwaway_collector_is_outside_the_allow_list(self, tmp_path: Path) -> None:
        """A collector folder outside templates/ gives its own files no access: they are refused too."""
        secret = tmp_path / "hostile" / "logo.png"
        secret.parent.mkdir(parents=True)
        secret.write_bytes(b"\x89PNG\r\n\x1a\n")
        with pytest.raises(FetchDenied, match="outside"):
            render_statement(hostile_collector(tmp_path, f'<img src="{secret.as_uri()}">'))

    def test_font_from_outside_the_allow_list_fails(self, tmp_path: Path) -> None:
        """A collector stylesheet that loads a font from its own (unlisted) folder fails with FetchDenied."""
        shutil.copy(fonts_dir() / "DejaVuSansCondensed.ttf", tmp_path / "evil.ttf")
        style = f'@font-face {{ font-family: Evil; src: url("{(tmp_path / "evil.ttf").as_uri()}"); }} p {{ font-family: Evil; }}'
        with pytest.raises(FetchDenied):
            hostile = hostile_collector(tmp_path, style=style)
            render_statement(hostile)

    def test_hostile_data_cannot_reach_the_fetcher(self, tmp_path: Path) -> None:
        """A record value that looks like an image tag is escaped, so nothing is fetched and the piece renders."""
        the_collector = load_collector("baltimore-city")
        the_plan = plan(the_collector, "final-notice", CITY_DATE)
        composer = Composer(the_collector, the_plan)
        record = Record(**{**RECORD.__dict__, "owners": ('<img src="file:///etc/passwd">',)})
        part = the_plan.parts[0]
        fragment = composer.fragment(part, record, seq=1, pay_by=CITY_DATE)
        pdf = Renderer(the_collector.folder).pdf(composer.document(part, [fragment], title="t"))
        assert '<img src="file:///etc/passwd">' in page_texts(pdf)[0]


# --------------------------------------------------------------------------------------------
# The fetcher judges a URL by the real file it leads to.


@pytest.fixture
def linked(tmp_path: Path) -> tuple[AllowListFetcher, Path, Path]:
    """A fetcher allowed a temporary templates folder and the bundled fonts; a template folder; a folder beside them."""
    folder = tmp_path / "templates" / "hostile"
    folder.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "style.css").write_text("p { color: black }", "utf-8")
    (outside / "secret.css").write_text("p { color: red }", "utf-8")
    (outside / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    shutil.copy(fonts_dir() / "DejaVuSansCondensed.ttf", outside / "evil.ttf")
    return AllowListFetcher([tmp_path / "templates", fonts_dir()]), folder, outside


def fetched(fetcher: AllowListFetcher, url: str) -> bytes:
    response = fetcher.fetch(url)
    try:
        return bytes(response.read())
    finally:
        response.close()


class TestFetcherFollowsLinks:
    def test_file_in_a_template_folder_is_served(self, linked: tuple[AllowListFetcher, Path, Path]) -> None:
        """A stylesheet inside an allowed folder is read, also as file://localhost/."""
        fetcher, folder, _ = linked
        path = folder / "style.css"
        assert fetched(fetcher, path.as_uri()) == b"p { color: black }"
        assert fetched(fetcher, "file://localhost" + str(path)) == b"p { color: black }"

    def test_link_that_stays_inside_is_served(self, linked: tuple[AllowListFetcher, Path, Path]) -> None:
        """A link in a template folder to a stylesheet beside it, or to a bundled font, is followed."""
        fetcher, folder, _ = linked
        (folder / "alias.css").symlink_to(folder / "style.css")
        (folder / "font.ttf").symlink_to(fonts_dir() / "DejaVuSansCondensed.ttf")
        assert fetched(fetcher, (folder / "alias.css").as_uri()) == b"p { color: black }"
        assert fetched(fetcher, (folder / "font.ttf").as_uri()) == (fonts_dir() / "DejaVuSansCondensed.ttf").read_bytes()

    @pytest.mark.parametrize("target", ["secret.css", "evil.ttf", "secret.png"], ids=["stylesheet", "font", "image"])
    def test_link_that_leads_out_is_refused(self, linked: tuple[AllowListFetcher, Path, Path], target: str) -> None:
        """A link in a template folder to a stylesheet, font or image outside the allowed folders is refused."""
        fetcher, folder, outside = linked
        link = folder / ("linked" + Path(target).suffix)
        link.symlink_to(outside / target)
        with pytest.raises(FatalURLFetchingError, match="refused"):
            fetcher.fetch(link.as_uri())

    @pytest.mark.parametrize(
        "url",
        [
            pytest.param("{folder}/../../outside/secret.css", id="dot-dot"),
            pytest.param("{folder}/%2e%2e/%2E%2E/outside/secret.css", id="encoded-dot-dot"),
            pytest.param("{folder}/linked-folder/secret.css", id="linked-folder"),
            pytest.param("file://host{path}/style.css", id="host-inside"),
            pytest.param("file://host{outside}/secret.css", id="host-outside"),
            pytest.param("file:style.css", id="relative"),
            pytest.param("{folder}/style.css%00.png", id="nul-byte"),
            pytest.param("{folder}/loop.css", id="link-loop"),
            pytest.param("{folder}", id="folder"),
        ],
    )
    def test_url_that_leads_out_is_refused(self, linked: tuple[AllowListFetcher, Path, Path], url: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
        """'..' (plain or percent-encoded), a linked folder, another host, a relative or malformed path is refused."""
        fetcher, folder, outside = linked
        (folder / "linked-folder").symlink_to(outside, target_is_directory=True)
        (folder / "loop.css").symlink_to(folder / "loop.css")
        monkeypatch.chdir(folder)  # so a relative path would find style.css, were it read
        with pytest.raises(FatalURLFetchingError, match="refused"):
            fetcher.fetch(url.format(folder=folder.as_uri(), path=folder, outside=outside))

    def test_font_through_a_link_that_leads_out_fails_the_render(self, linked: tuple[AllowListFetcher, Path, Path]) -> None:
        """@font-face src: url() naming a link in a template folder to a font outside fails the render."""
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        fetcher, folder, outside = linked
        (folder / "inside.ttf").symlink_to(fonts_dir() / "DejaVuSansCondensed.ttf")
        (folder / "evil.ttf").symlink_to(outside / "evil.ttf")

        def render(font: str) -> Any:
            html = (f'<style>@font-face {{ font-family: Linked; src: url("{font}"); }} p {{ font-family: Linked; }}</style>'
                    "<p>ANN LEE</p>")
            return weasyprint.HTML(string=html, base_url=folder.as_uri() + "/", url_fetcher=fetcher).render(
                font_config=FontConfiguration())

        assert render("inside.ttf").pages
        with pytest.raises(FatalURLFetchingError) as refused:
            render("evil.ttf")
        assert "refused" in str(refused.value.__cause__ or refused.value)


class TestWarningsFail:
    def test_missing_font_inside_templates_fails(self, tmp_path: Path) -> None:
        """A @font-face pointing at a font file that is not there (inside templates/) fails the piece."""
        snippet = '<style>@font-face { font-family: Gone; src: url("missing-font.ttf"); } p { font-family: Gone; }</style>'
        with pytest.raises(RenderError):
            render_statement(hostile_collector(tmp_path, snippet))

    def test_unknown_css_property_fails(self, tmp_path: Path) -> None:
        """CSS WeasyPrint ignores with a warning (a misspelt property) fails the piece rather than printing wrong."""
        with pytest.raises(RenderError, match="WeasyPrint warned"):
            render_statement(hostile_collector(tmp_path, "<style>p { colour: red }</style>"))

    def test_warning_in_a_collector_stylesheet_fails(self, tmp_path: Path) -> None:
        """A collector's style.css that WeasyPrint warns about fails when the renderer is made."""
        with pytest.raises(RenderError, match="WeasyPrint warned"):
            render_statement(hostile_collector(tmp_path, style="p { font-wieght: bold }"))


    def test_fonttools_subsetting_note_passes_and_any_other_warning_fails(self) -> None:
        """Without libharfbuzz-subset0 WeasyPrint notes it subsets with fontTools: that note alone passes."""
        import logging

        from notices.render import _no_warnings

        logger = logging.getLogger("weasyprint")
        with _no_warnings("piece"):
            logger.warning('Using fontTools instead of HarfBuzz-Subset for font "%s". This will be unsupported '
                           "in future versions of WeasyPrint.", "Notices Sans")
        with pytest.raises(RenderError, match="font-wieght"), _no_warnings("piece"):
            logger.warning('Using fontTools instead of HarfBuzz-Subset for font "%s".', "Notices Sans")
            logger.warning("Ignored `font-wieght: bold`, unknown property.")

    def test_piece_renders_with_embedded_fonts_when_harfbuzz_subset_is_missing(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """With HarfBuzz-subset taken away the statement still renders, its bundled faces subset by fontTools and embedded."""
        import weasyprint.pdf.fonts

        monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)
        pdf = render_statement(hostile_collector(tmp_path))
        assert "Using fontTools instead of HarfBuzz-Subset" in caplog.text  # the path taken was fontTools'
        assert "ANN LEE" in page_texts(pdf)[0]
        bundled = bundled_postscript_names()
        fonts = pdf_fonts(pdf)
        assert fonts and all(f["embedded"] and f["program"] in bundled for f in fonts), fonts


class TestDeterminism:
    def test_same_input_gives_identical_bytes_in_another_process(self, small_roll: Path, rendered: Path,
                                                                 tmp_path: Path) -> None:
        """A second run in a fresh process (another hash seed, one piece per layout) writes identical bytes."""
        out = tmp_path / "second"
        code = (
            "import datetime as dt, sys; from pathlib import Path; import notices.batch; from notices.batch import Options, run; "
            "notices.batch.refuse_placeholders = lambda *a, **k: None; "  # as conftest does in this process
            "s = run(Options(Path(sys.argv[1]), Path(sys.argv[2]), 'baltimore-city', 'final-notice', "
            "dt.date(2027, 2, 1), workers=1, chunk=1)); sys.exit(0 if s.rendered == 3 else 1)"
        )
        env = {**os.environ, "PYTHONHASHSEED": "12345"}
        subprocess.run([sys.executable, "-c", code, str(small_roll), str(out)], check=True, env=env, cwd=ROOT)
        first = sorted(p.name for p in (rendered / "pieces").glob("*.pdf"))
        assert first == sorted(p.name for p in (out / "pieces").glob("*.pdf"))
        assert len(first) == 3
        for name in first:
            assert (rendered / "pieces" / name).read_bytes() == (out / "pieces" / name).read_bytes(), name
        assert (rendered / PRINT_FILE).read_bytes() == (out / PRINT_FILE).read_bytes()

    def test_manifest_hashes_match_the_files(self, rendered: Path) -> None:
        """The SHA-256 in the manifest is the hash of the piece file as written."""
        import csv
        import hashlib

        with open(rendered / "manifest.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for r in rows:
            assert hashlib.sha256((rendered / "pieces" / r["piece_file"]).read_bytes()).hexdigest() == r["sha256"]


# --------------------------------------------------------------------------------------------
# Fonts: what pdffonts would list, checked with pypdf.


def bundled_postscript_names() -> set[str]:
    from fontTools.ttLib import TTFont

    names = set()
    for path in fonts_dir().glob("*.ttf"):
        with TTFont(str(path), lazy=True) as font:
            names.add(font["name"].getDebugName(6))
    return names


def pdf_fonts(pdf: bytes) -> list[dict[str, Any]]:
    """Every font used by every page (and the forms it draws), with its type, whether it is embedded, and its program."""
    from fontTools.ttLib import TTFont
    from pypdf import PdfReader

    found: dict[str, dict[str, Any]] = {}

    def walk(resources: Any) -> None:
        resources = resources.get_object() if resources is not None else {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            name = str(font.get("/BaseFont"))
            if name in found:
                continue
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            stream = next((descriptor[k] for k in ("/FontFile", "/FontFile2", "/FontFile3") if k in descriptor), None)
            program = None
            if stream is not None and "/FontFile2" in descriptor:
                program = TTFont(io.BytesIO(stream.get_object().get_data()))["name"].getDebugName(6)
            found[name] = {"name": name, "subtype": str(font.get("/Subtype")), "embedded": stream is not None,
                           "program": program}
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                walk(xobject["/Resources"])

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"))
    return list(found.values())


class TestFonts:
    def test_every_piece_embeds_only_the_bundled_faces(self, rendered: Path) -> None:
        """Each piece's fonts are embedded TrueType programs of the bundled faces, named 'Notices Sans'."""
        bundled = bundled_postscript_names()
        for piece in sorted((rendered / "pieces").glob("*.pdf")):
            fonts = pdf_fonts(piece.read_bytes())
            assert fonts, piece.name
            for font in fonts:
                assert font["embedded"], (piece.name, font)
                assert font["subtype"] != "/Type3", (piece.name, font)
                assert font_name(font["name"]).startswith("Notices-Sans"), (piece.name, font)
                assert font["program"] in bundled, (piece.name, font)

    def test_print_file_embeds_only_the_bundled_faces(self, rendered: Path) -> None:
        """The combined print file carries the same embedded faces and no other."""
        bundled = bundled_postscript_names()
        fonts = pdf_fonts((rendered / PRINT_FILE).read_bytes())
        assert fonts
        assert all(f["embedded"] and f["program"] in bundled for f in fonts), fonts

    def test_bold_and_regular_are_both_used(self, rendered: Path) -> None:
        """The statement uses the regular and bold faces (a fallback would collapse them into one)."""
        [piece] = (rendered / "pieces").glob("*-07-13-1573-045.pdf")
        programs = {f["program"] for f in pdf_fonts(piece.read_bytes())}
        assert {"DejaVuSansCondensed", "DejaVuSansCondensed-Bold"} <= programs
