"""Gett's side of an order: build it from the store's catalog, validate and place it.

``build_order`` turns a simple item list into the webhook payload of
DESIGN §2 with prices from the ingested catalog.  ``OrderPlacer`` runs the
validate -> place exchange and the documented retry schedule for a failed
placement.
"""
from __future__ import annotations

import datetime as _dt
import logging
import secrets
import threading
import zoneinfo
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence

from . import catalog_ingest
from ._util import new_uuid
from .exceptions import (SandboxOrderError, SandboxOrderRejected, SandboxPlacementFailed,
                         SandboxStoreClosed, SandboxWebhookError)
from .state import OrderRecord, StoreRecord
from .webhook_sender import WebhookResult, join_url, post_signed

log = logging.getLogger("gettcommerce.sandbox")

# Amounts the partner prices at validate; added (or, promotions, taken off)
# to Gett's subTotal and the consumer's tip to give the total.
_PRICED = ("subTotal", "taxes", "fees", "promotions", "adjustments")

DEFAULT_USER = {"name": "Sandy Box", "phone": "+15555550100", "email": "sandy.box@example.com"}
FULFILLMENT_TYPES = ("pickup", "delivery")


def _quantity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SandboxOrderError(f"{where}: quantity must be an int >= 1, got {value!r}")
    return value


def normalize_items(items: Any) -> List[Dict[str, Any]]:
    """Accept ``"itemId"``, ``("itemId", qty)`` or the full line dict; return line dicts.

    >>> normalize_items(["i1", ("i2", 2)])[1]
    {'itemId': 'i2', 'quantity': 2, 'modifierGroups': []}
    """
    if isinstance(items, (str, bytes, dict)) or not isinstance(items, Sequence) or not items:
        raise SandboxOrderError("items must be a non-empty list of item ids, (itemId, quantity) pairs "
                                "or {'itemId', 'quantity', 'modifierGroups'} dicts")
    lines = []
    for index, entry in enumerate(items):
        where = f"items[{index}]"
        if isinstance(entry, str):
            lines.append({"itemId": entry, "quantity": 1, "modifierGroups": []})
        elif isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str):
            lines.append({"itemId": entry[0], "quantity": _quantity(entry[1], where), "modifierGroups": []})
        elif isinstance(entry, dict):
            unknown = set(entry) - {"itemId", "quantity", "modifierGroups"}
            if unknown or not isinstance(entry.get("itemId"), str):
                raise SandboxOrderError(f"{where}: expected itemId (str), quantity, modifierGroups; "
                                        f"got keys {sorted(entry)}")
            groups = entry.get("modifierGroups") or []
            if not isinstance(groups, list):
                raise SandboxOrderError(f"{where}.modifierGroups must be a list")
            norm_groups = []
            for g_index, group in enumerate(groups):
                g_where = f"{where}.modifierGroups[{g_index}]"
                if not isinstance(group, dict) or not isinstance(group.get("modifierGroupId"), str):
                    raise SandboxOrderError(f"{g_where}: expected {{'modifierGroupId', 'selectedModifiers'}}")
                selected = []
                for m_index, mod in enumerate(group.get("selectedModifiers") or []):
                    m_where = f"{g_where}.selectedModifiers[{m_index}]"
                    if isinstance(mod, str):
                        selected.append({"itemId": mod, "quantity": 1})
                    elif isinstance(mod, dict) and isinstance(mod.get("itemId"), str):
                        selected.append({"itemId": mod["itemId"],
                                         "quantity": _quantity(mod.get("quantity", 1), m_where)})
                    else:
                        raise SandboxOrderError(f"{m_where}: expected an item id or {{'itemId', 'quantity'}}")
                norm_groups.append({"modifierGroupId": group["modifierGroupId"], "selectedModifiers": selected})
            lines.append({"itemId": entry["itemId"], "quantity": _quantity(entry.get("quantity", 1), where),
                          "modifierGroups": norm_groups})
        else:
            raise SandboxOrderError(f"{where}: expected an item id, an (itemId, quantity) pair or a dict, "
                                    f"got {type(entry).__name__}")
    return lines


def check_open(store: StoreRecord, now: _dt.datetime) -> List[str]:
    """Raise SandboxStoreClosed unless the store takes orders now; return the open catalog ids.

    Call with ``store.lock`` held.
    """
    store.refresh(now)
    if store.status == "paused":
        raise SandboxStoreClosed(f"store {store.store_id} is paused ({store.reason}); it takes no orders",
                                 store_id=store.store_id, reason="paused")
    if store.current is None:
        raise SandboxStoreClosed(f"store {store.store_id} has no ingested catalog", store_id=store.store_id,
                                 reason="no_catalog")
    local = now.astimezone(zoneinfo.ZoneInfo(store.timezone))
    open_ids = catalog_ingest.open_catalogs(store.current.catalog, local)
    if not open_ids:
        raise SandboxStoreClosed(
            f"store {store.store_id} is closed at {local:%A %H:%M:%S} {store.timezone}: no catalog's "
            "availability covers that time", store_id=store.store_id, reason="outside_availability")
    return open_ids


