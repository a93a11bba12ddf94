"""Security: TLS verification, plain-http refusal, header injection, the API
key kept out of every output, webhook replay, and the sandbox's catalog
puller limits.

TLS runs against a local HTTPS server with a throw-away CA and server
certificates made by the ``openssl`` CLI, so nothing here needs network.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, core_client, problem, send_json, serve_in_thread
from gettcommerce import webhooks
from gettcommerce.sandbox import Sandbox
from rawserver import RawServer, endless, hang

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="needs the openssl CLI (apt-get install openssl)")

SECRET_KEY = "zpka_live_SECRET_5f3c9a1e7b2d4c6e8f0a"


# ------------------------------------------------------------ certificates

def _openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(d, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _make_leaf(d, ca: str, name: str, san: str) -> None:
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                   "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA with a cert for 127.0.0.1, a cert for another host name,
    and an unrelated CA nobody should trust."""
    d = tmp_path_factory.mktemp("pki")
    _make_ca(d, "test-ca")
    _make_ca(d, "other-ca")
    _make_leaf(d, "test-ca", "server", "IP:127.0.0.1,DNS:localhost")
    _make_leaf(d, "test-ca", "wronghost", "DNS:api.example.com")
    return d


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {API_KEY}":
            body, code = json.dumps(problem(401, "UNAUTHENTICATED")).encode(), 401
        else:
            body, code = b'{"status": "online"}', 200
        send_json(self, code, body)


class HTTPSServer:
    def __init__(self, cert, key) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = serve_in_thread(self.httpd)
        self.port = self.httpd.server_address[1]
        socket.create_connection(("127.0.0.1", self.port), timeout=5).close()  # listening

    def url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def https(pki):
    srv = HTTPSServer(pki / "server.pem", pki / "server.key")
    yield srv
    srv.close()


@pytest.fixture
def no_env_ca(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("GETT_BASE_URL", raising=False)


# ------------------------------------------------------------ TLS

def test_tls_is_verified_by_default_and_an_unknown_ca_is_refused(https, no_env_ca):
    with gett.Client(api_key=API_KEY, base_url=https.url(), timeout=5) as client:
        with pytest.raises(gett.APIConnectionError, match="(?i)certificate") as info:
            client.stores.get_status("s1")
    assert info.value.attempts == 1  # a bad certificate is not retried


def test_ca_bundle_makes_the_server_trusted(https, pki, no_env_ca):
    with gett.Client(api_key=API_KEY, base_url=https.url(), timeout=5,
                     ca_bundle=str(pki / "test-ca.pem")) as client:
        assert client.stores.get_status("s1").status == "online"


def test_ssl_cert_file_is_honoured(https, pki, no_env_ca, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "test-ca.pem"))
    with gett.Client(api_key=API_KEY, base_url=https.url(), timeout=5) as client:
        assert client.stores.get_status("s1").status == "online"
    # An explicit ca_bundle wins over the environment.
    with gett.Client(api_key=API_KEY, base_url=https.url(), timeout=5,
                     ca_bundle=str(pki / "other-ca.pem")) as client:
        with pytest.raises(gett.APIConnectionError, match="(?i)certificate"):
            client.stores.get_status("s1")


def test_a_different_ca_is_refused(https, pki, no_env_ca):
    with gett.Client(api_key=API_KEY, base_url=https.url(), timeout=5,
                     ca_bundle=str(pki / "other-ca.pem")) as client:
        with pytest.raises(gett.APIConnectionError, match="(?i)certificate"):
            client.stores.get_status("s1")


def test_host_name_is_checked_even_with_a_trusted_ca(pki, no_env_ca):
    srv = HTTPSServer(pki / "wronghost.pem", pki / "wronghost.key")
    try:
        with gett.Client(api_key=API_KEY, base_url=srv.url(), timeout=5,
                         ca_bundle=str(pki / "test-ca.pem")) as client:
            with pytest.raises(gett.APIConnectionError) as info:
                client.stores.get_status("s1")
        text = str(info.value).lower()
        assert "certificate" in text or "name" in text, text
    finally:
        srv.close()


