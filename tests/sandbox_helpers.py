"""Test helpers for the sandbox tests: a raw HTTP client and a fake partner.

The sandbox tests talk plain HTTP (http.client) so they test the emulator
itself, independent of the SDK client.
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from conftest import send_json, serve_in_thread


@dataclasses.dataclass(repr=False)
class Resp:
    status: int
    headers: Dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    def header(self, name: str) -> Optional[str]:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def __repr__(self) -> str:
        return f"<Resp {self.status} {self.raw[:200]!r}>"


class Api:
    """Keep-alive HTTP/1.1 client for one API key."""

    def __init__(self, url: str, key: Optional[str], timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.key, self.timeout = parts.hostname, parts.port, key, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method: str, path: str, body: Any = None, *, raw: Optional[bytes] = None,
             headers: Optional[Dict[str, str]] = None) -> Resp:
        send_headers = {"Accept": "application/json"}
        if self.key is not None:
            send_headers["Authorization"] = f"Bearer {self.key}"
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            send_headers["Content-Type"] = "application/json"
        send_headers.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=raw, headers=send_headers)
                response = self.conn.getresponse()
                data = response.read()
                return Resp(response.status, dict(response.getheaders()), data)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, **kw: Any) -> Resp:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Resp:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Resp:
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Resp:
        return self.call("DELETE", path, **kw)

    def close(self) -> None:
        self.conn.close()


Handler = Callable[[Dict[str, Any], Dict[str, str]], Tuple[int, Any]]


class Partner:
    """A fake partner webhook endpoint: records requests, answers from handlers.

    ``handlers["validate"]`` / ``handlers["place"]`` take (json body,
    headers) and return (status, json); a handler may sleep to simulate a
    slow partner.
    """

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []
        self.place_count = 0
        self.handlers: Dict[str, Handler] = {"validate": self.default_validate, "place": self.default_place}
        self.lock = threading.Lock()
        partner = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                headers = dict(self.headers.items())
                with partner.lock:
                    partner.received.append({"path": self.path, "headers": headers, "raw": raw})
                body = json.loads(raw)
                try:
                    status, answer = partner.handlers[name](body, headers)
                except KeyError:
                    status, answer = 404, {"detail": "no such hook"}
                data = json.dumps(answer).encode()
                try:
                    send_json(self, status, data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = serve_in_thread(self.server)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gett"

    @staticmethod
    def default_validate(body: Dict[str, Any], headers: Dict[str, str]) -> Tuple[int, Any]:
        sub = body["order"]["amounts"]["subTotal"]
        return 200, {"amounts": {"subTotal": sub, "taxes": 1.0, "fees": 0.5, "total": sub + 1.5}}

    def default_place(self, body: Dict[str, Any], headers: Dict[str, str]) -> Tuple[int, Any]:
        with self.lock:
            self.place_count += 1
            n = self.place_count
        return 200, {"partnerOrderId": f"po-{n}", "amounts": {"total": body["order"]["amounts"]["subTotal"] + 1.5}}

    def calls(self, name: str) -> List[Dict[str, Any]]:
        with self.lock:
            return [r for r in self.received if r["path"].endswith("/" + name)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "requestId", "timestamp", "errorCode",
                  "errorCategory", "retryable"}


def assert_problem(resp, status, code, category=None):
    assert resp.status == status, resp
    assert resp.header("Content-Type") == "application/problem+json"
    body = resp.json
    assert PROBLEM_FIELDS <= set(body), body
    assert body["status"] == status and body["errorCode"] == code
    assert body["type"] == f"https://developer.gett-tech.com/errors/{code}"
    assert body["requestId"].startswith("req_") and body["requestId"] == resp.header("X-Request-Id")
    assert TS_RE.match(body["timestamp"])
    if category:
        assert body["errorCategory"] == category
    return body


# Fixtures shared by the sandbox test modules (import them by name).
@pytest.fixture
def api(sandbox):
    """A raw keep-alive client with the sandbox's API key."""
    client = Api(sandbox.url, sandbox.api_key)
    yield client
    client.close()


@pytest.fixture
def partner():
    """A fake partner webhook endpoint (:class:`Partner`), closed after the test."""
    with contextlib.closing(Partner()) as p:
        yield p


@pytest.fixture
def store_id(sandbox):
    """An active store seeded with the demo catalog."""
    return sandbox.create_store(partner_store_id="p-1", name="Pizza Place")
