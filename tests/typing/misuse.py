"""Must NOT type-check: tests/test_typing.py expects each marked line reported."""
from __future__ import annotations

import gettcommerce as gett
from gettcommerce import webhooks


def misuse(client: gett.Client) -> None:
    client.stores.lst()  # misspelled method
    client.stores.pause(42, "too_busy")  # wrong argument type
    gett.Client(api_key="k", timeout="5")  # wrong argument type
    client.order("o1").confirmm()  # misspelled method
    gett.Amounts(sub_total=[1])  # not a money amount
    client.order("o1").confirm(estimated_ready_at=5)  # not a datetime or RFC 3339 text
    webhooks.verify(b"{}", 42, "whsec_x")  # headers must be a mapping or name/value pairs
