"""The sandbox against DESIGN §2, one test per rule, over plain HTTP (no SDK client)."""
from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time

import pytest

from gettcommerce.sandbox import Sandbox, demo_catalog
from sandbox_helpers import TS_RE, Api, Partner, api, assert_problem, store_id, wait_until  # noqa: F401

S = "/v1/commerce/stores"
OB = "/v1/commerce/onboarding/stores"


def future(seconds: float) -> str:
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def register(api, partner_store_id="ps-1", url="http://127.0.0.1:9/catalog.json", **extra):
    body = {"partnerStoreId": partner_store_id, "name": "Diner", "catalogCallbackUrl": url,
            "webhookUrl": "http://127.0.0.1:9/hooks"}
    body.update(extra)
    return api.post(OB, body)


def onboard(sandbox, api, catalog=None, partner_store_id="ps-1"):
    """Register with a hosted catalog, wait for ready_to_activate, activate; returns the store."""
    resp = register(api, partner_store_id, sandbox.host_catalog(catalog or demo_catalog()))
    assert resp.status == 201, resp
    onboarding_id = resp.json["onboardingId"]
    wait_until(lambda: api.get(f"{OB}/{onboarding_id}").json["status"] == "ready_to_activate")
    activated = api.post(f"{OB}/{onboarding_id}/activate")
    assert activated.status == 200, activated
    return activated.json


# --- endpoints, auth, errors ------------------------------------------------
def test_all_eleven_endpoints_answer_with_their_success_codes(sandbox, api):
    partner = Partner()
    try:
        resp = register(api, "ps-all", sandbox.host_catalog(demo_catalog()), webhookUrl=partner.url)
        assert resp.status == 201 and resp.json["status"] == "pending_catalog" and resp.json["storeId"] is None
        oid = resp.json["onboardingId"]
        wait_until(lambda: api.get(f"{OB}/{oid}").json["status"] == "ready_to_activate")
        got = api.get(f"{OB}/{oid}")
        assert got.status == 200 and set(got.json) == {"onboardingId", "partnerStoreId", "status", "storeId",
                                                       "error", "createdAt"}
        store = api.post(f"{OB}/{oid}/activate")
        assert store.status == 200
        sid = store.json["storeId"]
        assert api.get(f"{OB}/{oid}").json == dict(got.json, status="active", storeId=sid)
        listed = api.get(S)
        assert listed.status == 200 and listed.json["stores"] == [store.json]
        assert api.get(f"{S}/{sid}").status == 200
        assert api.put(f"{S}/{sid}", {"name": "Diner 2"}).json["name"] == "Diner 2"
        assert api.get(f"{S}/{sid}/status").json == {"status": "online", "reason": None, "pausedAt": None,
                                                       "resumeAt": None}
        assert api.post(f"{S}/{sid}/status", {"status": "online"}).status == 200
        notified = api.post(f"/v1/commerce/catalogset-notification?storeId={sid}",
                            {"callbackUrl": sandbox.host_catalog(demo_catalog())})
        assert notified.status == 202 and notified.raw == b""
        order_id = sandbox.place_order(sid, ["cola"])
        updated = api.post(f"/v1/commerce/orders/{order_id}/status", {"status": "confirmed"})
        assert updated.status == 200 and updated.raw == b""
        other = register(api, "ps-other").json["onboardingId"]
        cancelled = api.delete(f"{OB}/{other}")
        assert cancelled.status == 204 and cancelled.raw == b""
        assert sandbox.request_count("* /v1/commerce/*") >= 11
    finally:
        partner.close()


def test_missing_or_wrong_key_is_401_unauthenticated(sandbox, store_id):
    for key in (None, "zpka_not_a_key"):
        anonymous = Api(sandbox.url, key)
        body = assert_problem(anonymous.get(f"{S}/{store_id}"), 401, "UNAUTHENTICATED", "authentication")
        assert "Bearer zpka_" in body["detail"]
        anonymous.close()
    basic = Api(sandbox.url, None).get(S, headers={"Authorization": "Basic abc"})
    assert_problem(basic, 401, "UNAUTHENTICATED")


