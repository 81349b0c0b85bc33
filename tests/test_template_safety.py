"""Templates cannot turn data into markup or read outside their folders: a construct that would print a
value as HTML is refused when its template is compiled (file and line named), markup cannot be cut
into pieces at render time, and a template's real path must lie in the collector's folder or
templates/base."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import CITY_DATE, COUNTY_DATE
from hostile import RECORD, STATEMENT, compose_statement, hostile_collector
from markupsafe import escape

import notices.compose as compose
import notices.sandbox as sandbox
from notices.collectors import available, load_collector
from notices.compose import Composer, field
from notices.errors import ConfigError
from notices.resolve import plan
from notices.resources import templates_dir

OWNER = "record.owners[0]"
HOSTILE_VALUES = ["<b>x</b>", "</span><script>alert(1)</script>"]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` on which ``text`` starts."""
    source = path.read_text("utf-8")
    return source[: source.index(text)].count("\n") + 1


def refused(collector: Any) -> ConfigError:
    """The ConfigError composing a statement with the collector's templates raises."""
    with pytest.raises(ConfigError) as caught:
        compose_statement(collector)
    return caught.value


class TestConstructsThatPrintDataAsMarkup:
    @pytest.mark.parametrize(
        ("snippet", "construct"),
        [
            pytest.param(f"{{{{ {OWNER} | safe }}}}", "|safe", id="safe"),
            pytest.param(f"{{{{ {OWNER} | e | safe }}}}", "|safe", id="safe-after-escape"),
            pytest.param(f"{{% filter safe %}}{{{{ {OWNER} }}}}{{% endfilter %}}", "|safe", id="filter-block"),
            pytest.param(f"{{% autoescape false %}}{{{{ {OWNER} }}}}{{% endautoescape %}}", "autoescape", id="autoescape-false"),
            pytest.param(f"{{% autoescape {OWNER} == 'x' %}}{{{{ {OWNER} }}}}{{% endautoescape %}}", "autoescape",
                         id="autoescape-expression"),
            pytest.param(f"{{% autoescape 0 %}}{{{{ {OWNER} }}}}{{% endautoescape %}}", "autoescape", id="autoescape-zero"),
            pytest.param(f"{{{{ _({OWNER}) }}}}", "_(...) with a value", id="translate-a-value"),
            pytest.param(f"{{{{ gettext({OWNER}) }}}}", "gettext(...) with a value", id="gettext-a-value"),
            pytest.param(f"{{{{ pgettext('ctx', {OWNER}) }}}}", "pgettext(...) with a value", id="pgettext-a-value"),
            pytest.param(f"{{{{ ngettext({OWNER}, 'x', 2) }}}}", "ngettext(...) with a value", id="ngettext-a-value"),
            pytest.param(f"{{{{ _(__string={OWNER}) }}}}", "_(...) with a value", id="translate-by-keyword"),
            pytest.param("{{ _(*record.owners) }}", "_(...) with a value", id="translate-unpacked"),
            pytest.param(f"{{% set say = _ %}}{{{{ say({OWNER}) }}}}", "_ used other than called", id="translation-alias"),
            pytest.param("{{ record.owners | map('safe') | join }}", "map('safe'", id="map-safe"),
            pytest.param("{% set how = 'safe' %}{{ record.owners | map(how) | join }}", "map(...) with a filter name",
                         id="map-by-variable"),
            pytest.param(f"{{{{ {OWNER} | tojson }}}}", "|tojson", id="tojson"),
            pytest.param(f"{{{{ {OWNER} | urlize }}}}", "|urlize", id="urlize"),
            pytest.param(f"<p{{{{ {{'title': {OWNER}}} | xmlattr }}}}></p>", "|xmlattr", id="xmlattr"),
            pytest.param(f"{{{{ 'x' | field | indent({OWNER}, true) }}}}", "|indent(...) with a value", id="indent-by-a-value"),
            pytest.param(f"{{{{ record.owners | map('indent', {OWNER}) | join }}}}", "map('indent'", id="map-indent"),
            pytest.param(f"{{% set ns = namespace() %}}{{% set ns.__html__ = {OWNER}.lower %}}{{{{ ns }}}}",
                         "{% set ns.__html__ %}", id="namespace-html-attribute"),
            pytest.param(f"{{% if false %}}{{{{ {OWNER} | safe }}}}{{% endif %}}", "|safe", id="in-a-branch-never-taken"),
        ],
    )
    def test_construct_is_refused_naming_file_and_line(self, tmp_path: Path, snippet: str, construct: str) -> None:
        """A collector's statement that could print a record's value as HTML is refused, naming its file and line."""
        collector = hostile_collector(tmp_path, "\n" + snippet + "\n")
        error = refused(collector)
        statement = collector.folder / STATEMENT
        assert error.file == str(statement)
        assert error.line == line_of(statement, snippet)
        assert construct in error.message
        assert error.hint, "the designer is told what to write instead"
        assert f"{statement}:{error.line}" in str(error)

    @pytest.mark.parametrize(
        ("snippet", "files"),
        [
            pytest.param('{% include "parts/owner.html.j2" %}',
                         {"parts/owner.html.j2": "<p>\n{{ record.owners[0] | safe }}</p>\n"}, id="include"),
            pytest.param('{% from "parts/macros.html.j2" import owner %}{{ owner(record) }}',
                         {"parts/macros.html.j2": "{% macro owner(record) %}\n{{ record.owners[0] | safe }}\n{% endmacro %}\n"},
                         id="import"),
            pytest.param('{% include "parts/page.html.j2" %}',
                         {"parts/page.html.j2": '{% extends "parts/layout.html.j2" %}{% block owner %}x{% endblock %}\n',
                          "parts/layout.html.j2": "<div>\n{% block owner %}{% endblock %}{{ record.owners[0] | safe }}</div>\n"},
                         id="extends"),
        ],
    )
    def test_construct_in_a_template_loaded_by_another_is_refused_naming_that_file(
        self, tmp_path: Path, snippet: str, files: dict[str, str]
    ) -> None:
        """A hostile construct in an included, imported or extended template names that template and its line."""
        collector = hostile_collector(tmp_path, snippet, files=files)
        error = refused(collector)
        hostile_file = next(name for name, text in files.items() if "| safe" in text)
        assert error.file == str(collector.folder / hostile_file)
        assert error.line == 2

    def test_literal_translations_and_escaping_filters_are_accepted(self, tmp_path: Path) -> None:
        """Translations of written words with values passed by name, {% trans %}, |e, |forceescape and |indent(2) compose."""
        snippet = (
            "{{ _('Owner: %(name)s', name=record.owners[0]) }} {{ ngettext('%(num)s line', '%(num)s lines', 2) }}"
            "{% trans name=record.owners[0] %}Owner {{ name }}{% endtrans %}{% autoescape true %}{{ record.owners[0] }}"
            "{% endautoescape %}{{ record.owners[0] | e }}{{ record.owners[0] | forceescape }}"
            "{{ 'a' | field | indent(2) }}{{ record.owners | map('upper') | join(', ') }}"
        )
        hostile = dataclasses.replace(RECORD, owners=("<b>x</b>",))
        html = compose_statement(hostile_collector(tmp_path, snippet), hostile)
        assert "<b>x</b>" not in html
        assert "Owner: &lt;b&gt;x&lt;/b&gt;" in html

    @pytest.mark.parametrize(
        ("snippet", "reason"),
        [
            pytest.param("{{ (record.owners[0] | field)[:6] }}{{ record.owners[0] }}>", "piece of markup", id="slice"),
            pytest.param("{{ (record.owners[0] | field)[0] }}", "piece of markup", id="index"),
            pytest.param("{{ (record.owners[0] | field).translate({91: '<', 93: '>'}) }}", "'translate'", id="translate"),
            pytest.param("{{ (record.owners[0] | field).split('>') | first }}", "'split'", id="split"),
            pytest.param("{{ (record.owners[0] | field) | attr('partition') }}", "'partition'", id="attr-filter"),
            pytest.param("{{ record.owners[0] | field | reverse }}", "|reverse cuts markup", id="reverse"),
            pytest.param("{{ record.owners[0] | field | truncate(9, true, '') }}", "|truncate cuts markup", id="truncate"),
            pytest.param("{{ record.owners[0] | field | last }}", "|last cuts markup", id="last"),
            pytest.param("{{ [record.owners[0] | field] | map('reverse') | join }}", "|reverse cuts markup", id="map-reverse"),
            pytest.param("{% set ns = namespace(__html__=record.owners[0].lower) %}{{ ns }}", "namespace",
                         id="namespace-html"),
            pytest.param("{% set ns = namespace({'__html__': record.owners[0].lower}) %}{{ ns }}", "namespace",
                         id="namespace-html-mapping"),
            pytest.param("{{ ('{0:z}' | field).format(namespace(__html_format__=record.owners[0].strip)) }}", "namespace",
                         id="namespace-html-format"),
        ],
    )
    def test_markup_cannot_be_cut_or_forged_while_rendering(self, tmp_path: Path, snippet: str, reason: str) -> None:
        """Cutting markup (slice, method, filter) or a namespace posing as markup fails the piece, naming file and line."""
        collector = hostile_collector(tmp_path, "\n" + snippet + "\n")
        record = dataclasses.replace(RECORD, owners=("[img src=x]",))
        with pytest.raises(ConfigError, match="Template error") as caught:
            compose_statement(collector, record)
        assert reason in caught.value.message
        statement = collector.folder / STATEMENT
        assert (caught.value.file, caught.value.line) == (str(statement), line_of(statement, snippet))

    def test_plain_text_can_still_be_cut(self, tmp_path: Path) -> None:
        """Slicing, reversing and truncating a record's value (plain text) still work, and the result is escaped."""
        snippet = ("<p id='cut'>{{ record.owners[0][:4] }}|{{ record.owners[0] | reverse }}|"
                   "{{ record.owners[0] | truncate(6, true, '', 0) | field }}|{{ record.owners[0] | last }}</p>")
        record = dataclasses.replace(RECORD, owners=("<b>ANN</b>",))
        html = compose_statement(hostile_collector(tmp_path, snippet), record)
        assert ("<p id='cut'>&lt;b&gt;A|&gt;b/&lt;NNA&gt;b&lt;|<span class=\"field\">&lt;b&gt;ANN</span>|&gt;</p>") in html