def price_lines(catalog: Dict[str, Any], lines: List[Dict[str, Any]], orderable: set) -> Decimal:
    """Check every line against the catalog and return the subtotal.

    line total = (item basePrice + sum(modifier basePrice * modifier qty)) * line qty
    """
    items = catalog.get("items") or {}
    groups = catalog.get("modifierGroups") or {}
    subtotal = Decimal("0")
    for index, line in enumerate(lines):
        where = f"items[{index}]"
        item_id = line["itemId"]
        if item_id not in items:
            raise SandboxOrderError(f"{where}: item {item_id!r} is not in the store's catalog")
        if item_id not in orderable:
            raise SandboxOrderError(f"{where}: item {item_id!r} is not in any catalog open right now")
        item = items[item_id]
        allowed_groups = item.get("modifierGroupIds") or []
        unit = catalog_ingest.price_of(catalog, item_id)
        chosen = {g["modifierGroupId"]: g for g in line["modifierGroups"]}
        if len(chosen) != len(line["modifierGroups"]):
            raise SandboxOrderError(f"{where}: a modifier group is listed twice")
        for group_id in chosen:
            if group_id not in allowed_groups:
                raise SandboxOrderError(f"{where}: modifier group {group_id!r} does not belong to item {item_id!r} "
                                        f"(its groups: {allowed_groups})")
        for group_id in allowed_groups:
            group = groups[group_id]
            choices = group.get("itemIds") or []
            selected = chosen.get(group_id, {"selectedModifiers": []})["selectedModifiers"]
            count = sum(m["quantity"] for m in selected)
            minimum = group.get("minimumAllowed", 0) or 0
            maximum = group.get("maximumAllowed", len(choices))
            if count < minimum or count > maximum:
                raise SandboxOrderError(f"{where}: modifier group {group_id!r} needs between {minimum} and "
                                        f"{maximum} selections, got {count}")
            for mod in selected:
                if mod["itemId"] not in choices:
                    raise SandboxOrderError(f"{where}: {mod['itemId']!r} is not a choice of modifier group "
                                            f"{group_id!r} (choices: {choices})")
                unit += catalog_ingest.price_of(catalog, mod["itemId"]) * mod["quantity"]
        subtotal += unit * line["quantity"]
    return subtotal


def build_payload(store: StoreRecord, lines: List[Dict[str, Any]], subtotal: Decimal, *,
                  fulfillment_type: str, user: Optional[Dict[str, Any]],
                  delivery_address: Optional[Dict[str, Any]], tip: Decimal) -> Dict[str, Any]:
    """The validate/place webhook body of DESIGN §2 (place adds ``paymentToken``)."""
    assert store.current is not None
    return {
        "order": {
            "orderId": new_uuid(),
            "storeId": store.store_id,
            "partnerStoreId": store.partner_store_id,
            "catalogSetId": store.current.catalog_set_id,
            "fulfillmentType": fulfillment_type,
            "items": [dict(line, lineItemId=new_uuid()) for line in lines],
            "amounts": {"subTotal": subtotal, "tip": tip},
        },
        "user": dict(user or DEFAULT_USER),
        "deliveryAddress": delivery_address,
    }


def priced_amounts(gett_amounts: Dict[str, Any], answer: Any, *, order_id: str, url: str) -> Dict[str, Any]:
    """The order's amounts after the partner's validate answer: what place carries.

    The partner's ``subTotal``, ``taxes``, ``fees``, ``promotions`` and
    ``adjustments`` are taken as priced; ``tip`` is the consumer's (Gett's);
    ``total`` is Gett's invariant, subTotal + fees - promotions + taxes +
    adjustments + tip.  A partner ``total`` that disagrees is logged and not
    used; an amount that is not a number >= 0 raises SandboxWebhookError.
    """
    given = answer if isinstance(answer, dict) else {}
    if answer is not None and not isinstance(answer, dict):
        raise SandboxWebhookError(f"validate answer for order {order_id}: amounts must be an object",
                                  url=url, body=answer)
    amounts: Dict[str, Any] = {"subTotal": gett_amounts["subTotal"]}
    for key in _PRICED + ("total",):
        value = given.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) \
                or not Decimal(str(value)).is_finite() or value < 0:
            raise SandboxWebhookError(f"validate answer for order {order_id}: amounts.{key} must be a number "
                                      f">= 0, got {value!r}", url=url, body=answer)
        if key != "total":
            amounts[key] = Decimal(str(value))
    amounts["tip"] = gett_amounts["tip"]
    total = (amounts["subTotal"] + amounts.get("fees", 0) - amounts.get("promotions", 0) + amounts.get("taxes", 0)
             + amounts.get("adjustments", 0) + amounts["tip"])
    stated = given.get("total")
    if stated is not None and Decimal(str(stated)) != total:
        log.warning("order %s: the partner's validate total %s is not subTotal + fees - promotions + taxes "
                    "+ adjustments + tip = %s; the order carries %s", order_id, stated, total, total)
    amounts["total"] = total
    return amounts


