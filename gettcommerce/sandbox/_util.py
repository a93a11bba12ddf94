"""Small helpers shared by the sandbox modules: clocks, ids, timestamps, JSON.

Kept free of any sandbox state so every other module can import it.
"""
from __future__ import annotations

import datetime as _dt
import json
import secrets
import uuid
from decimal import Decimal
from typing import Any, Optional

UTC = _dt.timezone.utc


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def iso(moment: Optional[_dt.datetime]) -> Optional[str]:
    """ISO-8601 UTC with milliseconds and ``Z``, the wire format of every timestamp."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> _dt.datetime:
    """Parse an ISO-8601 date-time that carries a zone (``Z`` or an offset).

    Raises ValueError for anything else: a naive time is ambiguous, and
    the API promises UTC on the wire.
    """
    if not isinstance(text, str) or "T" not in text:
        raise ValueError("not an ISO-8601 date-time")
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    moment = _dt.datetime.fromisoformat(candidate)
    if moment.tzinfo is None:
        raise ValueError("date-time has no time zone (add Z or an offset)")
    return moment.astimezone(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


def new_api_key() -> str:
    return "zpka_sandbox_" + secrets.token_hex(16)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def mask_key(key: str) -> str:
    """A key's public label: enough to tell keys apart, never enough to use one."""
    return key[:13] + "..." + key[-4:] if len(key) > 20 else key[:4] + "..."


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Money is a JSON number in major units; Decimal keeps sums exact
        # until this last step.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, _dt.datetime):
        return iso(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def loads_decimal(raw: bytes) -> Any:
    """Parse JSON keeping non-integer numbers as Decimal (prices must stay exact)."""
    return json.loads(raw, parse_float=Decimal)
