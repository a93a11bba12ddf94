"""The HTTP layer: a threaded HTTP/1.1 server speaking the Commerce API.

Every response carries a correct Content-Length so keep-alive connections
(the SDK reuses one for sequential calls) stay usable; every API response
carries the rate-limit headers and an ``X-Request-Id`` equal to the
problem's ``requestId``.  A socket timeout per connection means a slow or
silent client only ever ties up its own thread.
"""
from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from . import problems
from ._util import dumps, new_request_id
from .exceptions import (SandboxNotFound, SandboxOrderError, SandboxOrderRejected,
                         SandboxStoreClosed, SandboxWebhookError)
from .faults import DEFAULT_OVERSIZED_BYTES, Fault
from .problems import ApiError, build_problem, field_error, validation_failed

MAX_BODY_BYTES = 10 * 1024 * 1024
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


def match_route(method: str, path: str) -> Tuple[Optional[Tuple[str, str]], List[str], List[str]]:
    """((template, op) or None, path params, methods allowed on this path)."""
    allowed = []
    for route_method, pattern, template, op in ROUTES:
        found = pattern.match(path)
        if found:
            if route_method == method:
                return (template, op), [urllib.parse.unquote(g) for g in found.groups()], []
            allowed.append(route_method)
    return None, [], allowed


@dataclass
class RequestRecord:
    """One request as it arrived (``sandbox.requests``)."""

    method: str
    path: str
    query: str
    headers: Dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)
    request_id: str = ""
    route: Optional[str] = None
    status: Optional[int] = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> Optional[str]:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    content_type: Optional[str] = "application/json"