def test_another_keys_store_and_onboarding_are_403_forbidden(sandbox, api, store_id):
    other = Api(sandbox.url, sandbox.add_api_key())
    body = assert_problem(other.get(f"{S}/{store_id}"), 403, "FORBIDDEN", "authorization")
    assert store_id in body["detail"] and "another partner" in body["detail"]
    assert_problem(other.post(f"{S}/{store_id}/status", {"status": "online"}), 403, "FORBIDDEN")
    assert_problem(other.put(f"{S}/{store_id}", {"name": "mine now"}), 403, "FORBIDDEN")
    assert_problem(other.post(f"/v1/commerce/catalogset-notification?storeId={store_id}",
                              {"callbackUrl": "http://127.0.0.1:9/c.json"}), 403, "FORBIDDEN")
    onboarding_id = register(api, "ps-mine").json["onboardingId"]
    for call in (other.get, other.delete, lambda path: other.post(path + "/activate")):
        assert_problem(call(f"{OB}/{onboarding_id}"), 403, "FORBIDDEN")
    assert api.get(f"{OB}/{onboarding_id}").json["status"] != "cancelled"
    # An id nobody owns stays 404, and listing shows only one's own stores.
    assert_problem(other.get(f"{S}/00000000-0000-0000-0000-000000000000"), 404, "STORE_NOT_FOUND")
    assert_problem(other.get(f"{OB}/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND")
    assert other.get(S).json == {"stores": [], "totalCount": 0, "hasMore": False}
    assert api.get(S).json["totalCount"] == 1
    assert api.get(f"{S}/{store_id}").json["name"] == "Pizza Place"


def test_problem_json_carries_every_field(api):
    body = assert_problem(api.get(f"{S}/missing"), 404, "STORE_NOT_FOUND", "not_found")
    assert body["title"] == "Not Found" and body["instance"] == f"{S}/missing"
    assert body["retryable"] is False and "missing" in body["detail"]


def test_problem_as_markdown_on_request(api):
    resp = api.get(f"{S}/missing", headers={"Accept": "text/markdown"})
    assert resp.status == 404 and resp.header("Content-Type").startswith("text/markdown")
    assert resp.raw.startswith(b"---\n") and b"errorCode: STORE_NOT_FOUND" in resp.raw


def test_malformed_json_is_400_invalid_request(api, store_id):
    body = assert_problem(api.post(f"{S}/{store_id}/status", raw=b'{"status": '), 400, "INVALID_REQUEST")
    assert "not valid JSON" in body["detail"]
    assert_problem(api.post(f"{S}/{store_id}/status", raw=b""), 400, "INVALID_REQUEST")


def test_wrong_types_are_422_with_one_error_per_problem(api):
    resp = api.post(OB, {"partnerStoreId": 5, "name": "", "catalogCallbackUrl": "ftp://x/c.json",
                         "deliveryAllowed": "yes", "timezone": "Mars/Olympus"})
    body = assert_problem(resp, 422, "VALIDATION_FAILED", "validation")
    paths = sorted(e["jsonPath"] for e in body["errors"])
    assert paths == ["$.catalogCallbackUrl", "$.deliveryAllowed", "$.name", "$.partnerStoreId", "$.timezone",
                     "$.webhookUrl"]
    assert all(set(e) >= {"code", "message", "jsonPath"} for e in body["errors"])
    assert_problem(api.post(OB, [1, 2]), 422, "VALIDATION_FAILED")


def test_body_over_10_mb_is_413(sandbox, store_id):
    conn = socket.create_connection((sandbox.host, sandbox.port))
    conn.sendall(f"PUT {S}/{store_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sandbox.api_key}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {10 * 1024 * 1024 + 1}\r\n\r\n".encode())
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    conn.close()
    answer = answer.decode()
    assert answer.startswith("HTTP/1.1 413") and "PAYLOAD_TOO_LARGE" in answer


def test_unknown_path_404_and_wrong_method_405(api):
    assert_problem(api.get("/v1/commerce/nothing"), 404, "NOT_FOUND")
    resp = api.call("PATCH", f"{S}/abc")
    assert_problem(resp, 405, "METHOD_NOT_ALLOWED")
    assert set(resp.header("Allow").split(", ")) == {"GET", "PUT"}


# --- stores -----------------------------------------------------------------
def test_list_stores_pages_with_limit_and_offset(sandbox, api):
    ids = [sandbox.create_store(partner_store_id=f"p-{i}", name=f"S{i}") for i in range(5)]
    page = api.get(f"{S}?limit=2&offset=2").json
    assert [s["storeId"] for s in page["stores"]] == ids[2:4]
    assert page["totalCount"] == 5 and page["hasMore"] is True
    assert api.get(f"{S}?limit=2&offset=4").json["hasMore"] is False
    assert len(api.get(S).json["stores"]) == 5
    body = assert_problem(api.get(f"{S}?limit=101&offset=-1"), 422, "VALIDATION_FAILED")
    assert sorted(e["jsonPath"] for e in body["errors"]) == ["$.limit", "$.offset"]
    assert_problem(api.get(f"{S}?limit=abc"), 422, "VALIDATION_FAILED")


def test_update_store_merges_and_keeps_one_fulfillment_mode(api, store_id):
    before = api.get(f"{S}/{store_id}").json
    after = api.put(f"{S}/{store_id}", {"phone": "+44 20 1234", "deliveryAllowed": False}).json
    assert after == dict(before, phone="+44 20 1234", deliveryAllowed=False)
    body = assert_problem(api.put(f"{S}/{store_id}", {"pickupAllowed": False}), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["jsonPath"] == "$.pickupAllowed"
    body = assert_problem(api.put(f"{S}/{store_id}", {"status": "paused", "timezone": "UTC"}), 422,
                          "VALIDATION_FAILED")
    assert {e["code"] for e in body["errors"]} == {"READ_ONLY_FIELD"}
    assert api.get(f"{S}/{store_id}").json == after


def test_pause_needs_reason_and_sets_paused_at(api, store_id):
    body = assert_problem(api.post(f"{S}/{store_id}/status", {"status": "paused"}), 422, "VALIDATION_FAILED")
    assert body["errors"][0]["jsonPath"] == "$.reason"
    assert_problem(api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "lunch"}), 422,
                   "VALIDATION_FAILED")
    paused = api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "too_busy"}).json
    assert paused["status"] == "paused" and paused["reason"] == "too_busy" and TS_RE.match(paused["pausedAt"])
    assert api.get(f"{S}/{store_id}").json["status"] == "paused"


