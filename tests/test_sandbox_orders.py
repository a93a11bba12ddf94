"""Orders from Gett to the partner: signed validate/place webhooks, retries,
closed stores, and the partner's order status updates (DESIGN §2 Orders/Webhooks)."""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from gettcommerce import webhooks
from gettcommerce.sandbox import (Sandbox, SandboxOrderError, SandboxOrderRejected, SandboxPlacementFailed,
                                  SandboxStoreClosed, SandboxWebhookError, demo_catalog)
from sandbox_helpers import Api, api, partner  # noqa: F401 (fixtures)

ORDERS = "/v1/commerce/orders"


@pytest.fixture
def sandbox_options():
    return {"webhook_timeout": 2.0}


@pytest.fixture
def store_id(sandbox, partner):
    return sandbox.create_store(partner_store_id="p-1", name="Pizza", webhook_url=partner.url)


MARGHERITA_LARGE = {"itemId": "margherita", "quantity": 2, "modifierGroups": [
    {"modifierGroupId": "size", "selectedModifiers": [{"itemId": "size-large", "quantity": 1}]},
    {"modifierGroupId": "toppings", "selectedModifiers": [{"itemId": "olives", "quantity": 2}]}]}


def test_place_order_sends_signed_validate_then_place(sandbox, partner, store_id):
    order_id = sandbox.place_order(store_id, [MARGHERITA_LARGE, ("cola", 3)], tip=2)
    validate, place = partner.calls("validate"), partner.calls("place")
    assert len(validate) == 1 and len(place) == 1
    assert partner.received.index(validate[0]) < partner.received.index(place[0])
    for call in validate + place:
        webhooks.verify(call["raw"], call["headers"], sandbox.webhook_secret)
        assert call["headers"]["API-Version"] == "2026-01-30"
        assert abs(int(call["headers"]["Timestamp"]) - time.time()) < 60
    sent = json.loads(validate[0]["raw"])
    assert set(sent) == {"order", "user", "deliveryAddress"} and sent["deliveryAddress"] is None
    order = sent["order"]
    assert set(order) == {"orderId", "storeId", "partnerStoreId", "catalogSetId", "fulfillmentType", "items",
                          "amounts"}
    assert order["orderId"] == order_id and order["storeId"] == store_id and order["partnerStoreId"] == "p-1"
    assert order["catalogSetId"] == sandbox.current_catalog(store_id)["catalogSetId"]
    # (9.5 + 3.0 + 2 * 0.75) * 2 + 2.5 * 3 = 35.5
    assert order["amounts"] == {"subTotal": 35.5, "tip": 2}
    assert set(order["items"][0]) == {"lineItemId", "itemId", "quantity", "modifierGroups"}
    assert order["items"][1]["modifierGroups"] == []
    assert set(sent["user"]) == {"name", "phone", "email"}
    placed = json.loads(place[0]["raw"])
    assert placed["paymentToken"].startswith("tok_") and "paymentToken" not in sent
    # place carries what validate priced (the fake partner adds taxes 1.0, fees 0.5)
    assert placed["order"].pop("amounts") == {"subTotal": 35.5, "taxes": 1.0, "fees": 0.5, "tip": 2, "total": 39}
    sent["order"].pop("amounts")
    assert {k: v for k, v in placed.items() if k != "paymentToken"} == sent


def test_order_records_partner_order_id_amounts_and_history(sandbox, store_id):
    order_id = sandbox.place_order(store_id, ["cola"])
    order = sandbox.order(order_id)
    assert order["partnerOrderId"] == "po-1" and order["placement"]["status"] == "placed"
    assert order["amounts"] == {"subTotal": 2.5, "tip": 0, "taxes": 1.0, "fees": 0.5, "total": 4.0}
    assert (order["state"], order["status"]) == ("open", "pending")
    assert order["history"][0]["source"] == "gett"


