"""client.batch(): many calls at once on the C core's curl_multi engine.

    with client.batch(concurrency=32) as batch:
        for order_id in order_ids:
            batch.orders.update_status(order_id, status="ready")
        batch.stores.pause(store_id, "too_busy")
    batch.results            # one entry per call, in call order
    batch.raise_for_errors() # BatchError listing the failures, if any

Calls are checked when queued (bad arguments raise InvalidRequestError right
away, as for a single call); they run when the ``with`` block ends (or on
``run()``), with the GIL released for the whole batch.  Each call gets the
retries, deadline and error classes of a single call (the same
``_request.settle``).  Listings (``stores.list()``/``iter()``) cannot be
batched: each page's answer decides the next request.

A batch never sends a call twice.  When ``run()`` is interrupted (Ctrl-C, an
exception from a signal handler, an internal error) the exception
propagates, and ``results`` keeps every finished call's result (a call cut
off in flight holds an APIConnectionError: it may have reached Gett); the
calls that never started hold :data:`NOT_RUN`.  ``run()`` again sends only
those.
"""
from __future__ import annotations

import threading
from typing import Any, List, Optional, Protocol, Tuple

from . import _core
from ._constants import BATCH_PROGRESS_MIN_CALLS, DEFAULT_BATCH_CONCURRENCY
from ._request import ENDPOINT_INFO, Pages, Request, settle, sync_log_hook, wire
from ._resources import CatalogResource, OnboardingResource, OrdersResource, StoresResource
from .errors import BatchError, GettError, InvalidRequestError

__all__ = ["Batch", "NOT_RUN"]


class _NotRun:
    """The result of a batch call that has not been sent (yet)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_RUN"

    def __reduce__(self) -> str:
        return "NOT_RUN"


NOT_RUN = _NotRun()


class BatchHost(Protocol):
    """What a Batch needs of its Client: the timeout its listings would use,
    and the C core it runs on (None when the Client never opened)."""

    timeout: float
    _core: Optional[_core.Client]
    _options: Any  # a with_options() copy's settings for the C core, or None


class Batch:
    """A set of queued calls; see the module docstring."""

    def __init__(self, client: BatchHost, *, concurrency: int = DEFAULT_BATCH_CONCURRENCY,
                 progress: bool = False) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(f"concurrency must be an int >= 1, not {concurrency!r}",
                                      field="concurrency", value=concurrency)
        self._client = client
        self.concurrency: int = concurrency
        self.progress: bool = progress
        self._requests: List[Request] = []
        self.results: Optional[List[Any]] = None
        # Held while run() sends; a second run() meanwhile (another thread, a
        # signal handler) is refused rather than sending the same calls twice.
        self._running = threading.Lock()
        self.stores: StoresResource = StoresResource(client, self)  # type: ignore[arg-type]
        self.orders: OrdersResource = OrdersResource(client, self)  # type: ignore[arg-type]
        self.onboarding: OnboardingResource = OnboardingResource(client, self)  # type: ignore[arg-type]
        self.catalog: CatalogResource = CatalogResource(client, self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        if self.results is None:
            state = "queued"
        elif self.not_run:
            state = f"interrupted, {len(self.not_run)} not run"
        else:
            state = "done"
        return f"<gettcommerce.Batch {len(self._requests)} calls {state} concurrency={self.concurrency}>"

    def __len__(self) -> int:
        return len(self._requests)

    # ------------------------------------------------------------ executor
    def execute(self, request: Request) -> None:
        """Queue one call; its result lands in ``results`` at the same index."""
        if self.results is not None:
            raise InvalidRequestError("this batch has already run; start a new client.batch()")
        self._requests.append(request)
        return None

    def iterate(self, pages: Pages) -> Any:
        name = ENDPOINT_INFO[pages.endpoint][0]
        raise InvalidRequestError(f"{name} cannot be queued in a batch: each page's answer decides "
                                  "the next request; call client.stores.list() (or .iter()) outside "
                                  "the batch")

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.run()

    def run(self) -> List[Any]:
        """Send the calls not sent yet; returns ``results`` (one entry per call).

        Finished calls are never sent again: on a finished batch this just
        returns ``results``; after an interrupted run it sends the calls
        still :data:`NOT_RUN`.  A run() while another run() of the same batch
        is in progress (another thread, a signal handler) raises
        InvalidRequestError and sends nothing.
        """
        if not self._running.acquire(blocking=False):
            raise InvalidRequestError("this batch is already running (in another thread or an "
                                      "interrupted frame); wait for that run() to return")
        try:
            return self._run()
        finally:
            self._running.release()

    def _run(self) -> List[Any]:
        results = self.results if self.results is not None else [NOT_RUN] * len(self._requests)
        todo = [i for i, result in enumerate(results) if result is NOT_RUN]
        core = self._client._core
        if todo and (core is None or core.closed):
            raise InvalidRequestError("the Client is closed; create a new Client")
        self.results = results
        if not todo:
            return results
        requests = self._requests
        out: List[Optional[Tuple[bool, Any]]] = [None] * len(todo)
        sync_log_hook()
        # A with_options() copy's settings; a plain client passes none.
        options = getattr(self._client, "_options", None)
        extra = {} if options is None else {"options": options}
        try:
            core.run_batch([wire(requests[i]) for i in todo], out,  # type: ignore[union-attr]
                           concurrency=self.concurrency,
                           progress=bool(self.progress and len(todo) > BATCH_PROGRESS_MIN_CALLS), **extra)
        finally:
            # Also when run_batch raised: what finished is kept, the rest stays NOT_RUN.
            for i, outcome in zip(todo, out):
                if outcome is not None:
                    results[i] = _settled(requests[i], outcome[0], outcome[1])
        return results

    @property
    def errors(self) -> List[Tuple[int, BaseException]]:
        """(index, exception) for every failed call."""
        if self.results is None:
            return []
        return [(i, r) for i, r in enumerate(self.results) if isinstance(r, BaseException)]

    @property
    def not_run(self) -> List[int]:
        """Indices of the calls not sent (before ``run()``, or after an interrupted one)."""
        if self.results is None:
            return list(range(len(self._requests)))
        return [i for i, r in enumerate(self.results) if r is NOT_RUN]

    def raise_for_errors(self) -> None:
        """Raise BatchError (with every failure attached) if any call failed."""
        errors = self.errors
        if errors:
            raise BatchError(errors, len(self._requests))


def _settled(request: Request, ok: bool, value: Any) -> Any:
    """A batch call's entry in ``results``: what ``settle`` returns, or the exception it raises."""
    try:
        return settle(request, ok, value)
    except GettError as exc:
        return exc
