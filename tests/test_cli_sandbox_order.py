"""``gett sandbox order``: a shell command has a running sandbox send its signed validate and place
webhooks to the partner's endpoint (here a WebhookApp served by the test), like ``stripe trigger``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import gettcommerce as gett
from gettcommerce.sandbox import Sandbox

# Child processes run from tests/, where only the installed gettcommerce is importable.
HERE = Path(__file__).resolve().parent


class Shop:
    """The partner: a WebhookApp on a local port recording what its handlers got."""

    def __init__(self, secret: str) -> None:
        self.validated, self.placed, self.refuse = [], [], set()
        self.lock = threading.Lock()
        self.app = gett.WebhookApp(secret, on_validate=self.on_validate, on_place=self.on_place)

    def on_validate(self, order: gett.IncomingOrder) -> gett.Amounts:
        with self.lock:
            self.validated.append(order)
        sold_out = [line for line in order.items if line.item_id in self.refuse]
        if sold_out:
            raise gett.ItemUnavailable(sold_out)
        return order.amounts

    def on_place(self, order: gett.IncomingOrder) -> str:
        with self.lock:
            self.placed.append(order)
            return f"POS-{len(self.placed)}"


@pytest.fixture(scope="module")
def world():
    with Sandbox(time_scale=0.01, rate_limits=False) as sandbox:
        shop = Shop(sandbox.webhook_secret)
        with shop.app.serve() as webhook_url:
            store_id = sandbox.create_store(partner_store_id="pos-cli", name="CLI Pizza", webhook_url=webhook_url)
            yield {"sandbox": sandbox, "shop": shop, "store": store_id}


def gett_cli(*args, base_url=None):
    env = {k: v for k, v in os.environ.items() if k not in ("GETT_BASE_URL", "GETT_API_KEY")}
    if base_url:
        env["GETT_BASE_URL"] = base_url
    return subprocess.run([sys.executable, "-m", "gettcommerce", *args], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=120)


def _record(stdout):
    return dict(line.split(None, 1) for line in stdout.splitlines() if line.strip())


def test_the_order_reaches_the_partners_webhooks_and_the_outcome_is_printed(world):
    sandbox, shop = world["sandbox"], world["shop"]
    before = len(shop.placed)
    out = gett_cli("sandbox", "order", world["store"], "--item", "margherita:2", "--modifier", "size:size-large",
                   "--modifier", "toppings:olives", "--item", "cola", base_url=sandbox.url)
    assert out.returncode == 0, out.stderr
    printed = _record(out.stdout)
    placed = shop.placed[before]
    assert printed["orderId"] == placed.order_id
    assert printed["validate"] == "accepted" and printed["place"] == "placed (attempt 1)"
    assert printed["partnerOrderId"] == f"POS-{before + 1}"
    assert printed["items"] == "2 x margherita (size-large, olives); 1 x cola"
    # What the partner's endpoint received: the signed webhooks, parsed by WebhookApp.
    assert shop.validated[-1].order_id == placed.order_id and placed.kind == "place"
    first, second = placed.items
    assert (first.item_id, first.quantity, second.item_id, second.quantity) == ("margherita", 2, "cola", 1)
    assert [(g.modifier_group_id, [m.item_id for m in g.selected_modifiers]) for g in first.modifier_groups] == [
        ("size", ["size-large"]), ("toppings", ["olives"])]
    # (9.50 + 3.00 + 0.75) * 2 + 2.50
    assert placed.amounts.sub_total == 29 and printed["total"] == "29"
    assert sandbox.order(placed.order_id)["partnerOrderId"] == printed["partnerOrderId"]


def test_base_url_flag_wins_and_json_prints_the_sandboxs_order(world):
    sandbox = world["sandbox"]
    out = gett_cli("sandbox", "order", "pos-cli", "--item", "water:3", "--base-url", sandbox.url, "--json",
                   base_url="http://127.0.0.1:9")
    assert out.returncode == 0, out.stderr
    order = json.loads(out.stdout)
    assert order["items"][0]["itemId"] == "water" and order["items"][0]["quantity"] == 3
    assert order["placement"]["status"] == "placed" and order["storeId"] == world["store"]


@pytest.mark.parametrize("args, named", [
    (["--item", "margherita:0"], "--item 'margherita:0': quantity '0' must be a whole number >= 1"),
    (["--item", "x:y"], "--item 'x:y': quantity 'y' must be a whole number >= 1"),
    (["--item", "cola:-1"], "--item 'cola:-1': quantity '-1'"),
    (["--item", "cola:\u00b9"], "--item 'cola:\u00b9': quantity '\u00b9' must be a whole number >= 1"),
    (["--item", ":2"], "--item ':2' is not ITEM[:QUANTITY]"),
    (["--item", "cola", "--modifier", "size"], "--modifier 'size' is not GROUP:ITEM[:QUANTITY]"),
    (["--modifier", "size:size-large", "--item", "margherita"], "must follow the --item it belongs to"),
    ([], "give at least one --item"),
    (["--item", "cola", "--item", "pepperoni:3"], "--item 'pepperoni:3': item 'pepperoni' is not in the store's"),
    (["--item", "margherita:2"], "--item 'margherita:2': modifier group 'size' needs between 1 and 1"),
    (["--item", "cola", "--modifier", "size:size-large"], "--item 'cola': modifier group 'size' does not belong"),
])
def test_bad_input_exits_2_naming_the_value_and_sends_nothing(world, args, named):
    sandbox, shop = world["sandbox"], world["shop"]
    calls = (len(shop.validated), len(shop.placed))
    orders = _orders(sandbox)
    posts = sandbox.request_count("POST /_sandbox/orders")
    out = gett_cli("sandbox", "order", world["store"], *args, base_url=sandbox.url)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert named in out.stderr and out.stdout == ""
    assert (len(shop.validated), len(shop.placed)) == calls                 # no webhook went out
    assert _orders(sandbox) == orders                                       # no order exists
    # A malformed option is refused before any request; only a menu check asks the sandbox.
    asked = sandbox.request_count("POST /_sandbox/orders") - posts
    assert asked == (1 if "store's" in named or "modifier group" in named else 0)


def _orders(sandbox):
    return sum(len(partner["orders"]) for partner in sandbox.state()["partners"].values())


def test_a_refusal_by_the_partner_exits_1_with_its_problem(world):
    sandbox, shop = world["sandbox"], world["shop"]
    shop.refuse.add("funghi")
    try:
        out = gett_cli("sandbox", "order", world["store"], "--item", "funghi", "--modifier", "size:size-regular",
                       base_url=sandbox.url)
    finally:
        shop.refuse.clear()
    assert out.returncode == 1
    assert "HTTP 400 ITEM_UNAVAILABLE" in out.stderr and "funghi" in out.stderr
    assert shop.validated[-1].items[0].item_id == "funghi"


def test_no_sandbox_at_the_url_is_a_clear_error():
    out = gett_cli("sandbox", "order", "st-1", "--item", "cola", "--base-url", "http://127.0.0.1:9")
    assert out.returncode == 1
    assert "no sandbox answering at http://127.0.0.1:9" in out.stderr
