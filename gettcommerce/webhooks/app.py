"""WebhookApp: verification, parsing, handlers, place deduplication, problem+json answers.

The request logic is written once, as generators that yield the blocking
steps (a handler call, a store call) to one driver, :func:`drive`, which
also holds the per-order locks.  Only how a step runs differs: WebhookApp
calls it in the calling thread, AsyncWebhookApp (``asgi.py``) awaits async
handlers and runs everything else in a worker thread.  Both therefore answer
every request identically.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from http import HTTPStatus
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Dict, Generator, List, Mapping,
                    Optional, Sequence, Tuple, Union)

from .._constants import WEBHOOK_TOLERANCE
from .._wire import dumps, iso, utcnow
from ..errors import InvalidRequestError, WebhookVerificationError
from ..models import Amounts
from .orders import IncomingOrder, short
from .refusals import OrderRejected, locate
from .servers import read_capped, serve_wsgi, wsgi_request
from .signature import check_secrets, check_tolerance, verify
from .stores import BUSY, CLAIMED, DONE, InMemoryPlacedOrderStore, PlacedOrderStore, as_claim_store

if TYPE_CHECKING:  # pragma: no cover
    from .._client import Client

__all__ = ["Response", "WebhookApp", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_LEASE", "read_capped"]

logger: logging.Logger = logging.getLogger("gettcommerce.webhooks")

Response = Tuple[int, List[Tuple[str, str]], bytes]
# One step a driver runs: (function, args, kind).  HANDLER: the partner's
# on_validate/on_place; IO: a store call; LOCK/UNLOCK (function None, args
# (order_id,)): the driver's per-order lock, so that deliveries of one
# orderId inside one process wait for each other instead of answering 409.
HANDLER, IO, LOCK, UNLOCK = "handler", "io", "lock", "unlock"
Step = Tuple[Optional[Callable[..., Any]], Tuple[Any, ...], str]
Flow = Generator[Step, Any, Response]

_PHRASES = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
            500: "Internal Server Error"}
_ERROR_TYPE = "https://developer.gett-tech.com/errors/"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LEASE = 60.0      # seconds a place claim lives; Gett gives up on an answer after 10 s


def phrase(status: int) -> str:
    try:
        return _PHRASES.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex[:20]


def _name(handler: Any) -> str:
    return getattr(handler, "__qualname__", None) or type(handler).__name__


class KeyedLocks:
    """One lock per key (threading or asyncio), created on demand, dropped when nobody wants it."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._guard = threading.Lock()
        self._locks: Dict[str, List[Any]] = {}   # key -> [lock, holders-or-waiters]

    def enter(self, key: str) -> Any:
        with self._guard:
            entry = self._locks.setdefault(key, [self._factory(), 0])
            entry[1] += 1
        return entry[0]

    def leave(self, key: str) -> None:
        with self._guard:
            entry = self._locks[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]


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
    raise TypeError(f"{name} must return gett.Amounts (or a dict with subTotal), not {short(value)}")


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
                        f"partnerOrderId, not {short(value)}")
    result = {"partnerOrderId": partner_id,
              "amounts": _amounts_wire(amounts, "on_place amounts") if amounts is not None
              else order.amounts.to_dict()}
    result.update(answer)
    return result


def _json_ready(answer: Dict[str, Any]) -> Tuple[Dict[str, Any], bytes]:
    """The answer as sent (bytes) and as stored (plain JSON types: Decimal, datetime converted)."""
    payload = dumps(answer)
    return json.loads(payload), payload


