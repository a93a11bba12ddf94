"""Ids and keys the sandbox hands out.

Timestamps, money and JSON bytes come from :mod:`gettcommerce._wire`, the
one wire module the SDK, the webhooks and the sandbox share.
"""
from __future__ import annotations

import secrets
import uuid


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_request_id() -> str:
    return "req_" + secrets.token_hex(8)


def new_api_key() -> str:
    return "zpka_sandbox_" + secrets.token_hex(16)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def mask_key(key: str) -> str:
    """A key's public label: enough to tell keys apart, never enough to use one."""
    return key[:13] + "..." + key[-4:] if len(key) > 20 else key[:4] + "..."
