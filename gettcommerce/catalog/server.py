"""A development server for a CatalogSet: the ``callbackUrl`` Gett pulls.

:meth:`CatalogSet.serve` starts one; every GET answers with the current
JSON of the menu it serves, so edits show up on the next pull.  For
development only: plain HTTP, on 127.0.0.1 by default.
"""
from __future__ import annotations

import http.server
import json
import threading
from typing import Any, Protocol, runtime_checkable

from ..errors import CatalogValidationError

__all__ = ["CatalogServer"]


@runtime_checkable
class MenuSource(Protocol):
    """What the server serves: anything that writes itself as JSON bytes
    (a CatalogSet), raising CatalogValidationError when it cannot."""

    def to_json(self) -> bytes: ...


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_HTTPServer"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status = 200
        try:
            body = self.server.catalog_server.current_json()
        except CatalogValidationError as exc:
            # The menu cannot be written as JSON (e.g. a NaN price): answer
            # like a broken origin would, with the reason, not a dropped socket.
            status = 500
            body = json.dumps({"error": str(exc)}).encode()
        # Counted before the answer goes out, so a client that has its
        # response always sees its own hit.
        self.server.catalog_server._count_hit()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:  # noqa: N802
        try:
            body = self.server.catalog_server.current_json()
        except CatalogValidationError:
            self.send_response(500)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # a dev helper should not write to stderr on every pull


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    catalog_server: "CatalogServer"


class CatalogServer:
    """A running :meth:`CatalogSet.serve` server.

    ``url`` is ``http://host:port/catalog.json``; ``str(server)`` is the
    URL too.  ``update(catalogset)`` changes what later GETs return;
    ``hits`` counts the GETs served.
    """

    def __init__(self, catalogset: MenuSource, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._catalogset = catalogset
        self.hits = 0
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.catalog_server = self
        bound_host, bound_port = self._httpd.server_address[:2]
        if isinstance(bound_host, bytes):
            bound_host = bound_host.decode()
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        self.url = f"http://{shown}:{bound_port}/catalog.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="gettcommerce-catalog-server", daemon=True)
        self._thread.start()

    def update(self, catalogset: MenuSource) -> None:
        """Serve ``catalogset`` (a CatalogSet) from now on."""
        if not isinstance(catalogset, MenuSource):
            raise TypeError(f"update() needs a CatalogSet, not {type(catalogset).__name__}")
        with self._lock:
            self._catalogset = catalogset

    def current_json(self) -> bytes:
        with self._lock:
            catalogset = self._catalogset
        return catalogset.to_json()

    def _count_hit(self) -> None:
        with self._lock:
            self.hits += 1

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = None  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<CatalogServer {self.url}>"

    def __enter__(self) -> "CatalogServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
