"""Proof packs: every variant of a collector's final notice in one PDF, each after a title page with its check result."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from notices.cli import app
from notices.compliance import page_texts
from notices.compliance.typesize import LARGE_PRINT_PT, text_runs

runner = CliRunner()
VARIANTS = ("one owner", "two owners", "care of", "PO box", "with water/sewer", "without water/sewer", "long lien list", "Spanish",
            "large print", "State installment program", "local installment program", "State and local installment programs")
STATE = "runs a State installment payment program"
LOCAL = "[local installment program]"


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
        assert "Not in this pack yet" not in texts[at]


def _bodies(texts: list[str]) -> dict[str, list[str]]:
    starts = [*titles(texts), len(texts)]
    return {name: texts[starts[i] + 1: starts[i + 1]] for i, name in enumerate(VARIANTS)}


def test_the_large_print_variant_prints_every_run_at_18_pt_with_the_large_print_summary(pack: tuple[Path, list[str], str]) -> None:
    """Its pages after the statement's first (the envelope window keeps the postal size there) are all at least 18 pt."""
    pdf, texts, _ = pack
    starts = [*titles(texts), len(texts)]
    at = VARIANTS.index("large print")
    first, end = starts[at] + 1, starts[at + 1]
    assert "Pay it within 6 months; sooner costs less." in " ".join(" ".join(texts[first:end]).split())  # the county's own
    runs = [r for r in text_runs(pdf.read_bytes()) if first + 1 <= r.page < end]
    assert runs and min(r.size for r in runs) >= LARGE_PRINT_PT - 0.01
    assert "large print" in texts[starts[at]]


def test_the_installment_variants_show_each_branch_dated_when_the_item_is_in_force(pack: tuple[Path, list[str], str]) -> None:
    """State only, a § 10-209 local program only (stand-in facts for the county), and both; on 2027-05-01, as the title says."""
    _, texts, _ = pack
    body = {name: " ".join(" ".join(pages).split()) for name, pages in _bodies(texts).items()}
    assert STATE in body["State installment program"] and LOCAL not in body["State installment program"]
    assert LOCAL in body["local installment program"] and STATE not in body["local installment program"]
    assert STATE in body["State and local installment programs"] and LOCAL in body["State and local installment programs"]
    assert STATE not in body["one owner"]  # the pack's date, 2027-03-01, is before § 14-812(b)(9)
    for name in VARIANTS[-3:]:
        title = texts[titles(texts)[VARIANTS.index(name)]]
        assert "Dated 2027-05-01" in title and "Date: May 1, 2027" in body[name]


def test_the_variants_show_what_their_titles_promise(pack: tuple[Path, list[str], str]) -> None:
    """Two owners are both named, the PO box is printed, the long lien list takes two statement pages, Spanish is Spanish."""
    _, texts, _ = pack
    body = _bodies(texts)
    assert "BEN LEE" in body["two owners"][0]
    assert "C/O JANE DOE" in body["care of"][0]
    assert "PO BOX 1234" in body["PO box"][0]
    assert "Water and sewer" in body["with water/sewer"][0]
    assert "[water/sewer discount program]" in "".join(body["with water/sewer"])  # the county's profile has none: stand-in facts
    assert "[water/sewer discount program]" not in "".join(body["without water/sewer"])
    # The one-owner statement has one page (and a blank back, duplex); the long list's runs onto its second.
    assert not body["one owner"][1].strip() and "Environmental citation" in body["long lien list"][1]
    assert "Cómo funciona la venta" in "".join(body["Spanish"])


def test_an_existing_pack_is_not_overwritten_nor_made_again(pack: tuple[Path, list[str], str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A second proof into the same folder stops with exit 4 before making the pack, and leaves the first as it was."""
    pdf, _, _ = pack
    before = pdf.read_bytes()

    def build(*args: object) -> None:
        raise AssertionError("the pack was made again")

    monkeypatch.setattr("notices.proof.build", build)
    result = runner.invoke(app, ["proof", "-c", "baltimore-county", "-d", "2027-03-01", "-o", str(pdf.parent)])
    assert result.exit_code == 4 and "exists already" in result.output and pdf.read_bytes() == before


def test_a_pack_written_meanwhile_by_another_run_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "proof-baltimore-county-2027-03-01.pdf"

    def build(*args: object) -> tuple[bytes, list[object]]:
        target.write_bytes(b"the other run's pack")
        return b"this run's pack", []

    monkeypatch.setattr("notices.proof.build", build)
    result = runner.invoke(app, ["proof", "-c", "baltimore-county", "-d", "2027-03-01", "-o", str(tmp_path)])
    assert result.exit_code == 4 and target.read_bytes() == b"the other run's pack"
