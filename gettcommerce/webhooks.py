"""Webhooks Gett sends to partners: signature checks, parsed orders, WebhookApp.

Gett creates an order by calling the partner twice: ``POST {webhookUrl}/validate``
(availability and exact prices) and then ``POST {webhookUrl}/place`` (the
order is final; the partner answers with its own order id).  Gett signs the
raw body: ``Signature`` is the hex HMAC-SHA256 of the body with the webhook
secret, ``Timestamp`` the unix time of signing (not part of the signed data),
``API-Version`` the protocol version.  A request whose timestamp is more than
``tolerance`` seconds off, in either direction, is refused, so a captured
request cannot be replayed later.

:class:`WebhookApp` does all of it for a partner: it checks the signature,
parses the body into an :class:`IncomingOrder`, calls the partner's
``on_validate``/``on_place``, deduplicates retried ``place`` deliveries and
answers in Gett's problem+json shape.  It is framework-agnostic
(:meth:`WebhookApp.handle`), a WSGI application, and has thin Flask and
Django adapters in :mod:`gettcommerce.contrib`.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import logging
import math
import socketserver
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Protocol, Sequence, Tuple, Union, overload)
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ._constants import WEBHOOK_API_VERSION, WEBHOOK_TOLERANCE
from .errors import InvalidRequestError, WebhookVerificationError
from .models import Address, Amounts, Order, to_decimal

if TYPE_CHECKING:  # pragma: no cover
    from ._async import AsyncClient, AsyncOrder
    from ._client import Client

__all__ = [
    "sign", "verify", "compute_signature",
    "IncomingOrder", "LineItem", "ModifierSelection", "SelectedModifier", "Customer",
    "OrderRejected", "ItemUnavailable",
    "PlacedOrderStore", "InMemoryPlacedOrderStore", "WebhookApp",
]

logger = logging.getLogger("gettcommerce.webhooks")

Secret = Union[str, bytes]


def _as_bytes(value: Union[str, bytes, bytearray, memoryview], what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")


def compute_signature(body: Union[str, bytes], secret: Secret) -> str:
    """Hex HMAC-SHA256 of the raw body with the secret."""
    return hmac.new(_as_bytes(secret, "secret"), _as_bytes(body, "body"), hashlib.sha256).hexdigest()


def sign(body: Union[str, bytes], secret: Secret, timestamp: Optional[int] = None) -> dict:
    """Headers Gett would send with ``body``: Signature, Timestamp, API-Version.

    >>> headers = sign(b'{"order": {}}', "whsec_test", timestamp=1700000000)
    >>> sorted(headers)
    ['API-Version', 'Content-Type', 'Signature', 'Timestamp']
    """
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "Content-Type": "application/json",
        "Signature": compute_signature(body, secret),
        "Timestamp": str(ts),
        "API-Version": WEBHOOK_API_VERSION,
    }


def _header(headers: Union[Mapping[str, str], Iterable[Any]], name: str) -> Optional[str]:
    """Case-insensitive header lookup over a mapping or (name, value) pairs."""
    # Flask's and Django's header objects are not Mappings but have items().
    items: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
    wanted = name.lower()
    for key, value in items:
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if key.lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return value
    return None


def verify(body: Union[str, bytes], headers, secret: Union[Secret, Sequence[Secret]], *,
           tolerance: int = WEBHOOK_TOLERANCE, now: Optional[float] = None) -> None:
    """Check a webhook's signature and timestamp; raise WebhookVerificationError if bad.

    ``body`` must be the raw bytes as received (not re-serialized JSON).
    ``secret`` may be a list of secrets while one is being rotated: the
    request is accepted when any of them matches.

    >>> body = b'{"order": {}}'
    >>> verify(body, sign(body, "whsec_test"), "whsec_test")
    """
    raw = _as_bytes(body, "body")
    secrets = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    if not secrets:
        raise ValueError("verify: at least one secret is required")
    signature = _header(headers, "Signature")
    timestamp = _header(headers, "Timestamp")
    if not signature:
        raise WebhookVerificationError("missing Signature header")
    if not timestamp:
        raise WebhookVerificationError("missing Timestamp header")
    try:
        ts = int(timestamp.strip())
    except ValueError:
        raise WebhookVerificationError(f"invalid Timestamp header: {timestamp[:40]!r}") from None
    current = time.time() if now is None else now
    if ts < current - tolerance:
        raise WebhookVerificationError(
            f"stale Timestamp: {int(current - ts)} s old, more than the {tolerance} s tolerance")
    if ts > current + tolerance:
        raise WebhookVerificationError(
            f"Timestamp {int(ts - current)} s in the future, more than the {tolerance} s tolerance")
    given = signature.strip().lower().encode("ascii", "replace")
    for candidate in secrets:
        expected = compute_signature(raw, candidate).encode("ascii")
        if hmac.compare_digest(expected, given):
            return
    raise WebhookVerificationError("signature does not match the body and secret")


# ---------------------------------------------------------------- parsed orders

def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _malformed(path: str, message: str, value: Any = None) -> InvalidRequestError:
    return InvalidRequestError(f"{path} {message}", field=path, value=value)


def _get_str(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> Optional[str]:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if required:
            raise _malformed(where, "is required")
        return None
    if not isinstance(value, str) or not value:
        raise _malformed(where, f"must be a non-empty string, not {_short(value)}", value)
    return value


def _need_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = _get_str(obj, key, path, required=True)
    if value is None:  # pragma: no cover - _get_str raised already; this narrows the type
        raise _malformed(f"{path}.{key}", "is required")
    return value


def _get_object(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> Optional[Dict[str, Any]]:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if required:
            raise _malformed(where, "is required")
        return None
    if not isinstance(value, dict):
        raise _malformed(where, f"must be an object, not {type(value).__name__}", value)
    return value


def _get_list(obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> List[Any]:
    value = obj.get(key)
    where = f"{path}.{key}"
    if value is None:
        if required:
            raise _malformed(where, "is required")
        return []
    if not isinstance(value, list):
        raise _malformed(where, f"must be an array, not {type(value).__name__}", value)
    return value


def _get_quantity(obj: Mapping[str, Any], path: str) -> int:
    value = obj.get("quantity", 1)
    if isinstance(value, float) and value.is_integer():
        value = int(value)   # some encoders write 2.0; the count is still whole
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _malformed(f"{path}.quantity", f"must be a whole number >= 1, not {_short(value)}", value)
    return value


def _get_money(obj: Mapping[str, Any], key: str, path: str) -> Optional[Decimal]:
    value = obj.get(key)
    if value is None:
        return None
    where = f"{path}.{key}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _malformed(where, f"must be a number (major units), not {_short(value)}", value)
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
    sub_total = values.pop("sub_total")
    return Amounts(sub_total, **values)


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
        self.order_id = order_id
        self.store_id = store_id
        self.partner_store_id = partner_store_id
        self.catalog_set_id = catalog_set_id
        self.fulfillment_type = fulfillment_type
        self.items = list(items or [])
        self.amounts = amounts if amounts is not None else Amounts(0)
        self.user = user if user is not None else Customer()
        self.delivery_address = delivery_address
        self.payment_token = payment_token
        self.kind = kind
        self.raw = raw if raw is not None else {}
        self.client = client

    def __repr__(self) -> str:
        # payment_token is a credential: it never appears in a repr or a log line.
        return (f"IncomingOrder(order_id={self.order_id!r}, store_id={self.store_id!r}, "
                f"fulfillment_type={self.fulfillment_type!r}, items={len(self.items)}, "
                f"total={self.amounts.total!r}, kind={self.kind!r})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IncomingOrder):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._compared)

    __hash__ = None  # type: ignore[assignment]

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


# ---------------------------------------------------------------- refusals

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


def _locate(order: IncomingOrder, item_id: str) -> Optional[str]:
    for line in order.items:
        if line.item_id == item_id:
            return line.json_path
        for modifier in line.modifiers:
            if modifier.item_id == item_id:
                return modifier.json_path
    return None


# ---------------------------------------------------------------- place dedupe

class PlacedOrderStore(Protocol):
    """Where WebhookApp keeps the answer to each placed order, keyed by orderId.

    Gett retries ``place`` when it gets no answer in time; the retry must not
    create a second order in the partner's POS, so the first successful
    answer is stored and replayed.  Implement ``get``/``set`` over Redis or a
    database to share it between processes.  Within one process WebhookApp
    already serialises deliveries of one orderId; across processes, give the
    store a ``lock(order_id)`` method returning a context manager (e.g. a
    Redis lock) and WebhookApp holds it around get -> on_place -> set.
    """

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        """The stored JSON-ready answer, or None when this order was never placed."""

    def set(self, order_id: str, response: Dict[str, Any]) -> None:
        """Remember the answer given to a successful place."""


class InMemoryPlacedOrderStore:
    """The default PlacedOrderStore: a thread-safe dict, oldest entries dropped past ``max_entries``."""

    def __init__(self, max_entries: int = 100_000) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise InvalidRequestError(f"max_entries must be an int >= 1, not {max_entries!r}",
                                      field="max_entries", value=max_entries)
        self.max_entries = max_entries
        self._entries: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        with self._lock:
            return self._entries.get(order_id)

    def set(self, order_id: str, response: Dict[str, Any]) -> None:
        with self._lock:
            self._entries[order_id] = response
            self._entries.move_to_end(order_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class _KeyedLocks:
    """One lock per key, created on demand and dropped when nobody holds it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: Dict[str, List[Any]] = {}   # key -> [lock, holders-or-waiters]

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]


