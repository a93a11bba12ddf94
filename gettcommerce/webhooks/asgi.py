"""AsyncWebhookApp: WebhookApp's behaviour as an ASGI application (uvicorn, FastAPI, Starlette)."""
from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from typing import Any, Callable, List, Mapping, Optional, Tuple, Union

from .app import HANDLER, LOCK, Flow, Response, WebhookCore, drive

__all__ = ["AsyncWebhookApp"]


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    # asyncio.to_thread is 3.9+; this is the same, spelled for the running loop's default executor.
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, function, *args)
    return await loop.run_in_executor(None, call)


class AsyncWebhookApp(WebhookCore):
    """:class:`WebhookApp` as an ASGI app: same checks, answers and place deduplication.

    ``on_validate`` and ``on_place`` may be ``async def`` (awaited on the
    event loop) or plain functions (run in a worker thread, so a blocking
    POS call does not stall other deliveries); store calls run in a worker
    thread too.  Mount it at the webhook base URL (``uvicorn shop:app``
    serves ``/validate`` and ``/place`` under any prefix), or use
    ``gettcommerce.contrib.fastapi.router(app)`` inside a FastAPI app.

    >>> import asyncio, json
    >>> from gettcommerce.webhooks import sign
    >>> async def on_place(order):
    ...     return "POS-" + order.order_id
    >>> app = AsyncWebhookApp("whsec_test", on_validate=lambda o: o.amounts, on_place=on_place)
    >>> body = (b'{"order": {"orderId": "o-1", "fulfillmentType": "pickup",'
    ...         b' "items": [{"itemId": "burger"}], "amounts": {"subTotal": 10}}}')
    >>> status, _, answer = asyncio.run(app.handle("POST", "/place", sign(body, "whsec_test"), body))
    >>> status, json.loads(answer)["partnerOrderId"]
    (200, 'POS-o-1')
    """

    _lock_type = asyncio.Lock

    async def handle(self, method: str, path: str, headers: Any, body: Union[bytes, str, None]) -> Response:
        """Answer one request, like :meth:`WebhookApp.handle` (a coroutine)."""
        kind, route = self.route(path)
        if kind is None:
            return self.not_found(route)
        return await self.dispatch(kind, method, headers, body, instance=route)

    async def dispatch(self, kind: str, method: str, headers: Any, body: Union[bytes, str, None], *,
                       instance: Optional[str] = None) -> Response:
        """Like :meth:`WebhookApp.dispatch` (a coroutine); framework adapters call it."""
        return await self._run(self._flow(kind, method, headers, body, instance))

    async def _run(self, flow: Flow) -> Response:
        return await drive(flow, self._place_locks, _call_async)

    # -- ASGI ------------------------------------------------------------

    async def __call__(self, scope: Mapping[str, Any], receive: Callable[..., Any],
                       send: Callable[..., Any]) -> None:
        """ASGI entry point (HTTP and lifespan)."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        status, headers, payload = await self.asgi_request(scope, receive)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
                    + [(b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    async def asgi_request(self, scope: Mapping[str, Any], receive: Callable[..., Any], *,
                           kind: Optional[str] = None) -> Response:
        """Answer one ASGI HTTP request (routing by path unless ``kind`` is given)."""
        method = scope.get("method", "GET")
        root, route = scope.get("root_path", ""), scope.get("path", "")
        if not route.startswith(root):
            route = root + route    # servers differ on whether path includes root_path
        if kind is None:
            kind, route = self.route(route)
            if kind is None:
                return self.not_found(route)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        length_text = next((v for k, v in headers if k.lower() == "content-length"), None)
        refused = self.refuse_before_body(method, length_text, route)
        if refused is not None:
            return refused
        body = await read_asgi_body(receive, self.max_body_bytes)
        if body is None:
            return self.too_large(None, route)
        return await self.dispatch(kind, method, headers, body, instance=route)


async def read_asgi_body(receive: Callable[..., Any], limit: int) -> Optional[bytes]:
    """The request body from ASGI ``receive``; None once it passes ``limit`` (nothing more is kept)."""
    chunks: List[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _call_async(function: Callable[..., Any], args: Tuple[Any, ...], kind: str) -> Any:
    """One step for AsyncWebhookApp: async handlers and the lock are awaited here, the rest
    (plain handlers, store calls) run in a worker thread."""
    if kind == LOCK or (kind == HANDLER and _is_async(function)):
        return await function(*args)
    result = await _in_thread(function, *args)
    if kind == HANDLER and inspect.isawaitable(result):
        result = await result
    return result


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None))

