"""The FastAPI adapter (gettcommerce.contrib.fastapi.router) through FastAPI's own test client."""
from __future__ import annotations

import json

import pytest

fastapi = pytest.importorskip("fastapi", reason="fastapi is not installed (pip install fastapi httpx)")
pytest.importorskip("httpx", reason="httpx is not installed (FastAPI's TestClient needs it)")

from fastapi.testclient import TestClient  # noqa: E402

import gettcommerce as gett  # noqa: E402
from gettcommerce.contrib.fastapi import router  # noqa: E402
from gettcommerce.webhooks import WebhookApp, sign  # noqa: E402
from webhook_helpers import CountingHandlers, assert_validate_then_place, pickup_order  # noqa: E402

SECRET = "whsec_fastapi"
BODY = pickup_order("fa-1", "ramen", 24)


@pytest.fixture
def setup():
    handlers = CountingHandlers(taxes="2.10")

    async def on_validate(order):   # a coroutine: awaited on the event loop
        return handlers.on_validate(order)

    # on_place, a plain method, runs in a worker thread
    hooks = gett.AsyncWebhookApp(SECRET, on_validate=on_validate, on_place=handlers.on_place,
                                 max_body_bytes=4096)
    api = fastapi.FastAPI()
    api.include_router(router(hooks), prefix="/gett")
    with TestClient(api) as client:
        yield client, handlers.calls


def test_validate_and_place(setup):
    client, calls = setup

    def post(path, body):
        response = client.post(path, content=body, headers=sign(body, SECRET))
        return response.status_code, response.headers["content-type"], response.json()

    assert_validate_then_place(post, BODY, {"subTotal": 24, "taxes": 2.1, "total": 26.1}, "TILL-fa-1", calls)


def test_raw_body_verified_and_problem_answers(setup):
    client, calls = setup
    reformatted = json.dumps(json.loads(BODY), indent=2).encode()
    response = client.post("/gett/validate", content=reformatted, headers=sign(BODY, SECRET))
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    body = BODY.replace(b'"quantity": 2', b'"quantity": 9')
    problem = client.post("/gett/validate", content=body, headers=sign(body, SECRET)).json()
    assert problem["errorCode"] == "ITEM_UNAVAILABLE" and problem["instance"] == "/gett/validate"
    assert problem["errors"][0]["jsonPath"] == "$.order.items[0]"
    assert calls["validate"] == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_get_the_405_problem(setup, method):
    client, _ = setup
    response = client.request(method, "/gett/place")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errorCode"] == "METHOD_NOT_ALLOWED"


def test_oversized_bodies(setup):
    client, calls = setup
    big = b"{" + b" " * 10_000 + b"}"
    response = client.post("/gett/place", content=big, headers=sign(big, SECRET))
    assert response.status_code == 413 and response.json()["errorCode"] == "PAYLOAD_TOO_LARGE"

    def chunks():          # no Content-Length: sent chunked, capped while reading
        for _ in range(10):
            yield b" " * 1000

    response = client.post("/gett/place", content=chunks(), headers=sign(big, SECRET))
    assert response.status_code == 413 and calls["place"] == 0


def test_router_needs_an_async_app():
    hooks = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "x")
    with pytest.raises(TypeError, match="AsyncWebhookApp"):
        router(hooks)
    async_hooks = gett.AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "x")
    assert sorted(r.path for r in router(async_hooks, prefix="/hooks").routes) == ["/hooks/place",
                                                                                  "/hooks/validate"]
