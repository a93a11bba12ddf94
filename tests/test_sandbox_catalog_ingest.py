"""gettcommerce/sandbox/catalog_ingest.py: how the sandbox pulls a partner's CatalogSet.

Redirects are followed only to http(s) and at most MAX_REDIRECTS times; a
notified catalog is pulled before the 202 (so ``with menu.serve():`` is
enough); a pull that fails is logged as a warning.
"""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gettcommerce.sandbox import Sandbox, demo_catalog
from gettcommerce.sandbox.catalog_ingest import MAX_REDIRECTS
from sandbox_helpers import Api, wait_until

OB = "/v1/commerce/onboarding/stores"


class Redirector:
    """A partner host: /menu.json serves the demo catalog, /ftp redirects to
    ftp://, /loop/N redirects to /loop/N+1, /hop redirects to /menu.json."""

    def __init__(self, ftp_port: int) -> None:
        self.paths = []
        owner = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                owner.paths.append(self.path)
                if self.path == "/menu.json":
                    body = json.dumps(demo_catalog()).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if self.path == "/ftp":
                    target = f"ftp://127.0.0.1:{ftp_port}/menu.json"
                elif self.path.startswith("/loop/"):
                    target = f"/loop/{int(self.path.rsplit('/', 1)[1]) + 1}"
                else:
                    target = "/menu.json"
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ftp():
    """A listening socket standing in for an FTP server: anything connecting stays in its backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture
def host(ftp):
    server = Redirector(ftp.getsockname()[1])
    yield server
    server.close()


def _onboard(sandbox, url):
    api = Api(sandbox.url, sandbox.api_key)
    created = api.post(OB, {"partnerStoreId": "ps-r", "name": "R", "catalogCallbackUrl": url,
                            "webhookUrl": "http://127.0.0.1:9/hooks"})
    assert created.status == 201, created
    oid = created.json["onboardingId"]
    return wait_until(lambda: (lambda o: o if o["status"] in ("catalog_failed", "ready_to_activate") else None)(
        api.get(f"{OB}/{oid}").json))


def _connected(ftp) -> bool:
    try:
        conn, _ = ftp.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def test_a_redirect_to_ftp_is_not_followed(sandbox, host, ftp, caplog):
    with caplog.at_level("WARNING", logger="gettcommerce.sandbox"):
        onboarding = _onboard(sandbox, host.url + "/ftp")
    assert onboarding["status"] == "catalog_failed"
    assert "ftp://" in onboarding["error"] and "only http and https redirects" in onboarding["error"]
    assert not _connected(ftp)                    # the sandbox never opened the FTP connection
    assert "catalog_failed" in caplog.text and "ps-r" in caplog.text


def test_a_redirect_loop_stops_after_the_bound(sandbox, host):
    onboarding = _onboard(sandbox, host.url + "/loop/0")
    assert onboarding["status"] == "catalog_failed"
    assert f"more than {MAX_REDIRECTS} redirects" in onboarding["error"]
    assert host.paths == [f"/loop/{n}" for n in range(MAX_REDIRECTS + 1)]


def test_an_http_redirect_is_followed(sandbox, host):
    assert _onboard(sandbox, host.url + "/hop")["status"] == "ready_to_activate"
    assert host.paths == ["/hop", "/menu.json"]


def test_a_notified_catalog_is_pulled_before_the_202(sandbox, host):
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    api = Api(sandbox.url, sandbox.api_key)
    note = f"/v1/commerce/catalogset-notification?storeId={store_id}"
    assert api.post(note, {"callbackUrl": host.url + "/menu.json"}).status == 202
    assert host.paths == ["/menu.json"]           # pulled before the answer: no waiting needed
    assert [v["status"] for v in sandbox.catalog_history(store_id)] == ["ingested", "ingested"]


def test_a_failed_notified_pull_is_logged_and_recorded(sandbox, caplog):
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    api = Api(sandbox.url, sandbox.api_key)
    with caplog.at_level("WARNING", logger="gettcommerce.sandbox"):
        resp = api.post(f"/v1/commerce/catalogset-notification?storeId={store_id}",
                        {"callbackUrl": sandbox.url + "/_sandbox/catalogs/missing"})
    assert resp.status == 202
    assert store_id in caplog.text and "404" in caplog.text
    assert sandbox.catalog_history(store_id)[-1]["status"] == "failed"


def test_background_pulls_remain_available():
    with Sandbox(rate_limits=False, sync_catalog_pulls=False) as sb:
        store_id = sb.create_store(partner_store_id="p", name="n")
        api = Api(sb.url, sb.api_key)
        assert api.post(f"/v1/commerce/catalogset-notification?storeId={store_id}",
                        {"callbackUrl": sb.host_catalog(demo_catalog())}).status == 202
        assert sb.wait_idle()
        assert len(sb.catalog_history(store_id)) == 2