def test_missing_ca_bundle_file_is_refused_locally(tmp_path, no_env_ca):
    with pytest.raises(gett.InvalidRequestError, match="ca_bundle"):
        gett.Client(api_key=API_KEY, ca_bundle=str(tmp_path / "nope.pem"))


# ------------------------------------------------------------ plain http

@pytest.mark.parametrize("url", ["http://10.0.0.5", "http://api.gett-tech.com", "http://127.0.0.1.nip.io",
                                 "http://[2001:db8::1]:8080", "http://localhost.example.com"])
def test_plain_http_to_a_non_loopback_host_is_refused(url, no_env_ca):
    with pytest.raises(gett.InvalidRequestError, match="allow_insecure_http") as info:
        gett.Client(api_key=SECRET_KEY, base_url=url)
    assert SECRET_KEY not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.2:1", "http://localhost.:1", "http://[::1]:1"])
def test_plain_http_to_loopback_is_allowed(url, no_env_ca):
    gett.Client(api_key=SECRET_KEY, base_url=url).close()


def test_plain_http_via_environment_is_refused_too(monkeypatch):
    monkeypatch.setenv("GETT_BASE_URL", "http://api.gett-tech.com")
    with pytest.raises(gett.InvalidRequestError, match="allow_insecure_http"):
        gett.Client(api_key=SECRET_KEY)


# ------------------------------------------------------------ header injection

def test_crlf_in_query_values_cannot_inject_headers(server, client):
    server.add(Reply(202), Reply(200, {"stores": [], "hasMore": False}))
    try:
        client.catalog.notify("s1\r\nX-Evil: 1", "https://partner.example/catalog.json")
    except gett.InvalidRequestError:
        pass  # refusing it locally is as good as encoding it
    core = client._core
    core.request(gett._client.EP_LIST_STORES, (), {"limit": "1\r\nX-Evil: 2", "offset": 0})
    for req in server.requests:
        assert not any(name.lower() == "x-evil" for name in req.headers), req.headers
        assert "\r" not in req.raw_query and "\n" not in req.raw_query
    assert server.requests[-1].query["limit"] == "1\r\nX-Evil: 2"  # sent, percent-encoded


@pytest.mark.parametrize("bad", ["https://p.example/c\r\nX-Evil: 1", "https://p.example/c\nX: 1",
                                 "https://p.example/c\0", "https://p.example/a b"])
def test_crlf_in_callback_urls_is_refused_locally(server, client, bad):
    with pytest.raises(gett.InvalidRequestError, match="callback_url"):
        client.catalog.notify("s1", bad)
    with pytest.raises(gett.InvalidRequestError, match="catalog_callback_url"):
        client.onboarding.register(partner_store_id="p", name="n", catalog_callback_url=bad,
                                   webhook_url="https://p.example/hooks")
    with pytest.raises(gett.InvalidRequestError, match="webhook_url"):
        client.onboarding.register(partner_store_id="p", name="n",
                                   catalog_callback_url="https://p.example/c", webhook_url=bad)
    assert server.requests == []


@pytest.mark.parametrize("key", ["zpka_a\r\nX-Evil: 1", "zpka_a\nX-Evil: 1", "zpka_a\0b", "zpka a",
                                 "zpka_\u00e9"])
def test_api_key_with_control_or_non_ascii_characters_is_refused_without_echo(key):
    with pytest.raises(gett.InvalidRequestError) as info:
        gett.Client(api_key=key, base_url="http://127.0.0.1:1")
    assert key not in str(info.value) and "zpka_a" not in str(info.value)


def test_the_core_refuses_crlf_in_header_material_too():
    # Defence in depth below the Python checks: the C client rejects CR/LF/NUL
    # in everything that becomes a header line.
    for kwargs in ({"api_key": "k\r\nX: 1"}, {"user_agent": "ua\r\nX: 1"}, {"base_url": "http://h\n"}):
        args = {"base_url": "http://127.0.0.1:1", "api_key": "k", "user_agent": "ua", **kwargs}
        with pytest.raises(ValueError, match="CR, LF or NUL"):
            core_client(args["base_url"], args["api_key"], args["user_agent"])


# ------------------------------------------------------------ the key stays secret

