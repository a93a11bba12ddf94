"""WebhookApp as a WSGI application and its local server serve() (webhooks/servers.py)."""
from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from wsgiref.util import setup_testing_defaults

import pytest

import gettcommerce as gett
from gettcommerce.webhooks import WebhookApp, sign
from webhook_helpers import SECRET, CountingStream, app, encode, order_body, recorder  # noqa: F401

# ---------------------------------------------------------------- WSGI and serve()

def wsgi_call(app, method, path, body=b"", headers=None, **environ_extra):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body),
               "CONTENT_LENGTH": str(len(body))}
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ["CONTENT_TYPE" if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    environ.update(environ_extra)
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(response_headers)

    payload = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], payload


class TestWSGI:
    def test_place_through_wsgi(self, app, recorder):
        raw = encode(order_body())
        status, headers, payload = wsgi_call(app, "POST", "/hooks/place", raw, sign(raw, SECRET))
        assert status == "200 OK"
        assert headers["Content-Length"] == str(len(payload))
        assert json.loads(payload)["partnerOrderId"] == "POS-1"
        assert recorder.placed[0].order_id == "ord-1"

    def test_wsgi_bad_signature_and_404(self, app, recorder):
        raw = encode(order_body())
        status, headers, payload = wsgi_call(app, "POST", "/validate", raw, sign(raw, "wrong"))
        assert status == "401 Unauthorized" and headers["Content-Type"] == "application/problem+json"
        assert json.loads(payload)["errorCode"] == "UNAUTHENTICATED"
        status, _, _ = wsgi_call(app, "GET", "/")
        assert status == "404 Not Found"
        assert not recorder.validated

    def test_wsgi_content_length_checks(self, app):
        raw = encode(order_body())
        status, _, payload = wsgi_call(app, "POST", "/validate", raw, sign(raw, SECRET), CONTENT_LENGTH="abc")
        assert status == "400 Bad Request" and "Content-Length" in json.loads(payload)["detail"]
        small = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "x", max_body_bytes=10)
        status, _, _ = wsgi_call(small, "POST", "/validate", raw, sign(raw, SECRET))
        assert status.startswith("413")

    def test_wsgi_chunked_input_terminated(self, app):
        raw = encode(order_body())
        status, _, payload = wsgi_call(app, "POST", "/validate", raw, sign(raw, SECRET),
                                       CONTENT_LENGTH="", **{"wsgi.input_terminated": True})
        assert status == "200 OK" and "amounts" in json.loads(payload)


class TestWSGIBodyLimits:
    def test_refused_by_content_length_before_reading(self, app, recorder):
        stream = CountingStream(300 * 1024 * 1024)
        status, headers, payload = wsgi_call(app, "POST", "/place", CONTENT_LENGTH=str(300 * 1024 * 1024),
                                             **{"wsgi.input": stream})
        assert status.startswith("413") and json.loads(payload)["errorCode"] == "PAYLOAD_TOO_LARGE"
        assert stream.read_bytes == 0 and not recorder.placed

    def test_endless_chunked_body_is_capped(self, app, recorder):
        stream = CountingStream()
        status, _, _ = wsgi_call(app, "POST", "/place", CONTENT_LENGTH="",
                                 **{"wsgi.input": stream, "wsgi.input_terminated": True})
        assert status.startswith("413") and stream.read_bytes <= app.max_body_bytes + 1
        assert not recorder.placed

    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
    def test_other_methods_405_problem_without_reading(self, app, method):
        stream = CountingStream(100)
        status, headers, payload = wsgi_call(app, method, "/gett/validate", **{"wsgi.input": stream})
        assert status.startswith("405") and headers["Allow"] == "POST"
        assert headers["Content-Type"] == "application/problem+json" and stream.read_bytes == 0


def http_post(url, raw, headers):
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class TestServe:
    def test_serve_handles_concurrent_requests(self, recorder):
        entered = threading.Barrier(3, timeout=5)

        def on_validate(order):
            entered.wait()   # only passes if three requests are inside the app at once
            return gett.Amounts(order.amounts.sub_total)

        app = WebhookApp(SECRET, on_validate=on_validate, on_place=recorder.on_place)
        raw = encode(order_body())
        with app.serve() as url:
            assert url.startswith("http://127.0.0.1:")
            with ThreadPoolExecutor(3) as pool:
                results = list(pool.map(lambda _: http_post(url + "/gett/validate", raw, sign(raw, SECRET)),
                                        range(3)))
            assert [r[0] for r in results] == [200, 200, 200]
            status, problem = http_post(url + "/gett/place", raw, sign(raw, "wrong"))
            assert status == 401 and problem["errorCode"] == "UNAUTHENTICATED"
        # The port is closed once the block ends.
        with pytest.raises(urllib.error.URLError):
            http_post(url + "/gett/validate", raw, sign(raw, SECRET))
