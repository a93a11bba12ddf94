"""FastAPI adapter: an APIRouter serving an AsyncWebhookApp.

    from fastapi import FastAPI
    import gettcommerce as gett
    from gettcommerce.contrib.fastapi import router

    hooks = gett.AsyncWebhookApp(secret, on_validate=..., on_place=..., store=...)
    api = FastAPI()
    api.include_router(router(hooks), prefix="/gett")
    # Gett's webhookUrl is then https://your.host/gett

The routes read the raw request (the bytes Gett signed) from ASGI directly:
a body over ``max_body_bytes`` is refused by its Content-Length before it
is read, a chunked one once it passes the limit, and any method but POST
gets the 405 problem+json.  They are left out of the OpenAPI schema.
"""
from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..webhooks import AsyncWebhookApp

__all__ = ["router"]

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def router(app: AsyncWebhookApp, **router_options: Any) -> APIRouter:
    """An APIRouter with ``/validate`` and ``/place`` served by ``app`` (extra options go to APIRouter).

    >>> import gettcommerce as gett
    >>> from fastapi import FastAPI
    >>> hooks = gett.AsyncWebhookApp("whsec_test", on_validate=lambda o: o.amounts, on_place=lambda o: "P1")
    >>> api = FastAPI()
    >>> api.include_router(router(hooks), prefix="/gett")
    >>> sorted(r.path for r in api.routes if r.path.startswith("/gett"))
    ['/gett/place', '/gett/validate']
    """
    if not isinstance(app, AsyncWebhookApp):
        raise TypeError("router() needs a gettcommerce AsyncWebhookApp (gett.AsyncWebhookApp), not "
                        f"{type(app).__name__}")
    api = APIRouter(**router_options)
    for kind in ("validate", "place"):
        api.add_api_route("/" + kind, _endpoint(app, kind), methods=_METHODS, name=f"gett_{kind}",
                          include_in_schema=False)
    return api


def _endpoint(app: AsyncWebhookApp, kind: str) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        status, headers, body = await app.asgi_request(request.scope, request.receive, kind=kind)
        return Response(body, status_code=status, headers=dict(headers))

    endpoint.__name__ = f"gett_{kind}"
    return endpoint