class _Heartbeat:
    """Renews a place claim every ``lease / 3`` seconds while on_place runs, in a daemon thread.

    A live worker, however slow its POS, keeps its claim; a worker that
    dies stops renewing, so its claim still expires after the lease.  A
    store without ``renew`` gets no heartbeat.
    """

    def __init__(self, store: Any, order_id: str, token: Optional[str], lease: float,
                 request_id: str) -> None:
        self._stopped = threading.Event()
        renew = getattr(store, "renew", None)
        if callable(renew):
            self._thread: Optional[threading.Thread] = threading.Thread(
                target=self._run, args=(renew, order_id, token, lease, request_id),
                name=f"gett-lease-{order_id}"[:60], daemon=True)
            self._thread.start()
        else:
            self._thread = None

    def stop(self) -> None:
        # Not joined: a renew in flight must not hold up the answer (or an event loop).
        self._stopped.set()

    def _run(self, renew: Callable[..., Any], order_id: str, token: Optional[str], lease: float,
             request_id: str) -> None:
        while not self._stopped.wait(lease / 3):
            try:
                held = renew(order_id, token, lease)
            except Exception:
                # Keep trying: the claim lives until its lease ends, and the store may come back.
                logger.exception("could not renew the claim on order %s; retrying (requestId %s)",
                                 order_id, request_id)
                continue
            if held is False and not self._stopped.is_set():
                logger.error("lost the claim on order %s while on_place runs (its %g s lease ran out "
                             "before a renewal); another delivery may run on_place too (requestId %s)",
                             order_id, lease, request_id)
                return


