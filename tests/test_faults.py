"""Fault suite: servers that misbehave in every way we could think of.

Each case ends in a typed gettcommerce error or a correct result - never a
crash, a hang or a lost pool handle - and the same Client then makes a
normal call.  Faults the sandbox can inject come from the sandbox; the rest
come from a raw-socket server (tests/rawserver.py) that writes exact bytes.
"""
from __future__ import annotations

import random
import threading
import time

import pytest

import gettcommerce as gett
from conftest import API_KEY, free_port
from gettcommerce.sandbox import demo_catalog
from rawserver import RawServer, drip, endless, hang, ok_json, reset, response_bytes, send

S = "/v1/commerce/stores"
POOL = 4


def make_client(url, **kw):
    kw.setdefault("timeout", 5.0)
    kw.setdefault("pool_size", POOL)
    return gett.Client(api_key=API_KEY, base_url=url, **kw)


def assert_recovers(client, check=None):
    """No handle leaked by the faulty call, and a normal call works next.

    Calls here are sequential on one thread, so exactly one handle exists
    and it must be back in the pool: a path that forgot to check it in
    would leave 0 (the next call would quietly create another).
    """
    assert client._core.idle_handles == 1
    if check is None:
        assert client.stores.get_status("healthy").status == "online"
    else:
        check()
    assert client._core.idle_handles == 1


@pytest.fixture
def raw():
    with RawServer() as srv:
        yield srv


@pytest.fixture
def store_id(sandbox):
    return sandbox.create_store(partner_store_id="p-faults", name="Pizza")


# ------------------------------------------------------------ no answer at all

