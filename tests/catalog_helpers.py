"""A small valid CatalogSet shared by the tests of gettcommerce/catalog/."""
from __future__ import annotations

from decimal import Decimal

from gettcommerce.catalog import CatalogSet


def small():
    cs = CatalogSet("store-9", catalog_set_id="set-1")
    cs.add_item("cheese", name="Cheese", base_price="1.00")
    cs.add_modifier_group("extras", name="Extras", item_ids=["cheese"])
    cs.add_item("burger", name="Burger", base_price=Decimal("9.50"),
                modifier_group_ids=["extras"])
    cs.add_section("mains", name="Mains", item_ids=["burger"])
    cs.add_catalog("menu", name="Menu", section_ids=["mains"],
                   availability=[("Monday", "09:00:00", "17:00:00")])
    return cs
