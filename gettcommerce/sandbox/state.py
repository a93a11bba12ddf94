"""The sandbox's data and its state machines: stores, store status, onboarding, orders.

Data is partitioned by API key (one key = one partner organisation): a
key never lists another key's stores, and another key's store, order or
onboarding answers 403 FORBIDDEN (an id nobody owns answers 404).  A
failed catalog pull is logged as a WARNING on the ``gettcommerce.sandbox``
logger.  Each record carries its own lock, so
concurrent updates of one store or order serialise and none is lost,
while requests about different records run in parallel.
"""
from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
import zoneinfo
from typing import Any, Callable, Dict, List, Optional

from .._wire import iso, utcnow
from ..catalog import CatalogIssue
from . import catalog_ingest
from ._util import mask_key, new_uuid
from .problems import ApiError, field_error, validation_failed
from .validation import Checker, check_address, given

PAUSE_REASONS = ("operational_issues", "staff_shortage", "too_busy", "maintenance", "other")
STORE_STATUSES = ("online", "paused")
ORDER_STATES = ("open", "completed", "cancelled")
ORDER_STATUSES = ("pending", "confirmed", "preparing", "ready", "inTransit")
# What a partner may send: pending is set by Gett only, and never offered.
PARTNER_ORDER_STATUSES = ORDER_STATUSES[1:]
TERMINAL_STATES = ("completed", "cancelled")
ONBOARDING_STATUSES = ("pending_catalog", "catalog_ingesting", "catalog_failed", "ready_to_activate", "active")
STORE_UPDATE_FIELDS = ("name", "phone", "logoUrl", "description", "deliveryAllowed", "pickupAllowed")
REGISTER_FIELDS = ("partnerStoreId", "name", "catalogCallbackUrl", "webhookUrl", "phone", "timezone",
                   "address", "description", "logoUrl", "deliveryAllowed", "pickupAllowed")
_READ_ONLY_STORE_FIELDS = {
    "status": "store status changes go through POST /v1/commerce/stores/{storeId}/status",
    "address": "address cannot be changed through the API",
    "timezone": "timezone cannot be changed through the API",
    "storeId": "storeId is assigned by Gett",
}


log: logging.Logger = logging.getLogger("gettcommerce.sandbox")


def check_timezone(checker: Checker, key: str = "timezone") -> Optional[str]:
    value = checker.string(key, allow_null=True, max_length=64)
    if not given(value) or value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        checker.add("INVALID_VALUE", f"timezone must be an IANA zone name like 'Europe/London', got {value!r}",
                    checker.path(key))
        return None
    return value


def check_profile(checker: Checker) -> Dict[str, Any]:
    """The optional phone, description and logoUrl a registration or store update may carry (given ones)."""
    profile: Dict[str, Any] = {}
    for key in ("phone", "description"):
        value = checker.string(key, allow_null=True, max_length=2000, allow_empty=key == "description")
        if given(value):
            profile[key] = value
    logo = checker.url("logoUrl", allow_null=True)
    if given(logo):
        profile["logoUrl"] = logo
    return profile


class CatalogVersion:
    """One ingestion attempt of a store's catalog; only successful ones get a catalogSetId."""

    def __init__(self, source: str, ok: bool, *, catalog: Optional[Dict[str, Any]] = None,
                 issues: Optional[List[CatalogIssue]] = None, error: Optional[str] = None) -> None:
        self.catalog_set_id: Optional[str] = new_uuid() if ok else None
        self.source: str = source
        self.ok: bool = ok
        self.catalog: Optional[Dict[str, Any]] = catalog
        self.issues: List[Dict[str, str]] = [{"code": i.code, "path": i.path, "message": i.message, "severity": i.severity}
                       for i in (issues or [])]
        self.error: Optional[str] = error
        self.ingested_at: _dt.datetime = utcnow()

    def to_dict(self) -> Dict[str, Any]:
        return {"catalogSetId": self.catalog_set_id, "status": "ingested" if self.ok else "failed",
                "callbackUrl": self.source, "ingestedAt": iso(self.ingested_at), "error": self.error,
                "issues": self.issues,
                "partnerCatalogSetId": (self.catalog or {}).get("catalogSetId") if self.ok else None}


