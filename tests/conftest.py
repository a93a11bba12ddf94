"""Shared fixtures: a recording HTTP/1.1 test server and a Client bound to it.

The server records every request (method, path, query, headers, body and the
client's port, which identifies the TCP connection) and answers from a
script of responses, so tests assert the exact wire format the SDK sends.
"""
from __future__ import annotations

import json
import os
import socket
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

import gettcommerce as gett
from rawserver import wait_listening

API_KEY = "zpka_test_0123456789abcdef"

# tools/wheels.sh (`make test`) sets GETT_TEST_INSTALLED to the wheel it
# installed: the suite must then exercise that wheel, never the checkout.
INSTALLED_WHEEL = os.environ.get("GETT_TEST_INSTALLED") or None
CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if INSTALLED_WHEEL and os.path.dirname(os.path.abspath(gett.__file__)) == os.path.join(CHECKOUT, "gettcommerce"):
    raise pytest.UsageError(f"GETT_TEST_INSTALLED is set but gettcommerce was imported from the checkout "
                            f"({gett.__file__}); run pytest from a directory outside it")


class Recorded:
    def __init__(self, method: str, target: str, headers: Dict[str, str], body: bytes, port: int):
        self.method = method
        parts = urlsplit(target)
        self.path = parts.path
        self.raw_query = parts.query
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.headers = headers
        self.body = body
        self.port = port

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} {self.body[:60]!r}>"


class Reply:
    """One scripted answer.  action: None, 'close' (drop the connection
    without answering, after reading the request), 'close_mid_body'."""

    def __init__(self, status: int = 200, json_body: Any = None, body: Optional[bytes] = None,
                 headers: Optional[Dict[str, str]] = None, delay: float = 0.0,
                 action: Optional[str] = None, content_type: Optional[str] = None):
        self.status = status
        if body is None:
            body = b"" if json_body is None else json.dumps(json_body).encode()
        self.body = body
        self.headers = dict(headers or {})
        if content_type is None:
            content_type = "application/problem+json" if status >= 400 else "application/json"
        if self.body and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type
        self.delay = delay
        self.action = action


def problem(status: int, code: str, detail: str = "it went wrong", **extra: Any) -> Dict[str, Any]:
    body = {"type": f"https://developer.gett-tech.com/errors/{code}", "title": "Error",
            "status": status, "detail": detail, "instance": "/v1/commerce/x",
            "requestId": "req_abc123", "timestamp": "2026-03-11T14:30:00.000Z",
            "errorCode": code, "errorCategory": "server_error",
            "retryable": status in (429, 500, 502, 503, 504)}
    body.update(extra)
    return body


def send_json(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    """Answer the request ``handler`` is serving: ``status`` and a JSON ``body`` with its length."""
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def serve_in_thread(httpd: ThreadingHTTPServer, poll_interval: float = 0.05) -> threading.Thread:
    """Start serving ``httpd`` from a daemon thread (daemon request threads too); stop it with shutdown()."""
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True)
    thread.start()
    return thread


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 drops SYNs when a batch opens many connections
    # at once, and each dropped SYN costs a 1 s retransmit.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Tests drop connections on purpose (timeouts, fork, Ctrl-C).
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class RecordingServer:
    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.script: Deque[Reply] = deque()
        self.default: Callable[[Recorded], Reply] = lambda req: Reply(200, {})
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without
                # TCP_NODELAY Nagle + delayed ACK add 40 ms per call.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rec = Recorded(self.command, self.path, dict(self.headers.items()), body,
                               self.client_address[1])
                with server.lock:
                    server.requests.append(rec)
                    reply = server.script.popleft() if server.script else None
                if reply is None:
                    reply = server.default(rec)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.action == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if reply.action == "close_mid_body":
                    self.send_header("Content-Length", str(len(reply.body) + 100))
                    self.end_headers()
                    self.wfile.write(reply.body[: len(reply.body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body:
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = serve_in_thread(self.httpd, poll_interval=0.02)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        wait_listening(self.httpd.server_port)

    def add(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# The ASan run (make test-asan) preloads libasan into every process it
# starts; native servers a test launches (redis, PostgreSQL, nginx, openssl)
# must not inherit that: it is for our extension, and `postgres -V` hangs
# under it.  Python children keep it (they load the instrumented _core).
SANITIZER_VARIABLES = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def native_env() -> Dict[str, str]:
    """os.environ without the sanitizer run's variables, for non-Python servers."""
    return {k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES}


def stop_process(proc: "subprocess.Popen[Any]", sig: int = signal.SIGTERM) -> None:
    """Stop a server a test started: ``sig`` (SIGTERM: graceful), then SIGKILL after 15 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_child(fn: Callable[[], Any]) -> int:
    """Run fn in a forked child; its exit status (0 when fn returned), or
    -signum when a signal killed it (a crash never reads as 0)."""
    import os
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture
def sandbox_options() -> Dict[str, Any]:
    """More Sandbox() arguments for the ``sandbox`` fixture; a test module overrides this to set them."""
    return {}


@pytest.fixture
def sandbox(sandbox_options):
    """An in-process Gett sandbox: delays scaled down, no rate limits."""
    from gettcommerce.sandbox import Sandbox
    with Sandbox(time_scale=0.001, rate_limits=False, **sandbox_options) as sb:
        yield sb


@pytest.fixture
def server():
    srv = RecordingServer()
    yield srv
    srv.close()


@pytest.fixture
def client(server):
    with gett.Client(api_key=API_KEY, base_url=server.url, timeout=5.0) as c:
        yield c


def core_client(base_url: str, api_key: str = "zpka_core", user_agent: str = "ua/1", **kw: Any):
    """A gettcommerce._core.Client with every required keyword at its default."""
    from gettcommerce import _constants as c
    args = dict(timeout=c.DEFAULT_TIMEOUT, connect_timeout=c.DEFAULT_CONNECT_TIMEOUT,
                max_retries=c.DEFAULT_MAX_RETRIES, max_response_bytes=c.DEFAULT_MAX_RESPONSE_BYTES,
                ca_bundle=None, pool_size=c.DEFAULT_POOL_SIZE, proxy=None)
    args.update(kw)
    return gett._core.Client(base_url, api_key, user_agent, **args)
