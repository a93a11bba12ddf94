"""The place stores' claim protocol (gettcommerce/webhooks/stores.py), one contract for every store.

In memory, SQLStore on sqlite3 and on a real PostgreSQL, RedisStore on a
real redis-server; DjangoStore runs the same contract in test_contrib_django.py.
"""
from __future__ import annotations

import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from gettcommerce.errors import InvalidRequestError
from gettcommerce.webhooks import InMemoryPlacedOrderStore, RedisStore, SQLStore
from webhook_services import fresh_database, start_postgres, start_redis, wait_for

ANSWER = {"partnerOrderId": "P-1", "amounts": {"subTotal": 19.8, "total": 19.8},
          "estimatedReadyAt": "2026-01-30T12:00:00.000Z"}
OTHER = {"partnerOrderId": "P-2", "amounts": {"subTotal": 19.8, "total": 19.8}}


class StoreContract:
    """Behaviour every store must have; subclasses provide a ``store`` fixture."""

    @pytest.fixture
    def order_id(self):
        return "o-" + uuid.uuid4().hex[:12]

    def test_one_claim_then_busy_then_the_answer(self, store, order_id):
        first = store.claim(order_id, 30)
        assert first.state == "claimed" and first.token
        assert store.claim(order_id, 30).state == "busy"
        assert store.get(order_id) is None
        store.complete(order_id, first.token, ANSWER)
        again = store.claim(order_id, 30)
        assert again.state == "done" and again.answer == ANSWER
        assert store.get(order_id) == ANSWER

    def test_release_lets_a_retry_claim(self, store, order_id):
        first = store.claim(order_id, 30)
        store.release(order_id, first.token)
        second = store.claim(order_id, 30)
        assert second.state == "claimed" and second.token != first.token

    def test_unusable_answer_is_final(self, store, order_id):
        claim = store.claim(order_id, 30)
        store.complete(order_id, claim.token, None)
        assert store.claim(order_id, 30).state == "failed"
        assert store.get(order_id) is None

    def test_expired_lease_is_taken_over_once(self, store, order_id):
        dead = store.claim(order_id, 0.3)          # a worker that dies holding the claim
        assert store.claim(order_id, 30).state == "busy"
        taken = []
        wait_for(lambda: taken.append(store.claim(order_id, 30)) or taken[-1].state == "claimed",
                 "the lease to expire", timeout=30)
        assert all(c.state == "busy" for c in taken[:-1])
        # The dead worker's token no longer releases anything.
        store.release(order_id, dead.token)
        assert store.claim(order_id, 30).state == "busy"
        store.complete(order_id, taken[-1].token, ANSWER)
        assert store.claim(order_id, 30).answer == ANSWER

    def test_a_recorded_answer_is_never_overwritten(self, store, order_id):
        claim = store.claim(order_id, 30)
        assert store.complete(order_id, claim.token, ANSWER) is True
        assert store.complete(order_id, claim.token, OTHER) is False       # a second complete
        assert store.complete(order_id, claim.token, None) is False
        assert store.claim(order_id, 30).answer == ANSWER and store.get(order_id) == ANSWER
        failed = order_id + "-f"
        claim = store.claim(failed, 30)
        assert store.complete(failed, claim.token, None) is True
        assert store.complete(failed, claim.token, ANSWER) is False
        assert store.claim(failed, 30).state == "failed" and store.get(failed) is None

    def test_a_late_complete_after_a_takeover_never_overwrites(self, store, order_id):
        slow = store.claim(order_id, 0.3)          # a live worker whose lease ran out
        taken = []
        wait_for(lambda: taken.append(store.claim(order_id, 30)) or taken[-1].state == "claimed",
                 "the lease to expire", timeout=30)
        assert store.renew(order_id, slow.token, 30) is False     # its claim is gone
        assert store.complete(order_id, taken[-1].token, ANSWER) is True
        assert store.complete(order_id, slow.token, OTHER) is False
        assert store.claim(order_id, 30).answer == ANSWER and store.get(order_id) == ANSWER

    def test_renew_keeps_a_live_claim_past_its_lease(self, store, order_id):
        live = store.claim(order_id, 0.3)
        assert store.renew(order_id, live.token, 3600) is True
        assert store.renew(order_id, "not-the-token", 3600) is False
        # Another claim with the same short lease expiring proves the first lease's time is over.
        probe = store.claim(order_id + "-probe", 0.3)
        assert probe.state == "claimed"
        wait_for(lambda: store.claim(order_id + "-probe", 30).state == "claimed",
                 "the probe's lease to expire", timeout=30)
        assert store.claim(order_id, 30).state == "busy"          # renewed: still held
        assert store.complete(order_id, live.token, ANSWER) is True
        assert store.renew(order_id, live.token, 30) is False     # completed: nothing to renew
        assert store.get(order_id) == ANSWER

    def test_concurrent_claims_one_winner(self, store, order_id):
        barrier = threading.Barrier(8)

        def claim(_):
            barrier.wait()
            return store.claim(order_id, 30).state

        with ThreadPoolExecutor(8) as pool:
            states = list(pool.map(claim, range(8)))
        assert sorted(states) == ["busy"] * 7 + ["claimed"]


