"""Turn every way a run can fail into one exception tree that carries where it happened.

    NoticesError
    ├── InputError                  the roll export cannot be used at all
    │   └── RecordError             one record is bad; the batch goes on without it
    ├── ConfigError                 a collector profile, template or option is wrong
    │   └── LawError                no mailing, edition or block for that date
    ├── RenderError                 a piece could not be turned into a PDF
    │   └── FetchDenied             a template or record asked for a file or URL outside the allow-list
    ├── ComplianceError             a piece fails the statute check
    └── BatchError                  the output folder or its journal forbids the run
        ├── OutputLocked            another run holds the folder
        ├── ForeignFiles            the folder holds files notices did not write, which it will not touch
        ├── ClusterLost             the Dask cluster dropped the run's work; --resume finishes it
        └── ResumeMismatch          input, templates, profile or tool changed since the run began

Every error carries ``file``, ``line`` and ``field`` where they are known, and ``str()`` gives
a message a clerk can act on: what is wrong, then where, then the offending value.
This module imports nothing else from ``notices``.
"""

from __future__ import annotations

from collections.abc import Sequence


class NoticesError(Exception):
    """Base of every error the library raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        self.hint = hint

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.where:
            text += f" ({self.where})"
        if self.value is not None:
            text += f": {self.value!r}"
        if self.hint:
            text += f". {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "value": None if self.value is None else str(self.value),
            "hint": self.hint,
        }


class InputError(NoticesError):
    """The roll export cannot be read: bad encoding, broken quoting, a missing column."""


class RecordError(InputError):
    """One record is unusable; it is rejected and the run goes on."""


class ConfigError(NoticesError):
    """A collector profile, template or option is wrong."""


class SerialsExhausted(ConfigError):
    """No block of serials of the run's size is free in the serial range within the retention days (exit 2)."""


class LawError(ConfigError):
    """The law as recorded has no such mailing, edition or block on that date."""


class RenderError(NoticesError):
    """WeasyPrint could not turn a piece into a PDF, or warned while doing so."""


class FetchDenied(RenderError):
    """A template or record referred to a file or URL outside the allow-list."""


class ComplianceError(NoticesError):
    """A composed or rendered piece fails the statute check."""

    def __init__(self, message: str, findings: Sequence[object] | None = None, *, file: str | None = None,
                 line: int | None = None, field: str | None = None, value: object = None, hint: str | None = None,
                 pdf: bytes | None = None) -> None:
        super().__init__(message, file=file, line=line, field=field, value=value, hint=hint)
        self.findings = list(findings or [])
        # The failing document, for the designers' preview to show beside its findings; never written or printed.
        self.pdf = pdf


class BatchError(NoticesError):
    """The output folder or its journal does not allow this run."""


class OutputLocked(BatchError):
    """Another run holds the output folder."""


class ClusterLost(BatchError):
    """The Dask cluster dropped the run's work (its scheduler was lost); what is journaled is kept."""


class ForeignFiles(BatchError):
    """The output folder holds files notices did not write: it deletes and overwrites only its own."""


class ResumeMismatch(BatchError):
    """The inputs of an interrupted run changed since it began."""
