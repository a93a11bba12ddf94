"""Client and resource namespaces: argument checks in Python, HTTP in C.

Every call goes through ``Client._call`` into the C core
(``gettcommerce._core.Client.request``), which builds the URL, sends JSON,
retries as DESIGN §2 says and parses the answer with the GIL released.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import logging
import math
import os
import platform
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Union
from urllib.parse import urlsplit

from . import _core
from ._constants import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POOL_SIZE,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    LIST_STORES_PAGE_SIZE,
    PRODUCTION_BASE_URL,
)
from ._version import __version__
from .errors import (APIConnectionError, CatalogValidationError, GettError, InvalidRequestError,
                     from_transport_error)
if TYPE_CHECKING:  # pragma: no cover
    from ._batch import Batch
from .models import (
    Address,
    Onboarding,
    Order,
    OrderState,
    OrderStatus,
    PauseReason,
    Store,
    StoreStatus,
    coerce_enum,
    format_datetime,
    iter_models,
)

__all__ = ["Client"]

logger = logging.getLogger("gettcommerce")

_EP = {name: entry[0] for name, entry in _core.ENDPOINTS.items()}
EP_NOTIFY_CATALOG = _EP["notify_catalog"]
EP_LIST_STORES = _EP["list_stores"]
EP_GET_STORE = _EP["get_store"]
EP_UPDATE_STORE = _EP["update_store"]
EP_GET_STORE_STATUS = _EP["get_store_status"]
EP_SET_STORE_STATUS = _EP["set_store_status"]
EP_ORDER_STATUS = _EP["order_status"]
EP_REGISTER_STORE = _EP["register_store"]
EP_GET_ONBOARDING = _EP["get_onboarding"]
EP_CANCEL_ONBOARDING = _EP["cancel_onboarding"]
EP_ACTIVATE_STORE = _EP["activate_store"]

_UNSET: Any = object()


_ENDPOINT_NAMES = {entry[0]: name for name, entry in _core.ENDPOINTS.items()}


def unexpected_answer(endpoint: int, raw: Any) -> APIConnectionError:
    """A 2xx answer whose JSON does not have the documented shape."""
    return APIConnectionError(f"Gett answered {_ENDPOINT_NAMES.get(endpoint, endpoint)} with JSON of an "
                              f"unexpected shape ({type(raw).__name__}: {str(raw)[:80]})")


def _log_attempt(method: str, url: str, status: int, ms: float, attempt: int) -> None:
    # Called by the C core once per HTTP attempt; the URL never holds the key
    # (it travels only in the Authorization header, kept in C memory).
    if logger.isEnabledFor(logging.DEBUG):
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        logger.debug("%s %s -> %s in %.1f ms (attempt %d)", method, path, status or "no answer",
                     ms, attempt)


_core.set_logger_hook(_log_attempt)


def _user_agent() -> str:
    return f"gettcommerce/{__version__} libcurl/{_core.curl_version} Python/{platform.python_version()}"


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(value: Any, field: str) -> str:
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


def _check_id(value: Any, field: str) -> str:
    # The C core's rule, the one every request's path parameters go through.
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
        import zoneinfo
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


class Client:
    """A connection to the Gett Commerce Partner API.

    >>> import gettcommerce as gett
    >>> client = gett.Client(api_key="zpka_example", base_url="http://127.0.0.1:9")
    >>> client
    <gettcommerce.Client base_url='http://127.0.0.1:9'>
    >>> client.close()

    ``api_key`` defaults to ``$GETT_API_KEY``, ``base_url`` to
    ``$GETT_BASE_URL`` or production.  ``timeout`` bounds a whole call,
    retries included; ``max_retries`` counts retries after the first attempt.
    The key lives only in the C core's memory and never appears in a repr,
    log line or exception.  One Client is safe to share between threads and
    survives ``os.fork()`` (the child opens its own connections).
    """

    def __init__(self, api_key: Optional[str] = None, *, base_url: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 max_retries: int = DEFAULT_MAX_RETRIES,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 ca_bundle: Optional[str] = None, allow_insecure_http: bool = False,
                 pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._core: Optional[_core.Client] = None
        key = api_key if api_key is not None else os.environ.get(ENV_API_KEY)
        if not key:
            raise InvalidRequestError(f"no API key: pass api_key= or set ${ENV_API_KEY}",
                                      field="api_key")
        if not isinstance(key, str) or any(ord(c) < 33 or ord(c) > 126 for c in key):
            # The value itself is never echoed: it is a secret.
            raise InvalidRequestError("api_key must be printable ASCII without spaces or line breaks",
                                      field="api_key")
        url = base_url or os.environ.get(ENV_BASE_URL) or PRODUCTION_BASE_URL
        _check_url(url, "base_url")
        parts = urlsplit(url)
        if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname or ""):
            raise InvalidRequestError(
                f"base_url {url!r} is plain http to a non-loopback host: the API key would travel "
                "unencrypted; use https or pass allow_insecure_http=True", field="base_url", value=url)
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
                    or not math.isfinite(value):
                raise InvalidRequestError(f"{name} must be a number of seconds > 0, not {value!r}",
                                          field=name, value=value)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidRequestError(f"max_retries must be an int >= 0, not {max_retries!r}",
                                      field="max_retries", value=max_retries)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) \
                or max_response_bytes <= 0:
            raise InvalidRequestError("max_response_bytes must be an int > 0", field="max_response_bytes",
                                      value=max_response_bytes)
        if ca_bundle is None:
            ca_bundle = os.environ.get("SSL_CERT_FILE") or None
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise InvalidRequestError(f"ca_bundle {ca_bundle!r} is not a readable file",
                                      field="ca_bundle", value=ca_bundle)
        self.base_url = url.rstrip("/")
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self._core = _core.Client(self.base_url, key, _user_agent(), timeout=float(timeout),
                                  connect_timeout=float(connect_timeout), max_retries=max_retries,
                                  max_response_bytes=max_response_bytes, ca_bundle=ca_bundle,
                                  pool_size=pool_size, proxy=None)
        self.stores = StoresResource(self)
        self.orders = OrdersResource(self)
        self.onboarding = OnboardingResource(self)
        self.catalog = CatalogResource(self)

    def __repr__(self) -> str:
        closed = " closed" if self.closed else ""
        return f"<gettcommerce.Client base_url={getattr(self, 'base_url', None)!r}{closed}>"

    @property
    def closed(self) -> bool:
        return self._core is None or self._core.closed

    def close(self) -> None:
        """Close pooled connections.  Idempotent; later calls raise InvalidRequestError."""
        if self._core is not None:
            self._core.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _request(self, endpoint: int, params: tuple = (), query: Optional[dict] = None,
                 body: Any = None) -> Any:
        """One call's parsed JSON answer (None when empty)."""
        return self._call(endpoint, params, query, body, None)

    def _call(self, endpoint: int, params: tuple, query: Optional[dict], body: Any,
              parse: Optional[Callable[[Any, tuple], Any]]) -> Any:
        # Resources describe a call and how to read its answer (``parse``; None
        # returns the JSON as is); a Client runs it now, a Batch queues it
        # (see _batch.py).  The one place C-core errors become public ones.
        core = self._core
        try:
            raw = core.request(endpoint, params, query, body)  # type: ignore[union-attr]
        except _core.TransportError as exc:
            raise from_transport_error(exc) from exc
        except (ValueError, TypeError) as exc:
            raise InvalidRequestError(str(exc)) from exc
        except (RuntimeError, AttributeError) as exc:
            raise InvalidRequestError(f"the Client is closed; create a new Client ({exc})") from exc
        if parse is None:
            return raw
        try:
            return parse(raw, params)
        except GettError:  # a later page of stores.list() failed: already typed
            raise
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            raise unexpected_answer(endpoint, raw) from exc

    def order(self, order_id: str) -> Order:
        """An Order handle for pushing status (no request is made).

        >>> client = Client(api_key="zpka_example", base_url="http://127.0.0.1:9")
        >>> client.order("3f2b...").status
        'pending'
        """
        return Order(_check_id(order_id, "order_id"), client=self)

    def batch(self, *, concurrency: int = 32, progress: bool = False) -> "Batch":
        """Run many calls concurrently; see :class:`gettcommerce.Batch`."""
        from ._batch import Batch
        return Batch(self, concurrency=concurrency, progress=progress)


