"""``Sandbox``: the embedded Gett emulator as one object you start, drive and stop."""
from __future__ import annotations

import collections
import concurrent.futures
import json
import secrets
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from .._wire import dumps, utcnow
from . import catalog_ingest, orders
from ._util import mask_key, new_api_key, new_webhook_secret
from .demo_catalog import demo_catalog
from .exceptions import SandboxError, SandboxNotFound, SandboxOrderError
from .faults import Fault, FaultSet
from .ratelimit import RateLimiter, RateLimits
from .requestlog import RequestLog, RequestRecord
from .server import SandboxHandler, SandboxHTTPServer
from .state import CatalogVersion, OnboardingRecord, State, StoreRecord
from .webhook_sender import PLACE_RETRY_SCHEDULE

WEBHOOK_TIMEOUT = 10.0            # seconds Gett waits for validate/place answers (before time_scale)
MIN_WEBHOOK_TIMEOUT = 0.2         # a scaled timeout below this would fail healthy local partners


class Sandbox:
    """The Gett Commerce API, emulated in-process over real HTTP.

    >>> from gettcommerce.sandbox import Sandbox
    >>> with Sandbox() as sandbox:
    ...     store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza")
    ...     import urllib.request, json
    ...     req = urllib.request.Request(sandbox.url + "/v1/commerce/stores/" + store_id,
    ...                                  headers={"Authorization": "Bearer " + sandbox.api_key})
    ...     json.load(urllib.request.urlopen(req))["name"]
    'Pizza'

    ``time_scale`` multiplies every Gett-side delay (webhook answer timeout,
    placement retry schedule) so tests run fast; ``rate_limits`` is True
    (Gett's sandbox limits: 5000 reads and 500 writes per minute and key),
    False (never refuse), a scale factor of those, or a dict
    ``{"read": n, "write": m, "window": seconds}``.

    ``sync_catalog_pulls=True`` (the default) pulls a notified catalog
    before answering the notification's 202, so a partner serving the
    menu only for the duration of the call (``with menu.serve():``) is
    pulled in time; False pulls in the background, later, as Gett may.
    Either way a pull that fails is logged as a WARNING on the
    ``gettcommerce.sandbox`` logger (stderr without any logging set-up)
    and recorded in ``catalog_history()``.

    ``max_logged_requests`` bounds ``requests``; bodies are kept only for
    requests with a valid API key and only up to 4 KiB each (see
    :mod:`gettcommerce.sandbox.requestlog`).  The control plane under
    ``/_sandbox/`` needs no API key: the sandbox binds to 127.0.0.1 by
    default and is a development tool.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, api_key: Optional[str] = None,
                 webhook_secret: Optional[str] = None, time_scale: float = 1.0,
                 rate_limits: Union[bool, float, Dict[str, Any], RateLimits] = True,
                 place_retry_schedule: Optional[Sequence[float]] = None,
                 webhook_timeout: Optional[float] = None, fetch_timeout: float = 10.0,
                 max_catalog_bytes: int = catalog_ingest.DEFAULT_MAX_CATALOG_BYTES,
                 ingest_delay: float = 0.0, connection_timeout: float = 30.0, verbose: bool = False,
                 max_logged_requests: int = 10000, sync_catalog_pulls: bool = True) -> None:
        if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)) or not time_scale > 0:
            raise ValueError(f"time_scale must be a number > 0, got {time_scale!r}")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {port!r}")
        schedule = PLACE_RETRY_SCHEDULE if place_retry_schedule is None else tuple(place_retry_schedule)
        if any(not isinstance(d, (int, float)) or d < 0 for d in schedule):
            raise ValueError(f"place_retry_schedule must be delays in seconds >= 0, got {schedule!r}")
        self.host = host
        self._requested_port = port
        self.api_key = api_key or new_api_key()
        self.webhook_secret = webhook_secret or new_webhook_secret()
        self.time_scale = float(time_scale)
        self.place_retry_schedule = [float(d) * self.time_scale for d in schedule]
        self.webhook_timeout = (float(webhook_timeout) if webhook_timeout is not None
                                else max(WEBHOOK_TIMEOUT * self.time_scale, MIN_WEBHOOK_TIMEOUT))
        self.connection_timeout = connection_timeout
        self.verbose = verbose
        self.faults = FaultSet()
        self.errors: List[str] = []            # tracebacks of unexpected server errors
        self._limiter = RateLimiter(RateLimits.from_setting(rate_limits))
        self._state = State(self._submit, fetch_timeout=fetch_timeout, max_catalog_bytes=max_catalog_bytes,
                            ingest_delay=ingest_delay, sync_catalog_pulls=sync_catalog_pulls)
        self._state.add_partner(self.api_key)
        self._requests = RequestLog(max_logged_requests)
        self._hosted_catalogs: Dict[str, bytes] = {}
        self._server: Optional[SandboxHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        self._stopping = threading.Event()
        self._pending = 0
        self._idle = threading.Condition()

    # --- lifecycle -------------------------------------------------------
    def start(self) -> "Sandbox":
        """Bind and serve in a background thread; returns self once it listens."""
        if self._server is not None:
            return self
        handler = type("BoundSandboxHandler", (SandboxHandler,), {"timeout": self.connection_timeout})
        self._stopping.clear()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="gett-sandbox-bg")
        self._server = SandboxHTTPServer((self.host, self._requested_port), handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="gett-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and abandon pending retries. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    close = stop

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<Sandbox {where} key={mask_key(self.api_key)}>"

    @property
    def port(self) -> int:
        if self._server is None:
            raise SandboxError("the sandbox is not running; call start() or use it as a context manager")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL to give the SDK (``Client(base_url=sandbox.url)``)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def api_keys(self) -> List[str]:
        return [p.api_key for p in self._state.all_partners()]

    def client(self, **kwargs: Any) -> Any:
        """A ``gettcommerce.Client`` for this sandbox (extra keyword arguments pass through)."""
        from .. import Client
        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.url)
        return Client(**kwargs)

    def add_api_key(self, api_key: Optional[str] = None) -> str:
        """Another partner organisation: its own key, stores and rate limits."""
        key = api_key or new_api_key()
        self._state.add_partner(key)
        return key

    # --- background work -------------------------------------------------
    def _submit(self, job: Callable[[], Any]) -> None:
        if self._executor is None:
            raise SandboxError("the sandbox is not running")
        with self._idle:
            self._pending += 1

        def run() -> None:
            try:
                job()
            except Exception:
                import traceback
                self._note_error(traceback.format_exc())
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        try:
            self._executor.submit(run)
        except RuntimeError:           # executor shut down: the sandbox is stopping
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until background work (catalog pulls, placement retries) is done."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _note_error(self, text: str) -> None:
        self.errors.append(text)
        if self.verbose:
            import sys
            sys.stderr.write(text)

    # --- request log -----------------------------------------------------
    @property
    def requests(self) -> List[RequestRecord]:
        """Requests received, oldest first (method, path, query, headers, body, status, route).

        Bounded: the last ``max_logged_requests``; ``body`` only for requests
        with a valid API key and at most 4 KiB (``body_size`` is always set).
        """
        return self._requests.records()

    def request_count(self, match: str = "*") -> int:
        """How many requests matched ``"METHOD /path/glob"`` (same syntax as faults)."""
        probe = Fault(match=match, delay=0.001)
        return sum(n for (method, path), n in self._requests.counts().items() if probe.matches(method, path))

    def clear_requests(self) -> None:
        self._requests.clear()

    # --- faults ----------------------------------------------------------
    def inject_fault(self, match: str = "*", *, times: Optional[int] = 1, status: Optional[int] = None,
                     problem: Optional[Dict[str, Any]] = None, retry_after: Optional[int] = None,
                     headers: Optional[Dict[str, str]] = None, delay: float = 0.0,
                     action: Optional[str] = None, size: Optional[int] = None, process: bool = False) -> Fault:
        """Make the next ``times`` requests matching ``match`` fail; see :class:`Fault`.

        Raises :class:`~gettcommerce.sandbox.faults.FaultError` (a ValueError)
        naming each field at fault (a header value with CR/LF, a NaN delay...).

        >>> with Sandbox() as sb:
        ...     fault = sb.inject_fault("GET /v1/commerce/stores", times=2, status=503, retry_after=0)
        ...     fault.remaining
        2
        """
        return self.faults.add(Fault(match=match, times=times, status=status, problem=problem,
                                     retry_after=retry_after,
                                     headers=dict(headers) if isinstance(headers, dict) else
                                     ({} if headers is None else headers), delay=delay,
                                     action=action, size=size, process=process))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- seeding and inspection -----------------------------------------
    def host_catalog(self, catalog: Union[Dict[str, Any], bytes, str, Any]) -> str:
        """Serve a CatalogSet from the sandbox itself; returns its URL (a ``catalogCallbackUrl``)."""
        data = _catalog_bytes(catalog)
        name = secrets.token_hex(8)
        self._hosted_catalogs[name] = data
        return f"{self.url}/_sandbox/catalogs/{name}"

    def create_store(self, *, partner_store_id: str, name: str, catalog: Any = None,
                     webhook_url: str = "http://127.0.0.1:9/gett", api_key: Optional[str] = None,
                     timezone: str = "UTC", phone: Optional[str] = None, description: Optional[str] = None,
                     logo_url: Optional[str] = None, address: Optional[Dict[str, Any]] = None,
                     delivery_allowed: bool = True, pickup_allowed: bool = True) -> str:
        """Seed an active store directly (as if onboarding had completed); returns its storeId.

        ``catalog`` defaults to :func:`demo_catalog` and is validated like an
        ingested one (CatalogValidationError-style failure raises SandboxError).
        """
        partner = self._state.partner_for(api_key or self.api_key)
        if partner is None:
            raise SandboxError("unknown api_key; call add_api_key() first")
        raw = _catalog_bytes(demo_catalog() if catalog is None else catalog)
        issues = catalog_ingest.validate(raw)
        if any(getattr(i, "severity", "error") == "error" for i in issues):
            raise SandboxError("create_store: " + catalog_ingest.describe_failure(issues))
        details = {"partnerStoreId": partner_store_id, "name": name, "catalogCallbackUrl": "sandbox:seeded",
                   "webhookUrl": webhook_url, "timezone": timezone, "phone": phone, "description": description,
                   "logoUrl": logo_url, "address": address, "deliveryAllowed": delivery_allowed,
                   "pickupAllowed": pickup_allowed}
        onboarding = OnboardingRecord(partner, details)
        store = StoreRecord(partner, details, onboarding.onboarding_id)
        store.add_catalog_version(CatalogVersion("sandbox:seeded", True, catalog=catalog_ingest.parse(raw),
                                                 issues=issues))
        onboarding.status, onboarding.store_id, onboarding.version = "active", store.store_id, store.current
        with partner.lock:
            partner.onboardings[onboarding.onboarding_id] = onboarding
            partner.stores[store.store_id] = store
        return store.store_id

    def _store(self, store_id: str) -> StoreRecord:
        store = self._state.find_store(store_id)
        if store is None:
            raise SandboxNotFound(f"no active store with storeId or partnerStoreId {store_id!r}")
        return store

    def store(self, store_id: str) -> Dict[str, Any]:
        """A store's full sandbox view: Store fields, status, webhook URL, catalog versions."""
        store = self._store(store_id)
        with store.lock:
            store.refresh()
            return store.to_state()

    def catalog_history(self, store_id: str) -> List[Dict[str, Any]]:
        """Every ingestion of the store's catalog, oldest first (failed ones have no catalogSetId)."""
        return self.store(store_id)["catalogVersions"]

    def current_catalog(self, store_id: str) -> Optional[Dict[str, Any]]:
        """The live CatalogSet (as parsed) with its sandbox ``catalogSetId``."""
        store = self._store(store_id)
        with store.lock:
            if store.current is None:
                return None
            return {"catalogSetId": store.current.catalog_set_id, "catalog": json.loads(dumps(store.current.catalog))}

    def onboarding(self, onboarding_id: str) -> Dict[str, Any]:
        record = self._state.find_onboarding(onboarding_id)
        if record is None:
            raise SandboxNotFound(f"no onboarding {onboarding_id!r}")
        with record.lock:
            return record.to_state()

    def order(self, order_id: str) -> Dict[str, Any]:
        """An order's state, status, history, partnerOrderId, amounts and placement progress."""
        order = self._state.find_order(order_id)
        if order is None:
            raise SandboxNotFound(f"no order {order_id!r}")
        with order.lock:
            return json.loads(dumps(order.to_dict()))

    # --- orders (Gett -> partner) ---------------------------------------
    def place_order(self, store_id: str, items: Any, fulfillment_type: str = "pickup", *,
                    user: Optional[Dict[str, Any]] = None, delivery_address: Optional[Dict[str, Any]] = None,
                    tip: Any = 0, wait: bool = True) -> str:
        """Create an order as a Gett consumer would and deliver it to the partner; returns orderId.

        ``items`` entries are an item id (quantity 1), an ``(itemId, quantity)``
        pair, or ``{"itemId", "quantity", "modifierGroups": [{"modifierGroupId",
        "selectedModifiers": [{"itemId", "quantity"}]}]}``.  Prices come from the
        store's live catalog.  Gett POSTs the signed ``/validate`` then
        ``/place`` webhooks; a 4xx validate answer raises
        SandboxOrderRejected, a closed or paused store SandboxStoreClosed.  A
        failed placement is retried on the (scaled) schedule; with
        ``wait=True`` this call returns once placed or raises
        SandboxPlacementFailed, with ``wait=False`` retries run in the background.
        """
        store = self._store(store_id)
        if fulfillment_type not in orders.FULFILLMENT_TYPES:
            raise SandboxOrderError(f"fulfillment_type must be one of {', '.join(orders.FULFILLMENT_TYPES)}, "
                                    f"got {fulfillment_type!r}")
        if user is not None and not isinstance(user, dict):
            raise SandboxOrderError("user must be a dict with name, phone, email")
        if fulfillment_type == "delivery" and not isinstance(delivery_address, dict):
            raise SandboxOrderError("a delivery order needs delivery_address (a dict with street, city, "
                                    "state, postalCode, country)")
        if fulfillment_type == "pickup" and delivery_address is not None:
            raise SandboxOrderError("a pickup order takes no delivery_address")
        lines = orders.normalize_items(items)
        tip_value = orders.tip_amount(tip)
        with store.lock:
            open_ids = orders.check_open(store, utcnow())
            allowed = store.delivery_allowed if fulfillment_type == "delivery" else store.pickup_allowed
            if not allowed:
                raise SandboxOrderError(f"store {store.store_id} does not allow {fulfillment_type} orders")
            catalog = store.current.catalog
            subtotal = orders.price_lines(catalog, lines, catalog_ingest.reachable_items(catalog, open_ids))
            payload = orders.build_payload(store, lines, subtotal, fulfillment_type=fulfillment_type, user=user,
                                           delivery_address=delivery_address, tip=tip_value)
        placer = orders.OrderPlacer(secret=self.webhook_secret, timeout=self.webhook_timeout,
                                    schedule=self.place_retry_schedule, stopping=self._stopping)
        validated = placer.validate(store, payload)
        # place carries what validate priced (a new dict: the validate body was already sent).
        payload["order"] = dict(payload["order"], amounts=orders.priced_amounts(
            payload["order"]["amounts"], validated.get("amounts"), order_id=payload["order"]["orderId"],
            url=store.webhook_url))
        order = orders.OrderRecord(store, payload)
        with store.owner.lock:
            store.owner.orders[order.order_id] = order
        if wait:
            failure = placer.place_with_retries(order)
            if failure is not None:
                raise failure
        else:
            self._submit(lambda: placer.place_with_retries(order))
        return order.order_id

    # --- whole-sandbox views ---------------------------------------------
    def reset(self) -> None:
        """Forget every store, onboarding, order, fault, logged request and rate-limit count.

        API keys and the webhook secret stay, so clients keep working.
        """
        self._state.clear()
        self.faults.clear()
        self.clear_requests()
        self._limiter.reset()
        self._hosted_catalogs.clear()
        self.errors.clear()

    def state(self) -> Dict[str, Any]:
        """A JSON-ready dump of everything (what ``GET /_sandbox/state`` returns); keys are masked."""
        counts: Dict[str, int] = collections.Counter()
        for (method, path), n in self._requests.counts().items():
            counts[f"{method} {path}"] += n
        dump = {
            "url": self.url if self._server is not None else None,
            "timeScale": self.time_scale,
            "webhookTimeout": self.webhook_timeout,
            "placeRetrySchedule": self.place_retry_schedule,
            "rateLimits": self._limiter.describe(),
            "partners": {p.label: p.to_state() for p in self._state.all_partners()},
            "faults": [f.to_dict() for f in self.faults.list()],
            "requestCounts": dict(counts),
            "hostedCatalogs": sorted(self._hosted_catalogs),
            "errors": len(self.errors),
        }
        return json.loads(dumps(dump))


def _catalog_bytes(catalog: Any) -> bytes:
    if isinstance(catalog, bytes):
        return catalog
    if isinstance(catalog, str):
        return catalog.encode("utf-8")
    if isinstance(catalog, dict):
        return dumps(catalog)
    to_json = getattr(catalog, "to_json", None)      # gettcommerce.CatalogSet
    if callable(to_json):
        data = to_json()
        return data if isinstance(data, bytes) else str(data).encode("utf-8")
    raise TypeError(f"catalog must be a dict, JSON bytes/str or a CatalogSet, not {type(catalog).__name__}")
