"""Shared helpers for the tests: sample paths, small roll files built on the fly, and PDF facts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CITY_CSV = SAMPLES / "baltimore-city-final-notices.csv"
CITY_JSONL = SAMPLES / "baltimore-city-final-notices.jsonl"
COUNTY_CSV = SAMPLES / "baltimore-county-final-notices.csv"
BAD_ROLL = SAMPLES / "bad-roll.csv"
CITY_DATE = dt.date(2027, 2, 1)
COUNTY_DATE = dt.date(2027, 3, 1)

COLUMNS = (
    "account_id", "owner_name", "owner_name_2", "mailing_address_1", "mailing_address_2", "mailing_city",
    "mailing_state", "mailing_zip", "property_address", "first_advertisement_date", "source", "period", "amount",
    "interest", "penalty",
)
GOOD: dict[str, str] = {
    "account_id": "01-01-0001-001",
    "owner_name": "ANN LEE",
    "owner_name_2": "",
    "mailing_address_1": "1 MAIN ST",
    "mailing_address_2": "",
    "mailing_city": "BALTIMORE",
    "mailing_state": "MD",
    "mailing_zip": "21201",
    "property_address": "1 MAIN ST",
    "first_advertisement_date": "",
    "source": "Real property tax",
    "period": "FY 2027",
    "amount": "100.00",
    "interest": "0.00",
    "penalty": "0.00",
}


def row(**changes: str) -> dict[str, str]:
    """A valid roll row, with some fields changed."""
    return {**GOOD, **changes}


def csv_text(rows: Iterable[Mapping[str, str]], columns: Iterable[str] = COLUMNS) -> str:
    """A roll export as CSV text: the header, then one line per row (quoted only where needed)."""
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for item in rows:
        writer.writerow([item.get(name, "") for name in names])
    return buffer.getvalue()


def subset_csv(source: Path, account_ids: Iterable[str], target: Path) -> Path:
    """Copy the header and the rows of some accounts of a sample, keeping their order in the sample."""
    wanted = set(account_ids)
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [r for r in reader if r and r[0] in wanted]
    assert {r[0] for r in rows} == wanted, "an account chosen for the test is not in the sample"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return target


_SUBSET = re.compile(r"^/?[A-Z]{6}\+")


def font_name(base_font: object) -> str:
    """A PDF font's name without the leading slash and the six-letter subset tag."""
    return _SUBSET.sub("", str(base_font)).lstrip("/")


def pdf_facts(pdf: bytes) -> dict[str, Any]:
    """What a golden file compares: per page the text (whitespace folded), the size in points and the fonts."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        pages.append({
            "size": [round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)],
            "fonts": sorted({font_name(ref.get_object().get("/BaseFont")) for ref in fonts.values()}),
            "text": " ".join((page.extract_text() or "").split()),
        })
    return {"page_count": len(pages), "pages": pages}


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def bad_roll_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """samples/bad-roll.csv rendered once for the session: (summary, output folder)."""
    from notices.batch import Options, run

    out = tmp_path_factory.mktemp("bad-roll")
    return run(Options(BAD_ROLL, out, "baltimore-city", "final-notice", CITY_DATE, workers=1)), out


# A CLI process for tests about the pieces and print file of a real run: the shipped profiles hold
# placeholders, which a real run refuses (tests/test_placeholders.py), so this process lets them print.
CLI_ALLOWING_PLACEHOLDERS = ("import notices.batch; notices.batch.refuse_placeholders = lambda *a, **k: None; "
                             "from notices.cli import main; main()")


def job_for(collector_id: str, mailing: str, day: dt.date, language: str = "en", *, reuse_layouts: bool = False,
            with_inserts: bool = False) -> Any:
    """A worker's Job for a collector, mailing and date, as a run builds it (with the run's inserts if asked)."""
    from notices.collectors import load_collector
    from notices.job import make_job
    from notices.piece import render_inserts
    from notices.resolve import plan

    collector = load_collector(collector_id)
    the_plan = plan(collector, mailing, day)
    job = make_job(collector, the_plan, language, reuse_layouts=reuse_layouts)
    if with_inserts:
        job = make_job(collector, the_plan, language, reuse_layouts=reuse_layouts, inserts=render_inserts(job))
    return job



@pytest.fixture(autouse=True, scope="session")
def placeholders_allowed() -> Iterator[None]:
    """Both shipped profiles hold placeholders, which a real run refuses to print; tests of everything else
    render them as real pieces (print file, no proof band, goldens unchanged), in this process. The
    refusal itself is tested by tests marked ``refuses_placeholders`` (tests/test_placeholders.py); a
    test that runs the CLI in another process passes ``--proof`` or lets them print the same way."""
    import notices.batch
    import notices.inserts
    import notices.web

    with pytest.MonkeyPatch.context() as patch:
        for module in (notices.batch, notices.inserts, notices.web):
            patch.setattr(module, "refuse_placeholders", lambda *args, **kwargs: None)
        yield


@pytest.fixture(autouse=True)
def placeholders_refused(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked ``refuses_placeholders`` gets the real refusal back."""
    if request.node.get_closest_marker("refuses_placeholders"):
        import notices.batch
        import notices.compose
        import notices.inserts
        import notices.web

        for module in (notices.batch, notices.inserts, notices.web):
            monkeypatch.setattr(module, "refuse_placeholders", notices.compose.refuse_placeholders)

# USPS-B-3200's published examples (ReportLab's own test vectors): one tracking code, each routing length.
SPEC_TRACKING = "01234567094987654321"
SPEC_BARS = {
    "": "ATTFATTDTTADTAATTDTDTATTDAFDDFADFDFTFFFFFTATFAAAATDFFTDAADFTFDTDT",
    "01234": "DTTAFADDTTFTDTFTFDTDDADADAFADFATDDFTAAAFDTTADFAAATDFDTDFADDDTDFFT",
    "012345678": "ADFTTAFDTTTTFATTADTAAATFTFTATDAAAFDDADATATDTDTTDFDTDATADADTDFFTFA",
    "01234567891": "AADTFFDFTDADTAADAATFDTDDAAADDTDTTDAFADADDDTFFFDDTTTADFAAADFTDAADA",
}