def test_place_carries_what_validate_priced_and_the_total_adds_up(sandbox, partner, store_id, caplog):
    # Issue 16 item 7: the partner prices at validate; place must carry those
    # amounts and total = subTotal + taxes + fees + tip.
    partner.handlers["validate"] = lambda body, headers: (200, {"amounts": {
        "subTotal": body["order"]["amounts"]["subTotal"], "taxes": 1.2}})
    partner.handlers["place"] = lambda body, headers: (200, {"partnerOrderId": "po-x",
                                                             "amounts": {"total": 6}})
    order_id = sandbox.place_order(store_id, [("cola", 2)], tip=1)
    validate_amounts = json.loads(partner.calls("validate")[0]["raw"])["order"]["amounts"]
    place_amounts = json.loads(partner.calls("place")[0]["raw"])["order"]["amounts"]
    assert validate_amounts == {"subTotal": 5, "tip": 1}
    assert place_amounts == {"subTotal": 5, "taxes": 1.2, "tip": 1, "total": 7.2}
    assert sandbox.order(order_id)["amounts"] == place_amounts
    # A partner total that does not add up is not believed, and says so.
    partner.handlers["validate"] = lambda body, headers: (200, {"amounts": {
        "subTotal": 2.5, "taxes": 0.5, "fees": 0.25, "total": 99}})
    with caplog.at_level("WARNING", logger="gettcommerce.sandbox"):
        second = sandbox.place_order(store_id, ["cola"])
    assert sandbox.order(second)["amounts"]["total"] == 3.25
    assert "99" in caplog.text and "3.25" in caplog.text
    partner.handlers["validate"] = lambda body, headers: (200, {"amounts": {"subTotal": 2.5, "taxes": "lots"}})
    with pytest.raises(SandboxWebhookError, match="amounts.taxes"):
        sandbox.place_order(store_id, ["cola"])


def test_delivery_order_carries_the_address(sandbox, partner, store_id):
    address = {"street": "1 Main St", "city": "Springfield", "state": "IL", "postalCode": "62701",
               "country": "US"}
    sandbox.place_order(store_id, ["water"], "delivery", delivery_address=address,
                        user={"name": "Ann", "phone": "+1555", "email": "ann@example.com"})
    body = json.loads(partner.calls("place")[0]["raw"])
    assert body["deliveryAddress"] == address and body["order"]["fulfillmentType"] == "delivery"
    assert body["user"]["name"] == "Ann"
    with pytest.raises(SandboxOrderError, match="delivery_address"):
        sandbox.place_order(store_id, ["water"], "delivery")


def test_validate_400_raises_order_rejected_with_the_partners_problem(sandbox, partner, store_id):
    problem = {"type": "https://developer.gett-tech.com/errors/ITEM_UNAVAILABLE", "status": 400,
               "errorCode": "ITEM_UNAVAILABLE", "detail": "cola is sold out",
               "errors": [{"code": "ITEM_UNAVAILABLE", "itemId": "cola", "jsonPath": "$.order.items[0]"}]}
    partner.handlers["validate"] = lambda body, headers: (400, problem)
    with pytest.raises(SandboxOrderRejected) as info:
        sandbox.place_order(store_id, ["cola"])
    assert info.value.error_code == "ITEM_UNAVAILABLE" and info.value.errors[0]["itemId"] == "cola"
    assert "cola is sold out" in str(info.value)
    assert partner.calls("place") == []


def test_failed_place_is_retried_on_the_scaled_schedule(sandbox, partner, store_id):
    attempts = []

    def flaky(body, headers):
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            return 503, {"detail": "pos offline"}
        return 200, {"partnerOrderId": "po-late"}

    partner.handlers["place"] = flaky
    order_id = sandbox.place_order(store_id, ["cola"])
    order = sandbox.order(order_id)
    assert order["partnerOrderId"] == "po-late" and order["placement"]["attempts"] == 3
    # schedule 30 s, 2 min at time_scale 0.001 = 0.03 s, 0.12 s
    assert attempts[1] - attempts[0] >= 0.03 and attempts[2] - attempts[1] >= 0.12
    assert {json.loads(c["raw"])["order"]["orderId"] for c in partner.calls("place")} == {order_id}


def test_place_failing_every_time_cancels_the_order(partner):
    with Sandbox(place_retry_schedule=[0.01, 0.01], rate_limits=False) as sandbox:
        sid = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
        partner.handlers["place"] = lambda body, headers: (500, {"detail": "down"})
        with pytest.raises(SandboxPlacementFailed) as info:
            sandbox.place_order(sid, ["cola"])
        assert info.value.attempts == 3 and len(partner.calls("place")) == 3
        order = sandbox.order(info.value.order_id)
        assert order["state"] == "cancelled" and order["placement"]["status"] == "failed"


def test_place_without_wait_retries_in_the_background(partner):
    with Sandbox(place_retry_schedule=[0.05], rate_limits=False) as sandbox:
        sid = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
        answers = iter([(502, {}), (200, {"partnerOrderId": "po-bg"})])
        partner.handlers["place"] = lambda body, headers: next(answers)
        order_id = sandbox.place_order(sid, ["cola"], wait=False)
        assert sandbox.wait_idle(5)
        assert sandbox.order(order_id)["partnerOrderId"] == "po-bg"


def test_webhook_answer_timeout(partner):
    with Sandbox(webhook_timeout=0.2, rate_limits=False) as sandbox:
        sid = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
        partner.handlers["validate"] = lambda body, headers: (time.sleep(0.6), (200, {}))[1]
        started = time.monotonic()
        with pytest.raises(SandboxWebhookError, match="timed out"):
            sandbox.place_order(sid, ["cola"])
        assert time.monotonic() - started < 0.55


