"""Where WebhookApp records placed orders: the claim protocol and its stores.

Gett retries ``place`` when it gets no answer in time, and a captured
delivery can be re-sent with a fresh (unsigned) Timestamp.  What keeps the
partner's POS from creating the order twice is this record, keyed by
``orderId`` and shared by every worker that receives webhooks:

1. ``claim(order_id, lease)`` before ``on_place`` runs.  Exactly one caller
   gets ``Claim.claimed`` (with a token); the others get ``Claim.done``
   (the stored answer: replay it), ``Claim.failed`` (the handler ran but its
   answer was unusable: never run it again) or ``Claim.busy`` (another
   worker is running the handler now: answer a retryable refusal).
2. ``renew(order_id, token, lease)`` every ``lease / 3`` seconds while the
   handler runs: a slow but live worker keeps its claim (False: the claim
   is no longer this token's).
3. ``complete(order_id, token, answer)`` after the handler returned: the
   answer (JSON-ready dict, or None when it was unusable) is kept for
   ``ttl`` and replayed to every later delivery.  A recorded answer is
   never overwritten: complete() returns False and keeps the first one.
4. ``release(order_id, token)`` when the handler raised: nothing was
   placed, so Gett's retry may run it again.

A worker that dies inside ``on_place`` neither renews, completes nor
releases; its claim expires after ``lease`` seconds and the next delivery
claims again.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Protocol, Tuple

from .._wire import dumps
from ..errors import InvalidRequestError

__all__ = ["Claim", "PlacedOrderStore", "InMemoryPlacedOrderStore", "RedisStore", "SQLStore",
           "DEFAULT_TTL", "as_claim_store", "new_token", "claim_of_row", "encode_answer",
           "BUSY_CLAIM", "FAILED_CLAIM"]

DEFAULT_TTL = 7 * 24 * 3600       # how long an answer is kept for replays (Gett retries for hours)

CLAIMED, DONE, FAILED, BUSY = "claimed", "done", "failed", "busy"


class Claim(NamedTuple):
    """What ``claim()`` found: ``state`` is one of claimed / done / failed / busy.

    ``token`` identifies a ``claimed`` claim (pass it to complete/release);
    ``answer`` is the stored answer of a ``done`` order.
    """

    state: str
    token: Optional[str] = None
    answer: Optional[Dict[str, Any]] = None

    @classmethod
    def claimed(cls, token: str) -> "Claim":
        return cls(CLAIMED, token=token)

    @classmethod
    def done(cls, answer: Dict[str, Any]) -> "Claim":
        return cls(DONE, answer=answer)


FAILED_CLAIM = Claim(FAILED)
BUSY_CLAIM = Claim(BUSY)


class PlacedOrderStore(Protocol):
    """The claim protocol (see the module docstring); every method may block on I/O.

    Stores written for earlier versions, with only ``get(order_id)`` /
    ``set(order_id, answer)`` (and optionally ``lock(order_id)``), keep
    working: WebhookApp holds their lock around get -> on_place -> set
    (under AsyncWebhookApp, store calls run in worker threads, so such a
    lock must allow release from another thread; threading.Lock does).
    """

    def claim(self, order_id: str, lease: float) -> Claim:
        """Atomically take the right to run on_place for ``order_id`` for ``lease`` seconds."""

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        """Record the handler's answer (None: it ran but its answer was unusable).

        Records it while ``token`` holds the claim, or when no answer is
        recorded yet; never overwrites a recorded answer.  True when this
        answer is now the recorded one, False when an earlier one stays.
        """

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        """Extend ``token``'s claim to ``lease`` seconds from now; False if it no longer holds it.

        Optional: a store without it gets no heartbeat (a handler slower
        than the lease may then run twice).
        """

    def release(self, order_id: str, token: str) -> None:
        """Give a claim back without an answer: the handler failed, a retry may run it."""


def new_token() -> str:
    return uuid.uuid4().hex


def _check_ttl(ttl: Any) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1:
        raise InvalidRequestError(f"ttl must be a whole number of seconds >= 1, not {ttl!r}",
                                  field="ttl", value=ttl)
    return ttl


def encode_answer(answer: Optional[Dict[str, Any]]) -> Optional[str]:
    return None if answer is None else dumps(answer).decode("utf-8")


def claim_of_row(row: Optional[Tuple[Any, ...]], now: float) -> Optional[Claim]:
    """What a claim finds in an existing SQL row ``(state, token, lease_until, answer)``.

    None means the row is a claim whose lease ran out: the caller takes it
    over (conditionally on the old token).  No row at all means it was
    released in between: busy, and Gett's retry claims it.
    """
    if row is None:
        return BUSY_CLAIM
    state, _, lease_until, answer = row
    if state == DONE:
        return Claim.done(json.loads(answer))
    if state == FAILED:
        return FAILED_CLAIM
    if lease_until is not None and lease_until > now:
        return BUSY_CLAIM
    return None


# ---------------------------------------------------------------- in memory

class InMemoryPlacedOrderStore:
    """The default store: one process only (a thread-safe dict, oldest entries dropped).

    Right for a single process (``WebhookApp.serve()``, one gunicorn worker,
    tests).  Several workers or machines need a shared store (RedisStore,
    SQLStore, DjangoStore), or each worker would place its own copy.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidRequestError(f"max_entries must be an int >= 1, not {max_entries!r}",
                                      field="max_entries", value=max_entries)
        self.max_entries = max_entries
        self._entries: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        self._claims: Dict[str, Tuple[str, float]] = {}     # order_id -> (token, lease end)
        self._failed: "OrderedDict[str, None]" = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, order_id: str, lease: float) -> Claim:
        now = time.monotonic()
        with self._lock:
            if order_id in self._entries:
                return Claim.done(self._entries[order_id])
            if order_id in self._failed:
                return FAILED_CLAIM
            held = self._claims.get(order_id)
            if held is not None and held[1] > now:
                return BUSY_CLAIM
            token = new_token()
            self._claims[order_id] = (token, now + lease)
            return Claim.claimed(token)

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        with self._lock:
            if order_id in self._entries or order_id in self._failed:
                return False      # never overwrite a recorded answer
            self._claims.pop(order_id, None)
            if answer is None:
                self._failed[order_id] = None
                self._trim(self._failed)
            else:
                self._store(order_id, answer)
            return True

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        with self._lock:
            if self._claims.get(order_id, ("",))[0] != token:
                return False
            self._claims[order_id] = (token, time.monotonic() + lease)
            return True

    def release(self, order_id: str, token: str) -> None:
        with self._lock:
            if self._claims.get(order_id, ("",))[0] == token:
                del self._claims[order_id]

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        """The stored answer for ``order_id``, or None."""
        with self._lock:
            return self._entries.get(order_id)

    def set(self, order_id: str, response: Dict[str, Any]) -> None:
        """Store an answer directly (e.g. to import answers given before a restart)."""
        with self._lock:
            self._store(order_id, response)

    def _store(self, order_id: str, response: Dict[str, Any]) -> None:
        self._entries[order_id] = response
        self._entries.move_to_end(order_id)
        self._trim(self._entries)

    def _trim(self, entries: "OrderedDict[str, Any]") -> None:
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# ---------------------------------------------------------------- legacy get/set stores