class _Resource:
    """A namespace of calls.  ``_exec`` runs or queues them (a Client or a
    Batch); ``_client`` is the Client that models returned are bound to."""

    __slots__ = ("_exec", "_client")

    def __init__(self, client: Client, executor: Any = None) -> None:
        self._client = client
        self._exec = executor if executor is not None else client


def _discard(raw: Any, params: tuple) -> None:
    """For calls whose answer carries nothing (order status, cancel, notify)."""
    return None


def _read_status(raw: Any, params: tuple) -> StoreStatus:
    return StoreStatus.from_dict(raw, params[0])


class StoresResource(_Resource):
    """``client.stores``: list, get and update stores; pause and resume them."""

    __slots__ = ()

    def list(self) -> List[Store]:
        """Every store of the partner organisation (pages through all of them)."""
        client = self._client

        def read_pages(page: Any, params: tuple) -> List[Store]:
            stores: List[Store] = []
            offset = 0
            while True:
                if isinstance(page, list):  # a bare array: the whole list at once
                    return stores + iter_models(Store, page, client)
                items = (page.get("stores") or []) if isinstance(page, dict) else []
                stores.extend(iter_models(Store, items, client))
                if not (isinstance(page, dict) and page.get("hasMore")) or not items:
                    return stores
                offset += len(items)
                page = client._request(EP_LIST_STORES, (), {"limit": LIST_STORES_PAGE_SIZE,
                                                            "offset": offset})

        return self._exec._call(EP_LIST_STORES, (), {"limit": LIST_STORES_PAGE_SIZE, "offset": 0},
                                None, read_pages)

    def get(self, store_id: str) -> Store:
        return self._exec._call(EP_GET_STORE, (store_id,), None, None, self._store)

    def _store(self, raw: Any, params: tuple) -> Store:
        return Store.from_dict(raw or {}, self._client)

    def update(self, store_id: str, *, name: Any = _UNSET, phone: Any = _UNSET,
               description: Any = _UNSET, logo_url: Any = _UNSET, delivery_allowed: Any = _UNSET,
               pickup_allowed: Any = _UNSET) -> Store:
        """Change store metadata; only the fields given are sent (merge)."""
        body: Dict[str, Any] = {}
        if name is not _UNSET:
            body["name"] = _check_text(name, "name")
        if phone is not _UNSET:
            body["phone"] = _check_text(phone, "phone")
        if description is not _UNSET:
            body["description"] = _check_text(description, "description", allow_empty=True)
        if logo_url is not _UNSET:
            body["logoUrl"] = _check_url(logo_url, "logo_url")
        _fulfillment_flags(body, delivery_allowed, pickup_allowed)
        if not body:
            raise InvalidRequestError("update needs at least one of name, phone, description, "
                                      "logo_url, delivery_allowed, pickup_allowed")
        return self._exec._call(EP_UPDATE_STORE, (store_id,), None, body, self._store)

    def get_status(self, store_id: str) -> StoreStatus:
        return self._exec._call(EP_GET_STORE_STATUS, (store_id,), None, None, _read_status)

    def pause(self, store_id: str, reason: Union[str, PauseReason], *,
              resume_at: Union[_dt.datetime, _dt.timedelta, str, None] = None) -> StoreStatus:
        """Stop taking orders.  ``resume_at`` (aware datetime, ISO text, or a
        timedelta from now) makes Gett resume the store by itself."""
        body: Dict[str, Any] = {"status": "paused", "reason": coerce_enum(PauseReason, reason, "reason")}
        if resume_at is not None:
            if isinstance(resume_at, _dt.timedelta):
                if resume_at.total_seconds() <= 0:
                    raise InvalidRequestError("resume_at must be in the future", field="resume_at",
                                              value=resume_at)
                resume_at = _dt.datetime.now(_dt.timezone.utc) + resume_at
            text = format_datetime(resume_at, "resume_at")
            if isinstance(resume_at, _dt.datetime) and resume_at <= _dt.datetime.now(_dt.timezone.utc):
                raise InvalidRequestError(f"resume_at must be in the future, not {text}",
                                          field="resume_at", value=resume_at)
            body["resumeAt"] = text
        return self._exec._call(EP_SET_STORE_STATUS, (store_id,), None, body, _read_status)

    def resume(self, store_id: str) -> StoreStatus:
        """Take orders again now."""
        return self._exec._call(EP_SET_STORE_STATUS, (store_id,), None, {"status": "online"},
                                _read_status)


