"""Resource namespaces (``client.stores``, ``.orders``, ``.onboarding``, ``.catalog``).

Each method checks its arguments in Python (InvalidRequestError naming the
field, before anything is sent), describes the call as a
:class:`~gettcommerce._request.Request` and hands it to its executor: the
Client runs it now, a Batch queues it.  The same classes serve both.
"""
from __future__ import annotations

import datetime as _dt
import zoneinfo
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Union
from urllib.parse import urlsplit

from . import _core
from ._constants import LIST_STORES_PAGE_SIZE
from ._request import (
    EP_ACTIVATE_STORE,
    EP_CANCEL_ONBOARDING,
    EP_GET_ONBOARDING,
    EP_GET_STORE,
    EP_GET_STORE_STATUS,
    EP_LIST_STORES,
    EP_NOTIFY_CATALOG,
    EP_ORDER_STATUS,
    EP_REGISTER_STORE,
    EP_SET_STORE_STATUS,
    EP_UPDATE_STORE,
    Executor,
    Page,
    Pages,
    Request,
    require,
)
from ._raw import RawExecutor
from ._wire import format_datetime, parse_rfc3339, utcnow
from .errors import (APIStatusError, CatalogValidationError, ConflictError, GettError, InvalidRequestError,
                     NotFoundError)
from .models import (
    PARTNER_ORDER_STATUSES,
    Address,
    Onboarding,
    OrderState,
    OrderStatus,
    PauseReason,
    Store,
    StoreStatus,
    coerce_enum,
    iter_models,
)

if TYPE_CHECKING:  # pragma: no cover - typing only, never imported at run time
    from ._client import Client

__all__ = ["StoresResource", "OrdersResource", "OnboardingResource", "CatalogResource",
           "check_url", "check_id"]

_UNSET: Any = object()


def check_url(value: Any, field: str) -> str:
    """An absolute http(s) URL without spaces, CR, LF or NUL; else InvalidRequestError."""
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{field} must be an absolute http(s) URL, not {value!r}",
                                  field=field, value=value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError(f"{field} must be an absolute http(s) URL, not {value!r}",
                                  field=field, value=value)
    if any(c in value for c in "\r\n\0 "):
        raise InvalidRequestError(f"{field} must not contain spaces, CR, LF or NUL", field=field,
                                  value=value)
    return value


