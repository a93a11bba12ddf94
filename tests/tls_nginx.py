"""nginx over TLS on loopback, for tests that count handshakes and connections.

``TlsNginx`` starts nginx (the Debian package; ``.ci/install-services.sh``
installs it) in the foreground on a free 127.0.0.1 port with a self-signed
certificate made by the ``openssl`` CLI, TLS 1.3 only, HTTP/2 via ALPN
(``http2=False``: HTTP/1.1 only), and an access log of one line per request:
``<connection serial> <ssl_session_reused: r or .> <protocol> <uri>``.
"""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, NamedTuple, Optional

from conftest import free_port, native_env, stop_process

STATUS_BODY = ('{"status":"paused","reason":"too_busy","pausedAt":"2026-01-30T12:00:00Z",'
               '"resumeAt":"2026-01-30T13:00:00Z"}')

_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    log_format conns '$connection $ssl_session_reused $server_protocol $request_uri';
    access_log {prefix}/access.log conns;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port} ssl{http2};
        ssl_certificate {prefix}/server.pem;
        ssl_certificate_key {prefix}/server.key;
        ssl_protocols TLSv1.3;
        ssl_session_tickets on;
        default_type application/json;
        location ~ ^/v1/commerce/stores/[^/]+/status$ {{
            return 200 '{body}';
        }}
        location / {{
            return 404 '{{"title":"Not Found","status":404}}';
        }}
    }}
}}
"""


def nginx_binary() -> Optional[str]:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/sbin")


class LogLine(NamedTuple):
    connection: int
    reused: bool      # the TLS session was resumed (abbreviated handshake)
    protocol: str     # HTTP/1.1 or HTTP/2.0
    uri: str


class TlsNginx:
    """A context manager: ``url``, ``ca_file`` and ``lines()`` while inside."""

    def __init__(self, http2: bool = True) -> None:
        self.http2 = http2
        self.prefix = Path(tempfile.mkdtemp(prefix="gett-tls-nginx-"))
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""
        self.ca_file = str(self.prefix / "server.pem")

    def __enter__(self) -> "TlsNginx":
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "server.key", "-out", "server.pem", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-addext", "basicConstraints=critical,CA:TRUE"],
            cwd=self.prefix, check=True, capture_output=True, timeout=60, env=native_env())
        binary = nginx_binary()
        assert binary is not None
        for _ in range(5):  # another process may take the port between probe and bind
            port = free_port()
            conf = _CONF.format(prefix=self.prefix, port=port, body=STATUS_BODY,
                                http2=" http2" if self.http2 else "")
            (self.prefix / "nginx.conf").write_text(conf)
            self.proc = subprocess.Popen(
                [binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                 "-e", str(self.prefix / "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=native_env())
            self.url = f"https://127.0.0.1:{port}"
            if self._wait_listening(port, 20.0):
                return self
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            self._stop()
            if "Address already in use" not in err:
                raise RuntimeError(f"nginx did not start: {err.strip()}")
        raise RuntimeError("nginx could not bind a free port in 5 tries")

    def _wait_listening(self, port: int, timeout: float) -> bool:
        context = ssl.create_default_context(cafile=self.ca_file)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1.0) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                        return True
            except OSError:
                time.sleep(0.02)
        return False

    def lines(self, at_least: int = 0, timeout: float = 20.0) -> List[LogLine]:
        """The access log's request lines (the readiness probe made none).
        nginx writes a line after sending its answer, so wait until at least
        ``at_least`` are there."""
        path = self.prefix / "access.log"
        deadline = time.monotonic() + timeout
        while True:
            text = path.read_text() if path.exists() else ""
            rows = [row.split(" ") for row in text.splitlines() if row]
            found = [LogLine(int(r[0]), r[1] == "r", r[2], r[3]) for r in rows if len(r) == 4]
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.01)

    def _stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)   # SIGTERM: nginx's fast shutdown, workers included
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()

    def __exit__(self, *exc: object) -> None:
        self._stop()
        shutil.rmtree(self.prefix, ignore_errors=True)