class _BodyError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512     # 200 clients connecting at once must not overflow the backlog

    def __init__(self, address: Tuple[str, int], handler: type, sandbox: Any) -> None:
        self.sandbox = sandbox
        self._connections: set = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._conn_lock:
            (self._connections.add if alive else self._connections.discard)(conn)

    def close_all_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client vanishing mid-answer is routine for a test server.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        self.sandbox._note_error(traceback.format_exc())


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GettSandbox/1"
    server: SandboxHTTPServer

    def version_string(self) -> str:
        return self.server_version

    # --- plumbing --------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        # Headers and body go out as one write below; without NODELAY a small
        # answer could still wait ~40 ms on the client's delayed ACK.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            sys.stderr.write(f"sandbox {self.address_string()} {format % args}\n")

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Parse errors of http.server (garbage request lines, bad headers) as problem+json."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"    # so a status line and headers are written at all
        code_name = problems.DEFAULT_CODE_FOR_STATUS.get(code, f"HTTP_{code}")
        if code == 501:
            code_name = "METHOD_NOT_ALLOWED"
        problem = build_problem(code_name, message or problems.reason_phrase(code), instance=self.path
                                if isinstance(getattr(self, "path", None), str) else "", status=code)
        try:
            self._write(Response(code, dumps(problem), content_type="application/problem+json"))
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        if response.status != 204 and response.body:
            self._headers_buffer.append(response.body)
        self.flush_headers()     # status line, headers and body in one send

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _BodyError(400, f"invalid Content-Length {length_text[:40]!r}") from None
        if length > MAX_BODY_BYTES:
            # Not reading a body this big means the connection cannot be reused.
            self.close_connection = True
            raise _BodyError(413, f"request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            self.close_connection = True
            raise _BodyError(400, "request body ended before Content-Length bytes arrived")
        return body

    def _read_chunked(self) -> bytes:
        chunks: List[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise _BodyError(400, "malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass           # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                raise _BodyError(413, f"request body is over the {MAX_BODY_BYTES}-byte limit")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    # --- dispatch --------------------------------------------------------
    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        request_id = new_request_id()
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        method = self.command.upper()
        record = RequestRecord(method, path, query, dict(self.headers.items()), b"", request_id=request_id)
        route, params, allowed = match_route(method, path)
        record.route = route[0] if route else None
        body_error: Optional[_BodyError] = None
        try:
            record.body = self._read_body()
        except _BodyError as exc:
            body_error = exc
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        sandbox._log_request(record)

        if path.startswith("/_sandbox/") or path == "/_sandbox":
            response = self._control(method, path, query, record.body, body_error, request_id)
            record.status = response.status
            self._write(response)
            return

        fault = sandbox.faults.take(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        spoils = fault is not None and (fault.status is not None or fault.action is not None)
        if spoils and not fault.process:
            record.status = fault.status or 200
            self._apply_fault(fault, None, request_id, path)
            return
        response = self._api(method, path, query, record, route, params, allowed, body_error, request_id)
        record.status = response.status
        if spoils:
            self._apply_fault(fault, response, request_id, path)
            return
        self._write(response)

    def _problem_response(self, error: ApiError, instance: str, request_id: str,
                          extra_headers: Optional[Dict[str, str]] = None) -> Response:
        problem = error.problem(instance, request_id)
        headers = {"X-Request-Id": request_id}
        headers.update(extra_headers or {})
        headers.update(error.headers)
        if error.retry_after is not None:
            headers["Retry-After"] = str(int(error.retry_after))
        accept = self.headers.get("Accept", "")
        if "text/markdown" in accept and "json" not in accept:
            return Response(error.status, problems.to_markdown(problem), headers, "text/markdown; charset=utf-8")
        return Response(error.status, dumps(problem), headers, "application/problem+json")

    def _api(self, method: str, path: str, query: str, record: RequestRecord, route: Any, params: List[str],
             allowed: List[str], body_error: Optional[_BodyError], request_id: str) -> Response:
        sandbox = self.server.sandbox
        rate_headers: Dict[str, str] = {}
        try:
            partner = self._authenticate()
            decision = sandbox._limiter.check(partner.label if partner else "anon:" + self.client_address[0],
                                              method)
            rate_headers = decision.headers()
            if body_error is not None:
                code = "PAYLOAD_TOO_LARGE" if body_error.status == 413 else "INVALID_REQUEST"
                raise ApiError(code, body_error.detail, status=body_error.status)
            if partner is None:
                raise self._auth_error()
            if not decision.allowed:
                raise ApiError("RATE_LIMITED", f"rate limit of this API key exceeded; retry in "
                               f"{decision.retry_after} s", retry_after=decision.retry_after)
            if route is None:
                if allowed:
                    raise ApiError("METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}; use "
                                   f"{', '.join(allowed)}", headers={"Allow": ", ".join(allowed)})
                raise ApiError("NOT_FOUND", f"no endpoint {method} {path}")
            op = route[1]
            body: Any = None
            if op in _BODY_OPS:
                body = self._parse_json(record.body)
            return self._operate(op, partner, params, query, body, request_id, rate_headers)
        except ApiError as error:
            return self._problem_response(error, path, request_id, rate_headers)
        except Exception:
            sandbox._note_error(traceback.format_exc())
            return self._problem_response(ApiError("INTERNAL_ERROR", "unexpected sandbox error; see "
                                                   "sandbox.errors"), path, request_id, rate_headers)

    def _authenticate(self) -> Any:
        header = self.headers.get("Authorization")
        if not header:
            self._auth_problem = "missing Authorization header; provide a valid API key (Bearer zpka_...)"
            return None
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            self._auth_problem = "Authorization must be 'Bearer <API key>'; provide a valid API key (Bearer zpka_...)"
            return None
        partner = self.server.sandbox._state.partner_for(key.strip())
        if partner is None:
            self._auth_problem = ("the API key is not valid for this environment; provide a valid API key "
                                  "(Bearer zpka_...)")
        return partner

    def _auth_error(self) -> ApiError:
        return ApiError("UNAUTHENTICATED", getattr(self, "_auth_problem", "unauthenticated"),
                        headers={"WWW-Authenticate": 'Bearer realm="gett"'})

    @staticmethod
    def _parse_json(raw: bytes) -> Any:
        if not raw.strip():
            raise ApiError("INVALID_REQUEST", "the request body is empty; this endpoint expects a JSON object")
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ApiError("INVALID_REQUEST", f"the request body is not UTF-8: {exc}") from None
        except ValueError as exc:
            raise ApiError("INVALID_REQUEST", f"the request body is not valid JSON: {exc}") from None

    def _operate(self, op: str, partner: Any, params: List[str], query: str, body: Any, request_id: str,
                 rate_headers: Dict[str, str]) -> Response:
        state = self.server.sandbox._state
        headers = dict(rate_headers, **{"X-Request-Id": request_id})

        def ok(status: int, payload: Any = None) -> Response:
            if payload is None:
                return Response(status, b"", headers, None if status == 204 else "application/json")
            return Response(status, dumps(payload), headers)

        if op == "list_stores":
            limit, offset = _paging(query)
            return ok(200, state.list_stores(partner, limit, offset))
        if op == "get_store":
            return ok(200, state.get_store(partner, params[0]))
        if op == "update_store":
            return ok(200, state.update_store(partner, params[0], body))
        if op == "get_status":
            return ok(200, state.get_status(partner, params[0]))
        if op == "set_status":
            return ok(200, state.set_status(partner, params[0], body))
        if op == "order_status":
            state.update_order_status(partner, params[0], body)
            return ok(200)
        if op == "register":
            return ok(201, state.register(partner, body))
        if op == "get_onboarding":
            return ok(200, state.get_onboarding(partner, params[0]))
        if op == "cancel_onboarding":
            state.cancel_onboarding(partner, params[0])
            return ok(204)
        if op == "activate":
            return ok(200, state.activate(partner, params[0]))
        if op == "notify_catalog":
            store_ref = urllib.parse.parse_qs(query).get("storeId", [None])[0]
            state.notify_catalog(partner, store_ref, body)
            return ok(202)
        raise ApiError("NOT_FOUND", f"unknown operation {op}")

    # --- faults ----------------------------------------------------------
    def _apply_fault(self, fault: Fault, response: Optional[Response], request_id: str, path: str) -> None:
        if fault.action == "close_before":
            self._drop()
            return
        if fault.action == "invalid_json":
            body = b'{"sandboxFault": "invalid_json", "stores": [ {"storeId": '
            self._write(Response(fault.status or 200, body, dict(fault.headers, **{"X-Request-Id": request_id})))
            return
        if fault.action == "oversized":
            self._send_oversized(fault, request_id)
            return
        if fault.status is not None:
            code = problems.DEFAULT_CODE_FOR_STATUS.get(fault.status, f"HTTP_{fault.status}")
            retry_after = fault.retry_after
            if retry_after is None and fault.status == 429:
                retry_after = 1
            problem = build_problem(code, f"injected fault #{fault.id}: HTTP {fault.status}", instance=path,
                                    status=fault.status, retry_after=retry_after, request_id=request_id)
            problem.update(fault.problem or {})
            headers = {"X-Request-Id": request_id}
            if retry_after is not None:
                headers["Retry-After"] = str(int(retry_after))
            headers.update(fault.headers)
            response = Response(fault.status, dumps(problem), headers, "application/problem+json")
        if response is None:
            response = Response(200, dumps({"sandboxFault": fault.action, "padding": "x" * 2048}),
                                {"X-Request-Id": request_id})
        if fault.action == "close_mid_body":
            self._send_half(response)
            return
        self._write(response)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_half(self, response: Response) -> None:
        body = response.body if len(response.body) >= 2 else dumps({"padding": "x" * 2048})
        self.close_connection = True
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type or "application/json")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self._drop()

    def _send_oversized(self, fault: Fault, request_id: str) -> None:
        size = fault.size if fault.size is not None else DEFAULT_OVERSIZED_BYTES
        head, tail = b'{"sandboxFault":"oversized","padding":"', b'"}'
        size = max(size, len(head) + len(tail))
        self.send_response(fault.status or 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", request_id)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            self.wfile.write(head)
            left = size - len(head) - len(tail)
            block = b"x" * 65536
            while left > 0:
                n = min(left, len(block))
                self.wfile.write(block[:n])
                left -= n
            self.wfile.write(tail)
            self.wfile.flush()
        except OSError:
            self.close_connection = True     # the client gave up reading, as it should

    # --- control plane (/_sandbox/...) -------------------------------------
    def _control(self, method: str, path: str, query: str, raw: bytes, body_error: Optional[_BodyError],
                 request_id: str) -> Response:
        sandbox = self.server.sandbox
        try:
            if body_error is not None:
                raise ApiError("PAYLOAD_TOO_LARGE" if body_error.status == 413 else "INVALID_REQUEST",
                               body_error.detail, status=body_error.status)
            parts = [urllib.parse.unquote(p) for p in path.split("/")[2:] if p]
            head = parts[0] if parts else ""
            if (method, parts) == ("GET", ["state"]):
                return Response(200, dumps(sandbox.state()))
            if (method, parts) == ("POST", ["reset"]):
                sandbox.reset()
                return Response(204, content_type=None)
            if head == "faults":
                return self._control_faults(method, parts[1:], raw)
            if head == "orders":
                return self._control_orders(method, parts[1:], raw)
            if (method, parts) == ("POST", ["keys"]):
                return Response(201, dumps({"apiKey": sandbox.add_api_key()}))
            if method == "GET" and head == "catalogs" and len(parts) == 2:
                data = sandbox._hosted_catalogs.get(parts[1])
                if data is None:
                    raise ApiError("NOT_FOUND", f"no hosted catalog {parts[1]!r}")
                return Response(200, data)
            raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} {path}")
        except ApiError as error:
            return self._problem_response(error, path, request_id)
        except Exception:
            sandbox._note_error(traceback.format_exc())
            return self._problem_response(ApiError("INTERNAL_ERROR", "unexpected sandbox error"), path, request_id)

    def _control_faults(self, method: str, rest: List[str], raw: bytes) -> Response:
        faults = self.server.sandbox.faults
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
                fault = Fault.from_json(self._parse_json(raw))
            except (ValueError, TypeError) as exc:
                raise validation_failed([field_error("INVALID_FAULT", str(exc), "$")]) from None
            faults.add(fault)
            return Response(201, dumps(fault.to_dict()))
        raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} /_sandbox/faults/{'/'.join(rest)}")

    def _control_orders(self, method: str, rest: List[str], raw: bytes) -> Response:
        sandbox = self.server.sandbox
        if method == "GET" and len(rest) == 1:
            try:
                return Response(200, dumps(sandbox.order(rest[0])))
            except SandboxNotFound as exc:
                raise ApiError("NOT_FOUND", str(exc)) from None
        if method != "POST" or rest:
            raise ApiError("NOT_FOUND", f"no sandbox control endpoint {method} /_sandbox/orders/{'/'.join(rest)}")
        body = self._parse_json(raw)
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


def _paging(query: str) -> Tuple[int, int]:
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
