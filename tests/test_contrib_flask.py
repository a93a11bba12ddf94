"""The Flask adapter through Flask's own test client."""
from __future__ import annotations

import io
import json

import pytest

flask = pytest.importorskip("flask")

import gettcommerce as gett  # noqa: E402
from gettcommerce.contrib.flask import blueprint  # noqa: E402
from gettcommerce.webhooks import WebhookApp, sign  # noqa: E402
from webhook_helpers import (CountingHandlers, CountingStream, assert_validate_then_place,  # noqa: E402
                             pickup_order)

SECRET = "whsec_flask"
BODY = pickup_order("f-1", "latte", 9)


@pytest.fixture
def setup():
    handlers = CountingHandlers(taxes="0.72")
    hooks = WebhookApp(SECRET, on_validate=handlers.on_validate, on_place=handlers.on_place)
    app = flask.Flask("shop")
    app.register_blueprint(blueprint(hooks, url_prefix="/gett"))
    return app.test_client(), handlers.calls


def test_validate_and_place(setup):
    client, calls = setup

    def post(path, body):
        response = client.post(path, data=body, headers=sign(body, SECRET))
        return response.status_code, response.mimetype, response.get_json()

    assert_validate_then_place(post, BODY, {"subTotal": 9, "taxes": 0.72, "total": 9.72}, "TILL-f-1", calls)


def test_raw_body_is_verified_byte_for_byte(setup):
    client, calls = setup
    # Same JSON value, different bytes: a framework that re-serialised the
    # body would accept this; the signature covers the raw bytes.
    reformatted = json.dumps(json.loads(BODY), indent=2).encode()
    response = client.post("/gett/validate", data=reformatted, headers=sign(BODY, SECRET))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errorCode"] == "UNAUTHENTICATED"
    assert calls["validate"] == 0


def test_item_unavailable_problem(setup):
    client, _ = setup
    body = BODY.replace(b'"quantity": 2', b'"quantity": 9')
    response = client.post("/gett/validate", data=body, headers=sign(body, SECRET))
    assert response.status_code == 400
    problem = response.get_json()
    assert problem["errorCode"] == "ITEM_UNAVAILABLE" and problem["instance"] == "/gett/validate"
    assert problem["errors"][0]["itemId"] == "latte" and problem["errors"][0]["jsonPath"] == "$.order.items[0]"


def test_malformed_and_wrong_method(setup):
    client, _ = setup
    response = client.post("/gett/place", data=b"{}", headers=sign(b"{}", SECRET))
    assert response.status_code == 400 and "body.order" in response.get_json()["detail"]
    assert client.post("/gett/other", data=BODY, headers=sign(BODY, SECRET)).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_the_405_problem(setup, method):
    client, calls = setup
    response = client.open("/gett/validate", method=method)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert response.mimetype == "application/problem+json"       # not Flask's HTML page
    assert response.get_json()["errorCode"] == "METHOD_NOT_ALLOWED"
    assert calls == {"validate": 0, "place": 0}



def test_oversized_body_refused_by_content_length_before_reading(setup):
    client, calls = setup
    stream = CountingStream(300 * 1024 * 1024)
    response = client.post("/gett/place", headers=sign(BODY, SECRET),
                           environ_overrides={"wsgi.input": stream, "CONTENT_LENGTH": str(300 * 1024 * 1024)})
    assert response.status_code == 413 and response.get_json()["errorCode"] == "PAYLOAD_TOO_LARGE"
    assert stream.read_bytes == 0 and calls["place"] == 0


def test_chunked_body_is_capped_while_reading(setup):
    client, calls = setup
    stream = CountingStream()            # no Content-Length, never ends
    response = client.post("/gett/place", headers=sign(BODY, SECRET),
                           environ_overrides={"wsgi.input": stream, "wsgi.input_terminated": True,
                                              "CONTENT_LENGTH": ""})
    assert response.status_code == 413
    assert stream.read_bytes <= 1024 * 1024 + 1          # the limit (default max_body_bytes) + 1
    assert calls["place"] == 0


def test_chunked_body_within_the_limit(setup):
    client, _ = setup
    response = client.post("/gett/validate", headers=sign(BODY, SECRET),
                           environ_overrides={"wsgi.input": io.BytesIO(BODY), "wsgi.input_terminated": True,
                                              "CONTENT_LENGTH": ""})
    assert response.status_code == 200


def test_blueprint_name_and_type_check():
    hooks = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "x")
    bp = blueprint(hooks, name="hooks_b")
    assert bp.name == "hooks_b"
    app = flask.Flask("two")
    app.register_blueprint(bp)
    assert {r.endpoint for r in app.url_map.iter_rules()} >= {"hooks_b.validate", "hooks_b.place"}
    with pytest.raises(TypeError, match="WebhookApp"):
        blueprint(object())


def test_example_flask_app_against_the_sandbox(monkeypatch):
    """examples/flask_app.py, served for real, receives a sandbox order and completes it."""
    import runpy
    import threading
    from pathlib import Path

    from werkzeug.serving import make_server

    from gettcommerce._samples import sample_catalogset
    from gettcommerce.demo import pick_timezone
    from gettcommerce.sandbox import Sandbox, SandboxOrderRejected

    example = Path(__file__).resolve().parent.parent / "examples" / "flask_app.py"
    with Sandbox() as sandbox:
        monkeypatch.setenv("GETT_API_KEY", sandbox.api_key)
        monkeypatch.setenv("GETT_BASE_URL", sandbox.url)
        monkeypatch.setenv("GETT_WEBHOOK_SECRET", sandbox.webhook_secret)
        shop = runpy.run_path(str(example))
        # Know when the example's kitchen thread has pushed every status (no polling).
        kitchen_done = threading.Event()
        module_globals = shop["on_place"].__globals__
        run_kitchen = module_globals["run_kitchen"]

        def run_kitchen_then_signal(incoming):
            try:
                run_kitchen(incoming)
            finally:
                kitchen_done.set()

        module_globals["run_kitchen"] = run_kitchen_then_signal
        server = make_server("127.0.0.1", 0, shop["app"], threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            menu = sample_catalogset("flask-1")
            store_id = sandbox.create_store(partner_store_id="flask-1", name="Flask Diner", catalog=menu,
                                            webhook_url=f"http://127.0.0.1:{server.port}/gett",
                                            # a zone where the menu's "all-day" hours cover now
                                            timezone=pick_timezone(menu.to_dict(), "all-day"))
            order_id = sandbox.place_order(store_id, [("brownie", 2)], "pickup")
            assert kitchen_done.wait(30), "the example's kitchen thread never finished"
            seen = sandbox.order(order_id)
            assert seen["state"] == "completed" and seen["partnerOrderId"] == "POS-1001"
            assert [h["status"] for h in seen["history"] if h["source"] == "partner"][:3] == \
                ["confirmed", "preparing", "ready"]
            assert seen["amounts"]["taxes"] == 0.7     # 8.75 % of 8.00
            with pytest.raises(SandboxOrderRejected) as info:
                sandbox.place_order(store_id, [("cheesecake", 1)], "pickup")
            assert info.value.error_code == "ITEM_UNAVAILABLE"
        finally:
            server.shutdown()
            thread.join()
            shop["client"].close()

