"""Turn a collector's TOML profile (over the shared base profile) into a Collector."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import Collector
from .resources import templates_dir

PROFILE = "collector.toml"
BASE = "base"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
REQUIRED = ("name", "office", "locale", "phone", "website", "return_address", "remit_to")


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not _is_fact(value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_fact(value: object) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= {"value", "placeholder", "note", "source"}


def _unwrap(node: Any, path: str, placeholders: list[str]) -> Any:
    """Replace ``{value=…, placeholder=true}`` tables by their value, noting where they were."""
    if _is_fact(node):
        if node.get("placeholder"):
            note = f" ({node['note']})" if node.get("note") else ""
            placeholders.append(f"{path}{note}")
        return _unwrap(node["value"], path, placeholders)
    if isinstance(node, dict):
        return {k: _unwrap(v, f"{path}.{k}" if path else k, placeholders) for k, v in node.items()}
    if isinstance(node, list):
        return [_unwrap(v, f"{path}[{i}]", placeholders) for i, v in enumerate(node)]
    return node


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Collector profile is not valid TOML: {exc}", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read collector profile: {exc.strerror}", file=str(path)) from None


def available(root: Path | None = None) -> list[str]:
    root = root or templates_dir()
    return sorted(p.parent.name for p in root.glob(f"*/{PROFILE}") if p.parent.name != BASE)


def load_collector(collector_id: str, root: Path | None = None) -> Collector:
    """Load ``templates/<id>/collector.toml`` over ``templates/base/collector.toml``."""
    root = root or templates_dir()
    if not _ID.match(collector_id) or collector_id == BASE:
        raise ConfigError("A collector id is lower-case letters, digits and hyphens", field="collector", value=collector_id)
    folder = root / collector_id
    profile = folder / PROFILE
    if not profile.is_file():
        known = ", ".join(available(root)) or "none"
        raise ConfigError(f"No collector profile; known collectors: {known}", file=str(profile), field="collector", value=collector_id)
    base_file = root / BASE / PROFILE
    raw = _merge(_read(base_file), _read(profile))
    placeholders: list[str] = []
    facts = _unwrap(raw, "", placeholders)
    missing = [key for key in REQUIRED if key not in facts]
    if missing:
        raise ConfigError("Collector profile lacks required facts", file=str(profile), field=", ".join(missing))
    return Collector(
        id=collector_id,
        name=str(facts["name"]),
        folder=folder,
        facts=facts,
        placeholders=tuple(placeholders),
        sources=(base_file, profile),
    )
