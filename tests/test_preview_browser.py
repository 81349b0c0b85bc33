"""The designers' preview in a real browser: Debian's Chromium driven by Playwright, against `notices preview` on a workspace."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

# The distribution's browser (Debian: apt-get install chromium); a downloaded one is never used.
CHROMIUM = Path(os.environ.get("NOTICES_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
COLLECTOR = "anne-arundel"
WAIT = 90_000  # ms: the first render starts the render process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not CHROMIUM.exists():
    pytest.skip("no Chromium at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("office")
    subprocess.run([sys.executable, "-c", "from notices.cli import main; main()", "init", str(home), "-c", COLLECTOR],
                   check=True, capture_output=True, cwd=ROOT)
    return home


@pytest.fixture(scope="module")
def server(workspace: Path) -> Iterator[str]:
    """`notices preview` on the workspace, on a free port; its first line names the address."""
    process = subprocess.Popen([sys.executable, "-c", "from notices.cli import main; main()", "preview", "--home", str(workspace),
                                "--collector", COLLECTOR, "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert found, f"no address in {line!r}: {process.stderr.read() if process.stderr else ''}"
    try:
        yield found.group(0)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture()
def page(browser: Any, server: str) -> Iterator[Any]:
    # bypass_csp: Playwright evaluates its waiting conditions as strings, which the page's policy forbids.
    opened = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    opened.set_default_timeout(WAIT)
    opened.goto(server)
    opened.wait_for_selector("body[data-view]")  # the first view has rendered
    try:
        yield opened
    finally:
        opened.close()


def choose(page: Any, selector: str, value: str) -> str:
    """Set a control as a designer would and wait for the view it asks for; returns the new view's id."""
    before = page.get_attribute("body", "data-view")
    if selector == "#date":
        page.fill(selector, value)
        page.dispatch_event(selector, "change")
    else:
        page.select_option(selector, value)
    page.wait_for_function(f"document.body.dataset.view !== {before!r}")
    view: str = page.get_attribute("body", "data-view")
    return view


def test_the_page_shows_pages_and_the_check(page: Any) -> None:
    """The page opens on the workspace's collector with its pages as images and a report that complies."""
    assert page.input_value("#collector") == COLLECTOR
    assert page.locator("#pages img").count() >= 3
    assert page.locator("#report tbody tr").count() > 10
    assert "complies" in page.text_content("#verdict")
    assert page.locator("#placeholders li").count() > 0  # a new county's profile is all placeholders


def test_switching_the_date_across_2027_05_01_changes_the_report(page: Any) -> None:
    """The bill inserts on 2027-04-30 have no § 4-201.2 blocks; on 2027-05-01 the report lists them."""
    choose(page, "#mailing", "bill-inserts")
    choose(page, "#date", "2027-04-30")
    assert page.locator('#report tr[data-block^="tp-4-201-2"]').count() == 0
    choose(page, "#date", "2027-05-01")
    assert page.locator('#report tr[data-block^="tp-4-201-2"]').count() > 0


def test_two_collectors_side_by_side(page: Any) -> None:
    """Two collectors chosen for comparison come back as two columns of pages and a table of their blocks."""
    choose(page, "#mailing", "bill-inserts")
    page.select_option("#compare-collectors", ["baltimore-city", "baltimore-county"])
    page.click("#compare-collectors-go")
    page.wait_for_function("document.querySelectorAll('#compare-grid .col').length === 2")
    assert page.locator("#compare-table tbody tr").count() > 0
    assert page.locator("#compare-grid .col img").count() >= 2


def test_editing_a_stylesheet_refreshes_the_page(page: Any, workspace: Path) -> None:
    """Saving a stylesheet in the workspace renders the view again by itself, with no click."""
    generation = int(page.get_attribute("body", "data-generation"))
    sheet = workspace / "collectors" / COLLECTOR / "style.css"
    sheet.write_text("/* the designer's edit */\n.statement h1 { letter-spacing: 0.5pt; }\n", encoding="utf-8")
    try:
        page.wait_for_function(f"Number(document.body.dataset.generation) > {generation}")
        assert page.locator("#pages img").count() >= 3
        assert not page.is_visible("#error")
    finally:
        sheet.unlink()


def test_breaking_a_template_shows_its_error(page: Any, workspace: Path) -> None:
    """A template with a syntax error shows the error with its file and line on the page; fixing it brings the pages back."""
    template = workspace / "collectors" / COLLECTOR / "summary.html.j2"
    template.write_text("<p>\n{% if %}\n", encoding="utf-8")
    try:
        page.wait_for_selector("#error", state="visible")
        assert "summary.html.j2" in page.text_content("#error")
        assert page.locator("#pages img").count() == 0
    finally:
        template.unlink()
    page.wait_for_selector("#error", state="hidden")
    assert page.locator("#pages img").count() >= 3


def test_ticking_large_print_renders_it_and_the_report_checks_the_type_size(page: Any, workspace: Path) -> None:
    """Large print renders the notice at 18 pt with a type-size row in the report; a summary too long for it shows its pages marked failing."""
    before = page.get_attribute("body", "data-view")
    page.check("#large-print")
    page.wait_for_function(f"document.body.dataset.view !== {before!r}")
    assert page.get_attribute("body", "data-large-print") == "true"
    row = page.locator('#report tr[data-block="type-size"]')
    assert row.count() == 1 and row.get_attribute("data-status") == "ok"
    assert "18 pt" in row.text_content() and "complies" in page.text_content("#verdict")
    assert page.locator("#pages img").count() >= 3 and not page.is_visible("#failing")
    # The standard summary as the large-print one: too long for one page at 18 pt. Its pages are shown, marked.
    generation = int(page.get_attribute("body", "data-generation"))
    summary = workspace / "collectors" / COLLECTOR / "summary-large-print.html.j2"
    summary.write_text((ROOT / "templates/base/summary.html.j2").read_text(encoding="utf-8"), encoding="utf-8")
    try:
        page.wait_for_function(f"Number(document.body.dataset.generation) > {generation} && document.body.dataset.failing === 'true'")
        assert page.is_visible("#failing") and "runs to 2 pages" in page.text_content("#error")
        assert page.locator("#pages figure.failing img").count() >= 2
        assert page.locator("#pages .failing-mark").count() == page.locator("#pages img").count()
        assert page.is_disabled("#download-pdf")
    finally:
        summary.unlink()
    page.wait_for_function("document.body.dataset.failing === 'false'")
    page.uncheck("#large-print")
    page.wait_for_function("document.body.dataset.largePrint === 'false'")


def test_the_server_answers_only_on_the_loopback_address(server: str) -> None:
    """The address printed is 127.0.0.1, and nothing listens on the machine's other addresses at that port."""
    import socket

    port = int(server.rsplit(":", 1)[1].strip("/"))
    others = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for host in others:
        with socket.socket() as probe:
            probe.settimeout(1)
            assert probe.connect_ex((host, port)) != 0, f"the preview answers on {host}"
