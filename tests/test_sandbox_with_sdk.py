"""The SDK against the sandbox for the sandbox's issue-16 rules: an empty
description, another partner's data, and a retried close whose first answer was lost."""
from __future__ import annotations

import pytest

import gettcommerce as gett
from gettcommerce.sandbox import demo_catalog
from sandbox_helpers import partner  # noqa: F401 (fixture)


def test_an_empty_description_goes_through_the_sdk_and_the_sandbox(sandbox):
    store_id = sandbox.create_store(partner_store_id="p", name="n", description="Old")
    with sandbox.client(timeout=10) as client:
        assert client.stores.update(store_id, description="").description == ""
        assert client.stores.get(store_id).description == ""
        onboarding = client.onboarding.register(partner_store_id="p-2", name="Two", description="",
                                                catalog_callback_url=sandbox.host_catalog(demo_catalog()),
                                                webhook_url="http://127.0.0.1:9/hooks")
        assert onboarding.wait(timeout=10, poll_interval=0.05).activate().description == ""


def test_another_partners_store_order_and_onboarding_raise_permission_denied(sandbox, partner):
    store_id = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
    order_id = sandbox.place_order(store_id, ["cola"])
    with sandbox.client(timeout=10) as mine:
        onboarding = mine.onboarding.register(partner_store_id="p-2", name="Two",
                                              catalog_callback_url="http://127.0.0.1:9/menu.json",
                                              webhook_url="http://127.0.0.1:9/hooks")
    with gett.Client(api_key=sandbox.add_api_key(), base_url=sandbox.url, timeout=10) as other:
        calls = [lambda: other.stores.get(store_id), lambda: other.stores.pause(store_id, "too_busy"),
                 lambda: other.order(order_id).mark_ready(),
                 lambda: other.onboarding.get(onboarding.onboarding_id),
                 lambda: other.onboarding.cancel(onboarding.onboarding_id)]
        for call in calls:
            with pytest.raises(gett.PermissionDeniedError) as info:
                call()
            assert info.value.error_code == "FORBIDDEN" and info.value.status_code == 403
        with pytest.raises(gett.NotFoundError):
            other.stores.get("00000000-0000-0000-0000-000000000000")
    assert sandbox.order(order_id)["status"] == "pending"
    assert sandbox.store(store_id)["status"] == "online"


@pytest.mark.parametrize("close", ["complete", "cancel"])
def test_a_retried_close_whose_answer_was_lost_succeeds(sandbox, partner, close):
    store_id = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
    order_id = sandbox.place_order(store_id, ["cola"])
    # The first attempt closes the order, then its answer is lost (502); the
    # SDK retries the idempotent status POST and the sandbox answers 200.
    sandbox.inject_fault("POST /v1/commerce/orders/*/status", status=502, process=True)
    with sandbox.client(timeout=10) as client:
        order = client.order(order_id)
        order.complete() if close == "complete" else order.cancel("sold out")
    assert sandbox.request_count("POST /v1/commerce/orders/*/status") == 2
    assert sandbox.order(order_id)["state"] == ("completed" if close == "complete" else "cancelled")
