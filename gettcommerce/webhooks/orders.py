"""The order inside a ``validate`` or ``place`` webhook, parsed and checked: IncomingOrder."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Dict, List, Mapping, Optional, Union, overload

from .. import _html
from .._wire import to_decimal
from ..errors import InvalidRequestError
from ..models import Address, Amounts, Order

if TYPE_CHECKING:  # pragma: no cover
    from .._async import AsyncClient, AsyncOrder
    from .._client import Client

__all__ = ["IncomingOrder", "LineItem", "ModifierSelection", "SelectedModifier", "Customer", "short"]

def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _malformed(path: str, message: str, value: Any = None) -> InvalidRequestError:
    return InvalidRequestError(f"{path} {message}", field=path, value=value)


def _present(obj: Mapping[str, Any], key: str, path: str, required: bool) -> Any:
    """``obj[key]``, or None when absent (InvalidRequestError when it is required)."""
    value = obj.get(key)
    if value is None and required:
        raise _malformed(f"{path}.{key}", "is required")
    return value


def _get_str(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> Optional[str]:
    value = _present(obj, key, path, required)
    if value is not None and (not isinstance(value, str) or not value):
        raise _malformed(f"{path}.{key}", f"must be a non-empty string, not {short(value)}", value)
    return value


def _need_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _get_str(obj, key, path, required=True)
    if value is None:  # pragma: no cover - _get_str raised already; this narrows the type
        raise _malformed(f"{path}.{key}", "is required")
    return value


def _get_object(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> Optional[Dict[str, Any]]:
    value = _present(obj, key, path, required)
    if value is not None and not isinstance(value, dict):
        raise _malformed(f"{path}.{key}", f"must be an object, not {type(value).__name__}", value)
    return value


def _get_list(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> List[Any]:
    value = _present(obj, key, path, required)
    if value is not None and not isinstance(value, list):
        raise _malformed(f"{path}.{key}", f"must be an array, not {type(value).__name__}", value)
    return [] if value is None else value


def _get_quantity(obj: Mapping[str, Any], path: str) -> int:
    value = obj.get("quantity", 1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)   # some encoders write 2.0; the count is still whole
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _malformed(f"{path}.quantity", f"must be a whole number >= 1, not {short(value)}", value)
    return value


def _get_money(obj: Mapping[str, Any], key: str, path: str) -> Optional[Decimal]:
    value = obj.get(key)
    if value is None:
        return None
    where = f"{path}.{key}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _malformed(where, f"must be a number (major units), not {short(value)}", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _malformed(where, f"must be a finite number, not {value!r}", value)
    return to_decimal(value, where)


_INCOMING_AMOUNTS = (("sub_total", "subTotal"), ("taxes", "taxes"), ("fees", "fees"),
                     ("promotions", "promotions"), ("adjustments", "adjustments"),
                     ("tip", "tip"), ("total", "total"))


@dataclass
class SelectedModifier:
    """One chosen modifier (itself an item of the catalog) and its quantity."""

    item_id: str
    quantity: int = 1
    json_path: Optional[str] = field(default=None, repr=False, compare=False)


@dataclass
class ModifierSelection:
    """The modifiers chosen in one modifier group of a line item."""

    modifier_group_id: str
    selected_modifiers: List[SelectedModifier] = field(default_factory=list)
    json_path: Optional[str] = field(default=None, repr=False, compare=False)


@dataclass
class LineItem:
    """One line of the cart: an item, its quantity and its modifier choices.

    ``json_path`` (e.g. ``$.order.items[1]``) locates it in the webhook body;
    :class:`ItemUnavailable` uses it to point Gett at the offending line.
    """

    line_item_id: Optional[str]
    item_id: str
    quantity: int = 1
    modifier_groups: List[ModifierSelection] = field(default_factory=list)
    json_path: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def modifiers(self) -> List[SelectedModifier]:
        """Every selected modifier of every group, in order."""
        return [m for group in self.modifier_groups for m in group.selected_modifiers]


@dataclass
class Customer:
    """The consumer who ordered (any field may be absent)."""

    name: Optional[str] = None
    phone: Optional[str] = None
    email: Optional[str] = None


def _parse_line_item(entry: Any, index: int) -> LineItem:
    path = f"order.items[{index}]"
    if not isinstance(entry, dict):
        raise _malformed(path, f"must be an object, not {type(entry).__name__}", entry)
    groups = []
    for g_index, group in enumerate(_get_list(entry, "modifierGroups", path, required=False)):
        g_path = f"{path}.modifierGroups[{g_index}]"
        if not isinstance(group, dict):
            raise _malformed(g_path, f"must be an object, not {type(group).__name__}", group)
        chosen = []
        for m_index, modifier in enumerate(_get_list(group, "selectedModifiers", g_path, required=False)):
            m_path = f"{g_path}.selectedModifiers[{m_index}]"
            if not isinstance(modifier, dict):
                raise _malformed(m_path, f"must be an object, not {type(modifier).__name__}", modifier)
            chosen.append(SelectedModifier(_need_str(modifier, "itemId", m_path),
                                           _get_quantity(modifier, m_path), json_path="$." + m_path))
        groups.append(ModifierSelection(_need_str(group, "modifierGroupId", g_path),
                                        chosen, json_path="$." + g_path))
    return LineItem(_get_str(entry, "lineItemId", path, required=False),
                    _need_str(entry, "itemId", path),
                    _get_quantity(entry, path), groups, json_path="$." + path)


def _parse_amounts(order: Mapping[str, Any]) -> Amounts:
    amounts = _get_object(order, "amounts", "order", required=False)
    if amounts is None:
        # The older validate body carried only ``order.subTotal``.
        if order.get("subTotal") is None:
            raise _malformed("order.amounts", "is required (with at least subTotal)")
        amounts = {"subTotal": order.get("subTotal")}
        path = "order"
    else:
        path = "order.amounts"
        if amounts.get("subTotal") is None:
            raise _malformed("order.amounts.subTotal", "is required")
    values = {name: _get_money(amounts, wire, path) for name, wire in _INCOMING_AMOUNTS}
    for name in ("sub_total", "tip"):
        value = values[name]
        if value is not None and value < 0:
            wire = dict(_INCOMING_AMOUNTS)[name]
            raise _malformed(f"{path}.{wire}", f"must be >= 0, not {value}", value)
    sub_total = values.pop("sub_total")   # never None: required above
    return Amounts(sub_total if sub_total is not None else 0, **values)


class IncomingOrder:
    """The order in a ``validate`` or ``place`` webhook, parsed and checked.

    Money is ``Decimal``; ``raw`` is the decoded JSON body as sent.  Parse
    errors are :class:`~gettcommerce.errors.InvalidRequestError` naming the
    field (``order.items[0].quantity``); :class:`WebhookApp` answers them
    with a 400 problem.

    >>> body = (b'{"order": {"orderId": "o-1", "storeId": "s-1", "fulfillmentType": "pickup",'
    ...         b' "items": [{"lineItemId": "l1", "itemId": "burger", "quantity": 2}],'
    ...         b' "amounts": {"subTotal": 19.8, "tip": 1}}, "user": {"name": "Dana"}}')
    >>> order = IncomingOrder.parse(body)
    >>> order.order_id, order.items[0].item_id, order.amounts.sub_total, order.amounts.total
    ('o-1', 'burger', Decimal('19.8'), Decimal('20.8'))
    """

    __slots__ = ("order_id", "store_id", "partner_store_id", "catalog_set_id", "fulfillment_type",
                 "items", "amounts", "user", "delivery_address", "payment_token", "kind", "raw",
                 "client")
    _compared = ("order_id", "store_id", "partner_store_id", "catalog_set_id", "fulfillment_type",
                 "items", "amounts", "user", "delivery_address", "payment_token")

    def __init__(self, order_id: str, *, store_id: Optional[str] = None,
                 partner_store_id: Optional[str] = None, catalog_set_id: Optional[str] = None,
                 fulfillment_type: str = "pickup", items: Optional[List[LineItem]] = None,
                 amounts: Optional[Amounts] = None, user: Optional[Customer] = None,
                 delivery_address: Optional[Address] = None, payment_token: Optional[str] = None,
                 kind: Optional[str] = None, raw: Optional[Dict[str, Any]] = None,
                 client: Optional["Client"] = None) -> None:
        self.order_id: str = order_id
        self.store_id: Optional[str] = store_id
        self.partner_store_id: Optional[str] = partner_store_id
        self.catalog_set_id: Optional[str] = catalog_set_id
        self.fulfillment_type: str = fulfillment_type
        self.items: List[LineItem] = list(items or [])
        self.amounts: Amounts = amounts if amounts is not None else Amounts(0)
        self.user: Customer = user if user is not None else Customer()
        self.delivery_address: Optional[Address] = delivery_address
        self.payment_token: Optional[str] = payment_token
        self.kind: Optional[str] = kind
        self.raw: Dict[str, Any] = raw if raw is not None else {}
        self.client: Optional[Client] = client

    def __repr__(self) -> str:
        # payment_token is a credential: it never appears in a repr or a log line.
        return (f"IncomingOrder(order_id={self.order_id!r}, store_id={self.store_id!r}, "
                f"fulfillment_type={self.fulfillment_type!r}, items={len(self.items)}, "
                f"total={self.amounts.total!r}, kind={self.kind!r})")

    def _repr_html_(self) -> str:
        """Jupyter: a card of the order (never its payment token), ``kind`` as the badge."""
        lines = []
        for line in self.items:
            mods = ", ".join(f"{m.item_id}" + (f" \u00d7{m.quantity}" if m.quantity != 1 else "")
                             for m in line.modifiers)
            lines.append(f"{line.quantity} \u00d7 {line.item_id}" + (f" ({mods})" if mods else ""))
        amounts = self.amounts
        money = {name: getattr(amounts, name) for name in amounts._fields if name != "total"}
        rows = [("store_id", self.store_id), ("partner_store_id", self.partner_store_id),
                ("fulfillment", self.fulfillment_type), ("items", "; ".join(lines)),
                ("total", f"{amounts.total} ({_html.format_value({k: v for k, v in money.items() if v})})"),
                ("customer", self.user.name), ("delivery_address", self.delivery_address),
                ("catalog_set_id", self.catalog_set_id)]
        return _html.card("IncomingOrder", rows, self.kind or self.fulfillment_type, subtitle=self.order_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IncomingOrder):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._compared)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    @property
    def is_delivery(self) -> bool:
        return self.fulfillment_type == "delivery"

    @property
    def is_pickup(self) -> bool:
        return self.fulfillment_type == "pickup"

    @classmethod
    def parse(cls, body: Union[bytes, bytearray, memoryview, str, Mapping[str, Any]], *,
              kind: Optional[str] = None) -> "IncomingOrder":
        """Parse a webhook body (raw bytes, text, or already-decoded dict).

        ``kind`` is ``"validate"`` or ``"place"`` when known (it is only
        recorded; ``paymentToken`` is read whenever present).
        """
        if isinstance(body, (bytes, bytearray, memoryview)):
            try:
                body = bytes(body).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _malformed("body", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        if isinstance(body, str):
            if not body.strip():
                raise _malformed("body", "is empty; expected a JSON object with an 'order'")
            try:
                data = json.loads(body, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise _malformed("body", f"is not valid JSON: {exc}") from None
        elif isinstance(body, Mapping):
            data = dict(body)
        else:
            raise InvalidRequestError(f"body must be bytes, str or a dict, not {type(body).__name__}",
                                      field="body", value=body)
        if not isinstance(data, dict):
            raise _malformed("body", f"must be a JSON object, not {type(data).__name__}", data)
        order = _get_object(data, "order", "body", required=True)
        assert order is not None  # for type checkers; _get_object raised otherwise
        fulfillment = _need_str(order, "fulfillmentType", "order")
        if fulfillment not in ("delivery", "pickup"):
            raise _malformed("order.fulfillmentType", f"must be 'delivery' or 'pickup', not {fulfillment!r}",
                             fulfillment)
        raw_items = _get_list(order, "items", "order", required=True)
        if not raw_items:
            raise _malformed("order.items", "must hold at least one line item")
        items = [_parse_line_item(entry, i) for i, entry in enumerate(raw_items)]
        user = _get_object(data, "user", "body", required=False) or {}
        customer = Customer(_get_str(user, "name", "user", required=False),
                            _get_str(user, "phone", "user", required=False),
                            _get_str(user, "email", "user", required=False))
        address_data = _get_object(data, "deliveryAddress", "body", required=False)
        if address_data is not None:
            for key in ("street", "city", "state", "postalCode", "country"):
                _get_str(address_data, key, "deliveryAddress", required=False)
        token = data.get("paymentToken")
        if token is not None and not isinstance(token, str):
            raise _malformed("paymentToken", f"must be a string, not {type(token).__name__}")
        return cls(_need_str(order, "orderId", "order"),
                   store_id=_get_str(order, "storeId", "order", required=False),
                   partner_store_id=_get_str(order, "partnerStoreId", "order", required=False),
                   catalog_set_id=_get_str(order, "catalogSetId", "order", required=False),
                   fulfillment_type=fulfillment, items=items, amounts=_parse_amounts(order),
                   user=customer, delivery_address=Address.from_dict(address_data),
                   payment_token=token, kind=kind, raw=data)

    @overload
    def order(self, client: "AsyncClient") -> "AsyncOrder": ...

    @overload
    def order(self, client: Optional["Client"] = None) -> Order: ...

    def order(self, client: Any = None) -> Any:
        """An :class:`~gettcommerce.models.Order` for pushing this order's status
        (an :class:`~gettcommerce.AsyncOrder`, with coroutine methods, for an AsyncClient).

        Uses ``client``, or the Client given to the WebhookApp that parsed it.
        """
        client = client if client is not None else self.client
        if client is None:
            raise InvalidRequestError("IncomingOrder.order() needs a Client: pass one, or give "
                                      "WebhookApp(client=...)", field="client")
        return client.order(self.order_id)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")