def _all_text(err: BaseException, client) -> list:
    texts = [str(err), repr(err), "".join(traceback.format_exception(err)), repr(vars(err)),
             repr(client), str(client), repr(vars(client)), repr(client._core)]
    cause = err.__cause__
    if cause is not None:
        texts += [str(cause), repr(cause), repr(getattr(cause, "__dict__", {}))]
    return texts


def _failure_modes(https_srv, pki):
    """(label, base_url, client kwargs, setup) for each way a call can fail."""
    raw = RawServer()
    raw.default = hang(raw.stop)
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    refused_port = refused.getsockname()[1]
    refused.close()
    return raw, [
        ("auth", https_srv.url(), {"ca_bundle": str(pki / "test-ca.pem")}),
        ("refused", f"http://127.0.0.1:{refused_port}", {"max_retries": 1}),
        ("timeout", raw.url, {"timeout": 0.3}),
        ("tls", https_srv.url(), {"ca_bundle": str(pki / "other-ca.pem")}),
    ]


def test_api_key_never_appears_in_any_output_for_any_failure(https, pki, no_env_ca, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    raw, modes = _failure_modes(https, pki)
    seen = {}
    try:
        for label, url, kwargs in modes:
            client = gett.Client(api_key=SECRET_KEY, base_url=url, timeout=kwargs.pop("timeout", 5),
                                 **kwargs)
            with pytest.raises(gett.GettError) as info:
                client.stores.get_status("s1")
            seen[label] = type(info.value).__name__
            texts = _all_text(info.value, client)
            batch = client.batch()
            batch.stores.get_status("s1")
            batch.run()
            with pytest.raises(gett.BatchError) as batch_info:
                batch.raise_for_errors()
            texts += _all_text(batch_info.value, client)
            client.close()
            for text in texts:
                assert SECRET_KEY not in text, (label, text[:300])
                assert SECRET_KEY[10:] not in text, (label, text[:300])
    finally:
        raw.close()
    assert seen == {"auth": "AuthenticationError", "refused": "APIConnectionError",
                    "timeout": "APITimeoutError", "tls": "APIConnectionError"}
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "GET /v1/commerce/stores/s1/status" in caplog.text  # the debug log did run
    assert SECRET_KEY not in logged and SECRET_KEY[10:] not in logged


# ------------------------------------------------------------ webhooks

def test_webhook_replay_with_a_stale_or_future_timestamp_is_refused():
    secret = "whsec_replay"
    body = b'{"order": {"orderId": "o1"}}'
    now = time.time()
    captured = webhooks.sign(body, secret, timestamp=int(now - 301))  # captured 5 min ago
    with pytest.raises(gett.WebhookVerificationError, match="stale"):
        webhooks.verify(body, captured, secret, now=now)
    early = webhooks.sign(body, secret, timestamp=int(now + 301))
    with pytest.raises(gett.WebhookVerificationError, match="future"):
        webhooks.verify(body, early, secret, now=now)
    webhooks.verify(body, webhooks.sign(body, secret, timestamp=int(now)), secret, now=now)


def test_a_replay_with_a_fresh_timestamp_places_the_order_only_once():
    # Gett signs the body only ("the timestamp is not part of the signed
    # data", gett-api.md 6.3), so the timestamp window alone cannot stop a
    # captured request re-sent with a new Timestamp header.  verify() must
    # follow the documented scheme and accept it; what makes the replay
    # harmless is WebhookApp answering a repeated orderId from its record.
    from test_webhooks import order_body
    secret = "whsec_replay"
    placed = []
    app = gett.WebhookApp(secret, on_validate=lambda order: order.amounts,
                          on_place=lambda order: placed.append(order) or f"POS-{len(placed)}")
    raw = json.dumps(order_body()).encode()
    now = time.time()
    captured = webhooks.sign(raw, secret, timestamp=int(now - 600))
    status, _, _ = app.handle("POST", "/place", captured, raw)
    assert status == 401 and placed == []          # stale: refused outright
    replay = dict(captured, Timestamp=str(int(now)))
    webhooks.verify(raw, replay, secret, now=now)  # the documented scheme accepts it
    first = app.handle("POST", "/place", webhooks.sign(raw, secret), raw)
    again = app.handle("POST", "/place", replay, raw)
    assert first[0] == again[0] == 200 and first[2] == again[2]
    assert len(placed) == 1


def test_webhook_signatures_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    body = b"{}"
    headers = webhooks.sign(body, "whsec_t")
    webhooks.verify(body, headers, "whsec_t")
    with pytest.raises(gett.WebhookVerificationError):
        webhooks.verify(body, dict(headers, Signature="0" * 64), "whsec_t")
    assert len(calls) == 2


# ------------------------------------------------------------ sandbox catalog puller

def _api_post(sandbox, path, body):
    req = urllib.request.Request(sandbox.url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {sandbox.api_key}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/catalog.json",
                                 "gopher://127.0.0.1:70/x", "javascript:alert(1)", "//127.0.0.1/c"])