@pytest.fixture(scope="module")
def composer() -> Composer:
    """Baltimore City's Composer in Spanish, so the translation hook is installed too."""
    collector = load_collector("baltimore-city")
    return Composer(collector, plan(collector, "final-notice", CITY_DATE), "es")


class TestProjectHelpersEscape:
    @pytest.mark.parametrize("value", HOSTILE_VALUES)
    @pytest.mark.parametrize(
        "template",
        [
            pytest.param("{{ value | field }}", id="field"),
            pytest.param("{{ statement('tp-14-812-a-2-title', tag='h1', css=value) }}", id="statement-css"),
            pytest.param("{{ statement('tp-14-812-a-2-date', tag='span', css=value) }}", id="statement-inline-css"),
            pytest.param("{{ _('Owner: %(name)s', name=value) }}", id="translation-value"),
            pytest.param("{% macro m(v) %}<i>{{ v }}</i>{% endmacro %}{{ m(value) }}", id="macro"),
            pytest.param("{{ record_lines | join(value) }}", id="join-separator"),
            pytest.param("{{ (value | field) ~ value }}", id="concatenation"),
            pytest.param("{{ '%s' | format(value) }}{{ ('x' | field).format(value) }}", id="format"),
            pytest.param("{{ ('x' | field).replace('x', value) }}", id="markup-replace"),
        ],
    )
    def test_hostile_value_comes_out_escaped(self, composer: Composer, template: str, value: str) -> None:
        """A hostile value passed through a helper or construct that returns markup comes out escaped."""
        part = composer.plan.parts[0]
        html = composer.env.from_string(template).render(part=part, value=value, record_lines=["a", "b"])
        assert value not in html
        assert str(escape(value)) in html

    @pytest.mark.parametrize("value", HOSTILE_VALUES)
    def test_translation_hook_escapes_its_class(self, composer: Composer, value: str) -> None:
        """The hook that prints a statement's translation escapes the class a template gives it."""
        block = next(b for b in composer.plan.parts[0].blocks if b.translation("es"))
        html = str(compose.statement_translation("es")(block, "p", value))
        assert value not in html
        assert str(escape(value)) in html

    @pytest.mark.parametrize("value", HOSTILE_VALUES)
    def test_field_escapes_its_value(self, value: str) -> None:
        """field() wraps the escaped value in its box."""
        assert str(field(value)) == f'<span class="field">{escape(value)}</span>'


