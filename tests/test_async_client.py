"""AsyncClient: every endpoint's wire format and parsed result (the same bytes
and values as the sync Client), every error class, every retry rule, the
deadline, and the async models."""
from __future__ import annotations

import asyncio
import datetime as dt
import http
import time

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, free_port, problem
from gettcommerce._async import AsyncClient, AsyncOnboarding, AsyncOrder, AsyncStore
from test_client import (ONBOARDING, PROBLEM_STATUSES, STATUS_PAUSED, STORE, assert_common_headers,
                         assert_problem_error, serve_problem)

S = "/v1/commerce/stores"
OK_STATUS = Reply(200, {"status": "online"})


def run(coro):
    return asyncio.run(coro)


def make(server, **kw):
    kw.setdefault("timeout", 5.0)
    return AsyncClient(api_key=API_KEY, base_url=server.url, **kw)


def failing_call(server, cls, call="get_status", **kw):
    """``await client.stores.<call>("s1")`` on a fresh make(server, **kw);
    the ``cls`` error it must raise."""
    async def main():
        async with make(server, **kw) as client:
            with pytest.raises(cls) as info:
                await getattr(client.stores, call)("s1")
            return info.value
    return run(main())


def wire(req):
    headers = {k: v for k, v in req.headers.items() if k not in ("Host",)}
    return (req.method, req.path, req.raw_query, req.json, headers)


# ------------------------------------------------------------ every endpoint, same as Client

def _answers(req):
    if req.path.endswith("/status") and req.method == "GET":
        return Reply(200, STATUS_PAUSED)
    if req.path.endswith("/status"):
        return Reply(200, STATUS_PAUSED) if b"paused" in req.body else Reply(200, {"status": "online"})
    if req.path.startswith("/v1/commerce/onboarding") and req.path.endswith("/activate"):
        return Reply(201, STORE)
    if req.path.startswith("/v1/commerce/onboarding") and req.method == "DELETE":
        return Reply(204)
    if req.path.startswith("/v1/commerce/onboarding"):
        return Reply(201 if req.method == "POST" else 200, ONBOARDING)
    if req.path == S:
        return Reply(200, {"stores": [STORE], "hasMore": False})
    if req.path.startswith("/v1/commerce/orders") or req.path.startswith("/v1/commerce/catalog"):
        return Reply(202 if "catalog" in req.path else 200)
    return Reply(200, STORE)


CALLS = {
    "list": lambda c: c.stores.list(),
    "get": lambda c: c.stores.get("s 1/é"[:3]),
    "update": lambda c: c.stores.update("s1", name="N", description="", delivery_allowed=False),
    "get_status": lambda c: c.stores.get_status("s1"),
    "pause": lambda c: c.stores.pause("s1", gett.PauseReason.TOO_BUSY, resume_at="2099-01-01T00:00:00Z"),
    "resume": lambda c: c.stores.resume("s1"),
    "order_status": lambda c: c.orders.update_status("o1", status="ready",
                                                     estimated_ready_at="2099-01-01T00:00:00Z"),
    "order_close": lambda c: c.orders.update_status("o1", state="cancelled", cancel_reason="No stock"),
    "register": lambda c: c.onboarding.register(
        partner_store_id="p-1", name="Pizza", catalog_callback_url="https://cdn/c.json",
        webhook_url="https://partner/gett", timezone="America/New_York",
        address={"street": "1 Main", "postal_code": "10001"}, pickup_allowed=True),
    "onboarding_get": lambda c: c.onboarding.get("ob-1"),
    "onboarding_cancel": lambda c: c.onboarding.cancel("ob-1"),
    "activate": lambda c: c.onboarding.activate("ob-1"),
    "notify": lambda c: c.catalog.notify("s1", "https://cdn/c.json"),
}


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return (type(value).__name__.replace("Async", ""), value.to_dict())
    return value


@pytest.mark.parametrize("name", list(CALLS))
def test_every_call_sends_the_same_request_and_reads_the_same_result_as_client(server, name):
    server.default = _answers
    with gett.Client(api_key=API_KEY, base_url=server.url) as client:
        expected = CALLS[name](client)
    sync_requests = [wire(r) for r in server.requests]
    server.requests.clear()

    async def main():
        async with make(server) as client:
            return await CALLS[name](client)
    got = run(main())
    assert [wire(r) for r in server.requests] == sync_requests
    assert _plain(got) == _plain(expected)
    assert_common_headers(server.requests[0], body=server.requests[0].body != b"")


