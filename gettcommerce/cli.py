"""``gett`` / ``python -m gettcommerce``: run the sandbox, or call the API from a shell.

    gett sandbox --port 8787                  # prints URL, API key, webhook secret
    export GETT_BASE_URL=http://127.0.0.1:8787 GETT_API_KEY=zpka_sandbox_...
    gett stores list
    gett stores pause STORE_ID --reason too_busy --resume-at +30m
    gett orders status ORDER_ID --status confirmed
    gett onboarding register --partner-store-id p-1 --name "Pizza" \\
        --catalog-url https://example.com/catalog.json --webhook-url https://example.com/gett
    gett sandbox order STORE_ID --item margherita:2 --modifier size:size-large --item cola

Client commands read ``GETT_API_KEY`` / ``GETT_BASE_URL`` (``--api-key`` /
``--base-url`` override them), print a table by default and JSON with
``--json``, and exit 1 with the problem's detail and requestId when Gett
answers with an error.

``gett sandbox order`` has a running sandbox (``$GETT_BASE_URL`` /
``--base-url``) place a test order, so it POSTs the signed validate and
place webhooks to the store's webhook URL, as ``stripe trigger`` does.
A malformed ``--item`` / ``--modifier``, or an item the store's menu does
not have, exits 2 and no webhook is sent.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional, Sequence

from ._version import __version__
from .errors import APIConnectionError, APIStatusError, GettError, OnboardingFailedError, make_status_error
from .models import PARTNER_ORDER_STATUSES, PauseReason

# Choices come from the enums, so the CLI offers exactly what the SDK accepts.
PAUSE_REASONS = tuple(reason.value for reason in PauseReason)
ORDER_STATUSES = PARTNER_ORDER_STATUSES
_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)([smhd])$")
#: Where ``gett sandbox`` listens unless told otherwise (``--port``).
SANDBOX_URL = "http://127.0.0.1:8787"


# --- output ---------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items() if v is not None) or "-"
    return str(value)


def _table(rows: List[Dict[str, Any]], columns: Sequence[str], out) -> None:
    if not rows:
        out.write("(none)\n")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")


def _record(data: Dict[str, Any], out) -> None:
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        out.write(f"{key.ljust(width)}  {_cell(value)}\n")


def _emit(args: argparse.Namespace, data: Any, *, columns: Optional[Sequence[str]] = None) -> None:
    out = sys.stdout
    if args.json:
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    elif isinstance(data, list):
        _table(data, columns or (list(data[0]) if data else []), out)
    elif isinstance(data, dict):
        _record(data, out)
    elif data is not None:
        out.write(f"{data}\n")


def _to_dict(obj: Any) -> Any:
    return obj.to_dict() if hasattr(obj, "to_dict") else obj


# --- client commands ---------------------------------------------------------
def _client(args: argparse.Namespace) -> Any:
    from ._client import Client
    return Client(api_key=args.api_key, base_url=args.base_url)


def _resume_at(text: Optional[str]) -> Any:
    """RFC 3339 text, or ``+N[smhd]`` meaning that long from now."""
    if text is None:
        return None
    found = _RELATIVE.match(text.strip())
    if found:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[found.group(2)]
        return _dt.timedelta(**{unit: float(found.group(1))})
    return text


def cmd_stores_list(args: argparse.Namespace) -> None:
    with _client(args) as client:
        stores = [_to_dict(s) for s in client.stores.list()]
    _emit(args, stores, columns=("storeId", "name", "status", "timezone", "deliveryAllowed", "pickupAllowed"))


def cmd_stores_get(args: argparse.Namespace) -> None:
    with _client(args) as client:
        _emit(args, _to_dict(client.stores.get(args.store_id)))


def cmd_stores_pause(args: argparse.Namespace) -> None:
    with _client(args) as client:
        _emit(args, _to_dict(client.stores.pause(args.store_id, args.reason, resume_at=_resume_at(args.resume_at))))


def cmd_stores_resume(args: argparse.Namespace) -> None:
    with _client(args) as client:
        _emit(args, _to_dict(client.stores.resume(args.store_id)))


def cmd_orders_status(args: argparse.Namespace) -> None:
    kwargs: Dict[str, Any] = {}
    if args.status:
        kwargs["status"] = args.status
    elif args.complete:
        kwargs["state"] = "completed"
    else:
        kwargs["state"], kwargs["cancel_reason"] = "cancelled", args.cancel
    if args.eta:
        kwargs["estimated_ready_at"] = args.eta
    with _client(args) as client:
        client.orders.update_status(args.order_id, **kwargs)
    sent = {k: v for k, v in kwargs.items()}
    _emit(args, dict({"orderId": args.order_id, "updated": True}, **sent))


def cmd_onboarding_register(args: argparse.Namespace) -> None:
    details: Dict[str, Any] = {}
    for name in ("phone", "timezone", "description", "logo_url"):
        if getattr(args, name) is not None:
            details[name] = getattr(args, name)
    if args.no_delivery:
        details["delivery_allowed"] = False
    if args.no_pickup:
        details["pickup_allowed"] = False
    with _client(args) as client:
        onboarding = client.onboarding.register(partner_store_id=args.partner_store_id, name=args.name,
                                                catalog_callback_url=args.catalog_url,
                                                webhook_url=args.webhook_url, **details)
        _emit(args, _to_dict(_wait(args, onboarding)))


def _wait(args: argparse.Namespace, onboarding: Any) -> Any:
    """``--wait``: poll until ready; on catalog_failed print the onboarding (with
    Gett's error) before the error line, so the caller sees both."""
    if not args.wait:
        return onboarding
    try:
        return onboarding.wait(timeout=args.wait)
    except OnboardingFailedError:
        _emit(args, _to_dict(onboarding))
        raise


def cmd_onboarding_status(args: argparse.Namespace) -> None:
    with _client(args) as client:
        _emit(args, _to_dict(_wait(args, client.onboarding.get(args.onboarding_id))))


def cmd_onboarding_activate(args: argparse.Namespace) -> None:
    with _client(args) as client:
        _emit(args, _to_dict(client.onboarding.activate(args.onboarding_id)))


def cmd_onboarding_cancel(args: argparse.Namespace) -> None:
    with _client(args) as client:
        client.onboarding.cancel(args.onboarding_id)
    _emit(args, {"onboardingId": args.onboarding_id, "cancelled": True})


# --- sandbox and hooks ---------------------------------------------------------
def cmd_sandbox(args: argparse.Namespace) -> None:
    from .sandbox import Sandbox
    sandbox = Sandbox(args.port, args.host, api_key=args.api_key, webhook_secret=args.webhook_secret,
                      time_scale=args.time_scale, rate_limits=not args.no_rate_limit, verbose=args.verbose)
    stop = threading.Event()
    # SIGTERM (docker stop, kill) ends as cleanly as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sandbox.start()
        out = sys.stdout
        out.write(f"Gett sandbox {__version__} running\n")
        out.write(f"URL: {sandbox.url}\n")
        out.write(f"API key: {sandbox.api_key}\n")
        out.write(f"Webhook secret: {sandbox.webhook_secret}\n")
        if args.demo_store:
            store_id = sandbox.create_store(partner_store_id="demo-store", name=args.demo_store,
                                            webhook_url=args.demo_webhook_url)
            out.write(f"Demo store: {store_id}\n")
        out.write(f"\n  export GETT_BASE_URL={sandbox.url} GETT_API_KEY={sandbox.api_key}\n\n"
                  "Control plane: GET /_sandbox/state, POST /_sandbox/reset, POST /_sandbox/faults, "
                  "POST /_sandbox/orders\nPress Ctrl-C to stop.\n")
        out.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
    sys.stdout.write("sandbox stopped\n")


# --- gett sandbox order: a test order through a running sandbox's control plane ---
def _quantity(text: str, option: str, value: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:   # '¹'.isdigit() is True
        raise argparse.ArgumentTypeError(f"{option} {value!r}: quantity {text!r} must be a whole number >= 1")
    return int(text)


def _order_part(value: str, option: str, names: int) -> List[str]:
    """``value`` split at ':' into ``names`` non-empty ids and an optional quantity (default 1)."""
    parts = value.split(":")
    if len(parts) not in (names, names + 1) or not all(p.strip() for p in parts[:names]):
        shape = "ITEM[:QUANTITY]" if names == 1 else "GROUP:ITEM[:QUANTITY]"
        raise argparse.ArgumentTypeError(f"{option} {value!r} is not {shape}")
    return parts[:names] + [str(_quantity(parts[names], option, value) if len(parts) > names else 1)]


class _LineAction(argparse.Action):
    """``--item`` starts an order line, ``--modifier`` adds to the line before it: both
    build ``args.lines`` (the sandbox's order line dicts) in command-line order."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        lines: List[Dict[str, Any]] = getattr(namespace, "lines", None) or []
        try:
            if option_string == "--item":
                item, qty = _order_part(values, "--item", 1)
                lines.append({"itemId": item, "quantity": int(qty), "modifierGroups": []})
                namespace.item_values = (getattr(namespace, "item_values", None) or []) + [values]
            else:
                group, item, qty = _order_part(values, "--modifier", 2)
                if not lines:
                    raise argparse.ArgumentTypeError(f"--modifier {values!r} must follow the --item it belongs to")
                groups = lines[-1]["modifierGroups"]
                chosen = next((g for g in groups if g["modifierGroupId"] == group), None)
                if chosen is None:
                    chosen = {"modifierGroupId": group, "selectedModifiers": []}
                    groups.append(chosen)
                chosen["selectedModifiers"].append({"itemId": item, "quantity": int(qty)})
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        namespace.lines = lines


class _BadOrder(GettError):
    """The sandbox refused the order's lines before sending any webhook (exit 2)."""


def _control_post(base_url: str, path: str, body: Dict[str, Any]) -> Any:
    """POST JSON to a sandbox control endpoint; its JSON answer, or the API error it stands for."""
    url = base_url.rstrip("/") + path
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode("utf-8", "replace")
        try:
            problem: Any = json.loads(raw)
        except ValueError:
            problem = raw
        raise make_status_error(exc.code, problem, dict(exc.headers.items()), method="POST", url=url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise APIConnectionError(f"no sandbox answering at {base_url} ({reason}); start one with `gett sandbox` "
                                 "or pass --base-url", method="POST", url=url) from None


def _line_text(line: Dict[str, Any]) -> str:
    mods = [m["itemId"] + (f" x{m['quantity']}" if m.get("quantity", 1) != 1 else "")
            for g in line.get("modifierGroups") or [] for m in g.get("selectedModifiers") or []]
    return f"{line.get('quantity', 1)} x {line.get('itemId')}" + (f" ({', '.join(mods)})" if mods else "")


def _name_item(message: str, given: List[str]) -> str:
    """``items[1]: ...`` (the sandbox's words) -> ``--item 'pepperoni:3': ...`` (the user's)."""
    found = re.match(r"items\[(\d+)\]", message)
    if found is None or int(found.group(1)) >= len(given):
        return message
    return f"--item {given[int(found.group(1))]!r}" + message[found.end():]


def cmd_sandbox_order(args: argparse.Namespace) -> None:
    lines = getattr(args, "lines", None)
    if not lines:
        raise _BadOrder("give at least one --item ITEM[:QUANTITY], e.g. --item margherita:2")
    base_url = args.base_url or os.environ.get("GETT_BASE_URL") or SANDBOX_URL
    try:
        order = _control_post(base_url, "/_sandbox/orders", {"storeId": args.store_id, "items": lines})
    except APIStatusError as exc:
        if exc.status_code == 422 and exc.errors:
            # Checked against the store's live menu before any webhook went out;
            # "items[1]: ..." names the --item it is about.
            raise _BadOrder("; ".join(_name_item(str(e.get("message")), args.item_values)
                                      for e in exc.errors)) from None
        raise
    placement = order.get("placement") or {}
    attempts = placement.get("attempts")
    _emit(args, order if args.json else {
        "orderId": order.get("orderId"), "storeId": order.get("storeId"),
        "items": "; ".join(_line_text(line) for line in order.get("items") or []),
        "total": (order.get("amounts") or {}).get("total"),
        "validate": "accepted",
        "place": f"{placement.get('status')}" + (f" (attempt {attempts})" if attempts else ""),
        "partnerOrderId": order.get("partnerOrderId"),
        "state": order.get("state"), "status": order.get("status")})


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo            # written separately; imported only when asked for
    return demo.main(args)


# --- parser ---------------------------------------------------------------------
def _client_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-key", default=None, help="API key (default: $GETT_API_KEY)")
    common.add_argument("--base-url", default=None, help="API base URL (default: $GETT_BASE_URL or production)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gett", description="Gett Commerce Partner API: sandbox and CLI.")
    parser.add_argument("--version", action="version", version=f"gettcommerce {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    common = _client_options()

    sb = sub.add_parser("sandbox", help="run the local Gett emulator")
    sb.add_argument("--port", type=int, default=8787, help="port (0 = any free port; default 8787)")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--api-key", default=None, help="API key to accept (default: a new zpka_sandbox_ key)")
    sb.add_argument("--webhook-secret", default=None, help="secret for signing webhooks (default: new)")
    sb.add_argument("--time-scale", type=float, default=1.0,
                    help="multiply Gett-side delays (webhook timeout, placement retries) by this")
    sb.add_argument("--no-rate-limit", action="store_true", help="never answer 429")
    sb.add_argument("--demo-store", metavar="NAME", default=None,
                    help="create an active store with the demo catalog at start")
    sb.add_argument("--demo-webhook-url", default="http://127.0.0.1:8000/gett",
                    help="webhook base URL of the --demo-store")
    sb.add_argument("--verbose", action="store_true", help="log every request to stderr")
    sb.set_defaults(func=cmd_sandbox)
    sb_actions = sb.add_subparsers(dest="sandbox_action", metavar="ACTION")
    p = sb_actions.add_parser(
        "order", help="have a running sandbox place a test order (validate + place webhooks to your endpoint)",
        description="Place a test order through a running sandbox's control plane: it prices the lines from "
                    "the store's menu, then POSTs the signed validate and place webhooks to the store's webhook "
                    "URL. Exit 2 when an --item/--modifier is malformed or not on the menu (nothing is sent).")
    p.add_argument("store_id", metavar="STORE_ID", help="storeId (or partnerStoreId) of a sandbox store")
    p.add_argument("--item", action=_LineAction, metavar="ITEM[:QUANTITY]", default=None,
                   help="an order line, e.g. margherita:2 (repeat for more lines)")
    p.add_argument("--modifier", action=_LineAction, metavar="GROUP:ITEM[:QUANTITY]", default=None,
                   help="a modifier of the --item before it, e.g. size:size-large")
    p.add_argument("--base-url", default=None,
                   help=f"the sandbox's URL (default: $GETT_BASE_URL, else {SANDBOX_URL})")
    p.add_argument("--json", action="store_true", help="print the sandbox's order as JSON")
    p.set_defaults(func=cmd_sandbox_order)

    def command(group: Any, name: str, func: Callable[[argparse.Namespace], Any], help: str,
                *ids: str) -> argparse.ArgumentParser:
        """A client command: the common options, its positional ids, its function."""
        p = group.add_parser(name, parents=[common], help=help)
        for id_name in ids:
            p.add_argument(id_name)
        p.set_defaults(func=func)
        return p

    def wait_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                       help="wait up to SECONDS for ready_to_activate (catalog_failed: print it, exit 1)")

    stores = sub.add_parser("stores", help="list, show, pause and resume stores").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    command(stores, "list", cmd_stores_list, "list your stores")
    command(stores, "get", cmd_stores_get, "show one store", "store_id")
    p = command(stores, "pause", cmd_stores_pause, "stop taking orders", "store_id")
    p.add_argument("--reason", required=True, choices=PAUSE_REASONS)
    p.add_argument("--resume-at", default=None,
                   help="RFC 3339 time with a zone (2026-03-11T15:00:00Z) or +N[smhd] from now, e.g. +30m")
    command(stores, "resume", cmd_stores_resume, "take orders again", "store_id")

    orders = sub.add_parser("orders", help="update order status").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = command(orders, "status", cmd_orders_status, "push an order's progress or close it", "order_id")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--status", choices=ORDER_STATUSES)
    which.add_argument("--complete", action="store_true", help="close the order as completed")
    which.add_argument("--cancel", metavar="REASON", help="close the order as cancelled, with a reason")
    p.add_argument("--eta", default=None, help="estimatedReadyAt, RFC 3339 with a zone (2026-03-11T15:00:00Z)")

    onboarding = sub.add_parser("onboarding", help="register, inspect and activate stores").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = command(onboarding, "register", cmd_onboarding_register, "start onboarding a store")
    p.add_argument("--partner-store-id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--catalog-url", required=True, help="where Gett pulls the CatalogSet")
    p.add_argument("--webhook-url", required=True, help="base URL of your validate/place webhooks")
    p.add_argument("--phone")
    p.add_argument("--timezone", help="IANA zone, e.g. Europe/London")
    p.add_argument("--description")
    p.add_argument("--logo-url")
    p.add_argument("--no-delivery", action="store_true")
    p.add_argument("--no-pickup", action="store_true")
    wait_option(p)
    wait_option(command(onboarding, "status", cmd_onboarding_status, "show an onboarding", "onboarding_id"))
    command(onboarding, "activate", cmd_onboarding_activate, "go live (from ready_to_activate)",
            "onboarding_id")
    command(onboarding, "cancel", cmd_onboarding_cancel, "cancel an onboarding", "onboarding_id")

    demo = sub.add_parser("demo", help="run the end-to-end demo against an embedded sandbox")
    # The same options as gettcommerce.demo.add_arguments, declared here so the
    # demo module is imported only when the command runs.
    demo.add_argument("--base-url", default=None,
                      help="run against a real Gett sandbox (e.g. https://api-sandbox.gett-tech.com)")
    demo.add_argument("--api-key", default=None, help="API key for --base-url (default: $GETT_API_KEY)")
    demo.set_defaults(func=cmd_demo)

    from . import _catalog_cli
    _catalog_cli.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``gett`` and ``python -m gettcommerce``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], Any] = args.func
    try:
        result = func(args)
    except APIStatusError as exc:
        detail = exc.detail or exc.title or str(exc)
        code = f" {exc.error_code}" if exc.error_code else ""
        sys.stderr.write(f"error: HTTP {exc.status_code}{code}: {detail}\n")
        if exc.request_id:
            sys.stderr.write(f"requestId: {exc.request_id}\n")
        for entry in exc.errors:
            sys.stderr.write(f"  {entry.get('jsonPath', '')}: {entry.get('message', '')}\n")
        return 1
    except _BadOrder as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except GettError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
