"""Turn the templates' current strings into an updated Spanish catalog, and report the gaps.

A maintainer's script (like samples/make_samples.py), not part of the package's API:

    .venv/bin/python notices/locale/refresh.py           # re-extract, merge into es, list gaps
    .venv/bin/python notices/locale/refresh.py --check   # only list untranslated strings

Exit status 1 when a string has no Spanish translation yet: translate it in
notices/locale/es/LC_MESSAGES/messages.po (remove any "fuzzy" flag once checked) and run again.
"""

from __future__ import annotations

import sys

from notices import i18n


def main(argv: list[str]) -> int:
    for language in (lang for lang in i18n.LANGUAGES if lang != "en"):
        if "--check" not in argv:
            total, _ = i18n.update(language)
            print(f"{language}: {total} strings in {i18n.po_path(language)}")
        gaps = i18n.untranslated(language)
        for text in gaps:
            print(f"{language}: untranslated: {text!r}")
        if gaps:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
