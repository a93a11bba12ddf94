"""AsyncWebhookApp: WebhookApp's behaviour as an ASGI app (gettcommerce/webhooks/asgi.py)."""
from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import pytest

import gettcommerce as gett
from gettcommerce.webhooks import AsyncWebhookApp, InMemoryPlacedOrderStore, ItemUnavailable, WebhookApp, sign
from webhook_helpers import SECRET, encode, order_body


def run(coro):
    return asyncio.run(coro)


def comparable(response):
    """An answer without what differs on every request (requestId, timestamp)."""
    status, headers, payload = response
    data = json.loads(payload) if payload else None
    if isinstance(data, dict):
        data.pop("requestId", None)
        data.pop("timestamp", None)
        if "detail" in data:   # request ids and "N s old" differ from one call to the next
            data["detail"] = re.sub(r"req_\w+|\d+", "#", data["detail"])
    return status, sorted(headers), data


def handlers(kind_of_call):
    """on_validate / on_place, as plain functions or coroutines, with identical results."""
    def on_validate(order):
        if order.items[0].item_id == "gone":
            raise ItemUnavailable([order.items[0]])
        if order.items[0].item_id == "boom":
            raise RuntimeError("pricing down")
        return gett.Amounts(order.amounts.sub_total, taxes="1.85")

    def on_place(order):
        return {"partnerOrderId": "POS-" + order.order_id, "estimatedReadyAt": "2026-01-30T12:00:00Z"}

    if kind_of_call == "sync":
        return on_validate, on_place

    async def async_validate(order):
        await asyncio.sleep(0)
        return on_validate(order)

    async def async_place(order):
        await asyncio.sleep(0)
        return on_place(order)

    return async_validate, async_place


def requests():
    good = encode(order_body())
    gone = encode(order_body(items=[{"itemId": "gone"}]))
    boom = encode(order_body(items=[{"itemId": "boom"}]))
    return [
        ("POST", "/gett/validate", sign(good, SECRET), good),
        ("POST", "/gett/validate", sign(gone, SECRET), gone),
        ("POST", "/gett/validate", sign(boom, SECRET), boom),
        ("POST", "/gett/place", sign(good, SECRET), good),
        ("POST", "/gett/place", sign(good, SECRET), good),          # the replay
        ("POST", "/gett/place", sign(good, "wrong"), good),
        ("POST", "/gett/place", sign(b"{}", SECRET), b"{}"),
        ("GET", "/gett/place", {}, b""),
        ("POST", "/gett/refund", sign(good, SECRET), good),
        ("POST", "/gett/validate", sign(good, SECRET, timestamp=int(time.time()) - 3600), good),
    ]


@pytest.mark.parametrize("kind_of_call", ["sync", "async"])
def test_same_answers_as_webhook_app(kind_of_call):
    on_validate, on_place = handlers(kind_of_call)
    sync_validate, sync_place = handlers("sync")
    reference = WebhookApp(SECRET, on_validate=sync_validate, on_place=sync_place)
    app = AsyncWebhookApp(SECRET, on_validate=on_validate, on_place=on_place)
    expected = [comparable(reference.handle(*r)) for r in requests()]

    async def all_of_them():
        return [comparable(await app.handle(*r)) for r in requests()]

    got = run(all_of_them())
    assert got == expected
    assert [g[0] for g in got] == [200, 400, 500, 200, 200, 401, 400, 405, 404, 401]


def test_sync_handlers_run_in_a_thread_async_ones_on_the_loop():
    seen = {}

    def on_validate(order):
        seen["validate"] = threading.current_thread()
        return order.amounts

    async def on_place(order):
        seen["place"] = threading.current_thread()
        return "P"

    app = AsyncWebhookApp(SECRET, on_validate=on_validate, on_place=on_place)
    raw = encode(order_body())

    async def go():
        seen["loop"] = threading.current_thread()
        await app.handle("POST", "/validate", sign(raw, SECRET), raw)
        await app.handle("POST", "/place", sign(raw, SECRET), raw)

    run(go())
    assert seen["validate"] is not seen["loop"] and seen["place"] is seen["loop"]


def test_blocking_sync_handler_does_not_stall_the_loop():
    release = threading.Event()

    def on_place(order):
        assert release.wait(10)
        return "P-" + order.order_id

    app = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
    slow, fast = encode(order_body(orderId="slow")), encode(order_body(orderId="fast"))

    async def go():
        blocked = asyncio.ensure_future(app.handle("POST", "/place", sign(slow, SECRET), slow))
        # validate answers while on_place blocks its thread; then let it finish.
        status, _, _ = await app.handle("POST", "/validate", sign(fast, SECRET), fast)
        release.set()
        return status, await blocked

    status, (place_status, _, payload) = run(go())
    assert status == 200 and place_status == 200 and json.loads(payload)["partnerOrderId"] == "P-slow"


def test_concurrent_duplicates_in_one_process_run_on_place_once():
    calls = []

    async def on_place(order):
        calls.append(order.order_id)
        await asyncio.sleep(0.05)
        return "P1"

    app = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
    raw = encode(order_body())

    async def go():
        return await asyncio.gather(*(app.handle("POST", "/place", sign(raw, SECRET), raw) for _ in range(8)))

    results = run(go())
    assert calls == ["ord-1"] and [r[0] for r in results] == [200] * 8
    assert not app._place_locks._locks