def test_paused_store_refuses_orders(sandbox, api, store_id):
    api.post(f"/v1/commerce/stores/{store_id}/status", {"status": "paused", "reason": "too_busy"})
    with pytest.raises(SandboxStoreClosed) as info:
        sandbox.place_order(store_id, ["cola"])
    assert info.value.reason == "paused" and info.value.error_code == "STORE_CLOSED"
    api.post(f"/v1/commerce/stores/{store_id}/status", {"status": "online"})
    assert sandbox.place_order(store_id, ["cola"])


def test_store_outside_catalog_availability_refuses_orders(sandbox, partner):
    catalog = demo_catalog()
    tz = "Asia/Tokyo"
    local = dt.datetime.now(dt.timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo(tz))
    other_day = (local + dt.timedelta(days=3)).strftime("%A")
    catalog["catalogs"]["all-day"]["availability"] = [{"dayOfWeek": other_day, "start": "00:00:00",
                                                       "end": "00:00:00"}]
    sid = sandbox.create_store(partner_store_id="p-closed", name="n", catalog=catalog, timezone=tz,
                               webhook_url=partner.url)
    with pytest.raises(SandboxStoreClosed) as info:
        sandbox.place_order(sid, ["cola"])
    assert info.value.reason == "outside_availability" and tz in str(info.value)
    today = local.strftime("%A")
    catalog["catalogs"]["all-day"]["availability"] = [{"dayOfWeek": today, "start": "00:00:00", "end": "00:00:00"}]
    open_sid = sandbox.create_store(partner_store_id="p-open", name="n", catalog=catalog, timezone=tz,
                                    webhook_url=partner.url)
    assert sandbox.place_order(open_sid, ["cola"])


def test_items_are_checked_against_the_catalog(sandbox, store_id):
    with pytest.raises(SandboxOrderError, match="'pizza-nope' is not in the store's catalog"):
        sandbox.place_order(store_id, ["pizza-nope"])
    with pytest.raises(SandboxOrderError, match="'size' needs between 1 and 1"):
        sandbox.place_order(store_id, ["margherita"])                 # size is required
    with pytest.raises(SandboxOrderError, match="quantity"):
        sandbox.place_order(store_id, [("cola", 0)])
    with pytest.raises(SandboxOrderError, match="fulfillment_type"):
        sandbox.place_order(store_id, ["cola"], "drone")


# --- the partner's order status updates --------------------------------------
@pytest.fixture
def order_id(sandbox, store_id):
    return sandbox.place_order(store_id, ["cola"])


def test_status_moves_forward_and_may_skip(api, sandbox, order_id):
    assert api.post(f"{ORDERS}/{order_id}/status", {"status": "confirmed",
                                                     "estimatedReadyAt": "2030-01-01T12:00:00Z"}).status == 200
    assert api.post(f"{ORDERS}/{order_id}/status", {"status": "ready"}).status == 200      # skips preparing
    assert api.post(f"{ORDERS}/{order_id}/status", {"status": "ready"}).status == 200      # a retry is harmless
    back = api.post(f"{ORDERS}/{order_id}/status", {"status": "preparing"})
    assert back.status == 409 and back.json["errorCode"] == "CONFLICT"
    order = sandbox.order(order_id)
    assert order["status"] == "ready" and order["estimatedReadyAt"] == "2030-01-01T12:00:00.000Z"
    assert [h["status"] for h in order["history"]] == ["pending", "confirmed", "ready", "ready"]


def test_completed_and_cancelled_are_terminal(api, sandbox, store_id, order_id):
    assert api.post(f"{ORDERS}/{order_id}/status", {"state": "completed"}).status == 200
    for body in ({"status": "inTransit"}, {"state": "cancelled", "cancelReason": "late"},
                 {"state": "open", "status": "ready"}):
        resp = api.post(f"{ORDERS}/{order_id}/status", body)
        assert resp.status == 409 and resp.json["errorCode"] == "CONFLICT"
    other = sandbox.place_order(store_id, ["water"])
    assert api.post(f"{ORDERS}/{other}/status", {"state": "cancelled", "cancelReason": "out of stock"}).status == 200
    assert sandbox.order(other)["cancelReason"] == "out of stock"
    assert api.post(f"{ORDERS}/{other}/status", {"status": "confirmed"}).status == 409
    assert api.post(f"{ORDERS}/{other}/status", {"state": "completed"}).status == 409


