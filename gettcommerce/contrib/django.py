"""Django adapter: URL patterns that serve a WebhookApp.

    # urls.py
    from django.urls import include, path
    from gettcommerce.contrib.django import urlpatterns as gett_urls
    from myshop.gett import webhook_app

    urlpatterns = [path("gett/", include(gett_urls(webhook_app)))]
    # Gett's webhookUrl is then https://your.host/gett

The views are CSRF-exempt (Gett authenticates with its signature, not a
cookie) and pass ``request.body``, the raw bytes Gett signed, to the app.
"""
from __future__ import annotations

from typing import Any, Callable, List

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from ..webhooks import WebhookApp

__all__ = ["urlpatterns"]


def urlpatterns(app: WebhookApp, prefix: str = "") -> List[URLPattern]:
    """``[path(prefix + "validate"), path(prefix + "place")]`` served by ``app``.

    URL names are ``gett_validate`` and ``gett_place``.  Methods other than
    POST get the WebhookApp's 405 problem answer.
    """
    if not isinstance(app, WebhookApp):
        raise TypeError(f"urlpatterns() needs a gettcommerce WebhookApp, not {type(app).__name__}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    prefix = prefix.lstrip("/")   # Django routes never start with a slash
    return [path(prefix + "validate", _view(app, "validate"), name="gett_validate"),
            path(prefix + "place", _view(app, "place"), name="gett_place")]


def _view(app: WebhookApp, kind: str) -> Callable[..., Any]:
    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        status, headers, body = app.dispatch(kind, request.method or "", request.headers, request.body,
                                             instance=request.path)
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    view.__name__ = f"gett_{kind}"
    view.__qualname__ = view.__name__
    return view
