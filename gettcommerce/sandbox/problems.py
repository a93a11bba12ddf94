"""RFC 9457 problem+json bodies as Gett sends them, and the error catalogue.

Every error the sandbox answers is built here, so each carries the same
fields (type, title, status, detail, instance, requestId, timestamp,
errorCode, errorCategory, retryable, optional retryAfter and errors[]).
"""
from __future__ import annotations

import http
from typing import Any, Dict, List, Optional

from .._wire import iso, utcnow
from ._util import new_request_id

TYPE_BASE = "https://developer.gett-tech.com/errors/"

# errorCode -> (HTTP status, errorCategory, retryable): gett-api.md §7.3.
# Codes Gett leaves unnamed (405, 413, 502, 504) get names in the same style.
ERROR_CODES: Dict[str, tuple] = {
    "INVALID_REQUEST": (400, "validation", False),
    "STORE_CLOSED": (400, "availability", False),
    "ITEM_UNAVAILABLE": (400, "availability", False),
    "UNAUTHENTICATED": (401, "authentication", False),
    "FORBIDDEN": (403, "authorization", False),
    "NOT_FOUND": (404, "not_found", False),
    "STORE_NOT_FOUND": (404, "not_found", False),
    "METHOD_NOT_ALLOWED": (405, "validation", False),
    "CONFLICT": (409, "conflict", False),
    "PAYLOAD_TOO_LARGE": (413, "validation", False),
    "VALIDATION_FAILED": (422, "validation", False),
    "RATE_LIMITED": (429, "rate_limit", True),
    "INTERNAL_ERROR": (500, "server_error", True),
    "BAD_GATEWAY": (502, "server_error", True),
    "SERVICE_UNAVAILABLE": (503, "availability", True),
    "GATEWAY_TIMEOUT": (504, "server_error", True),
}

# The code a bare status (e.g. an injected fault) answers with.
DEFAULT_CODE_FOR_STATUS = {
    400: "INVALID_REQUEST", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_FAILED", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}


def reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def build_problem(error_code: str, detail: str, *, instance: str = "", status: Optional[int] = None,
                  errors: Optional[List[Dict[str, Any]]] = None, retry_after: Optional[int] = None,
                  request_id: Optional[str] = None) -> Dict[str, Any]:
    """One complete problem body.

    >>> p = build_problem("NOT_FOUND", "order o1 not found", instance="/v1/commerce/orders/o1/status")
    >>> (p["status"], p["title"], p["errorCategory"], p["retryable"])
    (404, 'Not Found', 'not_found', False)
    """
    known = ERROR_CODES.get(error_code)
    if known is not None:
        code_status, category, retryable = known
    else:
        code_status = status or 500
        category = "server_error" if code_status >= 500 else "validation"
        retryable = code_status in (429, 500, 502, 503, 504)
    final_status = status or code_status
    body: Dict[str, Any] = {
        "type": TYPE_BASE + error_code,
        "title": reason_phrase(final_status),
        "status": final_status,
        "detail": detail,
        "instance": instance,
        "requestId": request_id or new_request_id(),
        "timestamp": iso(utcnow()),
        "errorCode": error_code,
        "errorCategory": category,
        "retryable": retryable,
    }
    if retry_after is not None:
        body["retryAfter"] = int(retry_after)
    if errors:
        body["errors"] = list(errors)
    return body


def field_error(code: str, message: str, json_path: str, **extra: Any) -> Dict[str, Any]:
    """One ``errors[]`` entry: what is wrong, in words, and where (JSONPath)."""
    entry = {"code": code, "message": message, "jsonPath": json_path}
    entry.update(extra)
    return entry


class ApiError(Exception):
    """Raised inside request handling; the HTTP layer turns it into a problem response."""

    def __init__(self, error_code: str, detail: str, *, status: Optional[int] = None,
                 errors: Optional[List[Dict[str, Any]]] = None, retry_after: Optional[int] = None,
                 headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(detail)
        self.error_code = error_code
        self.detail = detail
        self.status = status or ERROR_CODES.get(error_code, (500,))[0]
        self.errors = errors
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def problem(self, instance: str, request_id: Optional[str] = None) -> Dict[str, Any]:
        return build_problem(self.error_code, self.detail, instance=instance, status=self.status,
                             errors=self.errors, retry_after=self.retry_after, request_id=request_id)


def validation_failed(errors: List[Dict[str, Any]]) -> ApiError:
    """422 VALIDATION_FAILED whose detail summarises the first problems."""
    first = "; ".join(f"{e['jsonPath']}: {e['message']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    noun = "problem" if len(errors) == 1 else "problems"
    return ApiError("VALIDATION_FAILED", f"{len(errors)} validation {noun}: {first}{more}", errors=errors)


def invalid_request(errors: List[Dict[str, Any]]) -> ApiError:
    """400 INVALID_REQUEST naming each field at fault (for the control plane's inputs)."""
    first = "; ".join(f"{e['jsonPath']}: {e['message']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return ApiError("INVALID_REQUEST", f"{first}{more}", errors=errors)


def to_markdown(problem: Dict[str, Any]) -> bytes:
    """The ``Accept: text/markdown`` rendering: YAML front matter, then prose."""
    lines = ["---"]
    for key in ("type", "title", "status", "errorCode", "errorCategory", "retryable",
                "retryAfter", "requestId", "timestamp", "instance"):
        if key in problem:
            value = problem[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append(f"{key}: {value}")
    lines += ["---", "", f"# {problem.get('title', 'Error')}", "", str(problem.get("detail", ""))]
    for entry in problem.get("errors") or []:
        lines.append(f"- `{entry.get('jsonPath')}` {entry.get('code')}: {entry.get('message')}")
    return ("\n".join(lines) + "\n").encode("utf-8")