class _Refused(Exception):
    """A handler's outcome that is already a Response (refusal or failure)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response[0])
        self.response = response


class WebhookCore:
    """What WebhookApp and AsyncWebhookApp share: configuration and the request logic."""

    # The per-order lock: threading.Lock for WebhookApp, asyncio.Lock for AsyncWebhookApp.
    _lock_type: Callable[[], Any]

    def __init__(self, secret: Union[str, bytes, Sequence[Union[str, bytes]]], *,
                 on_validate: Callable[[IncomingOrder], Any], on_place: Callable[[IncomingOrder], Any],
                 client: Optional["Client"] = None, store: Optional[PlacedOrderStore] = None,
                 tolerance: float = WEBHOOK_TOLERANCE, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 lease: float = DEFAULT_LEASE) -> None:
        self._secrets = check_secrets(secret)
        for name, handler in (("on_validate", on_validate), ("on_place", on_place)):
            if not callable(handler):
                raise InvalidRequestError(f"{name} must be callable(order), not {type(handler).__name__}",
                                          field=name, value=handler)
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise InvalidRequestError(f"max_body_bytes must be an int >= 1, not {max_body_bytes!r}",
                                      field="max_body_bytes", value=max_body_bytes)
        if (isinstance(lease, bool) or not isinstance(lease, (int, float)) or not lease > 0
                or lease == float("inf")):
            raise InvalidRequestError(f"lease must be a positive, finite number of seconds, not {lease!r}",
                                      field="lease", value=lease)
        self.on_validate: Callable[[IncomingOrder], Any] = on_validate
        self.on_place: Callable[[IncomingOrder], Any] = on_place
        self.client: Optional[Client] = client
        self.store = InMemoryPlacedOrderStore() if store is None else store
        self.tolerance: float = check_tolerance(tolerance)
        self.max_body_bytes: int = max_body_bytes
        self.lease: float = float(lease)
        self._place_locks = KeyedLocks(self._lock_type)

    @property
    def store(self) -> Any:
        """The place store (default: in memory, this process only)."""
        return self._store

    @store.setter
    def store(self, store: Any) -> None:
        self._claims = as_claim_store(store)
        self._store = store

    def __repr__(self) -> str:
        # Never show the secret.
        return (f"<{type(self).__name__} on_validate={_name(self.on_validate)} "
                f"on_place={_name(self.on_place)}>")

    # -- the request, before any blocking step -----------------------------

    @staticmethod
    def route(path: str) -> Tuple[Optional[str], str]:
        """(``"validate"``/``"place"`` or None, the path without its query)."""
        route = (path or "").split("?", 1)[0]
        trimmed = route.rstrip("/")
        kind = None
        for candidate in ("validate", "place"):
            if trimmed == candidate or trimmed.endswith("/" + candidate):
                kind = candidate
        return kind, route

    def not_found(self, route: str) -> Response:
        return self.problem(404, "NOT_FOUND", "not_found",
                            f"No webhook at {route or '/'}; Gett calls .../validate and .../place",
                            route, _request_id())

    def refuse_before_body(self, method: str, content_length: Any, instance: str) -> Optional[Response]:
        """The answer to a request refused before its body is read, else None.

        A method other than POST gets 405; an unreadable or oversized
        Content-Length 400/413 (:meth:`refuse_length`).  Every adapter asks
        this first.
        """
        if (method or "").upper() != "POST":
            return self.method_not_allowed(method, instance)
        return self.refuse_length(content_length, instance)

    def refuse_length(self, content_length: Any, instance: str) -> Optional[Response]:
        """A 400/413 answer when a Content-Length is unreadable or over the limit, else None.

        Every adapter asks this before reading the body, so an oversized
        request costs no memory.
        """
        if content_length is None or content_length == "":
            return None
        try:
            length = int(str(content_length).strip())
            if length < 0:
                raise ValueError
        except ValueError:
            return self.problem(400, "INVALID_REQUEST", "validation",
                                f"Content-Length {str(content_length)[:20]!r} is not a byte count",
                                instance, _request_id())
        if length > self.max_body_bytes:
            return self.too_large(length, instance)
        return None

    def too_large(self, length: Optional[int], instance: str) -> Response:
        size = f"of {length} bytes" if length is not None else "of unknown length"
        return self.problem(413, "PAYLOAD_TOO_LARGE", "validation",
                            f"Body {size} exceeds the {self.max_body_bytes}-byte limit",
                            instance, _request_id())

    def method_not_allowed(self, method: str, instance: str) -> Response:
        status, hdrs, payload = self.problem(405, "METHOD_NOT_ALLOWED", "validation",
                                             f"{method} is not allowed; Gett sends POST",
                                             instance, _request_id())
        return status, hdrs + [("Allow", "POST")], payload

    def _flow(self, kind: str, method: str, headers: Any, body: Union[bytes, str, None],
              instance: Optional[str]) -> Flow:
        """The whole answer to one request, as a generator of blocking steps."""
        if kind not in ("validate", "place"):
            raise InvalidRequestError(f"kind must be 'validate' or 'place', not {kind!r}",
                                      field="kind", value=kind)
        instance = instance or "/" + kind
        request_id = _request_id()
        if (method or "").upper() != "POST":
            return self.method_not_allowed(method, instance)
        raw = body if body is not None else b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        raw = bytes(raw)
        if len(raw) > self.max_body_bytes:
            return self.too_large(len(raw), instance)
        try:
            verify(raw, headers, self._secrets, tolerance=self.tolerance)
        except WebhookVerificationError as exc:
            # Never reaches the handlers: an unsigned request could be anyone.
            logger.warning("refused %s webhook at %s: %s (requestId %s)", kind, instance, exc, request_id)
            return self.problem(401, "UNAUTHENTICATED", "authentication", f"Webhook refused: {exc}",
                                instance, request_id)
        try:
            order = IncomingOrder.parse(raw, kind=kind)
        except InvalidRequestError as exc:
            logger.warning("malformed %s webhook at %s: %s (requestId %s)", kind, instance, exc, request_id)
            return self.problem(400, "INVALID_REQUEST", "validation", str(exc), instance, request_id)
        order.client = self.client
        if kind == "validate":
            return (yield from self._validate(order, instance, request_id))
        return (yield from self._place(order, instance, request_id))

    # -- validate / place ------------------------------------------------

    def _validate(self, order: IncomingOrder, instance: str, request_id: str) -> Flow:
        try:
            outcome = yield from self._call("on_validate", self.on_validate, order, instance, request_id)
        except _Refused as refused:
            return refused.response
        try:
            payload = dumps({"amounts": _amounts_wire(outcome, "on_validate")})
        except (TypeError, ValueError) as exc:
            return self._handler_failed("on_validate", order, exc, instance, request_id, quiet=True)
        logger.info("validated order %s (requestId %s)", order.order_id, request_id)
        return 200, [("Content-Type", "application/json")], payload

    def _place(self, order: IncomingOrder, instance: str, request_id: str) -> Flow:
        yield (None, (order.order_id,), LOCK)
        response = yield from self._place_locked(order, instance, request_id)
        yield (None, (order.order_id,), UNLOCK)
        return response

    def _place_locked(self, order: IncomingOrder, instance: str, request_id: str) -> Flow:
        order_id = order.order_id
        try:
            claim = yield (self._claims.claim, (order_id, self.lease), IO)
        except Exception as exc:  # a broken Redis must not create a duplicate order
            return self._handler_failed("store.claim", order, exc, instance, request_id)
        if claim.state == DONE:
            try:
                replay = dumps(claim.answer)
            except (TypeError, ValueError) as exc:
                return self._handler_failed("store.claim", order, exc, instance, request_id)
            logger.info("replaying stored place answer for order %s (requestId %s)", order_id, request_id)
            return 200, [("Content-Type", "application/json"), ("Idempotent-Replayed", "true")], replay
        if claim.state == BUSY:
            logger.info("order %s is being placed by another delivery; asked Gett to retry "
                        "(requestId %s)", order_id, request_id)
            status, hdrs, payload = self.problem(
                409, "ORDER_PLACEMENT_IN_PROGRESS", "conflict",
                f"Order {order_id} is being placed by another delivery; retry to get its answer",
                instance, request_id, retryable=True)
            return status, hdrs + [("Retry-After", "1")], payload
        if claim.state != CLAIMED:
            logger.error("on_place already ran for order %s and its answer was unusable; not running it "
                         "again (requestId %s)", order_id, request_id)
            return self.problem(500, "INTERNAL_ERROR", "server_error",
                                f"The partner's on_place ran for order {order_id} but its answer was "
                                "unusable; see its logs", instance, request_id)
        token = claim.token
        heartbeat = _Heartbeat(self._claims, order_id, token, self.lease, request_id)
        try:
            outcome = yield from self._call("on_place", self.on_place, order, instance, request_id)
        except _Refused as refused:
            heartbeat.stop()
            # A refusal or a failure places nothing: give the claim back so Gett's retry tries again.
            try:
                yield (self._claims.release, (order_id, token), IO)
            except Exception:
                logger.exception("could not release the claim on order %s; a retry waits for its lease "
                                 "(requestId %s)", order_id, request_id)
            return refused.response
        finally:
            heartbeat.stop()    # also when the request is cancelled (the generator is closed)
        try:
            answer, payload = _json_ready(_place_wire(outcome, order))
        except (TypeError, ValueError) as exc:
            # The handler ran (the order may be in the POS): record that, so it never runs again,
            # and tell Gett not to retry: the answer will not become usable.
            failure = self._handler_failed("on_place", order, exc, instance, request_id, quiet=True,
                                           retryable=False)
            yield from self._complete(order_id, token, None, request_id)
            return failure
        recorded = yield from self._complete(order_id, token, answer, request_id)
        if recorded is False:
            logger.error("on_place for order %s answered partnerOrderId %r after another answer had been "
                         "recorded (its claim was lost: the store was unreachable to renew it, or the process "
                         "stalled past the %g s lease); the recorded answer stays, and the POS may hold this "
                         "order twice (requestId %s)", order_id, answer["partnerOrderId"], self.lease,
                         request_id)
        logger.info("placed order %s as %s (requestId %s)", order_id, answer["partnerOrderId"], request_id)
        return 200, [("Content-Type", "application/json")], payload

    def _complete(self, order_id: str, token: Optional[str], answer: Optional[Dict[str, Any]],
                  request_id: str) -> Generator[Step, Any, Optional[bool]]:
        """The store's complete(): False when an earlier answer was kept instead of this one."""
        try:
            recorded = yield (self._claims.complete, (order_id, token, answer), IO)
            return recorded is not False      # stores written before complete() returned a bool: None
        except Exception:
            # The order is in the POS now; answering 500 would make Gett
            # retry and the retry would place it twice.  Say so loudly.
            logger.exception("order %s placed but its answer could not be stored; a delivery after the "
                             "lease would call on_place again (requestId %s)", order_id, request_id)
            return None

    def _call(self, name: str, handler: Callable[[IncomingOrder], Any], order: IncomingOrder,
              instance: str, request_id: str) -> Generator[Step, Any, Any]:
        """The handler's result; raises _Refused with the answer when it refused or failed."""
        try:
            return (yield (handler, (order,), HANDLER))
        except OrderRejected as refusal:
            errors = [dict(e) for e in refusal.errors]
            for entry in errors:
                if "jsonPath" not in entry and isinstance(entry.get("itemId"), str):
                    located = locate(order, entry["itemId"])
                    if located:
                        entry["jsonPath"] = located
            logger.info("%s refused order %s: %s %s (requestId %s)", name, order.order_id,
                        refusal.error_code, refusal.detail, request_id)
            raise _Refused(self.problem(refusal.status, refusal.error_code, refusal.error_category,
                                        refusal.detail, instance, request_id, errors=errors)) from None
        except Exception as exc:
            raise _Refused(self._handler_failed(name, order, exc, instance, request_id)) from None

    def _handler_failed(self, name: str, order: IncomingOrder, exc: BaseException, instance: str,
                        request_id: str, quiet: bool = False, retryable: bool = True) -> Response:
        # The traceback goes to the partner's log, never into the answer: it
        # could hold connection strings, paths or customer data.
        if quiet:
            logger.error("%s returned an unusable answer for order %s: %s (requestId %s)",
                         name, order.order_id, exc, request_id)
        else:
            logger.error("%s failed for order %s (requestId %s)", name, order.order_id, request_id,
                         exc_info=exc)
        return self.problem(500, "INTERNAL_ERROR", "server_error",
                            f"The partner's {name} failed; see its logs for requestId {request_id}",
                            instance, request_id, retryable=retryable)

    @staticmethod
    def problem(status: int, code: str, category: str, detail: str, instance: str, request_id: str, *,
                retryable: bool = False, errors: Optional[List[Dict[str, Any]]] = None) -> Response:
        problem: Dict[str, Any] = {
            "type": _ERROR_TYPE + code, "title": phrase(status), "status": status, "detail": detail,
            "instance": instance, "errorCode": code, "errorCategory": category,
            "retryable": retryable, "requestId": request_id, "timestamp": iso(utcnow()),
        }
        if errors:
            problem["errors"] = errors
        try:
            payload = dumps(problem)
        except (TypeError, ValueError):
            # A refusal's errors[] held something JSON cannot carry; keep the rest.
            problem.pop("errors", None)
            payload = dumps(problem)
        return status, [("Content-Type", "application/problem+json")], payload


