"""A minimal single-file Django shop that receives Gett orders and pushes their status.

Run it:

    pip install django gettcommerce
    export GETT_API_KEY=zpka_...  GETT_WEBHOOK_SECRET=whsec_...
    python examples/django_app.py migrate           # DjangoStore's table (once)
    python examples/django_app.py runserver 8000

Gett POSTs ``/gett/validate`` and ``/gett/place`` (register the store with
``webhook_url="https://your.host/gett"``).  In a real project the three
parts below live in settings.py, a ``gett.py`` module and urls.py.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading
import uuid
from decimal import Decimal

import django
from django.conf import settings

# ---- settings.py ---------------------------------------------------------
settings.configure(
    DEBUG=os.environ.get("DJANGO_DEBUG") == "1",
    SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "change-me"),
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    # gettcommerce.contrib.django holds DjangoStore's model: every worker of
    # the project (gunicorn -w 4, several machines) shares place records
    # through the project's database.
    INSTALLED_APPS=["gettcommerce.contrib.django"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": os.environ.get("DJANGO_DB", "gett-shop.sqlite3")}},
    # CsrfViewMiddleware stays on: the Gett views are csrf-exempt by design
    # (Gett authenticates with its HMAC signature, not a cookie).
    MIDDLEWARE=["django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware"],
    LOGGING={"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
             "loggers": {"gettcommerce": {"handlers": ["console"], "level": "INFO"},
                         "django-shop": {"handlers": ["console"], "level": "INFO"}}},
)
django.setup()

# ---- gett.py -------------------------------------------------------------
import gettcommerce as gett  # noqa: E402  (after settings, as Django needs)
from gettcommerce.contrib.django import DjangoStore, urlpatterns as gett_urlpatterns  # noqa: E402

log = logging.getLogger("django-shop")
TAX_RATE = Decimal("0.17")
client = gett.Client()            # GETT_API_KEY / GETT_BASE_URL from the environment


def on_validate(order: gett.IncomingOrder) -> gett.Amounts:
    taxes = (order.amounts.sub_total * TAX_RATE).quantize(Decimal("0.01"))
    return gett.Amounts(order.amounts.sub_total, taxes=taxes, tip=order.amounts.tip)


def on_place(order: gett.IncomingOrder) -> dict:
    # A real shop saves the order in its database here, inside a transaction.
    pos_id = "DJ-" + uuid.uuid4().hex[:8].upper()
    log.info("placed %s as %s (%d lines)", order.order_id, pos_id, len(order.items))
    threading.Thread(target=accept, args=(order,), daemon=True).start()
    return {"partnerOrderId": pos_id}


def accept(incoming: gett.IncomingOrder) -> None:
    order = incoming.order()
    try:
        order.confirm(estimated_ready_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20))
        order.start_preparing()
    except gett.GettError:
        log.exception("could not update order %s", incoming.order_id)


webhooks = gett.WebhookApp(os.environ["GETT_WEBHOOK_SECRET"], on_validate=on_validate,
                           on_place=on_place, client=client, store=DjangoStore())

# ---- urls.py -------------------------------------------------------------
from django.urls import include, path  # noqa: E402

urlpatterns = [path("gett/", include(gett_urlpatterns(webhooks)))]


if __name__ == "__main__":
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
