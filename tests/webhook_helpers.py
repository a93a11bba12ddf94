"""Shared by the webhook tests: a signed order body, handler doubles, delivery helpers."""
from __future__ import annotations

import json
import threading
import time

import pytest

import gettcommerce as gett
from gettcommerce.webhooks import ItemUnavailable, WebhookApp, sign

SECRET = "whsec_test_secret"
NOW = 1_760_000_000

def order_body(**overrides) -> dict:
    body = {
        "order": {
            "orderId": "ord-1", "storeId": "st-1", "partnerStoreId": "p-1", "catalogSetId": "cs-1",
            "fulfillmentType": "delivery",
            "items": [
                {"lineItemId": "l1", "itemId": "burger", "quantity": 2,
                 "modifierGroups": [{"modifierGroupId": "g-cheese",
                                     "selectedModifiers": [{"itemId": "cheddar", "quantity": 1}]}]},
                {"lineItemId": "l2", "itemId": "fries", "quantity": 1},
            ],
            "amounts": {"subTotal": 23.1, "tip": 2.5},
        },
        "user": {"name": "Dana", "phone": "+15550100", "email": "dana@example.com"},
        "deliveryAddress": {"street": "1 Main St", "city": "Springfield", "state": "IL",
                            "postalCode": "62701", "country": "US"},
    }
    for key, value in overrides.items():
        if key in body["order"] or key in ("orderId",):
            body["order"][key] = value
        else:
            body[key] = value
    return body


def encode(body: dict) -> bytes:
    return json.dumps(body).encode()


def pickup_order(order_id: str, item_id: str, sub_total: float) -> bytes:
    """A pickup order body, one line of 2 x ``item_id`` (tests may replace ``"quantity": 2`` in it)."""
    return encode({"order": {"orderId": order_id, "fulfillmentType": "pickup",
                             "items": [{"lineItemId": "l1", "itemId": item_id, "quantity": 2}],
                             "amounts": {"subTotal": sub_total}}})


class Recorder:
    """on_validate/on_place doubles that record their calls."""

    def __init__(self):
        self.validated = []
        self.placed = []
        self.lock = threading.Lock()
        self.place_delay = 0.0

    def on_validate(self, order):
        self.validated.append(order)
        return gett.Amounts(order.amounts.sub_total, taxes="1.85", fees="2.00", tip=order.amounts.tip)

    def on_place(self, order):
        with self.lock:
            self.placed.append(order)
            number = len(self.placed)
        time.sleep(self.place_delay)
        return f"POS-{number}"


class CountingHandlers:
    """on_validate/on_place doubles that count their calls, for the framework adapter tests.

    on_validate refuses more than 5 of the first item (ItemUnavailable) and
    prices the rest with ``taxes``; on_place answers ``"TILL-" + orderId``.
    """

    def __init__(self, taxes: str) -> None:
        self.calls = {"validate": 0, "place": 0}
        self.taxes = taxes

    def on_validate(self, order):
        self.calls["validate"] += 1
        if order.items[0].quantity > 5:
            raise ItemUnavailable([order.items[0]])
        return gett.Amounts(order.amounts.sub_total, taxes=self.taxes)

    def on_place(self, order):
        self.calls["place"] += 1
        return "TILL-" + order.order_id


def assert_validate_then_place(post, body, amounts, partner_order_id, calls):
    """Through a framework adapter: validate answers ``amounts``; place, delivered three times
    (Gett retrying), reaches the POS once and always answers ``partner_order_id``.

    ``post(path, body)`` sends one signed delivery and returns (status, content type, JSON answer).
    """
    assert post("/gett/validate", body) == (200, "application/json", {"amounts": amounts})
    for _ in range(3):
        status, _, answer = post("/gett/place", body)
        assert status == 200 and answer["partnerOrderId"] == partner_order_id
    assert calls == {"validate": 1, "place": 1}


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def app(recorder):
    return WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place)


def deliver(app, path, body, *, method="POST", secret=SECRET, headers=None):
    raw = encode(body) if isinstance(body, dict) else body
    hdrs = sign(raw, secret) if headers is None else headers
    status, out_headers, payload = app.handle(method, path, hdrs, raw)
    assert isinstance(payload, bytes)
    return status, dict(out_headers), json.loads(payload) if payload else None


def assert_problem(problem, status, code):
    assert problem["status"] == status and problem["errorCode"] == code
    assert problem["type"] == f"https://developer.gett-tech.com/errors/{code}"
    assert set(problem) >= {"type", "title", "status", "detail", "instance", "errorCode",
                            "errorCategory", "retryable", "requestId", "timestamp"}
    assert problem["requestId"].startswith("req_")
    assert problem["timestamp"].endswith("Z")


class CountingStream:
    """A request body stream that counts what the server read (endless when size is None)."""

    def __init__(self, size=None):
        self.size, self.read_bytes = size, 0

    def read(self, n=-1):
        if n is None or n < 0:
            n = 65536 if self.size is None else self.size - self.read_bytes
        if self.size is not None:
            n = min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n

    def readline(self, n=-1):
        return self.read(n)