def pull_catalog(url: str, *, timeout: float, max_bytes: int) -> CatalogVersion:
    """Download and validate one catalog; the result says ok or why not."""
    try:
        raw = catalog_ingest.fetch(url, timeout=timeout, max_bytes=max_bytes)
    except catalog_ingest.CatalogFetchError as exc:
        return CatalogVersion(url, False, error=f"could not pull the catalog: {exc}")
    issues = catalog_ingest.validate(raw)
    if any(getattr(i, "severity", "error") == "error" for i in issues):
        return CatalogVersion(url, False, issues=issues, error=catalog_ingest.describe_failure(issues))
    return CatalogVersion(url, True, catalog=catalog_ingest.parse(raw), issues=issues)


class StoreRecord:
    def __init__(self, owner: "Partner", details: Dict[str, Any], onboarding_id: str) -> None:
        self.owner: Partner = owner
        self.store_id: str = new_uuid()
        self.onboarding_id: str = onboarding_id
        self.partner_store_id: str = details["partnerStoreId"]
        self.name: str = details["name"]
        self.phone: Optional[str] = details.get("phone")
        self.timezone: str = details.get("timezone") or "UTC"
        self.logo_url: Optional[str] = details.get("logoUrl")
        self.description: Optional[str] = details.get("description")
        self.address: Optional[Dict[str, Any]] = details.get("address")
        self.delivery_allowed: bool = details.get("deliveryAllowed", True)
        self.pickup_allowed: bool = details.get("pickupAllowed", True)
        self.webhook_url: str = details["webhookUrl"]
        self.catalog_callback_url: str = details["catalogCallbackUrl"]
        self.status: str = "online"
        self.reason: Optional[str] = None
        self.paused_at: Optional[_dt.datetime] = None
        self.resume_at: Optional[_dt.datetime] = None
        self.created_at: _dt.datetime = utcnow()
        self.catalog_versions: List[CatalogVersion] = []
        self.current: Optional[CatalogVersion] = None
        self.lock: threading.Lock = threading.Lock()

    # --- status (call with self.lock held) -------------------------------
    def refresh(self, now: Optional[_dt.datetime] = None) -> None:
        """Auto-resume: a pause whose resumeAt has passed is over (checked on every read)."""
        if self.status == "paused" and self.resume_at is not None and (now or utcnow()) >= self.resume_at:
            self._go_online()

    def _go_online(self) -> None:
        self.status, self.reason, self.paused_at, self.resume_at = "online", None, None, None

    def add_catalog_version(self, version: CatalogVersion) -> None:
        self.catalog_versions.append(version)
        if version.ok:
            self.current = version

    def status_api(self) -> Dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "pausedAt": iso(self.paused_at),
                "resumeAt": iso(self.resume_at)}

    def to_api(self) -> Dict[str, Any]:
        return {"storeId": self.store_id, "partnerStoreId": self.partner_store_id, "name": self.name,
                "address": self.address, "phone": self.phone, "timezone": self.timezone,
                "logoUrl": self.logo_url, "description": self.description, "status": self.status,
                "deliveryAllowed": self.delivery_allowed, "pickupAllowed": self.pickup_allowed}

    def to_state(self) -> Dict[str, Any]:
        out = self.to_api()
        out.update(self.status_api())
        out.update({"webhookUrl": self.webhook_url, "catalogCallbackUrl": self.catalog_callback_url,
                    "onboardingId": self.onboarding_id, "createdAt": iso(self.created_at),
                    "catalogSetId": self.current.catalog_set_id if self.current else None,
                    "catalogVersions": [v.to_dict() for v in self.catalog_versions]})
        return out


