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
retries, deadline and error classes of a single call.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Tuple

from .errors import BatchError, GettError, InvalidRequestError, from_transport_error
from . import _core

__all__ = ["Batch"]

PROGRESS_MIN_CALLS = 1000


class Batch:
    """A set of queued calls; see the module docstring."""

    def __init__(self, client: Any, *, concurrency: int = 32, progress: bool = False) -> None:
        from ._client import CatalogResource, OnboardingResource, OrdersResource, StoresResource
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidRequestError(f"concurrency must be an int >= 1, not {concurrency!r}",
                                      field="concurrency", value=concurrency)
        self._client = client
        self.concurrency = concurrency
        self.progress = progress
        self._calls: List[Tuple[int, tuple, Optional[dict], Any]] = []
        self._parsers: List[Optional[Callable[[Any, tuple], Any]]] = []
        self.results: Optional[List[Any]] = None
        self.stores = StoresResource(client, self)
        self.orders = OrdersResource(client, self)
        self.onboarding = OnboardingResource(client, self)
        self.catalog = CatalogResource(client, self)

    def __repr__(self) -> str:
        state = "done" if self.results is not None else "queued"
        return f"<gettcommerce.Batch {len(self._calls)} calls {state} concurrency={self.concurrency}>"

    def __len__(self) -> int:
        return len(self._calls)

    def _call(self, endpoint: int, params: tuple, query: Optional[dict], body: Any,
              parse: Optional[Callable[[Any, tuple], Any]]) -> None:
        if self.results is not None:
            raise InvalidRequestError("this batch has already run; start a new client.batch()")
        self._calls.append((endpoint, params, query, body))
        self._parsers.append(parse)
        return None

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.run()

    def run(self) -> List[Any]:
        """Run the queued calls (once); returns ``results``."""
        if self.results is not None:
            return self.results
        core = self._client._core
        if core is None or core.closed:
            raise InvalidRequestError("the Client is closed; create a new Client")
        from ._client import unexpected_answer
        raw: List[Any] = [None] * len(self._calls)
        core.run_batch(self._calls, raw, concurrency=self.concurrency,
                       progress=bool(self.progress and len(self._calls) > PROGRESS_MIN_CALLS))
        results: List[Any] = []
        for (ok, value), parse, call in zip(raw, self._parsers, self._calls):
            if ok:
                try:
                    results.append(parse(value, call[1]) if parse is not None else value)
                except GettError as exc:  # a later page of stores.list() failed
                    results.append(exc)
                except (AttributeError, TypeError, ValueError, KeyError) as exc:
                    mapped = unexpected_answer(call[0], value)
                    mapped.__cause__ = exc
                    results.append(mapped)
            elif isinstance(value, _core.TransportError):
                mapped = from_transport_error(value)
                mapped.__cause__ = value
                results.append(mapped)
            else:  # refused locally in C (e.g. an id with '/')
                mapped = InvalidRequestError(str(value))
                mapped.__cause__ = value
                results.append(mapped)
        self.results = results
        return results

    @property
    def errors(self) -> List[Tuple[int, BaseException]]:
        """(index, exception) for every failed call."""
        if self.results is None:
            return []
        return [(i, r) for i, r in enumerate(self.results) if isinstance(r, BaseException)]

    def raise_for_errors(self) -> None:
        """Raise BatchError (with every failure attached) if any call failed."""
        errors = self.errors
        if errors:
            raise BatchError(errors, len(self._calls))