class OrdersResource(_Resource):
    """``client.orders``: push order progress and close orders."""

    __slots__ = ()

    def update_status(self, order_id: str, *, status: Union[str, OrderStatus, None] = None,
                      state: Union[str, OrderState, None] = None, estimated_ready_at: Any = None,
                      cancel_reason: Optional[str] = None) -> None:
        """Send ``status`` (progress while open) and/or ``state`` (close it).

        Only ``state='open'`` may go with a ``status``; ``state='cancelled'``
        needs ``cancel_reason``.  Refused locally with InvalidRequestError.
        """
        body: Dict[str, Any] = {}
        if status is not None:
            wire_status = coerce_enum(OrderStatus, status, "status")
            if wire_status == "pending":
                raise InvalidRequestError("status 'pending' is set by Gett at creation; partners send "
                                          "confirmed, preparing, ready or inTransit", field="status",
                                          value=status)
            body["status"] = wire_status
        if state is not None:
            wire_state = coerce_enum(OrderState, state, "state")
            if status is not None and wire_state != "open":
                raise InvalidRequestError(f"state {wire_state!r} closes the order and cannot be sent "
                                          "with a status; send it alone", field="state", value=state)
            body["state"] = wire_state
        if not body:
            raise InvalidRequestError("update_status needs status= or state=", field="status")
        if body.get("state") == "cancelled":
            body["cancelReason"] = _check_text(cancel_reason, "cancel_reason")
        elif cancel_reason is not None:
            raise InvalidRequestError("cancel_reason goes only with state='cancelled'",
                                      field="cancel_reason", value=cancel_reason)
        if estimated_ready_at is not None:
            body["estimatedReadyAt"] = format_datetime(estimated_ready_at, "estimated_ready_at")
        return self._exec._call(EP_ORDER_STATUS, (order_id,), None, body, _discard)


