"""A focused workout of the C core for valgrind memcheck (see `make memcheck`).

Runs every C path once or a few times - requests that succeed, status
errors, connection errors, timeouts, undecodable and oversized answers,
locally refused arguments, batches, the validator, client lifecycle - so
that valgrind reports any invalid read/write, use of uninitialised memory
or definite leak in _core.  Not a pytest module: run it under valgrind

    PYTHONMALLOC=malloc valgrind --leak-check=full --errors-for-leak-kinds=definite \\
        --error-exitcode=1 --suppressions=tests/memcheck/valgrind.supp \\
        python3 tests/memcheck/memcheck.py
"""
from __future__ import annotations

import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))                    # tests/ (rawserver)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the repo (gettcommerce)

import gettcommerce as gett  # noqa: E402
from gettcommerce import _core  # noqa: E402
from gettcommerce._client import EP_GET_STORE, EP_LIST_STORES, EP_ORDER_STATUS  # noqa: E402
from gettcommerce._samples import sample_catalogset  # noqa: E402
from gettcommerce.catalog import validate_catalogset  # noqa: E402
from rawserver import RawServer, hang, ok_json, reset, response_bytes, send  # noqa: E402

KEY = "zpka_memcheck_0123456789"
CORE = dict(timeout=30.0, connect_timeout=10.0, max_retries=2, max_response_bytes=1 << 20,
            ca_bundle=None, pool_size=8, proxy=None)


def core_client(url, key=KEY, ua="ua/1", **kw):
    return _core.Client(url, key, ua, **dict(CORE, **kw))


