"""The SDK client against the sandbox: its retry and error paths driven by injected faults."""
from __future__ import annotations

import time

import pytest

import gettcommerce as gett
from gettcommerce.sandbox import Sandbox, demo_catalog

S = "/v1/commerce/stores"


@pytest.fixture
def store_id(sandbox):
    return sandbox.create_store(partner_store_id="p-1", name="Pizza")


@pytest.fixture
def client(sandbox):
    with sandbox.client(timeout=10) as c:
        yield c


def test_503_twice_then_success_is_retried(sandbox, client, store_id):
    sandbox.inject_fault(f"GET {S}/*", times=2, status=503, retry_after=0)
    assert client.stores.get(store_id).name == "Pizza"
    assert sandbox.request_count(f"GET {S}/{store_id}") == 3


def test_retries_give_up_after_max_retries(sandbox, store_id):
    sandbox.inject_fault(f"GET {S}/*", times=None, status=500)
    with sandbox.client(max_retries=1, timeout=10) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.stores.get(store_id)
    assert info.value.error_code == "INTERNAL_ERROR" and info.value.request_id.startswith("req_")
    assert sandbox.request_count(f"GET {S}/*") == 2


def test_429_honours_retry_after(sandbox, client, store_id):
    sandbox.inject_fault(f"GET {S}/*", status=429, retry_after=1)
    started = time.monotonic()
    client.stores.get(store_id)
    assert time.monotonic() - started >= 0.9


def test_real_rate_limit_surfaces_as_rate_limit_error():
    with Sandbox(rate_limits={"read": 1, "write": 1, "window": 60}) as sb:
        sid = sb.create_store(partner_store_id="p", name="n")
        with sb.client(max_retries=0) as client:
            client.stores.get(sid)
            with pytest.raises(gett.RateLimitError) as info:
                client.stores.get(sid)
        assert info.value.retry_after is not None and info.value.retry_after > 0


def test_non_retryable_errors_are_not_retried(sandbox, client):
    with pytest.raises(gett.NotFoundError) as info:
        client.stores.get("missing")
    assert info.value.error_code == "STORE_NOT_FOUND"
    assert sandbox.request_count(f"GET {S}/missing") == 1


def test_connection_dropped_before_answer_is_retried_for_get(sandbox, client, store_id):
    sandbox.inject_fault(f"GET {S}/*", action="close_before")
    assert client.stores.get(store_id).store_id == store_id
    assert sandbox.request_count(f"GET {S}/*") == 2


def test_register_is_not_retried_after_it_may_have_reached_the_server(sandbox, client):
    sandbox.inject_fault("POST /v1/commerce/onboarding/stores", action="close_mid_body", process=True)
    with pytest.raises(gett.APIConnectionError):
        client.onboarding.register(partner_store_id="p-x", name="X",
                                   catalog_callback_url=sandbox.host_catalog(demo_catalog()),
                                   webhook_url="http://127.0.0.1:9/hooks")
    assert sandbox.request_count("POST /v1/commerce/onboarding/stores") == 1
    (partner,) = sandbox.state()["partners"].values()
    assert [o["partnerStoreId"] for o in partner["onboardings"]] == ["p-x"]


def test_invalid_json_and_oversized_answers_are_errors(sandbox, store_id):
    with sandbox.client(max_retries=0, timeout=10) as client:
        sandbox.inject_fault(f"GET {S}/*", action="invalid_json")
        with pytest.raises(gett.GettError):
            client.stores.get(store_id)
        sandbox.inject_fault(f"GET {S}/*", action="oversized", size=40 * 1024 * 1024)
        with pytest.raises(gett.APIConnectionError):
            client.stores.get(store_id)
        assert client.stores.get(store_id).name == "Pizza"


def test_slow_answer_hits_the_call_deadline(sandbox, store_id):
    sandbox.inject_fault(f"GET {S}/*", delay=2.0)
    with sandbox.client(timeout=0.5, max_retries=0) as client:
        # The answer would come after 2 s and succeed: a timeout error proves the
        # deadline cut the call short (no wall-clock threshold, which a slow machine breaks).
        with pytest.raises(gett.APITimeoutError) as info:
            client.stores.get(store_id)
    assert info.value.attempts == 1


def test_sdk_walkthrough_onboarding_to_order(sandbox, client):
    onboarding = client.onboarding.register(partner_store_id="p-walk", name="Walk",
                                            catalog_callback_url=sandbox.host_catalog(demo_catalog()),
                                            webhook_url="http://127.0.0.1:9/hooks")
    store = onboarding.wait(timeout=10).activate()
    assert store.status == "online" and sandbox.store(store.store_id)["partnerStoreId"] == "p-walk"
    status = client.stores.pause(store.store_id, "maintenance")
    assert status.status == "paused" and status.paused_at is not None
    assert client.stores.resume(store.store_id).status == "online"