class TestTemplatesStayInTheirFolders:
    def test_link_to_a_file_outside_is_refused(self, tmp_path: Path) -> None:
        """A template in the collector's folder that links to a file elsewhere is refused, naming the link and where it leads."""
        secret = tmp_path / "outside" / "hostname"
        secret.parent.mkdir()
        secret.write_text("SECRET-HOST\n", "utf-8")
        collector = hostile_collector(tmp_path)
        (collector.folder / "envelope.html.j2").symlink_to(secret)
        error = refused(collector)
        assert error.file == str(collector.folder / "envelope.html.j2")
        assert error.value == str(secret.resolve())
        assert "outside" in error.message

    def test_link_to_a_system_file_is_refused(self, tmp_path: Path) -> None:
        """A link to /etc/hostname (the issue's case) does not print the machine's name: it is refused."""
        if not Path("/etc/hostname").is_file():
            pytest.skip("no /etc/hostname here")
        collector = hostile_collector(tmp_path)
        (collector.folder / "envelope.html.j2").symlink_to("/etc/hostname")
        assert refused(collector).file == str(collector.folder / "envelope.html.j2")

    def test_link_to_another_collectors_template_is_refused(self, tmp_path: Path) -> None:
        """A link into another collector's folder leaves the allowed roots (this collector and base) and is refused."""
        collector = hostile_collector(tmp_path)
        (collector.folder / "envelope.html.j2").symlink_to(templates_dir() / "baltimore-county" / "summary.html.j2")
        assert refused(collector).file == str(collector.folder / "envelope.html.j2")

    def test_linked_folder_outside_is_refused(self, tmp_path: Path) -> None:
        """A folder link in the collector's folder to a folder elsewhere does not let its templates in."""
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "owner.html.j2").write_text("<p>elsewhere</p>\n", "utf-8")
        collector = hostile_collector(tmp_path, '{% include "parts/owner.html.j2" %}')
        (collector.folder / "parts").symlink_to(outside, target_is_directory=True)
        assert refused(collector).file == str(collector.folder / "parts" / "owner.html.j2")

    def test_links_that_stay_inside_are_followed(self, tmp_path: Path) -> None:
        """Links to a template in the collector's folder, or in templates/base, are read as usual."""
        collector = hostile_collector(tmp_path, '{% include "parts/mark.html.j2" %}',
                                      files={"parts/real-mark.html.j2": "<p class='mark'>inside</p>\n"})
        (collector.folder / "parts" / "mark.html.j2").symlink_to(collector.folder / "parts" / "real-mark.html.j2")
        (collector.folder / "envelope.html.j2").symlink_to(templates_dir() / "base" / "envelope.html.j2")
        html = compose_statement(collector)
        assert "<p class='mark'>inside</p>" in html
        assert 'class="window address-window"' in html

    def test_parent_folder_in_a_template_name_is_not_found(self, tmp_path: Path) -> None:
        """'..' in an include's name does not climb out of the roots: the template is not found."""
        (tmp_path / "owner.html.j2").write_text("<p>elsewhere</p>\n", "utf-8")
        collector = hostile_collector(tmp_path, '{% include "../owner.html.j2" %}')
        error = refused(collector)
        assert error.message == "Template error: ../owner.html.j2"
        assert error.file == str(collector.folder / STATEMENT)


