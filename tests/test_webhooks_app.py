"""WebhookApp: routing, verification, handlers, refusals, problem answers, place dedupe (webhooks/app.py)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from gettcommerce.errors import InvalidRequestError
from gettcommerce.webhooks import InMemoryPlacedOrderStore, ItemUnavailable, OrderRejected, WebhookApp, sign
from webhook_helpers import (SECRET, app, assert_problem, deliver, encode, order_body,  # noqa: F401
                             recorder)
from webhook_services import wait_for

class TestWebhookApp:
    def test_validate_returns_amounts(self, app, recorder):
        status, headers, answer = deliver(app, "/validate", order_body())
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert answer == {"amounts": {"subTotal": 23.1, "taxes": 1.85, "fees": 2, "tip": 2.5, "total": 29.45}}
        assert recorder.validated[0].kind == "validate"

    def test_place_returns_partner_order_id(self, app, recorder):
        status, _, answer = deliver(app, "/gett/place", order_body(paymentToken="tok"))
        assert status == 200
        assert answer == {"partnerOrderId": "POS-1", "amounts": {"subTotal": 23.1, "tip": 2.5, "total": 25.6}}
        assert recorder.placed[0].payment_token == "tok"

    def test_place_dict_answer(self):
        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts,
                         on_place=lambda o: {"partnerOrderId": 991, "amounts": {"subTotal": 10, "taxes": 0.8},
                                             "estimatedReadyAt": "2026-01-30T12:00:00Z"})
        status, _, answer = deliver(app, "/place", order_body())
        assert status == 200
        assert answer == {"partnerOrderId": "991", "amounts": {"subTotal": 10, "taxes": 0.8, "total": 10.8},
                          "estimatedReadyAt": "2026-01-30T12:00:00Z"}

    @pytest.mark.parametrize("path, kind", [("/validate", "validate"), ("/a/b/validate/", "validate"),
                                            ("place", "place"), ("/gett/place?x=1", "place")])
    def test_routing_prefixes(self, app, recorder, path, kind):
        assert deliver(app, path, order_body())[0] == 200
        assert len(getattr(recorder, "validated" if kind == "validate" else "placed")) == 1

    def test_unknown_path_404(self, app, recorder):
        status, _, problem = deliver(app, "/gett/refund", order_body())
        assert status == 404
        assert_problem(problem, 404, "NOT_FOUND")
        assert problem["instance"] == "/gett/refund"
        assert not recorder.validated and not recorder.placed

    def test_non_post_405(self, app):
        status, headers, problem = deliver(app, "/validate", b"", method="GET")
        assert status == 405 and headers["Allow"] == "POST"
        assert_problem(problem, 405, "METHOD_NOT_ALLOWED")

    @pytest.mark.parametrize("case", ["wrong_secret", "missing", "stale", "tampered"])
    def test_bad_signature_401_never_calls_handlers(self, app, recorder, case, caplog):
        raw = encode(order_body())
        headers = sign(raw, SECRET)
        if case == "wrong_secret":
            headers = sign(raw, "not-the-secret")
        elif case == "missing":
            headers = {"Content-Type": "application/json"}
        elif case == "stale":
            headers = sign(raw, SECRET, timestamp=int(time.time()) - 3600)
        else:
            raw = raw.replace(b"burger", b"BURGER")
        for path in ("/validate", "/place"):
            with caplog.at_level(logging.WARNING, logger="gettcommerce.webhooks"):
                status, headers_out, problem = deliver(app, path, raw, headers=headers)
            assert status == 401 and headers_out["Content-Type"] == "application/problem+json"
            assert_problem(problem, 401, "UNAUTHENTICATED")
            assert problem["errorCategory"] == "authentication"
        assert not recorder.validated and not recorder.placed
        assert "refused" in caplog.text and SECRET not in caplog.text

    def test_malformed_body_400(self, app, recorder):
        body = order_body()
        body["order"]["items"][0]["quantity"] = -3
        status, headers, problem = deliver(app, "/validate", body)
        assert status == 400 and headers["Content-Type"] == "application/problem+json"
        assert_problem(problem, 400, "INVALID_REQUEST")
        assert "order.items[0].quantity" in problem["detail"]
        status, _, problem = deliver(app, "/place", b"not json")
        assert status == 400 and "not valid JSON" in problem["detail"]
        assert not recorder.validated and not recorder.placed

    def test_item_unavailable(self, recorder):
        def on_validate(order):
            raise ItemUnavailable(["cheddar", order.items[1], {"itemId": "ghost", "message": "gone"}])

        app = WebhookApp(SECRET, on_validate=on_validate, on_place=recorder.on_place)
        status, _, problem = deliver(app, "/validate", order_body())
        assert status == 400
        assert_problem(problem, 400, "ITEM_UNAVAILABLE")
        assert problem["errorCategory"] == "availability" and problem["retryable"] is False
        assert problem["errors"] == [
            {"code": "ITEM_UNAVAILABLE", "itemId": "cheddar", "message": "item cheddar is unavailable",
             "jsonPath": "$.order.items[0].modifierGroups[0].selectedModifiers[0]"},
            {"code": "ITEM_UNAVAILABLE", "itemId": "fries", "message": "item fries is unavailable",
             "jsonPath": "$.order.items[1]"},
            {"code": "ITEM_UNAVAILABLE", "itemId": "ghost", "message": "gone"},
        ]
        assert problem["detail"] == "Unavailable: cheddar, fries, ghost"

    def test_order_rejected_other_code(self, recorder):
        def on_place(order):
            raise OrderRejected("Kitchen closed", error_code="STORE_CLOSED", error_category="availability")

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=on_place)
        status, _, problem = deliver(app, "/place", order_body())
        assert status == 400 and problem["errorCode"] == "STORE_CLOSED" and problem["detail"] == "Kitchen closed"
        assert "errors" not in problem

    def test_handler_exception_500_without_traceback(self, recorder, caplog):
        def on_validate(order):
            raise RuntimeError("db password=hunter2 at /srv/app/pricing.py")

        app = WebhookApp(SECRET, on_validate=on_validate, on_place=recorder.on_place)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            status, _, problem = deliver(app, "/validate", order_body())
        assert status == 500
        assert_problem(problem, 500, "INTERNAL_ERROR")
        assert problem["retryable"] is True
        text = json.dumps(problem)
        assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
        assert problem["requestId"] in problem["detail"]
        # ...but the partner's log has the whole story, keyed by the same requestId.
        record = next(r for r in caplog.records if r.name == "gettcommerce.webhooks")
        assert record.exc_info and "hunter2" in caplog.text and problem["requestId"] in caplog.text

    @pytest.mark.parametrize("bad", [None, "12.00", {"tax": 1}])
    def test_validate_unusable_answer_500(self, recorder, bad, caplog):
        app = WebhookApp(SECRET, on_validate=lambda o: bad, on_place=recorder.on_place)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            status, _, problem = deliver(app, "/validate", order_body())
        assert status == 500 and problem["errorCode"] == "INTERNAL_ERROR"
        assert "must return gett.Amounts" in caplog.text

    @pytest.mark.parametrize("bad", [None, "", True, {"amounts": {}}])
    def test_place_unusable_answer_500_and_not_stored(self, bad):
        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: bad)
        assert deliver(app, "/place", order_body())[0] == 500
        assert app.store.get("ord-1") is None

    def test_validate_accepts_dict(self):
        app = WebhookApp(SECRET, on_validate=lambda o: {"amounts": {"subTotal": 5, "fees": 1}},
                         on_place=lambda o: "x")
        assert deliver(app, "/validate", order_body())[2] == {"amounts": {"subTotal": 5, "fees": 1, "total": 6}}

    def test_body_too_large_413(self, recorder):
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place,
                         max_body_bytes=100)
        status, _, problem = deliver(app, "/validate", order_body())
        assert status == 413 and problem["errorCode"] == "PAYLOAD_TOO_LARGE"
        assert not recorder.validated

    def test_constructor_checks(self, recorder):
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp("", on_validate=recorder.on_validate, on_place=recorder.on_place)
        assert info.value.field == "secret"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate="nope", on_place=recorder.on_place)
        assert info.value.field == "on_validate"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=object())
        assert info.value.field == "store"
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, tolerance=0)
        assert info.value.field == "tolerance"
        assert SECRET not in repr(WebhookApp(SECRET, on_validate=recorder.on_validate,
                                             on_place=recorder.on_place))

    def test_rotated_secrets_and_custom_tolerance(self, recorder):
        app = WebhookApp(["new", "old"], on_validate=recorder.on_validate, on_place=recorder.on_place,
                         tolerance=5)
        assert deliver(app, "/validate", order_body(), secret="old")[0] == 200
        raw = encode(order_body())
        assert deliver(app, "/validate", raw, headers=sign(raw, "new", timestamp=int(time.time()) - 60))[0] == 401

    def test_client_is_handed_to_orders(self, recorder):
        sentinel = object()
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, client=sentinel)
        deliver(app, "/place", order_body())
        assert recorder.placed[0].client is sentinel


class TestPlaceDedupe:
    def test_repeated_place_calls_on_place_once(self, app, recorder):
        first = deliver(app, "/place", order_body())
        second = deliver(app, "/place", order_body())
        assert first[0] == second[0] == 200
        assert first[2] == second[2] == {"partnerOrderId": "POS-1",
                                         "amounts": {"subTotal": 23.1, "tip": 2.5, "total": 25.6}}
        assert len(recorder.placed) == 1
        assert second[1].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[1]
        # Another order is placed normally; validate is never deduplicated.
        other = order_body()
        other["order"]["orderId"] = "ord-2"
        assert deliver(app, "/place", other)[2]["partnerOrderId"] == "POS-2"
        deliver(app, "/validate", order_body())
        deliver(app, "/validate", order_body())
        assert len(recorder.validated) == 2

    def test_concurrent_duplicates_call_on_place_once(self, app, recorder):
        recorder.place_delay = 0.2   # wide window: both deliveries arrive while the first is in on_place
        barrier = threading.Barrier(8)

        def one(_):
            barrier.wait()
            return deliver(app, "/place", order_body())

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(one, range(8)))
        assert len(recorder.placed) == 1
        assert {r[2]["partnerOrderId"] for r in results} == {"POS-1"}
        assert all(r[0] == 200 for r in results)
        assert not app._place_locks._locks   # per-order locks are dropped once free

    def test_different_orders_run_in_parallel(self):
        inside = threading.Barrier(4, timeout=10)   # passes only if 4 handlers run at once

        def on_place(order):
            inside.wait()
            return "POS-" + order.order_id

        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
        bodies = [order_body(orderId=f"par-{n}") for n in range(4)]
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda b: deliver(app, "/place", b), bodies))
        assert [r[2]["partnerOrderId"] for r in results] == [f"POS-par-{n}" for n in range(4)]

    def test_failed_place_is_retried(self, recorder):
        calls = []

        def flaky(order):
            calls.append(order.order_id)
            if len(calls) == 1:
                raise ConnectionError("POS down")
            return "POS-ok"

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=flaky)
        assert deliver(app, "/place", order_body())[0] == 500
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-ok"
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-ok"
        assert len(calls) == 2

    def test_pluggable_store_with_lock(self, recorder):
        class DictStore:
            def __init__(self):
                self.data, self.locked = {}, []

            def get(self, order_id):
                raw = self.data.get(order_id)
                return json.loads(raw) if raw else None

            def set(self, order_id, response):
                self.data[order_id] = json.dumps(response)   # what a Redis store would do

            def lock(self, order_id):
                self.locked.append(order_id)
                return threading.Lock()

        store = DictStore()
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=store)
        deliver(app, "/place", order_body())
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-1"
        assert len(recorder.placed) == 1 and store.locked == ["ord-1", "ord-1"]
        assert json.loads(store.data["ord-1"])["partnerOrderId"] == "POS-1"

    def test_store_get_failure_is_500_not_a_duplicate(self, recorder, caplog):
        class Broken:
            def get(self, order_id):
                raise OSError("redis unreachable")

            def set(self, order_id, response):
                raise AssertionError("never reached")

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=Broken())
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            assert deliver(app, "/place", order_body())[0] == 500
        assert not recorder.placed and "redis unreachable" in caplog.text

    def test_in_memory_store_bound(self):
        store = InMemoryPlacedOrderStore(max_entries=2)
        for n in range(3):
            store.set(f"o{n}", {"partnerOrderId": str(n)})
        assert len(store) == 2 and store.get("o0") is None and store.get("o2") == {"partnerOrderId": "2"}
        with pytest.raises(InvalidRequestError):
            InMemoryPlacedOrderStore(max_entries=0)



def test_store_returning_unusable_answer_is_500(recorder):
    class Odd:
        def get(self, order_id):
            return {"partnerOrderId": object()}

        def set(self, order_id, response):
            raise AssertionError("never reached")

    app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=Odd())
    status, _, problem = deliver(app, "/place", order_body())
    assert status == 500 and problem["errorCode"] == "INTERNAL_ERROR"
    assert not recorder.placed


class TestPlaceRunsOnce:
    """Issue 13: a handler that ran is never run again for its orderId."""

    def test_decimal_and_datetime_answer_serialise_and_replay(self, caplog):
        calls = []

        def on_place(order):
            calls.append(order.order_id)
            return {"partnerOrderId": "POS-9", "amounts": {"subTotal": Decimal("23.10"), "fees": Decimal("2.5")},
                    "estimatedReadyAt": dt.datetime(2026, 1, 30, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                    "deposit": Decimal("5.00")}

        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
        answers = [deliver(app, "/place", order_body()) for _ in range(5)]
        expected = {"partnerOrderId": "POS-9", "amounts": {"subTotal": 23.1, "fees": 2.5, "total": 25.6},
                    "estimatedReadyAt": "2026-01-30T12:00:00.000Z", "deposit": 5}
        assert [a[0] for a in answers] == [200] * 5 and all(a[2] == expected for a in answers)
        assert calls == ["ord-1"]       # before the fix: five POS orders, one per retry

    @pytest.mark.parametrize("bad", [{"partnerOrderId": "P", "when": dt.datetime(2026, 1, 1)},   # naive
                                     {"partnerOrderId": "P", "x": object()}, None, {"amounts": {}}])
    def test_invalid_answer_logged_500_and_never_rerun(self, bad, caplog):
        calls = []

        def on_place(order):
            calls.append(order.order_id)
            return bad

        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            first = deliver(app, "/place", order_body())
            again = deliver(app, "/place", order_body())
        assert first[0] == again[0] == 500
        assert_problem(first[2], 500, "INTERNAL_ERROR")
        assert first[2]["retryable"] is False and again[2]["retryable"] is False
        assert calls == ["ord-1"]
        assert "unusable answer" in caplog.text and "not running it again" in caplog.text

    def test_raising_handler_is_released_for_the_retry(self):
        calls = []

        def on_place(order):
            calls.append(order.order_id)
            if len(calls) == 1:
                raise OrderRejected("Kitchen closed", error_code="STORE_CLOSED")
            return "POS-ok"

        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place)
        assert deliver(app, "/place", order_body())[0] == 400
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-ok"
        assert len(calls) == 2

    def test_duplicate_in_another_worker_gets_retryable_409(self):
        """Two apps sharing one store stand for two workers sharing Redis/SQL."""
        store = InMemoryPlacedOrderStore()
        entered, finish = threading.Event(), threading.Event()
        calls = []

        def on_place(order):
            calls.append(order.order_id)
            entered.set()
            assert finish.wait(10)
            return "POS-1"

        worker_a = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=store)
        worker_b = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=store)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(deliver, worker_a, "/place", order_body())
            assert entered.wait(10)
            status, headers, problem = deliver(worker_b, "/place", order_body())
            assert status == 409 and headers["Retry-After"] == "1"
            assert_problem(problem, 409, "ORDER_PLACEMENT_IN_PROGRESS")
            assert problem["retryable"] is True
            finish.set()
            assert first.result()[0] == 200
        status, headers, answer = deliver(worker_b, "/place", order_body())
        assert status == 200 and answer["partnerOrderId"] == "POS-1" and headers["Idempotent-Replayed"] == "true"
        assert calls == ["ord-1"]

    def test_a_handler_slower_than_the_lease_runs_once(self, caplog):
        """The worker renews its claim while on_place runs: no second worker runs it meanwhile."""
        store = InMemoryPlacedOrderStore()
        entered, finish = threading.Event(), threading.Event()
        calls = []

        def on_place(order):
            calls.append(order.order_id)
            if len(calls) == 1:
                entered.set()
                assert finish.wait(30)     # a slow but live POS call
            return f"POS-{len(calls)}"

        worker_a = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=store,
                              lease=0.3)
        worker_b = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=store,
                              lease=0.3)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(deliver, worker_a, "/place", order_body())
            assert entered.wait(10)
            # A probe claim with the same lease expiring proves worker A's first lease is over.
            store.claim("probe", 0.3)
            wait_for(lambda: store.claim("probe", 30).state == "claimed", "the probe's lease to end",
                     timeout=30)
            status, headers, problem = deliver(worker_b, "/place", order_body())
            assert status == 409 and problem["retryable"] is True
            finish.set()
            status, _, answer = first.result()
            assert status == 200 and answer["partnerOrderId"] == "POS-1"
        status, headers, answer = deliver(worker_b, "/place", order_body())
        assert status == 200 and answer["partnerOrderId"] == "POS-1" and headers["Idempotent-Replayed"] == "true"
        assert calls == ["ord-1"]

    def test_a_late_answer_is_logged_and_never_replaces_the_recorded_one(self, caplog):
        store = InMemoryPlacedOrderStore()
        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=lambda o: "POS-late", store=store)
        original_claim = store.claim

        def claim_then_lose_it(order_id, lease):
            found = original_claim(order_id, lease)
            # Another worker records its answer meanwhile (as if this lease had run out).
            store.complete(order_id, "someone-else", {"partnerOrderId": "POS-first", "amounts": {"subTotal": 1}})
            return found

        store.claim = claim_then_lose_it
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            deliver(app, "/place", order_body())
        store.claim = original_claim
        assert store.get("ord-1")["partnerOrderId"] == "POS-first"
        assert any("POS-late" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
        assert deliver(app, "/place", order_body())[2]["partnerOrderId"] == "POS-first"

    def test_a_lost_claim_is_logged_while_the_handler_runs(self, caplog):
        class LosingStore(InMemoryPlacedOrderStore):
            def renew(self, order_id, token, lease):
                return False       # e.g. the process stalled past its lease and another took over

        def on_place(order):
            wait_for(lambda: any("lost the claim" in r.getMessage() for r in caplog.records),
                     "the heartbeat to report the lost claim", timeout=30)
            return "POS-1"

        app = WebhookApp(SECRET, on_validate=lambda o: o.amounts, on_place=on_place, store=LosingStore(),
                         lease=0.3)
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            assert deliver(app, "/place", order_body())[0] == 200
        lost = [r for r in caplog.records if "lost the claim" in r.getMessage()]
        assert len(lost) == 1 and lost[0].levelno == logging.ERROR and "ord-1" in lost[0].getMessage()

    def test_dead_workers_claim_expires_after_the_lease(self, recorder):
        store = InMemoryPlacedOrderStore()
        store.claim("ord-1", 0.3)            # a worker that died inside on_place
        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=store,
                         lease=30)
        statuses = []

        def placed():
            statuses.append(deliver(app, "/place", order_body())[0])
            return statuses[-1] == 200

        wait_for(placed, "the dead claim's lease to end", timeout=30)
        assert set(statuses[:-1]) <= {409} and len(recorder.placed) == 1

    @pytest.mark.parametrize("lease", [0, -1, float("nan"), float("inf"), "60", True])
    def test_lease_argument(self, recorder, lease):
        with pytest.raises(InvalidRequestError) as info:
            WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, lease=lease)
        assert info.value.field == "lease"

    def test_store_claim_failure_is_500_and_runs_nothing(self, recorder, caplog):
        class Down:
            def claim(self, order_id, lease):
                raise OSError("redis unreachable")

            complete = release = claim

        app = WebhookApp(SECRET, on_validate=recorder.on_validate, on_place=recorder.on_place, store=Down())
        with caplog.at_level(logging.ERROR, logger="gettcommerce.webhooks"):
            status, _, problem = deliver(app, "/place", order_body())
        assert status == 500 and problem["retryable"] is True
        assert not recorder.placed and "redis unreachable" in caplog.text



class TestHostileTimestamp:
    """A Timestamp too big for a float is refused like any bad Timestamp, never a 500."""

    def test_a_huge_timestamp_is_answered_401_by_handle(self, app, recorder):
        raw = encode(order_body())
        headers = sign(raw, SECRET)
        headers["Timestamp"] = "9" * 400
        status, out_headers, payload = app.handle("POST", "/place", headers, raw)
        problem = json.loads(payload)
        assert status == 401 and dict(out_headers)["Content-Type"] == "application/problem+json"
        assert_problem(problem, 401, "UNAUTHENTICATED")
        assert "invalid Timestamp header" in problem["detail"]
        assert not recorder.placed

    def test_a_huge_timestamp_is_answered_401_by_wsgi(self, app, recorder):
        import io
        import sys
        raw = encode(order_body())
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/place", "CONTENT_LENGTH": str(len(raw)),
                   "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr,
                   "HTTP_SIGNATURE": sign(raw, SECRET)["Signature"], "HTTP_TIMESTAMP": "9" * 400}
        started = []
        payload = b"".join(app(environ, lambda status, headers, *exc: started.append((status, headers))))
        assert started[0][0].startswith("401 ")
        assert_problem(json.loads(payload), 401, "UNAUTHENTICATED")
        assert not recorder.placed
