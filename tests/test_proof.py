"""Proof packs: every variant of a collector's final notice in one PDF, each after a title page with its check result."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from notices.cli import app
from notices.compliance import page_texts

runner = CliRunner()
VARIANTS = ("one owner", "two owners", "care of", "PO box", "with water/sewer", "without water/sewer", "long lien list", "Spanish")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], str]:
    out = tmp_path_factory.mktemp("proofs")
    result = runner.invoke(app, ["proof", "-c", "baltimore-county", "-d", "2027-03-01", "-o", str(out)])
    pdf = out / "proof-baltimore-county-2027-03-01.pdf"
    return pdf, page_texts(pdf.read_bytes()), result.output + f"\nexit {result.exit_code}"


def titles(texts: list[str]) -> list[int]:
    return [i for i, text in enumerate(texts) if text.startswith("Proof pack:")]


def test_the_pack_holds_every_variant_after_its_title_page(pack: tuple[Path, list[str], str]) -> None:
    """Each variant has a title page naming it and its check result, and every variant of the county's notice complies."""
    _, texts, output = pack
    assert output.endswith("exit 0"), output
    starts = titles(texts)
    assert len(starts) == len(VARIANTS)
    for at, name in zip(starts, VARIANTS, strict=True):
        assert f": {name}" in texts[at] and "Statute check: complies" in texts[at]
        assert "Large print" in texts[at] and "installment" in texts[at]  # what the pack cannot show yet is said


def test_the_variants_show_what_their_titles_promise(pack: tuple[Path, list[str], str]) -> None:
    """Two owners are both named, the PO box is printed, the long lien list takes two statement pages, Spanish is Spanish."""
    _, texts, _ = pack
    starts = [*titles(texts), len(texts)]
    body = {name: texts[starts[i] + 1: starts[i + 1]] for i, name in enumerate(VARIANTS)}
    assert "BEN LEE" in body["two owners"][0]
    assert "C/O JANE DOE" in body["care of"][0]
    assert "PO BOX 1234" in body["PO box"][0]
    assert "Water and sewer" in body["with water/sewer"][0]
    assert "[water/sewer discount program]" in "".join(body["with water/sewer"])  # the county's profile has none: stand-in facts
    assert "[water/sewer discount program]" not in "".join(body["without water/sewer"])
    # The one-owner statement has one page (and a blank back, duplex); the long list's runs onto its second.
    assert not body["one owner"][1].strip() and "Environmental citation" in body["long lien list"][1]
    assert "Cómo funciona la venta" in "".join(body["Spanish"])


def test_an_existing_pack_is_not_overwritten(pack: tuple[Path, list[str], str]) -> None:
    """A second proof into the same folder stops with exit 4 and leaves the first pack as it was."""
    pdf, _, _ = pack
    before = pdf.read_bytes()
    result = runner.invoke(app, ["proof", "-c", "baltimore-county", "-d", "2027-03-01", "-o", str(pdf.parent)])
    assert result.exit_code == 4 and pdf.read_bytes() == before
