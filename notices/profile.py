"""Turn a merged collector profile into a checked one, or a ConfigError naming file, key, line and what is valid.

The one schema is ``profile.schema.json`` (JSON Schema 2020-12, beside this module); an editor that
reads JSON Schema for TOML can use it too. tomllib gives no positions, so the line of a key is
found by searching the profile's text for it under its table's header.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

SCHEMA = Path(__file__).with_name("profile.schema.json")

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


@dataclass(frozen=True)
class Source:
    """One profile file as read: its path, its text and what tomllib made of it."""

    path: Path
    text: str
    data: dict[str, Any]


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - loaded on first use: `import notices` stays light

    # The shipped schema is held to the metaschema by the tests, not at every run's start (a third of a second).
    schema = json.loads(SCHEMA.read_text("utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _json_ready(node: Any) -> Any:
    """TOML dates and times as the ISO text JSON Schema checks (``confirmed = 2026-12-01`` is a date)."""
    if isinstance(node, dict):
        return {k: _json_ready(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_ready(v) for v in node]
    if isinstance(node, (dt.date, dt.time)):
        return node.isoformat()
    return node


def _parts(header: str) -> list[str]:
    return [p.strip().strip('"').strip("'") for p in header.split(".")]


def _sections(text: str) -> Iterator[tuple[list[str], int, list[tuple[int, str]]]]:
    """Each table of a TOML text: its key path, its header's line (0 for the top) and its lines."""
    table: list[str] = []
    header_line = 0
    lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _HEADER.match(line)
        if found and not line.lstrip().startswith("[["):
            yield table, header_line, lines
            table, header_line, lines = _parts(found.group(1)), number, []
        else:
            lines.append((number, line))
    yield table, header_line, lines


def line_of(text: str, path: Sequence[str]) -> int | None:
    """The line where the key ``path`` (or the nearest table or key holding it) is written, or None."""
    sections = list(_sections(text))
    for depth in range(len(path), 0, -1):
        table, key = list(path[: depth - 1]), path[depth - 1]
        for name, header_line, _ in sections:
            if name == [*table, key] and header_line:
                return header_line
        written = re.compile(rf"^\s*(?:\"{re.escape(key)}\"|'{re.escape(key)}'|{re.escape(key)})\s*=")
        for name, _, lines in sections:
            if name == table:
                for number, line in lines:
                    if written.match(line):
                        return number
    return None


def _holds(data: Any, path: Sequence[str]) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def _valid_here(error: Any) -> str:
    """What would be valid where the error is, in words."""
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = _extra(error)
        close = difflib.get_close_matches(extra, known, n=1) if extra else []
        guess = f"did you mean {close[0]!r}? " if close else ""
        return f"{guess}known keys here: {', '.join(known)}" if known else "no keys here"
    if error.validator == "required":
        return "add it"
    if error.validator == "not":
        return "a placeholder has a note; a confirmed value has a source and a confirmed date, and no placeholder"
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    return str(description or error.message)


def _extra(error: Any) -> str | None:
    if isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        return extra[0] if extra else None
    return None


def _field(error: Any) -> list[str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = _extra(error)
        return [*path, extra] if extra else path
    if error.validator == "required":
        missing = re.match(r"^'([^']+)'", error.message)
        return [*path, missing.group(1)] if missing else path
    return path


def _message(error: Any, dotted: str) -> str:
    if error.validator == "additionalProperties":
        return f"Unknown key {dotted!r} in the collector profile"
    if error.validator == "required":
        return f"The collector profile lacks {dotted!r}"
    if error.validator == "not":
        return f"{dotted!r} is marked both placeholder and confirmed"
    return f"{dotted!r} is not valid"


def check(merged: dict[str, Any], sources: Sequence[Source]) -> None:
    """Raise ConfigError for the first place (by file and line) where the merged profile breaks the schema.

    ``sources`` are the files merged, base first: an error is placed in the last one that writes its key.
    """
    errors = list(_validator().iter_errors(_json_ready(merged)))
    if not errors:
        return
    found = []
    for error in errors:
        path = _field(error)
        # Keys inside a fact table (value, note, ...) are found on the fact's own line.
        where = next((s for s in reversed(sources) if _holds(s.data, path[:1]) and _holds(s.data, _table_path(path))), sources[-1])
        line = line_of(where.text, _table_path(path) or path)
        found.append((sources.index(where), line, error, path, where))
    # The collector's own file first, then by line; a missing key (no line) last, as a typo explains it.
    _, line, error, path, where = min(found, key=lambda f: (-f[0], f[1] is None, f[1] or 0))
    dotted = ".".join(path) or "(the profile)"
    more = f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} after this one)" if len(errors) > 1 else ""
    raise ConfigError(_message(error, dotted) + more, file=str(where.path), line=line, field=dotted,
                      value=None if error.validator in ("additionalProperties", "required") else error.instance,
                      hint=f"Valid: {_valid_here(error)}")


def _table_path(path: Sequence[str]) -> list[str]:
    """The path without list indices (a key's line is searched by names)."""
    return [p for p in path if not p.isdigit()]