class OnboardingRecord:
    def __init__(self, owner: "Partner", details: Dict[str, Any]) -> None:
        self.owner: Partner = owner
        self.onboarding_id: str = new_uuid()
        self.details: Dict[str, Any] = details
        self.partner_store_id: str = details["partnerStoreId"]
        self.status: str = "pending_catalog"
        self.store_id: Optional[str] = None
        self.error: Optional[str] = None
        self.created_at: _dt.datetime = utcnow()
        self.version: Optional[CatalogVersion] = None
        self.lock: threading.Lock = threading.Lock()

    def to_api(self) -> Dict[str, Any]:
        return {"onboardingId": self.onboarding_id, "partnerStoreId": self.partner_store_id,
                "status": self.status, "storeId": self.store_id, "error": self.error,
                "createdAt": iso(self.created_at)}

    def to_state(self) -> Dict[str, Any]:
        out = self.to_api()
        out["details"] = dict(self.details)
        out["catalog"] = self.version.to_dict() if self.version else None
        return out


class OrderRecord:
    """An order Gett created; the partner moves it along with status POSTs."""

    def __init__(self, store: StoreRecord, payload: Dict[str, Any]) -> None:
        order = payload["order"]
        self.store: StoreRecord = store
        self.order_id: str = order["orderId"]
        self.payload: Dict[str, Any] = payload
        self.state: str = "open"
        self.status: str = "pending"
        self.estimated_ready_at: Optional[_dt.datetime] = None
        self.cancel_reason: Optional[str] = None
        self.partner_order_id: Optional[str] = None
        self.amounts: Dict[str, Any] = dict(order["amounts"])
        self.placement: Dict[str, Any] = {"status": "placing", "attempts": 0, "lastError": None}
        self.created_at: _dt.datetime = utcnow()
        self.history: List[Dict[str, Any]] = []
        self.lock: threading.Lock = threading.Lock()
        self.placed: threading.Event = threading.Event()     # set once placement succeeded or was given up
        self._record("gett")

    def _record(self, source: str, **extra: Any) -> None:
        entry = {"at": iso(utcnow()), "source": source, "state": self.state, "status": self.status}
        entry.update({k: v for k, v in extra.items() if v is not None})
        self.history.append(entry)

    def to_dict(self) -> Dict[str, Any]:
        order = self.payload["order"]
        return {"orderId": self.order_id, "storeId": order["storeId"],
                "partnerStoreId": order["partnerStoreId"], "catalogSetId": order["catalogSetId"],
                "fulfillmentType": order["fulfillmentType"], "items": order["items"],
                "user": self.payload.get("user"), "deliveryAddress": self.payload.get("deliveryAddress"),
                "state": self.state, "status": self.status, "estimatedReadyAt": iso(self.estimated_ready_at),
                "cancelReason": self.cancel_reason, "partnerOrderId": self.partner_order_id,
                "amounts": dict(self.amounts), "placement": dict(self.placement),
                "createdAt": iso(self.created_at), "history": [dict(h) for h in self.history]}


class Partner:
    """Everything one API key owns."""

    def __init__(self, api_key: str) -> None:
        self.api_key: str = api_key
        self.label: str = mask_key(api_key)
        self.stores: Dict[str, StoreRecord] = {}
        self.onboardings: Dict[str, OnboardingRecord] = {}
        self.orders: Dict[str, OrderRecord] = {}
        self.lock: threading.Lock = threading.Lock()   # guards the three dicts, not the records

    def to_state(self) -> Dict[str, Any]:
        with self.lock:
            stores, onboardings, orders = (list(self.stores.values()), list(self.onboardings.values()),
                                           list(self.orders.values()))
        out: Dict[str, Any] = {"stores": [], "onboardings": [], "orders": []}
        for store in stores:
            with store.lock:
                store.refresh()
                out["stores"].append(store.to_state())
        for onboarding in onboardings:
            with onboarding.lock:
                out["onboardings"].append(onboarding.to_state())
        for order in orders:
            with order.lock:
                out["orders"].append(order.to_dict())
        return out


