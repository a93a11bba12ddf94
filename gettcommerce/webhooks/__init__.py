"""Webhooks Gett sends to partners: signature checks, parsed orders, WebhookApp.

Gett creates an order by calling the partner twice: ``POST {webhookUrl}/validate``
(availability and exact prices) and then ``POST {webhookUrl}/place`` (the
order is final; the partner answers with its own order id).  Gett signs the
raw body: ``Signature`` is the hex HMAC-SHA256 of the body with the webhook
secret, ``Timestamp`` the unix time of sending, ``API-Version`` the protocol
version.  A request whose timestamp is more than ``tolerance`` seconds off,
in either direction, is refused.

What that does not do: the Timestamp is not part of the signed data, so
anyone who captured a delivery can re-send it with a fresh Timestamp and
it verifies.  What protects the partner is deduplication by ``orderId`` in
storage every worker shares: WebhookApp's place store answers a repeated
``place`` with the recorded answer and never runs ``on_place`` twice.  With
one process the default in-memory store does that; with several workers or
machines use :class:`RedisStore`, :class:`SQLStore` or
``gettcommerce.contrib.django.DjangoStore``.  A replayed ``validate`` only
re-prices a cart, which changes nothing.

:class:`WebhookApp` does all of it for a partner: it checks the signature,
parses the body into an :class:`IncomingOrder`, calls the partner's
``on_validate``/``on_place``, deduplicates ``place`` deliveries and answers
in Gett's problem+json shape.  It is framework-agnostic
(:meth:`WebhookApp.handle`), a WSGI application, and has thin Flask and
Django adapters in :mod:`gettcommerce.contrib`; :class:`AsyncWebhookApp` is
the same as an ASGI application (FastAPI: ``gettcommerce.contrib.fastapi``).

The package: ``signature`` (sign, verify), ``orders`` (IncomingOrder and its
parts), ``refusals`` (OrderRejected, ItemUnavailable), ``stores`` (the claim
protocol and its stores), ``app`` (WebhookApp), ``asgi`` (AsyncWebhookApp),
``servers`` (WSGI reading, the local server).
"""
from __future__ import annotations

import hmac  # noqa: F401  (kept as webhooks.hmac: signatures are compared with hmac.compare_digest)

from .app import DEFAULT_LEASE, DEFAULT_MAX_BODY_BYTES, Response, WebhookApp
from .asgi import AsyncWebhookApp
from .orders import Customer, IncomingOrder, LineItem, ModifierSelection, SelectedModifier
from .refusals import ItemUnavailable, OrderRejected
from .signature import compute_signature, sign, verify
from .stores import Claim, InMemoryPlacedOrderStore, PlacedOrderStore, RedisStore, SQLStore

__all__ = [
    "sign", "verify", "compute_signature",
    "IncomingOrder", "LineItem", "ModifierSelection", "SelectedModifier", "Customer",
    "OrderRejected", "ItemUnavailable",
    "PlacedOrderStore", "Claim", "InMemoryPlacedOrderStore", "RedisStore", "SQLStore",
    "WebhookApp", "AsyncWebhookApp", "Response", "DEFAULT_LEASE", "DEFAULT_MAX_BODY_BYTES",
]

# Public classes report the import path users write (reprs, tracebacks, pickles).
for _cls in (IncomingOrder, LineItem, ModifierSelection, SelectedModifier, Customer, OrderRejected,
             ItemUnavailable, PlacedOrderStore, Claim, InMemoryPlacedOrderStore, RedisStore, SQLStore,
             WebhookApp, AsyncWebhookApp):
    _cls.__module__ = __name__
del _cls
