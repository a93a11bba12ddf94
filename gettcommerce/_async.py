"""asyncio: ``AsyncClient``, another executor of the same Requests.

    async with gett.AsyncClient() as client:
        store = await client.stores.get(store_id)          # gett.AsyncStore
        status = await store.pause("too_busy")              # model methods are coroutines
        async for s in client.stores.iter(): ...
        await asyncio.gather(*(client.orders.update_status(o, status="ready") for o in ids))

The resources are the sync client's (``_resources.py``): they check the
arguments (InvalidRequestError right away, when the method is called) and
describe the call as a Request; ``AsyncClient.execute`` returns a coroutine
that runs it on the C core's asyncio engine (``_core.AsyncEngine``: libcurl's
multi_socket API driven by the running loop's add_reader/add_writer and
call_later, no thread, the GIL released while libcurl works) and
``_request.settle`` maps the outcome, exactly as for ``Client``.  Retries,
Retry-After, the whole-call ``timeout`` and the never-twice rule for
register/notify/activate are the C core's, as for ``Client``; the waits
between attempts are the loop's.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import os
import time
import warnings
from typing import (TYPE_CHECKING, Any, AsyncIterator, Callable, Coroutine, Dict, List, Mapping, Optional,
                    Tuple, Type, TypeVar, Union)

from . import _core
from ._client import Client
from ._constants import (
    DEFAULT_ASYNC_MAX_CONCURRENCY,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    LIST_STORES_PAGE_SIZE,
    ONBOARDING_POLL_INTERVAL,
    ONBOARDING_WAIT_TIMEOUT,
)
from ._attempt import AttemptHook
from ._raw import RawResponse, settle_raw
from ._request import CORE_ERRORS, Pages, Request, as_is, settle, sync_log_hook
from ._resources import CatalogResource, OnboardingResource, OrdersResource, StoresResource, check_id
from ._wire import parse_datetime
from .errors import InvalidRequestError, InvalidTransitionError
from .models import (Address, Onboarding, Order, OrderState, OrderStatus, PauseReason, Store, StoreStatus,
                     _Model, _OnboardingWait)

__all__ = ["AsyncClient", "AsyncStore", "AsyncOrder", "AsyncOnboarding"]


# Bumped in a fork child: an AsyncClient made before the fork gets a fresh
# engine there (the parent's sockets are abandoned, never closed).
_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

M = TypeVar("M", bound=_Model)


def _same_fields(sync: Type[Any]) -> Callable[[Type[M]], Type[M]]:
    """Give an async model the sync model's constructor, from_dict and to_dict
    (same fields, same wire format); the methods that call Gett are its own."""
    def adopt(cls: Type[M]) -> Type[M]:
        cls.__init__ = sync.__init__  # type: ignore[method-assign]
        if hasattr(sync, "from_dict"):
            cls.from_dict = classmethod(sync.from_dict.__func__)  # type: ignore[attr-defined]
        if hasattr(sync, "to_dict"):
            cls.to_dict = sync.to_dict  # type: ignore[attr-defined]
        return cls
    return adopt


# ---------------------------------------------------------------- models

@_same_fields(Store)
class AsyncStore(_Model):
    """A store returned by an AsyncClient: the fields and ``to_dict()`` of
    :class:`~gettcommerce.Store`; its methods are coroutines."""

    __slots__ = Store.__slots__
    _fields = Store._fields
    store_id: str
    name: Optional[str]
    phone: Optional[str]
    timezone: Optional[str]
    logo_url: Optional[str]
    description: Optional[str]
    status: Optional[str]
    address: Optional[Address]
    delivery_allowed: Optional[bool]
    pickup_allowed: Optional[bool]
    raw: Dict[str, Any]
    _client: Optional["AsyncClient"]

    if TYPE_CHECKING:  # the constructor, from_dict and to_dict are Store's (_same_fields)
        def __init__(self, store_id: str, name: Optional[str] = None, *, phone: Optional[str] = None,
                     timezone: Optional[str] = None, logo_url: Optional[str] = None,
                     description: Optional[str] = None, status: Optional[str] = None,
                     address: Optional[Address] = None, delivery_allowed: Optional[bool] = None,
                     pickup_allowed: Optional[bool] = None, raw: Optional[Dict[str, Any]] = None,
                     client: Optional["AsyncClient"] = None) -> None: ...

        @classmethod
        def from_dict(cls, data: Dict[str, Any], client: Optional["AsyncClient"] = None) -> "AsyncStore": ...

        def to_dict(self) -> Dict[str, Any]: ...

    def _bound(self) -> "AsyncClient":
        if self._client is None:
            raise InvalidRequestError("this AsyncStore is not bound to an AsyncClient; "
                                      "use await client.stores.get()")
        return self._client

    async def refresh(self) -> "AsyncStore":
        """Reload from Gett; returns self."""
        return self._absorb(await self._bound().stores.get(self.store_id))

    async def update(self, **fields: Any) -> "AsyncStore":
        """Update metadata (as ``client.stores.update``); returns self with Gett's answer."""
        return self._absorb(await self._bound().stores.update(self.store_id, **fields))

    async def get_status(self) -> StoreStatus:
        return await self._bound().stores.get_status(self.store_id)

    async def pause(self, reason: Union[str, PauseReason], resume_at: Any = None) -> StoreStatus:
        result = await self._bound().stores.pause(self.store_id, reason, resume_at=resume_at)
        self.status = result.status
        return result

    async def resume(self) -> StoreStatus:
        result = await self._bound().stores.resume(self.store_id)
        self.status = result.status
        return result


