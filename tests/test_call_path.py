"""The sequential call path's shortcuts keep behaviour identical: a pooled
handle sets only the libcurl options that change between calls, and a
StoreStatus is read in C (straight from the parsed answer, or from a dict)
exactly as the Python reader reads it."""
from __future__ import annotations

import json

import pytest

import gettcommerce as gett
from conftest import API_KEY, Reply
from gettcommerce import _core
from gettcommerce._request import EP_GET_STORE_STATUS
from gettcommerce._resources import _read_status, _read_status_py
from gettcommerce.models import StoreStatus

STORE = {"storeId": "s1", "name": "Shop"}
ONBOARDING_STORE = {"storeId": "s9", "name": "New"}


def _answer(req):
    if req.path.endswith("/status") and req.method == "GET":
        return Reply(200, {"status": "online"})
    if req.path.startswith("/v1/commerce/orders/"):
        return Reply(200, {"ok": True})
    if req.path.endswith("/activate"):
        return Reply(200, ONBOARDING_STORE)
    if req.method == "DELETE":
        return Reply(204)
    return Reply(200, STORE)


def test_one_handle_sends_every_call_as_asked_whatever_ran_on_it_before(server):
    # Sequential calls from one thread run on one pooled libcurl handle, which
    # keeps the previous call's method, body, headers and fresh-connect
    # setting; after the batch, the next call takes a handle the batch engine
    # used (the pool is LIFO) and then keeps using it.
    server.default = _answer
    with gett.Client(api_key=API_KEY, base_url=server.url, pool_size=2, timeout=5.0) as client:
        client.stores.get_status("s1")
        client.orders.update_status("o1", status="confirmed")
        client.stores.get_status("s1")                      # the same URL as two calls ago
        client.stores.update("s1", name="Shop")
        client.onboarding.cancel("ob1")                     # DELETE, no body
        client.onboarding.activate("ob1")                   # POST, no body, fresh connection
        with client.batch() as batch:                       # handles of another engine join the pool
            batch.stores.get_status("s2")
            batch.orders.update_status("o2", status="ready")
        client.orders.update_status("o3", status="preparing")
        assert client.stores.get_status("s3").store_id == "s3"
    seen = [(r.method, r.path, r.json, r.headers.get("Content-Type")) for r in server.requests]
    assert seen[:6] == [
        ("GET", "/v1/commerce/stores/s1/status", None, None),
        ("POST", "/v1/commerce/orders/o1/status", {"status": "confirmed"}, "application/json"),
        ("GET", "/v1/commerce/stores/s1/status", None, None),
        ("PUT", "/v1/commerce/stores/s1", {"name": "Shop"}, "application/json"),
        ("DELETE", "/v1/commerce/onboarding/stores/ob1", None, None),
        ("POST", "/v1/commerce/onboarding/stores/ob1/activate", None, None),
    ]
    assert sorted(seen[6:8], key=lambda s: s[0]) == [
        ("GET", "/v1/commerce/stores/s2/status", None, None),
        ("POST", "/v1/commerce/orders/o2/status", {"status": "ready"}, "application/json"),
    ]
    assert seen[8:] == [
        ("POST", "/v1/commerce/orders/o3/status", {"status": "preparing"}, "application/json"),
        ("GET", "/v1/commerce/stores/s3/status", None, None),
    ]
    # The activate went on a connection of its own (non-idempotent: fresh).
    ports = [r.port for r in server.requests]
    assert ports[5] not in ports[:5]
    assert all(len(r.body) == int(r.headers.get("Content-Length", "0")) for r in server.requests)


def test_a_copy_and_its_parent_on_one_handle_each_keep_their_timeout(server):
    # The same handle runs the copy's call (0.3 s) and the parent's (5 s):
    # neither timeout may stick to the handle for the other's calls.
    server.default = lambda req: Reply(200, {"status": "online"}, delay=1.0)
    with gett.Client(api_key=API_KEY, base_url=server.url, pool_size=1, timeout=5.0,
                     max_retries=0) as client:
        quick = client.with_options(timeout=0.3)
        with pytest.raises(gett.APITimeoutError):
            quick.stores.get_status("s1")
        assert client.stores.get_status("s1").is_online
        with pytest.raises(gett.APITimeoutError):
            quick.stores.get_status("s1")


