"""A collector's own workspace: init, the search path (workspace, shipped, base), --home and NOTICES_HOME."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import COUNTY_CSV, COUNTY_DATE
from hostile import STATEMENT, compose_statement
from typer.testing import CliRunner

from notices.cli import app
from notices.collectors import load_collector
from notices.errors import ConfigError
from notices.fingerprint import run_identity, tree_hash
from notices.options import Options
from notices.resources import fonts_dir, templates_dir
from notices.workspace import HOME_ENV, Workspace, home_from, init, template_roots

runner = CliRunner()
MARK = "WORKSPACE-OVERRIDE-MARK"


def override_statement(home: Path, collector_id: str = "baltimore-county") -> Path:
    """A workspace copy of the base statement template carrying MARK."""
    target = home / "collectors" / collector_id / STATEMENT
    target.parent.mkdir(parents=True, exist_ok=True)
    template = (templates_dir() / "base" / STATEMENT).read_text("utf-8")
    target.write_text(template.replace("</section>", f"<p>{MARK}</p></section>"), "utf-8")
    return target


class TestInit:
    def test_init_copies_the_shipped_profile_and_writes_a_readme(self, tmp_path: Path) -> None:
        """init writes the shipped profile of a shipped collector and a README saying how to check it."""
        home = tmp_path / "ws"
        written = init(home, "baltimore-county")
        profile = home / "collectors" / "baltimore-county" / "collector.toml"
        assert written == [profile, home / "README.md"]
        assert profile.read_text("utf-8") == (templates_dir() / "baltimore-county" / "collector.toml").read_text("utf-8")
        assert "notices collectors check baltimore-county --home" in (home / "README.md").read_text("utf-8")

    def test_init_of_an_unshipped_id_starts_from_the_base_with_placeholders(self, tmp_path: Path) -> None:
        """A collector notices does not ship gets a profile whose local facts are all marked placeholders, and it loads."""
        init(tmp_path, "town-of-example")
        collector = load_collector("town-of-example", home=tmp_path)
        flagged = {p.split(" (")[0] for p in collector.placeholders}
        assert {"name", "office", "phone", "website", "return_address", "remit_to"} <= flagged
        assert collector.get("ombudsman.state.toll_free") == "(833) 732-8411"  # statewide, from the base

    def test_init_refuses_to_overwrite_and_leaves_the_file(self, tmp_path: Path) -> None:
        """A second init into the same folder exits 2 naming the file, and the file keeps its edits."""
        init(tmp_path, "baltimore-county")
        profile = tmp_path / "collectors" / "baltimore-county" / "collector.toml"
        profile.write_text(profile.read_text("utf-8") + "\n# edited\n", "utf-8")
        result = runner.invoke(app, ["init", str(tmp_path), "--collector", "baltimore-county"])
        assert result.exit_code == 2, result.output
        assert "collector.toml" in result.output and "overwrite" in result.output
        assert profile.read_text("utf-8").endswith("# edited\n")


class TestSearchPath:
    def test_a_workspace_template_is_used_and_the_shipped_one_is_untouched(self, tmp_path: Path) -> None:
        """A statement template in the workspace replaces the shipped one; nothing under templates/ changes."""
        before = tree_hash([templates_dir()])
        init(tmp_path, "baltimore-county")
        override_statement(tmp_path)
        collector = load_collector("baltimore-county", home=tmp_path)
        assert collector.roots == (tmp_path / "collectors" / "baltimore-county", templates_dir() / "baltimore-county",
                                   templates_dir() / "base")
        assert MARK in compose_statement(collector)
        assert MARK not in compose_statement(load_collector("baltimore-county"))
        assert tree_hash([templates_dir()]) == before

    def test_the_renderer_may_read_the_workspace_and_the_shipped_templates_and_fonts_only(self, tmp_path: Path) -> None:
        """The Renderer's allow-list is the collector's search path, the shipped templates and the fonts."""
        from notices.render import Renderer

        init(tmp_path, "baltimore-county")
        collector = load_collector("baltimore-county", home=tmp_path)
        roots = Renderer(template_roots(collector), collector.own).roots
        assert roots == [tmp_path / "collectors" / "baltimore-county", templates_dir(), fonts_dir()]

    def test_a_link_out_of_the_workspace_folder_is_refused(self, tmp_path: Path) -> None:
        """A workspace template that links to a file outside the allowed folders is refused, naming the link."""
        secret = tmp_path / "outside" / "secret.txt"
        secret.parent.mkdir()
        secret.write_text("SECRET\n", "utf-8")
        home = tmp_path / "ws"
        init(home, "baltimore-county")
        link = home / "collectors" / "baltimore-county" / "envelope.html.j2"
        link.symlink_to(secret)
        with pytest.raises(ConfigError) as caught:
            compose_statement(load_collector("baltimore-county", home=home))
        assert caught.value.file == str(link)
        assert caught.value.value == str(secret.resolve())

    def test_the_resume_fingerprint_covers_workspace_templates_and_profile(self, tmp_path: Path) -> None:
        """Editing a workspace template or the workspace profile changes what a resume must find unchanged."""
        home = tmp_path / "ws"
        init(home, "baltimore-county")
        options = Options(COUNTY_CSV, tmp_path / "out", "baltimore-county", "final-notice", COUNTY_DATE, home=home)
        first = run_identity(options, load_collector("baltimore-county", home=home))
        override_statement(home)
        second = run_identity(options, load_collector("baltimore-county", home=home))
        assert first["templates"] != second["templates"]
        profile = home / "collectors" / "baltimore-county" / "collector.toml"
        profile.write_text(profile.read_text("utf-8") + "\n# edited\n", "utf-8")
        third = run_identity(options, load_collector("baltimore-county", home=home))
        assert second["profile"] != third["profile"]


class TestHome:
    def test_notices_home_is_read_when_an_options_is_made(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Options.home comes from NOTICES_HOME when not given, and the given one wins."""
        monkeypatch.setenv(HOME_ENV, str(tmp_path))
        assert Options(COUNTY_CSV, tmp_path, "baltimore-county", "final-notice", COUNTY_DATE).home == tmp_path
        (tmp_path / "given").mkdir()
        assert home_from(tmp_path / "given") == tmp_path / "given"
        monkeypatch.delenv(HOME_ENV)
        assert Options(COUNTY_CSV, tmp_path, "baltimore-county", "final-notice", COUNTY_DATE).home is None

    def test_a_workspace_that_is_not_there_is_refused_not_replaced_by_the_shipped_one(self, tmp_path: Path) -> None:
        """A typo in --home or NOTICES_HOME: the run would use the shipped profile and a new, empty serial ledger."""
        (tmp_path / "a-file").write_text("not a folder")
        for home in (tmp_path / "nowhere", tmp_path / "a-file"):
            with pytest.raises(ConfigError) as given:
                home_from(home)
            assert given.value.field == "home" and given.value.file == str(home)
            with pytest.raises(ConfigError) as named:
                home_from(None, {HOME_ENV: str(home)})
            assert named.value.field == HOME_ENV
        assert home_from(None, {HOME_ENV: ""}) is None

    def test_the_command_line_refuses_a_missing_workspace_before_anything_is_written(self, tmp_path: Path,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        out = tmp_path / "out"
        result = runner.invoke(app, ["render", str(COUNTY_CSV), "-c", "baltimore-county", "-d", COUNTY_DATE.isoformat(),
                                     "-o", str(out), "--home", str(tmp_path / "nowhere")])
        assert result.exit_code == 2 and "The workspace folder does not exist" in result.output
        assert not out.exists()
        monkeypatch.setenv(HOME_ENV, str(tmp_path / "nowhere"))
        listed = runner.invoke(app, ["collectors", "list"])
        assert listed.exit_code == 2 and "NOTICES_HOME" in listed.output

    def test_collectors_list_reads_home_from_the_option_and_the_environment(self, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
        """A collector only the workspace holds is listed with --home, and with NOTICES_HOME."""
        init(tmp_path, "town-of-example")
        monkeypatch.delenv(HOME_ENV, raising=False)
        assert "town-of-example" not in runner.invoke(app, ["collectors", "list"]).output
        assert "town-of-example" in runner.invoke(app, ["collectors", "list", "--home", str(tmp_path)]).output
        monkeypatch.setenv(HOME_ENV, str(tmp_path))
        assert "town-of-example" in runner.invoke(app, ["collectors", "list"]).output
        shown = runner.invoke(app, ["collectors", "show", "town-of-example"])
        assert shown.exit_code == 0 and str(tmp_path / "collectors" / "town-of-example") in shown.output

    def test_a_workspace_without_the_collector_falls_back_on_the_shipped_profile(self, tmp_path: Path) -> None:
        """--home with another collector's workspace still finds the shipped profiles."""
        init(tmp_path, "town-of-example")
        collector = load_collector("baltimore-city", workspace=Workspace(home=tmp_path))
        assert collector.folder == templates_dir() / "baltimore-city"
        assert hashlib.sha256(collector.sources[-1].read_bytes()).digest()
