"""manifest.json is written row by row, as one ``json.dumps(..., indent=1)`` of the whole would write it."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

from notices.model import Outcome
from notices.output import _outcome_json

_TRICKY = ["", "plain", 'say "yes"', "back\\slash", "tab\there", "line\nbreak", "\x00\x1f\x7f", "Ma\u00f1ana \u00e9t\u00e9",
           "\u2028\u2029", "\U0001f3e0 house", "\ud800 lone", "</script>", "caf\u00e9 \u0130 \u00df", "1e400", "null"]


def _random_outcome(rng: random.Random) -> Outcome:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Outcome):
        kind = rng.choice(["str", "int", "bool", "none", "list", "findings"])
        if kind == "str":
            values[field.name] = rng.choice(_TRICKY) + str(rng.randint(0, 9))
        elif kind == "int":
            values[field.name] = rng.choice([0, 1, -7, 2**70, rng.randint(-10**6, 10**6)])
        elif kind == "bool":
            values[field.name] = rng.random() < 0.5
        elif kind == "none":
            values[field.name] = None
        elif kind == "list":
            values[field.name] = []
        else:
            values[field.name] = [{"block": rng.choice(_TRICKY), "line": rng.randint(0, 99), "value": None}]
    return Outcome(**values)


def test_each_row_is_the_text_json_dumps_writes() -> None:
    """Whatever a row holds (quotes, control characters, lone surrogates, huge numbers, findings), the same text."""
    rng = random.Random(2027)
    rows = [_random_outcome(rng) for _ in range(3000)]
    rows.append(Outcome(1, "11-05-6469-084", "rendered", "roll.csv", 2))
    for row in rows:
        assert _outcome_json(row) == json.dumps(dataclasses.asdict(row), indent=1, ensure_ascii=False), row


def test_a_row_as_a_dict_is_what_asdict_gives() -> None:
    """The journal's and the manifest's rows skip asdict's deep copy: the same dict, key for key, in order."""
    rng = random.Random(7)
    for row in [_random_outcome(rng) for _ in range(500)]:
        made = row.to_dict()
        assert made == dataclasses.asdict(row) and list(made) == list(dataclasses.asdict(row))


def test_a_run_writes_the_manifest_json_dumps_would(bad_roll_run: tuple[Any, Path]) -> None:
    """Rendered pieces and rejected records with findings alike: the file is one canonical JSON text."""
    _, out = bad_roll_run
    text = (out / "manifest.json").read_text("utf-8")
    parsed = json.loads(text)
    assert {row["status"] for row in parsed["pieces"]} == {"rendered", "rejected"}
    assert any(row["findings"] for row in parsed["pieces"]) and any(not row["findings"] for row in parsed["pieces"])
    assert text == json.dumps(parsed, indent=1, ensure_ascii=False)