def test_results_are_async_models_bound_to_the_client(server):
    server.default = _answers

    async def main():
        async with make(server) as client:
            store = await client.stores.get("s1")
            assert type(store) is AsyncStore and not isinstance(store, gett.Store)
            assert store.to_dict() == gett.Store.from_dict(STORE).to_dict()
            assert store.address == gett.Address.from_dict(STORE["address"])
            status = await store.pause("too_busy")
            assert isinstance(status, gett.StoreStatus) and store.status == "paused"
            assert status.paused_at == dt.datetime(2026, 3, 11, 14, 30, tzinfo=dt.timezone.utc)
            assert (await store.resume()).is_online and store.status == "online"
            assert (await store.get_status()).status == "paused"
            assert await store.refresh() is store
            assert await store.update(name="N") is store
            stores = await client.stores.list()
            assert [type(s) for s in stores] == [AsyncStore] and stores[0]._client is client
            ob = await client.onboarding.get("ob-1")
            assert type(ob) is AsyncOnboarding and ob.to_dict() == gett.Onboarding.from_dict(ONBOARDING).to_dict()
            activated = await ob.activate()
            assert type(activated) is AsyncStore and ob.status == "active"
            await ob.cancel()
            assert ob.status == "cancelled"
    run(main())


def test_async_iter_fetches_each_page_only_when_needed(server):
    pages = [{"stores": [dict(STORE, storeId=f"s{i}") for i in range(2)], "hasMore": True},
             {"stores": [dict(STORE, storeId="s2")], "hasMore": False}]
    server.add(Reply(200, pages[0]), Reply(200, pages[1]))

    async def main():
        async with make(server) as client:
            it = client.stores.iter(page_size=2)
            first = await it.__anext__()
            assert first.store_id == "s0" and len(server.requests) == 1
            rest = [s.store_id async for s in it]
            assert rest == ["s1", "s2"] and len(server.requests) == 2
    run(main())
    assert [r.query for r in server.requests] == [{"limit": "2", "offset": "0"},
                                                  {"limit": "2", "offset": "2"}]


def test_a_listing_that_repeats_its_page_stops_with_a_typed_error(server):
    server.default = lambda req: Reply(200, {"stores": [STORE], "hasMore": True})

    async def main():
        async with make(server) as client:
            with pytest.raises(gett.APIConnectionError, match="all seen on earlier pages"):
                await client.stores.list()
    run(main())


def test_async_order_checks_transitions_before_sending(server):
    async def main():
        async with make(server) as client:
            order = client.order("o1")
            assert type(order) is AsyncOrder and order.status == "pending"
            assert await order.confirm() is order
            await order.mark_ready()
            with pytest.raises(gett.InvalidTransitionError):
                await order.start_preparing()
            await order.complete()
            assert order.is_closed
            with pytest.raises(gett.InvalidTransitionError):
                await order.cancel("late")
            with pytest.raises(gett.InvalidRequestError):
                client.order("a/b")
    run(main())
    assert [r.json for r in server.requests] == [{"status": "confirmed"}, {"status": "ready"},
                                                 {"state": "completed"}]


def test_onboarding_wait_polls_without_blocking_the_loop(server):
    states = ["catalog_ingesting", "ready_to_activate"]
    server.default = lambda req: Reply(200, dict(ONBOARDING, status=states.pop(0) if states else
                                                 "ready_to_activate"))
    ticks = []

    async def ticker(stop):
        while not stop.is_set():
            ticks.append(1)
            await asyncio.sleep(0)

    async def main():
        async with make(server) as client:
            ob = AsyncOnboarding.from_dict(ONBOARDING, client)
            stop = asyncio.Event()
            t = asyncio.ensure_future(ticker(stop))
            assert await ob.wait(poll_interval=0.01, progress=True) is ob
            stop.set()
            await t
            return ob
    ob = run(main())
    assert ob.status == "ready_to_activate" and len(server.requests) == 2
    assert len(ticks) > 2  # the loop ran other tasks while wait() polled


def test_onboarding_wait_raises_on_catalog_failed(server):
    server.default = lambda req: Reply(200, dict(ONBOARDING, status="catalog_failed", error="bad menu"))

    async def main():
        async with make(server) as client:
            ob = AsyncOnboarding.from_dict(ONBOARDING, client)
            with pytest.raises(gett.OnboardingFailedError, match="bad menu"):
                await ob.wait(poll_interval=0.01)
    run(main())


# ------------------------------------------------------------ errors

@pytest.mark.parametrize("status,cls,code", PROBLEM_STATUSES)
def test_problem_json_maps_to_the_right_class_with_every_field(server, status, cls, code):
    errors, body = serve_problem(server, status, code)

    err = failing_call(server, cls, "get", max_retries=0)
    assert_problem_error(err, status, code, errors, body)
    assert err.attempts == 1


