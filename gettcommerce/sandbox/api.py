"""The Commerce API plane: routing, authentication, rate limits and the 11 operations.

``handle(sandbox, request)`` turns one request into one Response; state
changes happen in :class:`.state.State`, errors are ApiError rendered as
problem+json here.  No socket code: the HTTP handler (``server.py``) reads
and writes the bytes.
"""
from __future__ import annotations

import re
import traceback
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

from .._wire import dumps
from . import problems
from .problems import ApiError, field_error, validation_failed
from .responses import Request, Response, parse_json

_SEG = r"([^/]+)"

# (method, regex, route template, operation name)
ROUTES: List[Tuple[str, "re.Pattern[str]", str, str]] = [
    (m, re.compile("^" + p.replace("{id}", _SEG) + "$"), f"{m} {t}", op)
    for m, p, t, op in [
        ("POST", "/v1/commerce/catalogset-notification", "/v1/commerce/catalogset-notification", "notify_catalog"),
        ("GET", "/v1/commerce/stores", "/v1/commerce/stores", "list_stores"),
        ("GET", "/v1/commerce/stores/{id}", "/v1/commerce/stores/{storeId}", "get_store"),
        ("PUT", "/v1/commerce/stores/{id}", "/v1/commerce/stores/{storeId}", "update_store"),
        ("GET", "/v1/commerce/stores/{id}/status", "/v1/commerce/stores/{storeId}/status", "get_status"),
        ("POST", "/v1/commerce/stores/{id}/status", "/v1/commerce/stores/{storeId}/status", "set_status"),
        ("POST", "/v1/commerce/orders/{id}/status", "/v1/commerce/orders/{orderId}/status", "order_status"),
        ("POST", "/v1/commerce/onboarding/stores", "/v1/commerce/onboarding/stores", "register"),
        ("GET", "/v1/commerce/onboarding/stores/{id}", "/v1/commerce/onboarding/stores/{onboardingId}",
         "get_onboarding"),
        ("DELETE", "/v1/commerce/onboarding/stores/{id}", "/v1/commerce/onboarding/stores/{onboardingId}",
         "cancel_onboarding"),
        ("POST", "/v1/commerce/onboarding/stores/{id}/activate",
         "/v1/commerce/onboarding/stores/{onboardingId}/activate", "activate"),
    ]
]
_BODY_OPS = {"notify_catalog", "update_store", "set_status", "order_status", "register"}
# ((route template, operation) or None, path params, methods allowed on the path)
Match = Tuple[Optional[Tuple[str, str]], List[str], List[str]]


def match_route(method: str, path: str) -> Match:
    """((template, op) or None, path params, methods allowed on this path)."""
    allowed = []
    for route_method, pattern, template, op in ROUTES:
        found = pattern.match(path)
        if found:
            if route_method == method:
                return (template, op), [urllib.parse.unquote(g) for g in found.groups()], []
            allowed.append(route_method)
    return None, [], allowed


def authenticate(sandbox: Any, headers: Any) -> Tuple[Any, str]:
    """(the Partner of the Bearer key or None, why not)."""
    header = headers.get("Authorization")
    if not header:
        return None, "missing Authorization header; provide a valid API key (Bearer zpka_...)"
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None, "Authorization must be 'Bearer <API key>'; provide a valid API key (Bearer zpka_...)"
    partner = sandbox._state.partner_for(key.strip())
    if partner is None:
        return None, "the API key is not valid for this environment; provide a valid API key (Bearer zpka_...)"
    return partner, ""


def problem_response(error: ApiError, request: Request, extra_headers: Optional[Dict[str, str]] = None) -> Response:
    """An ApiError as problem+json (or Markdown when the client asks only for that)."""
    problem = error.problem(request.path, request.request_id)
    headers = {"X-Request-Id": request.request_id}
    headers.update(extra_headers or {})
    headers.update(error.headers)
    if error.retry_after is not None:
        headers["Retry-After"] = str(int(error.retry_after))
    accept = request.headers.get("Accept", "")
    if "text/markdown" in accept and "json" not in accept:
        return Response(error.status, problems.to_markdown(problem), headers, "text/markdown; charset=utf-8")
    return Response(error.status, dumps(problem), headers, "application/problem+json")


