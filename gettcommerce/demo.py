"""``python -m gettcommerce demo``: the whole partner integration, end to end, in one process.

Against the embedded sandbox it builds and validates a menu, serves it,
onboards a store, receives signed orders through a WebhookApp, pushes them
through their lifecycle, pauses the store and publishes a changed menu,
logging each step with its timing and ending with a summary table.  Exit
status 0 means every step worked; 1 names the step that failed and why;
2 is a usage error.  ``--base-url``/``--api-key`` point it at a real Gett
sandbox instead, where only what needs no public URL runs.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
import zoneinfo
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, TextIO, Tuple, Union

from ._client import Client
from ._constants import ENV_API_KEY, ENV_BASE_URL, SANDBOX_BASE_URL
from ._samples import sample_catalogset
from ._wire import DAYS_OF_WEEK
from .catalog import CatalogSet
from .errors import APIStatusError, GettError, InvalidTransitionError
from .models import Address, Amounts, PauseReason
from .sandbox import Sandbox, SandboxOrderRejected, SandboxStoreClosed
from .webhooks import IncomingOrder, ItemUnavailable, WebhookApp, sign

__all__ = ["main", "add_arguments"]

PARTNER_STORE_ID = "gett-diner-demo"
STORE_NAME = "Gett Diner"
TAX_RATE = Decimal("0.0875")
DELIVERY_FEE = Decimal("2.99")
PAUSE_SECONDS = 2.0
WAIT_TIMEOUT = 30.0     # seconds any one step may wait on the sandbox before the demo gives up

# Real zones spread around the globe: at any moment the demo menu (open
# 11:00-22:00 local) is open in at least one of them, so the demo works at
# any hour.  The store is registered in the first zone where it is open now.
CANDIDATE_TIMEZONES = ("Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
                       "Australia/Sydney", "Asia/Kolkata", "Europe/Berlin", "Asia/Dubai")


class DemoFailed(Exception):
    """A step did not do what it should; the message says what happened."""


# ---------------------------------------------------------------- output

class _Run:
    """Numbered steps with timings, and the data for the final summary."""

    def __init__(self, out: TextIO, total_steps: int) -> None:
        self.out = out
        self.total = total_steps
        self.number = 0
        self.results: List[Tuple[int, str, str, float]] = []   # (n, title, outcome, seconds)
        self.started = time.perf_counter()

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def step(self, title: str) -> "_Step":
        self.number += 1
        return _Step(self, self.number, title)


class _Step:
    def __init__(self, run: _Run, number: int, title: str) -> None:
        self.run = run
        self.number = number
        self.title = title
        self.outcome = "ok"

    def __enter__(self) -> "_Step":
        self.run.say(f"[{self.number:2d}/{self.run.total}] {self.title}")
        self.started = time.perf_counter()
        return self

    def note(self, text: str) -> None:
        self.run.say(f"        {text}")

    def skip(self, why: str) -> None:
        self.outcome = "skipped"
        self.note(f"skipped: {why}")

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        elapsed = time.perf_counter() - self.started
        if exc is None:
            self.run.results.append((self.number, self.title, self.outcome, elapsed))
            self.run.say(f"        {self.outcome} in {_duration(elapsed)}")
            return
        if isinstance(exc, KeyboardInterrupt):
            return
        self.run.results.append((self.number, self.title, "FAILED", elapsed))
        raise DemoFailed(f"step {self.number} ({self.title}) failed: {_reason(exc)}") from exc


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, APIStatusError):
        text = f"HTTP {exc.status_code}"
        if exc.error_code:
            text += f" {exc.error_code}"
        text += f": {exc.detail or exc.title or exc}"
        if exc.request_id:
            text += f" (requestId {exc.request_id})"
        return text
    if isinstance(exc, (GettError, DemoFailed)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells[1:]]
    return lines


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


# ---------------------------------------------------------------- the partner's side

class DemoKitchen:
    """The partner's code: what a restaurant writes around WebhookApp."""

    def __init__(self) -> None:
        self.sold_out: Set[str] = set()
        self.validate_calls = 0
        self.place_calls = 0
        self.incoming: Dict[str, IncomingOrder] = {}
        self.validated: Dict[str, Amounts] = {}
        self._next_pos = 1001

    def on_validate(self, order: IncomingOrder) -> Amounts:
        self.validate_calls += 1
        missing: List[Any] = [line for line in order.items if line.item_id in self.sold_out]
        missing += [m for line in order.items for m in line.modifiers if m.item_id in self.sold_out]
        if missing:
            raise ItemUnavailable(missing)
        taxes = (order.amounts.sub_total * TAX_RATE).quantize(Decimal("0.01"))
        fees = DELIVERY_FEE if order.is_delivery else Decimal("0.00")
        amounts = Amounts(order.amounts.sub_total, taxes=taxes, fees=fees, tip=order.amounts.tip)
        self.validated[order.order_id] = amounts
        return amounts

    def on_place(self, order: IncomingOrder) -> Dict[str, Any]:
        self.place_calls += 1
        pos_id = f"POS-{self._next_pos}"
        self._next_pos += 1
        self.incoming[order.order_id] = order
        amounts = self.validated.get(order.order_id) or order.amounts
        return {"partnerOrderId": pos_id, "amounts": amounts}


