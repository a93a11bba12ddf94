"""The HTTP layer: a threaded HTTP/1.1 server in front of the API and control planes.

This module only moves bytes: it reads a request (its body limited in
size), hands it to :mod:`.control` (``/_sandbox/...``) or :mod:`.api`,
lets :mod:`.fault_actions` spoil the answer when a fault matches, logs the
request (:mod:`.requestlog`) and writes the answer.  Every response carries
a correct Content-Length so keep-alive connections (the SDK reuses one for
sequential calls) stay usable; a socket timeout per connection means a
slow or silent client only ever ties up its own thread.
"""
from __future__ import annotations

import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from .._wire import dumps
from . import api, control, fault_actions, problems
from ._util import new_request_id
from .problems import ApiError, build_problem
from .requestlog import RequestRecord, capped_headers
from .responses import Request, Response

__all__ = ["MAX_BODY_BYTES", "RequestRecord", "Response", "SandboxHTTPServer", "SandboxHandler"]

MAX_BODY_BYTES = 10 * 1024 * 1024


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

    # --- connection ------------------------------------------------------
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
            self.write(Response(code, dumps(problem), content_type="application/problem+json"))
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # --- writing (also the primitives fault_actions.Out needs) ----------------
    def write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type and not any(k.lower() == "content-type" for k in response.headers):
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

    def drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def write_truncated(self, response: Response) -> None:
        """Headers announcing the whole body, half of it, then the connection drops."""
        self.close_connection = True
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type or "application/json")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body[: len(response.body) // 2])
        self.wfile.flush()
        self.drop()

    def write_padded(self, status: int, headers: Dict[str, str], head: bytes, fill: int, tail: bytes) -> None:
        """A JSON body of ``head + fill * 'x' + tail`` streamed in blocks (it may be huge)."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(head) + fill + len(tail)))
        self.end_headers()
        try:
            self.wfile.write(head)
            block = b"x" * 65536
            while fill > 0:
                n = min(fill, len(block))
                self.wfile.write(block[:n])
                fill -= n
            self.wfile.write(tail)
            self.wfile.flush()
        except OSError:
            self.close_connection = True     # the client gave up reading, as it should

    # --- reading ----------------------------------------------------------
    def _fail_body(self, status: int, detail: str) -> ApiError:
        self.close_connection = True     # the rest of the body is unread: the connection is unusable
        return ApiError("PAYLOAD_TOO_LARGE" if status == 413 else "INVALID_REQUEST", detail, status=status)

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
            raise self._fail_body(400, f"invalid Content-Length {length_text[:40]!r}") from None
        if length > MAX_BODY_BYTES:
            raise self._fail_body(413, f"request body is {length} bytes; the limit is {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            raise self._fail_body(400, "request body ended before Content-Length bytes arrived")
        return body

    def _read_chunked(self) -> bytes:
        chunks: List[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise self._fail_body(400, "malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass           # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise self._fail_body(413, f"request body is over the {MAX_BODY_BYTES}-byte limit")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    # --- dispatch ---------------------------------------------------------
    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        split = urllib.parse.urlsplit(self.path)
        request = Request(self.command.upper(), split.path, split.query, self.headers, b"", new_request_id(),
                          self.client_address[0])
        try:
            request.body = self._read_body()
        except ApiError as exc:
            request.body_error = exc
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        if control.is_control_path(request.path):
            response = control.handle(sandbox, request)
            self._log(request, None, response.status)
            self.write(response)
            return
        partner, auth_problem = api.authenticate(sandbox, request.headers)
        matched = api.match_route(request.method, request.path)
        request.route = matched[0][0] if matched[0] else None
        fault = sandbox.faults.take(request.method, request.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        spoils = fault is not None and (fault.status is not None or fault.action is not None)
        if spoils and not fault.process:
            self._log(request, partner, fault.status or 200)
            fault_actions.apply(fault, None, request.request_id, request.path, self)
            return
        response = api.handle(sandbox, request, partner, auth_problem, matched)
        self._log(request, partner, response.status)
        if spoils:
            fault_actions.apply(fault, response, request.request_id, request.path, self)
            return
        self.write(response)

    def _log(self, request: Request, partner: Any, status: int) -> None:
        record = RequestRecord(request.method, request.path, request.query,
                               capped_headers(request.headers.items()), b"", request_id=request.request_id,
                               route=request.route, status=status, authenticated=partner is not None)
        self.server.sandbox._requests.add(record, request.body)
