"""Turn a workspace folder and the shipped data into the search path for profiles and templates.

A workspace is a folder of the collector's own, outside the installed package, so an office can add
a collector or adjust a template without editing site-packages:

    HOME/collectors/<id>/collector.toml   the collector's profile (read over the statewide base)
    HOME/collectors/<id>/*.html.j2        template overrides (summary.html.j2, other_information.html.j2, ...)
    HOME/collectors/<id>/style.css        a stylesheet laid over templates/base/style.css

Profiles and templates are looked up in the workspace's collector folder first, then the shipped
collector folder, then the shipped ``templates/base``. Nothing here writes into the package.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .model import Collector
from .resources import fonts_dir, templates_dir

HOME_ENV = "NOTICES_HOME"
COLLECTORS = "collectors"
PROFILE = "collector.toml"
BASE = "base"
README = "README.md"
COLLECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def home_from(given: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The workspace folder: the one given (``--home``), else ``NOTICES_HOME``, else none.

    The one place the environment variable is read; ``Options`` and the CLI both call it when a
    command runs, never at import. A workspace named but not there (a typo, an unmounted share) is a
    ``ConfigError``: the run would otherwise go on with the shipped profile and templates, and keep
    its barcode serials in a new, empty ledger, so serials already mailed could be drawn again.
    """
    named = "home"
    if given is None:
        value = (os.environ if environ is None else environ).get(HOME_ENV, "")
        if not value:
            return None
        given, named = Path(value), HOME_ENV
    if not given.is_dir():
        raise ConfigError("The workspace folder does not exist" if not given.exists() else "The workspace is not a folder",
                          file=str(given), field=named,
                          hint="make it with `notices init DIR --collector ID`, or correct the path")
    return given


@dataclass(frozen=True)
class Workspace:
    """Where profiles and templates are found: a workspace (or none), then the shipped set.

    ``shipped`` holds the shipped collector folders and ``base/collector.toml`` (tests point it at a
    copy); ``base`` is the shipped template folder every collector falls back on.
    """

    home: Path | None = None
    shipped: Path = field(default_factory=templates_dir)
    base: Path = field(default_factory=lambda: templates_dir() / BASE)
    fonts: Path = field(default_factory=fonts_dir)

    @classmethod
    def at(cls, home: Path | None) -> Workspace:
        return cls(home=home)

    def own(self, collector_id: str) -> Path | None:
        """The collector's folder in the workspace (which may not exist yet), or None without a workspace."""
        return self.home / COLLECTORS / collector_id if self.home is not None else None

    def own_folder(self, collector_id: str) -> Path | None:
        """The collector's folder in the workspace when it exists."""
        own = self.own(collector_id)
        return own if own is not None and own.is_dir() else None

    def profile(self, collector_id: str) -> Path:
        """The collector's profile: the workspace's when it has one, else the shipped one (which may be missing)."""
        own = self.own(collector_id)
        if own is not None and (own / PROFILE).is_file():
            return own / PROFILE
        return self.shipped / collector_id / PROFILE

    def base_profile(self) -> Path:
        return self.shipped / BASE / PROFILE

    def template_roots(self, collector_id: str) -> tuple[Path, ...]:
        """The template search path of a collector: workspace folder, shipped folder, shipped base (those that exist)."""
        folders = [p for p in (self.own_folder(collector_id), self.shipped / collector_id) if p is not None and p.is_dir()]
        return tuple(dict.fromkeys([*folders, self.base]))

    def ids(self) -> list[str]:
        """Every collector id with a profile, in the workspace or shipped."""
        found = {p.parent.name for p in self.shipped.glob(f"*/{PROFILE}")}
        if self.home is not None:
            found |= {p.parent.name for p in (self.home / COLLECTORS).glob(f"*/{PROFILE}")}
        return sorted(found - {BASE})


def template_roots(collector: Collector) -> tuple[Path, ...]:
    """A collector's template search path (one made by hand has its folder, then templates/base)."""
    return collector.roots or tuple(dict.fromkeys((collector.folder, templates_dir() / BASE)))


