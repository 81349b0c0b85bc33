"""Turn a collector's TOML profile (over the shared base profile) into a Collector."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import Collector
from .profile import Source
from .profile import check as check_profile
from .resources import templates_dir
from .workspace import BASE, COLLECTOR_ID, Workspace

REQUIRED = ("name", "office", "locale", "phone", "website", "return_address", "remit_to")


FACT_KEYS = frozenset({"value", "placeholder", "note", "source", "confirmed"})


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not _is_fact(value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_fact(value: object) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= FACT_KEYS


def _unwrap(node: Any, path: str, placeholders: list[str], confirmed: list[str]) -> Any:
    """Replace ``{value=…, placeholder=true}`` and ``{value=…, confirmed=…}`` tables by their value, noting where they were."""
    if _is_fact(node):
        if node.get("placeholder"):
            note = f" ({node['note']})" if node.get("note") else ""
            placeholders.append(f"{path}{note}")
        elif node.get("confirmed"):
            confirmed.append(path)
        return _unwrap(node["value"], path, placeholders, confirmed)
    if isinstance(node, dict):
        return {k: _unwrap(v, f"{path}.{k}" if path else k, placeholders, confirmed) for k, v in node.items()}
    if isinstance(node, list):
        return [_unwrap(v, f"{path}[{i}]", placeholders, confirmed) for i, v in enumerate(node)]
    return node


def _read(path: Path) -> Source:
    try:
        text = path.read_text("utf-8")
        return Source(path, text, tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Collector profile is not valid TOML: {exc}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read collector profile: {exc.strerror}", file=str(path)) from None


def _workspace(root: Path | None, home: Path | None, workspace: Workspace | None) -> Workspace:
    """The search path: the one given, or the shipped set (``root`` stands in for it in tests) under ``home``."""
    if workspace is not None:
        return workspace
    return Workspace(home=home, shipped=root or templates_dir())


def available(root: Path | None = None, *, home: Path | None = None, workspace: Workspace | None = None) -> list[str]:
    """Every collector id with a profile, in the workspace or shipped."""
    return _workspace(root, home, workspace).ids()


def load_collector(collector_id: str, root: Path | None = None, *, home: Path | None = None,
                   workspace: Workspace | None = None) -> Collector:
    """Load the collector's profile (the workspace's, else the shipped one) over the statewide base profile."""
    space = _workspace(root, home, workspace)
    if not COLLECTOR_ID.match(collector_id) or collector_id == BASE:
        raise ConfigError("A collector id is lower-case letters, digits and hyphens", field="collector", value=collector_id)
    profile = space.profile(collector_id)
    if not profile.is_file():
        known = ", ".join(space.ids()) or "none"
        raise ConfigError(f"No collector profile; known collectors: {known}", file=str(profile), field="collector", value=collector_id)
    base_file = space.base_profile()
    sources = (_read(base_file), _read(profile))
    raw = _merge(sources[0].data, sources[1].data)
    check_profile(raw, sources)  # unknown keys, wrong types, malformed phones: file, key and line
    placeholders: list[str] = []
    confirmed: list[str] = []
    facts = _unwrap(raw, "", placeholders, confirmed)
    missing = [key for key in REQUIRED if key not in facts]
    if missing:
        raise ConfigError("Collector profile lacks required facts", file=str(profile), field=", ".join(missing))
    return Collector(
        id=collector_id,
        name=str(facts["name"]),
        folder=profile.parent,
        facts=facts,
        placeholders=tuple(placeholders),
        sources=(base_file, profile),
        roots=space.template_roots(collector_id),
        own=space.own_folder(collector_id),
        confirmed=tuple(confirmed),
    )