@_same_fields(Order)
class AsyncOrder(_Model):
    """An order handle of an AsyncClient (``client.order(id)``): the fields and
    transition checks of :class:`~gettcommerce.Order`; its methods are
    coroutines.  An invalid transition raises InvalidTransitionError before
    anything is sent."""

    __slots__ = Order.__slots__
    _fields = Order._fields
    order_id: str
    state: str
    status: str
    estimated_ready_at: Optional[_dt.datetime]
    cancel_reason: Optional[str]
    _client: Optional["AsyncClient"]

    if TYPE_CHECKING:
        def __init__(self, order_id: str, *, state: str = "open", status: str = "pending",
                     client: Optional["AsyncClient"] = None) -> None: ...

    @property
    def is_closed(self) -> bool:
        return self.state in ("completed", "cancelled")

    def _check(self, requested: str) -> None:
        Order._check(self, requested)  # type: ignore[arg-type]

    async def _send(self, **fields: Any) -> "AsyncOrder":
        if self._client is None:
            raise InvalidRequestError("this AsyncOrder is not bound to an AsyncClient; "
                                      "use client.order(order_id)")
        await self._client.orders.update_status(self.order_id, **fields)
        return self

    async def _progress(self, status: str, estimated_ready_at: Any = None) -> "AsyncOrder":
        self._check(status)
        await self._send(status=status, estimated_ready_at=estimated_ready_at)
        self.status = status
        if estimated_ready_at is not None:
            self.estimated_ready_at = parse_datetime(estimated_ready_at)
        return self

    async def confirm(self, estimated_ready_at: Any = None) -> "AsyncOrder":
        """Accepted into the partner's system."""
        return await self._progress("confirmed", estimated_ready_at)

    async def start_preparing(self, estimated_ready_at: Any = None) -> "AsyncOrder":
        """The kitchen started."""
        return await self._progress("preparing", estimated_ready_at)

    async def mark_ready(self) -> "AsyncOrder":
        return await self._progress("ready")

    async def mark_in_transit(self) -> "AsyncOrder":
        return await self._progress("inTransit")

    async def complete(self) -> "AsyncOrder":
        """Close the order as fulfilled."""
        self._check("completed")
        await self._send(state="completed")
        self.state = "completed"
        return self

    async def cancel(self, reason: str) -> "AsyncOrder":
        """Close the order as cancelled; ``reason`` is required."""
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidTransitionError(
                f"cancelling order {self.order_id} needs a non-empty reason, e.g. 'Item out of stock'",
                order_id=self.order_id, current=self.state, requested="cancelled")
        self._check("cancelled")
        await self._send(state="cancelled", cancel_reason=reason)
        self.state = "cancelled"
        self.cancel_reason = reason
        return self


