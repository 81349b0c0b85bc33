"""Turn a run's inputs, templates, profile, fonts, law and tool into fingerprints that a resume must find unchanged."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._version import __version__
from .model import Collector
from .options import Options
from .resources import fonts_dir
from .workspace import template_roots

_PACKAGE = Path(__file__).resolve().parent


def tree_hash(paths: Sequence[Path], skip: Sequence[Path] = ()) -> str:
    """One digest of the files under ``paths``, by relative name and content."""
    digest = hashlib.sha256()
    skipped = {Path(p).resolve() for p in skip}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            if path.resolve() in skipped:
                continue  # counted elsewhere (a profile is reported as "profile", not as "templates")
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in _PACKAGE.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    """A file's sha256, read a block at a time: a roll export may be as large as the input allows (2 GiB)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# The versions layout reuse (``notices.fields``) was proven byte-identical with (tests/test_fields.py), as
# pinned in constraints.txt; with HarfBuzz subsetting the fonts, as ``toolchain()`` reports it.
REUSE_PROVEN = {"weasyprint": "70.0", "pydyf": "0.13.0", "harfbuzz-subset": "present"}


def reuse_refused(tools: Mapping[str, str]) -> str | None:
    """Why a toolchain (``toolchain()``) lays every piece out in full instead of reusing layouts, or None when it reuses them."""
    if tools.get("harfbuzz-subset") != "present":
        return "libharfbuzz-subset0 is not installed"
    other = [f"{name} {tools.get(name, 'absent')} (proven: {version})" for name, version in REUSE_PROVEN.items()
             if tools.get(name) != version]
    return "not the versions layout reuse was proven with: " + ", ".join(other) if other else None


def toolchain() -> dict[str, str]:
    """The versions of the libraries that shape the bytes, asked of WeasyPrint's own bindings (``render.toolchain``)."""
    from .render import toolchain as asked  # noqa: PLC0415 - WeasyPrint: a run with workers has it asked beside it

    return asked()


def run_identity(options: Options, collector: Collector, tools: dict[str, str] | None = None) -> dict[str, str]:
    """What must not change between a run and its resume, each with a fingerprint.

    ``tools``: ``toolchain()`` as another process of this run answered it (``workers.make_inserts``).
    """
    return {
        "input": _file_hash(options.input),
        # The whole search path: a workspace's overrides and the shipped templates they fall back on.
        "templates": tree_hash(list(template_roots(collector)), skip=list(collector.sources)),
        "profile": tree_hash(list(collector.sources)),
        "fonts": tree_hash([fonts_dir()]),
        "statutes": tree_hash([_PACKAGE / "statutes"]),
        "envelopes": tree_hash([_PACKAGE / "postal"]),
        "catalogs": tree_hash(sorted((_PACKAGE / "locale").rglob("*.po"))),
        # The package's own code: a fix between a run and its resume must not mix old and new pieces.
        "code": _code_hash(),
        "tool": json.dumps({"notices": __version__, **(toolchain() if tools is None else tools)}, sort_keys=True),
        "options": json.dumps(
            {"collector": options.collector, "mailing": options.mailing, "date": options.date.isoformat(),
             "language": options.language, "encoding": options.encoding, "format": options.format,
             "shard": list(options.shard) if options.shard else None, "envelope": options.envelope,
             "sort": options.sort, "inserter": options.inserter, "serial_range": options.serial_range,
             "pdf_variant": options.pdf_variant, "large_print": options.large_print},
            sort_keys=True,
        ),
    }