class _LockedGetSetStore:
    """Runs a get/set(/lock) store of earlier versions under the claim protocol.

    Its ``lock(order_id)`` context manager (when it has one) is entered by
    ``claim`` and left by ``complete``/``release``, so it spans get ->
    on_place -> set as before.  Such a store has no lease: a worker that dies
    holding the lock leaves it to the lock's own expiry.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self._held: Dict[str, Any] = {}
        self._guard = threading.Lock()

    def claim(self, order_id: str, lease: float) -> Claim:
        lock = getattr(self.store, "lock", None)
        manager = lock(order_id) if callable(lock) else contextlib.nullcontext()
        manager.__enter__()
        try:
            stored = self.store.get(order_id)
        except BaseException:
            manager.__exit__(*sys.exc_info())
            raise
        if stored is not None:
            manager.__exit__(None, None, None)
            return Claim.done(stored)
        token = new_token()
        with self._guard:
            self._held[token] = manager
        return Claim.claimed(token)

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        try:
            if answer is not None:
                self.store.set(order_id, answer)
        finally:
            self.release(order_id, token)
        return True

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        with self._guard:
            return token in self._held      # no lease: the lock is held until complete/release

    def release(self, order_id: str, token: str) -> None:
        with self._guard:
            manager = self._held.pop(token, None)
        if manager is not None:
            manager.__exit__(None, None, None)


def as_claim_store(store: Any) -> Any:
    """``store`` itself when it speaks the claim protocol, else a wrapper for get/set stores."""
    if all(callable(getattr(store, name, None)) for name in ("claim", "complete", "release")):
        # renew() is optional (stores written before it get no heartbeat).
        return store
    if callable(getattr(store, "get", None)) and callable(getattr(store, "set", None)):
        return _LockedGetSetStore(store)
    raise InvalidRequestError("store must have claim(order_id, lease), complete(order_id, token, answer) "
                              "and release(order_id, token) (or get/set) methods",
                              field="store", value=store)


# ---------------------------------------------------------------- Redis

# KEYS[1] = the order's key.  Values: "R:<token>" while claimed (expires
# with the lease), "D:<json>" once done, "F:" when the answer was unusable
# (both kept for the TTL).
_REDIS_COMPLETE = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) ~= 'R:' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if v == 'R:' .. ARGV[3] then return 1 end
return 2
"""
_REDIS_RENEW = """
if redis.call('GET', KEYS[1]) == 'R:' .. ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_REDIS_RELEASE = """
if redis.call('GET', KEYS[1]) == 'R:' .. ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore:
    """Place records in Redis, shared by every worker and machine using that Redis.

    ``url_or_client`` is a ``redis://`` URL or a ``redis.Redis`` client
    (redis-py).  A claim is ``SET key NX PX lease``; the answer replaces it
    with a ``ttl`` (seconds) through a Lua script that never overwrites a
    recorded answer.  Keys are ``{prefix}place:{orderId}``.

    >>> store = RedisStore("redis://127.0.0.1:6379/0")   # connects on first use
    >>> store.key("o-1")
    'gett:place:o-1'
    """

    def __init__(self, url_or_client: Any, *, prefix: str = "gett:", ttl: int = DEFAULT_TTL) -> None:
        if not isinstance(prefix, str):
            raise InvalidRequestError(f"prefix must be a str, not {type(prefix).__name__}",
                                      field="prefix", value=prefix)
        self.prefix: str = prefix
        self.ttl: int = _check_ttl(ttl)
        # A redis.Redis (redis-py is optional) or any client with its set/get/eval.
        self.client: Any
        if isinstance(url_or_client, str):
            try:
                import redis
            except ImportError:   # pragma: no cover - depends on the environment
                raise ImportError("RedisStore needs redis-py: pip install redis") from None
            self.client = redis.Redis.from_url(url_or_client)
        elif callable(getattr(url_or_client, "set", None)) and callable(getattr(url_or_client, "eval", None)):
            self.client = url_or_client
        else:
            raise InvalidRequestError("RedisStore needs a redis:// URL or a redis.Redis client, not "
                                      f"{type(url_or_client).__name__}", field="url_or_client")

    def __repr__(self) -> str:
        return f"<RedisStore prefix={self.prefix!r} ttl={self.ttl}>"   # the URL may hold a password

    def key(self, order_id: str) -> str:
        return f"{self.prefix}place:{order_id}"

    def claim(self, order_id: str, lease: float) -> Claim:
        key = self.key(order_id)
        token = new_token()
        if self.client.set(key, "R:" + token, nx=True, px=max(1, int(lease * 1000))):
            return Claim.claimed(token)
        return self._existing(self.client.get(key))

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        value = "F:" if answer is None else "D:" + (encode_answer(answer) or "")
        return int(self.client.eval(_REDIS_COMPLETE, 1, self.key(order_id), value, self.ttl, token)) != 0

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        return int(self.client.eval(_REDIS_RENEW, 1, self.key(order_id), token,
                                    max(1, int(lease * 1000)))) == 1

    def release(self, order_id: str, token: str) -> None:
        self.client.eval(_REDIS_RELEASE, 1, self.key(order_id), token)

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        """The stored answer for ``order_id``, or None."""
        return self._existing(self.client.get(self.key(order_id))).answer

    @staticmethod
    def _existing(value: Any) -> Claim:
        if value is None:
            return BUSY_CLAIM      # the claim expired between SET and GET: the retry claims
        text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
        if text.startswith("D:"):
            return Claim.done(json.loads(text[2:]))
        if text.startswith("F:"):
            return FAILED_CLAIM
        return BUSY_CLAIM


