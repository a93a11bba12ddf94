"""Models of the Commerce API: snake_case in Python, camelCase on the wire.

Money is ``decimal.Decimal`` (the wire carries JSON numbers in major units);
timestamps are timezone-aware ``datetime`` in UTC.  Objects returned by a
Client keep a reference to it, so ``store.pause("too_busy")`` just works.
"""
from __future__ import annotations

import datetime as _dt
import enum
import time
from decimal import Decimal
from typing import (TYPE_CHECKING, Any, ClassVar, Dict, Iterable, List, Optional, Protocol, Tuple, Type, TypeVar,
                    Union, overload)

from . import _html
from ._constants import (
    ONBOARDING_MAX_POLL_INTERVAL,
    ONBOARDING_POLL_INTERVAL,
    ONBOARDING_WAIT_TIMEOUT,
)
from ._wire import decimal_to_wire, format_datetime, parse_datetime, to_decimal
from .errors import APITimeoutError, InvalidRequestError, InvalidTransitionError, OnboardingFailedError

if TYPE_CHECKING:  # pragma: no cover
    from ._client import Client

__all__ = [
    "StoreStatusValue", "PauseReason", "OrderState", "OrderStatus", "OnboardingStatus",
    "Address", "Amounts", "Store", "StoreStatus", "Order", "Onboarding", "PARTNER_ORDER_STATUSES",
]


class _WireEnum(str, enum.Enum):
    """A str enum whose members compare equal to their wire strings."""

    def __str__(self) -> str:
        return self.value


class StoreStatusValue(_WireEnum):
    ONLINE = "online"
    PAUSED = "paused"


class PauseReason(_WireEnum):
    OPERATIONAL_ISSUES = "operational_issues"
    STAFF_SHORTAGE = "staff_shortage"
    TOO_BUSY = "too_busy"
    MAINTENANCE = "maintenance"
    OTHER = "other"


