"""Errors the sandbox raises to the Python code that drives it (not HTTP answers).

    GettError
     └── SandboxError
          ├── SandboxOrderError (ValueError)   place_order got items that cannot be ordered
          ├── SandboxStoreClosed               the store takes no orders right now
          ├── SandboxOrderRejected             the partner's validate webhook said 400
          └── SandboxWebhookError              the partner did not answer properly
               └── SandboxPlacementFailed      every placement attempt failed
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..errors import GettError


class SandboxError(GettError):
    """Base of the errors raised by :class:`gettcommerce.sandbox.Sandbox` methods."""


class SandboxOrderError(SandboxError, ValueError):
    """``place_order`` arguments that no real Gett checkout could produce."""


class SandboxStoreClosed(SandboxError):
    """The store is not taking orders: paused, or outside its catalog availability.

    ``error_code`` is ``STORE_CLOSED``; ``reason`` says which (``paused``,
    ``outside_availability``, ``no_catalog``).
    """

    error_code = "STORE_CLOSED"

    def __init__(self, message: str, *, store_id: str, reason: str) -> None:
        super().__init__(message)
        self.store_id = store_id
        self.reason = reason


class SandboxOrderRejected(SandboxError):
    """The partner's validate (or place) webhook refused the order with a 4xx problem.

    ``problem`` is the partner's parsed body; ``error_code`` (e.g.
    ``ITEM_UNAVAILABLE``) and ``errors`` are lifted from it.
    """

    def __init__(self, message: str, *, status: int, problem: Any, order_id: str) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem
        self.order_id = order_id
        body: Dict[str, Any] = problem if isinstance(problem, dict) else {}
        self.error_code: Optional[str] = body.get("errorCode") if isinstance(body.get("errorCode"), str) else None
        errors = body.get("errors")
        self.errors: List[Any] = list(errors) if isinstance(errors, list) else []


class SandboxWebhookError(SandboxError):
    """A webhook got no usable answer (timeout, connection error, 5xx, not JSON...)."""

    def __init__(self, message: str, *, url: str, status: Optional[int] = None, body: Any = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.body = body


class SandboxPlacementFailed(SandboxWebhookError):
    """Every placement attempt failed; Gett cancelled the order (``order_id``)."""

    def __init__(self, message: str, *, url: str, order_id: str, attempts: int,
                 status: Optional[int] = None, body: Any = None) -> None:
        super().__init__(message, url=url, status=status, body=body)
        self.order_id = order_id
        self.attempts = attempts


class SandboxNotFound(SandboxError, LookupError):
    """No store, order or onboarding with that id in this sandbox."""
