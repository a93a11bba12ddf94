"""on_attempt: one gett.Attempt per HTTP attempt (single, batch, asyncio), never the key,
a raising hook logged and harmless, and no Python call per attempt without a hook."""
from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import logging
import sys
from pathlib import Path

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply, free_port, problem

STATUS = Reply(200, {"status": "online"}, headers={"X-Request-Id": "req_ok"})


def busy() -> Reply:
    return Reply(503, problem(503, "SERVICE_UNAVAILABLE"), headers={"Retry-After": "0",
                                                                   "X-Request-Id": "req_busy"})


def _client(server, **kw):
    return gett.Client(api_key=API_KEY, base_url=server.url, timeout=5.0, **kw)


def test_each_attempt_of_a_retried_call_is_reported_in_order(server):
    seen = []
    server.add(busy(), STATUS)
    with _client(server, on_attempt=seen.append) as client:
        assert client.stores.get_status("s 1").status == "online"
    assert [(a.attempt, a.status_code, a.request_id) for a in seen] == [(1, 503, "req_busy"), (2, 200, "req_ok")]
    first, second = seen
    assert first.method == "GET" and first.path == "/v1/commerce/stores/s%201/status"
    assert isinstance(first.error, gett.InternalServerError) and first.error.status_code == 503
    assert second.error is None
    assert 0 <= first.elapsed < 5 and first.started_at <= second.started_at
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.status_code = 200  # type: ignore[misc]


def test_failed_attempts_have_status_zero_and_the_error(server):
    seen = []
    url = f"http://127.0.0.1:{free_port()}"
    with gett.Client(api_key=API_KEY, base_url=url, timeout=5.0, max_retries=1,
                     on_attempt=seen.append) as client:
        with pytest.raises(gett.APIConnectionError) as raised:
            client.stores.get("s1")
    assert [(a.attempt, a.status_code) for a in seen] == [(1, 0), (2, 0)]
    assert all(isinstance(a.error, gett.APIConnectionError) for a in seen)
    assert raised.value.attempts == 2


def test_the_path_has_ids_but_no_query_and_nothing_shows_the_key(server):
    seen = []
    server.add(Reply(200, {"stores": [], "hasMore": False}))
    with _client(server, on_attempt=seen.append) as client:
        assert client.stores.list() == []
    [attempt] = seen
    assert attempt.path == "/v1/commerce/stores"
    assert server.requests[0].raw_query  # the request did carry limit/offset
    assert API_KEY not in repr(attempt)


def test_batched_calls_report_every_attempt(server):
    seen = []
    server.add(busy(), STATUS, STATUS)
    with _client(server, on_attempt=seen.append) as client:
        with client.batch(concurrency=1) as batch:
            batch.stores.get_status("a")
            batch.stores.get_status("b")
    assert sorted((a.path.split("/")[-2], a.attempt, a.status_code) for a in seen) == \
        [("a", 1, 503), ("a", 2, 200), ("b", 1, 200)]


def test_async_calls_report_every_attempt(server):
    seen = []
    server.add(busy(), STATUS)

    async def main():
        async with gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0,
                                    on_attempt=seen.append) as client:
            return await client.stores.get_status("s1")

    assert asyncio.run(main()).status == "online"
    assert [(a.attempt, a.status_code, a.request_id) for a in seen] == [(1, 503, "req_busy"), (2, 200, "req_ok")]


def test_a_raising_hook_is_logged_with_its_traceback_and_the_call_goes_on(server, caplog):
    def broken(attempt):
        raise RuntimeError("metrics backend down")

    server.add(STATUS)
    with _client(server, on_attempt=broken) as client:
        assert client.stores.get_status("s1").status == "online"
    [record] = [r for r in caplog.records if r.name == "gettcommerce" and r.levelno == logging.ERROR]
    assert "on_attempt" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_on_attempt_must_be_callable(server):
    with pytest.raises(gett.InvalidRequestError) as raised:
        _client(server, on_attempt="print")
    assert raised.value.field == "on_attempt"


def _python_calls(fn):
    """How many Python functions run while fn() runs (sys.setprofile)."""
    count = [0]

    def profile(frame, event, arg):
        if event == "call":
            count[0] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count[0]