def test_sandbox_refuses_non_http_catalog_callback_urls(url):
    with Sandbox(rate_limits=False) as sb:
        status, body = _api_post(sb, "/v1/commerce/onboarding/stores",
                                 {"partnerStoreId": "p", "name": "n", "catalogCallbackUrl": url,
                                  "webhookUrl": "http://127.0.0.1:9/hooks"})
        assert status == 422 and body["errorCode"] == "VALIDATION_FAILED"
        assert [e["jsonPath"] for e in body["errors"]] == ["$.catalogCallbackUrl"]
        sid = sb.create_store(partner_store_id="p-live", name="Live")
        status, body = _api_post(sb, f"/v1/commerce/catalogset-notification?storeId={sid}",
                                 {"callbackUrl": url})
        assert status == 422 and [e["jsonPath"] for e in body["errors"]] == ["$.callbackUrl"]


def _endless_http10(conn, req):
    # No Content-Length: only counting while reading can stop this.
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n")
    block = b" " * 65536
    try:
        for _ in range(1600):  # 100 MB if nobody stops reading
            conn.sendall(block)
    except OSError:
        pass
    return False


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content-length"])
def test_sandbox_caps_the_pulled_catalog_size(declared):
    with RawServer() as raw, Sandbox(rate_limits=False, max_catalog_bytes=256 * 1024) as sb:
        raw.default = endless(100 * 1024 * 1024) if declared else _endless_http10
        with sb.client(timeout=10) as client:
            started = time.monotonic()
            onboarding = client.onboarding.register(partner_store_id="p-big", name="Big",
                                                    catalog_callback_url=raw.url + "/catalog.json",
                                                    webhook_url="http://127.0.0.1:9/hooks")
            with pytest.raises(gett.OnboardingFailedError) as info:
                onboarding.wait(timeout=20, poll_interval=0.05)
            assert "262144-byte limit" in (info.value.error or str(info.value))
            assert time.monotonic() - started < 15


# ------------------------------------------------------------ proxies (issue 11 #6)

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
              "no_proxy", "NO_PROXY")


