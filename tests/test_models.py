"""Models (gettcommerce/models.py): parsing, wire conversions, enums, and the
methods that call through the Client they are bound to."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

import gettcommerce as gett
from gettcommerce import _wire, models
from conftest import Reply
from test_client import ONBOARDING, STATUS_PAUSED, STORE


def test_store_methods_call_through_the_client(server, client):
    server.add(Reply(200, STORE), Reply(200, STATUS_PAUSED), Reply(200, {"status": "online"}),
               Reply(200, dict(STORE, phone="+1 999")))
    store = client.stores.get("s1")
    assert store.pause("too_busy").status == "paused" and store.status == "paused"
    assert store.resume().is_online and store.status == "online"
    assert store.update(phone="+1 999") is store and store.phone == "+1 999"
    assert server.requests[3].json == {"phone": "+1 999"}


def test_order_object_tracks_state_and_refuses_misuse_without_a_request(server, client):
    order = client.order("o-1")
    order.confirm().start_preparing().mark_ready()
    assert order.status == "ready"
    with pytest.raises(gett.InvalidTransitionError, match="only moves forward"):
        order.confirm()
    with pytest.raises(gett.InvalidTransitionError, match="reason"):
        order.cancel("")
    order.complete()
    assert order.state == "completed" and order.is_closed
    with pytest.raises(gett.InvalidTransitionError, match="already completed"):
        order.cancel("too late")
    with pytest.raises(gett.InvalidTransitionError):
        order.mark_in_transit()
    assert [r.json for r in server.requests] == [
        {"status": "confirmed"}, {"status": "preparing"}, {"status": "ready"}, {"state": "completed"}]


def test_onboarding_wait_polls_until_ready_with_progress(server, client, capsys):
    server.add(Reply(201, ONBOARDING), Reply(200, dict(ONBOARDING, status="catalog_ingesting")),
               Reply(200, dict(ONBOARDING, status="ready_to_activate")))
    ob = client.onboarding.register(partner_store_id="p-1", name="P", catalog_callback_url="http://c/x",
                                    webhook_url="http://w/x")
    assert ob.wait(timeout=5, poll_interval=0.01, progress=True) is ob
    assert ob.status == "ready_to_activate"
    assert "ready_to_activate" in capsys.readouterr().err


def test_onboarding_wait_raises_on_catalog_failed(server, client):
    server.add(Reply(200, dict(ONBOARDING, status="catalog_failed", error="/items/x: dangling")))
    ob = gett.Onboarding("ob-1", status="pending_catalog", client=client)
    with pytest.raises(gett.OnboardingFailedError) as info:
        ob.wait(timeout=5, poll_interval=0.01)
    assert info.value.error == "/items/x: dangling" and "dangling" in str(info.value)


def test_onboarding_wait_times_out(server, client):
    server.default = lambda req: Reply(200, ONBOARDING)
    ob = gett.Onboarding("ob-1", status="pending_catalog", client=client)
    with pytest.raises(gett.APITimeoutError, match="still pending_catalog"):
        ob.wait(timeout=0.2, poll_interval=0.05)


def test_amounts_are_decimal(server):
    amounts = gett.Amounts.from_dict({"subTotal": 15.0, "taxes": 1.25, "fees": 2})
    assert amounts.sub_total == Decimal("15.0") and amounts.total == Decimal("18.25")
    assert amounts.to_dict() == {"subTotal": 15, "taxes": 1.25, "fees": 2, "total": 18.25}


def test_coerce_enum_accepts_members_and_wire_strings_and_lists_the_allowed_ones():
    assert models.coerce_enum(gett.OrderStatus, gett.OrderStatus.READY, "status") == "ready"
    assert models.coerce_enum(gett.OrderStatus, "inTransit", "status") == "inTransit"
    with pytest.raises(gett.InvalidRequestError) as info:
        models.coerce_enum(gett.OrderStatus, "pending", "status", models.PARTNER_ORDER_STATUSES)
    assert info.value.field == "status"
    assert str(info.value) == ("status must be one of 'confirmed', 'preparing', 'ready', 'inTransit' "
                               "(or a gett.OrderStatus), not 'pending'")


def test_wire_conversions_are_the_wire_modules():
    # Kept importable from models, but one implementation: _wire's (strict RFC 3339 for text sent).
    assert models.format_datetime is _wire.format_datetime and models.to_decimal is _wire.to_decimal
    assert models.parse_datetime is _wire.parse_datetime
    with pytest.raises(gett.InvalidRequestError, match="date alone"):
        models.format_datetime("2026-01-15", "estimated_ready_at")


def test_store_status_reads_optional_times():
    status = gett.StoreStatus.from_dict(STATUS_PAUSED, "s1")
    assert status.paused_at == dt.datetime(2026, 3, 11, 14, 30, tzinfo=dt.timezone.utc)
    assert status.store_id == "s1" and not status.is_online
    online = gett.StoreStatus.from_dict({"status": "online"})
    assert online.is_online and online.paused_at is None and online.resume_at is None
