"""The PDF variants: print (default), PDF/A-2b and PDF/UA-1, for piece files and the print file of both mailings.

What is held here: every output passes ``qpdf --check``; every font is embedded and subset; each file
declares its variant and passes our structural checks (``notices.conformance``); what our code draws
(the barcode, the padding words) is an artifact in PDF/UA; the checks find what a file lacks; the
variant is wired through the command line, the manifest and the resume fingerprint.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CITY_CSV, CITY_DATE
from pypdf import PdfReader, PdfWriter
from typer.testing import CliRunner

from notices.batch import run
from notices.cli import app
from notices.conformance import check
from notices.errors import ResumeMismatch
from notices.job import make_job
from notices.options import Options
from notices.pdfwriter import PdfStreamWriter, read_fragment
from notices.standards import PDF_A, PDF_UA, PRINT, VARIANTS, full_layout

ROOT = Path(__file__).resolve().parent.parent
SALES = ROOT / "samples/baltimore-city-sale-results.csv"
SALE_NOTICE_DATE = CITY_DATE.replace(year=2027, month=7, day=1)
MAILINGS = {"final-notice": (CITY_CSV, CITY_DATE, 12), "post-sale-notice": (SALES, SALE_NOTICE_DATE, 4)}
runner = CliRunner()


def _head(source: Path, lines: int, target: Path) -> Path:
    target.write_text("\n".join(source.read_text(encoding="utf-8").splitlines()[:lines]) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """A few pieces of each mailing in each variant: the output folder by (mailing, variant)."""
    made = {}
    for mailing, (source, day, lines) in MAILINGS.items():
        folder = tmp_path_factory.mktemp(mailing)
        roll = _head(source, lines, folder / "roll.csv")
        for variant in VARIANTS:
            out = folder / variant.replace("/", "-")
            summary = run(Options(roll, out, "baltimore-city", mailing, day, workers=1, pdf_variant=variant))
            assert summary.rendered >= 2 and summary.print_file, (mailing, variant, summary)
            made[mailing, variant] = out
    return made


def _files(out: Path) -> list[Path]:
    return sorted((out / "pieces").glob("*.pdf")) + sorted((out / "print").glob("*.pdf"))


def test_every_output_of_every_variant_passes_qpdf_check(outputs: dict[tuple[str, str], Path]) -> None:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        if os.environ.get("CI"):
            pytest.fail("qpdf is not installed: .ci/run installs it")
        pytest.skip("qpdf is not installed (apt-get install qpdf)")
    for out in outputs.values():
        for path in _files(out):
            done = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, check=False)
            # 0: no errors or warnings; 3: warnings only, which we do not accept either.
            assert done.returncode == 0, f"{path}: {done.stdout}{done.stderr}"
            assert "No syntax or stream encoding errors found" in done.stdout


def test_every_font_of_every_output_is_embedded_and_subset(outputs: dict[tuple[str, str], Path]) -> None:
    for out in outputs.values():
        for path in _files(out):
            reader = PdfReader(path)
            fonts = 0
            for page in reader.pages:
                for ref in page["/Resources"].get_object().get("/Font", {}).values():
                    font = ref.get_object()
                    target = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
                    descriptor = target["/FontDescriptor"].get_object()
                    assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, (path, font["/BaseFont"])
                    assert re.match(r"^/[A-Z]{6}\+", str(font["/BaseFont"])), (path, font["/BaseFont"])
                    fonts += 1
            assert fonts, path


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_output_declares_its_variant_and_passes_our_checks(outputs: dict[tuple[str, str], Path], variant: str) -> None:
    for mailing in MAILINGS:
        for path in _files(outputs[mailing, variant]):
            result = check(path.read_bytes(), str(path))
            assert result.declared == variant, path
            assert result.ok, (path, result.findings)


def test_pdfa_declares_part_2_b_with_an_srgb_output_intent_and_one_title(outputs: dict[tuple[str, str], Path]) -> None:
    path = _files(outputs["final-notice", PDF_A])[-1]
    reader = PdfReader(path)
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="B"' in xmp
    intent = catalog["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and intent["/DestOutputProfile"].get_object().get_data()[36:40] == b"acsp"
    assert f'<rdf:li xml:lang="x-default">{reader.metadata.title}</rdf:li>' in xmp
    assert "/Encrypt" not in reader.trailer and "/ID" in reader.trailer


def test_pdfua_reads_each_document_of_each_piece_in_mailing_order(outputs: dict[tuple[str, str], Path]) -> None:
    out = outputs["final-notice", PDF_UA]
    manifest = json.loads((out / "manifest.json").read_text())
    pieces = sum(1 for row in manifest["pieces"] if row["status"] == "rendered")
    reader = PdfReader(_files(out)[-1])
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] and catalog["/Lang"] == "en"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"]
    document = catalog["/StructTreeRoot"]["/K"][0].get_object()
    parts = [kid.get_object() for kid in document["/K"]]
    # A statement and the insert for every piece, each a Part holding the elements WeasyPrint tagged.
    assert len(parts) == 2 * pieces and all(part["/S"] == "/Part" and part["/K"] for part in parts)
    assert all(page["/Tabs"] == "/S" for page in reader.pages)


def test_pdfua_barcode_and_padding_words_are_artifacts(outputs: dict[tuple[str, str], Path]) -> None:
    piece = _files(outputs["final-notice", PDF_UA])[0]
    reader = PdfReader(piece)
    first = reader.pages[0].get_contents().get_data()
    bars = first[first.rindex(b"/Artifact BMC"):]
    assert bars.count(b" re") >= 65 and bars.rstrip().endswith(b"EMC")  # the 65 bars of the IMb, then the end
    blank = [page for page in reader.pages if not page.get("/Resources")]
    assert blank, "the sample's one-page statement is padded before its insert"
    assert blank[0].get_contents().get_data().startswith(b"/Artifact BMC")
    # The print variant's bytes for them are as they were: no marked content at all.
    plain = PdfReader(_files(outputs["final-notice", PRINT])[0])
    assert b"BMC" not in plain.pages[0].get_contents().get_data()


def _drawn_otherwise(pdf: bytes, old: bytes, new: bytes) -> bytes:
    """The file with ``old`` drawing operators replaced by ``new`` in its pages' content streams (compressed or not)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    changed = 0
    for page in writer.pages:
        contents = page["/Contents"]
        for ref in contents if isinstance(contents, list) else [contents]:
            stream = ref.get_object()
            data = stream.get_data()
            if old in data:
                stream.set_data(data.replace(old, new))
                changed += 1
    assert changed, "nothing to change"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_checks_find_what_a_declared_variant_lacks(outputs: dict[tuple[str, str], Path]) -> None:
    archive = _files(outputs["final-notice", PDF_A])[0].read_bytes()
    no_intent = archive.replace(b"/S /GTS_PDFA1", b"/S /GTS_PDFX1")
    assert any("GTS_PDFA1" in f for f in check(no_intent).findings)
    title = PdfReader(io.BytesIO(archive)).metadata.title.encode()
    other_title = archive.replace(b'"x-default">' + title, b'"x-default">' + title[::-1])
    assert any("XMP title" in f for f in check(other_title).findings)
    accessible = _files(outputs["final-notice", PDF_UA])[0].read_bytes()
    untagged_padding = _drawn_otherwise(accessible, b"/Artifact BMC", b"/Artifacx BMC")
    assert any("neither tagged content nor an artifact" in f for f in check(untagged_padding).findings)
    unmarked = accessible.replace(b"/Marked true", b"/Marked null")
    assert "MarkInfo does not say Marked true" in check(unmarked).findings
    no_id_tree = _files(outputs["final-notice", PDF_UA])[-1].read_bytes().replace(b"/IDTree", b"/IDTrex")
    assert "structure elements have IDs but the structure tree has no IDTree" in check(no_id_tree).findings


