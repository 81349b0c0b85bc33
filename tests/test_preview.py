"""The designers' preview's endpoints, through starlette's TestClient, rendering in the test's own process."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient

from notices.preview import BODY_LIMIT, Preview, Worker, create_app
from notices.views import Ask, differences, make_view
from notices.workspace import init

HOST = "http://127.0.0.1"
BILL = {"collector": "baltimore-county", "mailing": "bill-inserts", "language": "en"}


def client(home: Path | None = None) -> TestClient:
    preview = Preview(home, worker=Worker(in_process=True), watch=False)
    return TestClient(create_app(preview), base_url=HOST)


@pytest.fixture(scope="module")
def shared() -> Any:
    with client() as c:
        yield c


def test_the_page_and_its_choices_are_served(shared: TestClient) -> None:
    """The page loads, and the choices name all 24 collectors, the three mailings and the shipped samples."""
    assert "<title>notices preview</title>" in shared.get("/").text
    options = shared.get("/api/options").json()
    assert len(options["collectors"]) == 24 and "baltimore-city" in options["collectors"]
    assert options["mailings"] == ["final-notice", "post-sale-notice", "bill-inserts"]
    assert {"baltimore-city-final-notices.csv", "baltimore-city-sale-results.csv"} <= {s["file"] for s in options["samples"]}


def test_a_view_shows_png_pages_the_report_and_the_placeholders(shared: TestClient) -> None:
    """A final notice renders to PNG pages, with its blocks and citations checked and the profile's placeholders listed."""
    view = shared.get("/api/view", params={"collector": "baltimore-city", "mailing": "final-notice", "date": "2027-02-01",
                                           "sample": "baltimore-city-final-notices.csv"}).json()
    assert view["ok"] and view["error"] is None and view["pages"] == len(view["images"]) >= 3
    blocks = {f["block"]: f for f in view["findings"]}
    assert blocks["tp-14-812-b-2"]["citation"] == "Tax-Property § 14-812(b)(2)" and blocks["tp-14-812-b-2"]["page"]
    assert view["placeholders"]
    image = shared.get(view["images"][0])
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
    pdf = shared.get(view["pdf"])
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]


def test_large_print_is_a_choice_and_its_report_checks_the_type_size(shared: TestClient) -> None:
    """large_print=1 renders the notice in large print: the label says so and the report has the type-size check, passing."""
    params = {"collector": "baltimore-county", "mailing": "final-notice", "date": "2027-03-01",
              "sample": "baltimore-county-final-notices.csv", "large_print": "1"}
    view = shared.get("/api/view", params=params).json()
    assert view["ok"] and view["large_print"] and view["label"].endswith("large print")
    sizes = [f for f in view["findings"] if f["block"] == "type-size"]
    assert [f["status"] for f in sizes] == ["ok"] and "18 pt" in sizes[0]["message"]
    pdf = shared.get(view["pdf"])
    assert "large-print" in pdf.headers["content-disposition"]
    ordinary = shared.get("/api/view", params={**params, "large_print": "0"}).json()
    assert not any(f["block"] == "type-size" for f in ordinary["findings"])
    assert shared.get("/api/view", params={**params, "large_print": "yes"}).status_code == 400


def test_a_piece_that_fails_the_check_shows_its_pages_marked_failing_and_offers_no_pdf(tmp_path: Path) -> None:
    """A stylesheet that hides the notice's statement fails the piece: its pages are shown beside the failing findings, no PDF."""
    init(tmp_path, "anne-arundel")
    (tmp_path / "collectors" / "anne-arundel" / "style.css").write_text(".notice-body { display: none; }\n", encoding="utf-8")
    with client(tmp_path) as c:
        view = c.get("/api/view", params={"collector": "anne-arundel", "mailing": "final-notice", "date": "2027-03-01",
                                          "sample": "baltimore-county-final-notices.csv"}).json()
        assert view["failing"] and not view["ok"] and view["images"] and view["pdf"] is None
        assert any(f["status"] == "error" and f["block"].startswith("tp-14-812-a-2") for f in view["findings"])
        assert view["error"] and "fails the statute check" in view["error"]["text"]
        assert c.get(view["images"][0]).content.startswith(b"\x89PNG")
        assert c.get(f"/api/view/{view['id']}.pdf").status_code == 404


def test_a_large_print_summary_too_long_for_a_page_shows_the_insert_marked_failing(tmp_path: Path) -> None:
    """The run would stop (exit 3) before any piece; the preview shows the insert's pages and the one-page finding."""
    init(tmp_path, "anne-arundel")
    folder = tmp_path / "collectors" / "anne-arundel"
    (folder / "summary-large-print.html.j2").write_text(Path(__file__).resolve().parent.parent.joinpath(
        "templates/base/summary.html.j2").read_text(encoding="utf-8"), encoding="utf-8")
    with client(tmp_path) as c:
        view = c.get("/api/view", params={"collector": "anne-arundel", "mailing": "final-notice", "date": "2027-03-01",
                                          "sample": "baltimore-county-final-notices.csv", "large_print": "1"}).json()
        assert view["failing"] and len(view["images"]) >= 2 and view["pdf"] is None
        assert "runs to 2 pages at 18 pt" in view["error"]["text"]
        assert any(f["block"] == "tp-14-812-b-1" and f["status"] == "error" for f in view["findings"])


