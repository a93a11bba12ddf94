"""Gett's webhook signature: HMAC-SHA256 of the raw body, an unsigned Timestamp header."""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Dict, Iterable, List, Mapping, Optional, Protocol, Sequence, Tuple, Union, cast

from .._constants import WEBHOOK_API_VERSION, WEBHOOK_TOLERANCE
from ..errors import InvalidRequestError, WebhookVerificationError

__all__ = ["Secret", "Headers", "compute_signature", "sign", "verify", "header"]

Secret = Union[str, bytes]
HeaderPair = Tuple[Union[str, bytes], Union[str, bytes]]


class SupportsHeaderItems(Protocol):
    """A header container with ``items()`` (dict, Flask's and Django's headers)."""

    def items(self) -> Iterable[HeaderPair]: ...


#: What ``verify``/``header`` accept as request headers: a mapping or any
#: object with ``items()``, or (name, value) pairs such as ASGI's byte pairs.
Headers = Union[Mapping[str, str], SupportsHeaderItems, Iterable[HeaderPair]]

MAX_TOLERANCE = 86400      # seconds; a wider window would hardly limit replays at all
_MAX_TIMESTAMP = 2 ** 53   # beyond any real clock, and still exact as a float


def _as_bytes(value: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")


def compute_signature(body: Union[str, bytes], secret: Secret) -> str:
    """Hex HMAC-SHA256 of the raw body with the secret."""
    return hmac.new(_as_bytes(secret, "secret"), _as_bytes(body, "body"), hashlib.sha256).hexdigest()


def sign(body: Union[str, bytes], secret: Secret, timestamp: Optional[int] = None) -> Dict[str, str]:
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


def header(headers: Headers, name: str) -> Optional[str]:
    """Case-insensitive header lookup over a mapping or (name, value) pairs."""
    # Flask's and Django's header objects are not Mappings but have items().
    pairs: object = headers
    if hasattr(pairs, "items"):
        pairs = cast(SupportsHeaderItems, pairs).items()
    items = cast(Iterable[HeaderPair], pairs)
    wanted = name.lower()
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if key.lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return value
    return None


def check_secrets(secret: object) -> List[Union[str, bytes]]:
    """The secret(s) as a non-empty list of non-empty str/bytes, else InvalidRequestError.

    An empty secret would accept a signature anyone can compute (HMAC with
    an empty key), so it is refused, alone or inside a list.  So is a secret
    of only NUL bytes: HMAC pads its key with NULs, so ``"\\x00"`` signs
    exactly like the empty key.
    """
    secrets = [secret] if isinstance(secret, (str, bytes)) else secret
    if not isinstance(secrets, (list, tuple)) or not secrets:
        raise InvalidRequestError("secret must be the webhook secret (str or bytes) or a non-empty "
                                  f"list of them, not {type(secret).__name__}", field="secret")
    checked: List[Union[str, bytes]] = []
    for item in secrets:
        if not isinstance(item, (str, bytes)) or not item:
            raise InvalidRequestError("every webhook secret must be a non-empty str or bytes "
                                      "(an empty key signs for anyone)", field="secret")
        if not _as_bytes(item, "secret").strip(b"\x00"):
            raise InvalidRequestError("a webhook secret of only NUL bytes signs like the empty key, "
                                      "which anyone can use", field="secret")
        checked.append(item)
    return checked


def check_tolerance(tolerance: object) -> float:
    """Seconds with 0 < tolerance <= MAX_TOLERANCE (a day), else InvalidRequestError.

    NaN would accept any time, and 1e308 or 2**64 seconds would switch the
    replay window off.
    """
    if (isinstance(tolerance, bool) or not isinstance(tolerance, (int, float))
            or not 0 < tolerance <= MAX_TOLERANCE):      # False for NaN too
        try:
            shown = repr(tolerance)
        except ValueError:     # an int past Python's digit limit
            shown = "an int of more than 4300 digits"
        shown = shown if len(shown) <= 40 else shown[:40] + "..."
        raise InvalidRequestError(f"tolerance must be a number of seconds above 0 and at most "
                                  f"{MAX_TOLERANCE} (a day), not {shown}", field="tolerance",
                                  value=tolerance)
    return cast(float, tolerance)


def verify(body: Union[str, bytes], headers: Headers, secret: Union[Secret, Sequence[Secret]], *,
           tolerance: float = WEBHOOK_TOLERANCE, now: Optional[float] = None) -> None:
    """Check a webhook's signature and timestamp; raise WebhookVerificationError if bad.

    ``body`` must be the raw bytes as received (not re-serialized JSON).
    ``secret`` may be a list of secrets while one is being rotated: the
    request is accepted when any of them matches.  An empty (or all-NUL)
    secret, or a ``tolerance`` outside (0, 86400] seconds, raises
    InvalidRequestError: they would accept forged or arbitrarily old requests.
    A Timestamp that is not a plausible integer (``"9" * 400`` included) is
    a WebhookVerificationError like any bad signature.

    The Timestamp header is not part of the signed data (Gett signs the body
    only), so the tolerance window refuses stale deliveries but does not
    stop a captured body re-sent with a fresh Timestamp; deduplication by
    ``orderId`` (WebhookApp's place store) is what makes such a replay harmless.

    >>> body = b'{"order": {}}'
    >>> verify(body, sign(body, "whsec_test"), "whsec_test")
    """
    raw = _as_bytes(body, "body")
    secrets = check_secrets(secret)
    tolerance = check_tolerance(tolerance)
    signature = header(headers, "Signature")
    timestamp = header(headers, "Timestamp")
    if not signature:
        raise WebhookVerificationError("missing Signature header")
    if not timestamp:
        raise WebhookVerificationError("missing Timestamp header")
    try:
        ts = int(timestamp.strip())
        if not -_MAX_TIMESTAMP <= ts <= _MAX_TIMESTAMP:
            raise ValueError   # "9" * 400 would overflow the float arithmetic below
    except ValueError:
        raise WebhookVerificationError(f"invalid Timestamp header: {timestamp[:40]!r}") from None
    current = time.time() if now is None else now
    if ts < current - tolerance:
        raise WebhookVerificationError(
            f"stale Timestamp: {int(current - ts)} s old, more than the {tolerance:g} s tolerance")
    if ts > current + tolerance:
        raise WebhookVerificationError(
            f"Timestamp {int(ts - current)} s in the future, more than the {tolerance:g} s tolerance")
    given = signature.strip().lower().encode("ascii", "replace")
    for candidate in secrets:
        expected = compute_signature(raw, candidate).encode("ascii")
        if hmac.compare_digest(expected, given):
            return
    raise WebhookVerificationError("signature does not match the body and secret")