class State:
    """All partners plus the operations behind the 11 endpoints.

    Operations raise :class:`ApiError`; the HTTP layer renders it.
    ``submit`` runs background work (catalog pulls).
    """

    def __init__(self, submit: Callable[[Callable[[], None]], None], *, fetch_timeout: float = 10.0,
                 max_catalog_bytes: int = catalog_ingest.DEFAULT_MAX_CATALOG_BYTES,
                 ingest_delay: float = 0.0, sync_catalog_pulls: bool = True) -> None:
        self._submit = submit
        self.sync_catalog_pulls: bool = sync_catalog_pulls
        self.fetch_timeout: float = fetch_timeout
        self.max_catalog_bytes: int = max_catalog_bytes
        self.ingest_delay: float = ingest_delay
        self.partners: Dict[str, Partner] = {}
        self.lock: threading.Lock = threading.Lock()

    # --- partners --------------------------------------------------------
    def add_partner(self, api_key: str) -> Partner:
        with self.lock:
            return self.partners.setdefault(api_key, Partner(api_key))

    def partner_for(self, api_key: str) -> Optional[Partner]:
        with self.lock:
            return self.partners.get(api_key)

    def all_partners(self) -> List[Partner]:
        with self.lock:
            return list(self.partners.values())

    def clear(self) -> None:
        with self.lock:
            for key in list(self.partners):
                self.partners[key] = Partner(key)

    # --- lookups ---------------------------------------------------------
    def _find_any(self, kind: str, key: str, *, besides: Optional[Partner] = None) -> Any:
        """The record ``key`` in the ``kind`` dict (stores, orders, onboardings) of any
        partner other than ``besides``, or None."""
        for other in self.all_partners():
            if other is not besides:
                with other.lock:
                    record = getattr(other, kind).get(key)
                if record is not None:
                    return record
        return None

    def _owned_elsewhere(self, partner: Partner, kind: str, key: str) -> bool:
        return self._find_any(kind, key, besides=partner) is not None

    def _forbidden(self, noun: str, key: str) -> ApiError:
        return ApiError("FORBIDDEN", f"{noun} {key!r} belongs to another partner; this API key cannot "
                        "access it")

    def _lookup(self, partner: Partner, kind: str, key: str, noun: str, not_found: str) -> Any:
        """``partner``'s record, else 403 when another partner owns it, else 404."""
        with partner.lock:
            record = getattr(partner, kind).get(key)
        if record is None:
            if self._owned_elsewhere(partner, kind, key):
                raise self._forbidden(noun, key)
            raise ApiError(not_found, f"no {noun} with {noun}Id {key!r}")
        return record

    def store_of(self, partner: Partner, store_id: str) -> StoreRecord:
        return self._lookup(partner, "stores", store_id, "store", "STORE_NOT_FOUND")

    def order_of(self, partner: Partner, order_id: str) -> OrderRecord:
        return self._lookup(partner, "orders", order_id, "order", "NOT_FOUND")

    @staticmethod
    def resolve_store(partner: Partner, ref: str) -> Optional[StoreRecord]:
        """A store by Gett storeId or by the partner's own partnerStoreId."""
        with partner.lock:
            store = partner.stores.get(ref)
            if store is None:
                store = next((s for s in partner.stores.values() if s.partner_store_id == ref), None)
        return store

    def find_store(self, ref: str) -> Optional[StoreRecord]:
        for partner in self.all_partners():
            store = self.resolve_store(partner, ref)
            if store is not None:
                return store
        return None

    def find_order(self, order_id: str) -> Optional[OrderRecord]:
        return self._find_any("orders", order_id)

    def find_onboarding(self, onboarding_id: str) -> Optional[OnboardingRecord]:
        return self._find_any("onboardings", onboarding_id)

    def onboarding_of(self, partner: Partner, onboarding_id: str) -> OnboardingRecord:
        with partner.lock:
            record = partner.onboardings.get(onboarding_id)
        if record is None and self._owned_elsewhere(partner, "onboardings", onboarding_id):
            raise self._forbidden("onboarding", onboarding_id)
        if record is None or record.status == "cancelled":
            why = "was cancelled" if record is not None else "does not exist"
            raise ApiError("NOT_FOUND", f"onboarding {onboarding_id!r} {why}")
        return record

    # --- stores ----------------------------------------------------------
    def list_stores(self, partner: Partner, limit: int, offset: int) -> Dict[str, Any]:
        with partner.lock:
            stores = list(partner.stores.values())
        page = stores[offset:offset + limit]
        rendered = []
        for store in page:
            with store.lock:
                store.refresh()
                rendered.append(store.to_api())
        return {"stores": rendered, "totalCount": len(stores), "hasMore": offset + len(page) < len(stores)}

    def _render_fresh(self, partner: Partner, store_id: str,
                      render: Callable[[StoreRecord], Dict[str, Any]]) -> Dict[str, Any]:
        """``render(store)`` of the partner's store, brought up to date first (under its lock)."""
        store = self.store_of(partner, store_id)
        with store.lock:
            store.refresh()
            return render(store)

    def get_store(self, partner: Partner, store_id: str) -> Dict[str, Any]:
        return self._render_fresh(partner, store_id, StoreRecord.to_api)

    def update_store(self, partner: Partner, store_id: str, body: Any) -> Dict[str, Any]:
        store = self.store_of(partner, store_id)
        checker = Checker(body)
        for key in checker.body:
            if key in _READ_ONLY_STORE_FIELDS:
                checker.add("READ_ONLY_FIELD", _READ_ONLY_STORE_FIELDS[key], checker.path(key))
            elif key not in STORE_UPDATE_FIELDS:
                checker.add("UNKNOWN_FIELD", f"unknown field {key!r}; StoreUpdate accepts "
                            f"{', '.join(STORE_UPDATE_FIELDS)}", checker.path(key))
        changes: Dict[str, Any] = {}
        name = checker.string("name", max_length=200)
        if given(name):
            changes["name"] = name
        for key, value in check_profile(checker).items():
            changes["logo_url" if key == "logoUrl" else key] = value
        for key, attr in (("deliveryAllowed", "delivery_allowed"), ("pickupAllowed", "pickup_allowed")):
            value = checker.boolean(key)
            if given(value):
                changes[attr] = value
        checker.raise_if_any()
        with store.lock:
            delivery = changes.get("delivery_allowed", store.delivery_allowed)
            pickup = changes.get("pickup_allowed", store.pickup_allowed)
            if not delivery and not pickup:
                raise validation_failed([field_error(
                    "INVALID_COMBINATION", "at least one of deliveryAllowed and pickupAllowed must stay true",
                    "$.pickupAllowed" if "pickupAllowed" in checker.body else "$.deliveryAllowed")])
            for attr, value in changes.items():
                setattr(store, attr, value)
            store.refresh()
            return store.to_api()

    def get_status(self, partner: Partner, store_id: str) -> Dict[str, Any]:
        return self._render_fresh(partner, store_id, StoreRecord.status_api)

    def set_status(self, partner: Partner, store_id: str, body: Any) -> Dict[str, Any]:
        store = self.store_of(partner, store_id)
        if isinstance(body, dict):
            # null means "not given" for the optional fields, so a client
            # may send {"status": "online", "reason": null}.
            body = {k: v for k, v in body.items() if not (k in ("reason", "resumeAt") and v is None)}
        checker = Checker(body)
        checker.reject_unknown(("status", "reason", "resumeAt"))
        status = checker.enum("status", STORE_STATUSES, required=True)
        reason = checker.enum("reason", PAUSE_REASONS)
        resume_at = checker.timestamp("resumeAt")
        now = utcnow()
        if status == "paused" and "reason" not in checker.body:
            checker.add("FIELD_REQUIRED", f"reason is required to pause a store; one of {', '.join(PAUSE_REASONS)}",
                        "$.reason")
        if status == "online":
            for key in ("reason", "resumeAt"):
                if key in checker.body:
                    checker.add("INVALID_COMBINATION", f"{key} is only allowed when pausing (status: paused)",
                                f"$.{key}")
        if given(resume_at) and resume_at <= now:
            checker.add("INVALID_VALUE", f"resumeAt must be in the future, got {iso(resume_at)} "
                        f"(now {iso(now)})", "$.resumeAt")
        checker.raise_if_any()
        with store.lock:
            store.refresh(now)
            if status == "online":
                store._go_online()
            else:
                if store.status != "paused":
                    store.paused_at = now     # a re-pause keeps the original pause time
                store.status = "paused"
                store.reason = reason
                store.resume_at = resume_at if given(resume_at) else None
            return store.status_api()

    # --- orders ----------------------------------------------------------
    def update_order_status(self, partner: Partner, order_id: str, body: Any) -> None:
        order = self.order_of(partner, order_id)
        checker = Checker(body)
        checker.reject_unknown(("state", "status", "estimatedReadyAt", "cancelReason"))
        state = checker.enum("state", ORDER_STATES)
        fields = checker.body
        if fields.get("status") == "pending":
            checker.add("INVALID_VALUE", "pending is set by Gett when the order is created; send "
                        f"{', '.join(PARTNER_ORDER_STATUSES)}", "$.status")
            status: Any = None
        else:
            status = checker.enum("status", PARTNER_ORDER_STATUSES)
        eta = checker.timestamp("estimatedReadyAt", allow_null=True)
        cancel_reason = checker.string("cancelReason", max_length=1000)
        if "state" not in fields and "status" not in fields:
            checker.add("FIELD_REQUIRED", "send status (progress within open) or state (completed/cancelled)",
                        "$.status")
        if state in TERMINAL_STATES and "status" in fields:
            checker.add("INVALID_COMBINATION", f"status cannot be sent with state {state}; only state open "
                        "may carry a status", "$.status")
        if state == "cancelled" and "cancelReason" not in fields:
            checker.add("FIELD_REQUIRED", "cancelReason is required when state is cancelled", "$.cancelReason")
        if "cancelReason" in fields and state != "cancelled" and ("state" not in fields or given(state)):
            checker.add("INVALID_COMBINATION", "cancelReason is only allowed with state cancelled",
                        "$.cancelReason")
        checker.raise_if_any()
        with order.lock:
            if order.state != "open":
                if state == order.state:
                    return           # a retried close: the order already has that terminal state
                raise ApiError("CONFLICT", f"order {order_id} is already {order.state}; a closed order "
                               "cannot be updated")
            if given(status):
                current = ORDER_STATUSES.index(order.status)
                wanted = ORDER_STATUSES.index(status)
                if wanted < current:
                    raise ApiError("CONFLICT", f"order {order_id} is {order.status}; status only moves "
                                   f"forward ({' < '.join(PARTNER_ORDER_STATUSES)}), so it cannot go back "
                                   f"to {status}")
                order.status = status
            if given(eta):
                order.estimated_ready_at = eta
            if state in TERMINAL_STATES:
                order.state = state
                if state == "cancelled":
                    order.cancel_reason = cancel_reason
            order._record("partner", estimatedReadyAt=iso(eta) if given(eta) else None,
                          cancelReason=cancel_reason if given(cancel_reason) else None)

    # --- onboarding ------------------------------------------------------
    def register(self, partner: Partner, body: Any) -> Dict[str, Any]:
        checker = Checker(body)
        checker.reject_unknown(REGISTER_FIELDS)
        details: Dict[str, Any] = {}
        for key in ("partnerStoreId", "name"):
            value = checker.string(key, required=True, max_length=200)
            if given(value):
                details[key] = value
        for key in ("catalogCallbackUrl", "webhookUrl"):
            value = checker.url(key, required=True)
            if given(value):
                details[key] = value
        details.update(check_profile(checker))
        details["timezone"] = check_timezone(checker) or "UTC"
        details["address"] = check_address(checker)
        for key in ("deliveryAllowed", "pickupAllowed"):
            value = checker.boolean(key)
            details[key] = value if given(value) else True
        if not details["deliveryAllowed"] and not details["pickupAllowed"]:
            checker.add("INVALID_COMBINATION", "at least one of deliveryAllowed and pickupAllowed must be true",
                        "$.pickupAllowed")
        checker.raise_if_any()
        with partner.lock:
            for other in partner.onboardings.values():
                if other.partner_store_id == details["partnerStoreId"] and other.status != "cancelled":
                    raise ApiError("CONFLICT", f"partnerStoreId {details['partnerStoreId']!r} is already "
                                   f"registered (onboarding {other.onboarding_id}, status {other.status}); "
                                   "cancel that onboarding first")
            record = OnboardingRecord(partner, details)
            partner.onboardings[record.onboarding_id] = record
            rendered = record.to_api()
        self._submit(lambda: self._ingest_onboarding(record))
        return rendered

    def _ingest_onboarding(self, record: OnboardingRecord) -> None:
        if self.ingest_delay:
            time.sleep(self.ingest_delay)
        with record.lock:
            if record.status != "pending_catalog":
                return                       # cancelled before Gett got to it
            record.status = "catalog_ingesting"
            url = record.details["catalogCallbackUrl"]
        if self.ingest_delay:
            time.sleep(self.ingest_delay)
        version = pull_catalog(url, timeout=self.fetch_timeout, max_bytes=self.max_catalog_bytes)
        if not version.ok:
            log.warning("onboarding %s (partnerStoreId %r): catalog_failed: %s", record.onboarding_id,
                        record.partner_store_id, version.error)
        with record.lock:
            if record.status != "catalog_ingesting":
                return                       # cancelled meanwhile: cancel is final
            record.version = version
            if version.ok:
                record.status, record.error = "ready_to_activate", None
            else:
                record.status, record.error = "catalog_failed", version.error

    def get_onboarding(self, partner: Partner, onboarding_id: str) -> Dict[str, Any]:
        record = self.onboarding_of(partner, onboarding_id)
        with record.lock:
            return record.to_api()

    def cancel_onboarding(self, partner: Partner, onboarding_id: str) -> None:
        record = self.onboarding_of(partner, onboarding_id)
        with record.lock:
            if record.status == "active":
                raise ApiError("CONFLICT", f"onboarding {onboarding_id} is active (store {record.store_id}); "
                               "an active store cannot be cancelled")
            if record.status == "cancelled":
                raise ApiError("NOT_FOUND", f"onboarding {onboarding_id!r} was cancelled")
            record.status = "cancelled"

    def activate(self, partner: Partner, onboarding_id: str) -> Dict[str, Any]:
        record = self.onboarding_of(partner, onboarding_id)
        with record.lock:
            if record.status != "ready_to_activate":
                hint = f": {record.error}" if record.status == "catalog_failed" else ""
                raise ApiError("CONFLICT", f"onboarding {onboarding_id} is {record.status}; only "
                               f"ready_to_activate can be activated{hint}")
            if record.version is None:       # ready_to_activate always comes with a version
                raise ApiError("INTERNAL_ERROR", f"onboarding {onboarding_id} has no ingested catalog")
            store = StoreRecord(partner, record.details, record.onboarding_id)
            store.add_catalog_version(record.version)
            with partner.lock:
                partner.stores[store.store_id] = store
            record.status, record.store_id = "active", store.store_id
            with store.lock:
                return store.to_api()

    # --- catalog ---------------------------------------------------------
    def notify_catalog(self, partner: Partner, store_ref: Optional[str], body: Any) -> None:
        checker = Checker(body)
        checker.reject_unknown(("callbackUrl",))
        url = checker.url("callbackUrl", required=True)
        if store_ref is None or not store_ref.strip():
            checker.add("FIELD_REQUIRED", "the storeId query parameter is required "
                        "(?storeId=<Gett storeId or your partnerStoreId>)", "$.storeId", **{"in": "query"})
        checker.raise_if_any()
        ref = store_ref or ""           # present: the checks above refused a missing one
        store = self.resolve_store(partner, ref)
        if store is None:
            if self._owned_elsewhere(partner, "stores", ref):
                raise self._forbidden("store", ref)
            raise ApiError("STORE_NOT_FOUND", f"no active store with storeId or partnerStoreId {ref!r}")
        if self.sync_catalog_pulls:
            self._ingest_store(store, url)
        else:
            self._submit(lambda: self._ingest_store(store, url))

    def _ingest_store(self, store: StoreRecord, url: str) -> None:
        version = pull_catalog(url, timeout=self.fetch_timeout, max_bytes=self.max_catalog_bytes)
        if not version.ok:
            log.warning("catalog notification for store %s (%r): the pull failed, the last good catalog "
                        "stays live: %s", store.store_id, store.partner_store_id, version.error)
        with store.lock:
            # A failed pull is recorded but the last good catalog stays live.
            store.add_catalog_version(version)
            if version.ok:
                store.catalog_callback_url = url
