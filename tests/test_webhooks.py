"""The gettcommerce.webhooks package as users import it: public names, paths, docstring examples.

Each module of the package has its own test file (test_webhooks_signature,
_orders, _refusals, _stores, _app, _asgi, _servers; _deployments runs real
multi-worker servers).
"""
from __future__ import annotations

import doctest
import importlib

import pytest

import gettcommerce as gett
from gettcommerce import webhooks
from webhook_helpers import encode, order_body  # noqa: F401  (test_security imports order_body from here)

MODULES = ["signature", "orders", "refusals", "stores", "app", "asgi", "servers"]


def test_public_import_paths_unchanged():
    from gettcommerce.webhooks import (AsyncWebhookApp, Customer, IncomingOrder, InMemoryPlacedOrderStore,  # noqa: F401
                                       ItemUnavailable, LineItem, ModifierSelection, OrderRejected,
                                       PlacedOrderStore, RedisStore, SelectedModifier, SQLStore, WebhookApp,
                                       compute_signature, sign, verify)
    assert gett.WebhookApp is WebhookApp and gett.AsyncWebhookApp is AsyncWebhookApp
    assert gett.IncomingOrder is IncomingOrder and gett.ItemUnavailable is ItemUnavailable
    assert gett.webhooks.verify is verify and gett.webhooks.sign is sign
    assert set(webhooks.__all__) <= set(dir(webhooks))
    for name in ("WebhookApp", "IncomingOrder", "OrderRejected", "RedisStore", "SQLStore"):
        assert getattr(webhooks, name).__module__ == "gettcommerce.webhooks"


def test_docstring_no_longer_claims_replays_are_impossible():
    text = webhooks.__doc__
    assert "cannot be replayed" not in text
    assert "not part of the signed data" in text and "orderId" in text


@pytest.mark.parametrize("name", MODULES + ["__init__"])
def test_docstring_examples(name, monkeypatch):
    module = webhooks if name == "__init__" else importlib.import_module("gettcommerce.webhooks." + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