def test_connection_refused_is_api_connection_error():
    async def main():
        async with AsyncClient(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}",
                               max_retries=1) as client:
            with pytest.raises(gett.APIConnectionError) as info:
                await client.stores.get("s1")
            return info.value
    err = run(main())
    assert not isinstance(err, gett.APITimeoutError) and err.attempts == 2


def test_success_with_invalid_json_is_a_clear_error(server):
    server.default = lambda req: Reply(200, body=b"{not json")

    async def main():
        async with make(server) as client:
            with pytest.raises(gett.APIConnectionError, match="not valid JSON"):
                await client.stores.get("s1")
    run(main())


def test_a_wrong_shape_answer_names_the_call(server):
    server.default = lambda req: Reply(200, {"nope": 1})

    async def main():
        async with make(server) as client:
            with pytest.raises(gett.APIConnectionError, match="get_store"):
                await client.stores.get("s1")
    run(main())


@pytest.mark.parametrize("call,field", [
    (lambda c: c.stores.get("a/b"), "store_id"),
    (lambda c: c.stores.pause("s1", "bored"), "reason"),
    (lambda c: c.stores.update("s1"), None),
    (lambda c: c.orders.update_status("o1", status="pending"), "status"),
    (lambda c: c.onboarding.register(partner_store_id="p", name="n", catalog_callback_url="ftp://x",
                                     webhook_url="https://w"), "catalog_callback_url"),
    (lambda c: c.stores.iter(page_size=0), "page_size"),
])
def test_bad_arguments_raise_invalid_request_error_before_anything_is_sent(server, call, field):
    async def main():
        async with make(server) as client:
            with pytest.raises(gett.InvalidRequestError) as info:
                await call(client)
            return info.value
    err = run(main())
    assert field is None or err.field == field or (err.field is None and field in str(err))
    assert server.requests == []


def test_client_argument_checks():
    with pytest.raises(gett.InvalidRequestError, match="max_concurrency"):
        AsyncClient(api_key=API_KEY, base_url="http://127.0.0.1:9", max_concurrency=0)
    with pytest.raises(gett.InvalidRequestError, match="timeout"):
        AsyncClient(api_key=API_KEY, base_url="http://127.0.0.1:9", timeout=-1)
    with pytest.raises(gett.InvalidRequestError, match="API key"):
        AsyncClient(api_key="", base_url="http://127.0.0.1:9")


def test_aclose_is_idempotent_and_later_calls_fail_clearly(server):
    server.default = lambda req: OK_STATUS

    async def main():
        client = make(server)
        await client.stores.get_status("s1")
        await client.aclose()
        await client.aclose()
        assert client.closed
        with pytest.raises(gett.InvalidRequestError, match="closed"):
            await client.stores.get_status("s1")
    run(main())


# ------------------------------------------------------------ retries

@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_succeed(server, status):
    server.add(Reply(status, headers={"Retry-After": "0"}), OK_STATUS)

    async def main():
        async with make(server) as client:
            return await client.stores.get_status("s1")
    assert run(main()).is_online and len(server.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_non_retryable_statuses_are_not_retried(server, status):
    server.default = lambda req: Reply(status, problem(status, "X", retryable=False))
    failing_call(server, gett.APIStatusError)
    assert len(server.requests) == 1


def test_problem_marked_retryable_is_retried_even_on_other_status(server):
    server.add(Reply(409, problem(409, "CONFLICT", retryable=True, retryAfter=0)), OK_STATUS)

    async def main():
        async with make(server) as client:
            return await client.stores.get_status("s1")
    assert run(main()).is_online and len(server.requests) == 2


def test_max_retries_bounds_the_attempts(server):
    server.default = lambda req: Reply(503, problem(503, "SERVICE_UNAVAILABLE", retryAfter=0))
    assert failing_call(server, gett.InternalServerError, max_retries=3).attempts == 4
    assert len(server.requests) == 4


def test_retry_after_is_honoured_and_the_loop_stays_free_meanwhile(server):
    server.add(Reply(429, problem(429, "RATE_LIMITED"), headers={"Retry-After": "0.4"}))
    server.default = lambda req: OK_STATUS
    order = []

    async def slow(client):
        started = time.monotonic()
        await client.stores.get_status("slow")
        order.append("retried")
        return time.monotonic() - started

    async def quick(client):
        await asyncio.sleep(0.05)
        await client.stores.get_status("quick")
        order.append("quick")

    async def main():
        async with make(server) as client:
            elapsed, _ = await asyncio.gather(slow(client), quick(client))
            return elapsed
    elapsed = run(main())
    assert elapsed >= 0.4
    assert order == ["quick", "retried"]  # another call ran during the backoff
    assert [r.path.split("/")[-2] for r in server.requests] == ["slow", "quick", "slow"]


def test_retry_after_beyond_the_deadline_fails_at_once(server):
    server.default = lambda req: Reply(429, problem(429, "RATE_LIMITED", retryAfter=60))
    err = failing_call(server, gett.RateLimitError, timeout=2.0)
    assert err.retry_after == 60 and len(server.requests) == 1


def test_timeout_bounds_the_whole_call_retries_included(server):
    server.default = lambda req: Reply(503, headers={"Retry-After": "0"}, delay=0.3)
    started = time.monotonic()
    failing_call(server, gett.APITimeoutError, timeout=1.0, max_retries=50)
    elapsed = time.monotonic() - started
    assert elapsed >= 1.0 and len(server.requests) < 50


@pytest.mark.parametrize("action", ["close", "close_mid_body"])
def test_dropped_connection_retries_idempotent_calls(server, action):
    server.add(Reply(200, {"status": "online"}, action=action), OK_STATUS)

    async def main():
        async with make(server) as client:
            return await client.stores.get_status("s1")
    assert run(main()).is_online and len(server.requests) == 2


@pytest.mark.parametrize("action", ["close", "close_mid_body"])
def test_register_is_never_sent_twice_after_an_ambiguous_failure(server, action):
    server.default = lambda req: Reply(201, ONBOARDING, action=action)

    async def main():
        async with make(server, max_retries=3) as client:
            with pytest.raises(gett.APIConnectionError):
                await CALLS["register"](client)
    run(main())
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_non_idempotent_calls_are_not_retried_after_an_answer_that_may_follow_success(server, status):
    server.default = lambda req: Reply(status, headers={"Retry-After": "0"})

    async def main():
        async with make(server, max_retries=3) as client:
            for name in ("register", "activate", "notify"):
                with pytest.raises(gett.InternalServerError):
                    await CALLS[name](client)
    run(main())
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [429, 503])
def test_non_idempotent_calls_are_retried_when_gett_says_it_did_nothing(server, status):
    server.add(Reply(status, headers={"Retry-After": "0"}), Reply(202))

    async def main():
        async with make(server) as client:
            await CALLS["notify"](client)
    run(main())
    assert len(server.requests) == 2