def test_going_online_clears_reason_paused_at_resume_at(api, store_id):
    api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "maintenance", "resumeAt": future(3600)})
    online = api.post(f"{S}/{store_id}/status", {"status": "online"}).json
    assert online == {"status": "online", "reason": None, "pausedAt": None, "resumeAt": None}
    assert_problem(api.post(f"{S}/{store_id}/status", {"status": "online", "reason": "other"}), 422,
                   "VALIDATION_FAILED")


def test_resume_at_in_the_past_is_422(api, store_id):
    body = assert_problem(api.post(f"{S}/{store_id}/status",
                                   {"status": "paused", "reason": "other", "resumeAt": future(-5)}),
                          422, "VALIDATION_FAILED")
    assert body["errors"][0]["jsonPath"] == "$.resumeAt"
    assert_problem(api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "other",
                                                        "resumeAt": "tomorrow"}), 422, "VALIDATION_FAILED")


def test_store_resumes_on_its_own_when_resume_at_passes(api, store_id):
    paused = api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "staff_shortage",
                                                  "resumeAt": future(0.6)}).json
    assert paused["resumeAt"] is not None
    assert api.get(f"{S}/{store_id}/status").json["status"] == "paused"
    wait_until(lambda: api.get(f"{S}/{store_id}/status").json["status"] == "online", timeout=5)
    assert api.get(f"{S}/{store_id}").json["status"] == "online"
    assert api.get(f"{S}/{store_id}/status").json["pausedAt"] is None


