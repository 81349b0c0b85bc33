"""Turn the committed Babel message catalogs (.po) into gettext translations, and templates into a catalog.

The catalogs are loaded from the ``.po`` files at run time (compiled in memory with Babel), so the
repository holds no compiled ``.mo`` binaries and a translator's edit takes effect on the next run.
Only the non-statutory words of the templates are in the catalogs: the statute's words stay in the
registry (``notices/statutes/blocks.toml``), and their Spanish translations beside them.

To refresh the catalog after a template changes (new strings come in untranslated, gone ones are
dropped), run ``python notices/locale/refresh.py`` (``--check`` only lists the gaps).
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from ._version import __version__
from .errors import ConfigError
from .resources import templates_dir

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
HEADER = """\
# The words of the notices templates that are not the statute's, for translation ({language}).
# The statute's words are not here: they print in English, with their translations in
# notices/statutes/blocks.toml. Refresh with notices/locale/refresh.py. A translation marked
# fuzzy is not used until a translator checks it and removes the mark.
#"""
DOMAIN = "messages"
LANGUAGES = ("en", "es")  # en is the templates' own language: it needs no catalog
# The Jinja extractor with the options the Composer's environment uses (trim_blocks, lstrip_blocks,
# the i18n extension), so extraction sees the same template the renderer does.
METHOD_MAP = [("**.j2", "jinja2.ext:babel_extract")]
OPTIONS_MAP = {"**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(language: str) -> Catalog:
    path = po_path(language)
    try:
        with open(path, "rb") as handle:
            return read_po(handle, locale=language, domain=DOMAIN)
    except FileNotFoundError:
        raise ConfigError("No message catalog for this language", field="language", value=language) from None


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations for ``language`` (English: the templates' own words)."""
    if language == "en":
        return gettext.NullTranslations()
    if language not in LANGUAGES:
        raise ConfigError(f"Unknown language; choose one of {', '.join(LANGUAGES)}", field="language", value=language)
    catalog = read_catalog(language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy (unchecked) translation falls back to English
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def localized_facts(facts: dict[str, Any], language: str) -> dict[str, Any]:
    """A profile's facts with its ``[translations.<language>]`` table laid over them.

    Profile prose (a program's description, how to apply) is the collector's own words, not the
    templates': a collector translates it in its profile, next to the English, and a Spanish
    mailing prints that. A value with no translation prints as written.
    """
    over = (facts.get("translations") or {}).get(language)
    return _overlay(facts, over) if isinstance(over, dict) and language != "en" else facts


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _overlay(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def extract(roots: Iterable[Path] | None = None) -> Catalog:
    """Every translatable string of the templates (base and every collector), with where it is used."""
    template_root = templates_dir()
    catalog = Catalog(domain=DOMAIN, project="notices", version=__version__, msgid_bugs_address="",
                      copyright_holder="the notices authors", charset="utf-8", fuzzy=False)
    catalog.header_comment = HEADER.format(language="every language")
    for root in roots or [template_root]:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(root), METHOD_MAP, OPTIONS_MAP, comment_tags=("Translators:",), strip_comment_tags=True
        ):
            where = (str((Path(root) / filename).relative_to(template_root.parent)), lineno)
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def untranslated(language: str) -> list[str]:
    """Strings the templates use that the language's catalog does not translate (or marks fuzzy)."""
    catalog = read_catalog(language)
    missing = []
    for message in extract():
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None or not found.string or found.fuzzy or (isinstance(found.string, tuple) and not all(found.string)):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update(language: str) -> tuple[int, int]:
    """Merge the current template strings into ``language``'s catalog: (strings, untranslated)."""
    template = extract()
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=False, no_location=False)
    path = po_path(language)
    if path.exists():
        catalog = read_catalog(language)
    else:
        catalog = Catalog(locale=language, domain=DOMAIN, project="notices", charset="utf-8", fuzzy=False)
    # No fuzzy matching: a guessed translation of a legal notice is worse than an honest gap.
    catalog.update(template, no_fuzzy_matching=True)
    catalog.header_comment = HEADER.format(language=language)
    catalog.project, catalog.version = "notices", __version__
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True, include_previous=False)
    translations.cache_clear()
    return len([m for m in catalog if m.id]), len(untranslated(language))
