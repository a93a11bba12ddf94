"""Serving a WebhookApp: the WSGI request reader and the local threaded server (serve())."""
from __future__ import annotations

import contextlib
import logging
import socketserver
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

if TYPE_CHECKING:  # pragma: no cover - typing only: app imports this module
    from .app import Response, WebhookApp

__all__ = ["wsgi_request", "serve_wsgi", "read_capped"]

_CHUNK = 65536

logger: logging.Logger = logging.getLogger("gettcommerce.webhooks")


def wsgi_request(app: "WebhookApp", environ: Dict[str, Any]) -> Response:
    """Answer one WSGI request: route, refuse by Content-Length, read the body capped, dispatch."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "") or "/"
    kind, route = app.route(path)
    if kind is None:
        return app.not_found(route)
    length_text = (environ.get("CONTENT_LENGTH") or "").strip()
    refused = app.refuse_before_body(method, length_text, route)
    if refused is not None:
        return refused
    headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
               if key.startswith("HTTP_")]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    stream = environ.get("wsgi.input")
    if length_text:
        length = int(length_text)
    elif environ.get("wsgi.input_terminated"):
        length = None          # chunked: the server ends the stream; read until EOF, capped
    else:
        length = 0
    body = read_capped(stream.read, app.max_body_bytes, length) if stream is not None else b""
    if body is None:
        return app.too_large(None, route)
    return app.dispatch(kind, method, headers, body, instance=route)


@contextlib.contextmanager
def serve_wsgi(app: Any, host: str, port: int) -> Iterator[str]:
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"gett-webhooks:{server.server_port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # Gett (and the sandbox) may deliver several webhooks at once; each gets a thread.
    daemon_threads = True
    allow_reuse_address = True


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        logger.debug("%s - %s", self.address_string(), format % args)


def read_capped(read: Callable[[int], bytes], limit: int, length: Optional[int]) -> Optional[bytes]:
    """Read a request body through ``read(n)``: at most ``length`` bytes (until EOF when None).

    Returns None, having read no more than ``limit + 1`` bytes, when the body
    is longer than ``limit``: a chunked body without Content-Length cannot
    make the process hold more than the limit.
    """
    wanted = limit + 1 if length is None else min(length, limit + 1)
    chunks: List[bytes] = []
    got = 0
    while got < wanted:
        chunk = read(min(_CHUNK, wanted - got))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return None if got > limit else b"".join(chunks)
