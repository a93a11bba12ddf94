"""Gett -> partner webhooks: signed POSTs of ``{webhookUrl}/validate`` and ``/place``.

The body is serialized once and those exact bytes are signed and sent, so
the partner can verify the signature over the raw body it receives.
"""
from __future__ import annotations

import http.client
import urllib.parse
from dataclasses import dataclass
from typing import Any, Dict, Optional

from .._wire import dumps, loads_decimal
from ..webhooks import sign

MAX_ANSWER_BYTES = 1024 * 1024

# Documented delays between placement attempts (gett-api.md §6.3): 30 s,
# 2 min, 10 min, 1 h; the fifth delay is cut off in the docs, 4 h is ours.
PLACE_RETRY_SCHEDULE = (30.0, 120.0, 600.0, 3600.0, 14400.0)


@dataclass
class WebhookResult:
    """What the partner answered: status (None when no answer), parsed JSON, error text."""

    url: str
    status: Optional[int]
    body: Any = None
    raw: bytes = b""
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


def join_url(base: str, suffix: str) -> str:
    return base.rstrip("/") + "/" + suffix


def post_signed(url: str, payload: Dict[str, Any], secret: str, *, timeout: float) -> WebhookResult:
    """POST ``payload`` signed with ``secret``; never raises for partner-side failures.

    http.client rather than urllib: urllib rewrites header names
    (``API-Version`` would go out as ``Api-version``), and the partner
    should see exactly what Gett documents.
    """
    body = dumps(payload)
    headers = sign(body, secret)
    headers["User-Agent"] = "gett-sandbox/1 webhooks"
    headers["Accept"] = "application/json"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return WebhookResult(url, None, error=f"webhook URL must be http or https: {url[:100]!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read(MAX_ANSWER_BYTES + 1)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        kind = "timed out" if isinstance(exc, TimeoutError) or "timed out" in str(exc) else "failed"
        return WebhookResult(url, None, error=f"POST {url} {kind}: {exc or type(exc).__name__}")
    finally:
        conn.close()
    if len(raw) > MAX_ANSWER_BYTES:
        return WebhookResult(url, status, error=f"answer of POST {url} is over {MAX_ANSWER_BYTES} bytes")
    parsed = _json_or_none(raw)
    if parsed is None and raw.strip():
        return WebhookResult(url, status, None, raw, error=f"answer of POST {url} is not JSON: {raw[:80]!r}")
    return WebhookResult(url, status, parsed, raw)


def _json_or_none(raw: bytes) -> Any:
    """The partner's answer as JSON (non-integers as Decimal: amounts stay exact), or None."""
    try:
        return loads_decimal(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
