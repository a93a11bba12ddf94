"""Webhooks Gett sends to partners: signature checks and signing helpers.

Gett signs the raw body: ``Signature`` is the hex HMAC-SHA256 of the body
with the webhook secret, ``Timestamp`` the unix time of signing (not part of
the signed data), ``API-Version`` the protocol version.  A request whose
timestamp is more than ``tolerance`` seconds off, in either direction, is
refused, so a captured request cannot be replayed later.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Iterable, Mapping, Optional, Sequence, Union

from ._constants import WEBHOOK_API_VERSION, WEBHOOK_TOLERANCE
from .errors import WebhookVerificationError

__all__ = ["sign", "verify", "compute_signature"]

Secret = Union[str, bytes]


def _as_bytes(value: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")


def compute_signature(body: Union[str, bytes], secret: Secret) -> str:
    """Hex HMAC-SHA256 of the raw body with the secret."""
    return hmac.new(_as_bytes(secret, "secret"), _as_bytes(body, "body"), hashlib.sha256).hexdigest()


def sign(body: Union[str, bytes], secret: Secret, timestamp: Optional[int] = None) -> dict:
    """Headers Gett would send with ``body``: Signature, Timestamp, API-Version.

    >>> headers = sign(b'{"order": {}}', "whsec_test", timestamp=1700000000)
    >>> sorted(headers)
    ['API-Version', 'Content-Type', 'Signature', 'Timestamp']
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json",
        "Signature": compute_signature(body, secret),
        "Timestamp": str(ts),
        "API-Version": WEBHOOK_API_VERSION,
    }


def _header(headers: Union[Mapping[str, str], Iterable], name: str) -> Optional[str]:
    """Case-insensitive header lookup over a mapping or (name, value) pairs."""
    items = headers.items() if hasattr(headers, "items") else headers
    wanted = name.lower()
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if key.lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return value
    return None


def verify(body: Union[str, bytes], headers, secret: Union[Secret, Sequence[Secret]], *,
           tolerance: int = WEBHOOK_TOLERANCE, now: Optional[float] = None) -> None:
    """Check a webhook's signature and timestamp; raise WebhookVerificationError if bad.

    ``body`` must be the raw bytes as received (not re-serialized JSON).
    ``secret`` may be a list of secrets while one is being rotated: the
    request is accepted when any of them matches.

    >>> body = b'{"order": {}}'
    >>> verify(body, sign(body, "whsec_test"), "whsec_test")
    """
    raw = _as_bytes(body, "body")
    secrets = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    if not secrets:
        raise ValueError("verify: at least one secret is required")
    signature = _header(headers, "Signature")
    timestamp = _header(headers, "Timestamp")
    if not signature:
        raise WebhookVerificationError("missing Signature header")
    if not timestamp:
        raise WebhookVerificationError("missing Timestamp header")
    try:
        ts = int(timestamp.strip())
    except ValueError:
        raise WebhookVerificationError(f"invalid Timestamp header: {timestamp[:40]!r}") from None
    current = time.time() if now is None else now
    if ts < current - tolerance:
        raise WebhookVerificationError(
            f"stale Timestamp: {int(current - ts)} s old, more than the {tolerance} s tolerance")
    if ts > current + tolerance:
        raise WebhookVerificationError(
            f"Timestamp {int(ts - current)} s in the future, more than the {tolerance} s tolerance")
    given = signature.strip().lower().encode("ascii", "replace")
    for candidate in secrets:
        expected = compute_signature(raw, candidate).encode("ascii")
        if hmac.compare_digest(expected, given):
            return
    raise WebhookVerificationError("signature does not match the body and secret")
