"""The typing contract of issue 14 that waits on annotations outside the
packaging files (see tests/test_typing.py::test_pending_contract): the
sandbox's client() is a Client, batch.results is typed, Amounts.total is a
Decimal (it is always set), webhooks.sign/verify are fully typed."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, assert_type

import gettcommerce as gett
from gettcommerce import webhooks
from gettcommerce.sandbox import Sandbox


def pending(client: gett.Client) -> None:
    with Sandbox() as sb, sb.client() as sandbox_client:
        assert_type(sb.client(), gett.Client)
        assert_type(sandbox_client, gett.Client)
    assert_type(gett.Amounts(sub_total=Decimal("1")).total, Decimal)
    with client.batch() as batch:
        batch.stores.get("s1")
    results = batch.run()
    assert_type(results, List[Any])
    assert batch.results is not None
    assert_type(batch.results, List[Any])


def signing(body: bytes) -> None:
    signed = webhooks.sign(body, "whsec_x")
    assert_type(signed, Dict[str, str])
    webhooks.verify(body, signed, "whsec_x")