class OrderState(_WireEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class OrderStatus(_WireEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PREPARING = "preparing"
    READY = "ready"
    IN_TRANSIT = "inTransit"


class OnboardingStatus(_WireEnum):
    PENDING_CATALOG = "pending_catalog"
    CATALOG_INGESTING = "catalog_ingesting"
    CATALOG_FAILED = "catalog_failed"
    READY_TO_ACTIVATE = "ready_to_activate"
    ACTIVE = "active"


# The statuses a partner sends (wire strings); ``pending`` is set by Gett only (DESIGN §2).
PARTNER_ORDER_STATUSES = tuple(s.value for s in OrderStatus if s is not OrderStatus.PENDING)

E = TypeVar("E", bound=_WireEnum)


_WIRE_VALUES: Dict[Any, Dict[str, str]] = {}


def coerce_enum(enum_cls: Type[E], value: Any, field: str,
                allowed: Optional[Tuple[str, ...]] = None) -> str:
    """The wire string of ``value`` (a member or its string), else InvalidRequestError.

    ``allowed`` (wire strings) narrows the values accepted and listed in the message.
    """
    # A dict lookup: Enum.__call__ costs ~1.5 us on every status update.  The
    # cache key holds only str (hashing enum members would run Python code).
    key = enum_cls if allowed is None else (enum_cls, allowed)
    wire = _WIRE_VALUES.get(key)
    if wire is None:
        values = allowed if allowed is not None else [m.value for m in enum_cls]
        wire = _WIRE_VALUES[key] = {v: v for v in values}
    if isinstance(value, str):  # members are str too, and hash like their value
        found = wire.get(value)
        if found is not None:
            return found
    names = ", ".join(repr(v) for v in wire)
    raise InvalidRequestError(f"{field} must be one of {names} (or a gett.{enum_cls.__name__}), "
                              f"not {value!r}", field=field, value=value)


# ---------------------------------------------------------------- conversions
# Timestamps and money use the wire module's rules (re-exported here: they
# have been importable from gettcommerce.models).
__all__ += ["parse_datetime", "format_datetime", "to_decimal", "decimal_to_wire"]


def _check_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{field} must be a str, not {type(value).__name__}",
                                  field=field, value=value)
    return value


_Self = TypeVar("_Self", bound="_Model")


class _Model:
    """Shared repr/eq for the models; subclasses list their fields in _fields."""

    __slots__ = ()
    _fields: Tuple[str, ...] = ()

    def __repr__(self) -> str:
        parts = []
        for name in self._fields:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """Jupyter: a card of the fields, status as a coloured badge."""
        return _html.model_card(self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._fields)

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def _absorb(self: _Self, other: _Self) -> _Self:
        """Take every field (and ``raw``) of ``other``, a fresh copy from Gett; returns self."""
        for name in (*self._fields, "raw"):
            setattr(self, name, getattr(other, name))
        return self


# ---------------------------------------------------------------- value types

class Address(_Model):
    """A postal address (street, city, state, postal_code, country)."""

    __slots__ = ("street", "city", "state", "postal_code", "country")
    _fields = __slots__

    def __init__(self, street: Optional[str] = None, city: Optional[str] = None,
                 state: Optional[str] = None, postal_code: Optional[str] = None,
                 country: Optional[str] = None) -> None:
        self.street: Optional[str] = street
        self.city: Optional[str] = city
        self.state: Optional[str] = state
        self.postal_code: Optional[str] = postal_code
        self.country: Optional[str] = country

    @classmethod
    def from_dict(cls, data: Optional[Dict[str, Any]]) -> Optional["Address"]:
        if not isinstance(data, dict):
            return None
        return cls(data.get("street"), data.get("city"), data.get("state"),
                   data.get("postalCode"), data.get("country"))

    def to_dict(self) -> Dict[str, Any]:
        wire = {"street": self.street, "city": self.city, "state": self.state,
                "postalCode": self.postal_code, "country": self.country}
        return {k: v for k, v in wire.items() if v is not None}

    @classmethod
    def coerce(cls, value: Any, field: str = "address") -> Dict[str, Any]:
        """An Address or a dict (snake_case or camelCase keys) -> wire dict."""
        if isinstance(value, Address):
            return value.to_dict()
        if isinstance(value, dict):
            names = {"street": "street", "city": "city", "state": "state", "postal_code": "postalCode",
                     "postalCode": "postalCode", "country": "country"}
            wire = {}
            for key, item in value.items():
                if key not in names:
                    raise InvalidRequestError(f"{field}: unknown field {key!r} (expected one of "
                                              "street, city, state, postal_code, country)",
                                              field=f"{field}.{key}", value=item)
                wire[names[key]] = _check_str(item, f"{field}.{key}")
            return wire
        raise InvalidRequestError(f"{field} must be a gett.Address or a dict, not {type(value).__name__}",
                                  field=field, value=value)


#: A money amount as the models take it (major units): kept exact as a Decimal.
Money = Union[Decimal, int, float, str]

_AMOUNT_FIELDS = (("sub_total", "subTotal"), ("taxes", "taxes"), ("fees", "fees"),
                  ("promotions", "promotions"), ("adjustments", "adjustments"),
                  ("tip", "tip"), ("total", "total"))


class Amounts(_Model):
    """A pricing breakdown in major units (Decimal).

    ``total`` defaults to subTotal + fees - promotions + taxes + adjustments + tip,
    Gett's documented invariant.

    >>> Amounts(sub_total="15.00", taxes="1.25", fees="2.00").total
    Decimal('18.25')
    """

    __slots__ = tuple(name for name, _ in _AMOUNT_FIELDS)
    _fields = __slots__

    def __init__(self, sub_total: Money = 0, *, taxes: Optional[Money] = None, fees: Optional[Money] = None,
                 promotions: Optional[Money] = None, adjustments: Optional[Money] = None,
                 tip: Optional[Money] = None, total: Optional[Money] = None) -> None:
        self.sub_total: Decimal = to_decimal(sub_total, "sub_total") or Decimal(0)
        self.taxes: Optional[Decimal] = to_decimal(taxes, "taxes")
        self.fees: Optional[Decimal] = to_decimal(fees, "fees")
        self.promotions: Optional[Decimal] = to_decimal(promotions, "promotions")
        self.adjustments: Optional[Decimal] = to_decimal(adjustments, "adjustments")
        self.tip: Optional[Decimal] = to_decimal(tip, "tip")
        computed = (self.sub_total + (self.fees or 0) - (self.promotions or 0) + (self.taxes or 0)
                    + (self.adjustments or 0) + (self.tip or 0))
        given = to_decimal(total, "total")
        self.total: Decimal = given if given is not None else computed

    @classmethod
    def from_dict(cls, data: Optional[Dict[str, Any]]) -> Optional["Amounts"]:
        if not isinstance(data, dict):
            return None
        kwargs = {name: data.get(wire) for name, wire in _AMOUNT_FIELDS[1:]}
        return cls(data.get("subTotal", 0), **kwargs)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict (numbers in major units, camelCase)."""
        return {wire: decimal_to_wire(getattr(self, name)) for name, wire in _AMOUNT_FIELDS
                if getattr(self, name) is not None}


# ---------------------------------------------------------------- resources

class _WireTime:
    """A timestamp field that may hold wire text until first read: ``value_slot``
    keeps the datetime, ``wire_slot`` the text not parsed yet (parse_datetime,
    once, on first read); assigning a datetime drops the text."""

    __slots__ = ("value_slot", "wire_slot")

    def __init__(self, value_slot: str, wire_slot: str) -> None:
        self.value_slot: str = value_slot
        self.wire_slot: str = wire_slot

    @overload
    def __get__(self, obj: None, owner: Any = None) -> "_WireTime": ...

    @overload
    def __get__(self, obj: object, owner: Any = None) -> Optional[_dt.datetime]: ...

    def __get__(self, obj: Optional[object], owner: Any = None) -> Any:
        if obj is None:
            return self
        wire = getattr(obj, self.wire_slot)
        if wire is not None:
            self.__set__(obj, parse_datetime(wire))
        return getattr(obj, self.value_slot)

    def __set__(self, obj: object, value: Optional[_dt.datetime]) -> None:
        setattr(obj, self.value_slot, value)
        setattr(obj, self.wire_slot, None)


class StoreStatus(_Model):
    """A store's live status: ``online``, or ``paused`` with a reason."""

    # An answer's pausedAt / resumeAt are kept as wire text until first read
    # (then parsed once, by parse_datetime as always): most callers never
    # look at them, and two parses were a third of a get_status call's
    # Python work.
    __slots__ = ("store_id", "status", "reason", "_paused_at", "_resume_at", "_paused_wire",
                 "_resume_wire")
    _fields = ("store_id", "status", "reason", "paused_at", "resume_at")

    def __init__(self, status: str, reason: Optional[str] = None,
                 paused_at: Optional[_dt.datetime] = None, resume_at: Optional[_dt.datetime] = None,
                 store_id: Optional[str] = None) -> None:
        self.status: str = status
        self.reason: Optional[str] = reason
        self._paused_at: Optional[_dt.datetime] = paused_at
        self._resume_at: Optional[_dt.datetime] = resume_at
        self._paused_wire: Optional[str] = None
        self._resume_wire: Optional[str] = None
        self.store_id: Optional[str] = store_id

    paused_at: _WireTime = _WireTime("_paused_at", "_paused_wire")
    resume_at: _WireTime = _WireTime("_resume_at", "_resume_wire")

    @property
    def is_online(self) -> bool:
        return self.status == "online"

    @classmethod
    def from_dict(cls, data: Dict[str, Any], store_id: Optional[str] = None) -> "StoreStatus":
        data = data or {}
        status = cls(data.get("status"), data.get("reason"), None, None, store_id)
        # Most answers are "online" without times: nothing more to keep then.
        status._paused_wire = data.get("pausedAt")
        status._resume_wire = data.get("resumeAt")
        return status

    def to_dict(self) -> Dict[str, Any]:
        return {"status": self.status, "reason": self.reason,
                "pausedAt": self.paused_at.isoformat() if self.paused_at else None,
                "resumeAt": self.resume_at.isoformat() if self.resume_at else None}


class Store(_Model):
    """A Gett store.  Methods call the API through the Client that returned it."""

    __slots__ = ("store_id", "name", "phone", "timezone", "logo_url", "description", "status",
                 "address", "delivery_allowed", "pickup_allowed", "raw", "_client")
    _fields = ("store_id", "name", "phone", "timezone", "logo_url", "description", "status",
               "address", "delivery_allowed", "pickup_allowed")

    def __init__(self, store_id: str, name: Optional[str] = None, *, phone: Optional[str] = None,
                 timezone: Optional[str] = None, logo_url: Optional[str] = None,
                 description: Optional[str] = None, status: Optional[str] = None,
                 address: Optional[Address] = None, delivery_allowed: Optional[bool] = None,
                 pickup_allowed: Optional[bool] = None, raw: Optional[Dict[str, Any]] = None,
                 client: Optional["Client"] = None) -> None:
        self.store_id: str = store_id
        self.name: Optional[str] = name
        self.phone: Optional[str] = phone
        self.timezone: Optional[str] = timezone
        self.logo_url: Optional[str] = logo_url
        self.description: Optional[str] = description
        self.status: Optional[str] = status
        self.address: Optional[Address] = address
        self.delivery_allowed: Optional[bool] = delivery_allowed
        self.pickup_allowed: Optional[bool] = pickup_allowed
        self.raw: Dict[str, Any] = raw or {}
        self._client: Optional[Client] = client

    @classmethod
    def from_dict(cls, data: Dict[str, Any], client: Optional["Client"] = None) -> "Store":
        return cls(data.get("storeId"), data.get("name"), phone=data.get("phone"),
                   timezone=data.get("timezone"), logo_url=data.get("logoUrl"),
                   description=data.get("description"), status=data.get("status"),
                   address=Address.from_dict(data.get("address")),
                   delivery_allowed=data.get("deliveryAllowed"),
                   pickup_allowed=data.get("pickupAllowed"), raw=data, client=client)

    def to_dict(self) -> Dict[str, Any]:
        """The store as camelCase JSON-ready data."""
        return {"storeId": self.store_id, "name": self.name, "phone": self.phone,
                "timezone": self.timezone, "logoUrl": self.logo_url,
                "description": self.description, "status": self.status,
                "address": self.address.to_dict() if self.address else None,
                "deliveryAllowed": self.delivery_allowed, "pickupAllowed": self.pickup_allowed}

    def _bound(self) -> "Client":
        if self._client is None:
            raise InvalidRequestError("this Store is not bound to a Client; use client.stores.get()")
        return self._client

    def refresh(self) -> "Store":
        """Reload from Gett; returns self."""
        return self._absorb(self._bound().stores.get(self.store_id))

    def update(self, **fields: Any) -> "Store":
        """Update metadata (name, phone, description, logo_url, delivery_allowed,
        pickup_allowed); returns self with Gett's answer."""
        return self._absorb(self._bound().stores.update(self.store_id, **fields))

    def get_status(self) -> StoreStatus:
        return self._bound().stores.get_status(self.store_id)

    def pause(self, reason: Union[str, PauseReason],
              resume_at: Union[_dt.datetime, _dt.timedelta, str, None] = None) -> StoreStatus:
        result = self._bound().stores.pause(self.store_id, reason, resume_at=resume_at)
        self.status = result.status
        return result

    def resume(self) -> StoreStatus:
        result = self._bound().stores.resume(self.store_id)
        self.status = result.status
        return result


_STATUS_RANK = {"pending": 0, "confirmed": 1, "preparing": 2, "ready": 3, "inTransit": 4}


class Order(_Model):
    """An order Gett created; the partner pushes its progress.

    The object remembers the last state and status it sent (or was told), and
    refuses updates that cannot be valid (backwards, after closing, cancel
    without a reason) with InvalidTransitionError before any request is sent.
    """

    __slots__ = ("order_id", "state", "status", "estimated_ready_at", "cancel_reason", "_client")
    _fields = ("order_id", "state", "status", "estimated_ready_at", "cancel_reason")

    def __init__(self, order_id: str, *, state: str = "open", status: str = "pending",
                 client: Optional["Client"] = None) -> None:
        self.order_id: str = order_id
        self.state: str = state
        self.status: str = status
        self.estimated_ready_at: Optional[_dt.datetime] = None
        self.cancel_reason: Optional[str] = None
        self._client: Optional[Client] = client

    @property
    def is_closed(self) -> bool:
        return self.state in ("completed", "cancelled")

    def _check(self, requested: str) -> None:
        if self.is_closed:
            raise InvalidTransitionError(
                f"order {self.order_id} is already {self.state}; a closed order takes no updates",
                order_id=self.order_id, current=self.state, requested=requested)
        if requested in _STATUS_RANK and _STATUS_RANK[requested] < _STATUS_RANK.get(self.status, 0):
            raise InvalidTransitionError(
                f"order {self.order_id} is {self.status}; status only moves forward "
                f"(pending < confirmed < preparing < ready < inTransit), not back to {requested}",
                order_id=self.order_id, current=self.status, requested=requested)

    def _send(self, **fields: Any) -> "Order":
        if self._client is None:
            raise InvalidRequestError("this Order is not bound to a Client; use client.order(order_id)")
        self._client.orders.update_status(self.order_id, **fields)
        return self

    def _progress(self, status: str, estimated_ready_at: Union[_dt.datetime, str, None] = None) -> "Order":
        self._check(status)
        self._send(status=status, estimated_ready_at=estimated_ready_at)
        self.status = status
        if estimated_ready_at is not None:
            self.estimated_ready_at = parse_datetime(estimated_ready_at)
        return self

    def confirm(self, estimated_ready_at: Union[_dt.datetime, str, None] = None) -> "Order":
        """Accepted into the partner's system."""
        return self._progress("confirmed", estimated_ready_at)

    def start_preparing(self, estimated_ready_at: Union[_dt.datetime, str, None] = None) -> "Order":
        """The kitchen started."""
        return self._progress("preparing", estimated_ready_at)

    def mark_ready(self) -> "Order":
        """Ready for pickup / handover."""
        return self._progress("ready")

    def mark_in_transit(self) -> "Order":
        """On its way to the customer."""
        return self._progress("inTransit")

    def complete(self) -> "Order":
        """Close the order as fulfilled."""
        self._check("completed")
        self._send(state="completed")
        self.state = "completed"
        return self

    def cancel(self, reason: str) -> "Order":
        """Close the order as cancelled; ``reason`` is required (shown to Gett support)."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidTransitionError(
                f"cancelling order {self.order_id} needs a non-empty reason, e.g. 'Item out of stock'",
                order_id=self.order_id, current=self.state, requested="cancelled")
        self._check("cancelled")
        self._send(state="cancelled", cancel_reason=reason)
        self.state = "cancelled"
        self.cancel_reason = reason
        return self


class _OnboardingWait:
    """One ``wait()`` of an Onboarding or AsyncOnboarding: the status checks,
    deadline, back-off and progress line both share; the caller only sleeps
    (blocking or ``asyncio.sleep``) and refreshes between calls of next_pause."""

    def __init__(self, onboarding: Any, timeout: float, poll_interval: float, progress: bool) -> None:
        if not poll_interval > 0:
            raise InvalidRequestError("poll_interval must be > 0", field="poll_interval", value=poll_interval)
        self.onboarding = onboarding
        self.timeout = timeout
        self.progress = progress
        self.start = time.monotonic()
        self.deadline = self.start + timeout
        self.interval = poll_interval
        # One line, in place: an IPython display in Jupyter, else ``\r`` on stderr.
        self.line: Optional[_html.ProgressLine] = _html.ProgressLine() if progress else None

    def next_pause(self) -> Optional[float]:
        """None once the onboarding is ready; else the seconds to sleep before
        the next refresh. Raises OnboardingFailedError on ``catalog_failed``,
        APITimeoutError when the deadline has passed."""
        ob = self.onboarding
        if ob.status in ("ready_to_activate", "active"):
            return None
        if ob.status == "catalog_failed":
            raise OnboardingFailedError(f"onboarding {ob.onboarding_id} failed: {ob.error or 'catalog rejected'}",
                                        onboarding=ob, error=ob.error)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise APITimeoutError(f"onboarding {ob.onboarding_id} still {ob.status} after {self.timeout:g} s")
        pause = min(self.interval, remaining)
        self.interval = min(self.interval * 1.5, ONBOARDING_MAX_POLL_INTERVAL)
        return pause

    def show(self) -> None:
        """Show (or update in place) the progress line, when asked for."""
        if self.line is not None:
            self.line.update(f"  onboarding {self.onboarding.onboarding_id}: {self.onboarding.status:<18} "
                             f"{time.monotonic() - self.start:5.1f}s")

    def __enter__(self) -> "_OnboardingWait":
        self.show()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.line is not None:
            self.line.close()


class Onboarding(_Model):
    """A store onboarding: register -> Gett pulls the catalog -> activate."""

    __slots__ = ("onboarding_id", "partner_store_id", "status", "store_id", "error",
                 "created_at", "raw", "_client")
    _fields = ("onboarding_id", "partner_store_id", "status", "store_id", "error", "created_at")

    def __init__(self, onboarding_id: str, *, partner_store_id: Optional[str] = None,
                 status: Optional[str] = None, store_id: Optional[str] = None,
                 error: Optional[str] = None, created_at: Optional[_dt.datetime] = None,
                 raw: Optional[Dict[str, Any]] = None, client: Optional["Client"] = None) -> None:
        self.onboarding_id: str = onboarding_id
        self.partner_store_id: Optional[str] = partner_store_id
        self.status: Optional[str] = status
        self.store_id: Optional[str] = store_id
        self.error: Optional[str] = error
        self.created_at: Optional[_dt.datetime] = created_at
        self.raw: Dict[str, Any] = raw or {}
        self._client: Optional[Client] = client

    @classmethod
    def from_dict(cls, data: Dict[str, Any], client: Optional["Client"] = None) -> "Onboarding":
        return cls(data.get("onboardingId"), partner_store_id=data.get("partnerStoreId"),
                   status=data.get("status"), store_id=data.get("storeId"),
                   error=data.get("error"), created_at=parse_datetime(data.get("createdAt")),
                   raw=data, client=client)

    def to_dict(self) -> Dict[str, Any]:
        return {"onboardingId": self.onboarding_id, "partnerStoreId": self.partner_store_id,
                "status": self.status, "storeId": self.store_id, "error": self.error,
                "createdAt": self.created_at.isoformat() if self.created_at else None}

    def _bound(self) -> "Client":
        if self._client is None:
            raise InvalidRequestError("this Onboarding is not bound to a Client; use client.onboarding.get()")
        return self._client

    def refresh(self) -> "Onboarding":
        return self._absorb(self._bound().onboarding.get(self.onboarding_id))

    def wait(self, timeout: float = ONBOARDING_WAIT_TIMEOUT, poll_interval: float = ONBOARDING_POLL_INTERVAL,
             progress: bool = False) -> "Onboarding":
        """Poll until ``ready_to_activate`` or ``active``; returns self.

        Polls start at ``poll_interval`` and back off (x1.5, at most 10 s).
        Raises OnboardingFailedError on ``catalog_failed`` (with Gett's
        ``error``), APITimeoutError when ``timeout`` seconds pass first.
        ``progress=True`` shows a one-line status, updated in place: on
        stderr, or in Jupyter as one output line of the cell.
        """
        with _OnboardingWait(self, timeout, poll_interval, progress) as waiting:
            while (pause := waiting.next_pause()) is not None:
                time.sleep(pause)
                self.refresh()
                waiting.show()
        return self

    def activate(self) -> Store:
        store = self._bound().onboarding.activate(self.onboarding_id)
        self.status = "active"
        self.store_id = store.store_id
        return store

    def cancel(self) -> None:
        self._bound().onboarding.cancel(self.onboarding_id)
        self.status = "cancelled"


_Loaded = TypeVar("_Loaded", covariant=True)


class _FromDict(Protocol[_Loaded]):
    def from_dict(self, data: Dict[str, Any], client: Optional[Client] = None) -> _Loaded: ...


_M = TypeVar("_M")


def iter_models(cls: _FromDict[_M], items: Iterable[Dict[str, Any]], client: Optional["Client"]) -> List[_M]:
    return [cls.from_dict(item, client) for item in items if isinstance(item, dict)]
