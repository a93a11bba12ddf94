"""``with_raw_response``: the same calls, the answer's HTTP details kept.

    raw = client.stores.with_raw_response.get(store_id)   # AsyncClient: await ...
    raw.status_code, raw.headers["x-ratelimit-remaining"], raw.request_id
    raw.rate_limit.remaining, raw.rate_limit.reset          # int, aware datetime (or None)
    store = raw.parse()                                     # the usual Store

Only on this path does the C core copy a successful answer's headers (a
per-request flag); a plain call copies none.  A failed call raises the
usual exception (which carries ``headers`` and ``request_id`` too).
Listings (``stores.list()``/``iter()``) are many answers and cannot be
wrapped; a Batch refuses ``with_raw_response`` (use ``results``).
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Dict, Iterator, Mapping, NamedTuple, Optional, Tuple

from . import _html
from ._request import ENDPOINT_INFO, Pages, Request, settle
from ._wire import UTC, parse_rfc3339
from .errors import InvalidRequestError

__all__ = ["RawResponse", "Headers", "RateLimit", "RawExecutor", "settle_raw"]


class Headers(Mapping[str, str]):
    """An answer's headers: a read-only mapping whose keys match case-insensitively."""

    __slots__ = ("_items",)

    def __init__(self, headers: Optional[Mapping[str, str]] = None) -> None:
        self._items: Dict[str, Tuple[str, str]] = {
            name.lower(): (name, value) for name, value in (headers or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


class RateLimit(NamedTuple):
    """``X-RateLimit-Remaining`` (requests left in the window) and
    ``X-RateLimit-Reset`` (when it resets, aware UTC datetime); None when
    absent or unreadable."""

    remaining: Optional[int]
    reset: Optional[_dt.datetime]


def _remaining(value: Optional[str]) -> Optional[int]:
    try:
        number = int(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _reset(value: Optional[str]) -> Optional[_dt.datetime]:
    """Unix seconds (Gett's documented form), or RFC 3339 text."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            return parse_rfc3339(text)
        except ValueError:
            return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    try:
        return _dt.datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


_UNPARSED: Any = object()


class RawResponse:
    """One call's answer with its HTTP details; :meth:`parse` gives the usual result.

    ``status_code`` and ``headers`` are the final answer's; ``attempts``
    counts HTTP attempts (retries included); ``elapsed`` is the whole
    call's duration in seconds; ``request_id`` is the ``X-Request-Id``
    header (None when Gett sent none).
    """

    __slots__ = ("status_code", "headers", "attempts", "elapsed", "_request", "_value", "_parsed")

    def __init__(self, request: Request, value: Any, status_code: int, headers: Mapping[str, str],
                 attempts: int, elapsed: float, parsed: Any = _UNPARSED) -> None:
        self.status_code: int = status_code
        self.headers: Headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.attempts: int = attempts
        self.elapsed: float = elapsed
        self._request = request
        self._value = value
        self._parsed = parsed

    @property
    def request_id(self) -> Optional[str]:
        return self.headers.get("x-request-id")

    @property
    def rate_limit(self) -> RateLimit:
        return RateLimit(_remaining(self.headers.get("x-ratelimit-remaining")),
                         _reset(self.headers.get("x-ratelimit-reset")))

    @property
    def method(self) -> str:
        return ENDPOINT_INFO[self._request[0]][1]

    def parse(self) -> Any:
        """The call's usual result (the model a plain call returns), read once."""
        if self._parsed is _UNPARSED:
            self._parsed = settle(self._request, True, self._value)
        return self._parsed

    def json(self) -> Any:
        """The answer's parsed JSON body as it came (None when empty)."""
        return self._value

    def _repr_html_(self) -> str:
        """Jupyter: the status as the badge, then request id, rate limit,
        attempts, elapsed and every header."""
        return _html.object_card(self, ("status_code", "method", "request_id", "rate_limit", "attempts",
                                        "elapsed", "headers"), badge_field="status_code")

    def __repr__(self) -> str:
        rid = f" request_id={self.request_id!r}" if self.request_id else ""
        return (f"<gettcommerce.RawResponse {self.status_code} {ENDPOINT_INFO[self._request[0]][0]}"
                f"{rid} attempts={self.attempts} elapsed={self.elapsed * 1000:.1f}ms>")


def settle_raw(request: Request, ok: bool, value: Any, elapsed: float) -> RawResponse:
    """:func:`_request.settle` for a raw call.  ``ok``: ``value`` is the C core's
    ``(json, status, headers, attempts)``.  A failure raises the public
    exception, unless the request accepts it as done (a retried close Gett
    had applied): then the RawResponse is that error answer's, parsed as done."""
    if ok:
        body, status, headers, attempts = value
        return RawResponse(request, body, status, headers, attempts, elapsed)
    result = settle(request, False, value)   # raises, unless accepted
    return RawResponse(request, None, getattr(value, "status", 0), getattr(value, "headers", None) or {},
                       getattr(value, "attempts", 1), elapsed, parsed=result)


class RawExecutor:
    """The executor behind ``<resource>.with_raw_response``: runs each call
    through its client's raw path (``execute_raw``)."""

    __slots__ = ("_host",)

    def __init__(self, host: Any) -> None:
        if not hasattr(host, "execute_raw"):
            raise InvalidRequestError("with_raw_response cannot be used in a batch: each call's "
                                      "answer lands in batch.results; call "
                                      "client.<resource>.with_raw_response.<call>() outside the batch")
        self._host = host

    def execute(self, request: Request) -> Any:
        return self._host.execute_raw(request)

    def iterate(self, pages: Pages) -> Any:
        name = ENDPOINT_INFO[pages.endpoint][0]
        raise InvalidRequestError(f"{name} is a listing of many answers and cannot be wrapped by "
                                  "with_raw_response; use with_raw_response on single calls")