Call = Callable[[Callable[..., Any], Tuple[Any, ...], str], Awaitable[Any]]


async def drive(flow: Flow, locks: KeyedLocks, call: Call) -> Response:
    """Run a request flow's steps: the one driver of WebhookApp and AsyncWebhookApp.

    ``call(function, args, kind)`` runs one step (HANDLER or IO, and a LOCK's
    ``lock.acquire``); the per-order locks taken are released, and the flow
    closed, however the request ends.
    """
    held: List[Tuple[str, Any]] = []
    try:
        step = next(flow)
        while True:
            function, args, kind = step
            result: Any = None
            if kind == LOCK:
                lock = locks.enter(args[0])
                try:
                    await call(lock.acquire, (), LOCK)
                except BaseException:   # interrupted while waiting: nothing held
                    locks.leave(args[0])
                    raise
                held.append((args[0], lock))
            elif kind == UNLOCK:
                _unlock(locks, held)
            else:
                assert function is not None
                try:
                    result = await call(function, args, kind)
                except Exception as exc:
                    step = flow.throw(exc)
                    continue
            step = flow.send(result)
    except StopIteration as stop:
        return stop.value
    finally:
        flow.close()   # a flow left mid-step runs its finally now
        while held:
            _unlock(locks, held)


async def _call_here(function: Callable[..., Any], args: Tuple[Any, ...], kind: str) -> Any:
    return function(*args)