class TestInMemory(StoreContract):
    @pytest.fixture
    def store(self):
        return InMemoryPlacedOrderStore()

    def test_bound_and_arguments(self):
        store = InMemoryPlacedOrderStore(max_entries=2)
        for n in range(3):
            token = store.claim(f"o{n}", 30).token
            store.complete(f"o{n}", token, {"partnerOrderId": str(n)})
        assert len(store) == 2 and store.get("o0") is None and store.get("o2") == {"partnerOrderId": "2"}
        with pytest.raises(InvalidRequestError):
            InMemoryPlacedOrderStore(max_entries=0)


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        path = tmp_path / "orders.db"
        return SQLStore(lambda: sqlite3.connect(path, timeout=30))

    def test_table_is_created_once_and_shared(self, tmp_path):
        path = tmp_path / "shared.db"
        one = SQLStore(lambda: sqlite3.connect(path, timeout=30), table="placed")
        two = SQLStore(lambda: sqlite3.connect(path, timeout=30), table="placed")
        claim = one.claim("o-1", 30)
        assert two.claim("o-1", 30).state == "busy"        # another "process", same database
        one.complete("o-1", claim.token, ANSWER)
        assert two.get("o-1") == ANSWER
        assert one.prune(older_than=-1) == 1 and two.get("o-1") is None

    def test_arguments(self):
        with pytest.raises(InvalidRequestError) as info:
            SQLStore("sqlite:///orders.db")
        assert info.value.field == "connect"
        with pytest.raises(InvalidRequestError) as info:
            SQLStore(lambda: None, table="orders; DROP TABLE x")
        assert info.value.field == "table"


@pytest.fixture(scope="module")
def postgres_dsn():
    for dsn in start_postgres():
        yield fresh_database(dsn, "gett_store_contract")


@pytest.fixture(scope="module")
def redis_url():
    yield from start_redis()


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_dsn):
        import psycopg
        return SQLStore(lambda: psycopg.connect(postgres_dsn))

    def test_workers_creating_the_table_at_once(self, postgres_dsn):
        import psycopg
        barrier = threading.Barrier(6)

        def first_use(n):
            store = SQLStore(lambda: psycopg.connect(postgres_dsn), table="raced")
            barrier.wait()
            return store.claim(f"race-{n}", 30).state

        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(first_use, range(6))) == ["claimed"] * 6


class TestRedisStore(StoreContract):
    @pytest.fixture
    def store(self, redis_url):
        return RedisStore(redis_url, prefix=f"t{uuid.uuid4().hex[:6]}:")

    def test_keys_ttl_and_client(self, redis_url):
        import redis
        client = redis.Redis.from_url(redis_url)
        store = RedisStore(client, prefix="ttl:", ttl=100)
        claim = store.claim("o-1", 5)
        assert 0 < client.pttl("ttl:place:o-1") <= 5000            # the lease
        store.complete("o-1", claim.token, ANSWER)
        assert 5 < client.ttl("ttl:place:o-1") <= 100                # the answer's ttl
        assert "hunter2" not in repr(RedisStore("redis://:hunter2@127.0.0.1:1/0"))

    def test_arguments(self):
        with pytest.raises(InvalidRequestError) as info:
            RedisStore(42)
        assert info.value.field == "url_or_client"
        with pytest.raises(InvalidRequestError) as info:
            RedisStore("redis://127.0.0.1:1/0", ttl=0)
        assert info.value.field == "ttl"