SLOTS = ("store_id", "status", "reason", "_paused_at", "_resume_at", "_paused_wire", "_resume_wire")

ANSWERS = {
    "online": b'{"status": "online"}',
    "paused": json.dumps({"status": "paused", "reason": "too_busy", "pausedAt": "2026-03-11T14:30:00Z",
                          "resumeAt": "2026-03-11T16:30:00+01:00", "extra": [1, {"a": None}]}).encode(),
    "repeated keys: the last wins": b'{"status": "paused", "status": "online", "reason": "x", "reason": null}',
    "values of other types": b'{"status": 5, "reason": {"why": ["a"]}, "pausedAt": 1.5, "resumeAt": false}',
    "non-ascii": '{"status": "online", "reason": "caf\u00e9 \u2603"}'.encode(),
    # Not the plain case: the Python reader decides (an error, or what it always made).
    "empty status": b'{"status": ""}',
    "null status": b'{"status": null, "reason": "x"}',
    "falsy status that require lets through": b'{"status": 0}',
    "no status": b'{"reason": "x"}',
    "an array": b'[{"status": "online"}]',
    "a string": b'"online"',
    "null": b"null",
    "empty body": b"",
}


def _slots(status: StoreStatus):
    return tuple(getattr(status, name) for name in SLOTS)


def _outcome(read):
    """('ok', slots) or ('error', type, message) of read()."""
    try:
        result = read()
    except gett.GettError as exc:
        return ("error", type(exc), str(exc))
    assert type(result) is StoreStatus
    return ("ok", _slots(result))


@pytest.mark.parametrize("body", list(ANSWERS.values()), ids=list(ANSWERS))
def test_a_store_status_is_read_alike_by_every_path(server, body):
    server.default = lambda req: Reply(200, body=body, content_type="application/json")
    request = (EP_GET_STORE_STATUS, ("s1",), None, None, _read_status, None)
    with gett.Client(api_key=API_KEY, base_url=server.url, timeout=5.0, max_retries=0) as client:
        direct = _outcome(lambda: client.stores.get_status("s1"))          # built from the cJSON tree
        copy = _outcome(lambda: client.with_options(timeout=4.0).stores.get_status("s1"))
        raw = _outcome(lambda: client.stores.with_raw_response.get_status("s1").parse())  # from a dict
        with client.batch() as batch:
            batch.stores.get_status("s1")
        result = batch.results[0]
        batched = (("error", type(result), str(result)) if isinstance(result, BaseException)
                   else ("ok", _slots(result)))
        # The Python reader, fed the same answer as a dict, through the same error mapping.
        parsed = json.loads(body) if body else None
        reference = _outcome(lambda: gett._request.settle(
            request[:4] + (_read_status_py, None), True, parsed))
    assert direct == copy == raw == batched == reference
    if body in (ANSWERS["online"], ANSWERS["paused"]):
        assert direct[0] == "ok" and direct[1][0] == "s1"


def test_the_c_reader_returns_what_the_python_reader_would_for_a_dict():
    answer = {"status": "paused", "reason": "other", "pausedAt": "2026-03-11T14:30:00Z"}
    request = (EP_GET_STORE_STATUS, ("s7",), None, None, _read_status, None)
    read = _read_status(dict(answer), request)
    assert _slots(read) == _slots(_read_status_py(dict(answer), request))
    assert read.paused_at is not None and read.paused_at.tzinfo is not None
    assert read._paused_wire is None  # parsed once, on first read
    # A model already read by the C core passes through unchanged.
    assert _read_status(read, request) is read
    # No path id: the Python reader says so (IndexError, mapped to an unexpected answer by settle).
    with pytest.raises(IndexError):
        _read_status(dict(answer), (EP_GET_STORE_STATUS, (), None, None, _read_status, None))


def test_model_reader_refuses_a_spec_it_cannot_fill():
    with pytest.raises(AttributeError):
        _core.ModelReader(StoreStatus, (("nope", "status"),), "status", None, _read_status_py)
    with pytest.raises(ValueError):
        _core.ModelReader(StoreStatus, (("status", "status"),), "missing", None, _read_status_py)
    with pytest.raises(TypeError):
        _core.ModelReader(StoreStatus, (("status", "status"),), "status", None, 42)
    with pytest.raises(TypeError):
        _read_status({"status": "online"})  # type: ignore[call-arg]