# ---------------------------------------------------------------- helpers

def _window_open(window: Dict[str, Any], local: _dt.datetime) -> bool:
    if window.get("dayOfWeek") != DAYS_OF_WEEK[local.isoweekday() % 7]:   # Sunday first
        return False
    start = _dt.time.fromisoformat(window["start"])
    end = _dt.time.fromisoformat(window["end"])
    now = local.time()
    if end == _dt.time(0, 0):
        return now >= start
    return start <= now < end


def pick_timezone(catalog: Dict[str, Any], catalog_id: str, *, margin: float = 300.0,
                  now: Optional[_dt.datetime] = None) -> str:
    """The first candidate timezone where ``catalog_id`` is open now and ``margin`` s later."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    windows = catalog["catalogs"][catalog_id]["availability"]
    zones = list(CANDIDATE_TIMEZONES) + [f"Etc/GMT{-h:+d}" for h in range(-12, 15) if h]
    for name in zones:
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
        moments = (now.astimezone(zone), (now + _dt.timedelta(seconds=margin)).astimezone(zone))
        if all(any(_window_open(w, m) for w in windows) for m in moments):
            return name
    raise DemoFailed(f"no timezone found where catalog {catalog_id!r} is open now "
                     "(is the tz database installed? pip install tzdata)")


def _wait_for(what: str, check: Callable[[], Any], *, timeout: float = WAIT_TIMEOUT,
              interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise DemoFailed(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def _mask(key: str) -> str:
    return key[:12] + "..." + key[-4:] if len(key) > 20 else key[:4] + "..."


def _short(order_id: str) -> str:
    return order_id[:8]


def _lines_text(order: IncomingOrder) -> str:
    parts = []
    for line in order.items:
        text = f"{line.quantity}x {line.item_id}"
        if line.modifiers:
            text += " (" + ", ".join(m.item_id for m in line.modifiers) + ")"
        parts.append(text)
    return "; ".join(parts)


def _modifiers(**groups: Sequence[str]) -> List[Dict[str, Any]]:
    return [{"modifierGroupId": group.replace("_", "-"),
             "selectedModifiers": [{"itemId": item, "quantity": 1} for item in items]}
            for group, items in groups.items()]


PICKUP_CART = [{"itemId": "caesar-salad", "quantity": 1}, {"itemId": "brownie", "quantity": 2}]
DELIVERY_CART = [
    {"itemId": "burger-classic", "quantity": 2,
     "modifierGroups": _modifiers(toppings=["top-cheese", "top-bacon"], sides=["side-fries"])},
    {"itemId": "latte", "quantity": 1, "modifierGroups": _modifiers(size=["size-large"], milk=["milk-oat"])},
]
CANCELLED_CART = [{"itemId": "cheesecake", "quantity": 1}]
SOLD_OUT_CART = [{"itemId": "chicken-sandwich", "quantity": 1,
                  "modifierGroups": _modifiers(sides=["side-rings"])}]
CUSTOMER = {"name": "Dana Levi", "phone": "+14155550142", "email": "dana@example.com"}
DELIVERY_ADDRESS = {"street": "500 Howard St", "city": "San Francisco", "state": "CA",
                    "postalCode": "94105", "country": "US"}


def changed_menu(store_id: str) -> CatalogSet:
    """The menu, version 2: a new dessert and a brownie price change."""
    menu = sample_catalogset(store_id)
    menu.catalog_set_id = menu.catalog_set_id[:-4] + "0002"
    menu.add_item("milkshake", name="Vanilla Milkshake", base_price="4.75",
                  description="Made with real vanilla ice cream.")
    menu.sections["desserts"]["itemIds"].append("milkshake")
    menu.items["brownie"]["basePrice"] = Decimal("4.25")
    return menu


# ---------------------------------------------------------------- the demo against the embedded sandbox

class _Embedded:
    """What the steps against the embedded sandbox share: each step reads
    what earlier ones set up and adds its own."""

    def __init__(self, run: _Run, stack: contextlib.ExitStack) -> None:
        self.run = run
        self.stack = stack
        self.kitchen = DemoKitchen()
        self.orders: List[Dict[str, Any]] = []
        self.menu: Any = None
        self.sandbox: Any = None
        self.client: Any = None
        self.catalog_server: Any = None
        self.webhook_url = ""
        self.onboarding: Any = None
        self.store: Any = None


def _run_embedded(run: _Run) -> Dict[str, Any]:
    with contextlib.ExitStack() as stack:
        demo = _Embedded(run, stack)
        demo.menu = _build_menu(run)
        _start_sandbox(demo)
        _serve_menu(demo)
        _start_webhook_app(demo)
        _register_store(demo)
        _wait_for_menu_pull(demo)
        _activate_store(demo)
        pickup = _place_order(demo, "Gett places order #1 (pickup)", PICKUP_CART, "pickup",
                              tip="1.00")
        _push_through_lifecycle(demo, pickup, delivery=False)
        delivery = _place_order(demo, "Gett places order #2 (delivery, with modifiers)",
                                DELIVERY_CART, "delivery", delivery_address=DELIVERY_ADDRESS,
                                tip="4.00")
        _push_through_lifecycle(demo, delivery, delivery=True)
        third = _place_order(demo, "Gett places order #3 (pickup)", CANCELLED_CART, "pickup")
        _cancel_order(demo, third)
        _refuse_sold_out_cart(demo)
        _pause_store(demo)
        _publish_changed_menu(demo)
        if demo.sandbox.errors:
            raise DemoFailed(f"the sandbox logged {len(demo.sandbox.errors)} internal error(s):\n"
                             f"{demo.sandbox.errors[0]}")
        return {"store_id": demo.store.store_id, "orders": demo.orders, "kitchen": demo.kitchen,
                "requests": len(demo.sandbox.requests)}


def _validated_menu() -> Tuple[Any, int, int]:
    """The sample menu, with its error and warning counts; DemoFailed on errors."""
    menu = sample_catalogset(PARTNER_STORE_ID)
    issues = menu.validate()
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise DemoFailed(f"the sample menu has {len(errors)} error(s): {errors[0]}")
    return menu, len(errors), len(issues) - len(errors)


def _build_menu(run: _Run) -> Any:
    with run.step("Build the sample menu (CatalogSet) and validate it") as step:
        menu, n_errors, n_warnings = _validated_menu()
        stats = menu.stats
        step.note(f"{stats['catalogs']} catalogs, {stats['sections']} sections (nested), "
                  f"{stats['items']} items, {stats['modifierGroups']} modifier groups")
        step.note(f"validated by the C validator: {n_errors} errors, {n_warnings} warnings")
    return menu


def _start_sandbox(demo: _Embedded) -> None:
    with demo.run.step("Start the embedded Gett sandbox") as step:
        demo.sandbox = demo.stack.enter_context(Sandbox(rate_limits=False, ingest_delay=0.3))
        demo.client = demo.stack.enter_context(demo.sandbox.client())
        step.note(f"{demo.sandbox.url}  (API key {_mask(demo.sandbox.api_key)})")


def _serve_menu(demo: _Embedded) -> None:
    with demo.run.step("Serve the menu where Gett can pull it") as step:
        demo.catalog_server = demo.stack.enter_context(demo.menu.serve())
        step.note(f"catalogCallbackUrl: {demo.catalog_server.url}")


def _start_webhook_app(demo: _Embedded) -> None:
    with demo.run.step("Start the partner's WebhookApp on a local port") as step:
        app = WebhookApp(demo.sandbox.webhook_secret, on_validate=demo.kitchen.on_validate,
                         on_place=demo.kitchen.on_place, client=demo.client)
        demo.webhook_url = demo.stack.enter_context(app.serve()) + "/gett"
        step.note(f"webhookUrl: {demo.webhook_url}  (Gett POSTs {demo.webhook_url}/validate "
                  "and /place)")
        forged = json.dumps({"order": {"orderId": "forged"}}).encode()
        status = _post(demo.webhook_url + "/place", forged, sign(forged, "not-the-secret"))
        if status != 401:
            raise DemoFailed(f"a webhook signed with the wrong secret got HTTP {status}, not 401")
        step.note("a forged webhook (wrong secret) is refused with 401 before any partner code runs")


def _register_store(demo: _Embedded) -> None:
    with demo.run.step("Register the store (onboarding)") as step:
        timezone = pick_timezone(demo.menu.to_dict(), "all-day")
        demo.onboarding = demo.client.onboarding.register(
            partner_store_id=PARTNER_STORE_ID, name=STORE_NAME,
            catalog_callback_url=demo.catalog_server.url, webhook_url=demo.webhook_url,
            timezone=timezone, phone="+14155550100",
            description="Burgers, salads and all-day breakfast.",
            address=Address("1 Market St", "San Francisco", "CA", "94105", "US"))
        step.note(f"onboarding {demo.onboarding.onboarding_id}: {demo.onboarding.status}")
        step.note(f"timezone {timezone} (the demo menu is open 11:00-22:00 there now)")


def _wait_for_menu_pull(demo: _Embedded) -> None:
    with demo.run.step("Wait while Gett pulls and validates the menu") as step:
        demo.onboarding.wait(timeout=WAIT_TIMEOUT, poll_interval=0.1,
                             progress=sys.stderr.isatty())
        step.note(f"onboarding {demo.onboarding.onboarding_id}: {demo.onboarding.status} "
                  f"(the menu was fetched {demo.catalog_server.hits}x)")


def _activate_store(demo: _Embedded) -> None:
    with demo.run.step("Activate the store") as step:
        demo.store = demo.onboarding.activate()
        status = demo.client.stores.get_status(demo.store.store_id)
        step.note(f"store {demo.store.store_id} '{demo.store.name}' is live: {status.status}")
        if not status.is_online:
            raise DemoFailed(f"a freshly activated store should be online, not {status.status}")


def _place_order(demo: _Embedded, title: str, cart: List[Dict[str, Any]], fulfillment: str,
                 **extra: Any) -> Dict[str, Any]:
    kitchen = demo.kitchen
    with demo.run.step(title) as step:
        calls_before = (kitchen.validate_calls, kitchen.place_calls)
        order_id = demo.sandbox.place_order(demo.store.store_id, cart, fulfillment, user=CUSTOMER,
                                            **extra)
        incoming = kitchen.incoming[order_id]
        seen = demo.sandbox.order(order_id)
        calls = (kitchen.validate_calls - calls_before[0], kitchen.place_calls - calls_before[1])
        if calls != (1, 1):
            raise DemoFailed(f"expected one validate and one place webhook, got {calls}")
        amounts = seen["amounts"]
        step.note(f"order {order_id} ({fulfillment}): {_lines_text(incoming)}")
        step.note(f"signed /validate -> subTotal {_money(amounts['subTotal'])} + taxes "
                  f"{_money(amounts.get('taxes', 0))} + fees {_money(amounts.get('fees', 0))} "
                  f"+ tip {_money(amounts.get('tip', 0))} = total {_money(amounts['total'])}")
        step.note(f"signed /place    -> partnerOrderId {seen['partnerOrderId']}")
        record = {"order_id": order_id, "type": fulfillment, "lines": _lines_text(incoming),
                  "total": amounts["total"], "partner_order_id": seen["partnerOrderId"],
                  "updates": 0, "final": "open", "incoming": incoming}
        demo.orders.append(record)
    return record


def _push_through_lifecycle(demo: _Embedded, record: Dict[str, Any], delivery: bool) -> None:
    with demo.run.step(f"Push order {_short(record['order_id'])} through its lifecycle") as step:
        order = record["incoming"].order()      # bound to the WebhookApp's client
        eta = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(minutes=20)
        moves: List[Tuple[str, Callable[[], Any]]] = [
            ("confirmed", lambda: order.confirm(estimated_ready_at=eta)),
            ("preparing", order.start_preparing), ("ready", order.mark_ready)]
        if delivery:
            moves.append(("inTransit", order.mark_in_transit))
        moves.append(("completed", order.complete))
        path = []
        for expected, move in moves:
            started = time.perf_counter()
            move()
            seen = demo.sandbox.order(record["order_id"])
            shown = seen["state"] if expected == "completed" else seen["status"]
            if shown != expected:
                raise DemoFailed(f"Gett shows {shown!r} after sending {expected!r}")
            path.append(f"{expected} ({_duration(time.perf_counter() - started)})")
        record["updates"] = len(moves)
        record["final"] = "completed"
        step.note(" -> ".join(path))
        try:
            order.confirm()
        except InvalidTransitionError as exc:
            step.note(f"a late update is refused locally, nothing sent: {exc}")
        else:
            raise DemoFailed("updating a completed order should raise InvalidTransitionError")


def _cancel_order(demo: _Embedded, record: Dict[str, Any]) -> None:
    with demo.run.step(f"Cancel order {_short(record['order_id'])} with a reason") as step:
        order = record["incoming"].order()
        order.confirm()
        order.cancel("Customer called to cancel")
        seen = demo.sandbox.order(record["order_id"])
        if seen["state"] != "cancelled" or seen["cancelReason"] != "Customer called to cancel":
            raise DemoFailed(f"Gett shows state {seen['state']!r}, "
                             f"cancelReason {seen['cancelReason']!r}")
        record["updates"] = 2
        record["final"] = "cancelled"
        step.note(f"Gett shows: {seen['state']} ({seen['cancelReason']!r})")


def _refuse_sold_out_cart(demo: _Embedded) -> None:
    with demo.run.step("A cart with a sold-out item is refused at validate") as step:
        demo.kitchen.sold_out = {"side-rings"}
        try:
            demo.sandbox.place_order(demo.store.store_id, SOLD_OUT_CART, "pickup", user=CUSTOMER)
        except SandboxOrderRejected as exc:
            entry = exc.errors[0] if exc.errors else {}
            step.note(f"partner answered HTTP {exc.status} {exc.error_code}: "
                      f"{entry.get('itemId')} at {entry.get('jsonPath')}")
            if exc.error_code != "ITEM_UNAVAILABLE":
                raise DemoFailed(f"expected ITEM_UNAVAILABLE, got {exc.error_code}") from exc
        else:
            raise DemoFailed("an order with a sold-out item was accepted")
        finally:
            demo.kitchen.sold_out = set()


def _pause_store(demo: _Embedded) -> None:
    store_id = demo.store.store_id
    with demo.run.step(f"Pause the store (too_busy, resume in {PAUSE_SECONDS:g} s)") as step:
        paused = demo.client.stores.pause(store_id, PauseReason.TOO_BUSY,
                                          resume_at=_dt.timedelta(seconds=PAUSE_SECONDS))
        paused_at = time.monotonic()
        step.note(f"status {paused.status}, reason {paused.reason}, resumeAt "
                  f"{paused.resume_at.isoformat() if paused.resume_at else None}")
        if paused.status != "paused":
            raise DemoFailed(f"the store should be paused, not {paused.status}")
        try:
            demo.sandbox.place_order(store_id, PICKUP_CART, "pickup", user=CUSTOMER)
        except SandboxStoreClosed as exc:
            step.note(f"a new order is refused while paused: {exc}")
        else:
            raise DemoFailed("a paused store accepted an order")
        status = _wait_for("the store to resume by itself",
                           lambda: (lambda s: s if s.is_online else None)(
                               demo.client.stores.get_status(store_id)),
                           timeout=PAUSE_SECONDS + WAIT_TIMEOUT, interval=0.2)
        step.note(f"back {status.status} by itself after {time.monotonic() - paused_at:.1f} s")


def _publish_changed_menu(demo: _Embedded) -> None:
    store_id = demo.store.store_id
    with demo.run.step("Publish a changed menu and notify Gett") as step:
        menu_v2 = changed_menu(PARTNER_STORE_ID)
        versions_before = len(demo.sandbox.catalog_history(store_id))
        demo.catalog_server.update(menu_v2)
        demo.client.catalog.notify(store_id, demo.catalog_server.url, catalog=menu_v2)
        history = _wait_for("Gett to ingest the new menu",
                            lambda: (lambda h: h if len(h) > versions_before else None)(
                                demo.sandbox.catalog_history(store_id)))
        latest = history[-1]
        if latest["status"] != "ingested":
            raise DemoFailed(f"Gett could not ingest the new menu: {latest['error']}")
        current = demo.sandbox.current_catalog(store_id)
        if current is None:
            raise DemoFailed("Gett shows no live menu after ingesting version 2")
        live = current["catalog"]
        step.note(f"ingested as catalogSetId {latest['catalogSetId']} (version {len(history)})")
        step.note(f"live now: milkshake {_money(live['items']['milkshake']['basePrice'])}, "
                  f"brownie {_money(live['items']['brownie']['basePrice'])} (was 4.00)")


def _post(url: str, body: bytes, headers: Dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


# ---------------------------------------------------------------- against a real Gett sandbox

def _run_remote(run: _Run, base_url: str, api_key: str) -> Dict[str, Any]:
    with run.step("Build the sample menu (CatalogSet) and validate it") as step:
        menu, n_errors, n_warnings = _validated_menu()
        step.note(f"{menu.stats['items']} items; {n_errors} errors, {n_warnings} warnings")

    with Client(api_key=api_key, base_url=base_url) as client:
        with run.step(f"Connect to {base_url} and list the stores") as step:
            stores = client.stores.list()
            step.note(f"{len(stores)} store(s) for this API key")
        with run.step("Read each store's live status") as step:
            for store in stores[:20]:
                status = client.stores.get_status(store.store_id)
                reason = f" ({status.reason})" if status.reason else ""
                step.note(f"{store.store_id}  {store.name or '':<30} {status.status}{reason}")
            if len(stores) > 20:
                step.note(f"... and {len(stores) - 20} more")
        with run.step("Onboarding, webhooks and orders") as step:
            step.skip("they need public URLs (Gett pulls the menu and POSTs webhooks over the internet); "
                      "run examples/flask_app.py behind a public HTTPS URL to try them")
    return {"store_id": None, "orders": [], "kitchen": None, "requests": None}


# ---------------------------------------------------------------- entry points

def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the demo's options to ``parser`` (the ``gett demo`` sub-command uses this)."""
    parser.add_argument("--base-url", default=None,
                        help=f"run against a real Gett sandbox (e.g. {SANDBOX_BASE_URL}) instead of the "
                             "embedded one")
    parser.add_argument("--api-key", default=None,
                        help=f"API key for --base-url (default: ${ENV_API_KEY})")
    return parser


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gett demo", description=__doc__.splitlines()[0])
    return add_arguments(parser).parse_args(list(argv))


