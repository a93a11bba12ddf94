"""The FastAPI adapter (gettcommerce.contrib.fastapi.router) through FastAPI's own test client."""
from __future__ import annotations

import json

import pytest

fastapi = pytest.importorskip("fastapi", reason="fastapi is not installed (pip install fastapi httpx)")
pytest.importorskip("httpx", reason="httpx is not installed (FastAPI's TestClient needs it)")

from fastapi.testclient import TestClient  # noqa: E402

import gettcommerce as gett  # noqa: E402
from gettcommerce.contrib.fastapi import router  # noqa: E402
from gettcommerce.webhooks import ItemUnavailable, WebhookApp, sign  # noqa: E402

SECRET = "whsec_fastapi"
BODY = json.dumps({"order": {"orderId": "fa-1", "fulfillmentType": "pickup",
                             "items": [{"lineItemId": "l1", "itemId": "ramen", "quantity": 2}],
                             "amounts": {"subTotal": 24}}}).encode()


@pytest.fixture
def setup():
    calls = {"validate": 0, "place": 0}

    async def on_validate(order):
        calls["validate"] += 1
        if order.items[0].quantity > 5:
            raise ItemUnavailable([order.items[0]])
        return gett.Amounts(order.amounts.sub_total, taxes="2.10")

    def on_place(order):            # a plain function: runs in a worker thread
        calls["place"] += 1
        return "TILL-" + order.order_id

    hooks = gett.AsyncWebhookApp(SECRET, on_validate=on_validate, on_place=on_place, max_body_bytes=4096)
    api = fastapi.FastAPI()
    api.include_router(router(hooks), prefix="/gett")
    with TestClient(api) as client:
        yield client, calls


def test_validate_and_place(setup):
    client, calls = setup
    response = client.post("/gett/validate", content=BODY, headers=sign(BODY, SECRET))
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == {"amounts": {"subTotal": 24, "taxes": 2.1, "total": 26.1}}
    for _ in range(3):   # Gett retrying place: the POS sees it once
        response = client.post("/gett/place", content=BODY, headers=sign(BODY, SECRET))
        assert response.status_code == 200 and response.json()["partnerOrderId"] == "TILL-fa-1"
    assert calls == {"validate": 1, "place": 1}


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
