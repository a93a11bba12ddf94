"""Webhooks: verify/sign, IncomingOrder parsing, WebhookApp routing, dedupe, WSGI and serve()."""
from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from wsgiref.util import setup_testing_defaults

import pytest

import gettcommerce as gett
from gettcommerce import webhooks
from gettcommerce.errors import InvalidRequestError, WebhookVerificationError
from gettcommerce.webhooks import (IncomingOrder, InMemoryPlacedOrderStore, ItemUnavailable, OrderRejected,
                                   WebhookApp, compute_signature, sign, verify)

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


# ---------------------------------------------------------------- verify / sign

class TestVerify:
    body = b'{"order": {"orderId": "o"}}'

    def test_valid(self):
        verify(self.body, sign(self.body, SECRET, timestamp=NOW), SECRET, now=NOW)

    def test_sign_headers(self):
        headers = sign(self.body, SECRET, timestamp=NOW)
        assert headers["Timestamp"] == str(NOW)
        assert headers["API-Version"] == "2026-01-30"
        assert headers["Signature"] == compute_signature(self.body, SECRET)
        assert len(headers["Signature"]) == 64 and headers["Signature"] == headers["Signature"].lower()

    def test_sign_defaults_to_now(self):
        assert abs(int(sign(self.body, SECRET)["Timestamp"]) - time.time()) < 5

    def test_tampered_body(self):
        headers = sign(self.body, SECRET, timestamp=NOW)
        with pytest.raises(WebhookVerificationError, match="does not match"):
            verify(self.body.replace(b"o", b"0"), headers, SECRET, now=NOW)

    def test_wrong_secret(self):
        with pytest.raises(WebhookVerificationError, match="does not match"):
            verify(self.body, sign(self.body, "other"), SECRET)

    def test_stale(self):
        headers = sign(self.body, SECRET, timestamp=NOW - 301)
        with pytest.raises(WebhookVerificationError, match="stale"):
            verify(self.body, headers, SECRET, now=NOW)
        verify(self.body, sign(self.body, SECRET, timestamp=NOW - 299), SECRET, now=NOW)

    def test_future(self):
        headers = sign(self.body, SECRET, timestamp=NOW + 301)
        with pytest.raises(WebhookVerificationError, match="future"):
            verify(self.body, headers, SECRET, now=NOW)

    def test_custom_tolerance(self):
        headers = sign(self.body, SECRET, timestamp=NOW - 20)
        with pytest.raises(WebhookVerificationError, match="10 s tolerance"):
            verify(self.body, headers, SECRET, now=NOW, tolerance=10)

    @pytest.mark.parametrize("missing", ["Signature", "Timestamp"])
    def test_missing_headers(self, missing):
        headers = sign(self.body, SECRET)
        del headers[missing]
        with pytest.raises(WebhookVerificationError, match=f"missing {missing}"):
            verify(self.body, headers, SECRET)

    def test_bad_timestamp(self):
        headers = sign(self.body, SECRET)
        headers["Timestamp"] = "yesterday"
        with pytest.raises(WebhookVerificationError, match="invalid Timestamp"):
            verify(self.body, headers, SECRET)

    def test_rotated_secrets(self):
        headers = sign(self.body, "old_secret")
        verify(self.body, headers, ["new_secret", "old_secret"])
        with pytest.raises(WebhookVerificationError):
            verify(self.body, headers, ["new_secret"])

    def test_case_insensitive_headers_and_pairs(self):
        headers = {k.lower(): v for k, v in sign(self.body, SECRET).items()}
        verify(self.body, headers, SECRET)
        pairs = [(k.upper().encode(), v.encode()) for k, v in sign(self.body, SECRET).items()]
        verify(self.body, pairs, SECRET)

    def test_str_body_and_bytes_secret(self):
        text = self.body.decode()
        verify(text, sign(text, SECRET.encode()), SECRET.encode())


# ---------------------------------------------------------------- IncomingOrder

