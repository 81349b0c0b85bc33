"""notices: Maryland property-tax notices and bill inserts, from a roll export to print-ready PDFs.

The public facade. ``import notices`` stays light: WeasyPrint loads only when something renders.
"""

from __future__ import annotations

__version__ = "0.1.0"

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
from .collectors import load_collector
from .resolve import plan
from .statutes import load_registry

__all__ = [
    "BatchError",
    "ComplianceError",
    "ConfigError",
    "FetchDenied",
    "InputError",
    "LawError",
    "NoticesError",
    "OutputLocked",
    "RecordError",
    "RenderError",
    "ResumeMismatch",
    "__version__",
    "load_collector",
    "load_registry",
    "plan",
]
