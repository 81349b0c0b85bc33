"""The work the Composer does once and keeps (translations, formatted amounts and dates, the sandbox's
attribute answers) gives exactly what doing it every time gives."""

from __future__ import annotations

import abc
import collections.abc
import datetime as dt
import types
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

import pytest
from conftest import CITY_DATE
from jinja2 import StrictUndefined
from markupsafe import Markup, escape

from notices import formatting
from notices.collectors import load_collector
from notices.compose import Composer, field, translations
from notices.resolve import plan
from notices.sandbox import TemplateSandbox


@pytest.fixture(scope="module", params=["en", "es"])
def composer(request: pytest.FixtureRequest) -> Composer:
    collector = load_collector("baltimore-city")
    return Composer(collector, plan(collector, "final-notice", CITY_DATE), request.param)


def stock_environment(language: str) -> TemplateSandbox:
    """The sandbox with the i18n extension's own ``_`` and ``gettext``, as the Composer had them before."""
    env = TemplateSandbox(autoescape=True, undefined=StrictUndefined, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]  # added by the extension
    return env


TRANSLATING = [
    "{{ _('Page') }}|{{ _('Page') }}|{{ _('of') }}",
    "{{ gettext('Total due') }}",
    "{{ _('By mail, payable to %(name)s:', name=value) }}",
    "{{ _('By mail, payable to %(name)s:', name=value) }}{{ _('By mail, payable to %(name)s:', name='B&O') }}",
    "{{ _('A word %(string)s', string=value) }}",  # a value named like the message's own parameter
    "{{ _('100%% of %(x)s', x=value) }}{{ _('50%%') }}",
    "{% for line in [1, 2] %}{{ _('Interest') }}: {{ line }} {% endfor %}",
    "{% macro gettext(s) %}[{{ s }}]{% endmacro %}{{ _('Page') }}",  # a template's own gettext is the one _ calls
    "{% macro m(s) %}<{{ s }}>{% endmacro %}{% for gettext in [m] %}{{ _('Page') }}{% endfor %}",
]


class TestTranslations:
    @pytest.mark.parametrize("template", TRANSLATING)
    def test_direct_translation_prints_what_the_extension_prints(self, composer: Composer, template: str) -> None:
        value = "<b>O'Neil & Sons</b>"
        kept = composer.env.from_string(template)
        stock = stock_environment(composer.language).from_string(template)
        for _ in range(2):  # the second time from what was kept
            assert kept.render(value=value) == stock.render(value=value)

    def test_translated_values_are_escaped(self, composer: Composer) -> None:
        html = composer.env.from_string("{{ _('By mail, payable to %(name)s:', name=value) }}").render(value="<i>x</i>")
        assert "<i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html


def the_filter(locale: str, name: str) -> Callable[[Any], str]:
    return cast(Callable[[Any], str], formatting.filters(locale)[name])


AMOUNTS: list[Any] = [Decimal("0"), Decimal("-0"), Decimal("-0.00"), Decimal("0.005"), Decimal("-0.005"), Decimal("0.015"),
           Decimal("-0.0051"), Decimal("1.5"), Decimal("1.50"), Decimal("1.500"), Decimal("1E+3"), Decimal("1000"),
           Decimal("1234567.895"), Decimal("-98765.43"), Decimal("2.675"), 2.675, 0.1, 7, -7, "12.345", "1e2"]


