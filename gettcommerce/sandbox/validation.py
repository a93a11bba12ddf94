"""Field checks for request bodies: collect every problem, then answer 422 once.

Each check appends one ``errors[]`` entry naming the JSONPath, so a client
sees all of its mistakes in one response instead of one per round trip.
"""
from __future__ import annotations

import datetime as _dt
import math
import urllib.parse
from typing import Any, Dict, Iterable, List, Optional, Sequence

from .._wire import parse_rfc3339
from .problems import field_error, validation_failed

_MISSING = object()


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_http_url(value: str) -> bool:
    parsed = urllib.parse.urlsplit(value)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname)


class Checker:
    """Collects field errors for one body; ``raise_if_any()`` ends the checks."""

    def __init__(self, body: Any, root: str = "$") -> None:
        self.errors: List[Dict[str, Any]] = []
        self.root = root
        if not isinstance(body, dict):
            self.add("INVALID_TYPE", f"the request body must be a JSON object, got {_type_name(body)}", root)
            body = {}
        self.body: Dict[str, Any] = body

    def add(self, code: str, message: str, path: str, **extra: Any) -> None:
        self.errors.append(field_error(code, message, path, **extra))

    def path(self, key: str) -> str:
        return f"{self.root}.{key}"

    def has(self, key: str) -> bool:
        return key in self.body

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.body:
            if key not in allowed:
                self.add("UNKNOWN_FIELD", f"unknown field {key!r}; allowed: {', '.join(sorted(allowed))}",
                         self.path(key))

    def _get(self, key: str, required: bool, allow_null: bool) -> Any:
        value = self.body.get(key, _MISSING)
        if value is _MISSING:
            if required:
                self.add("FIELD_REQUIRED", f"{key} is required", self.path(key))
            return _MISSING
        if value is None:
            if not allow_null:
                self.add("INVALID_TYPE", f"{key} must not be null", self.path(key))
            return None if allow_null else _MISSING
        return value

    def _typed(self, key: str, required: bool, allow_null: bool, kind: type, expected: str) -> Any:
        """The value at ``key`` when it is an instance of ``kind``; else one INVALID_TYPE error."""
        value = self._get(key, required, allow_null)
        if value is _MISSING or value is None:
            return value
        if not isinstance(value, kind):
            self.add("INVALID_TYPE", f"{key} must be {expected}, got {_type_name(value)}", self.path(key))
            return _MISSING
        return value

    def string(self, key: str, *, required: bool = False, allow_null: bool = False,
               max_length: int = 1000, allow_empty: bool = False) -> Any:
        value = self._typed(key, required, allow_null, str, "a string")
        if not isinstance(value, str):
            return value
        if not value.strip() and not (allow_empty and value == ""):
            self.add("INVALID_VALUE", f"{key} must not be empty", self.path(key))
            return _MISSING
        if len(value) > max_length:
            self.add("INVALID_VALUE", f"{key} is longer than {max_length} characters", self.path(key))
            return _MISSING
        return value

    def url(self, key: str, *, required: bool = False, allow_null: bool = False) -> Any:
        value = self.string(key, required=required, allow_null=allow_null, max_length=2048)
        if isinstance(value, str) and not is_http_url(value):
            self.add("INVALID_FORMAT", f"{key} must be an absolute http or https URL, got {value[:80]!r}",
                     self.path(key))
            return _MISSING
        return value

    def boolean(self, key: str, *, required: bool = False) -> Any:
        return self._typed(key, required, False, bool, "a boolean")

    def enum(self, key: str, allowed: Sequence[str], *, required: bool = False) -> Any:
        value = self._get(key, required, False)
        if value is _MISSING:
            return value
        if not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            self.add("INVALID_ENUM_VALUE", f"{key} must be one of {', '.join(allowed)}; got {shown}",
                     self.path(key))
            return _MISSING
        return value

    def timestamp(self, key: str, *, required: bool = False, allow_null: bool = False) -> Any:
        value = self._typed(key, required, allow_null, str, "an RFC 3339 date-time string")
        if not isinstance(value, str):
            return value
        try:
            return parse_rfc3339(value)
        except ValueError as exc:
            self.add("INVALID_FORMAT", f"{key} must be an RFC 3339 date-time with an offset ({exc}): "
                     f"{value[:60]!r}", self.path(key))
            return _MISSING

    def obj(self, key: str, *, required: bool = False, allow_null: bool = True) -> Any:
        return self._typed(key, required, allow_null, dict, "an object")

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_failed(self.errors)


def given(value: Any) -> bool:
    """True when a checker returned a usable value (not missing, not refused)."""
    return value is not _MISSING


ADDRESS_FIELDS = ("street", "city", "state", "postalCode", "country")


def check_address(checker: Checker, key: str = "address") -> Optional[Dict[str, Any]]:
    """An Address object (all fields optional strings), or None."""
    value = checker.obj(key)
    if not given(value) or value is None:
        return None
    sub = Checker(value, root=checker.path(key))
    sub.reject_unknown(ADDRESS_FIELDS)
    address = {}
    for field in ADDRESS_FIELDS:
        got = sub.string(field, allow_null=True, max_length=200)
        address[field] = got if given(got) else None
    checker.errors.extend(sub.errors)
    return address


def is_finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and type(value).__name__ != "Decimal":
        return False
    return math.isfinite(float(value))


def is_future(moment: _dt.datetime, now: _dt.datetime) -> bool:
    return moment > now