def handle(sandbox: Any, request: Request, partner: Any, auth_problem: str, matched: Match) -> Response:
    """Answer one API request (``partner`` from :func:`authenticate`, ``matched`` from :func:`match_route`)."""
    rate_headers: Dict[str, str] = {}
    method, path = request.method, request.path
    try:
        decision = sandbox._limiter.check(partner.label if partner else "anon:" + request.client_ip, method)
        rate_headers = decision.headers()
        if request.body_error is not None:
            raise request.body_error
        if partner is None:
            raise ApiError("UNAUTHENTICATED", auth_problem, headers={"WWW-Authenticate": 'Bearer realm="gett"'})
        if not decision.allowed:
            raise ApiError("RATE_LIMITED", f"rate limit of this API key exceeded; retry in "
                           f"{decision.retry_after} s", retry_after=decision.retry_after)
        route, params, allowed = matched
        if route is None:
            if allowed:
                raise ApiError("METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}; use "
                               f"{', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
            raise ApiError("NOT_FOUND", f"no endpoint {method} {path}")
        op = route[1]
        body = parse_json(request.body) if op in _BODY_OPS else None
        status, payload = operate(sandbox._state, op, partner, params, request.query, body)
        headers = dict(rate_headers, **{"X-Request-Id": request.request_id})
        if payload is None:
            return Response(status, b"", headers, None if status == 204 else "application/json")
        return Response(status, dumps(payload), headers)
    except ApiError as error:
        return problem_response(error, request, rate_headers)
    except Exception:
        sandbox._note_error(traceback.format_exc())
        return problem_response(ApiError("INTERNAL_ERROR", "unexpected sandbox error; see sandbox.errors"),
                                request, rate_headers)


def operate(state: Any, op: str, partner: Any, params: List[str], query: str, body: Any) -> Tuple[int, Any]:
    """Run one operation: (success status, JSON payload or None)."""
    if op == "list_stores":
        limit, offset = paging(query)
        return 200, state.list_stores(partner, limit, offset)
    if op == "get_store":
        return 200, state.get_store(partner, params[0])
    if op == "update_store":
        return 200, state.update_store(partner, params[0], body)
    if op == "get_status":
        return 200, state.get_status(partner, params[0])
    if op == "set_status":
        return 200, state.set_status(partner, params[0], body)
    if op == "order_status":
        state.update_order_status(partner, params[0], body)
        return 200, None
    if op == "register":
        return 201, state.register(partner, body)
    if op == "get_onboarding":
        return 200, state.get_onboarding(partner, params[0])
    if op == "cancel_onboarding":
        state.cancel_onboarding(partner, params[0])
        return 204, None
    if op == "activate":
        return 200, state.activate(partner, params[0])
    if op == "notify_catalog":
        store_ref = urllib.parse.parse_qs(query).get("storeId", [None])[0]
        state.notify_catalog(partner, store_ref, body)
        return 202, None
    raise ApiError("NOT_FOUND", f"unknown operation {op}")


def paging(query: str) -> Tuple[int, int]:
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    errors = []
    values = {}
    for name, default, low, high in (("limit", 50, 1, 100), ("offset", 0, 0, None)):
        given = params.get(name)
        if not given:
            values[name] = default
            continue
        text = given[-1]
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            errors.append(field_error("INVALID_VALUE", f"{name} must be an integer {bound}, got {text[:40]!r}",
                                      f"$.{name}", **{"in": "query"}))
        else:
            values[name] = value
    if errors:
        raise validation_failed(errors)
    return values["limit"], values["offset"]
