"""Must NOT type-check: tests/test_typing.py expects each marked line reported."""
from __future__ import annotations

import gettcommerce as gett


def misuse(client: gett.Client) -> None:
    client.stores.lst()  # misspelled method
    client.stores.pause(42, "too_busy")  # wrong argument type
    gett.Client(api_key="k", timeout="5")  # wrong argument type
    client.order("o1").confirmm()  # misspelled method
