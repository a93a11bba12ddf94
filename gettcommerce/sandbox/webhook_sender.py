"""Gett -> partner webhooks: signed POSTs of ``{webhookUrl}/validate`` and ``/place``.

The body is serialized once and those exact bytes are signed and sent, so
the partner can verify the signature over the raw body it receives.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Optional

from ..webhooks import sign
from ._util import dumps

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
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
    """POST ``payload`` signed with ``secret``; never raises for partner-side failures."""
    body = dumps(payload)
    headers = sign(body, secret)
    headers["User-Agent"] = "gett-sandbox/1 webhooks"
    headers["Accept"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            raw = response.read(MAX_ANSWER_BYTES + 1)
            status = response.status
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(MAX_ANSWER_BYTES + 1)
        except OSError:
            raw = b""
        return WebhookResult(url, exc.code, _json_or_none(raw), raw)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        kind = "timed out" if "timed out" in str(reason) else "failed"
        return WebhookResult(url, None, error=f"POST {url} {kind}: {reason}")
    if len(raw) > MAX_ANSWER_BYTES:
        return WebhookResult(url, status, error=f"answer of POST {url} is over {MAX_ANSWER_BYTES} bytes")
    parsed = _json_or_none(raw)
    if parsed is None and raw.strip():
        return WebhookResult(url, status, None, raw, error=f"answer of POST {url} is not JSON: {raw[:80]!r}")
    return WebhookResult(url, status, parsed, raw)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
