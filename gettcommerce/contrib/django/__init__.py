"""Django adapter: URL patterns that serve a WebhookApp, and DjangoStore for place deduplication.

    # urls.py
    from django.urls import include, path
    from gettcommerce.contrib.django import urlpatterns as gett_urls
    from myshop.gett import webhook_app

    urlpatterns = [path("gett/", include(gett_urls(webhook_app)))]
    # Gett's webhookUrl is then https://your.host/gett

The views are CSRF-exempt (Gett authenticates with its signature, not a
cookie) and pass the raw bytes Gett signed to the app, read only after the
Content-Length passed ``max_body_bytes``.

Several workers (gunicorn, uWSGI, several machines) share place records
through the project's database: add ``"gettcommerce.contrib.django"`` to
``INSTALLED_APPS``, run ``manage.py migrate``, and give the app
``store=DjangoStore()``.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Optional

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt

from ...webhooks import WebhookApp
from ...webhooks.app import Response, read_capped
from ...webhooks.stores import BUSY_CLAIM, Claim, claim_of_row, encode_answer, new_token

__all__ = ["urlpatterns", "DjangoStore"]


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


def _answer(app: WebhookApp, kind: str, request: HttpRequest) -> Response:
    method = request.method or ""
    instance = request.path
    length_text = request.META.get("CONTENT_LENGTH")
    refused = app.refuse_before_body(method, length_text, instance)
    if refused is not None:
        return refused
    body = read_capped(request.read, app.max_body_bytes, int(length_text) if length_text else None)
    if body is None:
        return app.too_large(None, instance)
    return app.dispatch(kind, method, request.headers, body, instance=instance)


def _view(app: WebhookApp, kind: str) -> Callable[..., Any]:
    @csrf_exempt
    def view(request: HttpRequest) -> HttpResponse:
        status, headers, body = _answer(app, kind, request)
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    view.__name__ = f"gett_{kind}"
    view.__qualname__ = view.__name__
    return view


def _now() -> Any:
    from django.utils import timezone
    return timezone.now()


class DjangoStore:
    """Place records in the project's database, through the ORM (any backend Django supports).

    Needs ``"gettcommerce.contrib.django"`` in ``INSTALLED_APPS`` and its
    migration applied (table ``gettcommerce_placedorder``).  A claim is the
    insert of the order's primary key inside ``transaction.atomic()``: the
    database lets exactly one delivery insert it.  ``using`` picks a
    database alias.
    """

    def __init__(self, using: Optional[str] = None) -> None:
        self.using = using

    def __repr__(self) -> str:
        return f"<DjangoStore using={self.using or 'default'!r}>"

    @staticmethod
    def _model() -> Any:
        # Imported on use: models can only be imported once Django's apps are ready.
        from .models import PlacedOrder
        return PlacedOrder

    def _rows(self) -> Any:
        return self._model().objects.using(self.using)

    def claim(self, order_id: str, lease: float) -> Claim:
        from django.db import IntegrityError, transaction
        token = new_token()
        now = time.time()
        try:
            with transaction.atomic(using=self.using):
                self._rows().create(order_id=order_id, state="running", token=token, lease_until=now + lease)
            return Claim.claimed(token)
        except IntegrityError:
            pass
        row = self._rows().filter(order_id=order_id).values_list("state", "token", "lease_until",
                                                                    "answer").first()
        found = claim_of_row(row, now)
        if found is not None:
            return found
        taken = self._rows().filter(order_id=order_id, state="running", token=row[1]).update(
            token=token, lease_until=now + lease, updated_at=_now())
        return Claim.claimed(token) if taken == 1 else BUSY_CLAIM

    def complete(self, order_id: str, token: str, answer: Optional[Dict[str, Any]]) -> bool:
        state = "failed" if answer is None else "done"
        text = encode_answer(answer)
        # Only a row still running (no answer yet) is updated: a recorded answer is never overwritten.
        updated = self._rows().filter(order_id=order_id, state="running").update(
            state=state, answer=text, token=None, lease_until=None, updated_at=_now())
        if updated == 1:
            return True
        from django.db import IntegrityError, transaction
        try:
            with transaction.atomic(using=self.using):
                self._rows().create(order_id=order_id, state=state, answer=text)
        except IntegrityError:
            return False   # recorded by another delivery meanwhile: that answer stays
        return True

    def renew(self, order_id: str, token: str, lease: float) -> bool:
        renewed = self._rows().filter(order_id=order_id, state="running", token=token).update(
            lease_until=time.time() + lease, updated_at=_now())
        return renewed == 1

    def release(self, order_id: str, token: str) -> None:
        self._rows().filter(order_id=order_id, state="running", token=token).delete()

    def get(self, order_id: str) -> Optional[Dict[str, Any]]:
        """The stored answer for ``order_id``, or None."""
        answer = self._rows().filter(order_id=order_id, state="done").values_list("answer", flat=True).first()
        return None if answer is None else json.loads(answer)
