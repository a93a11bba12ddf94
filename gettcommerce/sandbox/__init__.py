"""gettcommerce.sandbox: a local emulator of the Gett Commerce API.

    from gettcommerce.sandbox import Sandbox

    with Sandbox() as sandbox:                  # real HTTP on 127.0.0.1, random port
        store_id = sandbox.create_store(partner_store_id="p-1", name="Pizza Place")
        client = sandbox.client()               # gettcommerce.Client bound to it
        client.stores.pause(store_id, "too_busy")

Standalone: ``python -m gettcommerce sandbox --port 8787`` (or ``gett sandbox``).
"""
from .core import Sandbox
from .demo_catalog import demo_catalog
from .exceptions import (SandboxError, SandboxNotFound, SandboxOrderError, SandboxOrderRejected,
                         SandboxPlacementFailed, SandboxStoreClosed, SandboxWebhookError)
from .faults import Fault, FaultError
from .ratelimit import RateLimits
from .requestlog import RequestRecord

__all__ = ["Sandbox", "Fault", "FaultError", "RateLimits", "RequestRecord", "demo_catalog", "SandboxError",
           "SandboxNotFound", "SandboxOrderError", "SandboxOrderRejected", "SandboxPlacementFailed",
           "SandboxStoreClosed", "SandboxWebhookError"]
