"""Collector profiles are checked at load against one schema; errors name file, key, line and what is valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from notices.cli import app
from notices.collectors import available, load_collector
from notices.errors import ConfigError
from notices.profile import SCHEMA
from notices.workspace import init

runner = CliRunner()


def workspace_profile(home: Path, edit: tuple[str, str]) -> Path:
    """A workspace copy of Baltimore City's profile with one line replaced."""
    init(home, "baltimore-city")
    profile = home / "collectors" / "baltimore-city" / "collector.toml"
    text = profile.read_text("utf-8")
    assert text.count(edit[0]) == 1
    profile.write_text(text.replace(edit[0], edit[1]), "utf-8")
    return profile


def refused(home: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_collector("baltimore-city", home=home)
    return caught.value


def line_number(profile: Path, start: str) -> int:
    return next(n for n, line in enumerate(profile.read_text("utf-8").splitlines(), 1) if line.startswith(start))


def test_the_profile_schema_is_itself_valid_draft_2020_12() -> None:
    """Held to the metaschema here rather than at every run's start."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("collector_id", available())
def test_every_shipped_profile_is_valid(collector_id: str) -> None:
    """Each shipped profile, over the base, passes the schema."""
    assert load_collector(collector_id).id == collector_id


def test_a_typo_in_a_key_is_refused_with_file_key_line_and_the_key_meant(tmp_path: Path) -> None:
    """`pay_onlin` is an unknown key: the error names the file, the key, its line and suggests `pay_online`."""
    profile = workspace_profile(tmp_path, ("\npay_online = ", "\npay_onlin = "))
    error = refused(tmp_path)
    assert (error.file, error.field, error.line) == (str(profile), "pay_onlin", line_number(profile, "pay_onlin"))
    assert "did you mean 'pay_online'" in str(error.hint)


def test_a_malformed_phone_number_is_refused_with_file_key_line(tmp_path: Path) -> None:
    """A lien source's phone missing a digit is refused, naming the dotted key, its line and a valid form."""
    profile = workspace_profile(tmp_path, ('"Minor privilege" = { value = "410-396-3346"', '"Minor privilege" = { value = "410-396-334"'))
    error = refused(tmp_path)
    assert (error.file, error.field, error.line) == (str(profile), "sources.Minor privilege.value",
                                                      line_number(profile, '"Minor privilege"'))
    assert "410-396-3987" in str(error.hint)
    result = runner.invoke(app, ["collectors", "check", "baltimore-city", "--home", str(tmp_path)])
    assert result.exit_code == 2 and f"collector.toml:{error.line}" in result.output


@pytest.mark.parametrize(
    ("edit", "field", "line_start"),
    [
        pytest.param(('website = { value = "finance.baltimorecity.gov"', 'website = { value = "finance baltimorecity"'),
                     "website.value", "website", id="web-address"),
        pytest.param(('"200 Holliday Street", "Baltimore MD 21202"', '"200 Holliday Street", "Baltimore MD 2120"'),
                     "return_address.value", "return_address", id="zip-code"),
        pytest.param(("lien_warning = true", 'lien_warning = "yes"'), "statement.lien_warning", "lien_warning", id="wrong-type"),
        pytest.param(("confirmed = 2026-12-01 }\nwebsite", 'confirmed = "2026-13-01" }\nwebsite'),
                     "phone.confirmed", "phone", id="date"),
    ],
)
def test_malformed_values_are_refused_naming_the_key(tmp_path: Path, edit: tuple[str, str], field: str, line_start: str) -> None:
    """Web addresses, ZIP codes, types and confirmed dates are checked, each error naming its key and line."""
    profile = workspace_profile(tmp_path, edit)
    error = refused(tmp_path)
    assert (error.file, error.field) == (str(profile), field)
    assert error.line == line_number(profile, line_start)


def test_a_confirmed_fact_is_counted_and_a_toml_date_is_accepted(tmp_path: Path) -> None:
    """A fact written with a source and a TOML date is confirmed; one both placeholder and confirmed is refused."""
    website = 'website = { value = "finance.baltimorecity.gov", placeholder = true, note = "collections web address not confirmed" }'
    profile = workspace_profile(tmp_path, (website, 'website = { value = "finance.baltimorecity.gov", source = "brief", confirmed = 2026-12-01 }'))
    assert "website" in load_collector("baltimore-city", home=tmp_path).confirmed
    profile.write_text(profile.read_text("utf-8").replace('source = "brief"', 'placeholder = true, note = "x", source = "brief"'),
                       "utf-8")
    assert refused(tmp_path).field == "website"


def test_collectors_check_lists_placeholders_and_exits_0(tmp_path: Path) -> None:
    """`collectors check ID` says the profile is valid and lists each placeholder with its note."""
    result = runner.invoke(app, ["collectors", "check", "baltimore-county"])
    assert result.exit_code == 0, result.output
    assert "baltimore-county: valid" in result.output
    assert "placeholder: phone (2014 brochure: tax information line)" in result.output