_REGISTER_DETAILS = {"phone", "timezone", "address", "description", "logo_url",
                     "delivery_allowed", "pickup_allowed"}


class OnboardingResource(_Resource):
    """``client.onboarding``: register a store, poll, activate or cancel."""

    __slots__ = ()

    def register(self, *, partner_store_id: str, name: str, catalog_callback_url: str,
                 webhook_url: str, **details: Any) -> Onboarding:
        """Start onboarding a store; Gett then pulls its catalog.

        ``details``: phone, timezone (IANA), address (gett.Address or dict),
        description, logo_url, delivery_allowed, pickup_allowed.  Never
        retried once sent (a second registration would conflict).
        """
        unknown = sorted(set(details) - _REGISTER_DETAILS)
        if unknown:
            raise InvalidRequestError(f"register: unknown field {unknown[0]!r}; allowed: "
                                      f"{', '.join(sorted(_REGISTER_DETAILS))}", field=unknown[0])
        body: Dict[str, Any] = {
            "partnerStoreId": _check_text(partner_store_id, "partner_store_id"),
            "name": _check_text(name, "name"),
            "catalogCallbackUrl": _check_url(catalog_callback_url, "catalog_callback_url"),
            "webhookUrl": _check_url(webhook_url, "webhook_url"),
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
            body["logoUrl"] = _check_url(details["logo_url"], "logo_url")
        _fulfillment_flags(body, details.get("delivery_allowed", _UNSET),
                           details.get("pickup_allowed", _UNSET))
        return self._exec._call(EP_REGISTER_STORE, (), None, body, self._onboarding)

    def _onboarding(self, raw: Any, params: tuple) -> Onboarding:
        return Onboarding.from_dict(raw or {}, self._client)

    def get(self, onboarding_id: str) -> Onboarding:
        return self._exec._call(EP_GET_ONBOARDING, (onboarding_id,), None, None, self._onboarding)

    def cancel(self, onboarding_id: str) -> None:
        return self._exec._call(EP_CANCEL_ONBOARDING, (onboarding_id,), None, None, _discard)

    def activate(self, onboarding_id: str) -> Store:
        """Go live (only from ready_to_activate); returns the new Store."""
        return self._exec._call(EP_ACTIVATE_STORE, (onboarding_id,), None, None,
                                lambda raw, params: Store.from_dict(raw or {}, self._client))


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
        _check_url(callback_url, "callback_url")
        if catalog is not None:
            from .catalog import CatalogSet, validate_catalogset
            issues = catalog.validate() if isinstance(catalog, CatalogSet) else validate_catalogset(catalog)
            errors = [i for i in issues if i.severity == "error"]
            if errors:
                first = "; ".join(f"{i.path or '/'}: {i.message}" for i in errors[:3])
                raise CatalogValidationError(
                    f"catalog has {len(errors)} error(s), not notifying Gett: {first}", issues)
        return self._exec._call(EP_NOTIFY_CATALOG, (), {"storeId": store_id},
                                {"callbackUrl": callback_url}, _discard)


# Re-exported for type checkers and the batch module.
__all__ += ["StoresResource", "OrdersResource", "OnboardingResource", "CatalogResource", "GettError"]