class TestIncomingOrder:
    def test_parse_full_body(self):
        order = IncomingOrder.parse(encode(order_body(paymentToken="tok_secret")), kind="place")
        assert (order.order_id, order.store_id, order.partner_store_id, order.catalog_set_id) == \
            ("ord-1", "st-1", "p-1", "cs-1")
        assert order.is_delivery and not order.is_pickup and order.kind == "place"
        assert [(i.line_item_id, i.item_id, i.quantity) for i in order.items] == \
            [("l1", "burger", 2), ("l2", "fries", 1)]
        group = order.items[0].modifier_groups[0]
        assert group.modifier_group_id == "g-cheese"
        assert group.selected_modifiers == [webhooks.SelectedModifier("cheddar", 1)]
        assert order.items[0].modifiers[0].json_path == "$.order.items[0].modifierGroups[0].selectedModifiers[0]"
        assert order.items[1].json_path == "$.order.items[1]"
        # Decimal, exact as the JSON text showed it: 23.1 + 2.5 is 25.6, not 25.600000000000001
        assert order.amounts.sub_total == Decimal("23.1") and order.amounts.tip == Decimal("2.5")
        assert order.amounts.total == Decimal("25.6")
        assert (order.user.name, order.user.phone, order.user.email) == ("Dana", "+15550100", "dana@example.com")
        assert order.delivery_address == gett.Address("1 Main St", "Springfield", "IL", "62701", "US")
        assert order.payment_token == "tok_secret"
        assert order.raw["order"]["orderId"] == "ord-1"
        assert "tok_secret" not in repr(order)

    def test_pickup_minimal_and_legacy_subtotal(self):
        body = {"order": {"orderId": "o", "fulfillmentType": "pickup", "items": [{"itemId": "x"}],
                          "subTotal": 15}}
        order = IncomingOrder.parse(json.dumps(body))
        assert order.is_pickup and order.delivery_address is None and order.payment_token is None
        assert order.items[0].quantity == 1 and order.items[0].line_item_id is None
        assert order.amounts.sub_total == Decimal(15) and order.amounts.total == Decimal(15)
        assert order.user == webhooks.Customer()

    def test_parse_accepts_dict(self):
        assert IncomingOrder.parse(order_body()).order_id == "ord-1"

    @pytest.mark.parametrize("mutate, field", [
        (lambda b: b["order"].pop("orderId"), "order.orderId"),
        (lambda b: b["order"].update(orderId=7), "order.orderId"),
        (lambda b: b["order"].update(fulfillmentType="drone"), "order.fulfillmentType"),
        (lambda b: b["order"].update(items=[]), "order.items"),
        (lambda b: b["order"].update(items={"a": 1}), "order.items"),
        (lambda b: b["order"]["items"][1].update(quantity=0), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][1].update(quantity=True), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][1].update(quantity=1.5), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][0].pop("itemId"), "order.items[0].itemId"),
        (lambda b: b["order"]["items"][0]["modifierGroups"][0]["selectedModifiers"][0].update(itemId=""),
         "order.items[0].modifierGroups[0].selectedModifiers[0].itemId"),
        (lambda b: b["order"]["items"][0]["modifierGroups"][0].pop("modifierGroupId"),
         "order.items[0].modifierGroups[0].modifierGroupId"),
        (lambda b: b["order"]["amounts"].update(subTotal="12.50"), "order.amounts.subTotal"),
        (lambda b: b["order"]["amounts"].update(subTotal=-1), "order.amounts.subTotal"),
        (lambda b: b["order"]["amounts"].pop("subTotal"), "order.amounts.subTotal"),
        (lambda b: b["order"].pop("amounts"), "order.amounts"),
        (lambda b: b["order"]["amounts"].update(tip=None, taxes=[1]), "order.amounts.taxes"),
        (lambda b: b.update(user="Dana"), "body.user"),
        (lambda b: b["user"].update(email=5), "user.email"),
        (lambda b: b.update(deliveryAddress=["x"]), "body.deliveryAddress"),
        (lambda b: b["deliveryAddress"].update(city=3), "deliveryAddress.city"),
        (lambda b: b.update(paymentToken=123), "paymentToken"),
        (lambda b: b.pop("order"), "body.order"),
    ])
    def test_malformed_names_the_field(self, mutate, field):
        body = order_body()
        mutate(body)
        with pytest.raises(InvalidRequestError) as info:
            IncomingOrder.parse(encode(body))
        assert info.value.field == field
        assert field in str(info.value)

    @pytest.mark.parametrize("raw, message", [
        (b"", "empty"), (b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not UTF-8"), (b'{"order": {"amounts": {"subTotal": NaN}}}', "not valid JSON"),
    ])
    def test_malformed_bytes(self, raw, message):
        with pytest.raises(InvalidRequestError, match=message) as info:
            IncomingOrder.parse(raw)
        assert info.value.field == "body"

    def test_order_handle_uses_client(self):
        class FakeClient:
            def order(self, order_id):
                return gett.Order(order_id, client=self)

        incoming = IncomingOrder.parse(order_body())
        with pytest.raises(InvalidRequestError, match="needs a Client"):
            incoming.order()
        handle = incoming.order(FakeClient())
        assert isinstance(handle, gett.Order) and handle.order_id == "ord-1" and handle.status == "pending"
        incoming.client = FakeClient()
        assert incoming.order().order_id == "ord-1"


# ---------------------------------------------------------------- WebhookApp

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


class TestWebhookApp:
    def test_validate_returns_amounts(self, app, recorder):
        status, headers, answer = deliver(app, "/validate", order_body())
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert answer == {"amounts": {"subTotal": 23.1, "taxes": 1.85, "fees": 2, "tip": 2.5, "total": 29.45}}
        assert recorder.validated[0].kind == "validate"

    def test_place_returns_partner_order_id(self, app, recorder):
        status, _, answer = deliver(app, "/gett/place", order_body(paymentToken="tok"))
        assert status == 200
        assert answer == {"partnerOrderId": "POS-1", "amounts": {"subTotal": 23.1, "tip": 2.5, "total": 25.6}}
        assert recorder.placed[0].payment_token == "tok"

    def test_place_dict_answer(self):
        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts,
                         on_place=lambda o: {"partnerOrderId": 991, "amounts": {"subTotal": 10, "taxes": 0.8},
                                             "estimatedReadyAt": "2026-01-30T12:00:00Z"})
        status, _, answer = deliver(app, "/place", order_body())
        assert status == 200
        assert answer == {"partnerOrderId": "991", "amounts": {"subTotal": 10, "taxes": 0.8, "total": 10.8},
                          "estimatedReadyAt": "2026-01-30T12:00:00Z"}

    @pytest.mark.parametrize("path, kind", [("/validate", "validate"), ("/a/b/validate/", "validate"),
                                            ("place", "place"), ("/gett/place?x=1", "place")])
    def test_routing_prefixes(self, app, recorder, path, kind):
        assert deliver(app, path, order_body())[0] == 200
        assert len(getattr(recorder, "validated" if kind == "validate" else "placed")) == 1

    def test_unknown_path_404(self, app, recorder):
        status, _, problem = deliver(app, "/gett/refund", order_body())
        assert status == 404
        assert_problem(problem, 404, "NOT_FOUND")
        assert problem["instance"] == "/gett/refund"
        assert not recorder.validated and not recorder.placed

    def test_non_post_405(self, app):
        status, headers, problem = deliver(app, "/validate", b"", method="GET")
        assert status == 405 and headers["Allow"] == "POST"
        assert_problem(problem, 405, "METHOD_NOT_ALLOWED")

    @pytest.mark.parametrize("case", ["wrong_secret", "missing", "stale", "tampered"])
    def test_bad_signature_401_never_calls_handlers(self, app, recorder, case, caplog):
        raw = encode(order_body())
        headers = sign(raw, SECRET)
        if case == "wrong_secret":
            headers = sign(raw, "not-the-secret")
        elif case == "missing":
            headers = {"Content-Type": "application/json"}
        elif case == "stale":
            headers = sign(raw, SECRET, timestamp=int(time.time()) - 3600)
        else:
            raw = raw.replace(b"burger", b"BURGER")
        for path in ("/validate", "/place"):
            with caplog.at_level(logging.WARNING, logger="gettcommerce.webhooks"):
                status, headers_out, problem = deliver(app, path, raw, headers=headers)
            assert status == 401 and headers_out["Content-Type"] == "application/problem+json"
            assert_problem(problem, 401, "UNAUTHENTICATED")
            assert problem["errorCategory"] == "authentication"
        assert not recorder.validated and not recorder.placed
        assert "refused" in caplog.text and SECRET not in caplog.text

    def test_malformed_body_400(self, app, recorder):
        body = order_body()
        body["order"]["items"][0]["quantity"] = -3
        status, headers, problem = deliver(app, "/validate", body)
        assert status == 400 and headers["Content-Type"] == "application/problem+json"
        assert_problem(problem, 400, "INVALID_REQUEST")
        assert "order.items[0].quantity" in problem["detail"]
        status, _, problem = deliver(app, "/place", b"not json")
        assert status == 400 and "not valid JSON" in problem["detail"]
        assert not recorder.validated and not recorder.placed

    def test_item_unavailable(self, recorder):
        def on_validate(order):
            raise ItemUnavailable(["cheddar", order.items[1], {"itemId": "ghost", "message": "gone"}])

        app = WebhookApp(SECRET, on_validate=on_validate, on_place=recorder.on_place)
        status, _, problem = deliver(app, "/validate", order_body())
        assert status == 400
        assert_problem(problem, 400, "ITEM_UNAVAILABLE")
        assert problem["errorCategory"] == "availability" and problem["retryable"] is False
        assert problem["errors"] == [
            {"code": "ITEM_UNAVAILABLE", "itemId": "cheddar", "message": "item cheddar is unavailable",
             "jsonPath": "$.order.items[0].modifierGroups[0].selectedModifiers[0]"},
            {"code": "ITEM_UNAVAILABLE", "itemId": "fries", "message": "item fries is unavailable",
             "jsonPath": "$.order.items[1]"},
            {"code": "ITEM_UNAVAILABLE", "itemId": "ghost", "message": "gone"},
        ]
        assert problem["detail"] == "Unavailable: cheddar, fries, ghost"

    def test_item_unavailable_arguments(self):
        with pytest.raises(ValueError, match="at least one"):
            ItemUnavailable([])
        with pytest.raises(TypeError, match=r"errors\[0\]"):
            ItemUnavailable([42])
        with pytest.raises(ValueError, match="unknown key 'sku'"):
            ItemUnavailable([{"sku": "x"}])
        assert ItemUnavailable("fries").errors[0]["itemId"] == "fries"
        assert ItemUnavailable([{"item_id": "a", "json_path": "$.x"}]).errors[0]["jsonPath"] == "$.x"

    def test_order_rejected_other_code(self, recorder):
        def on_place(order):
            raise OrderRejected("Kitchen closed", error_code="STORE_CLOSED", error_category="availability")

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=on_place)
        status, _, problem = deliver(app, "/place", order_body())
        assert status == 400 and problem["errorCode"] == "STORE_CLOSED" and problem["detail"] == "Kitchen closed"
        assert "errors" not in problem

    def test_handler_exception_500_without_traceback(self, recorder, caplog):
        def on_validate(order):
            raise RuntimeError("db password=hunter2 at /srv/app/pricing.py")

        app = WebhookApp(SECRET, on_validate=on_validate, on_place=recorder.on_place)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            status, _, problem = deliver(app, "/validate", order_body())
        assert status == 500
        assert_problem(problem, 500, "INTERNAL_ERROR")
        assert problem["retryable"] is True
        text = json.dumps(problem)
        assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
        assert problem["requestId"] in problem["detail"]
        # ...but the partner's log has the whole story, keyed by the same requestId.
        record = next(r for r in caplog.records if r.name == "gettcommerce.webhooks")
        assert record.exc_info and "hunter2" in caplog.text and problem["requestId"] in caplog.text

    @pytest.mark.parametrize("bad", [None, "12.00", {"tax": 1}])
    def test_validate_unusable_answer_500(self, recorder, bad, caplog):
        app = WebhookApp(SECRET, on_validate=lambda o: bad, on_place=recorder.on_place)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            status, _, problem = deliver(app, "/validate", order_body())
        assert status == 500 and problem["errorCode"] == "INTERNAL_ERROR"
        assert "must return gett.Amounts" in caplog.text

    @pytest.mark.parametrize("bad", [None, "", True, {"amounts": {}}])
    def test_place_unusable_answer_500_and_not_stored(self, bad):
        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: bad)
        assert deliver(app, "/place", order_body())[0] == 500
        assert app.store.get("ord-1") is None

    def test_validate_accepts_dict(self):
        app = WebhookApp(SECRET, on_validate=lambda o: {"amounts": {"subTotal": 5, "fees": 1}},
                         on_place=lambda o: "x")
        assert deliver(app, "/validate", order_body())[2] == {"amounts": {"subTotal": 5, "fees": 1, "total": 6}}

    def test_body_too_large_413(self, recorder):
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place,
                         max_body_bytes=100)
        status, _, problem = deliver(app, "/validate", order_body())
        assert status == 413 and problem["errorCode"] == "PAYLOAD_TOO_LARGE"
        assert not recorder.validated

    def test_constructor_checks(self, recorder):
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp("", on_validate=recorder.on_validate, on_place=recorder.on_place)
        assert info.value.field == "secret"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate="nope", on_place=recorder.on_place)
        assert info.value.field == "on_validate"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=object())
        assert info.value.field == "store"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, tolerance=0)
        assert info.value.field == "tolerance"
        assert SECRET not in repr(WebhookApp(SECRET, on_validate=recorder.on_validate,
                                             on_place=recorder.on_place))

    def test_rotated_secrets_and_custom_tolerance(self, recorder):
        app = WebhookApp(["new", "old"], on_validate=recorder.on_validate, on_place=recorder.on_place,
                         tolerance=5)
        assert deliver(app, "/validate", order_body(), secret="old")[0] == 200
        raw = encode(order_body())
        assert deliver(app, "/validate", raw, headers=sign(raw, "new", timestamp=int(time.time()) - 60))[0] == 401

    def test_client_is_handed_to_orders(self, recorder):
        sentinel = object()
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, client=sentinel)
        deliver(app, "/place", order_body())
        assert recorder.placed[0].client is sentinel


