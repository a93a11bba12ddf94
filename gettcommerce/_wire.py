"""The wire formats, in one place: timestamps, money, day names, JSON bytes.

Used by the SDK (request arguments, model fields), the webhooks (incoming
orders, answers) and the sandbox (what it stores and sends), so that all
three read and write exactly the same text.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Union

from .errors import InvalidRequestError

__all__ = [
    "UTC", "DAYS_OF_WEEK", "utcnow", "iso", "parse_datetime", "parse_rfc3339", "format_datetime",
    "to_decimal", "decimal_to_wire", "json_default", "dumps", "loads_decimal",
]

UTC = _dt.timezone.utc

# CatalogSet availability day names, in the C validator's order (csrc/catalog.c).
DAYS_OF_WEEK = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# RFC 3339 section 5.6 date-time: full date, 'T', full time, and a zone
# ('Z' or an offset).  Date-only and zone-less text is refused: it would be
# a guess at the partner's intent (DESIGN §2).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def iso(moment: Optional[_dt.datetime]) -> Optional[str]:
    """An aware datetime -> ``YYYY-MM-DDTHH:MM:SS.mmmZ``, the wire form of every timestamp."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_rfc3339(text: Any) -> _dt.datetime:
    """Strict: a full RFC 3339 date-time with a zone -> aware datetime in UTC.

    Raises ValueError saying what is wrong (date only, no zone, not a date).
    """
    if not isinstance(text, str):
        raise ValueError(f"expected RFC 3339 text, not {type(text).__name__}")
    if not _RFC3339.fullmatch(text):
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError("a date alone is not a date-time (add a time and a zone, "
                             "e.g. 2026-01-15T12:00:00Z)")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", text):
            raise ValueError("the date-time has no zone (add Z or an offset such as +01:00)")
        raise ValueError("not an RFC 3339 date-time such as 2026-01-15T12:00:00Z")
    body = text[:-1] + "+00:00" if text[-1] in "Zz" else text
    head, dot, rest = body.partition(".")
    if dot:  # fromisoformat takes at most 6 fractional digits before 3.11
        digits = re.match(r"\d+", rest).group(0)  # type: ignore[union-attr]
        body = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    return _dt.datetime.fromisoformat(body.replace("t", "T")).astimezone(UTC)


def parse_datetime(value: Any) -> Optional[_dt.datetime]:
    """Lenient read of a wire timestamp: aware datetime, or None when absent or unreadable.

    What Gett sends is trusted to be UTC when it carries no offset; nothing
    here is ever sent back as a guess.
    """
    if value is None or isinstance(value, _dt.datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_datetime(value: Any, field: str) -> str:
    """An aware datetime, or RFC 3339 text with a zone -> wire text; else InvalidRequestError."""
    if isinstance(value, str):
        try:
            value = parse_rfc3339(value)
        except ValueError as exc:
            raise InvalidRequestError(f"{field}: {exc}, not {value!r}", field=field,
                                      value=value) from None
    if not isinstance(value, _dt.datetime):
        raise InvalidRequestError(f"{field} must be a datetime, not {type(value).__name__}",
                                  field=field, value=value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequestError(f"{field} must be timezone-aware (e.g. datetime.now(timezone.utc))",
                                  field=field, value=value)
    return iso(value)  # type: ignore[return-value]


def to_decimal(value: Any, field: str = "amount") -> Optional[Decimal]:
    """A wire number -> Decimal, exact for what the JSON text showed (via repr of float)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InvalidRequestError(f"{field} must be a number, not a bool", field=field, value=value)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            pass
    raise InvalidRequestError(f"{field} must be a number, not {value!r}", field=field, value=value)


def decimal_to_wire(value: Optional[Decimal]) -> Union[int, float, None]:
    """Decimal -> the JSON number Gett expects (major units); exact sums stay exact until here."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for our wire types: Decimal money, aware datetimes."""
    if isinstance(value, Decimal):
        return decimal_to_wire(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise TypeError("a naive datetime has no place on the wire (make it timezone-aware)")
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON with Decimal and datetime handled as the wire expects."""
    return json.dumps(value, default=json_default, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


def loads_decimal(raw: Union[bytes, str]) -> Any:
    """Parse JSON keeping non-integer numbers as Decimal (prices must stay exact)."""
    return json.loads(raw, parse_float=Decimal)