def run_sync(flow: Flow, locks: KeyedLocks) -> Response:
    """Drive a request flow in this thread: each step is a plain call.

    :func:`drive` with plain calls never suspends, so one ``send`` runs it
    to its end; no event loop is involved.
    """
    driver = drive(flow, locks, _call_here)
    try:
        driver.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    driver.close()
    raise RuntimeError("the webhook driver suspended outside an event loop")


def _unlock(locks: KeyedLocks, held: List[Tuple[str, Any]]) -> None:
    key, lock = held.pop()
    lock.release()
    locks.leave(key)


class WebhookApp(WebhookCore):
    """Receive Gett's ``validate`` and ``place`` webhooks, framework-agnostic.

    ``on_validate(order) -> gett.Amounts`` prices the cart (raise
    :class:`ItemUnavailable` or :class:`OrderRejected` to refuse it);
    ``on_place(order) -> str`` injects the final order into the POS and
    returns the partner's order id (or a dict with ``partnerOrderId``,
    optional ``amounts`` and more fields; Decimal and aware datetime values
    are written as JSON numbers and RFC 3339 text).  ``client`` is handed to
    each :class:`IncomingOrder` so ``order.order().confirm()`` works.

    Place deduplication: ``store`` (default: in memory, this process only)
    records each orderId.  One delivery at a time runs ``on_place`` for an
    orderId; later deliveries replay its answer, a concurrent one in another
    worker gets a retryable 409.  A handler that returned is never run again
    for that orderId (an unusable answer is logged and answered 500); one
    that raised may be run again by Gett's retry.  While ``on_place`` runs,
    its claim is renewed every ``lease / 3`` seconds, so a slow but live
    handler keeps it; one whose worker died is run again after ``lease``
    seconds.  A recorded answer is never overwritten.  Several workers or machines need a
    shared store: :class:`RedisStore`, :class:`SQLStore` or
    ``gettcommerce.contrib.django.DjangoStore``.

    >>> import json
    >>> from gettcommerce import Amounts
    >>> from gettcommerce.webhooks import sign
    >>> app = WebhookApp("whsec_test", on_validate=lambda o: Amounts(o.amounts.sub_total, taxes="1.50"),
    ...                  on_place=lambda o: "POS-" + o.order_id)
    >>> body = (b'{"order": {"orderId": "o-1", "fulfillmentType": "pickup",'
    ...         b' "items": [{"itemId": "burger", "quantity": 1}], "amounts": {"subTotal": 10}}}')
    >>> status, headers, answer = app.handle("POST", "/gett/place", sign(body, "whsec_test"), body)
    >>> status, json.loads(answer)["partnerOrderId"]
    (200, 'POS-o-1')
    """

    _lock_type = threading.Lock

    def handle(self, method: str, path: str, headers: Any, body: Union[bytes, str, None]) -> Response:
        """Answer one request: ``(status, [(header, value)...], body_bytes)``.

        ``path`` may carry any prefix (``/gett/validate``); ``headers`` is a
        mapping or (name, value) pairs, matched case-insensitively; ``body``
        is the raw request body.
        """
        kind, route = self.route(path)
        if kind is None:
            return self.not_found(route)
        return self.dispatch(kind, method, headers, body, instance=route)

    def dispatch(self, kind: str, method: str, headers: Any, body: Union[bytes, str, None], *,
                 instance: Optional[str] = None) -> Response:
        """Like :meth:`handle` for a known ``kind`` (``"validate"``/``"place"``).

        Adapters that route by URL themselves (Flask, Django) call this.
        """
        return run_sync(self._flow(kind, method, headers, body, instance), self._place_locks)

    # -- WSGI ------------------------------------------------------------

    def __call__(self, environ: Dict[str, Any], start_response: Callable[..., Any]) -> List[bytes]:
        """WSGI entry point: mount it at the webhook base URL."""
        status, out_headers, payload = wsgi_request(self, environ)
        out_headers = out_headers + [("Content-Length", str(len(payload)))]
        start_response(f"{status} {phrase(status)}", out_headers)
        return [payload]

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Any:
        """Run this app on a local port (threaded); a context manager yielding its base URL.

        For development, demos and tests: the socket is listening when the
        URL is yielded, and the server stops when the block ends.

        >>> app = WebhookApp("whsec_test", on_validate=lambda o: o.amounts, on_place=lambda o: "P1")
        >>> with app.serve() as url:
        ...     url.startswith("http://127.0.0.1:")
        True
        """
        return serve_wsgi(self, host, port)