def main(args: Union[argparse.Namespace, Sequence[str], None] = None, *,
         out: Optional[TextIO] = None) -> int:
    """Run the demo; returns the exit code (0 ok, 1 a step failed, 2 usage).

    ``args`` is an argparse Namespace (from the ``gett`` CLI), an argv list,
    or None for ``sys.argv[1:]``.
    """
    if args is None:
        args = sys.argv[1:]
    if not isinstance(args, argparse.Namespace):
        try:
            args = _parse(args)
        except SystemExit as exc:          # --help, or a usage error already printed
            return int(exc.code or 0)
    out = out or sys.stdout
    base_url = getattr(args, "base_url", None)
    api_key = getattr(args, "api_key", None)
    remote: Optional[Tuple[str, str]] = None
    if base_url is not None or api_key is not None:
        base_url = base_url or os.environ.get(ENV_BASE_URL) or SANDBOX_BASE_URL
        api_key = api_key or os.environ.get(ENV_API_KEY)
        if not api_key:
            sys.stderr.write(f"gett demo: --base-url needs an API key (--api-key or ${ENV_API_KEY})\n")
            return 2
        remote = (base_url, api_key)
    run = _Run(out, 4 if remote else 16)
    title = f"Gett Commerce demo against {base_url}" if remote else \
        "Gett Commerce demo: one partner integration, end to end, against the embedded sandbox"
    run.say(title)
    run.say("=" * len(title))
    # The demo narrates the webhook refusals it provokes itself; without a
    # logging set-up, Python would also print them raw to stderr.
    quiet = logging.NullHandler() if not logging.getLogger().handlers else None
    if quiet is not None:
        logging.getLogger("gettcommerce").addHandler(quiet)
    try:
        result = _run_remote(run, *remote) if remote else _run_embedded(run)
    except DemoFailed as exc:
        run.say()
        run.say(f"FAILED: {exc}")
        _summary(run, None)
        return 1
    except KeyboardInterrupt:
        run.say("\ninterrupted")
        return 130
    finally:
        if quiet is not None:
            logging.getLogger("gettcommerce").removeHandler(quiet)
    _summary(run, result)
    return 0