# --- onboarding ---------------------------------------------------------------
def test_onboarding_pulls_the_catalog_over_http_and_becomes_ready(api):
    with Sandbox(ingest_delay=0.3, rate_limits=False) as sb:
        slow = Api(sb.url, sb.api_key)
        url = sb.host_catalog(demo_catalog())
        created = register(slow, "ps-slow", url)
        assert created.status == 201 and created.json["status"] == "pending_catalog"
        oid = created.json["onboardingId"]
        wait_until(lambda: slow.get(f"{OB}/{oid}").json["status"] == "catalog_ingesting", timeout=5)
        wait_until(lambda: slow.get(f"{OB}/{oid}").json["status"] == "ready_to_activate", timeout=5)
        pulls = [r for r in sb.requests if r.method == "GET" and r.path.startswith("/_sandbox/catalogs/")]
        assert len(pulls) == 1 and "catalog-puller" in pulls[0].header("User-Agent")
        slow.close()


def test_onboarding_with_a_broken_catalog_fails_naming_the_problem(sandbox, api):
    catalog = demo_catalog()
    catalog["sections"]["drinks"]["itemIds"].append("ghost")
    oid = register(api, "ps-bad", sandbox.host_catalog(catalog)).json["onboardingId"]
    failed = wait_until(lambda: (lambda o: o if o["status"] == "catalog_failed" else None)(
        api.get(f"{OB}/{oid}").json))
    assert "/sections/drinks/itemIds/2" in failed["error"] and "ghost" in failed["error"]
    oid2 = register(api, "ps-gone", sandbox.url + "/_sandbox/catalogs/nope").json["onboardingId"]
    failed2 = wait_until(lambda: (lambda o: o if o["status"] == "catalog_failed" else None)(
        api.get(f"{OB}/{oid2}").json))
    assert "404" in failed2["error"]


def test_duplicate_partner_store_id_is_409_until_cancelled(api):
    first = register(api, "ps-dup").json["onboardingId"]
    assert_problem(register(api, "ps-dup"), 409, "CONFLICT", "conflict")
    assert api.delete(f"{OB}/{first}").status == 204
    assert register(api, "ps-dup").status == 201


def test_activate_only_from_ready_to_activate(sandbox, api):
    oid = register(api, "ps-never", sandbox.url + "/_sandbox/catalogs/nope").json["onboardingId"]
    wait_until(lambda: api.get(f"{OB}/{oid}").json["status"] == "catalog_failed")
    body = assert_problem(api.post(f"{OB}/{oid}/activate"), 409, "CONFLICT")
    assert "catalog_failed" in body["detail"]
    store = onboard(sandbox, api, partner_store_id="ps-ok")
    assert re.match(r"^[0-9a-f-]{36}$", store["storeId"])
    oid_ok = api.get(f"{S}/{store['storeId']}").json["storeId"]
    assert oid_ok == store["storeId"]
    assert_problem(api.post(f"{OB}/{sandbox.store(store['storeId'])['onboardingId']}/activate"), 409, "CONFLICT")


def test_cancel_is_final_and_refused_once_active(sandbox, api):
    oid = register(api, "ps-c").json["onboardingId"]
    assert api.delete(f"{OB}/{oid}").status == 204
    assert_problem(api.get(f"{OB}/{oid}"), 404, "NOT_FOUND")
    # A repeated cancel answers 404 as Gett does (DESIGN §2: the SDK reports a
    # retried cancel answered 404 as success); it changes nothing.
    body = assert_problem(api.delete(f"{OB}/{oid}"), 404, "NOT_FOUND")
    assert "was cancelled" in body["detail"]
    assert sandbox.onboarding(oid)["status"] == "cancelled"
    assert_problem(api.post(f"{OB}/{oid}/activate"), 404, "NOT_FOUND")
    store = onboard(sandbox, api, partner_store_id="ps-live")
    active_oid = sandbox.store(store["storeId"])["onboardingId"]
    assert_problem(api.delete(f"{OB}/{active_oid}"), 409, "CONFLICT")
    assert_problem(api.get(f"{OB}/00000000-0000-0000-0000-000000000000"), 404, "NOT_FOUND")