def test_repeating_the_terminal_state_an_order_has_is_a_200_no_op(api, sandbox, store_id, order_id):
    # A retried complete/cancel whose first answer was lost must not fail (DESIGN §2).
    assert api.post(f"{ORDERS}/{order_id}/status", {"state": "completed"}).status == 200
    history = sandbox.order(order_id)["history"]
    again = api.post(f"{ORDERS}/{order_id}/status", {"state": "completed"})
    assert again.status == 200 and again.raw == b""
    assert sandbox.order(order_id)["history"] == history and sandbox.order(order_id)["state"] == "completed"
    other = sandbox.place_order(store_id, ["water"])
    assert api.post(f"{ORDERS}/{other}/status", {"state": "cancelled", "cancelReason": "sold out"}).status == 200
    assert api.post(f"{ORDERS}/{other}/status", {"state": "cancelled", "cancelReason": "retry"}).status == 200
    assert sandbox.order(other)["cancelReason"] == "sold out"
    # a retried close of the other terminal state is still a conflict
    assert api.post(f"{ORDERS}/{other}/status", {"state": "completed"}).json["errorCode"] == "CONFLICT"


def test_cancelled_without_reason_is_422_with_errors(api, order_id):
    resp = api.post(f"{ORDERS}/{order_id}/status", {"state": "cancelled"})
    assert resp.status == 422 and resp.json["errorCode"] == "VALIDATION_FAILED"
    (error,) = resp.json["errors"]
    assert error["jsonPath"] == "$.cancelReason" and error["code"] and error["message"]


def test_pending_from_the_partner_is_422(api, order_id):
    resp = api.post(f"{ORDERS}/{order_id}/status", {"status": "pending"})
    assert resp.status == 422 and resp.json["errors"][0]["jsonPath"] == "$.status"
    assert resp.json["errors"][0]["message"].endswith("send confirmed, preparing, ready, inTransit")


def test_pending_is_never_offered_as_an_allowed_value(api, order_id):
    # Gett's enum for updates is confirmed, preparing, ready, inTransit (issue 16 item 2).
    wrong = api.post(f"{ORDERS}/{order_id}/status", {"status": "cooking"})
    (error,) = wrong.json["errors"]
    assert "confirmed, preparing, ready, inTransit" in error["message"] and "pending" not in error["message"]
    refused = api.post(f"{ORDERS}/{order_id}/status", {"status": "pending"})
    message = refused.json["errors"][0]["message"]
    assert refused.status == 422 and "pending" not in message.split("send", 1)[1]
    assert api.post(f"{ORDERS}/{order_id}/status", {"status": "ready"}).status == 200
    back = api.post(f"{ORDERS}/{order_id}/status", {"status": "confirmed"})
    assert back.status == 409 and "pending" not in back.json["detail"]


def test_state_with_status_only_as_open(api, sandbox, order_id):
    assert api.post(f"{ORDERS}/{order_id}/status", {"state": "open", "status": "preparing"}).status == 200
    resp = api.post(f"{ORDERS}/{order_id}/status", {"state": "completed", "status": "ready"})
    assert resp.status == 422 and resp.json["errors"][0]["code"] == "INVALID_COMBINATION"
    bad = api.post(f"{ORDERS}/{order_id}/status", {"state": "done", "status": "cooking", "estimatedReadyAt": 5})
    assert bad.status == 422 and len(bad.json["errors"]) == 3
    assert api.post(f"{ORDERS}/{order_id}/status", {}).status == 422
    assert sandbox.order(order_id)["status"] == "preparing"


def test_unknown_order_is_404_and_a_foreign_one_403(sandbox, api, order_id):
    resp = api.post(f"{ORDERS}/nope/status", {"status": "confirmed"})
    assert resp.status == 404 and resp.json["errorCode"] == "NOT_FOUND"
    other = Api(sandbox.url, sandbox.add_api_key())
    foreign = other.post(f"{ORDERS}/{order_id}/status", {"status": "confirmed"})
    assert foreign.status == 403 and foreign.json["errorCode"] == "FORBIDDEN"
    assert sandbox.order(order_id)["status"] == "pending"


def test_orders_can_be_placed_over_the_control_plane(sandbox, store_id):
    control = Api(sandbox.url, None)
    created = control.post("/_sandbox/orders", {"storeId": "p-1", "items": [["cola", 2]]})
    assert created.status == 201 and created.json["amounts"]["subTotal"] == 5
    assert control.get(f"/_sandbox/orders/{created.json['orderId']}").json["partnerOrderId"] == "po-1"
    sandbox.inject_fault("*", times=None, status=500)       # control-plane requests are never faulted
    closed = control.post("/_sandbox/orders", {"storeId": "nope", "items": ["cola"]})
    assert closed.status == 404 and closed.json["errorCode"] == "STORE_NOT_FOUND"
