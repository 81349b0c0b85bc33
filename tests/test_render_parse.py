"""tinyhtml5's pattern cache, repaired (``render.keep_patterns``), parses every document to the tree and the PDF its own gives."""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, SAMPLES, job_for

from notices import Options, batch, render
from notices.deadlines import statement_dates
from notices.model import Record
from notices.render import Renderer
from notices.resources import templates_dir

pytestmark = pytest.mark.skipif(render._version("tinyhtml5") != render.PATTERNS_PROVEN,
                                reason="the pattern cache is repaired only under the tinyhtml5 it was proven on")

PARSER: Any = importlib.import_module("tinyhtml5")  # WeasyPrint's HTML parser; it ships no types
STREAM: Any = importlib.import_module("tinyhtml5.inputstream")

# Every way the tokenizer reads a run of text: data, entities, attribute values in each quoting,
# comments, raw text (style, script, title), CDATA-like text, a doctype, character references.
HOSTILE = """<!DOCTYPE html><html lang="en"><head><title>A &amp; B &lt; C</title>
<style>p::before { content: "<not a tag>" }</style><script>if (a < b && c > d) { x = "</p>" }</script></head>
<body class=plain><!-- a comment -- with dashes --><p title='single &quot;quoted&#39;' data-x="double 'quoted' &amp;"
data-y=unquoted>O&#39;Neil &copy; 2027 &#x2014; &notanentity; a&b <b>bold</b>\u00a0<i>it</i></p>
<![CDATA[ not cdata in html ]]><textarea>  kept <b>as text</b> </textarea><pre>
  leading newline</pre><table><tr><td>1<td>2</table><p>\u0000 NUL and \r\n line ends\rend</p></body></html>"""


@pytest.fixture
def plain_cache() -> Iterator[None]:
    """tinyhtml5's own (unrepaired) cache for the test; whatever the process had is put back after."""
    kept = STREAM.characters_until_regex
    STREAM.characters_until_regex = {}
    yield
    STREAM.characters_until_regex = kept


def _documents() -> list[str]:
    """The City's statements (both languages) and inserts as a run composes them, and a hostile document."""
    options = Options(input=SAMPLES / "baltimore-city-final-notices.csv", out=Path("unused"), collector="baltimore-city",
                      mailing="final-notice", date=CITY_DATE)
    records = [item for _, item in batch.load(options)[2] if isinstance(item, Record)][:4]
    documents = [HOSTILE]
    for language in ("en", "es"):
        job = job_for("baltimore-city", "final-notice", CITY_DATE, language)
        fragments = [job.composer.fragment(job.statement, record, seq=seq, pages=1,
                                           **statement_dates(job.collector, job.plan.day, record))
                     for seq, record in enumerate(records)]
        documents.append(job.composer.document(job.statement, fragments, title="statements"))
        for part in job.plan.parts[1:]:
            documents.append(job.composer.document(part, [job.composer.fragment(part, None, seq=0, pages=1)], title="insert"))
    return documents


def _tree(html: str) -> bytes:
    return ET.tostring(PARSER.parse(html, namespace_html_elements=False))


def test_the_repaired_cache_parses_every_document_to_the_same_tree(plain_cache: None) -> None:
    documents = _documents()  # a Renderer made on the way repairs the cache: each parse below sets its own
    STREAM.characters_until_regex = {}
    plain = [_tree(html) for html in documents]
    STREAM.characters_until_regex = render._Patterns()
    assert [_tree(html) for html in documents] == plain


def test_each_pattern_is_built_once_and_found_after(plain_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not vacuous: tinyhtml5's own cache builds a pattern for every run of text; the repaired one once per set of characters."""
    built: list[str] = []
    compile_ = re.compile

    def compile_counted(source: str) -> re.Pattern[str]:
        built.append(source)
        return compile_(source)

    monkeypatch.setattr(re, "compile", compile_counted)
    STREAM.characters_until_regex = {}
    assert render.keep_patterns()
    _tree(HOSTILE)
    first = len(built)
    assert 0 < first <= len(STREAM.characters_until_regex)
    _tree(HOSTILE)
    assert len(built) == first  # the second parse found every pattern it asked for
    assert all(not isinstance(characters, re.Pattern) for characters, _ in STREAM.characters_until_regex)


def test_a_layout_through_the_repaired_cache_writes_the_same_pdf(plain_cache: None) -> None:
    renderer = Renderer(templates_dir() / "baltimore-city")
    documents = _documents()[:2]
    STREAM.characters_until_regex = {}
    plain = [renderer.pdf(html) for html in documents]
    STREAM.characters_until_regex = render._Patterns()
    assert [renderer.pdf(html) for html in documents] == plain


def test_the_cache_is_bounded(plain_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_PATTERNS_KEPT", 2)
    patterns = render._Patterns()
    for characters in ("a", "b", "c", "d", "e"):
        assert patterns[(characters, False)].fullmatch("xyz")
    assert len(patterns) <= 2


def test_another_tinyhtml5_keeps_its_own_cache(plain_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_version", lambda name: "0.0-unproven")
    assert not render.keep_patterns()
    assert type(STREAM.characters_until_regex) is dict
