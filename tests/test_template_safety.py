"""The helpers that return markup (field, statement, the translation hook) escape what a template gives them."""

from __future__ import annotations

import pytest
from markupsafe import escape

import notices.compose as compose
from conftest import CITY_DATE
from notices.collectors import load_collector
from notices.compose import Composer, field
from notices.resolve import plan

HOSTILE_VALUES = ["<b>x</b>", "</span><script>alert(1)</script>"]


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
