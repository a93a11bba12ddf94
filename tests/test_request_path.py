"""Regressions of the request path: listings that cycle, broken listing
answers, base URLs libcurl would refuse on every call, long RFC 3339 fractions."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading

import pytest

import gettcommerce as gett
from gettcommerce import _core
from gettcommerce._client import EP_GET_STORE
from gettcommerce._wire import parse_rfc3339
from conftest import API_KEY, Reply


def _page(first: int, count: int = 2, **extra):
    return dict({"stores": [{"storeId": f"s{first + i}", "name": "n"} for i in range(count)],
                 "hasMore": True}, **extra)


def test_a_listing_whose_pages_alternate_stops_with_a_typed_error(server, client):
    # Pages A, B, A, B... each differs from the one before: only the set of
    # ids seen so far shows that nothing new comes.
    server.default = lambda req: Reply(200, _page(0 if len(server.requests) % 2 else 2))
    with pytest.raises(gett.APIConnectionError, match="list_stores.*all seen on earlier pages"):
        client.stores.list()
    assert len(server.requests) == 3


def test_a_listing_stops_at_total_count_even_if_has_more_says_otherwise(server, client):
    server.default = lambda req: Reply(200, _page(int(req.query["offset"]), totalCount=4))
    stores = client.stores.list()
    assert [s.store_id for s in stores] == ["s0", "s1", "s2", "s3"]
    assert len(server.requests) == 2


@pytest.mark.parametrize("body", [b"", b"null", b"{}"], ids=["empty", "null", "object"])
def test_an_empty_listing_answer_is_an_error_naming_the_call(server, client, body):
    server.default = lambda req: Reply(200, body=body, content_type="application/json")
    with pytest.raises(gett.APIConnectionError, match="list_stores"):
        client.stores.list()


@pytest.mark.parametrize("body", [{"stores": [], "hasMore": False}, []], ids=["object", "array"])
def test_an_explicitly_empty_listing_is_no_stores(server, client, body):
    server.default = lambda req: Reply(200, body)
    assert client.stores.list() == []


# Bad base URLs (control characters, ports, ';'): test_client.py::test_a_bad_base_url_is_refused_at_construction


def test_every_trailing_slash_of_base_url_is_stripped(server):
    with gett.Client(api_key=API_KEY, base_url=server.url + "/prefix//") as client:
        server.default = lambda req: Reply(200, {"stores": [], "hasMore": False})
        client.stores.list()
    assert server.requests[0].path == "/prefix/v1/commerce/stores"


@pytest.mark.parametrize("text,micro", [("2026-01-15T12:00:00.1234567891Z", 123456),
                                        ("2026-01-15T12:00:00.123456789012345+00:00", 123456)])
def test_rfc3339_accepts_any_number_of_fractional_digits(text, micro):
    assert parse_rfc3339(text) == dt.datetime(2026, 1, 15, 12, 0, 0, micro, tzinfo=dt.timezone.utc)


# ------------------------------------------------ a handler's exception is never disguised

class Deadline(Exception):
    pass


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
@pytest.mark.parametrize("exc", [RuntimeError("handler"), ValueError("handler"), TypeError("handler"),
                                 Deadline("handler")], ids=lambda e: type(e).__name__)
def test_a_signal_handlers_exception_during_a_call_comes_out_unchanged(server, client, exc):
    arrived, release = threading.Event(), threading.Event()

    def answer(req):
        arrived.set()
        release.wait(10)
        return Reply(200, {"storeId": "s1", "name": "n"})

    def handler(signum, frame):
        raise exc

    def send_signal():
        if arrived.wait(10):
            signal.pthread_kill(main, signal.SIGUSR1)

    server.default = answer
    main = threading.get_ident()
    previous = signal.signal(signal.SIGUSR1, handler)
    sender = threading.Thread(target=send_signal)
    sender.start()
    try:
        with pytest.raises(type(exc)) as info:
            client.stores.get("s1")
    finally:
        release.set()
        sender.join(10)
        signal.signal(signal.SIGUSR1, previous)
    assert info.value is exc and not isinstance(info.value, gett.GettError)


class _Raising(logging.Handler):
    def emit(self, record):
        raise RuntimeError("log handler")


def test_a_logging_handlers_exception_during_a_call_comes_out_unchanged(server, client):
    server.default = lambda req: Reply(200, {"storeId": "s1", "name": "n"})
    logger = logging.getLogger("gettcommerce")
    handler, level = _Raising(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with pytest.raises(RuntimeError, match="log handler") as info:
            client.stores.get("s1")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert not isinstance(info.value, gett.GettError)


def test_the_cores_own_refusals_are_still_invalid_request_errors(server):
    client = gett.Client(api_key=API_KEY, base_url=server.url)
    client.close()
    with pytest.raises(gett.InvalidRequestError, match="closed"):
        client.stores.get("s1")
    with pytest.raises(_core.ClientClosedError):
        client._core.request(EP_GET_STORE, ("s1",))
    with gett.Client(api_key=API_KEY, base_url=server.url) as client:
        with pytest.raises(_core.LocalError, match="store_id"):
            client._core.request(EP_GET_STORE, ("a/b",))
    assert server.requests == []
