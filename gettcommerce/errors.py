"""The one exception tree of gettcommerce.

Every error the SDK raises derives from :class:`GettError`::

    GettError
     ├── APIConnectionError            the request did not get an HTTP answer
     │    └── APITimeoutError          ... because the deadline passed
     ├── APIStatusError                Gett answered with a non-2xx status
     │    ├── BadRequestError               400
     │    ├── AuthenticationError           401
     │    ├── PermissionDeniedError         403
     │    ├── NotFoundError                 404
     │    ├── ConflictError                 409
     │    ├── UnprocessableEntityError      422
     │    ├── RateLimitError                429
     │    └── InternalServerError           5xx
     ├── InvalidRequestError (ValueError)   refused locally, nothing was sent
     ├── CatalogValidationError        a CatalogSet has errors (``.issues``)
     ├── InvalidTransitionError        an order update that cannot be valid
     ├── OnboardingFailedError         onboarding ended in ``catalog_failed``
     ├── WebhookVerificationError      a webhook's signature/timestamp is bad
     └── BatchError                    some calls of a batch failed (``.errors``)

The C core raises one low-level error (``gettcommerce._core.TransportError``);
:func:`from_transport_error` maps it to the class above.  The public error
carries everything the internal one knew (status, problem body, headers,
method, URL, attempts, ``retry_after``), so callers raise it ``from None``:
a traceback shows one error, whose message names the status, method and path
(``404 Not Found from GET /v1/commerce/stores/x``).
"""
from __future__ import annotations

import http
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Type, Union
from urllib.parse import urlsplit


if TYPE_CHECKING:  # pragma: no cover
    from ._async import AsyncOnboarding
    from .catalog import CatalogIssue
    from .models import Onboarding

__all__ = [
    "GettError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "InvalidRequestError",
    "CatalogValidationError",
    "InvalidTransitionError",
    "OnboardingFailedError",
    "WebhookVerificationError",
    "BatchError",
]


class GettError(Exception):
    """Base class of every error raised by gettcommerce."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message: str = message

    def __str__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        """Jupyter: a card of the error's fields, its HTTP status as a badge."""
        # Imported here, not at the top: every `import gettcommerce` loads this
        # module, and the HTML helpers (html, dataclasses, decimal) would add
        # ~10 ms to it for a feature only a notebook uses.
        from . import _html
        status = getattr(self, "status_code", 0)
        return _html.error_card(self, f"{status} {_http_reason(status)}".strip() if status else None)