@_same_fields(Onboarding)
class AsyncOnboarding(_Model):
    """An onboarding returned by an AsyncClient: the fields and ``to_dict()``
    of :class:`~gettcommerce.Onboarding`; its methods are coroutines."""

    __slots__ = Onboarding.__slots__
    _fields = Onboarding._fields
    onboarding_id: str
    partner_store_id: Optional[str]
    status: Optional[str]
    store_id: Optional[str]
    error: Optional[str]
    created_at: Optional[_dt.datetime]
    raw: Dict[str, Any]
    _client: Optional["AsyncClient"]

    if TYPE_CHECKING:
        def __init__(self, onboarding_id: str, *, partner_store_id: Optional[str] = None,
                     status: Optional[str] = None, store_id: Optional[str] = None,
                     error: Optional[str] = None, created_at: Optional[_dt.datetime] = None,
                     raw: Optional[Dict[str, Any]] = None,
                     client: Optional["AsyncClient"] = None) -> None: ...

        @classmethod
        def from_dict(cls, data: Dict[str, Any],
                      client: Optional["AsyncClient"] = None) -> "AsyncOnboarding": ...

        def to_dict(self) -> Dict[str, Any]: ...

    def _bound(self) -> "AsyncClient":
        if self._client is None:
            raise InvalidRequestError("this AsyncOnboarding is not bound to an AsyncClient; "
                                      "use await client.onboarding.get()")
        return self._client

    async def refresh(self) -> "AsyncOnboarding":
        return self._absorb(await self._bound().onboarding.get(self.onboarding_id))

    async def wait(self, timeout: float = ONBOARDING_WAIT_TIMEOUT,
                   poll_interval: float = ONBOARDING_POLL_INTERVAL,
                   progress: bool = False) -> "AsyncOnboarding":
        """Poll until ``ready_to_activate`` or ``active``; returns self.

        As :meth:`gettcommerce.Onboarding.wait` (x1.5 back-off up to 10 s,
        OnboardingFailedError on ``catalog_failed``, APITimeoutError after
        ``timeout``), but the waits are ``asyncio.sleep``: the loop stays free.
        """
        with _OnboardingWait(self, timeout, poll_interval, progress) as waiting:
            while (pause := waiting.next_pause()) is not None:
                await asyncio.sleep(pause)
                await self.refresh()
                waiting.show()
        return self

    async def activate(self) -> AsyncStore:
        store = await self._bound().onboarding.activate(self.onboarding_id)
        self.status = "active"
        self.store_id = store.store_id
        return store

    async def cancel(self) -> None:
        await self._bound().onboarding.cancel(self.onboarding_id)
        self.status = "cancelled"


# ---------------------------------------------------------------- resources
# The sync resources, with the async models; the signatures below are what
# the methods return through an AsyncClient (a coroutine of the same result),
# for type checkers only.

class AsyncStoresResource(StoresResource):
    """``client.stores`` of an AsyncClient: the calls of ``Client.stores``, awaited."""

    __slots__ = ()
    _store_cls = AsyncStore

    async def list(self) -> List[AsyncStore]:  # type: ignore[override]
        """Every store of the partner organisation (``iter()`` collected)."""
        return [store async for store in self.iter()]

    if TYPE_CHECKING:
        def iter(self, page_size: int = LIST_STORES_PAGE_SIZE) -> AsyncIterator[AsyncStore]: ...  # type: ignore[override]
        def get(self, store_id: str) -> Coroutine[Any, Any, AsyncStore]: ...  # type: ignore[override]
        def update(self, store_id: str, *, name: Any = ..., phone: Any = ..., description: Any = ...,  # type: ignore[override]
                   logo_url: Any = ..., delivery_allowed: Any = ...,
                   pickup_allowed: Any = ...) -> Coroutine[Any, Any, AsyncStore]: ...
        def get_status(self, store_id: str) -> Coroutine[Any, Any, StoreStatus]: ...  # type: ignore[override]
        def pause(self, store_id: str, reason: Union[str, PauseReason], *,  # type: ignore[override]
                  resume_at: Union[_dt.datetime, _dt.timedelta, str, None] = None
                  ) -> Coroutine[Any, Any, StoreStatus]: ...
        def resume(self, store_id: str) -> Coroutine[Any, Any, StoreStatus]: ...  # type: ignore[override]


class AsyncOrdersResource(OrdersResource):
    """``client.orders`` of an AsyncClient."""

    __slots__ = ()

    if TYPE_CHECKING:
        def update_status(self, order_id: str, *, status: Union[str, OrderStatus, None] = None,  # type: ignore[override]
                          state: Union[str, OrderState, None] = None, estimated_ready_at: Any = None,
                          cancel_reason: Optional[str] = None) -> Coroutine[Any, Any, None]: ...