class TestPlaceDedupe:
    def test_repeated_place_calls_on_place_once(self, app, recorder):
        first = deliver(app, "/place", order_body())
        second = deliver(app, "/place", order_body())
        assert first[0] == second[0] == 200
        assert first[2] == second[2] == {"partnerOrderId": "POS-1",
                                         "amounts": {"subTotal": 23.1, "tip": 2.5, "total": 25.6}}
        assert len(recorder.placed) == 1
        assert second[1].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[1]
        # Another order is placed normally; validate is never deduplicated.
        other = order_body()
        other["order"]["orderId"] = "ord-2"
        assert deliver(app, "/place", other)[2]["partnerOrderId"] == "POS-2"
        deliver(app, "/validate", order_body())
        deliver(app, "/validate", order_body())
        assert len(recorder.validated) == 2

    def test_concurrent_duplicates_call_on_place_once(self, app, recorder):
        recorder.place_delay = 0.2   # wide window: both deliveries arrive while the first is in on_place
        barrier = threading.Barrier(8)

        def one(_):
            barrier.wait()
            return deliver(app, "/place", order_body())

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
        assert len(recorder.placed) == 1
        assert {r[2]["partnerOrderId"] for r in results} == {"POS-1"}
        assert all(r[0] == 200 for r in results)
        assert not app._place_locks._locks   # per-order locks are dropped once free

    def test_different_orders_run_in_parallel(self, app, recorder):
        recorder.place_delay = 0.3
        bodies = []
        for n in range(4):
            body = order_body()
            body["order"]["orderId"] = f"par-{n}"
            bodies.append(body)
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda b: deliver(app, "/place", b), bodies))
        assert time.monotonic() - started < 1.0   # not serialised: 4 x 0.3 s would be 1.2 s
        assert len(recorder.placed) == 4

    def test_failed_place_is_retried(self, recorder):
        calls = []

        def flaky(order):
            calls.append(order.order_id)
            if len(calls) == 1:
                raise ConnectionError("POS down")
            return "POS-ok"

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=flaky)
        assert deliver(app, "/place", order_body())[0] == 500
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-ok"
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-ok"
        assert len(calls) == 2

    def test_pluggable_store_with_lock(self, recorder):
        class DictStore:
            def __init__(self):
                self.data, self.locked = {}, []

            def get(self, order_id):
                raw = self.data.get(order_id)
                return json.loads(raw) if raw else None

            def set(self, order_id, response):
                self.data[order_id] = json.dumps(response)   # what a Redis store would do

            def lock(self, order_id):
                self.locked.append(order_id)
                return threading.Lock()

        store = DictStore()
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=store)
        deliver(app, "/place", order_body())
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-1"
        assert len(recorder.placed) == 1 and store.locked == ["ord-1", "ord-1"]
        assert json.loads(store.data["ord-1"])["partnerOrderId"] == "POS-1"

    def test_store_get_failure_is_500_not_a_duplicate(self, recorder, caplog):
        class Broken:
            def get(self, order_id):
                raise OSError("redis unreachable")

            def set(self, order_id, response):
                raise AssertionError("never reached")

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=Broken())
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            assert deliver(app, "/place", order_body())[0] == 500
        assert not recorder.placed and "redis unreachable" in caplog.text

    def test_in_memory_store_bound(self):
        store = InMemoryPlacedOrderStore(max_entries=2)
        for n in range(3):
            store.set(f"o{n}", {"partnerOrderId": str(n)})
        assert len(store) == 2 and store.get("o0") is None and store.get("o2") == {"partnerOrderId": "2"}
        with pytest.raises(InvalidRequestError):
            InMemoryPlacedOrderStore(max_entries=0)


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


def test_store_returning_unusable_answer_is_500(recorder):
    class Odd:
        def get(self, order_id):
            return {"partnerOrderId": object()}

        def set(self, order_id, response):
            raise AssertionError("never reached")

    app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=Odd())
    status, _, problem = deliver(app, "/place", order_body())
    assert status == 500 and problem["errorCode"] == "INTERNAL_ERROR"
    assert not recorder.placed