# ---------------------------------------------------------------- SQL (DB-API)

_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class SQLStore:
    """Place records in one SQL table, through any DB-API connection factory.

    ``connect`` is a callable returning a new DB-API connection: for example
    ``lambda: sqlite3.connect("orders.db", timeout=30)`` or
    ``lambda: psycopg.connect("postgresql://...")``.  Each thread of each
    process opens one connection on first use and keeps it.  The table
    (``gett_placed_orders`` by default) is created if missing; a claim is an
    ``INSERT ... ON CONFLICT DO NOTHING`` on the ``order_id`` primary key, so
    the database itself decides which delivery runs ``on_place``.  An
    expired claim is taken over by a conditional UPDATE.  Lease times are
    the workers' wall clocks: keep the machines' clocks in sync (NTP).
    Tested with sqlite3 and PostgreSQL (psycopg 3); qmark, format and
    pyformat parameter styles are understood.

    >>> import sqlite3
    >>> store = SQLStore(lambda: sqlite3.connect(":memory:"))
    >>> store.claim("o-1", lease=30).state, store.claim("o-1", lease=30).state
    ('claimed', 'busy')
    """

    def __init__(self, connect: Callable[[], Any], *, table: str = "gett_placed_orders") -> None:
        if not callable(connect):
            raise InvalidRequestError("SQLStore needs a connection factory: a callable returning a "
                                      f"DB-API connection, not {type(connect).__name__}", field="connect")
        if not isinstance(table, str) or not _TABLE_NAME.fullmatch(table):
            raise InvalidRequestError(f"table must be a plain SQL identifier, not {table!r}",
                                      field="table", value=table)
        self.connect = connect
        self.table = table
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<SQLStore table={self.table!r}>"

    # -- protocol --------------------------------------------------------

    def claim(self, order_id: str, lease: float) -> Claim:
        token = new_token()
        now = time.time()
        with self._cursor() as (cur, q):
            cur.execute(q(f"INSERT INTO {self.table} (order_id, state, token, lease_until, updated_at) "
                          "VALUES (?, 'running', ?, ?, ?) ON CONFLICT (order_id) DO NOTHING"),
                        (order_id, token, now + lease, now))
            if cur.rowcount == 1:
                return Claim.claimed(token)
            cur.execute(q(f"SELECT state, token, lease_until, answer FROM {self.table} WHERE order_id = ?"),
                        (order_id,))
            row = cur.fetchone()
            found = claim_of_row(row, now)
            if found is not None:
                return found
            # The holder's lease ran out (it died mid-handler): take over, unless another did first.
            held = row[1]
            cur.execute(q(f"UPDATE {self.table} SET token = ?, lease_until = ?, updated_at = ? "
                          "WHERE order_id = ? AND state = 'running' AND token = ?"),
                        (token, now + lease, now, order_id, held))
            return Claim.claimed(token) if cur.rowcount == 1 else BUSY_CLAIM

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        state = "failed" if answer is None else "done"
        with self._cursor() as (cur, q):
            # Only a row still running (no answer yet) is updated: a recorded answer is never overwritten.
            cur.execute(q(f"UPDATE {self.table} SET state = ?, answer = ?, token = NULL, lease_until = NULL, "
                          "updated_at = ? WHERE order_id = ? AND state = 'running'"),
                        (state, encode_answer(answer), time.time(), order_id))
            if cur.rowcount == 1:
                return True
            # The claim was taken over and given back meanwhile: record the answer unless one is.
            cur.execute(q(f"INSERT INTO {self.table} (order_id, state, answer, updated_at) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING"),
                        (order_id, state, encode_answer(answer), time.time()))
            return cur.rowcount == 1

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        now = time.time()
        with self._cursor() as (cur, q):
            cur.execute(q(f"UPDATE {self.table} SET lease_until = ?, updated_at = ? "
                          "WHERE order_id = ? AND state = 'running' AND token = ?"),
                        (now + lease, now, order_id, token))
            return cur.rowcount == 1

    def release(self, order_id: str, token: str) -> None:
        with self._cursor() as (cur, q):
            cur.execute(q(f"DELETE FROM {self.table} WHERE order_id = ? AND state = 'running' AND token = ?"),
                        (order_id, token))

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        """The stored answer for ``order_id``, or None."""
        with self._cursor() as (cur, q):
            cur.execute(q(f"SELECT answer FROM {self.table} WHERE order_id = ? AND state = 'done'"),
                        (order_id,))
            row = cur.fetchone()
        return None if row is None else json.loads(row[0])

    def prune(self, older_than: float) -> int:
        """Delete answers recorded more than ``older_than`` seconds ago; returns how many."""
        with self._cursor() as (cur, q):
            cur.execute(q(f"DELETE FROM {self.table} WHERE state <> 'running' AND updated_at < ?"),
                        (time.time() - older_than,))
            return cur.rowcount

    # -- connections -----------------------------------------------------

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Tuple[Any, Callable[[str], str]]]:
        conn, quote = self._connection()
        try:
            cur = conn.cursor()
            try:
                yield cur, quote
            finally:
                cur.close()
            conn.commit()
        except BaseException:
            self._drop(conn)
            raise

    def _connection(self) -> Tuple[Any, Callable[[str], str]]:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1], held[2]
        # A connection is never shared by two threads, nor inherited across fork().
        conn = self.connect()
        quote = _placeholder_style(conn)
        try:
            self._create_table(conn, quote)
        except BaseException:
            self._drop(conn)
            raise
        self._local.held = (os.getpid(), conn, quote)
        return conn, quote

    def _drop(self, conn: Any) -> None:
        self._local.held = None
        with contextlib.suppress(Exception):
            conn.rollback()
        with contextlib.suppress(Exception):
            conn.close()

    def _create_table(self, conn: Any, quote: Callable[[str], str]) -> None:
        create = (f"CREATE TABLE IF NOT EXISTS {self.table} ("
                  "order_id VARCHAR(255) PRIMARY KEY, state VARCHAR(16) NOT NULL, token VARCHAR(64), "
                  "lease_until DOUBLE PRECISION, answer TEXT, updated_at DOUBLE PRECISION NOT NULL)")
        cur = conn.cursor()
        try:
            cur.execute(create)
            conn.commit()
        except Exception:
            # Two workers creating the table at once: PostgreSQL lets one win and
            # raises in the other.  The table exists either way; check it does.
            conn.rollback()
            cur.execute(f"SELECT 1 FROM {self.table} WHERE 1 = 0")
            conn.commit()
        finally:
            cur.close()


def _placeholder_style(conn: Any) -> Callable[[str], str]:
    """A function turning this module's ``?`` placeholders into the driver's paramstyle."""
    module = sys.modules.get(type(conn).__module__.split(".")[0])
    style = getattr(module, "paramstyle", "qmark")
    if style == "qmark":
        return lambda sql: sql
    if style in ("format", "pyformat"):
        return lambda sql: sql.replace("?", "%s")
    raise InvalidRequestError(f"SQLStore supports qmark, format and pyformat drivers, not {style!r} "
                              f"({type(conn).__module__})", field="connect")