class AsyncOnboardingResource(OnboardingResource):
    """``client.onboarding`` of an AsyncClient."""

    __slots__ = ()
    _store_cls = AsyncStore
    _onboarding_cls = AsyncOnboarding

    if TYPE_CHECKING:
        def register(self, *, partner_store_id: str, name: str, catalog_callback_url: str,  # type: ignore[override]
                     webhook_url: str, **details: Any) -> Coroutine[Any, Any, AsyncOnboarding]: ...
        def get(self, onboarding_id: str) -> Coroutine[Any, Any, AsyncOnboarding]: ...  # type: ignore[override]
        def cancel(self, onboarding_id: str) -> Coroutine[Any, Any, None]: ...  # type: ignore[override]
        def activate(self, onboarding_id: str) -> Coroutine[Any, Any, AsyncStore]: ...  # type: ignore[override]


class AsyncCatalogResource(CatalogResource):
    """``client.catalog`` of an AsyncClient."""

    __slots__ = ()

    if TYPE_CHECKING:
        def notify(self, store_id: str, callback_url: str,  # type: ignore[override]
                   catalog: Any = None) -> Coroutine[Any, Any, None]: ...


# ---------------------------------------------------------------- the client

class AsyncClient:
    """The Gett Commerce Partner API on asyncio (default loop or uvloop).

    Same arguments, namespaces and errors as :class:`~gettcommerce.Client`;
    every call is a coroutine, and returned models are :class:`AsyncStore`,
    :class:`AsyncOnboarding`, :class:`AsyncOrder`.  ``max_concurrency``
    transfers run at once; further calls wait in call order.  Cancelling
    the awaiting task (or ``asyncio.wait_for`` expiring) stops its transfer
    at once, and a cancelled call is never retried.

    One AsyncClient belongs to the event loop that first uses it (another
    loop gets RuntimeError: create one per loop).  Close it with
    ``await client.aclose()`` or ``async with``; an unclosed client warns
    with ResourceWarning when collected.  After ``os.fork()`` the child
    gets fresh connections.  ``on_attempt``, ``with_options`` and
    ``<resource>.with_raw_response`` work as on ``Client`` (raw calls are awaited).
    """

    def __init__(self, api_key: Optional[str] = None, *, base_url: Optional[str] = None,
                 timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 max_retries: int = DEFAULT_MAX_RETRIES,
                 max_concurrency: int = DEFAULT_ASYNC_MAX_CONCURRENCY,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 ca_bundle: Optional[str] = None, allow_insecure_http: bool = False,
                 proxy: Optional[str] = None, on_attempt: Optional[AttemptHook] = None) -> None:
        self._root = self  # a with_options() copy's root is the client it came from
        self._closed = True  # until fully made: __del__ must not warn about a failed __init__
        self._engine: Optional[_core.AsyncEngine] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) \
                or max_concurrency < 1:
            raise InvalidRequestError(f"max_concurrency must be an int >= 1, not {max_concurrency!r}",
                                      field="max_concurrency", value=max_concurrency)
        # The sync Client checks every setting and owns the C core client
        # (the key never enters this frame's locals beyond the argument).
        self._sync = Client(api_key, base_url=base_url, timeout=timeout,
                            connect_timeout=connect_timeout, max_retries=max_retries,
                            max_response_bytes=max_response_bytes, ca_bundle=ca_bundle,
                            allow_insecure_http=allow_insecure_http, pool_size=1, proxy=proxy,
                            on_attempt=on_attempt)
        del api_key
        self.base_url: str = self._sync.base_url
        self.timeout: float = self._sync.timeout
        self.max_retries: int = self._sync.max_retries
        self.max_concurrency: int = max_concurrency
        self._generation = _fork_generation
        self._attach_resources()
        self._closed = False

    def __repr__(self) -> str:
        closed = " closed" if self.closed else ""
        return f"<gettcommerce.AsyncClient base_url={getattr(self, 'base_url', None)!r}{closed}>"

    @property
    def closed(self) -> bool:
        return self._root._closed

    async def aclose(self) -> None:
        """End calls still running, close the connections.  Idempotent.  On a
        ``with_options`` copy it does nothing (the connections are the parent's)."""
        if self._root is self:
            self._close()

    def _attach_resources(self) -> None:
        # The resources run their calls through this client (or copy).
        self.stores: AsyncStoresResource = AsyncStoresResource(self, self)  # type: ignore[arg-type]
        self.orders: AsyncOrdersResource = AsyncOrdersResource(self, self)  # type: ignore[arg-type]
        self.onboarding: AsyncOnboardingResource = AsyncOnboardingResource(self, self)  # type: ignore[arg-type]
        self.catalog: AsyncCatalogResource = AsyncCatalogResource(self, self)  # type: ignore[arg-type]

    def with_options(self, *, timeout: Optional[float] = None, connect_timeout: Optional[float] = None,
                     max_retries: Optional[int] = None,
                     extra_headers: Optional[Mapping[str, str]] = None) -> "AsyncClient":
        """A light copy with other settings, sharing this client's engine and
        connections; as :meth:`gettcommerce.Client.with_options`."""
        copy = object.__new__(AsyncClient)
        copy._sync = self._sync.with_options(timeout=timeout, connect_timeout=connect_timeout,
                                             max_retries=max_retries, extra_headers=extra_headers)
        copy._root = self._root
        copy._closed = True  # only the root's state counts (closed, __del__)
        copy.base_url = self.base_url
        copy.timeout = copy._sync.timeout
        copy.max_retries = copy._sync.max_retries
        copy.max_concurrency = self.max_concurrency
        copy._attach_resources()
        return copy

    def _close(self) -> None:
        self._closed = True
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()
        sync = getattr(self, "_sync", None)
        if sync is not None:
            sync.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True) and self._root is self:
            warnings.warn(f"unclosed {self!r}: use 'async with gett.AsyncClient()' or "
                          "'await client.aclose()'", ResourceWarning, source=self)
            # No loop calls: the loop may be closed or run by another thread.
            self._closed = True
            self._engine = None
            self._sync.close()

    # ------------------------------------------------------------ executor
    def _engine_here(self) -> _core.AsyncEngine:
        loop = asyncio.get_running_loop()
        engine = self._engine
        if engine is not None and self._loop is loop and self._generation == _fork_generation:
            return engine
        if self._closed:
            raise InvalidRequestError("the AsyncClient is closed; create a new AsyncClient")
        if self._generation != _fork_generation:
            # A fork child: the parent's engine is abandoned (never closed here).
            self._generation = _fork_generation
            self._engine = engine = None
            self._loop = None
        if engine is not None and self._loop is not loop:
            raise RuntimeError(
                "this AsyncClient belongs to the event loop that first used it and cannot be used "
                "from another loop; create one AsyncClient per event loop (e.g. inside the "
                "coroutine that asyncio.run() runs)")
        core = self._sync._core
        if core is None:
            raise InvalidRequestError("the AsyncClient is closed; create a new AsyncClient")
        self._engine = engine = _core.AsyncEngine(core, loop, max_concurrency=self.max_concurrency)
        self._loop = loop
        return engine

    def execute(self, request: Request) -> Coroutine[Any, Any, Any]:
        """The coroutine that runs one call: its result, or its public exception."""
        return self._run(request)

    def execute_raw(self, request: Request) -> Coroutine[Any, Any, RawResponse]:
        """The coroutine that runs one call keeping its HTTP details (``with_raw_response``)."""
        return self._run(request, True)

    async def _run(self, request: Request, raw: bool = False) -> Any:
        root = self._root
        engine = root._engine_here()
        future = root._loop.create_future()  # type: ignore[union-attr]
        sync_log_hook()  # per-attempt DEBUG lines only while someone listens
        started = time.monotonic() if raw else 0.0  # only RawResponse.elapsed needs it
        try:
            call = engine.submit(request[0], request[1], request[2], request[3], future,
                                 self._sync._options, raw)
        except CORE_ERRORS as exc:
            ok, value = False, exc
        else:
            try:
                ok, value = await future
            except BaseException:
                # Cancelled (task.cancel(), wait_for expiring): out of the multi now, never retried.
                engine.cancel(call)
                raise
        if raw:
            return settle_raw(request, ok, value, time.monotonic() - started)
        return settle(request, ok, value)

    def iterate(self, pages: Pages) -> AsyncIterator[Any]:
        """A paged listing's items as an async iterator, a page fetched when needed."""
        return self._iterate(pages)

    async def _iterate(self, pages: Pages) -> AsyncIterator[Any]:
        request: Optional[Request] = pages.first()
        while request is not None:
            started = time.monotonic()
            page = await self._run(request)
            request = pages.next(page, time.monotonic() - started)
            for item in page.items:
                yield item

    async def _request(self, endpoint: int, params: Tuple[str, ...] = (), query: Optional[Dict[str, Any]] = None,
                       body: Any = None) -> Any:
        """One call's parsed JSON answer (None when empty), for tools and tests."""
        return await self._run((endpoint, params, query, body, as_is, None))

    # ------------------------------------------------------------ handles
    def order(self, order_id: str) -> AsyncOrder:
        """An AsyncOrder handle for pushing status (no request is made)."""
        return AsyncOrder(check_id(order_id, "order_id"), client=self)