def test_table_header_ids_stay_unique_and_resolved_across_the_print_file(outputs: dict[tuple[str, str], Path]) -> None:
    """Every piece's tables name their header cells alike in WeasyPrint; in one file they must not collide."""
    reader = PdfReader(_files(outputs["final-notice", PDF_UA])[-1])
    ids: list[str] = []
    headers: list[str] = []
    todo = [reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()]
    while todo:
        element = todo.pop()
        if "/ID" in element:
            ids.append(str(element["/ID"]))
        attributes = element.get("/A")
        if attributes is not None and "/Headers" in attributes.get_object():
            headers += [str(h) for h in attributes.get_object()["/Headers"]]
        kids = element.get("/K", [])
        todo += [k.get_object() for k in (kids if isinstance(kids, list) else [kids]) if hasattr(k, "idnum")]
    assert ids and len(ids) == len(set(ids))
    assert headers and set(headers) <= set(ids)


@pytest.mark.parametrize("variant", [PDF_A, PDF_UA])
def test_a_standard_gives_the_same_bytes_whatever_the_chunk(outputs: dict[tuple[str, str], Path], variant: str,
                                                           tmp_path: Path) -> None:
    source, day, lines = MAILINGS["final-notice"]
    roll = _head(source, lines, tmp_path / "roll.csv")
    run(Options(roll, tmp_path / "out", "baltimore-city", "final-notice", day, workers=1, chunk=1, pdf_variant=variant))
    made = outputs["final-notice", variant]
    for mine, theirs in zip(_files(tmp_path / "out"), _files(made), strict=True):
        assert mine.name == theirs.name and mine.read_bytes() == theirs.read_bytes(), mine.name


