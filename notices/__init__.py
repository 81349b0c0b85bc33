"""notices: Maryland property-tax notices and bill inserts, from a roll export to print-ready PDFs.

The public facade: what a library user, the tests and the benchmark need. ``import notices`` stays
light: the names that render or check (``run``, ``check_file`` and their types) load WeasyPrint
and PDFium on first use, not at import. Internal modules never import this facade.

    import notices
    summary = notices.run(notices.Options(input, out, "baltimore-city", "final-notice", day))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    BatchError,
    ComplianceError,
    ConfigError,
    FetchDenied,
    InputError,
    LawError,
    NoticesError,
    OutputLocked,
    RecordError,
    RenderError,
    ResumeMismatch,
)
from .options import Options

if TYPE_CHECKING:
    from .batch import run
    from .collectors import load_collector
    from .compliance import Finding, Report, Target, check_file, target_for
    from .model import Outcome, Summary
    from .resolve import plan
    from .statutes import load_registry

# Loaded on first use: name -> module. ``import notices`` (or any module of it) loads the package
# first, and a render's fork server waits for that (notices.cli.start).
_LAZY = {
    "Outcome": "notices.model",
    "Summary": "notices.model",
    "load_collector": "notices.collectors",
    "load_registry": "notices.statutes",
    "plan": "notices.resolve",
    "Finding": "notices.compliance",
    "Report": "notices.compliance",
    "Target": "notices.compliance",
    "check_file": "notices.compliance",
    "run": "notices.batch",
    "target_for": "notices.compliance",
}

__all__ = [
    "BatchError",
    "ComplianceError",
    "ConfigError",
    "FetchDenied",
    "Finding",
    "InputError",
    "LawError",
    "NoticesError",
    "Options",
    "Outcome",
    "OutputLocked",
    "RecordError",
    "RenderError",
    "Report",
    "ResumeMismatch",
    "Summary",
    "Target",
    "__version__",
    "check_file",
    "load_collector",
    "load_registry",
    "plan",
    "run",
    "target_for",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'notices' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
