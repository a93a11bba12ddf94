"""gettcommerce: the Python SDK, with a C core, for the Gett Commerce Partner API.

    import gettcommerce as gett
    with gett.Client(api_key="zpka_...") as client:
        for store in client.stores.list():
            print(store.name, store.get_status().status)

Public names resolve lazily, so ``import gettcommerce`` stays fast and the
sandbox, webhooks, contrib and CLI modules load only when used.
"""
from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BatchError,
    CatalogValidationError,
    ConflictError,
    GettError,
    InternalServerError,
    InvalidRequestError,
    InvalidTransitionError,
    NotFoundError,
    OnboardingFailedError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    WebhookVerificationError,
)

_LAZY = {
    "Client": "._client",
    "Batch": "._batch",
    "Store": ".models",
    "StoreStatus": ".models",
    "Order": ".models",
    "Onboarding": ".models",
    "Address": ".models",
    "Amounts": ".models",
    "PauseReason": ".models",
    "OrderStatus": ".models",
    "OrderState": ".models",
    "StoreStatusValue": ".models",
    "OnboardingStatus": ".models",
    "CatalogSet": ".catalog",
    "CatalogIssue": ".catalog",
    "validate_catalogset": ".catalog",
    "WebhookApp": ".webhooks",
    "AsyncWebhookApp": ".webhooks",
    "IncomingOrder": ".webhooks",
    "ItemUnavailable": ".webhooks",
}
_SUBMODULES = {"webhooks", "sandbox", "contrib", "errors", "models", "catalog", "cli"}

__all__ = sorted(set(_LAZY) | {
    "__version__", "GettError", "APIConnectionError", "APITimeoutError", "APIStatusError",
    "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "UnprocessableEntityError", "RateLimitError", "InternalServerError",
    "InvalidRequestError", "CatalogValidationError", "InvalidTransitionError",
    "OnboardingFailedError", "WebhookVerificationError", "BatchError",
})


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'gettcommerce' has no attribute {name!r}")


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