class TestShippedTemplates:
    @pytest.mark.parametrize("collector_id", available())
    def test_every_shipped_template_loads(self, collector_id: str) -> None:
        """Every template of each shipped collector, and of templates/base, passes the check and compiles."""
        collector = load_collector(collector_id)
        day = {"baltimore-city": CITY_DATE, "baltimore-county": COUNTY_DATE}.get(collector_id, CITY_DATE)
        composer = Composer(collector, plan(collector, "final-notice", day))
        names = composer.env.list_templates(filter_func=lambda name: name.endswith(".j2"))
        assert names
        for name in names:
            composer.env.get_template(name)

    def test_each_template_is_checked_once(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Two Composers composing several pieces check each template file once, not once per piece or Composer."""
        checked: list[str] = []
        original = sandbox.refuse_markup

        def counting(tree: Any, file: str) -> None:
            checked.append(file)
            original(tree, file)

        monkeypatch.setattr(sandbox, "refuse_markup", counting)
        collector = hostile_collector(tmp_path)
        for _ in range(2):
            the_plan = plan(collector, "final-notice", CITY_DATE)
            composer = Composer(collector, the_plan)
            for seq in range(3):
                composer.fragment(the_plan.parts[0], RECORD, seq=seq, pay_by=CITY_DATE + dt.timedelta(days=30))
        mine = [f for f in checked if f.startswith(os.fspath(tmp_path))]
        assert mine == [str(collector.folder / STATEMENT)]
