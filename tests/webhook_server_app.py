"""The partner app the multi-worker tests serve with gunicorn / uvicorn (configured by environment).

GETT_TEST_STORE picks the setup:
  redis    WSGI WebhookApp + RedisStore            (gunicorn)
  sql      WSGI WebhookApp + SQLStore on PostgreSQL (gunicorn)
  django   Django project + DjangoStore on PostgreSQL (gunicorn)
  fastapi  FastAPI + AsyncWebhookApp + RedisStore  (uvicorn)
Every on_place run is recorded in the shared database (Redis list or a
PostgreSQL table), never in a worker's memory, so the tests count real runs.
An order whose id starts with "kill-" blocks in its first on_place run (the
test SIGKILLs that worker) and gets a short lease (GETT_TEST_KILL_LEASE).
Answers carry the worker's pid in X-Worker-Pid.

    python webhook_server_app.py migrate     # django: create DjangoStore's table
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import threading
from decimal import Decimal
from typing import Any

import gettcommerce as gett

STORE = os.environ.get("GETT_TEST_STORE", "redis")
SECRET = os.environ.get("GETT_TEST_SECRET", "whsec_servers")
REDIS_URL = os.environ.get("GETT_TEST_REDIS_URL", "")
PG_DSN = os.environ.get("GETT_TEST_PG_DSN", "")
KILL_LEASE = float(os.environ.get("GETT_TEST_KILL_LEASE", "1.0"))
READY_AT = dt.datetime(2026, 1, 30, 12, 0, tzinfo=dt.timezone.utc)


class Runs:
    """on_place runs, recorded where every worker writes: Redis (redis setups) or PostgreSQL."""

    def __init__(self) -> None:
        self._local = threading.local()

    def record(self, order_id: str) -> int:
        if STORE in ("redis", "fastapi"):
            import redis
            client = getattr(self._local, "redis", None) or redis.Redis.from_url(REDIS_URL)
            self._local.redis = client
            return int(client.rpush("gett-test:runs:" + order_id, os.getpid()))
        import psycopg
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute("INSERT INTO test_runs (order_id, pid) VALUES (%s, %s)", (order_id, os.getpid()))
            return conn.execute("SELECT count(*) FROM test_runs WHERE order_id = %s", (order_id,)).fetchone()[0]


RUNS = Runs()


def on_validate(order: gett.IncomingOrder) -> gett.Amounts:
    return gett.Amounts(order.amounts.sub_total, taxes=Decimal("1.10"))


def on_place(order: gett.IncomingOrder) -> dict:
    if RUNS.record(order.order_id) == 1 and order.order_id.startswith("kill-"):
        threading.Event().wait(120)          # the test SIGKILLs this worker while it waits here
    # Decimal and datetime in the answer: written as JSON number / RFC 3339 text.
    return {"partnerOrderId": "P-" + order.order_id,
            "amounts": gett.Amounts(order.amounts.sub_total, taxes=Decimal("1.10")),
            "estimatedReadyAt": READY_AT}


class ShortLeaseForKills:
    """The real store, with a short lease for the orders the kill test uses."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def claim(self, order_id: str, lease: float) -> Any:
        return self.store.claim(order_id, KILL_LEASE if order_id.startswith("kill-") else lease)

    def complete(self, order_id: str, token: str, answer: Any) -> None:
        self.store.complete(order_id, token, answer)

    def release(self, order_id: str, token: str) -> None:
        self.store.release(order_id, token)


def with_pid(wsgi: Any) -> Any:
    def app(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list, exc_info: Any = None) -> Any:
            return start_response(status, headers + [("X-Worker-Pid", str(os.getpid()))], exc_info)
        return wsgi(environ, start)
    return app


def build() -> Any:
    if STORE == "redis":
        store = ShortLeaseForKills(gett.webhooks.RedisStore(REDIS_URL, prefix="gett-test:"))
        return with_pid(gett.WebhookApp(SECRET, on_validate=on_validate, on_place=on_place, store=store))
    if STORE == "sql":
        import psycopg
        store = ShortLeaseForKills(gett.webhooks.SQLStore(lambda: psycopg.connect(PG_DSN)))
        return with_pid(gett.WebhookApp(SECRET, on_validate=on_validate, on_place=on_place, store=store))
    if STORE == "django":
        return build_django()
    if STORE == "fastapi":
        return build_fastapi()
    raise SystemExit(f"unknown GETT_TEST_STORE {STORE!r}")


def build_django() -> Any:
    import django
    from django.conf import settings
    from urllib.parse import urlsplit
    parts = urlsplit(PG_DSN)
    settings.configure(
        DEBUG=False, SECRET_KEY="test-only", ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, USE_TZ=True,
        INSTALLED_APPS=["gettcommerce.contrib.django"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware"],
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
                               "USER": parts.username, "HOST": parts.hostname, "PORT": parts.port}},
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.urls import include, path

    from gettcommerce.contrib.django import DjangoStore, urlpatterns as gett_urls
    hooks = gett.WebhookApp(SECRET, on_validate=on_validate, on_place=on_place,
                            store=ShortLeaseForKills(DjangoStore()))
    globals()["urlpatterns"] = [path("gett/", include(gett_urls(hooks)))]
    return with_pid(get_wsgi_application())


def build_fastapi() -> Any:
    from fastapi import FastAPI, Request

    from gettcommerce.contrib.fastapi import router

    async def on_validate_async(order: gett.IncomingOrder) -> gett.Amounts:
        return on_validate(order)

    store = ShortLeaseForKills(gett.webhooks.RedisStore(REDIS_URL, prefix="gett-test:"))
    hooks = gett.AsyncWebhookApp(SECRET, on_validate=on_validate_async, on_place=on_place, store=store)
    api = FastAPI()
    api.include_router(router(hooks), prefix="/gett")

    @api.middleware("http")
    async def add_pid(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return api


application = build()

if __name__ == "__main__" and sys.argv[1:] == ["migrate"]:
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