class APIConnectionError(GettError):
    """No HTTP response was received (DNS, refused, reset, TLS, body too large...)."""

    def __init__(self, message: str = "Connection error.", *, method: Optional[str] = None,
                 url: Optional[str] = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.method: Optional[str] = method
        self.url: Optional[str] = url
        self.attempts: int = attempts


class APITimeoutError(APIConnectionError):
    """The call's deadline (``timeout``, retries included) passed."""


class APIStatusError(GettError):
    """Gett answered with a non-success status; carries the RFC 9457 problem."""

    status_code: int = 0
    # Set by from_transport_error: an earlier attempt may have reached Gett.
    _ambiguous_retry: bool = False

    def __init__(self, message: str, *, status_code: int, body: Any = None,
                 headers: Optional[Dict[str, str]] = None, method: Optional[str] = None,
                 url: Optional[str] = None, attempts: int = 1,
                 retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body: Any = body
        self.headers: Dict[str, str] = dict(headers or {})
        self.method: Optional[str] = method
        self.url: Optional[str] = url
        self.attempts: int = attempts
        problem = body if isinstance(body, dict) else {}
        self.type: Optional[str] = _str_or_none(problem.get("type"))
        self.title: Optional[str] = _str_or_none(problem.get("title"))
        detail = problem.get("detail")
        if detail is None and isinstance(body, str):
            detail = body.strip()[:2000] or None
        self.detail: Optional[str] = _str_or_none(detail)
        self.instance: Optional[str] = _str_or_none(problem.get("instance"))
        self.request_id: Optional[str] = _str_or_none(problem.get("requestId"))
        self.timestamp: Optional[str] = _str_or_none(problem.get("timestamp"))
        self.error_code: Optional[str] = _str_or_none(problem.get("errorCode"))
        self.error_category: Optional[str] = _str_or_none(problem.get("errorCategory"))
        retryable = problem.get("retryable")
        self.retryable: bool = retryable if isinstance(retryable, bool) else status_code in (429, 500, 502, 503, 504)
        # Seconds Gett asked to wait (problem ``retryAfter``, else the
        # ``Retry-After`` header), parsed once by the C core per attempt.
        self.retry_after: Optional[float] = retry_after
        errors = problem.get("errors")
        self.errors: List[Dict[str, Any]] = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


class InvalidRequestError(GettError, ValueError):
    """An argument was refused locally; no request was sent.

    ``field`` names the argument at fault, ``value`` is what was given.
    """

    def __init__(self, message: str, *, field: Optional[str] = None, value: Any = None) -> None:
        super().__init__(message)
        self.field: Optional[str] = field
        self.value: Any = value


class CatalogValidationError(GettError):
    """A CatalogSet has errors; ``issues`` lists every one (errors and warnings)."""

    def __init__(self, message: str, issues: Optional[Sequence[CatalogIssue]] = None) -> None:
        super().__init__(message)
        self.issues: List[CatalogIssue] = list(issues or [])

    @property
    def errors(self) -> List[CatalogIssue]:
        return [i for i in self.issues if getattr(i, "severity", "error") == "error"]


class InvalidTransitionError(GettError):
    """An order update that is invalid from the order's known state; nothing was sent."""

    def __init__(self, message: str, *, order_id: Optional[str] = None,
                 current: Optional[str] = None, requested: Optional[str] = None) -> None:
        super().__init__(message)
        self.order_id: Optional[str] = order_id
        self.current: Optional[str] = current
        self.requested: Optional[str] = requested


class OnboardingFailedError(GettError):
    """Onboarding ended in ``catalog_failed``; ``error`` is Gett's explanation."""

    def __init__(self, message: str, *, onboarding: "Optional[Union[Onboarding, AsyncOnboarding]]" = None,
                 error: Optional[str] = None) -> None:
        super().__init__(message)
        self.onboarding: "Optional[Union[Onboarding, AsyncOnboarding]]" = onboarding
        self.error: Optional[str] = error


class WebhookVerificationError(GettError):
    """A webhook's signature or timestamp is missing, malformed, wrong or stale."""


class BatchError(GettError):
    """Some calls of a batch failed.

    ``errors`` is a list of ``(index, exception)`` in call order; ``total``
    the number of calls in the batch.
    """

    def __init__(self, errors: Sequence[Tuple[int, BaseException]], total: int) -> None:
        lines = [f"{len(errors)} of {total} batch calls failed"]
        for index, exc in errors[:5]:
            lines.append(f"  [{index}] {type(exc).__name__}: {exc}")
        if len(errors) > 5:
            lines.append(f"  ... and {len(errors) - 5} more")
        super().__init__("\n".join(lines))
        self.errors: List[Tuple[int, BaseException]] = list(errors)
        self.total: int = total


_STATUS_CLASSES: Dict[int, Type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> Type[APIStatusError]:
    """The APIStatusError subclass for an HTTP status code."""
    cls = _STATUS_CLASSES.get(status_code)
    if cls is not None:
        return cls
    if status_code >= 500:
        return InternalServerError
    return APIStatusError


def make_status_error(status_code: int, body: Any, headers: Optional[Dict[str, str]] = None, *,
                      method: Optional[str] = None, url: Optional[str] = None,
                      attempts: int = 1, retry_after: Optional[float] = None) -> APIStatusError:
    """Build the right APIStatusError subclass from a response.

    The message reads ``404 Not Found from GET /v1/commerce/stores/x: STORE_NOT_FOUND:
    no store with storeId 'x' (requestId req_1)``; the parts Gett did not send are left out.
    """
    cls = status_error_class(status_code)
    problem = body if isinstance(body, dict) else {}
    message = f"{status_code}"
    reason = _http_reason(status_code)
    if reason:
        message += f" {reason}"
    if method or url:
        message += f" from {method or ''} {_url_path(url)}".rstrip()
    code = problem.get("errorCode")
    if isinstance(code, str):
        message += f": {code}"
    detail = problem.get("detail") or problem.get("title")
    if not detail and isinstance(body, str) and body.strip():
        detail = body.strip().splitlines()[0][:200]
    if detail:
        message += f": {detail}"
    request_id = problem.get("requestId")
    if isinstance(request_id, str):
        message += f" (requestId {request_id})"
    return cls(message, status_code=status_code, body=body, headers=headers,
               method=method, url=url, attempts=attempts, retry_after=retry_after)


def from_transport_error(exc: BaseException) -> GettError:
    """Map the C core's low-level TransportError to the class of the tree.

    The C error carries ``kind`` ("status", "timeout", "connection",
    "too_large", "decode", "nomem", "interrupted"), ``status``, ``body``
    (parsed JSON, text or None), ``headers``, ``method``, ``url``,
    ``attempts``, ``retry_after``, ``ambiguous`` (an earlier attempt may
    have reached Gett before the call was retried) and a message.
    """
    kind = getattr(exc, "kind", "connection")
    method = getattr(exc, "method", None)
    url = getattr(exc, "url", None)
    attempts = getattr(exc, "attempts", 1) or 1
    if kind == "status":
        error = make_status_error(getattr(exc, "status", 0), getattr(exc, "body", None),
                                  getattr(exc, "headers", None), method=method, url=url,
                                  attempts=attempts, retry_after=getattr(exc, "retry_after", None))
        # Read by the "already done" rules of retried closes and cancels (_resources).
        error._ambiguous_retry = bool(getattr(exc, "ambiguous", False))
        return error
    message = str(exc.args[0]) if exc.args else "connection error"
    if kind == "timeout":
        return APITimeoutError(message, method=method, url=url, attempts=attempts)
    return APIConnectionError(message, method=method, url=url, attempts=attempts)


def _str_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _http_reason(status: int) -> str:
    """``Not Found`` for 404; '' for a status Python does not name."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _url_path(url: Optional[str]) -> str:
    """The path and query of a request URL (the key is never in it: it travels in a header)."""
    if not url:
        return ""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
