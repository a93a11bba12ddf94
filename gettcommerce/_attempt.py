"""``on_attempt``: one callback per HTTP attempt, for metrics and tracing.

    def record(attempt: gett.Attempt) -> None:
        histogram.observe(attempt.elapsed, {"path": attempt.path, "status": attempt.status_code})
    client = gett.Client(on_attempt=record)

The C core records each attempt of a call (single, batched or asyncio,
retries included) and, once the call has finished, calls the client's
reporter once per attempt, in order; with no ``on_attempt`` (and DEBUG
logging off) nothing is recorded and no Python code runs per attempt.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Callable, Optional
from urllib.parse import urlsplit

from . import _core
from .errors import GettError, InvalidRequestError, from_transport_error

__all__ = ["Attempt", "AttemptHook", "attempt_reporter"]

logger = logging.getLogger("gettcommerce")


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt of a call, as ``on_attempt`` receives it.

    ``path`` is the request path with its ids (no host, no query, never the
    API key, which travels only in a header).  ``status_code`` is 0 when no
    answer came (connection failure, timeout).  ``elapsed`` is the attempt's
    duration in seconds; ``started_at`` when it began (``time.time()``
    clock).  ``attempt`` counts from 1 (retries are 2, 3, ...).
    ``request_id`` is the answer's ``X-Request-Id`` header, if any.
    ``error`` is None for a 2xx answer, else the failure as the public
    exception class (an APIStatusError subclass by status, APITimeoutError,
    APIConnectionError); the exception a failed call raises carries the
    last answer's full details.
    """

    method: str
    path: str
    status_code: int
    elapsed: float
    attempt: int
    request_id: Optional[str]
    error: Optional[GettError]
    started_at: float


AttemptHook = Callable[[Attempt], object]


def _attempt_error(kind: str, method: str, url: str, status: int, attempt: int,
                   text: Optional[str]) -> Optional[GettError]:
    if kind == "ok":
        return None
    exc = _core.TransportError(text or f"HTTP {status}")
    exc.kind = kind
    exc.status = status
    exc.method = method
    exc.url = url
    exc.attempts = attempt
    exc.body = None
    exc.headers = {}
    exc.retry_after = None
    return from_transport_error(exc)


class _Reporter:
    """What the C core calls per attempt: builds the Attempt and calls the
    user's hook; whatever the hook raises is logged, never propagated."""

    __slots__ = ("hook",)

    def __init__(self, hook: AttemptHook) -> None:
        self.hook = hook

    def __call__(self, method: str, url: str, status: int, elapsed: float, attempt: int,
                 started: float, kind: str, request_id: Optional[str], text: Optional[str]) -> None:
        try:
            info = Attempt(method=method, path=urlsplit(url).path, status_code=status, elapsed=elapsed,
                           attempt=attempt, request_id=request_id,
                           error=_attempt_error(kind, method, url, status, attempt, text),
                           started_at=time.time() - (time.monotonic() - started))
            self.hook(info)
        except Exception:
            logger.exception("on_attempt hook %r raised; the call goes on", self.hook)


def attempt_reporter(hook: Optional[AttemptHook]) -> Optional[_Reporter]:
    """The C core's per-attempt callable for ``on_attempt=hook`` (None: none)."""
    if hook is None:
        return None
    if not callable(hook):
        raise InvalidRequestError(f"on_attempt must be a callable taking a gettcommerce.Attempt, "
                                  f"not {hook!r}", field="on_attempt", value=hook)
    return _Reporter(hook)