def test_without_a_hook_retries_run_no_more_python_code(server):
    """Three attempts cost no more Python calls than one: nothing runs per attempt."""
    server.add(STATUS, STATUS, busy(), busy(), STATUS)
    with _client(server) as client:
        client.stores.get_status("warm")   # first call: imports and caches settle
        one = _python_calls(lambda: client.stores.get_status("s1"))
        three = _python_calls(lambda: client.stores.get_status("s1"))
    assert len(server.requests) == 5
    assert three == one
    seen = []
    server.add(busy(), STATUS)
    with _client(server, on_attempt=seen.append) as client:
        assert _python_calls(lambda: client.stores.get_status("s1")) > one
    assert len(seen) == 2


def test_the_opentelemetry_example_records_a_span_per_attempt(sandbox):
    pytest.importorskip("opentelemetry.sdk")
    path = Path(__file__).resolve().parent.parent / "examples" / "otel_tracing.py"
    spec = importlib.util.spec_from_file_location("otel_tracing_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza")
    spans = example.traced_calls(sandbox.url, sandbox.api_key, store_id)
    assert [(s.attributes["url.path"], s.attributes["http.response.status_code"]) for s in spans] == [
        (f"/v1/commerce/stores/{store_id}", 200), (f"/v1/commerce/stores/{store_id}/status", 200),
        ("/v1/commerce/stores/no-such-store", 404)]
    assert [s.status.status_code.name for s in spans] == ["UNSET", "UNSET", "ERROR"]
    assert all(s.end_time >= s.start_time > 0 for s in spans)
    assert all(s.attributes["gett.request_id"].startswith("req_") for s in spans)


def test_async_failed_attempts_have_status_zero_and_the_error():
    seen = []
    url = f"http://127.0.0.1:{free_port()}"

    async def main():
        async with gett.AsyncClient(api_key=API_KEY, base_url=url, timeout=5.0, max_retries=1,
                                    on_attempt=seen.append) as client:
            await client.stores.get("s1")

    with pytest.raises(gett.APIConnectionError):
        asyncio.run(main())
    assert [(a.attempt, a.status_code, type(a.error)) for a in seen] == \
        [(1, 0, gett.APIConnectionError), (2, 0, gett.APIConnectionError)]


@pytest.mark.parametrize("request_id", ["r\u00e9q-latin1", "a" * 62 + "\u00e9", "req_" + "x" * 120])
def test_a_request_id_that_is_not_utf8_or_is_long_reaches_the_hook_as_sent(server, request_id):
    # Header bytes are latin-1 on the wire: the hook must see the same text as
    # raw.request_id, and the call must not fail on how the id is spelled.
    seen = []
    server.add(Reply(200, {"status": "online"}, headers={"X-Request-Id": request_id}))
    with _client(server, on_attempt=seen.append) as client:
        raw = client.stores.with_raw_response.get_status("s1")
    assert raw.request_id == request_id
    assert [a.request_id for a in seen] == [request_id]


def test_an_async_call_whose_hook_raises_a_base_exception_fails_with_it_and_never_hangs(server):
    # A BaseException (not logged away like an Exception) must reach the
    # awaiting task, as it does a sync caller, not leave its future unresolved.
    class Stop(BaseException):
        pass

    def stop(attempt):
        raise Stop("from the hook")

    server.add(STATUS)

    async def main():
        async with gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0,
                                    on_attempt=stop) as client:
            with pytest.raises(Stop, match="from the hook"):
                await asyncio.wait_for(client.stores.get_status("s1"), 30)
    asyncio.run(main())


def test_an_unclosed_async_client_whose_hook_leads_back_to_its_owner_is_collected_and_warns(server):
    import gc
    import weakref

    class Metrics:   # owns the client; the client's hook is one of its methods: a cycle
        def __init__(self):
            self.client = gett.AsyncClient(api_key=API_KEY, base_url=server.url, timeout=5.0,
                                           on_attempt=self.record)

        def record(self, attempt):
            pass

    server.add(STATUS)

    async def main():
        metrics = Metrics()
        await metrics.client.stores.get_status("s1")
        owner = weakref.ref(metrics)
        with pytest.warns(ResourceWarning, match="unclosed"):
            del metrics
            gc.collect()
        assert owner() is None
    asyncio.run(main())