# --- catalog notification -----------------------------------------------------
def test_catalog_notification_versions_and_keeps_the_last_good_one(sandbox, api, store_id):
    first = sandbox.catalog_history(store_id)[0]["catalogSetId"]
    changed = demo_catalog()
    changed["items"]["cola"]["basePrice"] = 3.0
    note = f"/v1/commerce/catalogset-notification?storeId={store_id}"
    assert api.post(note, {"callbackUrl": sandbox.host_catalog(changed)}).status == 202
    assert sandbox.wait_idle()
    second = sandbox.current_catalog(store_id)
    assert second["catalogSetId"] != first and second["catalog"]["items"]["cola"]["basePrice"] == 3.0
    broken = demo_catalog()
    broken["items"]["cola"]["basePrice"] = -1
    assert api.post(note, {"callbackUrl": sandbox.host_catalog(broken)}).status == 202
    assert sandbox.wait_idle()
    history = sandbox.catalog_history(store_id)
    assert [h["status"] for h in history] == ["ingested", "ingested", "failed"]
    assert history[2]["catalogSetId"] is None and "/items/cola/basePrice" in history[2]["error"]
    assert sandbox.current_catalog(store_id)["catalogSetId"] == second["catalogSetId"]


def test_catalog_notification_resolves_partner_store_id_and_checks_input(sandbox, api, store_id):
    url = sandbox.host_catalog(demo_catalog())
    assert api.post("/v1/commerce/catalogset-notification?storeId=p-1", {"callbackUrl": url}).status == 202
    sandbox.wait_idle()
    assert len(sandbox.catalog_history(store_id)) == 2
    assert_problem(api.post("/v1/commerce/catalogset-notification?storeId=nope", {"callbackUrl": url}),
                   404, "STORE_NOT_FOUND")
    body = assert_problem(api.post("/v1/commerce/catalogset-notification", {"callbackUrl": "not a url"}),
                          422, "VALIDATION_FAILED")
    assert sorted(e["jsonPath"] for e in body["errors"]) == ["$.callbackUrl", "$.storeId"]