def _summary(run: _Run, result: Optional[Dict[str, Any]]) -> None:
    run.say()
    run.say("Summary")
    run.say("-------")
    rows = [(n, title, outcome, _duration(seconds)) for n, title, outcome, seconds in run.results]
    for line in _table(("#", "step", "result", "time"), rows):
        run.say(line)
    if result and result["orders"]:
        run.say()
        order_rows = []
        for record in result["orders"]:
            order_rows.append((_short(record["order_id"]), record["type"], record["partner_order_id"],
                               _money(record["total"]), record["updates"], record["final"]))
        for line in _table(("order", "type", "partner id", "total", "updates", "final"), order_rows):
            run.say(line)
    failed = sum(1 for r in run.results if r[2] == "FAILED")
    total = time.perf_counter() - run.started
    run.say()
    if result is None or failed:
        run.say(f"Result: FAILED after {_duration(total)}")
    else:
        kitchen = result["kitchen"]
        extra = ""
        if kitchen is not None:
            extra = (f"; {kitchen.validate_calls} validate + {kitchen.place_calls} place webhooks verified"
                     f"; {result['requests']} API requests")
        run.say(f"Result: OK, {len(run.results)} steps in {_duration(total)}{extra}")


if __name__ == "__main__":
    sys.exit(main())