# ---------------------------------------------------------------- the app

Response = Tuple[int, List[Tuple[str, str]], bytes]

_PHRASES = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error"}
_ERROR_TYPE = "https://developer.gett-tech.com/errors/"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _phrase(status: int) -> str:
    from http import HTTPStatus
    try:
        return _PHRASES.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _utc_now_iso() -> str:
    now = _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _check_secrets(secret: Any) -> List[Union[str, bytes]]:
    secrets = [secret] if isinstance(secret, (str, bytes)) else secret
    if not isinstance(secrets, (list, tuple)) or not secrets:
        raise InvalidRequestError("secret must be the webhook secret (str or bytes) or a non-empty "
                                  f"list of them, not {type(secret).__name__}", field="secret")
    for item in secrets:
        if not isinstance(item, (str, bytes)) or not item:
            raise InvalidRequestError("every webhook secret must be a non-empty str or bytes",
                                      field="secret")
    return list(secrets)


class WebhookApp:
    """Receive Gett's ``validate`` and ``place`` webhooks, framework-agnostic.

    ``on_validate(order) -> gett.Amounts`` prices the cart (raise
    :class:`ItemUnavailable` or :class:`OrderRejected` to refuse it);
    ``on_place(order) -> str`` injects the final order into the POS and
    returns the partner's order id (or a dict with ``partnerOrderId`` and
    optional ``amounts``).  Repeated ``place`` deliveries of one orderId
    call ``on_place`` once and replay its answer.  ``client`` is handed to
    each :class:`IncomingOrder` so ``order.order().confirm()`` works.

    >>> from gettcommerce import Amounts
    >>> app = WebhookApp("whsec_test", on_validate=lambda o: Amounts(o.amounts.sub_total, taxes="1.50"),
    ...                  on_place=lambda o: "POS-" + o.order_id)
    >>> body = (b'{"order": {"orderId": "o-1", "fulfillmentType": "pickup",'
    ...         b' "items": [{"itemId": "burger", "quantity": 1}], "amounts": {"subTotal": 10}}}')
    >>> status, headers, answer = app.handle("POST", "/gett/place", sign(body, "whsec_test"), body)
    >>> status, json.loads(answer)["partnerOrderId"]
    (200, 'POS-o-1')
    """

    def __init__(self, secret: Union[str, bytes, Sequence[Union[str, bytes]]], *,
                 on_validate: Callable[[IncomingOrder], Any], on_place: Callable[[IncomingOrder], Any],
                 client: Optional["Client"] = None, store: Optional[PlacedOrderStore] = None,
                 tolerance: int = WEBHOOK_TOLERANCE, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self._secrets = _check_secrets(secret)
        for name, handler in (("on_validate", on_validate), ("on_place", on_place)):
            if not callable(handler):
                raise InvalidRequestError(f"{name} must be callable(order), not {type(handler).__name__}",
                                          field=name, value=handler)
        if store is None:
            store = InMemoryPlacedOrderStore()
        elif not (callable(getattr(store, "get", None)) and callable(getattr(store, "set", None))):
            raise InvalidRequestError("store must have get(order_id) and set(order_id, response) methods",
                                      field="store", value=store)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance <= 0:
            raise InvalidRequestError(f"tolerance must be a positive number of seconds, not {tolerance!r}",
                                      field="tolerance", value=tolerance)
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise InvalidRequestError(f"max_body_bytes must be an int >= 1, not {max_body_bytes!r}",
                                      field="max_body_bytes", value=max_body_bytes)
        self.on_validate = on_validate
        self.on_place = on_place
        self.client = client
        self.store = store
        self.tolerance = tolerance
        self.max_body_bytes = max_body_bytes
        self._place_locks = _KeyedLocks()

    def __repr__(self) -> str:
        # Never show the secret.
        return f"<WebhookApp on_validate={_name(self.on_validate)} on_place={_name(self.on_place)}>"

    # -- routing ---------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: Union[bytes, str, None]) -> Response:
        """Answer one request: ``(status, [(header, value)...], body_bytes)``.

        ``path`` may carry any prefix (``/gett/validate``); ``headers`` is a
        mapping or (name, value) pairs, matched case-insensitively; ``body``
        is the raw request body.
        """
        route = (path or "").split("?", 1)[0]
        trimmed = route.rstrip("/")
        kind = None
        for candidate in ("validate", "place"):
            if trimmed == candidate or trimmed.endswith("/" + candidate):
                kind = candidate
        if kind is None:
            return self._problem(404, "NOT_FOUND", "not_found",
                                 f"No webhook at {route or '/'}; Gett calls .../validate and .../place",
                                 route, _request_id())
        return self.dispatch(kind, method, headers, body, instance=route)

    def dispatch(self, kind: str, method: str, headers: Any, body: Union[bytes, str, None], *,
                 instance: Optional[str] = None) -> Response:
        """Like :meth:`handle` for a known ``kind`` (``"validate"``/``"place"``).

        Adapters that route by URL themselves (Flask, Django) call this.
        """
        if kind not in ("validate", "place"):
            raise InvalidRequestError(f"kind must be 'validate' or 'place', not {kind!r}",
                                      field="kind", value=kind)
        instance = instance or "/" + kind
        request_id = _request_id()
        if (method or "").upper() != "POST":
            status, hdrs, payload = self._problem(405, "METHOD_NOT_ALLOWED", "validation",
                                                  f"{method} is not allowed; Gett sends POST",
                                                  instance, request_id)
            return status, hdrs + [("Allow", "POST")], payload
        raw = body if body is not None else b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw = bytes(raw)
        if len(raw) > self.max_body_bytes:
            return self._problem(413, "PAYLOAD_TOO_LARGE", "validation",
                                 f"Body of {len(raw)} bytes exceeds the {self.max_body_bytes}-byte limit",
                                 instance, request_id)
        try:
            verify(raw, headers, self._secrets, tolerance=self.tolerance)
        except WebhookVerificationError as exc:
            # Never reaches the handlers: an unsigned request could be anyone.
            logger.warning("refused %s webhook at %s: %s (requestId %s)", kind, instance, exc, request_id)
            return self._problem(401, "UNAUTHENTICATED", "authentication", f"Webhook refused: {exc}",
                                 instance, request_id)
        try:
            order = IncomingOrder.parse(raw, kind=kind)
        except InvalidRequestError as exc:
            logger.warning("malformed %s webhook at %s: %s (requestId %s)", kind, instance, exc, request_id)
            return self._problem(400, "INVALID_REQUEST", "validation", str(exc), instance, request_id)
        order.client = self.client
        if kind == "validate":
            return self._validate(order, instance, request_id)
        return self._place(order, instance, request_id)

    # -- validate / place ------------------------------------------------

    def _validate(self, order: IncomingOrder, instance: str, request_id: str) -> Response:
        outcome = self._call("on_validate", self.on_validate, order, instance, request_id)
        if isinstance(outcome, tuple):
            return outcome
        try:
            answer = {"amounts": _amounts_wire(outcome, "on_validate")}
            payload = _json_bytes(answer)
        except (TypeError, ValueError) as exc:
            return self._handler_failed("on_validate", order, exc, instance, request_id, quiet=True)
        logger.info("validated order %s (requestId %s)", order.order_id, request_id)
        return 200, [("Content-Type", "application/json")], payload

    def _place(self, order: IncomingOrder, instance: str, request_id: str) -> Response:
        store_lock = getattr(self.store, "lock", None)
        with self._place_locks.hold(order.order_id):
            with (store_lock(order.order_id) if callable(store_lock) else contextlib.nullcontext()):
                try:
                    stored = self.store.get(order.order_id)
                except Exception as exc:  # a broken Redis must not create a duplicate order
                    return self._handler_failed("store.get", order, exc, instance, request_id)
                if stored is not None:
                    try:
                        replay = _json_bytes(stored)
                    except (TypeError, ValueError) as exc:
                        return self._handler_failed("store.get", order, exc, instance, request_id)
                    logger.info("replaying stored place answer for order %s (requestId %s)",
                                order.order_id, request_id)
                    return 200, [("Content-Type", "application/json"),
                                 ("Idempotent-Replayed", "true")], replay
                outcome = self._call("on_place", self.on_place, order, instance, request_id)
                if isinstance(outcome, tuple):
                    return outcome   # refusals and failures are not stored: Gett's retry tries again
                try:
                    answer = _place_wire(outcome, order)
                    payload = _json_bytes(answer)
                except (TypeError, ValueError) as exc:
                    return self._handler_failed("on_place", order, exc, instance, request_id, quiet=True)
                try:
                    self.store.set(order.order_id, answer)
                except Exception:
                    # The order is in the POS now; answering 500 would make Gett
                    # retry and the retry would place it twice.  Say so loudly.
                    logger.exception("order %s placed but its answer could not be stored; a retried "
                                     "delivery would call on_place again (requestId %s)",
                                     order.order_id, request_id)
                logger.info("placed order %s as %s (requestId %s)", order.order_id,
                            answer["partnerOrderId"], request_id)
                return 200, [("Content-Type", "application/json")], payload

    def _call(self, name: str, handler: Callable[[IncomingOrder], Any], order: IncomingOrder,
              instance: str, request_id: str) -> Any:
        """The handler's result, or a ready Response tuple when it refused or failed."""
        try:
            return handler(order)
        except OrderRejected as refusal:
            errors = [dict(e) for e in refusal.errors]
            for entry in errors:
                if "jsonPath" not in entry and isinstance(entry.get("itemId"), str):
                    located = _locate(order, entry["itemId"])
                    if located:
                        entry["jsonPath"] = located
            logger.info("%s refused order %s: %s %s (requestId %s)", name, order.order_id,
                        refusal.error_code, refusal.detail, request_id)
            return self._problem(refusal.status, refusal.error_code, refusal.error_category,
                                 refusal.detail, instance, request_id, errors=errors)
        except Exception as exc:
            return self._handler_failed(name, order, exc, instance, request_id)

    def _handler_failed(self, name: str, order: IncomingOrder, exc: BaseException, instance: str,
                        request_id: str, quiet: bool = False) -> Response:
        # The traceback goes to the partner's log, never into the answer: it
        # could hold connection strings, paths or customer data.
        if quiet:
            logger.error("%s returned an unusable answer for order %s: %s (requestId %s)",
                         name, order.order_id, exc, request_id)
        else:
            logger.exception("%s failed for order %s (requestId %s)", name, order.order_id, request_id)
        return self._problem(500, "INTERNAL_ERROR", "server_error",
                             f"The partner's {name} failed; see its logs for requestId {request_id}",
                             instance, request_id, retryable=True)

    @staticmethod
    def _problem(status: int, code: str, category: str, detail: str, instance: str, request_id: str, *,
                 retryable: bool = False, errors: Optional[List[Dict[str, Any]]] = None) -> Response:
        problem: Dict[str, Any] = {
            "type": _ERROR_TYPE + code, "title": _phrase(status), "status": status, "detail": detail,
            "instance": instance, "errorCode": code, "errorCategory": category,
            "retryable": retryable, "requestId": request_id, "timestamp": _utc_now_iso(),
        }
        if errors:
            problem["errors"] = errors
        try:
            payload = _json_bytes(problem)
        except (TypeError, ValueError):
            # A refusal's errors[] held something JSON cannot carry; keep the rest.
            problem.pop("errors", None)
            payload = _json_bytes(problem)
        return status, [("Content-Type", "application/problem+json")], payload

    # -- WSGI ------------------------------------------------------------

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        """WSGI entry point: mount it at the webhook base URL."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items()
                   if key.startswith("HTTP_")]
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        status, out_headers, payload = self._wsgi_dispatch(environ, method, path, headers)
        out_headers = out_headers + [("Content-Length", str(len(payload)))]
        start_response(f"{status} {_phrase(status)}", out_headers)
        return [payload]

    def _wsgi_dispatch(self, environ: Dict[str, Any], method: str, path: str,
                       headers: List[Tuple[str, str]]) -> Response:
        length_text = (environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ.get("wsgi.input")
        if length_text:
            try:
                length = int(length_text)
                if length < 0:
                    raise ValueError
            except ValueError:
                return self._problem(400, "INVALID_REQUEST", "validation",
                                     f"Content-Length {length_text[:20]!r} is not a byte count",
                                     path, _request_id())
        elif environ.get("wsgi.input_terminated"):
            length = self.max_body_bytes + 1   # the server ends the stream (chunked bodies)
        else:
            length = 0
        if length > self.max_body_bytes and length_text:
            # Refuse before reading so a huge body costs no memory.
            return self._problem(413, "PAYLOAD_TOO_LARGE", "validation",
                                 f"Body of {length} bytes exceeds the {self.max_body_bytes}-byte limit",
                                 path, _request_id())
        chunks = []
        remaining = length
        while remaining > 0 and stream is not None:
            chunk = stream.read(min(remaining, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return self.handle(method, path, headers, b"".join(chunks))

    # -- local server ----------------------------------------------------

    @contextlib.contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Run this app on a local port (threaded) and yield its base URL.

        For development, demos and tests: the socket is listening when the
        URL is yielded, and the server stops when the block ends.

        >>> app = WebhookApp("whsec_test", on_validate=lambda o: o.amounts, on_place=lambda o: "P1")
        >>> with app.serve() as url:
        ...     url.startswith("http://127.0.0.1:")
        True
        """
        server = make_server(host, port, self, server_class=_ThreadingWSGIServer,
                             handler_class=_QuietRequestHandler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"gett-webhooks:{server.server_port}", daemon=True)
        thread.start()
        try:
            yield f"http://{host}:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def _name(handler: Any) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex[:20]


def _amounts_wire(value: Any, name: str) -> Dict[str, Any]:
    if isinstance(value, Amounts):
        return value.to_dict()
    if isinstance(value, Mapping):
        data = value.get("amounts", value)
        if isinstance(data, Amounts):
            return data.to_dict()
        if isinstance(data, Mapping) and data.get("subTotal") is not None:
            amounts = Amounts.from_dict(dict(data))
            assert amounts is not None
            return amounts.to_dict()
    raise TypeError(f"{name} must return gett.Amounts (or a dict with subTotal), not {_short(value)}")


def _place_wire(value: Any, order: IncomingOrder) -> Dict[str, Any]:
    if isinstance(value, Mapping):
        answer = dict(value)
        partner_id = answer.pop("partnerOrderId", answer.pop("partner_order_id", None))
        amounts = answer.pop("amounts", None)
    else:
        partner_id, amounts, answer = value, None, {}
    if isinstance(partner_id, int) and not isinstance(partner_id, bool):
        partner_id = str(partner_id)
    if not isinstance(partner_id, str) or not partner_id:
        raise TypeError("on_place must return the partner's order id (a non-empty str) or a dict with "
                        f"partnerOrderId, not {_short(value)}")
    result = {"partnerOrderId": partner_id,
              "amounts": _amounts_wire(amounts, "on_place amounts") if amounts is not None
              else order.amounts.to_dict()}
    result.update(answer)
    return result


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    # Gett (and the sandbox) may deliver several webhooks at once; each gets a thread.
    daemon_threads = True
    allow_reuse_address = True


class _QuietRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        logger.debug("%s - %s", self.address_string(), format % args)
