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
import os
from typing import TYPE_CHECKING, Any, List

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

if TYPE_CHECKING:
    # What type checkers see: the real names.  At run time they resolve
    # through __getattr__ below on first use (tests/test_typing.py checks
    # that this block and _LAZY name the same things).
    from . import catalog as catalog
    from . import cli as cli
    from . import contrib as contrib
    from . import errors as errors
    from . import models as models
    from . import sandbox as sandbox
    from . import webhooks as webhooks
    from ._async import AsyncClient as AsyncClient
    from ._async import AsyncOnboarding as AsyncOnboarding
    from ._async import AsyncOrder as AsyncOrder
    from ._async import AsyncStore as AsyncStore
    from ._attempt import Attempt as Attempt
    from ._batch import Batch as Batch
    from ._client import Client as Client
    from ._raw import RawResponse as RawResponse
    from .catalog import CatalogIssue as CatalogIssue
    from .catalog import CatalogSet as CatalogSet
    from .catalog import validate_catalogset as validate_catalogset
    from .models import Address as Address
    from .models import Amounts as Amounts
    from .models import Onboarding as Onboarding
    from .models import OnboardingStatus as OnboardingStatus
    from .models import Order as Order
    from .models import OrderState as OrderState
    from .models import OrderStatus as OrderStatus
    from .models import PauseReason as PauseReason
    from .models import Store as Store
    from .models import StoreStatus as StoreStatus
    from .models import StoreStatusValue as StoreStatusValue
    from .webhooks import AsyncWebhookApp as AsyncWebhookApp
    from .webhooks import IncomingOrder as IncomingOrder
    from .webhooks import ItemUnavailable as ItemUnavailable
    from .webhooks import WebhookApp as WebhookApp

_LAZY = {
    "Client": "._client",
    "AsyncClient": "._async",
    "AsyncStore": "._async",
    "AsyncOrder": "._async",
    "AsyncOnboarding": "._async",
    "Batch": "._batch",
    "Attempt": "._attempt",
    "RawResponse": "._raw",
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

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "Address",
    "Amounts",
    "AsyncClient",
    "AsyncOnboarding",
    "AsyncOrder",
    "AsyncStore",
    "AsyncWebhookApp",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchError",
    "CatalogIssue",
    "CatalogSet",
    "CatalogValidationError",
    "Client",
    "ConflictError",
    "GettError",
    "IncomingOrder",
    "InternalServerError",
    "InvalidRequestError",
    "InvalidTransitionError",
    "ItemUnavailable",
    "NotFoundError",
    "Onboarding",
    "OnboardingFailedError",
    "OnboardingStatus",
    "Order",
    "OrderState",
    "OrderStatus",
    "PauseReason",
    "PermissionDeniedError",
    "RateLimitError",
    "RawResponse",
    "Store",
    "StoreStatus",
    "StoreStatusValue",
    "UnprocessableEntityError",
    "WebhookApp",
    "WebhookVerificationError",
    "__version__",
    "validate_catalogset",
]


def _log_from_env() -> None:
    """``GETT_LOG=debug|info``: the ``gettcommerce`` logger writes to stderr at that
    level with no logging set-up (a handler is added only if it has none)."""
    value = os.environ.get("GETT_LOG")
    if not value:
        return
    import logging
    import sys
    import warnings
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(value.strip().lower())
    if level is None:
        warnings.warn(f"GETT_LOG={value!r} is not 'debug' or 'info'; ignored", RuntimeWarning,
                      stacklevel=2)
        return
    logger = logging.getLogger("gettcommerce")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


_log_from_env()


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'gettcommerce' has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