def test_connection_refused_is_a_connection_error_then_the_client_recovers():
    port = free_port()
    with make_client(f"http://127.0.0.1:{port}", max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(gett.APIConnectionError) as info:
            client.stores.get_status("s1")
        assert not isinstance(info.value, gett.APITimeoutError)
        assert info.value.attempts == 3  # nothing was sent: retried with backoff
        assert time.monotonic() - started < 3.0
        with RawServer(port=port):  # the server comes up: the same client works
            assert_recovers(client)


def test_reset_before_response_is_retried_for_reads(raw):
    raw.add(reset())
    with make_client(raw.url) as client:
        assert client.stores.get_status("s1").status == "online"
        assert len(raw.requests) == 2
        raw.requests.clear()
        raw.default = reset()
        with pytest.raises(gett.APIConnectionError) as info:
            client.stores.get_status("s1")
        assert info.value.attempts == 3
        # The first attempt ran on the kept-alive connection, which libcurl
        # re-sends on once by itself when it dies unanswered (why a
        # non-idempotent call always takes a fresh connection).
        assert 3 <= len(raw.requests) <= 4
        raw.default = ok_json()
        assert_recovers(client)


def test_close_mid_body_is_a_connection_error(raw):
    half = send(response_bytes(200, b'{"status": "onl', content_length=200))
    raw.add(half, half, half)
    with make_client(raw.url, max_retries=2) as client:
        with pytest.raises(gett.APIConnectionError) as info:
            client.stores.get_status("s1")
        assert info.value.attempts == 3 and len(raw.requests) == 3
        assert_recovers(client)


def test_response_slower_than_the_timeout_returns_within_ten_percent(raw):
    raw.add(hang(raw.stop))
    with make_client(raw.url, timeout=1.0, max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(gett.APITimeoutError):
            client.stores.get_status("s1")
        elapsed = time.monotonic() - started
        assert 0.95 <= elapsed <= 1.1, elapsed
        assert_recovers(client)


def test_slow_drip_body_hits_the_deadline_instead_of_hanging(raw):
    # 1000 bytes, one per 20 ms: 20 s in all.  Bytes keep arriving, so only
    # a whole-call deadline (not an idle timeout) can stop this.
    raw.add(drip(b'{"status": "online", "pad": "' + b"x" * 970 + b'"}', interval=0.02, stop=raw.stop))
    with make_client(raw.url, timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(gett.APITimeoutError):
            client.stores.get_status("s1")
        assert time.monotonic() - started <= 1.1
        assert_recovers(client)


# ------------------------------------------------------------ retry policy

def test_429_retry_after_beyond_the_deadline_fails_fast(sandbox, store_id):
    sandbox.inject_fault(f"GET {S}/*", times=None, status=429, retry_after=60)
    with sandbox.client(timeout=5.0) as client:
        started = time.monotonic()
        with pytest.raises(gett.RateLimitError) as info:
            client.stores.get(store_id)
        assert time.monotonic() - started < 0.5  # did not sleep towards the deadline
        assert info.value.retry_after == 60 and info.value.attempts == 1
        assert sandbox.request_count(f"GET {S}/*") == 1
        sandbox.clear_faults()
        assert_recovers(client, lambda: client.stores.get(store_id))


def test_503_storm_then_success_counts_every_attempt(sandbox, store_id):
    storm = sandbox.inject_fault(f"GET {S}/*", times=4, status=503, retry_after=0)
    with sandbox.client(timeout=5.0, max_retries=5) as client:
        assert client.stores.get(store_id).name == "Pizza"
        assert storm.hits == 4 and sandbox.request_count(f"GET {S}/{store_id}") == 5
        sandbox.clear_requests()
        # A storm longer than max_retries: the last 503 is the error, attempts counted.
        sandbox.inject_fault(f"GET {S}/*", times=10, status=503, retry_after=0)
        with sandbox.client(timeout=5.0, max_retries=2) as short:
            with pytest.raises(gett.InternalServerError) as info:
                short.stores.get(store_id)
        assert info.value.status_code == 503 and info.value.attempts == 3
        assert sandbox.request_count(f"GET {S}/*") == 3
        sandbox.clear_faults()
        assert_recovers(client, lambda: client.stores.get(store_id))


# ------------------------------------------------------------ broken bodies

def test_truncated_json_is_a_typed_decode_error(raw):
    raw.add(send(response_bytes(200, b'{"storeId": "s1", "name": "Pi'), keep_alive=True))
    with make_client(raw.url) as client:
        with pytest.raises(gett.APIConnectionError, match="not valid JSON") as info:
            client.stores.get("s1")
        assert not isinstance(info.value, gett.InvalidRequestError)
        assert_recovers(client)


def test_invalid_utf8_in_json_strings_is_replaced_not_a_crash(raw):
    # Decision: like the error path (and requests/httpx .text), bytes that are
    # not UTF-8 become U+FFFD; the rest of the answer stays usable.
    body = b'{"storeId": "s1", "name": "Caf\xc3 \xff\xfe", "k\xe9y": "v"}'
    raw.add(send(response_bytes(200, body), keep_alive=True))
    with make_client(raw.url) as client:
        store = client.stores.get("s1")
        assert store.store_id == "s1" and store.name == "Caf\ufffd \ufffd\ufffd"
        raw.add(send(response_bytes(404, b'{"errorCode": "NOT_FOUND", "detail": "no \xff"}',
                                    content_type="application/problem+json"), keep_alive=True))
        with pytest.raises(gett.NotFoundError) as info:
            client.stores.get("s1")
        assert info.value.error_code == "NOT_FOUND" and info.value.detail == "no \ufffd"
        assert_recovers(client)


def test_json_nested_100000_deep_is_a_typed_error_and_1000_deep_is_fine(raw):
    # cJSON's nesting cap (1000) bounds every tree the converter walks:
    # deeper is refused by the parser with a typed error saying so, never a
    # stack overflow.
    deep = b"[" * 100_000 + b"]" * 100_000
    raw.add(send(response_bytes(200, b'{"storeId": ' + deep + b"}"), keep_alive=True))
    with make_client(raw.url) as client:
        with pytest.raises(gett.APIConnectionError, match="nested more than 1000 levels deep") as info:
            client.stores.get("s1")
        assert not isinstance(info.value, gett.InvalidRequestError)
        raw.add(send(response_bytes(200, b"[" * 1001 + b"]" * 1001), keep_alive=True))
        with pytest.raises(gett.APIConnectionError, match="nested more than 1000 levels deep"):
            client._request(gett._client.EP_GET_STORE, ("s1",))
        raw.add(send(response_bytes(200, b"[" * 1000 + b"]" * 1000), keep_alive=True))
        value = client._request(gett._client.EP_GET_STORE, ("s1",))
        for _ in range(999):
            (value,) = value
        assert value == []
        raw.add(send(response_bytes(500, deep), keep_alive=True))
        with make_client(raw.url, max_retries=0) as other:
            with pytest.raises(gett.InternalServerError) as info:
                other.stores.get("s1")
        assert info.value.status_code == 500 and isinstance(info.value.body, str)
        assert_recovers(client)


def test_a_success_answer_of_the_wrong_json_shape_is_a_typed_error(raw):
    raw.add(send(response_bytes(200, b'["not", "a", "store"]'), keep_alive=True))
    raw.add(send(response_bytes(200, b'"online"'), keep_alive=True))
    with make_client(raw.url) as client:
        with pytest.raises(gett.APIConnectionError, match="get_store with JSON of an unexpected shape"):
            client.stores.get("s1")
        with client.batch() as batch:
            batch.stores.get_status("s1")
    assert isinstance(batch.results[0], gett.APIConnectionError)
    assert "unexpected shape" in str(batch.results[0])


def test_one_undecodable_answer_does_not_cost_a_batch_its_other_results(raw):
    # Regression: a UnicodeDecodeError from converting one answer used to
    # escape run_batch and discard every other call's result.
    raw.add(ok_json({"storeId": "a"}),
            send(response_bytes(200, b'{"storeId": "b", "name": "\xff"}'), keep_alive=True),
            send(response_bytes(200, b"[" * 100_000 + b"]" * 100_000), keep_alive=True),
            ok_json({"storeId": "d"}))
    with make_client(raw.url) as client:
        batch = client.batch(concurrency=1)
        for sid in "abcd":
            batch.stores.get(sid)
        results = batch.run()
        assert [r.store_id for r in (results[0], results[1], results[3])] == ["a", "b", "d"]
        assert results[1].name == "\ufffd"
        ((index, error),) = batch.errors
        assert index == 2 and isinstance(error, gett.APIConnectionError)
        assert "nested more than 1000 levels deep" in str(error)
        assert client._core.idle_handles == 1


def test_200_mb_body_is_stopped_at_max_response_bytes(raw):
    total = 200 * 1024 * 1024
    stream = endless(total)
    raw.add(stream)
    with make_client(raw.url) as client:  # default max_response_bytes: 32 MB
        started = time.monotonic()
        with pytest.raises(gett.APIConnectionError, match="max_response_bytes") as info:
            client.stores.get("s1")
        assert "33554432" in str(info.value)
        assert info.value.attempts == 1  # not retried: it would be as large again
        assert time.monotonic() - started < 10
        assert_recovers(client)
    # The client stopped reading near the cap (socket buffers hold a few MB more).
    assert stream.sent < 48 * 1024 * 1024, stream.sent


def test_wrong_content_type_is_ignored_when_the_body_is_json(raw):
    # Decision: the body decides.  Proxies relabel JSON as text/plain or
    # text/html; refusing a valid answer would only make the call fail.
    raw.add(send(response_bytes(200, b'{"storeId": "s1", "name": "Pizza"}', content_type="text/html"),
                 keep_alive=True))
    raw.add(send(response_bytes(200, b"\x89PNG\r\n\x1a\n\0\0", content_type="image/png"), keep_alive=True))
    with make_client(raw.url) as client:
        assert client.stores.get("s1").name == "Pizza"
        with pytest.raises(gett.APIConnectionError, match="not valid JSON"):
            client.stores.get("s1")
        assert_recovers(client)


HTML_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            b"</body>\r\n</html>\r\n")


def test_html_error_pages_become_status_errors(raw):
    page = send(response_bytes(502, HTML_502, reason="Bad Gateway", content_type="text/html",
                               headers={"Retry-After": "0"}), keep_alive=True)
    raw.add(page, page)
    with make_client(raw.url, max_retries=1) as client:
        with pytest.raises(gett.InternalServerError) as info:
            client.stores.get("s1")
        err = info.value
        assert err.status_code == 502 and err.attempts == 2  # 502 is retryable
        assert isinstance(err.body, str) and "502 Bad Gateway" in err.body
        assert err.error_code is None and err.request_id is None
        raw.add(send(response_bytes(404, b"<html><body>Not Found</body></html>", content_type="text/html"),
                     keep_alive=True))
        with pytest.raises(gett.NotFoundError) as info:
            client.stores.get("s1")
        assert info.value.attempts == 1
        # A captive portal answering 200 with HTML is not a Store.
        raw.add(send(response_bytes(200, b"<html>Log in to Wi-Fi</html>", content_type="text/html"),
                     keep_alive=True))
        with pytest.raises(gett.APIConnectionError, match="not valid JSON"):
            client.stores.get("s1")
        assert_recovers(client)


def chunked(body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    return head + body


@pytest.mark.parametrize("chunks", [
    b"zz\r\n{}\r\n0\r\n\r\n",                               # not hex
    b"-2\r\n{}\r\n0\r\n\r\n",                               # negative
    b"fffffffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",        # overflows 64 bits
    b"ffff\r\n{\"status\": \"online\"}",                     # promises 64 KiB, sends 20 bytes, closes
    b"2\r\n{}XXXX\r\n0\r\n\r\n",                            # data longer than its size
], ids=["non-hex", "negative", "overflow", "short", "overlong"])
def test_chunked_encoding_with_bogus_sizes_is_a_connection_error(raw, chunks):
    raw.add(send(chunked(chunks)))
    with make_client(raw.url, max_retries=0) as client:
        with pytest.raises(gett.APIConnectionError) as info:
            client.stores.get_status("s1")
        assert not isinstance(info.value, gett.APITimeoutError)
        assert_recovers(client)


def test_valid_chunked_encoding_works(raw):
    raw.add(send(chunked(b'9\r\n{"status"\r\nB\r\n: "online"}\r\n0\r\n\r\n'), keep_alive=True))
    with make_client(raw.url) as client:
        assert client.stores.get_status("s1").status == "online"
        assert_recovers(client)


def test_http_1_0_server_without_keep_alive_works_for_sequential_calls(raw):
    def http10(conn, req):
        body = b'{"status": "online"}' if req.method == "GET" else b""
        conn.sendall(response_bytes(200, body, version="HTTP/1.0", content_length=None))
        return False  # HTTP/1.0: the end of the body is the end of the connection
    raw.default = http10
    with make_client(raw.url) as client:
        for i in range(5):
            assert client.stores.get_status(f"s{i}").status == "online"
            client.orders.update_status(f"o{i}", status="ready")
        assert_recovers(client)
    assert len(raw.requests) == 11
    assert len({r.conn_id for r in raw.requests}) == 11  # one connection per call


# ------------------------------------------------------------ never twice

@pytest.mark.parametrize("action", ["close_mid_body", "close_before"])
def test_register_store_is_never_sent_twice_on_an_ambiguous_failure(sandbox, action):
    register = "POST /v1/commerce/onboarding/stores"
    with sandbox.client(timeout=5.0, max_retries=5) as client:
        client.stores.list()  # a pooled keep-alive connection exists, as in production
        sandbox.inject_fault(register, action=action, process=True)
        with pytest.raises(gett.APIConnectionError) as info:
            client.onboarding.register(partner_store_id="p-once", name="Once",
                                       catalog_callback_url=sandbox.host_catalog(demo_catalog()),
                                       webhook_url="http://127.0.0.1:9/hooks")
        assert info.value.attempts == 1
        assert sandbox.request_count(register) == 1
        (partner,) = sandbox.state()["partners"].values()
        assert [o["partnerStoreId"] for o in partner["onboardings"]] == ["p-once"]
        # The partner retries by hand: Gett answers 409, proving one registration exists.
        with pytest.raises(gett.ConflictError):
            client.onboarding.register(partner_store_id="p-once", name="Once",
                                       catalog_callback_url=sandbox.host_catalog(demo_catalog()),
                                       webhook_url="http://127.0.0.1:9/hooks")
        assert sandbox.request_count(register) == 2
        assert_recovers(client, client.stores.list)


# ------------------------------------------------------------ concurrency under faults

THREADS = 16
CALLS = 2000


def test_sixteen_threads_share_one_client_under_random_faults(sandbox, store_id):
    """16 x 2,000 calls with ~5% faults: every call is a correct result or a
    typed error, nothing deadlocks, and the server saw exactly one request
    per attempt (requests == faulted attempts + successes)."""
    rng = random.Random(6)
    faults = []
    done = threading.Event()
    outcomes = [[] for _ in range(THREADS)]
    unexpected = []
    total = THREADS * CALLS

    def inject():
        # One fault live at a time, one per ~20 requests: ~5% of attempts.
        next_at = 20
        while not done.is_set():
            count = sandbox.request_count("GET /v1/commerce/*")
            if count >= next_at and len(sandbox.faults) == 0:
                roll = rng.random()
                if roll < 0.85:
                    kw = dict(status=503, retry_after=0)
                elif roll < 0.92:
                    kw = dict(status=429, retry_after=0)
                elif roll < 0.96:
                    kw = dict(action="close_before")  # costs a ~0.5 s backoff: kept rare
                else:
                    kw = dict(status=400)             # not retryable: a typed error result
                faults.append(sandbox.inject_fault("GET /v1/commerce/*", **kw))
                next_at = count + 20
            time.sleep(0.0005)

    def work(n):
        try:
            for i in range(CALLS):
                try:
                    if i % 2:
                        ok = client.stores.get(store_id).name == "Pizza"
                    else:
                        ok = client.stores.get_status(store_id).status == "online"
                    outcomes[n].append("ok" if ok else "wrong")
                except gett.GettError as exc:
                    outcomes[n].append(type(exc).__name__)
        except BaseException as exc:  # pragma: no cover - reported below
            unexpected.append(exc)

    with sandbox.client(timeout=10.0, max_retries=2, pool_size=THREADS) as client:
        injector = threading.Thread(target=inject, daemon=True)
        workers = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(THREADS)]
        started = time.monotonic()
        injector.start()
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=max(1.0, 60 - (time.monotonic() - started)))
        done.set()
        injector.join(timeout=5)
        elapsed = time.monotonic() - started
        assert not any(w.is_alive() for w in workers), "deadlock: workers still running after 60 s"
        assert unexpected == []
        results = [o for per_thread in outcomes for o in per_thread]
        assert len(results) == total
        successes = results.count("ok")
        errors = {name: results.count(name) for name in set(results) - {"ok"}}
        assert "wrong" not in errors
        assert set(errors) <= {"BadRequestError", "InternalServerError", "RateLimitError",
                               "APIConnectionError"}, errors
        hits = sum(f.hits for f in faults)
        assert hits >= total * 0.03, (hits, errors)  # faults really happened
        assert sandbox.request_count("GET /v1/commerce/*") == hits + successes
        assert client._core.idle_handles <= THREADS
        assert elapsed < 60


# ------------------------------------------------------------ hostile answers (issue 11 #3, #9)

def test_a_header_line_over_100_kb_is_a_connection_error_that_says_so(raw):
    huge = send(response_bytes(200, b"{}", headers={"X-Padding": "a" * 150_000}))
    raw.add(huge)
    with make_client(raw.url, max_retries=0) as client:
        with pytest.raises(gett.APIConnectionError, match="header line over 100 KB"):
            client.stores.get("s1")
        assert_recovers(client)
        # In a batch, only that call fails.
        raw.add(ok_json({"storeId": "a"}), huge, ok_json({"storeId": "c"}))
        batch = client.batch(concurrency=1)
        for sid in "abc":
            batch.stores.get(sid)
        results = batch.run()
        assert results[0].store_id == "a" and results[2].store_id == "c"
        assert isinstance(results[1], gett.APIConnectionError) and "100 KB" in str(results[1])


@pytest.mark.parametrize("body, what", [
    (b'{"storeId": "s1", "name": "on\\u0000line"}', r"NUL character \(raw or \\u0000\)"),
    (b'{"storeId": "s1", "na\\u0000me": "x"}', r"NUL character \(raw or \\u0000\)"),
    (b'{"storeId": "s1", "name": "on\x00line"}', r"NUL character \(raw or \\u0000\)"),
    (b'{"storeId": "s1"}\x00{"storeId": "s2"}', "followed by other bytes"),
    (b'{"storeId":\x00"s1"}', "NUL character"),
    (b'{"storeId": "s1"} x', "followed by other bytes"),
])
def test_a_nul_or_trailing_bytes_are_refused_never_truncated(raw, body, what):
    raw.add(send(response_bytes(200, body), keep_alive=True))
    with make_client(raw.url) as client:
        with pytest.raises(gett.APIConnectionError, match=what):
            client.stores.get("s1")
        assert_recovers(client)


def test_escaped_backslash_before_u0000_text_is_not_a_nul(raw):
    raw.add(send(response_bytes(200, b'{"storeId": "s1", "name": "a\\\\u0000b"}'), keep_alive=True))
    with make_client(raw.url) as client:
        assert client.stores.get("s1").name == "a\\u0000b"