def check_id(value: Any, field: str) -> str:
    """A path id, by the C core's rule (the one every request's path parameters go through)."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{field} must be a str, not {value!r}", field=field, value=value)
    try:
        _core.check_path_param(field, value)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), field=field, value=value) from None
    return value


def _check_text(value: Any, field: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InvalidRequestError(f"{field} must be a non-empty str, not {value!r}", field=field,
                                  value=value)
    return value


def _check_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequestError(f"{field} must be True or False, not {value!r}", field=field,
                                  value=value)
    return value


def _check_timezone(value: Any, field: str = "timezone") -> str:
    _check_text(value, field)
    try:
        zoneinfo.ZoneInfo(value)
    except Exception:
        raise InvalidRequestError(f"{field} must be an IANA time zone such as 'Europe/London', "
                                  f"not {value!r}", field=field, value=value) from None
    return value


def _fulfillment_flags(body: Dict[str, Any], delivery: Any, pickup: Any) -> None:
    if delivery is not _UNSET:
        body["deliveryAllowed"] = _check_bool(delivery, "delivery_allowed")
    if pickup is not _UNSET:
        body["pickupAllowed"] = _check_bool(pickup, "pickup_allowed")
    if body.get("deliveryAllowed") is False and body.get("pickupAllowed") is False:
        raise InvalidRequestError("delivery_allowed and pickup_allowed cannot both be False: "
                                  "a store must offer delivery or pickup", field="pickup_allowed",
                                  value=False)


def _resume_at(resume_at: Union[_dt.datetime, _dt.timedelta, str]) -> str:
    """``resume_at`` as wire text: in the future, and a full RFC 3339 date-time."""
    if isinstance(resume_at, _dt.timedelta):
        if resume_at.total_seconds() <= 0:
            raise InvalidRequestError("resume_at must be in the future", field="resume_at",
                                      value=resume_at)
        resume_at = utcnow() + resume_at
    text = format_datetime(resume_at, "resume_at")
    if parse_rfc3339(text) <= utcnow():
        raise InvalidRequestError(f"resume_at must be in the future, not {text}",
                                  field="resume_at", value=resume_at)
    return text


# ---------------------------------------------------------------- reading answers
# Each read(raw, request) turns a 2xx answer into the result, or raises
# ValueError/TypeError saying what is missing; settle() turns that into an
# APIConnectionError naming the call.

# For calls whose answer carries nothing (order status, cancel, notify):
# read(raw, request) -> None, a C function (no Python frame per call).
_discard = _core.discard


_new_status = object.__new__


def _read_status_py(raw: Any, request: Request) -> StoreStatus:
    # What _read_status does, in Python: for any answer but the plain case
    # (it says what is missing), and the reference the C reader follows:
    # as StoreStatus.from_dict would, every slot StoreStatus.__init__ fills.
    status = raw.get("status") if type(raw) is dict else None
    if not status:
        require(raw, "status", "a StoreStatus")  # raises, naming what is missing
    result: StoreStatus = _new_status(StoreStatus)
    result.status = status
    result.reason = raw.get("reason")
    result._paused_at = result._resume_at = None
    # The times stay wire text until read (StoreStatus.paused_at parses them).
    result._paused_wire = raw.get("pausedAt")
    result._resume_wire = raw.get("resumeAt")
    result.store_id = request[1][0]
    return result


# The hot path of get_status/pause/resume: the C core builds the StoreStatus
# straight from the parsed answer (Client.call), or from a dict (a batch, a
# raw response), when "status" is non-empty and the call has a store id;
# anything else goes to _read_status_py.  The times stay wire text until
# read (StoreStatus.paused_at parses them).
_read_status = _core.ModelReader(
    StoreStatus,
    (("status", "status"), ("reason", "reason"), ("_paused_wire", "pausedAt"),
     ("_resume_wire", "resumeAt"), ("_paused_at", None), ("_resume_at", None)),
    "status", "store_id", _read_status_py)


def _retried_after_ambiguous(error: APIStatusError) -> bool:
    """Whether an earlier attempt of the call may have reached Gett (its answer
    lost, or a 500/502/504) before the retry that got ``error``.  A retry after
    429 or 503 is not: Gett did nothing then, so its 404/409 is the truth."""
    return error.attempts > 1 and error._ambiguous_retry


def _closed_already(error: GettError, request: Request) -> bool:
    """A retried close whose retry Gett refused because the first attempt had
    applied it: 409 naming the state asked for (and not the other terminal one)."""
    if not isinstance(error, ConflictError) or not _retried_after_ambiguous(error):
        return False
    wanted = request[3]["state"]
    other = "cancelled" if wanted == "completed" else "completed"
    text = " ".join(t for t in (error.detail, error.title) if t)
    return wanted in text and other not in text


def _cancelled_already(error: GettError, request: Request) -> bool:
    """A retried onboarding cancel whose retry got 404: the first attempt removed it."""
    return isinstance(error, NotFoundError) and _retried_after_ambiguous(error)


class _Resource:
    """A namespace of calls.  ``_exec`` runs or queues them (a Client or a
    Batch); ``_client`` is the Client that returned models are bound to."""

    __slots__ = ("_exec", "_client")
    # The model classes answers become (the async resources use the async kinds).
    _store_cls: Any = Store
    _onboarding_cls: Any = Onboarding

    def __init__(self, client: "Client", executor: Executor) -> None:
        self._client = client
        self._exec = executor

    @property
    def with_raw_response(self) -> Any:
        """This namespace's single calls, each returning a :class:`~gettcommerce.RawResponse`
        (status code, all headers, request id, rate limit, attempts, elapsed;
        ``parse()`` gives the usual result) instead of the result itself.
        Through an AsyncClient the calls are awaited.  Refused in a batch and
        for listings (``list()``/``iter()``: many answers)."""
        return type(self)(self._client, RawExecutor(self._exec))

    def _store(self, raw: Any, request: Request) -> Store:
        return self._store_cls.from_dict(require(raw, "storeId", "a Store"), self._client)  # type: ignore[no-any-return]

    def _onboarding(self, raw: Any, request: Request) -> Onboarding:
        return self._onboarding_cls.from_dict(  # type: ignore[no-any-return]
            require(raw, "onboardingId", "an Onboarding"), self._client)


class StoresResource(_Resource):
    """``client.stores``: list, get and update stores; pause and resume them."""

    __slots__ = ()

    def iter(self, page_size: int = LIST_STORES_PAGE_SIZE) -> Iterator[Store]:
        """Every store of the partner organisation, fetched lazily a page at a time.

        Each page is one request (``limit=page_size``, at most 100).  The
        client's ``timeout`` bounds the page requests together; a page that
        makes no progress (the same stores again, or none while ``hasMore``)
        ends the listing with APIConnectionError.  Not available in a batch.
        """
        if isinstance(page_size, bool) or not isinstance(page_size, int) \
                or not 1 <= page_size <= LIST_STORES_PAGE_SIZE:
            raise InvalidRequestError(f"page_size must be an int from 1 to {LIST_STORES_PAGE_SIZE}, "
                                      f"not {page_size!r}", field="page_size", value=page_size)
        return self._exec.iterate(Pages(EP_LIST_STORES, page_size, self._store_page,
                                        self._client.timeout))

    def list(self) -> List[Store]:
        """Every store of the partner organisation (``iter()`` collected)."""
        return list(self.iter())

    def _store_page(self, raw: Any, request: Request) -> Page:
        # An empty listing is said explicitly ({"stores": [], ...} or []); an
        # empty, null or {} body is a broken answer, not "no stores".
        if isinstance(raw, list):  # a bare array: the whole list at once
            return Page(iter_models(self._store_cls, raw, self._client), False)
        if not isinstance(raw, dict):
            raise TypeError("expected an object with 'stores' and 'hasMore', or an array of Stores")
        items = raw.get("stores")
        if items is None:
            raise TypeError("expected an object with 'stores' and 'hasMore', or an array of Stores")
        if not isinstance(items, list):
            raise TypeError("'stores' is not an array")
        total = raw.get("totalCount")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            total = None
        return Page(iter_models(self._store_cls, items, self._client), raw.get("hasMore") is True, total)

    def get(self, store_id: str) -> Store:
        return self._exec.execute((EP_GET_STORE, (store_id,), None, None, self._store, None))

    def update(self, store_id: str, *, name: Any = _UNSET, phone: Any = _UNSET,
               description: Any = _UNSET, logo_url: Any = _UNSET, delivery_allowed: Any = _UNSET,
               pickup_allowed: Any = _UNSET) -> Store:
        """Change store metadata; only the fields given are sent (merge).
        ``description=""`` clears the description."""
        body: Dict[str, Any] = {}
        if name is not _UNSET:
            body["name"] = _check_text(name, "name")
        if phone is not _UNSET:
            body["phone"] = _check_text(phone, "phone")
        if description is not _UNSET:
            body["description"] = _check_text(description, "description", allow_empty=True)
        if logo_url is not _UNSET:
            body["logoUrl"] = check_url(logo_url, "logo_url")
        _fulfillment_flags(body, delivery_allowed, pickup_allowed)
        if not body:
            raise InvalidRequestError("update needs at least one of name, phone, description, "
                                      "logo_url, delivery_allowed, pickup_allowed")
        return self._exec.execute((EP_UPDATE_STORE, (store_id,), None, body, self._store,
                                   None))

    def get_status(self, store_id: str) -> StoreStatus:
        return self._exec.execute((EP_GET_STORE_STATUS, (store_id,), None, None, _read_status,
                                   None))

    def pause(self, store_id: str, reason: Union[str, PauseReason], *,
              resume_at: Union[_dt.datetime, _dt.timedelta, str, None] = None) -> StoreStatus:
        """Stop taking orders.  ``resume_at`` (aware datetime, RFC 3339 text with
        a zone, or a timedelta from now; in the future) makes Gett resume the
        store by itself."""
        body: Dict[str, Any] = {"status": "paused", "reason": coerce_enum(PauseReason, reason, "reason")}
        if resume_at is not None:
            body["resumeAt"] = _resume_at(resume_at)
        return self._exec.execute((EP_SET_STORE_STATUS, (store_id,), None, body, _read_status,
                                   None))

    def resume(self, store_id: str) -> StoreStatus:
        """Take orders again now."""
        return self._exec.execute((EP_SET_STORE_STATUS, (store_id,), None, {"status": "online"},
                                   _read_status, None))


class OrdersResource(_Resource):
    """``client.orders``: push order progress and close orders."""

    __slots__ = ()

    def update_status(self, order_id: str, *, status: Union[str, OrderStatus, None] = None,
                      state: Union[str, OrderState, None] = None,
                      estimated_ready_at: Union[_dt.datetime, str, None] = None,
                      cancel_reason: Optional[str] = None) -> None:
        """Send ``status`` (progress while open) and/or ``state`` (close it).

        Only ``state='open'`` may go with a ``status``; ``state='cancelled'``
        needs ``cancel_reason``.  Refused locally with InvalidRequestError.
        A close that was retried (its first attempt's answer was lost) and
        refused with 409 "already completed/cancelled" by the retry counts as
        done: Gett had applied the first attempt.
        """
        body: Dict[str, Any] = {}
        accept = None
        if status is not None:
            # Hot path: one dict lookup for a valid status; coerce_enum explains a bad one.
            wire_status = _PARTNER_STATUS.get(status) if isinstance(status, str) else None
            if wire_status is None:
                if status == "pending":
                    raise InvalidRequestError("status 'pending' is set by Gett at creation; partners "
                                              "send 'confirmed', 'preparing', 'ready' or 'inTransit'",
                                              field="status", value=status)
                wire_status = coerce_enum(OrderStatus, status, "status", PARTNER_ORDER_STATUSES)
            body["status"] = wire_status
        if state is not None:
            wire_state = coerce_enum(OrderState, state, "state")
            if status is not None and wire_state != "open":
                raise InvalidRequestError(f"state {wire_state!r} closes the order and cannot be sent "
                                          "with a status; send it alone", field="state", value=state)
            body["state"] = wire_state
            if wire_state != "open":
                accept = _closed_already
        if not body:
            raise InvalidRequestError("update_status needs status= or state=", field="status")
        if body.get("state") == "cancelled":
            body["cancelReason"] = _check_text(cancel_reason, "cancel_reason")
        elif cancel_reason is not None:
            raise InvalidRequestError("cancel_reason goes only with state='cancelled'",
                                      field="cancel_reason", value=cancel_reason)
        if estimated_ready_at is not None:
            body["estimatedReadyAt"] = format_datetime(estimated_ready_at, "estimated_ready_at")
        return self._exec.execute((EP_ORDER_STATUS, (order_id,), None, body, _discard, accept))


_PARTNER_STATUS = {value: value for value in PARTNER_ORDER_STATUSES}
_REGISTER_DETAILS = {"phone", "timezone", "address", "description", "logo_url",
                     "delivery_allowed", "pickup_allowed"}


class OnboardingResource(_Resource):
    """``client.onboarding``: register a store, poll, activate or cancel."""

    __slots__ = ()

    def register(self, *, partner_store_id: str, name: str, catalog_callback_url: str,
                 webhook_url: str, **details: Any) -> Onboarding:
        """Start onboarding a store; Gett then pulls its catalog.

        ``details``: phone, timezone (IANA), address (gett.Address or dict),
        description (may be ""), logo_url, delivery_allowed, pickup_allowed.
        Never retried once sent (a second registration would conflict).
        """
        unknown = sorted(set(details) - _REGISTER_DETAILS)
        if unknown:
            raise InvalidRequestError(f"register: unknown field {unknown[0]!r}; allowed: "
                                      f"{', '.join(sorted(_REGISTER_DETAILS))}", field=unknown[0])
        body: Dict[str, Any] = {
            "partnerStoreId": _check_text(partner_store_id, "partner_store_id"),
            "name": _check_text(name, "name"),
            "catalogCallbackUrl": check_url(catalog_callback_url, "catalog_callback_url"),
            "webhookUrl": check_url(webhook_url, "webhook_url"),
        }
        if "phone" in details:
            body["phone"] = _check_text(details["phone"], "phone")
        if "timezone" in details:
            body["timezone"] = _check_timezone(details["timezone"])
        if "address" in details:
            body["address"] = Address.coerce(details["address"])
        if "description" in details:
            body["description"] = _check_text(details["description"], "description", allow_empty=True)
        if "logo_url" in details:
            body["logoUrl"] = check_url(details["logo_url"], "logo_url")
        _fulfillment_flags(body, details.get("delivery_allowed", _UNSET),
                           details.get("pickup_allowed", _UNSET))
        return self._exec.execute((EP_REGISTER_STORE, (), None, body, self._onboarding, None))

    def get(self, onboarding_id: str) -> Onboarding:
        return self._exec.execute((EP_GET_ONBOARDING, (onboarding_id,), None, None,
                                   self._onboarding, None))

    def cancel(self, onboarding_id: str) -> None:
        """Cancel (final).  A retried cancel whose retry got 404 counts as done:
        the first attempt, whose answer was lost, had removed it."""
        return self._exec.execute((EP_CANCEL_ONBOARDING, (onboarding_id,), None, None, _discard,
                                   _cancelled_already))

    def activate(self, onboarding_id: str) -> Store:
        """Go live (only from ready_to_activate); returns the new Store."""
        return self._exec.execute((EP_ACTIVATE_STORE, (onboarding_id,), None, None, self._store,
                                   None))


class CatalogResource(_Resource):
    """``client.catalog``: tell Gett that a store's CatalogSet changed."""

    __slots__ = ()

    def notify(self, store_id: str, callback_url: str, catalog: Any = None) -> None:
        """Ask Gett to pull the CatalogSet at ``callback_url`` (202, asynchronous).

        When ``catalog`` (a CatalogSet, dict, bytes or str) is given it is
        validated first, and CatalogValidationError is raised instead of
        notifying if it has errors.
        """
        _check_text(store_id, "store_id")
        check_url(callback_url, "callback_url")
        if catalog is not None:
            # Loaded on first use only (the validator wrapper is large); catalog
            # imports nothing of the client, so this hides no import cycle.
            from .catalog import CatalogSet, validate_catalogset
            issues = catalog.validate() if isinstance(catalog, CatalogSet) else validate_catalogset(catalog)
            errors = [i for i in issues if i.severity == "error"]
            if errors:
                first = "; ".join(f"{i.path or '/'}: {i.message}" for i in errors[:3])
                raise CatalogValidationError(
                    f"catalog has {len(errors)} error(s), not notifying Gett: {first}", issues)
        return self._exec.execute((EP_NOTIFY_CATALOG, (), {"storeId": store_id},
                                   {"callbackUrl": callback_url}, _discard, None))