def expect(exc_type, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc_type:
        return
    raise AssertionError(f"{fn!r} did not raise {exc_type.__name__}")


def requests(raw: RawServer) -> None:
    with gett.Client(api_key=KEY, base_url=raw.url, max_retries=1, timeout=10) as client:
        for _ in range(3):
            raw.add(ok_json({"storeId": "s1", "name": "Pizza", "address": {"city": "L"}}))
            assert client.stores.get("s1").name == "Pizza"
            raw.add(send(response_bytes(200, b""), keep_alive=True))
            client.orders.update_status("o1", status="ready")          # JSON body, empty answer
        raw.add(send(response_bytes(404, b'{"errorCode": "NOT_FOUND", "requestId": "r"}'), keep_alive=True))
        expect(gett.NotFoundError, client.stores.get, "missing")
        raw.add(send(response_bytes(503, b"", headers={"Retry-After": "0"}), keep_alive=True),
                ok_json({"status": "online"}))
        client.stores.get_status("s1")                                  # retried once
        raw.add(reset(), reset(), reset())  # libcurl re-sends once on a reused connection
        expect(gett.APIConnectionError, client.stores.get, "s1")
        raw.add(send(response_bytes(200, b'{"a": "tru'), keep_alive=True))
        expect(gett.APIConnectionError, client.stores.get, "s1")        # truncated JSON
        raw.add(send(response_bytes(200, b'{"name": "\xff", "k\xfe": 1}'), keep_alive=True))
        client._request(EP_GET_STORE, ("s1",))                          # invalid UTF-8 replaced
        raw.add(send(response_bytes(200, b"[" * 1000 + b"]" * 1000), keep_alive=True))
        client._request(EP_GET_STORE, ("s1",))                          # deepest accepted
        raw.add(send(response_bytes(500, b"[" * 1001 + b"]" * 1001), keep_alive=True),
                send(response_bytes(500, b"[" * 1001 + b"]" * 1001), keep_alive=True))
        expect(gett.InternalServerError, client.stores.get, "s1")       # too deep: body as text
        raw.add(send(response_bytes(200, b"{" * 5000), keep_alive=True))
        expect(gett.APIConnectionError, client.stores.get, "s1")        # over cJSON's nesting cap
        raw.add(send(response_bytes(200, b'{"name": "a\\u0000b"}'), keep_alive=True))
        expect(gett.APIConnectionError, client.stores.get, "s1")        # NUL refused, not truncated
        raw.add(send(response_bytes(200, b"{}", headers={"X-Big": "a" * 120_000})))
        expect(gett.APIConnectionError, client.stores.get, "s1")        # header line over 100 KB
        raw.add(send(response_bytes(429, b'{"retryAfter": 0}', headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                     keep_alive=True),
                send(response_bytes(429, b"", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                     keep_alive=True),
                send(response_bytes(429, b"", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
                     keep_alive=True))
        expect(gett.RateLimitError, client.stores.get, "s1")            # retry_after from body and date
        expect(gett.InvalidRequestError, client._request, EP_ORDER_STATUS, ("o1",), None,
               {"a\0b": 1})                                              # NUL in a key
        expect(gett.InvalidRequestError, client.stores.get, "a/b")      # refused locally
        expect(gett.InvalidRequestError, client._request, EP_ORDER_STATUS, ("o1",), None,
               {"bad": object()})                                       # unconvertible body
        client._request(EP_LIST_STORES, (), {"limit": 5, "offset": None, "q": "a b\r\n"})
    with gett.Client(api_key=KEY, base_url=raw.url, max_response_bytes=1000) as small:
        raw.add(send(response_bytes(200, b'"' + b"x" * 5000 + b'"'), keep_alive=True))
        expect(gett.APIConnectionError, small.stores.get, "s1")         # over max_response_bytes
    with gett.Client(api_key=KEY, base_url=raw.url, timeout=0.5, max_retries=0) as slow:
        raw.add(hang(raw.stop))
        expect(gett.APITimeoutError, slow.stores.get, "s1")


def refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with gett.Client(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=1) as client:
        expect(gett.APIConnectionError, client.stores.get, "s1")


def batch(raw: RawServer) -> None:
    with gett.Client(api_key=KEY, base_url=raw.url, max_retries=1) as client:
        raw.default = ok_json({"storeId": "b"})
        raw.add(send(response_bytes(404, b'{"errorCode": "NOT_FOUND"}'), keep_alive=True))
        b = client.batch(concurrency=3)
        for i in range(8):
            b.stores.get(f"s{i}")
        b.orders.update_status("o1", status="ready")
        b.stores.get("bad/id")                                          # refused in C: its result
        results = b.run()
        assert len(results) == 10 and len(b.errors) == 2, b.errors
        core = client._core
        out = [None] * 3
        core.run_batch([(EP_GET_STORE, ("s1",), None, None), (EP_GET_STORE, ("x/y",), None, None),
                        (EP_GET_STORE, ("s2",), {"q": 1}, None)], out, concurrency=2, progress=False)
        assert [ok for ok, _ in out] == [True, False, True]
        assert core.run_batch([], [], concurrency=1, progress=False) is None
        calls = []

        class Clears(str):
            def __str__(self):
                calls.clear()
                return "1"
        calls.extend([(EP_LIST_STORES, (), {"limit": Clears("x")}, None), (EP_GET_STORE, ("s3",), None, None)])
        out = [None, None]
        core.run_batch(calls, out, concurrency=2, progress=False)      # owns its references
        assert [ok for ok, _ in out] == [True, True]


def lifecycle(raw: RawServer) -> None:
    for _ in range(5):
        c = core_client(raw.url, ca_bundle="/dev/null", pool_size=2)
        repr(c)
        c.close()
        c.close()
        expect(RuntimeError, c.request, EP_GET_STORE, ("s1",))
    expect(ValueError, core_client, raw.url, "k\r\n", "ua")
    expect(ValueError, core_client, raw.url, KEY, "ua", timeout=-1.0)
    expect(TypeError, _core.Client, raw.url, KEY)
    expect(TypeError, _core.Client, raw.url, KEY, "ua", timeout=1.0)  # the other keywords are required
    os.environ["https_proxy"] = raw.url
    for proxy in (None, "", "http://127.0.0.1:9"):
        core_client("https://127.0.0.1:9", proxy=proxy).close()     # proxy decided at creation
    del os.environ["https_proxy"]
    expect(ValueError, core_client, raw.url, proxy="http://127.0.0.1:9")
    c = core_client(raw.url)
    c.request(EP_GET_STORE, ("s1",))
    del c                                                               # dealloc with a pooled handle


def validator() -> None:
    raw = sample_catalogset().to_json()
    broken = raw.replace(b'"sectionIds"', b'"sectionIdz"', 1)
    for data in (raw, broken, b'{"catalogs": [}', b"", b"[]", "{}", sample_catalogset().to_dict(),
                 b'{"sections": {"a": {"sectionId": "a", "name": "x", "sectionIds": ["a"], "itemIds": []}}}',
                 b"[" * 3000):
        for issue in validate_catalogset(data):
            str(issue)
    expect(TypeError, _core.validate_catalogset, 42)


def main() -> None:
    with RawServer() as raw:
        requests(raw)
        batch(raw)
        lifecycle(raw)
    refused()
    validator()
    print("memcheck workout done")


if __name__ == "__main__":
    main()
