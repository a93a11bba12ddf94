"""A small valid CatalogSet, open every day all day, for seeded stores and examples."""
from __future__ import annotations

import copy
from typing import Any, Dict

from .._wire import DAYS_OF_WEEK

_ALL_WEEK = [{"dayOfWeek": day, "start": "00:00:00", "end": "00:00:00"} for day in DAYS_OF_WEEK]

_CATALOG: Dict[str, Any] = {
    "catalogSetId": "demo-catalog-1",
    "storeId": "demo-store",
    "catalogs": {
        "all-day": {"catalogId": "all-day", "name": "All Day", "sectionIds": ["pizzas", "drinks"],
                    "availability": _ALL_WEEK},
    },
    "sections": {
        "pizzas": {"sectionId": "pizzas", "name": "Pizzas", "sectionIds": [], "itemIds": ["margherita", "funghi"]},
        "drinks": {"sectionId": "drinks", "name": "Drinks", "sectionIds": [], "itemIds": ["cola", "water"]},
    },
    "items": {
        "margherita": {"itemId": "margherita", "name": "Margherita", "basePrice": 9.5,
                       "modifierGroupIds": ["size", "toppings"]},
        "funghi": {"itemId": "funghi", "name": "Funghi", "basePrice": 11.0, "modifierGroupIds": ["size"]},
        "cola": {"itemId": "cola", "name": "Cola", "basePrice": 2.5, "modifierGroupIds": []},
        "water": {"itemId": "water", "name": "Still water", "basePrice": 1.75, "modifierGroupIds": []},
        "size-regular": {"itemId": "size-regular", "name": "Regular", "basePrice": 0, "modifierGroupIds": []},
        "size-large": {"itemId": "size-large", "name": "Large", "basePrice": 3.0, "modifierGroupIds": []},
        "extra-cheese": {"itemId": "extra-cheese", "name": "Extra cheese", "basePrice": 1.25,
                         "modifierGroupIds": []},
        "olives": {"itemId": "olives", "name": "Olives", "basePrice": 0.75, "modifierGroupIds": []},
    },
    "modifierGroups": {
        "size": {"modifierGroupId": "size", "name": "Size", "minimumAllowed": 1, "maximumAllowed": 1,
                 "itemIds": ["size-regular", "size-large"]},
        "toppings": {"modifierGroupId": "toppings", "name": "Extra toppings", "minimumAllowed": 0,
                     "maximumAllowed": 2, "itemIds": ["extra-cheese", "olives"]},
    },
}


def demo_catalog() -> Dict[str, Any]:
    """A fresh copy of the demo CatalogSet (pizzas with a required size group, drinks).

    >>> sorted(demo_catalog()["items"])[:2]
    ['cola', 'extra-cheese']
    """
    return copy.deepcopy(_CATALOG)