class OrderPlacer:
    """Runs validate then place for one order, with placement retries.

    ``schedule`` holds the delays (seconds, already scaled) before each
    retry of a failed placement.
    """

    def __init__(self, *, secret: str, timeout: float, schedule: Sequence[float],
                 stopping: threading.Event) -> None:
        self.secret = secret
        self.timeout = timeout
        self.schedule = list(schedule)
        self.stopping = stopping

    def validate(self, store: StoreRecord, payload: Dict[str, Any]) -> Dict[str, Any]:
        url = join_url(store.webhook_url, "validate")
        result = post_signed(url, payload, self.secret, timeout=self.timeout)
        order_id = payload["order"]["orderId"]
        if result.status is not None and 400 <= result.status < 500 and result.error is None:
            detail = result.body.get("detail") if isinstance(result.body, dict) else None
            raise SandboxOrderRejected(
                f"partner refused order {order_id} at validate: HTTP {result.status}"
                + (f" {result.body.get('errorCode')}" if isinstance(result.body, dict) and result.body.get("errorCode") else "")
                + (f": {detail}" if detail else ""),
                status=result.status, problem=result.body, order_id=order_id)
        if not result.ok or not isinstance(result.body, dict):
            raise SandboxWebhookError(f"validate webhook for order {order_id} failed: "
                                      f"{result.error or f'HTTP {result.status}, body {result.raw[:120]!r}'}",
                                      url=url, status=result.status, body=result.body)
        return result.body

    def place_once(self, order: OrderRecord) -> WebhookResult:
        url = join_url(order.store.webhook_url, "place")
        payload = dict(order.payload, paymentToken="tok_sandbox_" + secrets.token_hex(12))
        result = post_signed(url, payload, self.secret, timeout=self.timeout)
        if result.ok and not (isinstance(result.body, dict) and isinstance(result.body.get("partnerOrderId"), str)
                              and result.body["partnerOrderId"]):
            result.error = f"place answer lacks a partnerOrderId string: {result.raw[:120]!r}"
        with order.lock:
            order.placement["attempts"] += 1
            if result.ok:
                # The amounts are those place carried (validate's pricing);
                # place answers only confirm them.
                order.partner_order_id = result.body["partnerOrderId"]
                order.placement.update(status="placed", lastError=None)
            else:
                order.placement["lastError"] = result.error or f"HTTP {result.status}"
        return result

    def place_with_retries(self, order: OrderRecord) -> Optional[SandboxPlacementFailed]:
        """Attempt, then retry on the schedule; on final failure Gett cancels the order."""
        result = self.place_once(order)
        for delay in self.schedule:
            if result.ok:
                break
            with order.lock:
                order.placement["status"] = "retrying"
                order.placement["nextAttemptIn"] = delay
            if self.stopping.wait(delay):
                break
            result = self.place_once(order)
        failure = None
        with order.lock:
            order.placement.pop("nextAttemptIn", None)
            if not result.ok:
                order.placement["status"] = "failed"
                if order.state == "open":
                    order.state = "cancelled"
                    order.cancel_reason = "partner did not accept the placement"
                    order._record("gett", cancelReason=order.cancel_reason)
                failure = SandboxPlacementFailed(
                    f"placing order {order.order_id} failed after {order.placement['attempts']} attempts: "
                    f"{order.placement['lastError']}", url=result.url, order_id=order.order_id,
                    attempts=order.placement["attempts"], status=result.status, body=result.body)
        order.placed.set()
        return failure


def tip_amount(tip: Any) -> Decimal:
    if isinstance(tip, bool) or not isinstance(tip, (int, float, Decimal, str)):
        raise SandboxOrderError(f"tip must be a number >= 0, got {tip!r}")
    try:
        value = Decimal(str(tip))
    except ArithmeticError:
        raise SandboxOrderError(f"tip must be a number >= 0, got {tip!r}") from None
    if not value.is_finite() or value < 0:
        raise SandboxOrderError(f"tip must be a finite number >= 0, got {tip!r}")
    return value