def test_the_report_follows_the_law_across_2027_05_01(shared: TestClient) -> None:
    """The bill inserts dated 2027-05-01 carry the § 4-201.2 insert; the day before they do not, and the comparison marks its blocks."""
    before = shared.get("/api/view", params={**BILL, "date": "2027-04-30"}).json()
    after = shared.get("/api/view", params={**BILL, "date": "2027-05-01"}).json()
    assert not any(f["block"].startswith("tp-4-201-2") for f in before["findings"])
    assert any(f["block"].startswith("tp-4-201-2") for f in after["findings"])
    compared = shared.get("/api/compare", params={**BILL, "dates": "2027-04-30,2027-05-01"}).json()
    differing = {r["block"] for r in compared["rows"] if r["differs"]}
    assert differing and all(b.startswith("tp-4-201-2") for b in differing)
    assert len(compared["columns"]) == 2


def test_two_collectors_side_by_side(shared: TestClient) -> None:
    """Two collectors' inserts come back as two columns, with one row per block."""
    compared = shared.get("/api/compare", params={**BILL, "date": "2027-05-01", "collectors": "baltimore-city,baltimore-county"}).json()
    assert [c["label"].split()[0] for c in compared["columns"]] == ["baltimore-city", "baltimore-county"]
    assert all(len(r["cells"]) == 2 for r in compared["rows"])


def test_the_website_html_downloads_as_a_zip(shared: TestClient) -> None:
    """The website download holds index.html and the fragments notices web writes."""
    response = shared.get("/api/website.zip", params={**BILL, "date": "2027-05-01"})
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "index.html" in names and "hpp-insert.fragment.html" in names


@pytest.mark.parametrize("params", [
    {"collector": "nowhere", "mailing": "bill-inserts", "date": "2027-05-01"},
    {"collector": "baltimore-city", "mailing": "bill-inserts", "date": "soon"},
    {"collector": "baltimore-city", "mailing": "final-notice", "date": "2027-05-01", "sample": "../../etc/passwd"},
    {"collector": "baltimore-city", "mailing": "bill-inserts", "date": "2027-05-01", "language": "fr"},
])
def test_a_choice_the_page_does_not_offer_is_refused(shared: TestClient, params: dict[str, str]) -> None:
    """An unknown collector, a bad date, a path for a sample or an unknown language is a 400, not a render."""
    assert shared.get("/api/view", params=params).status_code == 400


def test_another_host_name_is_refused(shared: TestClient) -> None:
    """A request naming another host (a DNS name rebound to 127.0.0.1 by a web page) gets no answer."""
    assert shared.get("/api/options", headers={"Host": "attacker.example"}).status_code == 400


def test_a_large_body_or_query_is_refused(shared: TestClient) -> None:
    """A body over the limit is a 413 and a very long query a 414, before any route runs."""
    assert shared.post("/api/view", content=b"x" * (BODY_LIMIT + 1)).status_code == 413
    assert shared.get("/api/view?collector=" + "a" * 5000).status_code == 414


def test_a_broken_template_shows_its_file_and_line(tmp_path: Path) -> None:
    """A template with a syntax error in the workspace is shown as an error naming the file and line; the server goes on."""
    init(tmp_path, "anne-arundel")
    (tmp_path / "collectors" / "anne-arundel" / "summary.html.j2").write_text("<p>\n{% if %}\n", encoding="utf-8")
    with client(tmp_path) as c:
        view = c.get("/api/view", params={"collector": "anne-arundel", "mailing": "final-notice", "date": "2027-03-01",
                                          "sample": "baltimore-county-final-notices.csv"}).json()
        assert view["error"] and "summary.html.j2" in view["error"]["where"] and view["images"] == []
        assert c.get("/api/options").status_code == 200


def test_a_broken_profile_shows_its_error(tmp_path: Path) -> None:
    """A profile with an unknown key is shown with its file, not raised."""
    init(tmp_path, "anne-arundel")
    profile = tmp_path / "collectors" / "anne-arundel" / "collector.toml"
    profile.write_text(profile.read_text(encoding="utf-8") + "\nphnoe = \"1\"\n", encoding="utf-8")
    with client(tmp_path) as c:
        view = c.get("/api/view", params={"collector": "anne-arundel", "mailing": "bill-inserts", "date": "2027-05-01"}).json()
        assert "collector.toml" in view["error"]["where"] and "phnoe" in view["error"]["text"]


def test_a_render_past_its_bound_is_stopped_and_reported() -> None:
    """A render that runs past its time bound stops its process and is reported; the next render works."""
    import anyio

    worker = Worker()

    async def go() -> None:
        with pytest.raises(Exception, match="longer than"):
            await worker.call(_sleep, 30.0, timeout=2.0)
        assert await worker.call(_sleep, 0.0, timeout=30.0) == 0.0

    try:
        anyio.run(go)
    finally:
        worker.close()


def _sleep(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def test_blocks_present_in_one_view_only_are_marked_as_differing() -> None:
    """Baltimore City's notice has the water/sewer item and a City Code block Baltimore County's lacks: those are marked, shared ones not."""
    day = dt.date(2027, 2, 1)
    sample = "baltimore-city-final-notices.csv"
    city = make_view(Ask("baltimore-city", "final-notice", day, sample=sample), scale=0.2)
    county = make_view(Ask("baltimore-county", "final-notice", day, sample=sample), scale=0.2)
    rows = {r["block"]: r for r in differences([city, county])}
    assert rows["tp-14-812-b-7"]["differs"] and rows["bc-art-28-4-4"]["differs"]
    assert rows["tp-14-812-b-7"]["cells"][1]["status"] == "absent"
    assert not rows["tp-14-812-b-2"]["differs"]
