"""The SDK against the embedded sandbox: every endpoint through the public
API, the whole partner lifecycle, and a 5,000-call batch."""
from __future__ import annotations

import datetime as dt

import pytest

import gettcommerce as gett
from gettcommerce._samples import sample_catalogset
from sandbox_helpers import Partner


@pytest.fixture
def client(sandbox):
    with sandbox.client(timeout=10) as c:
        yield c


def test_partner_lifecycle_through_every_endpoint(sandbox, client):
    catalog = sample_catalogset(store_id="pos-7")
    menu_url = sandbox.host_catalog(catalog.to_json())
    onboarding = client.onboarding.register(
        partner_store_id="pos-7", name="Luigi's", catalog_callback_url=menu_url,
        webhook_url="http://127.0.0.1:9/hooks", timezone="UTC", pickup_allowed=True)
    assert onboarding.status in ("pending_catalog", "catalog_ingesting", "ready_to_activate")
    assert onboarding.wait(timeout=20, poll_interval=0.05).status == "ready_to_activate"
    store = onboarding.activate()
    assert store.name == "Luigi's" and onboarding.store_id == store.store_id

    assert [s.store_id for s in client.stores.list()] == [store.store_id]
    assert client.stores.get(store.store_id).name == "Luigi's"
    assert store.update(phone="+44 20 7946 0000", description="Trattoria").phone == "+44 20 7946 0000"

    paused = store.pause(gett.PauseReason.STAFF_SHORTAGE, resume_at=dt.timedelta(hours=1))
    assert paused.status == "paused" and paused.reason == "staff_shortage"
    assert paused.paused_at is not None and paused.resume_at > dt.datetime.now(dt.timezone.utc)
    assert client.stores.get_status(store.store_id).reason == "staff_shortage"
    assert store.resume().is_online

    client.catalog.notify(store.store_id, menu_url, catalog=catalog)
    with pytest.raises(gett.CatalogValidationError):
        client.catalog.notify(store.store_id, menu_url, catalog={"catalogs": {}})

    second = client.onboarding.register(partner_store_id="pos-8", name="Other", catalog_callback_url=menu_url,
                                        webhook_url="http://127.0.0.1:9/hooks")
    client.onboarding.cancel(second.onboarding_id)
    with pytest.raises(gett.NotFoundError):
        client.onboarding.get(second.onboarding_id)


def test_orders_pushed_through_the_sdk_follow_the_sandbox_rules(sandbox, client):
    partner = Partner()
    try:
        store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza", webhook_url=partner.url)
        first = sandbox.place_order(store_id, [("cola", 1)])
        second = sandbox.place_order(store_id, [("cola", 2)])
    finally:
        partner.close()
    order = client.order(first)
    order.confirm(estimated_ready_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20))
    order.mark_ready().mark_in_transit().complete()
    recorded = sandbox.order(first)
    assert recorded["state"] == "completed" and recorded["status"] == "inTransit"
    # The server refuses what a fresh handle (which knows nothing) lets through.
    with pytest.raises(gett.ConflictError):
        client.order(first).cancel("late")
    client.order(second).mark_ready()
    with pytest.raises(gett.ConflictError):
        client.orders.update_status(second, status="confirmed")
    with pytest.raises(gett.NotFoundError):
        client.orders.update_status("no-such-order", status="ready")
    client.order(second).cancel("Item out of stock")
    assert sandbox.order(second)["state"] == "cancelled"


def test_wrong_key_and_other_keys_data(sandbox):
    store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza")
    with gett.Client(api_key="zpka_wrong", base_url=sandbox.url, max_retries=0) as bad:
        with pytest.raises(gett.AuthenticationError) as info:
            bad.stores.get(store_id)
    assert info.value.error_code == "UNAUTHENTICATED"
    other_key = sandbox.add_api_key()
    with gett.Client(api_key=other_key, base_url=sandbox.url) as other:
        with pytest.raises(gett.PermissionDeniedError) as forbidden:     # DESIGN §2: another partner's
            other.stores.get(store_id)
        assert forbidden.value.error_code == "FORBIDDEN"
        assert other.stores.list() == []


def test_batch_of_5000_status_updates(sandbox, client):
    store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza")
    with client.batch(concurrency=32) as batch:
        for i in range(2500):
            batch.stores.get_status(store_id)
            batch.orders.update_status(f"missing-{i}", status="confirmed")
    assert len(batch.results) == 5000
    statuses, misses = batch.results[0::2], batch.results[1::2]
    assert all(isinstance(s, gett.StoreStatus) and s.is_online for s in statuses)
    assert all(isinstance(e, gett.NotFoundError) for e in misses)
    with pytest.raises(gett.BatchError) as info:
        batch.raise_for_errors()
    assert len(info.value.errors) == 2500 and info.value.total == 5000


def test_stores_iter_pages_through_the_sandbox(sandbox, client):
    ids = {sandbox.create_store(partner_store_id=f"p-{i}", name=f"Store {i}") for i in range(5)}
    sandbox.clear_requests()
    assert {s.store_id for s in client.stores.iter(page_size=2)} == ids
    assert sandbox.request_count("GET /v1/commerce/stores") == 3
    assert {s.store_id for s in client.stores.list()} == ids
