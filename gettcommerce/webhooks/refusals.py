"""How a handler refuses an order: OrderRejected, ItemUnavailable (4xx problems for Gett)."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from .orders import IncomingOrder, LineItem, SelectedModifier

__all__ = ["OrderRejected", "ItemUnavailable", "locate"]

_ITEM_FIELDS = {"itemId": "itemId", "item_id": "itemId", "jsonPath": "jsonPath",
                "json_path": "jsonPath", "message": "message", "code": "code"}


class OrderRejected(Exception):
    """Raise from ``on_validate``/``on_place`` to refuse an order with a 4xx problem.

    Gett shows ``detail`` to support staff; ``error_code`` is one of Gett's
    codes (``STORE_CLOSED``, ``ORDER_BELOW_MINIMUM``, ``ADDRESS_OUT_OF_RANGE``...).

    >>> raise OrderRejected("We close at 22:00", error_code="STORE_CLOSED", error_category="availability")
    Traceback (most recent call last):
    ...
    gettcommerce.webhooks.OrderRejected: We close at 22:00
    """

    def __init__(self, detail: str, *, error_code: str = "INVALID_REQUEST", status: int = 400,
                 error_category: str = "validation", errors: Optional[List[Dict[str, Any]]] = None) -> None:
        if not isinstance(status, int) or not 400 <= status <= 499:
            raise ValueError(f"OrderRejected status must be a 4xx code, not {status!r}")
        super().__init__(detail)
        self.detail = detail
        self.error_code = error_code
        self.status = status
        self.error_category = error_category
        self.errors = list(errors or [])


class ItemUnavailable(OrderRejected):
    """Refuse an order because items are out of stock -> 400 ``ITEM_UNAVAILABLE``.

    Each entry is an item id (str), a :class:`LineItem` or
    :class:`SelectedModifier` from the IncomingOrder (its ``jsonPath`` is
    filled in), or a dict ``{itemId, jsonPath, message}``.  A bare item id is
    located in the order by WebhookApp so Gett still gets a ``jsonPath``.

    >>> exc = ItemUnavailable(["fries", {"itemId": "cola", "message": "sold out"}])
    >>> [e["itemId"] for e in exc.errors], exc.detail
    (['fries', 'cola'], 'Unavailable: fries, cola')
    """

    def __init__(self, errors: Sequence[Any], detail: Optional[str] = None) -> None:
        if isinstance(errors, (str, bytes, Mapping, LineItem, SelectedModifier)):
            errors = [errors]
        entries = [_unavailable_entry(e, i) for i, e in enumerate(errors)]
        if not entries:
            raise ValueError("ItemUnavailable needs at least one unavailable item")
        if detail is None:
            detail = "Unavailable: " + ", ".join(e["itemId"] for e in entries)
        super().__init__(detail, error_code="ITEM_UNAVAILABLE", error_category="availability",
                         errors=entries)


def _unavailable_entry(entry: Any, index: int) -> Dict[str, Any]:
    if isinstance(entry, str):
        return {"code": "ITEM_UNAVAILABLE", "itemId": entry, "message": f"item {entry} is unavailable"}
    if isinstance(entry, (LineItem, SelectedModifier)):
        out = {"code": "ITEM_UNAVAILABLE", "itemId": entry.item_id,
               "message": f"item {entry.item_id} is unavailable"}
        if entry.json_path:
            out["jsonPath"] = entry.json_path
        return out
    if isinstance(entry, Mapping):
        out = {"code": "ITEM_UNAVAILABLE"}
        for key, value in entry.items():
            if key not in _ITEM_FIELDS:
                raise ValueError(f"ItemUnavailable errors[{index}]: unknown key {key!r} "
                                 "(expected itemId, jsonPath, message, code)")
            out[_ITEM_FIELDS[key]] = value
        if not isinstance(out.get("itemId"), str) or not out["itemId"]:
            raise ValueError(f"ItemUnavailable errors[{index}] needs an itemId string")
        out.setdefault("message", f"item {out['itemId']} is unavailable")
        return out
    raise TypeError(f"ItemUnavailable errors[{index}] must be an item id, a LineItem, a "
                    f"SelectedModifier or a dict, not {type(entry).__name__}")


def locate(order: IncomingOrder, item_id: str) -> Optional[str]:
    for line in order.items:
        if line.item_id == item_id:
            return line.json_path
        for modifier in line.modifiers:
            if modifier.item_id == item_id:
                return modifier.json_path
    return None

