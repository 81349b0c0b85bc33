"""Turn the install layout into the two folders the renderer may read: templates and fonts."""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def data_root() -> Path:
    """The folder holding ``templates/`` and ``fonts/``.

    A wheel carries them inside the package (``notices/_data``); a source checkout or an editable
    install has them at the top of the repository.
    """
    for root in (_PACKAGE / "_data", _PACKAGE.parent):
        if (root / "templates" / "base").is_dir() and (root / "fonts").is_dir():
            return root
    raise FileNotFoundError("notices: templates/ and fonts/ not found next to the package")


def templates_dir() -> Path:
    return data_root() / "templates"


def fonts_dir() -> Path:
    return data_root() / "fonts"