@pytest.fixture
def proxy(monkeypatch):
    """A raw server posing as a proxy: it records what reaches it and refuses it."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    from rawserver import response_bytes, send
    with RawServer() as srv:
        srv.default = send(response_bytes(403, b"", reason="Forbidden", content_type=None))
        yield srv


def test_plain_http_never_goes_through_an_environment_proxy(server, proxy, monkeypatch):
    # The key travels in clear over http: a proxy from the environment would see it.
    for name in PROXY_VARS[:6]:
        monkeypatch.setenv(name, proxy.url)
    server.add(Reply(200, {"status": "online"}))
    with gett.Client(api_key=API_KEY, base_url=server.url) as client:
        client.stores.get_status("s1")
        assert client._core.proxy == ""
    assert proxy.requests == []
    assert len(server.requests) == 1 and server.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_https_uses_the_environment_proxy_read_once_when_the_client_is_made(proxy, monkeypatch):
    from gettcommerce._client import EP_GET_STORE
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    client = core_client("https://127.0.0.1:9", max_retries=0, timeout=5.0)
    monkeypatch.delenv("HTTPS_PROXY")     # later changes do not matter
    try:
        assert client.proxy == proxy.url
        with pytest.raises(gett._core.TransportError) as info:
            client.request(EP_GET_STORE, ("s1",))
        assert info.value.kind == "connection"
    finally:
        client.close()
    assert [(r.method, r.target) for r in proxy.requests] == [("CONNECT", "127.0.0.1:9")]


def test_a_proxy_connect_carries_the_user_agent(proxy):
    # The User-Agent line lives in the client's header lists (sent to the
    # origin only); the CONNECT to a proxy must still identify the SDK.
    from gettcommerce._client import EP_GET_STORE
    client = core_client("https://127.0.0.1:9", user_agent="gettcommerce/test-ua", proxy=proxy.url,
                         max_retries=0, timeout=5.0)
    try:
        with pytest.raises(gett._core.TransportError):
            client.request(EP_GET_STORE, ("s1",))
    finally:
        client.close()
    assert [(r.method, r.headers.get("user-agent")) for r in proxy.requests] == [
        ("CONNECT", "gettcommerce/test-ua")]


def test_all_proxy_and_no_proxy_from_the_environment(proxy, monkeypatch):
    from gettcommerce._client import EP_GET_STORE
    monkeypatch.setenv("all_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    client = core_client("https://127.0.0.1:9", max_retries=0, timeout=5.0)
    try:
        assert client.proxy == proxy.url
        with pytest.raises(gett._core.TransportError):
            client.request(EP_GET_STORE, ("s1",))   # straight to 127.0.0.1:9: refused
    finally:
        client.close()
    assert proxy.requests == []


def test_explicit_proxy_settings(proxy, monkeypatch):
    monkeypatch.setenv("https_proxy", proxy.url)
    client = core_client("https://127.0.0.1:9", proxy="")
    assert client.proxy == ""                      # "" = no proxy, whatever the environment says
    client.close()
    client = core_client("https://127.0.0.1:9", proxy="http://127.0.0.1:3128")
    assert client.proxy == "http://127.0.0.1:3128"
    client.close()
    with pytest.raises(ValueError, match="only used with an https base_url"):
        core_client("http://127.0.0.1:9", proxy="http://127.0.0.1:3128")
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        core_client("https://127.0.0.1:9", proxy="http://p\r\n:1")


# ------------------------------------------------------------ key residue (issue 11 #11)

KEY_RESIDUE_SCRIPT = r"""
import secrets
from gettcommerce import _core

key = "zpka_" + secrets.token_hex(24)
needle = key.encode()
buf = bytearray(1 << 20)
view = memoryview(buf)


def copies_after_bearer():
    # Occurrences of the key right after "...er " (from "Bearer "), in every
    # writable mapping, read through /proc/self/mem in 1 MiB chunks (one
    # reused buffer, zeroed first, so the scan leaves no copies of its own).
    found = 0
    buf[:] = bytes(len(buf))
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
        for line in maps.read().splitlines():
            span, perms = line.split()[:2]
            if not perms.startswith("rw"):
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            if end - start > 1 << 30:
                continue  # sanitizer shadow memory, not a heap
            for at in range(start, end, len(buf) - 128):
                try:
                    mem.seek(at)
                    n = mem.readinto(view[:min(len(buf), end - at)])
                except (OSError, ValueError, OverflowError):
                    break
                pos = buf.find(needle, 0, n)
                while pos != -1:
                    found += pos >= 3 and buf[pos - 3:pos] == b"er "
                    pos = buf.find(needle, pos + 1, n)
    return found


client = _core.Client("https://127.0.0.1:9", key, "ua/1", timeout=1.0, connect_timeout=1.0,
                      max_retries=0, max_response_bytes=100, ca_bundle=None, pool_size=1, proxy="")
before = copies_after_bearer()
client.close()
after = copies_after_bearer()
print(before, after)
"""


def test_no_copy_of_the_authorization_header_survives_close(tmp_path):
    # The C core's copies ("Authorization: Bearer <key>" and libcurl's header
    # list copies of it) are zeroed before their memory is freed.  No request
    # is made: libcurl's own request buffers are out of our hands.
    script = tmp_path / "residue.py"
    script.write_text(KEY_RESIDUE_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, out.stderr
    before, after = map(int, out.stdout.split())
    assert before >= 4, (before, after)   # the scan sees the live copies...
    assert after == 0, (before, after)    # ...and none once the client is closed
