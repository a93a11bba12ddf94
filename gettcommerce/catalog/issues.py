"""What the C validator says about a CatalogSet: issues, summaries, a report.

:func:`run_validator` is the one call into ``_core.validate_catalogset``;
every rule lives in ``csrc/catalog.c`` (the codes are listed in the
docstring of :mod:`gettcommerce.catalog`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Sequence, Union

from .. import _core
from .render import report_html

__all__ = ["CatalogIssue", "ValidationReport", "run_validator", "errors_only", "summary"]

ValidatorInput = Union[bytes, bytearray, memoryview, str, Mapping[str, Any]]


@dataclass(frozen=True)
class CatalogIssue:
    """One problem found in a CatalogSet.

    ``code`` is one of the codes in :mod:`gettcommerce.catalog`'s docstring,
    ``severity`` ``"error"`` or ``"warning"``, ``path`` a JSON Pointer into
    the document and ``message`` says which id is at fault and what to do.
    """

    code: str
    severity: str
    path: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> Dict[str, str]:
        return {"code": self.code, "severity": self.severity, "path": self.path,
                "message": self.message}

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {self.path or '/'}: {self.message}"

    def __repr__(self) -> str:
        return (f"CatalogIssue({self.code!r}, {self.severity!r}, path={self.path!r}, "
                f"message={self.message!r})")


def run_validator(data: ValidatorInput) -> List[CatalogIssue]:
    """Every issue the C validator finds in JSON text (bytes-like or str) or
    a decoded mapping; TypeError for anything else."""
    if isinstance(data, Mapping) and not isinstance(data, dict):
        data = dict(data)
    try:
        raw = _core.validate_catalogset(data)
    except TypeError as exc:
        if isinstance(data, (bytes, bytearray, memoryview, str, dict)):
            raise
        raise TypeError(
            "validate_catalogset: data must be bytes, str, dict or CatalogSet, "
            f"not {type(data).__name__}") from exc
    return [CatalogIssue(*t) for t in raw]


def errors_only(issues: Iterable[CatalogIssue]) -> List[CatalogIssue]:
    return [i for i in issues if i.severity == "error"]


def summary(issues: Sequence[CatalogIssue], limit: int = 5) -> str:
    """One line for an exception: the error count and the first few errors."""
    errors = errors_only(issues)
    head = "; ".join(f"{i.code} at {i.path or '/'}: {i.message}" for i in errors[:limit])
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    noun = "error" if len(errors) == 1 else "errors"
    return f"CatalogSet has {len(errors)} {noun}: {head}{more}"


class ValidationReport:
    """Issues of a CatalogSet, printable and rendered as an HTML table in Jupyter."""

    def __init__(self, issues: Sequence[CatalogIssue]) -> None:
        self.issues = list(issues)

    @property
    def errors(self) -> List[CatalogIssue]:
        return errors_only(self.issues)

    @property
    def warnings(self) -> List[CatalogIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def __len__(self) -> int:
        return len(self.issues)

    def __iter__(self) -> Iterator[CatalogIssue]:
        return iter(self.issues)

    def __str__(self) -> str:
        head = (f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
                if self.issues else "no issues")
        return "\n".join([head] + [str(i) for i in self.issues])

    def __repr__(self) -> str:
        return f"<ValidationReport errors={len(self.errors)} warnings={len(self.warnings)}>"

    def _repr_html_(self) -> str:
        return report_html(self.issues)
