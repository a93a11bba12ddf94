"""Refcount tests: create and destroy 10,000 instances of every C type and
every model; each type's refcount must come back exactly and the number of
GC-tracked objects must stay flat.

A heap type's instances each hold a reference to the type, so a dealloc
that forgets ``Py_DECREF(type)`` (or does it twice) shows up as a drift of
10,000 (or a crash); a leaked dict or list per call shows up in
``gc.get_objects()``.  The HTTP server runs in a child process so its own
objects are not counted.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import subprocess
import sys
import textwrap
from decimal import Decimal

import pytest

import gettcommerce as gett
from gettcommerce import _core
from conftest import core_client
from gettcommerce._client import EP_GET_ONBOARDING, EP_GET_STORE, EP_GET_STORE_STATUS
from gettcommerce._samples import sample_catalogset
from gettcommerce.catalog import CatalogIssue, CatalogSet, validate_catalogset
from gettcommerce.models import Address, Amounts, Onboarding, Order, Store, StoreStatus

N = 10_000
SLACK = 64  # objects that may appear once (caches, interned keys), never per iteration

STORE = {"storeId": "s1", "name": "Pizza", "phone": "+441234", "timezone": "Europe/London",
         "logoUrl": "https://x/l.png", "description": "d", "status": "online",
         "address": {"street": "1 Road", "city": "London", "postalCode": "N1", "country": "GB"},
         "deliveryAllowed": True, "pickupAllowed": False}
STATUS = {"status": "paused", "reason": "too_busy", "pausedAt": "2026-03-11T14:30:00Z",
          "resumeAt": "2026-03-11T15:30:00Z"}
ONBOARDING = {"onboardingId": "ob1", "partnerStoreId": "p1", "status": "pending_catalog",
              "createdAt": "2026-03-11T14:30:00Z"}


def assert_flat(make, types, n=N):
    """Run ``make`` n times; type refcounts exact, tracked objects flat."""
    for _ in range(200):  # warm caches (interned keys, method caches, free lists)
        make()
    gc.collect()
    refs = {t.__name__: sys.getrefcount(t) for t in types}
    objects = len(gc.get_objects())
    for _ in range(n):
        make()
    gc.collect()
    after = {t.__name__: sys.getrefcount(t) for t in types}
    assert after == refs
    growth = len(gc.get_objects()) - objects
    assert growth < SLACK, f"{growth} more GC-tracked objects after {n} iterations"


# ------------------------------------------------------------ C types

def test_core_client_create_and_destroy():
    def make():
        c = core_client("http://127.0.0.1:9", "zpka_ref", timeout=1.0, pool_size=2)
        repr(c)
        c.idle_handles
    assert_flat(make, [_core.Client])


def test_core_client_closed_explicitly_and_failed_inits():
    def make():
        c = core_client("http://127.0.0.1:9", "zpka_ref", ca_bundle="/dev/null")
        c.close()
        c.close()
        for bad in ({"timeout": -1.0}, {"pool_size": 0}):
            try:
                core_client("http://127.0.0.1:9", "zpka_ref", **bad)
            except ValueError:
                pass
        try:
            core_client("http://127.0.0.1:9", "zpka\r\nref")
        except ValueError:
            pass
        try:
            c.request(EP_GET_STORE, ("s1",))
        except RuntimeError:
            pass  # closed
    assert_flat(make, [_core.Client, ValueError, RuntimeError])


def test_transport_error_instances():
    TE = _core.TransportError

    def make():
        e = TE("boom")
        e.kind, e.status, e.body, e.headers = "status", 500, {"a": [1]}, {"x": "y"}
        try:
            raise e
        except TE:
            pass
    assert_flat(make, [TE])


def test_transport_errors_raised_by_failed_requests():
    # Connection refused on loopback fails in microseconds: 10k real
    # TransportErrors (message, headers dict, url...) from the C core.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = core_client(f"http://127.0.0.1:{port}", "zpka_ref", max_retries=0, timeout=2.0)

    def make():
        try:
            client.request(EP_GET_STORE, ("s1",), {"x": 1}, None)
        except _core.TransportError as exc:
            assert exc.kind == "connection"
    try:
        assert_flat(make, [_core.TransportError, _core.Client])
    finally:
        client.close()


# ------------------------------------------------------------ models

@pytest.mark.parametrize("name, make, types", [
    ("Store", lambda: Store.from_dict(STORE).to_dict(), [Store, Address]),
    ("StoreStatus", lambda: StoreStatus.from_dict(STATUS, "s1").is_online, [StoreStatus]),
    ("Order", lambda: Order("o1", status="confirmed").order_id, [Order]),
    ("Onboarding", lambda: Onboarding.from_dict(ONBOARDING).to_dict(), [Onboarding]),
    ("Address", lambda: Address.from_dict(STORE["address"]).to_dict(), [Address]),
    ("Amounts", lambda: Amounts(Decimal("10.50"), taxes="1.2", tip=1).to_dict(), [Amounts]),
    ("CatalogIssue", lambda: str(CatalogIssue("dangling_reference", "error", "/a", "m")), [CatalogIssue]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_models(name, make, types):
    assert_flat(make, types)


def test_catalog_set_build_and_round_trip():
    doc = sample_catalogset().to_dict()
    raw = sample_catalogset().to_json()

    def make():
        cs = CatalogSet.from_json(raw)
        cs.to_json()
        CatalogSet.from_dict(doc).validate()
    assert_flat(make, [CatalogSet], n=2_000)  # each is a whole menu: 2k is 10k+ entities


def test_validate_catalogset_ten_thousand_calls():
    raw = sample_catalogset().to_json()
    broken = raw.replace(b'"sectionIds"', b'"sectionIdz"', 1)
    inputs = [raw, broken, b'{"catalogs": [}', "not json", {"catalogs": {}},
              sample_catalogset().to_dict()]

    def make():
        for data in inputs:
            issues = validate_catalogset(data)
            for issue in issues:
                issue.is_error
        _core.validate_catalogset(broken)
    assert_flat(make, [CatalogIssue, CatalogSet], n=N // len(inputs))
    assert validate_catalogset(broken)  # the broken input really has issues


# ------------------------------------------------------------ calls through a live server

SERVER = textwrap.dedent("""
    import json, sys, threading
    sys.path.insert(0, sys.argv[1])
    from rawserver import RawServer, response_bytes
    STORE, STATUS, ONBOARDING = (json.loads(a) for a in sys.argv[2:5])
    def answer(conn, req):
        if "missing" in req.target:
            conn.sendall(response_bytes(404, b'{"status": 404, "errorCode": "NOT_FOUND", "requestId": "r"}',
                                        content_type="application/problem+json"))
        elif req.target.endswith("/status"):
            conn.sendall(response_bytes(200, json.dumps(STATUS).encode()))
        elif "/onboarding/" in req.target:
            conn.sendall(response_bytes(200, json.dumps(ONBOARDING).encode()))
        else:
            conn.sendall(response_bytes(200, json.dumps(STORE).encode()))
        return True
    srv = RawServer()
    srv.default = answer
    srv.requests = type("NoLog", (), {"append": staticmethod(lambda r: None)})()
    print(srv.url, flush=True)
    sys.stdin.read()