class TestFormattedValues:
    @pytest.mark.parametrize("language", ["en", "es"])
    def test_kept_amounts_read_as_formatted_afresh(self, language: str) -> None:
        locale = formatting.locale_for(language)
        money = the_filter(locale, "money")
        for _ in range(2):
            for value in AMOUNTS:
                assert money(value) == formatting.money(Decimal(value), locale), value

    def test_equal_amounts_written_differently_are_kept_apart(self) -> None:
        number = the_filter("en_US", "number")
        assert [number(Decimal(v)) for v in ("1.5", "1.50", "1E+1", "10")] == [
            formatting.number(Decimal(v)) for v in ("1.5", "1.50", "1E+1", "10")]

    @pytest.mark.parametrize("language", ["en", "es"])
    def test_kept_dates_read_as_formatted_afresh(self, language: str) -> None:
        locale = formatting.locale_for(language)
        longdate = the_filter(locale, "longdate")
        for _ in range(2):
            for day in (CITY_DATE, dt.date(2027, 12, 31), dt.date(1999, 1, 1)):
                assert longdate(day) == formatting.long_date(day, locale)

    def test_equal_datetimes_on_different_days_print_their_own_day(self) -> None:
        longdate = the_filter("en_US", "longdate")
        late = dt.datetime(2027, 2, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        early = dt.datetime(2027, 2, 2, 4, 0, tzinfo=dt.UTC)
        assert late == early
        assert (longdate(late), longdate(early)) == ("February 1, 2027", "February 2, 2027")
        assert longdate(dt.date(2027, 2, 1)) == "February 1, 2027"


@pytest.mark.parametrize("value", ["ANN SMITH", "<b>A&B</b>", Markup("<i>kept</i>"), 42, Decimal("1.50"), ""])
def test_field_wraps_the_escaped_value(value: Any) -> None:
    assert field(value) == Markup('<span class="field">') + escape(value) + Markup("</span>")
    assert type(field(value)) is Markup


class Plain:
    clear = "a word"
    name = "x"

    def method(self) -> str:
        return "m"


def function() -> None:
    return None


OBJECTS: list[Any] = [Plain(), Plain, {"a": 1}, [1], {1}, "text", Markup("<i>m</i>"), function, Plain().method,
                      (i for i in range(0)), dt.date(2027, 1, 1), Decimal("1"), types.SimpleNamespace(a=1)]
ATTRIBUTES = ["name", "clear", "append", "add", "update", "pop", "upper", "split", "join", "format", "mro",
              "__class__", "_private", "__globals__", "__code__", "__func__", "gi_frame", "year", "method", "a"]


class TestSandboxAnswers:
    def test_kept_answers_are_the_sandbox_rules(self) -> None:
        env = TemplateSandbox(autoescape=True)
        for _ in range(2):
            for obj in OBJECTS:
                for attr in ATTRIBUTES:
                    assert env.is_safe_attribute(obj, attr, None) == env._is_safe_attribute(obj, attr, None), (obj, attr)

    def test_markup_methods_stay_refused_after_plain_text_was_allowed(self) -> None:
        env = TemplateSandbox(autoescape=True)
        assert env.is_safe_attribute("text", "split", None)
        assert not env.is_safe_attribute(Markup("<i>x</i>"), "split", None)
        assert env.is_safe_attribute("text", "split", None)

    def test_a_class_registered_as_mutable_loses_its_methods(self) -> None:
        env = TemplateSandbox(autoescape=True)

        class Table:
            def clear(self) -> None:
                return None

        assert env.is_safe_attribute(Table(), "clear", None)
        collections.abc.MutableMapping.register(Table)
        assert abc.get_cache_token() != env._abc_token
        assert not env.is_safe_attribute(Table(), "clear", None)

    def test_an_object_claiming_another_class_is_asked_every_time(self) -> None:
        env = TemplateSandbox(autoescape=True)

        class Claims:
            __class__ = list  # type: ignore[assignment]  # what a proxy does

        assert isinstance(Claims(), list)
        assert not env.is_safe_attribute(Claims(), "append", None)
        assert (Claims, "append") not in env._safe_attributes


class TestTemplatesCompiledOnce:
    """A worker's Composer is given what the main process compiled (``Composer.compiled``): it compiles none of
    those templates again, composes the same statement, and compiles (and checks) any template whose source changed."""

    @staticmethod
    def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
        names: list[str] = []
        real = TemplateSandbox.compile

        def counted(self: TemplateSandbox, source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
            names.append(str(name))
            return real(self, source, name, *args, **kwargs)

        monkeypatch.setattr(TemplateSandbox, "compile", counted)
        return names

    def test_a_composer_given_the_compiled_templates_compiles_none_of_them_again(self, monkeypatch: pytest.MonkeyPatch) -> None:
        collector = load_collector("baltimore-city")
        the_plan = plan(collector, "final-notice", CITY_DATE)
        first = Composer(collector, the_plan, "en")
        expected = self.fragment(first)
        given = first.compiled()
        assert {name for name, _ in given}, "the first composer kept nothing"
        compiled = self.compiles(monkeypatch)
        second = Composer(collector, the_plan, "en", compiled=given)
        assert self.fragment(second) == expected
        assert compiled == []
        # The control: a composer given nothing compiles the statement's template again.
        assert self.fragment(Composer(collector, the_plan, "en")) == expected
        assert "final-notice-statement.html.j2" in compiled

    def test_a_template_changed_since_it_was_compiled_is_compiled_and_checked_again(self, tmp_path: Any) -> None:
        from hostile import STATEMENT, hostile_collector

        from notices.errors import ConfigError

        collector = hostile_collector(tmp_path)
        the_plan = plan(collector, "final-notice", CITY_DATE)
        first = Composer(collector, the_plan, "en")
        self.fragment(first)
        template = collector.folder / STATEMENT
        template.write_text(template.read_text("utf-8").replace("</section>", "{{ record.owners[0] | safe }}</section>"), "utf-8")
        with pytest.raises(ConfigError, match="safe"):
            self.fragment(Composer(collector, the_plan, "en", compiled=first.compiled()))

    @staticmethod
    def fragment(composer: Composer) -> str:
        from hostile import RECORD

        part = composer.plan.parts[0]
        return composer.fragment(part, RECORD, seq=1, pay_by=CITY_DATE + dt.timedelta(days=30))
