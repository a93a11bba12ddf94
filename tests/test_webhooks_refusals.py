"""OrderRejected and ItemUnavailable, the handlers' refusals (gettcommerce/webhooks/refusals.py)."""
from __future__ import annotations

import pytest

from gettcommerce.webhooks import ItemUnavailable, OrderRejected, refusals


def test_item_unavailable_arguments():
    with pytest.raises(ValueError, match="at least one"):
        ItemUnavailable([])
    with pytest.raises(TypeError, match=r"errors\[0\]"):
        ItemUnavailable([42])
    with pytest.raises(ValueError, match="unknown key 'sku'"):
        ItemUnavailable([{"sku": "x"}])
    assert ItemUnavailable("fries").errors[0]["itemId"] == "fries"
    assert ItemUnavailable([{"item_id": "a", "json_path": "$.x"}]).errors[0]["jsonPath"] == "$.x"


def test_order_rejected_status_must_be_4xx():
    with pytest.raises(ValueError, match="4xx"):
        OrderRejected("nope", status=500)
    assert OrderRejected("closed", status=409).status == 409


def test_item_unavailable_is_an_order_rejected_with_its_code():
    exc = ItemUnavailable(["fries"])
    assert isinstance(exc, OrderRejected) and exc.error_code == "ITEM_UNAVAILABLE"
    assert exc.error_category == "availability" and exc.status == 400
    assert refusals.ItemUnavailable is ItemUnavailable