def test_a_delivery_cancelled_while_waiting_for_the_order_lock_holds_nothing():
    calls = []

    async def go():
        entered, release = asyncio.Event(), asyncio.Event()

        async def on_place(order):
            calls.append(order.order_id)
            entered.set()
            await release.wait()
            return "P1"

        app = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
        raw = encode(order_body())
        first = asyncio.ensure_future(app.handle("POST", "/place", sign(raw, SECRET), raw))
        await entered.wait()
        second = asyncio.ensure_future(app.handle("POST", "/place", sign(raw, SECRET), raw))
        while app._place_locks._locks["ord-1"][1] < 2:   # the second delivery waits on the order lock
            await asyncio.sleep(0)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        assert app._place_locks._locks["ord-1"][1] == 1
        release.set()
        status, _, payload = await first
        return status, json.loads(payload), app._place_locks._locks

    status, answer, locks = run(go())
    assert status == 200 and answer["partnerOrderId"] == "P1" and calls == ["ord-1"]
    assert not locks


def test_shared_store_busy_is_409_for_async_too():
    store = InMemoryPlacedOrderStore()
    store.claim("ord-1", 30)            # another worker is inside on_place
    app = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "P", store=store)
    raw = encode(order_body())
    status, headers, payload = run(app.handle("POST", "/place", sign(raw, SECRET), raw))
    assert status == 409 and json.loads(payload)["retryable"] is True


# ---------------------------------------------------------------- the ASGI interface

def asgi(app, method, path, body_chunks, headers=()):
    """Call the ASGI app; returns (status, headers, body, how many body messages it read)."""
    messages = [{"type": "http.request", "body": chunk, "more_body": i < len(body_chunks) - 1}
                for i, chunk in enumerate(body_chunks)] or [{"type": "http.request", "body": b""}]
    sent, read = [], []

    async def receive():
        read.append(1)
        return messages[len(read) - 1]

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "root_path": "",
             "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers]}
    run(app(scope, receive, send))
    start, body = sent[0], sent[1]
    return start["status"], dict((k.decode(), v.decode()) for k, v in start["headers"]), body["body"], len(read)


@pytest.fixture
def app():
    return AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "P-1", max_body_bytes=2000)


def test_asgi_place_in_chunks(app):
    raw = encode(order_body())
    status, headers, body, _ = asgi(app, "POST", "/hooks/place", [raw[:50], raw[50:]],
                                    list(sign(raw, SECRET).items()) + [("Content-Length", len(raw))])
    assert status == 200 and json.loads(body)["partnerOrderId"] == "P-1"
    assert headers["content-length"] == str(len(body)) and headers["content-type"] == "application/json"


def test_asgi_refuses_by_content_length_before_reading(app):
    status, headers, body, read = asgi(app, "POST", "/place", [b"x" * 10], [("Content-Length", 10 ** 9)])
    assert status == 413 and json.loads(body)["errorCode"] == "PAYLOAD_TOO_LARGE" and read == 0
    assert headers["content-type"] == "application/problem+json"


def test_asgi_caps_a_chunked_body(app):
    chunks = [b"x" * 1000] * 50            # no Content-Length: read until past the limit, then stop
    status, _, body, read = asgi(app, "POST", "/place", chunks)
    assert status == 413 and read == 3


def test_asgi_get_is_405_problem(app):
    status, headers, body, read = asgi(app, "GET", "/validate", [])
    assert status == 405 and headers["allow"] == "POST" and read == 0
    assert json.loads(body)["errorCode"] == "METHOD_NOT_ALLOWED"


def test_asgi_lifespan(app):
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message["type"])

    run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_huge_timestamp_is_answered_401_over_asgi():
    placed = []
    app = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=placed.append)
    raw = encode(order_body())
    messages = [{"type": "http.request", "body": raw, "more_body": False}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/place",
             "headers": [(b"signature", sign(raw, SECRET)["Signature"].encode()), (b"timestamp", b"9" * 400),
                         (b"content-length", str(len(raw)).encode())]}
    run(app(scope, receive, send))
    assert sent[0]["status"] == 401
    problem = json.loads(sent[1]["body"])
    assert problem["errorCode"] == "UNAUTHENTICATED" and "invalid Timestamp header" in problem["detail"]
    assert not placed


def test_an_async_handler_slower_than_the_lease_runs_once():
    """AsyncWebhookApp renews its claim too while an async on_place awaits a slow POS."""
    from concurrent.futures import ThreadPoolExecutor

    from webhook_services import wait_for

    store = InMemoryPlacedOrderStore()
    entered, finish = threading.Event(), threading.Event()
    calls = []

    async def on_place(order):
        calls.append(order.order_id)
        entered.set()
        await asyncio.get_running_loop().run_in_executor(None, finish.wait, 30)
        return "POS-async"

    worker_a = AsyncWebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=store, lease=0.3)
    worker_b = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "POS-twice", store=store,
                          lease=0.3)
    raw = encode(order_body())
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lambda: run(worker_a.handle("POST", "/place", sign(raw, SECRET), raw)))
        assert entered.wait(10)
        store.claim("probe", 0.3)       # its expiry proves worker A's first lease is over
        wait_for(lambda: store.claim("probe", 30).state == "claimed", "the probe's lease to end", timeout=30)
        assert worker_b.handle("POST", "/place", sign(raw, SECRET), raw)[0] == 409
        finish.set()
        status, _, payload = first.result()
    assert status == 200 and json.loads(payload)["partnerOrderId"] == "POS-async"
    status, _, payload = worker_b.handle("POST", "/place", sign(raw, SECRET), raw)
    assert json.loads(payload)["partnerOrderId"] == "POS-async" and calls == ["ord-1"]