# --- rate limits --------------------------------------------------------------
def test_rate_limit_headers_on_every_response_and_429_past_the_limit():
    with Sandbox(rate_limits={"read": 3, "write": 1, "window": 30}) as sb:
        sid = sb.create_store(partner_store_id="p", name="n")
        api = Api(sb.url, sb.api_key)
        remaining = [api.get(f"{S}/{sid}").header("X-RateLimit-Remaining") for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        reset = int(api.get(f"{S}/{sid}").header("X-RateLimit-Reset"))
        assert time.time() < reset <= time.time() + 31
        limited = api.get(f"{S}/{sid}")
        body = assert_problem(limited, 429, "RATE_LIMITED", "rate_limit")
        assert body["retryable"] is True and 1 <= body["retryAfter"] <= 30
        assert limited.header("Retry-After") == str(body["retryAfter"])
        assert api.post(f"{S}/{sid}/status", {"status": "online"}).status == 200     # writes count apart
        assert api.post(f"{S}/{sid}/status", {"status": "online"}).status == 429
        other = Api(sb.url, sb.add_api_key())                                         # per key
        assert other.get(S).status == 200
        unauth = Api(sb.url, None).get(S)
        assert unauth.status == 401 and unauth.header("X-RateLimit-Remaining") is not None
    with Sandbox(rate_limits=False) as sb:
        api = Api(sb.url, sb.api_key)
        assert all(api.post(f"{S}/x/status", {"status": "online"}).status == 404 for _ in range(150))


# --- concurrency and robustness ---------------------------------------------------
def test_200_concurrent_clients_get_correct_isolated_answers(sandbox):
    keys = [sandbox.api_key, sandbox.add_api_key()]
    stores = {k: sandbox.create_store(partner_store_id=f"p-{i}", name=f"Store {i}", api_key=k)
              for i, k in enumerate(keys)}
    errors = []
    barrier = threading.Barrier(200)

    def worker(n):
        key = keys[n % 2]
        api = Api(sandbox.url, key, timeout=30)
        try:
            barrier.wait()
            for _ in range(3):
                own = api.get(f"{S}/{stores[key]}")
                foreign = api.get(f"{S}/{stores[keys[(n + 1) % 2]]}")
                if own.status != 200 or own.json["name"] != f"Store {n % 2}" or foreign.status != 403:
                    errors.append((n, own, foreign))
        except Exception as exc:      # noqa: BLE001 - reported below
            errors.append((n, exc))
        finally:
            api.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_order_status_posts_lose_no_update(sandbox):
    partner = Partner()
    try:
        sid = sandbox.create_store(partner_store_id="p", name="n", webhook_url=partner.url)
        order_id = sandbox.place_order(sid, ["cola"])
        results = []
        steps = ["confirmed", "preparing", "ready", "inTransit"] * 10

        def post(status):
            api = Api(sandbox.url, sandbox.api_key)
            results.append((status, api.post(f"/v1/commerce/orders/{order_id}/status", {"status": status}).status))
            api.close()

        threads = [threading.Thread(target=post, args=(s,)) for s in steps]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        order = sandbox.order(order_id)
        accepted = [s for s, code in results if code == 200]
        assert {code for _, code in results} <= {200, 409}
        # Every accepted update is in the history exactly once, in a forward order.
        assert len(order["history"]) == 1 + len(accepted)
        ranks = ["pending", "confirmed", "preparing", "ready", "inTransit"]
        seen = [ranks.index(h["status"]) for h in order["history"]]
        assert seen == sorted(seen) and order["status"] == "inTransit"
    finally:
        partner.close()


def test_slow_and_garbage_clients_do_not_block_others():
    with Sandbox(connection_timeout=0.5, rate_limits=False) as sb:
        sid = sb.create_store(partner_store_id="p", name="n")
        slow = socket.create_connection((sb.host, sb.port))
        slow.sendall(b"GET /v1/commerce/stores HTTP/1.1\r\nHost: x\r\n")       # never finishes its headers
        garbage = socket.create_connection((sb.host, sb.port))
        garbage.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        api = Api(sb.url, sb.api_key)
        assert api.get(f"{S}/{sid}").status == 200
        assert b"400" in garbage.recv(4096).split(b"\r\n")[0]
        slow.settimeout(5)
        assert slow.recv(4096) == b""                       # dropped after connection_timeout
        slow.close()
        garbage.close()


def test_sequential_calls_reuse_one_keep_alive_connection(api, store_id):
    api.get(f"{S}/{store_id}")
    sock = api.conn.sock
    for _ in range(20):
        resp = api.get(f"{S}/{store_id}")
        assert resp.status == 200 and resp.header("Connection") != "close"
    assert api.conn.sock is sock
    assert api.post(f"{S}/{store_id}/status", raw=b"{bad").status == 400
    assert api.conn.sock is sock                               # errors keep the connection too


def test_docstring_examples_of_the_sandbox_run():
    import doctest
    import importlib
    import pkgutil

    import gettcommerce.sandbox as package
    attempted = 0
    for info in pkgutil.iter_modules(package.__path__):
        result = doctest.testmod(importlib.import_module(f"{package.__name__}.{info.name}"))
        assert result.failed == 0, info.name
        attempted += result.attempted
    assert attempted >= 5