def test_a_retried_close_refused_as_already_done_is_success(server):
    # After a 502 Gett may have closed the order: the retry's "already" is success.
    server.add(Reply(502, problem(502, "BAD_GATEWAY")),
               Reply(409, problem(409, "ORDER_CLOSED", detail="order is already completed")))
    # After a 503 it did nothing: the retry's 409 is the truth.
    server.add(Reply(503, headers={"Retry-After": "0"}),
               Reply(409, problem(409, "ORDER_CLOSED", detail="order is already completed")))

    async def main():
        async with make(server) as client:
            await client.orders.update_status("o1", state="completed")
            with pytest.raises(gett.ConflictError):
                await client.orders.update_status("o2", state="completed")
    run(main())
    assert len(server.requests) == 4


def test_debug_log_has_one_line_per_attempt(server, caplog):
    server.add(Reply(503, headers={"Retry-After": "0"}), OK_STATUS)
    caplog.set_level("DEBUG", logger="gettcommerce")

    async def main():
        async with make(server) as client:
            await client.stores.get_status("s1")
    run(main())
    lines = [r.getMessage() for r in caplog.records if r.name == "gettcommerce"]
    assert len(lines) == 2 and "503" in lines[0] and "(attempt 2)" in lines[1]
    assert API_KEY not in "".join(lines)


def test_key_never_appears_in_repr(server):
    client = make(server)
    assert API_KEY not in repr(client) and "AsyncClient" in repr(client)
    run(client.aclose())


def test_an_incoming_webhook_order_gives_an_async_order_for_an_async_client(server):
    from gettcommerce.webhooks import IncomingOrder
    from test_webhooks import encode, order_body
    incoming = IncomingOrder.parse(encode(order_body()), kind="place")

    async def main():
        async with make(server) as client:
            order = incoming.order(client)
            assert type(order) is AsyncOrder and order.order_id == incoming.order_id
            await order.confirm()
    run(main())
    assert server.requests[0].path == f"/v1/commerce/orders/{incoming.order_id}/status"
    assert server.requests[0].json == {"status": "confirmed"}


def test_an_async_listing_stops_at_total_count_and_yields_async_stores(server):
    # The same page reader as the sync client: totalCount ends the listing.
    def page(req):
        first = int(req.query["offset"])
        return Reply(200, {"stores": [{"storeId": f"s{first + i}", "name": "n"} for i in range(2)],
                           "hasMore": True, "totalCount": 4})
    server.default = page

    async def main():
        async with make(server) as client:
            return await client.stores.list()
    stores = run(main())
    assert [s.store_id for s in stores] == ["s0", "s1", "s2", "s3"]
    assert all(type(s) is AsyncStore for s in stores) and len(server.requests) == 2
