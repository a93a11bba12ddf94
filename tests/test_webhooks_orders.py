"""IncomingOrder parsing (gettcommerce/webhooks/orders.py)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

import gettcommerce as gett
from gettcommerce import webhooks
from gettcommerce.errors import InvalidRequestError
from gettcommerce.webhooks import IncomingOrder
from webhook_helpers import encode, order_body

class TestIncomingOrder:
    def test_parse_full_body(self):
        order = IncomingOrder.parse(encode(order_body(paymentToken="tok_secret")), kind="place")
        assert (order.order_id, order.store_id, order.partner_store_id, order.catalog_set_id) == \
            ("ord-1", "st-1", "p-1", "cs-1")
        assert order.is_delivery and not order.is_pickup and order.kind == "place"
        assert [(i.line_item_id, i.item_id, i.quantity) for i in order.items] == \
            [("l1", "burger", 2), ("l2", "fries", 1)]
        group = order.items[0].modifier_groups[0]
        assert group.modifier_group_id == "g-cheese"
        assert group.selected_modifiers == [webhooks.SelectedModifier("cheddar", 1)]
        assert order.items[0].modifiers[0].json_path == "$.order.items[0].modifierGroups[0].selectedModifiers[0]"
        assert order.items[1].json_path == "$.order.items[1]"
        # Decimal, exact as the JSON text showed it: 23.1 + 2.5 is 25.6, not 25.600000000000001
        assert order.amounts.sub_total == Decimal("23.1") and order.amounts.tip == Decimal("2.5")
        assert order.amounts.total == Decimal("25.6")
        assert (order.user.name, order.user.phone, order.user.email) == ("Dana", "+15550100", "dana@example.com")
        assert order.delivery_address == gett.Address("1 Main St", "Springfield", "IL", "62701", "US")
        assert order.payment_token == "tok_secret"
        assert order.raw["order"]["orderId"] == "ord-1"
        assert "tok_secret" not in repr(order)

    def test_pickup_minimal_and_legacy_subtotal(self):
        body = {"order": {"orderId": "o", "fulfillmentType": "pickup", "items": [{"itemId": "x"}],
                          "subTotal": 15}}
        order = IncomingOrder.parse(json.dumps(body))
        assert order.is_pickup and order.delivery_address is None and order.payment_token is None
        assert order.items[0].quantity == 1 and order.items[0].line_item_id is None
        assert order.amounts.sub_total == Decimal(15) and order.amounts.total == Decimal(15)
        assert order.user == webhooks.Customer()

    def test_parse_accepts_dict(self):
        assert IncomingOrder.parse(order_body()).order_id == "ord-1"

    @pytest.mark.parametrize("mutate, field", [
        (lambda b: b["order"].pop("orderId"), "order.orderId"),
        (lambda b: b["order"].update(orderId=7), "order.orderId"),
        (lambda b: b["order"].update(fulfillmentType="drone"), "order.fulfillmentType"),
        (lambda b: b["order"].update(items=[]), "order.items"),
        (lambda b: b["order"].update(items={"a": 1}), "order.items"),
        (lambda b: b["order"]["items"][1].update(quantity=0), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][1].update(quantity=True), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][1].update(quantity=1.5), "order.items[1].quantity"),
        (lambda b: b["order"]["items"][0].pop("itemId"), "order.items[0].itemId"),
        (lambda b: b["order"]["items"][0]["modifierGroups"][0]["selectedModifiers"][0].update(itemId=""),
         "order.items[0].modifierGroups[0].selectedModifiers[0].itemId"),
        (lambda b: b["order"]["items"][0]["modifierGroups"][0].pop("modifierGroupId"),
         "order.items[0].modifierGroups[0].modifierGroupId"),
        (lambda b: b["order"]["amounts"].update(subTotal="12.50"), "order.amounts.subTotal"),
        (lambda b: b["order"]["amounts"].update(subTotal=-1), "order.amounts.subTotal"),
        (lambda b: b["order"]["amounts"].pop("subTotal"), "order.amounts.subTotal"),
        (lambda b: b["order"].pop("amounts"), "order.amounts"),
        (lambda b: b["order"]["amounts"].update(tip=None, taxes=[1]), "order.amounts.taxes"),
        (lambda b: b.update(user="Dana"), "body.user"),
        (lambda b: b["user"].update(email=5), "user.email"),
        (lambda b: b.update(deliveryAddress=["x"]), "body.deliveryAddress"),
        (lambda b: b["deliveryAddress"].update(city=3), "deliveryAddress.city"),
        (lambda b: b.update(paymentToken=123), "paymentToken"),
        (lambda b: b.pop("order"), "body.order"),
    ])
    def test_malformed_names_the_field(self, mutate, field):
        body = order_body()
        mutate(body)
        with pytest.raises(InvalidRequestError) as info:
            IncomingOrder.parse(encode(body))
        assert info.value.field == field
        assert field in str(info.value)

    @pytest.mark.parametrize("raw, message", [
        (b"", "empty"), (b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "not UTF-8"), (b'{"order": {"amounts": {"subTotal": NaN}}}', "not valid JSON"),
    ])
    def test_malformed_bytes(self, raw, message):
        with pytest.raises(InvalidRequestError, match=message) as info:
            IncomingOrder.parse(raw)
        assert info.value.field == "body"

    def test_order_handle_uses_client(self):
        class FakeClient:
            def order(self, order_id):
                return gett.Order(order_id, client=self)

        incoming = IncomingOrder.parse(order_body())
        with pytest.raises(InvalidRequestError, match="needs a Client"):
            incoming.order()
        handle = incoming.order(FakeClient())
        assert isinstance(handle, gett.Order) and handle.order_id == "ord-1" and handle.status == "pending"
        incoming.client = FakeClient()
        assert incoming.order().order_id == "ord-1"
