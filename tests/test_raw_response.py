"""with_raw_response: the same calls, answered with a RawResponse (status, all headers,
request id, rate limit, attempts, elapsed; parse() gives the usual result)."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, problem

STORE = {"storeId": "s1", "name": "Pizza"}
HEADERS = {"X-Request-Id": "req_42", "X-RateLimit-Remaining": "998", "X-RateLimit-Reset": "1800000000",
           "X-Custom": "yes"}


def test_a_successful_answer_keeps_its_status_headers_and_request_id(client, server):
    server.add(Reply(200, STORE, headers=HEADERS))
    raw = client.stores.with_raw_response.get("s1")
    assert isinstance(raw, gett.RawResponse)
    assert raw.status_code == 200 and raw.attempts == 1 and raw.elapsed > 0
    assert raw.request_id == "req_42"
    assert raw.headers["x-ratelimit-remaining"] == "998" == raw.headers["X-RATELIMIT-REMAINING"]
    assert raw.headers["X-Custom"] == "yes" and "content-type" in raw.headers
    assert raw.rate_limit.remaining == 998
    assert raw.rate_limit.reset == dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.timezone.utc)
    store = raw.parse()
    assert isinstance(store, gett.Store) and store.store_id == "s1" and raw.parse() is store
    assert store.get_status  # bound to the client, as a plain call's store
    assert server.requests[0].path == "/v1/commerce/stores/s1"
    text = repr(raw)
    assert text.startswith("<gettcommerce.RawResponse 200 get_store request_id='req_42' attempts=1")
    assert API_KEY not in text


def test_in_jupyter_a_raw_response_is_a_card_with_its_status_badge_and_headers(client, server):
    from test_html_repr import card_of
    server.add(Reply(200, STORE, headers=HEADERS))
    card = card_of(client.stores.with_raw_response.get("s1"))
    assert card.badges == ["200"]
    assert card.rows["request_id"] == "req_42" and card.rows["attempts"] == "1"
    assert card.rows["method"] == "GET"
    assert "remaining=998" in card.rows["rate_limit"] and "2027-01-15 08:00 UTC" in card.rows["rate_limit"]
    assert "x-custom: yes" in card.rows["headers"].lower()
    assert API_KEY not in card.plain


def test_rate_limit_reads_rfc3339_and_gives_none_when_absent_or_unreadable(client, server):
    server.add(Reply(200, STORE, headers={"X-RateLimit-Reset": "2026-12-01T10:00:00Z"}),
               Reply(200, STORE, headers={"X-RateLimit-Remaining": "many", "X-RateLimit-Reset": "soon"}))
    first = client.stores.with_raw_response.get("s1")
    assert first.rate_limit == (None, dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone.utc))
    assert first.request_id is None
    assert client.stores.with_raw_response.get("s1").rate_limit == (None, None)


def test_attempts_count_retries_and_calls_without_a_body_parse_to_none(client, server):
    server.add(Reply(503, problem(503, "SERVICE_UNAVAILABLE"), headers={"Retry-After": "0"}),
               Reply(204, headers={"X-Request-Id": "req_7"}))
    raw = client.orders.with_raw_response.update_status("o1", status="ready")
    assert (raw.status_code, raw.attempts, raw.request_id) == (204, 2, "req_7")
    assert raw.parse() is None
    assert server.requests[-1].json == {"status": "ready"}


def test_a_failed_call_raises_the_usual_error(client, server):
    server.add(Reply(404, problem(404, "STORE_NOT_FOUND"), headers={"X-Request-Id": "req_404"}))
    with pytest.raises(gett.NotFoundError) as raised:
        client.stores.with_raw_response.get("nope")
    assert raised.value.headers["X-Request-Id"] == "req_404"


def test_listings_and_batches_refuse_it_clearly(client, server):
    with pytest.raises(gett.InvalidRequestError, match="listing"):
        client.stores.with_raw_response.list()
    with client.batch() as batch:
        with pytest.raises(gett.InvalidRequestError, match="batch"):
            batch.stores.with_raw_response  # noqa: B018
    assert server.requests == []


def test_async_raw_calls_are_awaited_and_parse_to_async_models(server):
    server.add(Reply(200, STORE, headers=HEADERS))

    async def main():
        async with gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0) as client:
            raw = await client.stores.with_raw_response.get("s1")
            return raw, raw.parse()

    raw, store = asyncio.run(main())
    assert (raw.status_code, raw.request_id, raw.rate_limit.remaining) == (200, "req_42", 998)
    assert isinstance(store, gett.AsyncStore) and store.store_id == "s1"


def test_a_with_options_copy_has_raw_responses_too(client, server):
    server.add(Reply(200, STORE, headers=HEADERS))
    raw = client.with_options(extra_headers={"X-Trace": "t1"}).stores.with_raw_response.get("s1")
    assert raw.status_code == 200 and server.requests[0].headers["X-Trace"] == "t1"


def test_a_header_repeated_in_one_answer_keeps_every_value_in_order():
    from rawserver import RawServer, send
    body = b'{"storeId": "s1", "name": "Pizza"}'
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nWarning: 199 - \"one\"\r\n"
              b"X-Request-Id: req_1\r\nWarning: 199 - \"two\"\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    with RawServer() as srv, gett.Client(api_key=API_KEY, base_url=f"http://127.0.0.1:{srv.port}",
                                         max_retries=0) as client:
        srv.add(send(answer))
        raw = client.stores.with_raw_response.get("s1")
    assert raw.headers["warning"] == '199 - "one", 199 - "two"'
    assert raw.parse().store_id == "s1"


def test_success_headers_are_copied_only_for_raw_calls_and_attempt_hooks(client, server):
    from gettcommerce import _core
    server.default = lambda req: Reply(200, {"status": "online"} if req.path.endswith("/status") else STORE,
                                       headers=HEADERS)
    before = _core.success_headers_kept()
    client.stores.get("s1")
    client.stores.get_status("s1")
    with client.batch() as batch:
        batch.stores.get("s1")
    assert _core.success_headers_kept() == before            # the plain paths copy none
    client.stores.with_raw_response.get("s1")
    assert _core.success_headers_kept() == before + 1
    with gett.Client(api_key=API_KEY, base_url=server.url, on_attempt=lambda a: None) as hooked:
        hooked.stores.get("s1")
    assert _core.success_headers_kept() == before + 2        # the hook reads each attempt's request id
