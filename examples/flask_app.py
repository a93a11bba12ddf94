"""A minimal Flask shop that receives Gett orders and pushes their status.

Run it:

    pip install flask gettcommerce
    export GETT_API_KEY=zpka_...  GETT_WEBHOOK_SECRET=whsec_...
    flask --app examples/flask_app.py run --port 8000
    # or, several workers sharing place records in Redis (pip install redis gunicorn):
    REDIS_URL=redis://localhost:6379/0 gunicorn -w 4 -b :8000 --chdir examples flask_app:app

Register the store with ``webhook_url="https://your.host/gett"``: Gett then
POSTs ``/gett/validate`` and ``/gett/place``.  To try it without Gett, run
``python -m gettcommerce sandbox --demo-store "Flask Diner" --demo-webhook-url
http://127.0.0.1:8000/gett`` and point GETT_BASE_URL / GETT_API_KEY /
GETT_WEBHOOK_SECRET at what it prints.
"""
from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import threading
from decimal import Decimal

from flask import Flask

import gettcommerce as gett
from gettcommerce.contrib.flask import blueprint

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("flask-shop")

TAX_RATE = Decimal("0.0875")          # the shop's sales tax
DELIVERY_FEE = Decimal("2.99")
OUT_OF_STOCK = {"cheesecake"}          # what the kitchen ran out of today

client = gett.Client()                 # GETT_API_KEY / GETT_BASE_URL from the environment
_pos_numbers = itertools.count(1001)


def on_validate(order: gett.IncomingOrder) -> gett.Amounts:
    """Gett asks: can you make this, and what does it cost?"""
    missing = [line for line in order.items if line.item_id in OUT_OF_STOCK]
    if missing:
        raise gett.ItemUnavailable(missing)         # -> 400 ITEM_UNAVAILABLE with jsonPaths
    taxes = (order.amounts.sub_total * TAX_RATE).quantize(Decimal("0.01"))
    fees = DELIVERY_FEE if order.is_delivery else Decimal("0")
    return gett.Amounts(order.amounts.sub_total, taxes=taxes, fees=fees, tip=order.amounts.tip)


def on_place(order: gett.IncomingOrder) -> str:
    """The order is final: put it on the kitchen screen, return our order number."""
    pos_id = f"POS-{next(_pos_numbers)}"
    log.info("new %s order %s -> %s: %s", order.fulfillment_type, order.order_id, pos_id,
             ", ".join(f"{line.quantity}x {line.item_id}" for line in order.items))
    # Answer Gett first, then report progress from a worker (a real shop
    # would do this from its kitchen display / POS events).
    threading.Thread(target=run_kitchen, args=(order,), daemon=True).start()
    return pos_id


def run_kitchen(incoming: gett.IncomingOrder) -> None:
    order = incoming.order()                       # bound to `client`, given to WebhookApp below
    try:
        order.confirm(estimated_ready_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15))
        order.start_preparing()
        order.mark_ready()
        if incoming.is_delivery:
            order.mark_in_transit()
        order.complete()
    except gett.GettError:
        log.exception("could not update order %s", incoming.order_id)


# One process (flask run) dedupes place retries in memory.  Several workers
# (gunicorn -w 4) or machines must share the record: set REDIS_URL.
store = gett.webhooks.RedisStore(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else None
webhooks = gett.WebhookApp(os.environ["GETT_WEBHOOK_SECRET"], on_validate=on_validate,
                           on_place=on_place, client=client, store=store)
app = Flask(__name__)
app.register_blueprint(blueprint(webhooks), url_prefix="/gett")


if __name__ == "__main__":
    app.run(port=8000)