def test_a_resumed_print_file_keeps_the_tags_read_back_from_a_piece(outputs: dict[tuple[str, str], Path]) -> None:
    """A resume reads finished pieces back (read_fragment): their tags must come along into the print file."""
    out = outputs["final-notice", PDF_UA]
    manifest = json.loads((out / "manifest.json").read_text())
    rows = [row for row in manifest["pieces"] if row["status"] == "rendered"]
    buffer = io.BytesIO()
    writer = PdfStreamWriter(buffer, info={"Title": "resumed", "Producer": "test"}, variant=PDF_UA)
    for row in rows:
        piece = (out / "pieces" / row["piece_file"]).read_bytes()
        fragment = read_fragment(piece, int(row["statement_pages"]))
        assert fragment.structure is not None and fragment.structure.marked
        writer.add_fragment(fragment)
    writer.close()
    result = check(buffer.getvalue())
    assert result.declared == PDF_UA and result.ok, result.findings


def test_variant_is_in_the_manifest_and_a_resume_with_another_is_refused(outputs: dict[tuple[str, str], Path],
                                                                        tmp_path: Path) -> None:
    out = outputs["final-notice", PDF_UA]
    assert json.loads((out / "manifest.json").read_text())["summary"]["pdf_variant"] == PDF_UA
    roll = _head(CITY_CSV, 4, tmp_path / "roll.csv")
    options = Options(roll, tmp_path / "out", "baltimore-city", "final-notice", CITY_DATE, workers=1, pdf_variant=PDF_A)
    run(options)
    with pytest.raises(ResumeMismatch, match="options"):
        run(dataclasses.replace(options, resume=True, pdf_variant=PRINT))


def test_an_unknown_variant_exits_2_naming_the_variants(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(CITY_CSV), "-c", "baltimore-city", "-d", "2027-02-01", "-o", str(tmp_path),
                                 "--pdf-variant", "pdf/x-4", "--no-progress"])
    assert result.exit_code == 2
    assert "pdf/x-4" in result.output and "pdf/a-2b" in result.output and "pdf/ua-1" in result.output
    assert not (tmp_path / "pieces").exists()


def test_check_reports_the_declared_variant_and_our_verdict(outputs: dict[tuple[str, str], Path]) -> None:
    path = _files(outputs["final-notice", PDF_UA])[0]
    result = runner.invoke(app, ["check", str(path), "-c", "baltimore-city", "-d", "2027-02-01", "--json"])
    assert result.exit_code == 0, result.output
    standard = json.loads(result.output)["files"][0]["standard"]
    assert standard == {"declared": PDF_UA, "ok": True, "findings": []}


def test_check_exits_3_for_a_file_that_declares_a_standard_it_does_not_meet(outputs: dict[tuple[str, str], Path],
                                                                           tmp_path: Path) -> None:
    archive = _files(outputs["final-notice", PDF_A])[0]
    broken = tmp_path / archive.name
    broken.write_bytes(archive.read_bytes().replace(b"/S /GTS_PDFA1", b"/S /GTS_PDFX1"))
    result = runner.invoke(app, ["check", str(broken), "-c", "baltimore-city", "-d", "2027-02-01"])
    assert result.exit_code == 3, result.output
    assert "standard: pdf/a-2b" in result.output and "GTS_PDFA1" in result.output


def test_a_standard_is_laid_out_in_full_never_into_a_kept_layout() -> None:
    from notices.collectors import load_collector
    from notices.resolve import plan

    collector = load_collector("baltimore-city")
    the_plan = plan(collector, "final-notice", CITY_DATE)
    assert not full_layout(PRINT) and full_layout(PDF_A) and full_layout(PDF_UA)
    for variant in (PDF_A, PDF_UA):
        assert make_job(collector, the_plan, "en", reuse_layouts=True, pdf_variant=variant).layouts is None
