"""The control plane under ``/_sandbox/``: state, reset, faults, orders, keys, hosted catalogs.

It needs no API key (the sandbox binds to 127.0.0.1 and is a development
tool), is never faulted, never rate limited, and answers problem+json like
the API.  Each endpoint maps to one public ``Sandbox`` method.
"""
from __future__ import annotations

import traceback
import urllib.parse
from typing import Any, List

from .._wire import dumps
from . import problems
from .api import problem_response
from .exceptions import (SandboxNotFound, SandboxOrderError, SandboxOrderRejected, SandboxStoreClosed,
                         SandboxWebhookError)
from .faults import Fault, FaultError
from .problems import ApiError, field_error, invalid_request, validation_failed
from .responses import Request, Response, parse_json

PREFIX = "/_sandbox"


def is_control_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(sandbox: Any, request: Request) -> Response:
    method, path = request.method, request.path
    try:
        if request.body_error is not None:
            raise request.body_error
        parts = [urllib.parse.unquote(p) for p in path.split("/")[2:] if p]
        head = parts[0] if parts else ""
        if (method, parts) == ("GET", ["state"]):
            return Response(200, dumps(sandbox.state()))
        if (method, parts) == ("POST", ["reset"]):
            sandbox.reset()
            return Response(204, content_type=None)
        if head == "faults":
            return _faults(sandbox, method, parts[1:], request.body)
        if head == "orders":
            return _orders(sandbox, method, parts[1:], request.body)
        if (method, parts) == ("POST", ["keys"]):
            return Response(201, dumps({"apiKey": sandbox.add_api_key()}))
        if method == "GET" and head == "catalogs" and len(parts) == 2:
            data = sandbox._hosted_catalogs.get(parts[1])
            if data is None:
                raise ApiError("NOT_FOUND", f"no hosted catalog {parts[1]!r}")
            return Response(200, data)
        raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} {path}")
    except ApiError as error:
        return problem_response(error, request)
    except Exception:
        sandbox._note_error(traceback.format_exc())
        return problem_response(ApiError("INTERNAL_ERROR", "unexpected sandbox error"), request)


def fault_problem(exc: FaultError) -> ApiError:
    """400 INVALID_REQUEST with one errors[] entry per field at fault."""
    return invalid_request([field_error("INVALID_FAULT", message, "$" if name == "$" else f"$.{name}")
                            for name, message in exc.errors])


def _faults(sandbox: Any, method: str, rest: List[str], raw: bytes) -> Response:
    faults = sandbox.faults
    if method == "GET" and not rest:
        return Response(200, dumps({"faults": [f.to_dict() for f in faults.list()]}))
    if method == "DELETE" and not rest:
        faults.clear()
        return Response(204, content_type=None)
    if method == "DELETE" and len(rest) == 1:
        if not rest[0].isdigit() or not faults.remove(int(rest[0])):
            raise ApiError("NOT_FOUND", f"no live fault {rest[0]!r}")
        return Response(204, content_type=None)
    if method == "POST" and not rest:
        try:
            fault = Fault.from_json(parse_json(raw))
        except FaultError as exc:
            raise fault_problem(exc) from None
        faults.add(fault)
        return Response(201, dumps(fault.to_dict()))
    raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} /_sandbox/faults/{'/'.join(rest)}")


def _orders(sandbox: Any, method: str, rest: List[str], raw: bytes) -> Response:
    if method == "GET" and len(rest) == 1:
        try:
            return Response(200, dumps(sandbox.order(rest[0])))
        except SandboxNotFound as exc:
            raise ApiError("NOT_FOUND", str(exc)) from None
    if method != "POST" or rest:
        raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} /_sandbox/orders/{'/'.join(rest)}")
    body = parse_json(raw)
    if not isinstance(body, dict) or not isinstance(body.get("storeId"), str):
        raise validation_failed([field_error("FIELD_REQUIRED", "storeId (string) is required", "$.storeId")])
    items = body.get("items")
    if isinstance(items, list):
        # JSON has no tuples: [id, qty] pairs arrive as lists.
        items = [tuple(i) if isinstance(i, list) else i for i in items]
    try:
        order_id = sandbox.place_order(body["storeId"], items, body.get("fulfillmentType", "pickup"),
                                       user=body.get("user"), delivery_address=body.get("deliveryAddress"),
                                       tip=body.get("tip", 0))
    except SandboxNotFound as exc:
        raise ApiError("STORE_NOT_FOUND", str(exc)) from None
    except SandboxOrderError as exc:
        raise validation_failed([field_error("INVALID_ORDER", str(exc), "$.items")]) from None
    except SandboxStoreClosed as exc:
        raise ApiError("STORE_CLOSED", str(exc)) from None
    except SandboxOrderRejected as exc:
        raise ApiError(exc.error_code if exc.error_code in problems.ERROR_CODES else "INVALID_REQUEST",
                       str(exc), status=400, errors=exc.errors or None) from None
    except SandboxWebhookError as exc:
        raise ApiError("BAD_GATEWAY", str(exc)) from None
    return Response(201, dumps(sandbox.order(order_id)))
