"""One call, described once, and the one rule that turns its outcome into a result.

A resource method (``client.stores.get`` ...) checks its arguments, builds a
Request (a tuple: endpoint, path params, query, body, how to read the answer)
and hands it to an :class:`Executor`: the Client runs it now, a Batch queues
it, an asyncio client would await it.  Whichever runs it, :func:`settle` maps
the C core's outcome (a value, a ``TransportError`` or a local refusal) to the
call's result or public exception, and :class:`Pages` holds the paging rules
of a listing, so the executors differ only in *how* they run calls.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Protocol, Set, Tuple

from . import _core
from .errors import (APIConnectionError, APITimeoutError, GettError, InvalidRequestError, _url_path,
                     from_transport_error)

__all__ = ["Request", "Executor", "Page", "Pages", "settle", "public_error", "unexpected_answer",
           "summarize", "describe", "request_name", "wire", "require", "logger", "sync_log_hook",
           "CORE_ERRORS", "SHAPE_ERRORS", "as_is"]

logger = logging.getLogger("gettcommerce")
_DEBUG = logging.DEBUG


def _log_attempt(method: str, url: str, status: int, ms: float, attempt: int) -> None:
    # Called by the C core once per HTTP attempt while installed (see
    # sync_log_hook); the URL never holds the key (it travels only in the
    # Authorization header, kept in C memory).
    if logger.isEnabledFor(_DEBUG):
        logger.debug("%s %s -> %s in %.1f ms (attempt %d)", method, _url_path(url),
                     status or "no answer", ms, attempt)


# Whether the C core's per-attempt hook is installed: the one-element list
# is flipped by sync_log_hook, read on every call.
_hooked = [False]
# logging's own cache of isEnabledFor answers per level (CPython's Logger._cache,
# emptied by every setLevel/disable); read directly, it saves a Python frame
# per call.  Without it (another implementation) every call asks isEnabledFor.
_enabled_cache: Dict[int, bool] = getattr(logger, "_cache", {})


def sync_log_hook() -> None:
    """Install the C core's per-attempt log hook only while the
    ``gettcommerce`` logger is enabled for DEBUG, so a call with DEBUG off
    makes no Python call per attempt.  Every executor calls this before it
    sends: a level set (or a handler's logger enabled) between calls takes
    effect at the next call.  The answer comes from logging's cache when it
    has one (what ``isEnabledFor`` returns for an enabled logger)."""
    on = _enabled_cache.get(_DEBUG)
    if on is None or logger.disabled:
        on = logger.isEnabledFor(_DEBUG)
    if on is not _hooked[0]:
        _core.set_logger_hook(_log_attempt if on else None)
        _hooked[0] = on

# endpoint index -> (name, method, path template), from the C core's table.
ENDPOINT_INFO = {entry[0]: (name, entry[1], entry[2]) for name, entry in _core.ENDPOINTS.items()}
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


# A request: the tuple ``(endpoint, params, query, body, read, accept)``.
#   endpoint  index into the C core's endpoint table (EP_* above)
#   params    path parameters, a tuple of str
#   query     dict or None;  body: JSON-able value or None
#   read      read(raw, request) -> the call's result, from the parsed 2xx answer
#             (None when empty); raises ValueError/TypeError/KeyError naming what
#             is missing when the answer has the wrong shape
#   accept    None, or accept(error, request) -> True when a failure means the
#             call's goal was already reached (a retried close Gett had applied);
#             the result is then read(None, request)
# A plain tuple, not a class: building one on every call runs no Python code
# (a tuple subclass costs 0.1 us more per call, on the hot path).
Read = Callable[[Any, Any], Any]
Accept = Callable[[GettError, Any], bool]
Request = Tuple[int, Tuple[str, ...], Optional[Dict[str, Any]], Any, Read, Optional[Accept]]


def request_name(request: Request) -> str:
    """The endpoint's name in the C core's table, e.g. ``get_store``."""
    return ENDPOINT_INFO[request[0]][0]


def describe(request: Request) -> str:
    """``GET /v1/commerce/stores/s1`` for messages."""
    _, method, template = ENDPOINT_INFO[request[0]]
    try:
        path = template.format(*request[1])
    except (IndexError, KeyError, ValueError):
        path = template
    return f"{method} {path}"


def wire(request: Request) -> Tuple[int, Tuple[str, ...], Optional[Dict[str, Any]], Any]:
    """What the C core takes: ``(endpoint, params, query, body)``."""
    return request[:4]  # type: ignore[return-value]


class Page(NamedTuple):
    """One page of a listing: its items (already models) and whether more follow."""

    items: List[Any]
    has_more: bool
    total: Optional[int] = None  # the answer's totalCount, when it gives one


class Executor(Protocol):
    """Runs the calls resources describe: the seam between a call and its execution."""

    def execute(self, request: Request) -> Any:
        """Run or queue one call.  The Client returns its result (or raises the
        public exception); a Batch queues it and returns None (the result lands
        in ``batch.results``)."""

    def iterate(self, pages: "Pages") -> Any:
        """Walk a paged listing: the Client returns a lazy iterator of items; a
        Batch refuses (each page's answer decides the next request)."""


# What an executor's call into the C core raises that settle() maps: its
# transport errors and its own refusals (bad argument, closed client).  Anything
# else -- whatever a signal or logging handler raises -- propagates unchanged.
CORE_ERRORS = (_core.TransportError, _core.LocalError)


def as_is(raw: Any, request: "Request") -> Any:
    """A ``read`` that returns the parsed answer itself (tools and tests)."""
    return raw


# What a 2xx answer of the wrong shape raises inside a ``read``.  RecursionError:
# a hostile, deeply nested value must still become a GettError.
SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError)


def settle(request: Request, ok: bool, value: Any) -> Any:
    """The one mapping of a C-core outcome to the call's result, or its public exception.

    ``ok`` True: ``value`` is the parsed answer, read by the request.  ``ok``
    False: ``value`` is the C core's ``TransportError`` or a local refusal
    (``_core.LocalError``, or in a batch ValueError/TypeError: a path id
    with '/', a body that cannot be JSON; ``_core.ClientClosedError``: the
    client is closed).  Raises the public exception, with
    the internal one suppressed: everything it knew is on the public error.
    Every executor (Client, Batch) goes through here; ``Client.execute``
    has the success path inline (the same two steps).
    """
    if ok:
        try:
            return request[4](value, request)
        except SHAPE_ERRORS as exc:
            raise unexpected_answer(request, value, exc) from None
    error = public_error(value)
    accept = request[5]
    if accept is not None and accept(error, request):
        return request[4](None, request)
    raise error from None


def public_error(exc: BaseException) -> GettError:
    """The public exception for what the C core raised (see :func:`settle`)."""
    if isinstance(exc, _core.TransportError):
        return from_transport_error(exc)
    if isinstance(exc, _core.ClientClosedError):
        return InvalidRequestError(f"the Client is closed; create a new Client ({exc})")
    return InvalidRequestError(str(exc))


def summarize(raw: Any) -> str:
    """A short, safe description of a JSON value: never a repr of nested data
    (a value nested ~1000 deep would raise RecursionError)."""
    if raw is None:
        return "an empty body (or null)"
    if isinstance(raw, dict):
        keys = [k for k in list(raw)[:6]]
        more = ", ..." if len(raw) > 6 else ""
        return f"an object with keys {', '.join(repr(k)[:40] for k in keys)}{more}" if raw else "{}"
    if isinstance(raw, list):
        return f"an array of {len(raw)} item(s)"
    if isinstance(raw, str):
        return f"the text {raw[:80]!r}"
    return f"the {type(raw).__name__} {str(raw)[:40]}"


def unexpected_answer(request: Request, raw: Any, reason: Any = None) -> APIConnectionError:
    """A 2xx answer whose JSON does not have the documented shape (or is empty)."""
    why = f"; {reason}" if reason is not None and str(reason) else ""
    return APIConnectionError(f"Gett answered {request_name(request)} with JSON of an unexpected "
                              f"shape ({describe(request)} returned {summarize(raw)}{why})")


def require(data: Any, key: str, what: str) -> Any:
    """``data[key]`` when ``data`` is an object holding a non-empty ``key``;
    else ValueError saying which ``what`` was expected (read by :func:`settle`)."""
    if not isinstance(data, dict):
        raise ValueError(f"expected {what} (a JSON object with {key!r})")
    value = data.get(key)
    if value is None or value == "":
        raise ValueError(f"expected {what}, but {key!r} is missing")
    return data


class Pages:
    """The paging rules of one listing (offset/limit while ``hasMore``), executor-agnostic.

    ``first()`` is the first page's request; ``next(page, elapsed)`` the next
    one, or None when done.  A listing ends with APITimeoutError once its page
    requests have taken ``timeout`` seconds together (checked between pages),
    and with APIConnectionError when a page makes no progress: the same items
    as the page before, or no items while ``hasMore`` is true.
    """

    __slots__ = ("endpoint", "page_size", "read", "timeout", "offset", "spent", "_seen")

    def __init__(self, endpoint: int, page_size: int, read: Callable[[Any, Request], Page],
                 timeout: float) -> None:
        self.endpoint: int = endpoint
        self.page_size: int = page_size
        self.read: Callable[[Any, Request], Page] = read
        self.timeout: float = timeout
        self.offset: int = 0
        self.spent: float = 0.0
        self._seen: Set[Any] = set()  # every store id the listing has brought so far

    def request(self) -> Request:
        return (self.endpoint, (), {"limit": self.page_size, "offset": self.offset}, None,
                self.read, None)

    def first(self) -> Request:
        return self.request()

    def next(self, page: Page, elapsed: float) -> Optional[Request]:
        """The request for the page after ``page`` (which took ``elapsed`` s), or None."""
        self.spent += elapsed
        if not page.has_more:
            return None
        name = ENDPOINT_INFO[self.endpoint][0]
        if not page.items:
            raise APIConnectionError(f"Gett answered {name} at offset {self.offset} with no items "
                                     "but hasMore: true; stopping instead of asking again forever")
        # A page bringing no store id not seen before (the same page again, or
        # pages cycling A,B,A,B) would be asked for forever: stop.
        ids = set(_ids(page.items))
        if ids <= self._seen:
            raise APIConnectionError(f"Gett answered {name} at offset {self.offset} with "
                                     f"{len(page.items)} item(s) all seen on earlier pages and "
                                     "hasMore: true; stopping instead of asking again forever")
        self._seen |= ids
        if page.total is not None and self.offset + len(page.items) >= page.total:
            return None  # totalCount reached: what hasMore says past it is not believed
        if self.spent >= self.timeout:
            raise APITimeoutError(f"{name}: the listing took more than {self.timeout:g} s "
                                  f"(timeout) over {self.offset // self.page_size + 1} page(s)")
        self.offset += len(page.items)
        return self.request()


def _ids(items: Iterable[Any]) -> List[Any]:
    return [getattr(item, "store_id", None) for item in items]
