"""Serving a WebhookApp: the WSGI request reader and the local threaded server (serve())."""
from __future__ import annotations

import contextlib
import logging
import socketserver
import threading
from typing import TYPE_CHECKING, Any, Dict, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import Response, read_capped

if TYPE_CHECKING:  # pragma: no cover
    from .app import WebhookApp

__all__ = ["wsgi_request", "serve_wsgi"]

logger = logging.getLogger("gettcommerce.webhooks")


def wsgi_request(app: "WebhookApp", environ: Dict[str, Any]) -> Response:
    """Answer one WSGI request: route, refuse by Content-Length, read the body capped, dispatch."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "") or "/"
    kind, route = app.route(path)
    if kind is None:
        return app.not_found(route)
    if method.upper() != "POST":
        return app.method_not_allowed(method, route)
    headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
               if key.startswith("HTTP_")]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    length_text = (environ.get("CONTENT_LENGTH") or "").strip()
    refused = app.refuse_length(length_text, route)
    if refused is not None:
        return refused
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
