"""Templates cannot read outside their folders: a template's real path must lie in the collector's folder
or templates/base; and the helpers that return markup escape what a template gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

import notices.compose as compose
from conftest import CITY_DATE, COUNTY_DATE
from hostile import STATEMENT, compose_statement, hostile_collector
from notices.collectors import available, load_collector
from notices.compose import Composer, field
from notices.errors import ConfigError
from notices.resolve import plan
from notices.resources import templates_dir

HOSTILE_VALUES = ["<b>x</b>", "</span><script>alert(1)</script>"]


def refused(collector: Any) -> ConfigError:
    """The ConfigError composing a statement with the collector's templates raises."""
    with pytest.raises(ConfigError) as caught:
        compose_statement(collector)
    return caught.value


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
