"""A raw-socket HTTP server for fault tests: each request is answered by a
scripted function that writes whatever bytes it likes (or none), so tests
can misbehave in ways a well-behaved HTTP library refuses to: bogus chunk
sizes, HTTP/1.0 with no Content-Length, RSTs, slow drips, 200 MB bodies.

    with RawServer() as srv:
        srv.add(drip(b'{"a": 1}', interval=0.1))     # next request: a slow drip
        ...                                           # later requests: srv.default

A handler is ``handler(conn, request) -> bool``: it writes to ``conn`` (a
socket) and returns True to keep the connection for another request.
"""
from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from typing import Callable, Deque, List, Optional

Handler = Callable[[socket.socket, "RawRequest"], bool]


def wait_listening(port: int, timeout: float = 5.0) -> None:
    """Return once a TCP connect to 127.0.0.1:port succeeds; raise OSError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise


class RawRequest:
    """One parsed request: method, target, lower-cased headers, body."""

    def __init__(self, method: str, target: str, headers: dict, body: bytes, conn_id: int):
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.conn_id = conn_id

    def __repr__(self) -> str:
        return f"<RawRequest {self.method} {self.target} conn={self.conn_id}>"


def _read_request(conn: socket.socket, buf: bytearray, conn_id: int) -> Optional[RawRequest]:
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    buf[:] = rest[length:]
    return RawRequest(method, target, headers, rest[:length], conn_id)


def response_bytes(status: int = 200, body: bytes = b"", *, reason: str = "OK",
                   content_type: Optional[str] = "application/json", headers: Optional[dict] = None,
                   version: str = "HTTP/1.1", content_length: Optional[int] = -1) -> bytes:
    """Serialise a response; ``content_length=None`` omits the header, -1 uses len(body)."""
    lines = [f"{version} {status} {reason}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if content_length is not None:
        lines.append(f"Content-Length: {len(body) if content_length == -1 else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# ------------------------------------------------------------ handlers

def ok_json(payload: object = None) -> Handler:
    """A well-behaved keep-alive 200 with a JSON body (echoes the path by default)."""
    def handler(conn: socket.socket, req: RawRequest) -> bool:
        data = payload if payload is not None else {"status": "online", "path": req.target}
        conn.sendall(response_bytes(200, json.dumps(data).encode()))
        return True
    return handler


def send(raw: bytes, *, keep_alive: bool = False) -> Handler:
    """Write these exact bytes, then close unless keep_alive."""
    def handler(conn: socket.socket, req: RawRequest) -> bool:
        conn.sendall(raw)
        return keep_alive
    return handler


def reset() -> Handler:
    """Read the request, answer nothing, close with a TCP RST (SO_LINGER 0)."""
    def handler(conn: socket.socket, req: RawRequest) -> bool:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False
    return handler


def hang(stop: threading.Event) -> Handler:
    """Read the request and never answer (until the server stops)."""
    def handler(conn: socket.socket, req: RawRequest) -> bool:
        stop.wait(30)
        return False
    return handler


def drip(body: bytes, *, interval: float, stop: threading.Event) -> Handler:
    """Headers at once, then the body one byte per ``interval`` seconds."""
    def handler(conn: socket.socket, req: RawRequest) -> bool:
        conn.sendall(response_bytes(200, b"", content_length=len(body)))
        for i in range(len(body)):
            if stop.wait(interval):
                return False
            try:
                conn.sendall(body[i:i + 1])
            except OSError:
                return False
        return True
    return handler


def endless(total: int, *, block: int = 1 << 20) -> Handler:
    """Announce ``total`` bytes and stream them until the client hangs up.

    Sends one reused block over and over, so the test process never holds
    more than ``block`` bytes however large ``total`` is.  ``sent`` (on the
    handler) records how much went out before the client stopped reading.
    """
    chunk = b"x" * block

    def handler(conn: socket.socket, req: RawRequest) -> bool:
        conn.sendall(response_bytes(200, b'{"padding": "', content_length=total))
        left = total - len(b'{"padding": "')
        try:
            while left > 0:
                n = min(left, block)
                conn.sendall(chunk[:n] if n < block else chunk)
                handler.sent += n
                left -= n
        except OSError:
            pass  # the client stopped reading and closed: what the test wants
        return False
    handler.sent = 0  # type: ignore[attr-defined]
    return handler


# ------------------------------------------------------------ the server

class RawServer:
    """Threaded raw HTTP/1.x server on 127.0.0.1; scripted answers, then ``default``."""

    def __init__(self, port: int = 0) -> None:
        self.script: Deque[Handler] = deque()
        self.default: Handler = ok_json()
        self.requests: List[RawRequest] = []
        self.connections = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: List[socket.socket] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(64)
        # close() from another thread does not wake a blocked accept(): poll.
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()
        # listen() already happened, so this connects at once; it proves the
        # accept loop is running before a test starts.
        wait_listening(self.port)

    def add(self, *handlers: Handler) -> None:
        with self._lock:
            self.script.extend(handlers)

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                conn_id = self.connections
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, conn_id), daemon=True).start()

    def _serve(self, conn: socket.socket, conn_id: int) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = bytearray()
        try:
            while not self.stop.is_set():
                req = _read_request(conn, buf, conn_id)
                if req is None:
                    return
                with self._lock:
                    self.requests.append(req)
                    handler = self.script.popleft() if self.script else self.default
                if not handler(conn, req):
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def __enter__(self) -> "RawServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