""")


@pytest.fixture(scope="module")
def child_server():
    import json
    proc = subprocess.Popen([sys.executable, "-c", SERVER, os.path.dirname(__file__), json.dumps(STORE),
                             json.dumps(STATUS), json.dumps(ONBOARDING)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()  # printed once it listens
    assert url.startswith("http://"), url
    yield url
    proc.stdin.close()
    proc.wait(timeout=10)


def test_ten_thousand_sdk_calls_build_models_without_leaks(child_server):
    client = gett.Client(api_key="zpka_ref", base_url=child_server, max_retries=0)
    counter = iter(range(10 ** 9))

    def make():
        i = next(counter) % 4
        if i == 0:
            store = client.stores.get("s1")
            assert store.address.city == "London"
        elif i == 1:
            assert client.stores.get_status("s1").paused_at == dt.datetime(2026, 3, 11, 14, 30,
                                                                           tzinfo=dt.timezone.utc)
        elif i == 2:
            assert client.onboarding.get("ob1").status == "pending_catalog"
        else:
            try:
                client.stores.get("missing")
            except gett.NotFoundError as exc:
                assert exc.request_id == "r"
    try:
        assert_flat(make, [Store, StoreStatus, Onboarding, Address, gett.NotFoundError,
                           _core.TransportError, _core.Client])
    finally:
        client.close()


def test_ten_thousand_run_batch_calls(child_server):
    client = core_client(child_server, "zpka_ref", max_retries=0, timeout=5.0)
    calls = [(EP_GET_STORE, ("s1",), None, None),            # 200 -> dict
             (EP_GET_STORE, ("a/b",), None, None),           # refused locally -> ValueError
             (EP_GET_STORE_STATUS, ("s1",), {"q": 1}, None),  # 200 -> dict
             (EP_GET_ONBOARDING, ("missing",), None, None)]   # 404 -> TransportError

    def make():
        results = [None] * len(calls)
        assert client.run_batch(calls, results, concurrency=4, progress=False) is None
        assert [ok for ok, _ in results] == [True, False, True, False]
    try:
        assert_flat(make, [_core.TransportError, _core.Client, ValueError], n=N // 4)
    finally:
        client.close()
