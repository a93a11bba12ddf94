"""Place deduplication on real multi-worker deployments (issue 13).

gunicorn (4 sync workers: WebhookApp + RedisStore, WebhookApp + SQLStore on
PostgreSQL, Django + DjangoStore on PostgreSQL) and uvicorn (4 workers:
FastAPI + AsyncWebhookApp + RedisStore), each against a real Redis /
PostgreSQL started here.  on_place runs are counted in the database.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

import pytest

from gettcommerce.webhooks import sign
from webhook_services import AppServer, fresh_database, need_module, start_postgres, start_redis, wait_for

SECRET = "whsec_servers"
KILL_LEASE = 1.0      # seconds: the short lease webhook_server_app gives "kill-" orders
SETUPS = [("gunicorn", "redis"), ("gunicorn", "sql"), ("gunicorn", "django"), ("uvicorn", "fastapi")]


@pytest.fixture(scope="module")
def redis_url():
    yield from start_redis()


@pytest.fixture(scope="module")
def postgres():
    yield from start_postgres()


@pytest.fixture(scope="module", params=SETUPS, ids=[f"{s}-{k}" for s, k in SETUPS])
def deployment(request):
    server_kind, store = request.param
    if store == "fastapi":
        need_module("fastapi", "fastapi")
    if store == "django":
        need_module("django", "django")
    env = {"GETT_TEST_STORE": store, "GETT_TEST_SECRET": SECRET, "GETT_TEST_KILL_LEASE": str(KILL_LEASE)}
    counter: Any
    if store in ("redis", "fastapi"):
        import redis
        env["GETT_TEST_REDIS_URL"] = request.getfixturevalue("redis_url")
        client = redis.Redis.from_url(env["GETT_TEST_REDIS_URL"])
        counter = lambda order_id: client.llen("gett-test:runs:" + order_id)  # noqa: E731
    else:
        import psycopg
        dsn = fresh_database(request.getfixturevalue("postgres"), f"gett_{store}")
        env["GETT_TEST_PG_DSN"] = dsn
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE test_runs (order_id TEXT NOT NULL, pid INTEGER NOT NULL)")

        def counter(order_id: str) -> int:
            with psycopg.connect(dsn, autocommit=True) as conn:
                return conn.execute("SELECT count(*) FROM test_runs WHERE order_id = %s",
                                    (order_id,)).fetchone()[0]
        if store == "django":
            subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "webhook_server_app.py"),
                            "migrate"], env=dict(os.environ, **env), check=True)
    server = AppServer(server_kind, env)
    server.runs = counter
    yield server
    server.close()


def body_for(order_id: str) -> bytes:
    return json.dumps({"order": {"orderId": order_id, "storeId": "st-1", "fulfillmentType": "pickup",
                                 "items": [{"lineItemId": "l1", "itemId": "burger", "quantity": 2}],
                                 "amounts": {"subTotal": 19.8}},
                       "user": {"name": "Dana"}, "paymentToken": "tok"}).encode()


def expected_answer(order_id: str) -> Dict[str, Any]:
    return {"partnerOrderId": "P-" + order_id, "amounts": {"subTotal": 19.8, "taxes": 1.1, "total": 20.9},
            "estimatedReadyAt": "2026-01-30T12:00:00.000Z"}


def post(url: str, raw: bytes, *, timeout: float = 30) -> Tuple[int, Dict[str, str], Optional[dict]]:
    """One signed delivery on its own connection (as Gett's retries would be)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=raw, headers=sign(raw, SECRET))
        response = conn.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, \
            json.loads(payload) if payload else None
    finally:
        conn.close()


def is_retryable_refusal(status: int, answer: Optional[dict]) -> bool:
    return (status == 409 and answer is not None and answer.get("retryable") is True
            and answer.get("errorCode") == "ORDER_PLACEMENT_IN_PROGRESS")


def test_200_concurrent_deliveries_place_each_order_once(deployment):
    run = uuid.uuid4().hex[:8]
    orders = [f"c{run}-{n}" for n in range(20)]
    deliveries = [order_id for order_id in orders for _ in range(10)]
    random.Random(7).shuffle(deliveries)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda o: (o, post(deployment.url + "/place", body_for(o))), deliveries))

    assert len(results) == 200
    for order_id, (status, _, answer) in results:
        assert (status == 200 and answer == expected_answer(order_id)) or is_retryable_refusal(status, answer), \
            (order_id, status, answer)
    assert sum(deployment.runs(o) for o in orders) == 20
    assert all(deployment.runs(o) == 1 for o in orders)
    for order_id in orders:      # Gett's final retry gets the stored answer
        status, headers, answer = post(deployment.url + "/place", body_for(order_id))
        assert status == 200 and answer == expected_answer(order_id)
        assert headers.get("idempotent-replayed") == "true"
    assert sum(deployment.runs(o) for o in orders) == 20


def test_replay_with_fresh_timestamp_to_another_worker(deployment):
    order_id = f"r{uuid.uuid4().hex[:8]}"
    raw = body_for(order_id)
    status, headers, answer = post(deployment.url + "/place", raw)
    assert status == 200 and answer == expected_answer(order_id)
    first_worker = headers["x-worker-pid"]
    seen = {}

    def replayed_elsewhere() -> bool:
        # post() signs again: same body, fresh Timestamp, as a replay would be
        status, headers, answer = post(deployment.url + "/place", raw)
        seen[headers["x-worker-pid"]] = (status, answer, headers.get("idempotent-replayed"))
        return headers["x-worker-pid"] != first_worker

    wait_for(replayed_elsewhere, "a delivery answered by another worker", timeout=60)
    assert all(v == (200, expected_answer(order_id), "true") for v in seen.values()), seen
    assert deployment.runs(order_id) == 1


def test_worker_killed_inside_on_place(deployment):
    order_id = f"kill-{uuid.uuid4().hex[:8]}"
    raw = body_for(order_id)
    sent = time.time()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post, deployment.url + "/place", raw, timeout=60)
        wait_for(lambda: deployment.runs(order_id) == 1, "on_place entered")
        pid = worker_in_on_place(deployment, order_id)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            pending.result()
    # While the dead worker's lease runs, a redelivery is refused as retryable;
    # after it, one redelivery claims the order, runs on_place once and succeeds.

    def placed() -> bool:
        status, _, answer = post(deployment.url + "/place", raw)
        assert status == 200 or is_retryable_refusal(status, answer), (status, answer)
        return status == 200 and answer == expected_answer(order_id)

    wait_for(placed, "a redelivery after the lease", timeout=60)
    # The claim was taken after `sent`, so its lease cannot have ended before sent + KILL_LEASE:
    # a success earlier would mean the dead worker's claim was ignored.
    assert time.time() >= sent + KILL_LEASE
    assert deployment.runs(order_id) == 2        # the killed run and the one that succeeded
    status, _, answer = post(deployment.url + "/place", raw)
    assert status == 200 and answer == expected_answer(order_id) and deployment.runs(order_id) == 2


def worker_in_on_place(deployment, order_id: str) -> int:
    """The pid of the worker that recorded the run (read from the same database)."""
    env = deployment.env
    if env["GETT_TEST_STORE"] in ("redis", "fastapi"):
        import redis
        client = redis.Redis.from_url(env["GETT_TEST_REDIS_URL"])
        return int(client.lindex("gett-test:runs:" + order_id, 0))
    import psycopg
    with psycopg.connect(env["GETT_TEST_PG_DSN"], autocommit=True) as conn:
        return conn.execute("SELECT pid FROM test_runs WHERE order_id = %s", (order_id,)).fetchone()[0]