def starter_profile(collector_id: str, name: str | None = None) -> str:
    """A profile over the statewide base in which every local fact is a marked placeholder.

    Statewide facts (the Ombudsman, the HOPE Hotline, the credit, the Homeowner Protection Program)
    come from the base profile; nothing local is filled in until the office confirms it.
    """
    title = name or "[collector's name]"
    shown = f'"{title}"' if name else f'{{ value = "{title}", placeholder = true, note = "the collector\'s name as it is printed" }}'

    def fact(key: str, value: str, note: str) -> str:
        return f'{key} = {{ value = {value}, placeholder = true, note = "{note}" }}'

    lines = [
        f"# {title} ({collector_id}). Every local fact below is a placeholder until the collector's office",
        "# confirms it; then write it as { value = ..., source = \"where it comes from\", confirmed = \"YYYY-MM-DD\" }.",
        "# Statewide facts (State Tax Sale Ombudsman, HOPE Hotline, homeowners' credit, Homeowner Protection",
        "# Program) come from the base profile. Check it: notices collectors check " + collector_id,
        "",
        f"name = {shown}",
        fact("office", '"[collector\'s office]"', "the office that collects property tax is not confirmed"),
        'locale = "en_US"',
        fact("phone", '"[collector\'s phone]"', "the tax office's phone number is not confirmed"),
        fact("website", '"[collector\'s website]"', "the tax office's web address is not confirmed"),
        fact("return_address", '["[office]", "[street or P.O. box]", "[city] MD [ZIP]"]', "the return address is not confirmed"),
        fact("remit_to", '["[payee]", "[street or P.O. box]", "[city] MD [ZIP]"]', "the remittance address is not confirmed"),
        "",
        "[water_sewer]",
        "# § 14-812(b)(7): true, with the low-income discount program's name, when the collector sells water/sewer liens.",
        fact("sells_liens", "false", "whether the collector sells water and sewer liens is not confirmed"),
        "",
        "# [installment.local]: a local installment program (law = \"10-208\" or \"10-209\"), when the collector has one;",
        "# without it the State program is described and the State Tax Sale Ombudsman designs the insert.",
        "",
    ]
    return "\n".join(lines)


def _readme(home: Path, collector_id: str, shipped: bool) -> str:
    # Its prose ("... from ... where ...") sets off the SQL-injection lint: this is Markdown, not a query.
    start = "a copy of the profile notices ships" if shipped else "the statewide base, with every local fact a placeholder"
    return f"""# notices workspace

This folder holds a collector's own profile and templates for `notices`, outside the installed
package. Give it to every command with `--home {home}`, or set `NOTICES_HOME={home}`.

| path | what |
| --- | --- |
| `collectors/{collector_id}/collector.toml` | the collector's profile ({start}), read over the statewide base profile |
| `collectors/{collector_id}/*.html.j2`, `style.css` | template overrides: a file named like a shipped template is used instead of it |

Templates you may override: `summary.html.j2` (the one-page tax sale summary), `other_information.html.j2`,
`final-notice-statement.html.j2`, `post-sale-statement.html.j2`, `envelope.html.j2`, `style.css`.

Templates are looked up here first, then in the collector's shipped folder, then in the shipped
`templates/base`. The inserts the State Tax Sale Ombudsman designs are always the shipped ones.

## What to fill in

Every value written `{{ value = ..., placeholder = true, note = "..." }}` is not confirmed. Replace it
with the confirmed value, written `{{ value = ..., source = "where it comes from", confirmed = "YYYY-MM-DD" }}`
(or plainly, `phone = "410-555-0100"`). Phone numbers, web addresses, ZIP codes and dates are checked.

## How to check it

    notices collectors check {collector_id} --home {home}
    notices collectors show {collector_id} --home {home}
    notices render --mailing bill-inserts --collector {collector_id} --date YYYY-MM-DD --out out/ --home {home}

`collectors check` exits 2 and names the file, key and line of anything that is not valid, and lists
the values that are still placeholders.
"""  # noqa: S608


def init(home: Path, collector_id: str, workspace: Workspace | None = None) -> list[Path]:
    """Create a workspace for one collector in ``home``; returns the files written.

    The profile starts from the shipped one, or from the statewide base for a collector notices does
    not ship. An existing file is never overwritten: the whole init is refused before anything is written.
    """
    if not COLLECTOR_ID.match(collector_id) or collector_id == BASE:
        raise ConfigError("A collector id is lower-case letters, digits and hyphens", field="collector", value=collector_id)
    space = workspace or Workspace(home=home)
    shipped = space.shipped / collector_id / PROFILE
    folder = home / COLLECTORS / collector_id
    files = {
        folder / PROFILE: shipped.read_text("utf-8") if shipped.is_file() else starter_profile(collector_id),
        home / README: _readme(home, collector_id, shipped.is_file()),
    }
    for path in files:
        if path.exists():
            raise ConfigError("The workspace already holds this file; notices never overwrites it",
                              file=str(path), hint="Edit it, or init another folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            with open(path, "x", encoding="utf-8") as handle:  # "x": a file made meanwhile is not overwritten either
                handle.write(text)
    except FileExistsError as exc:
        raise ConfigError("The workspace already holds this file; notices never overwrites it",
                          file=str(exc.filename or home), hint="Edit it, or init another folder") from None
    except OSError as exc:
        raise ConfigError(f"Cannot create the workspace: {exc.strerror or exc}", file=str(exc.filename or home),
                          hint="choose a folder this user can create and write to") from None
    return list(files)
