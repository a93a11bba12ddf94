"""Sample and synthetic CatalogSets for demos, tests and benchmarks.

``sample_catalogset()`` is a small, real-looking restaurant menu that
validates cleanly; ``generate_catalogset(n_items)`` builds a large synthetic
one (nested sections, shared modifier groups, nested modifiers, availability
windows) deterministically from a seed.
"""
from __future__ import annotations

import random
import uuid
from typing import Any, Dict, List

from .catalog import DAYS_OF_WEEK, CatalogSet

__all__ = ["sample_catalogset", "generate_catalogset", "section_chain"]


def sample_catalogset(store_id: str = "demo-store") -> CatalogSet:
    """The "Gett Diner" menu: two catalogs (All Day, Breakfast), nested
    sections, shared modifier groups and a nested modifier (fries offer a
    choice of dips).  Validates with no issues.

    >>> cs = sample_catalogset()
    >>> cs.validate()
    []
    >>> sorted(cs.catalogs)
    ['all-day', 'breakfast']
    """
    cs = CatalogSet(store_id, catalog_set_id=str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                             f"gettcommerce:sample:{store_id}")))
    # Choices are items too, so they come first (the builder refuses ids it
    # has not seen yet).
    for item_id, name, price in [
        ("size-regular", "Regular", "0.00"), ("size-large", "Large", "1.50"),
        ("top-cheese", "Cheddar cheese", "1.00"), ("top-bacon", "Smoked bacon", "1.50"),
        ("top-avocado", "Avocado", "1.75"), ("top-jalapenos", "Jalapeños", "0.50"),
        ("dip-ketchup", "Ketchup", "0.00"), ("dip-aioli", "Garlic aioli", "0.50"),
        ("dip-bbq", "BBQ sauce", "0.50"),
        ("egg-fried", "Fried", "0.00"), ("egg-scrambled", "Scrambled", "0.00"),
        ("egg-poached", "Poached", "0.00"),
        ("milk-whole", "Whole milk", "0.00"), ("milk-oat", "Oat milk", "0.60"),
        ("milk-almond", "Almond milk", "0.60"),
    ]:
        cs.add_item(item_id, name=name, base_price=price)
    cs.add_modifier_group("dips", name="Dips", item_ids=["dip-ketchup", "dip-aioli", "dip-bbq"],
                          minimum_allowed=0, maximum_allowed=2)
    # A choice with its own modifier group: fries as a side come with dips.
    cs.add_item("side-fries", name="Fries", base_price="0.00", modifier_group_ids=["dips"])
    cs.add_item("side-salad", name="Side salad", base_price="0.00")
    cs.add_item("side-rings", name="Onion rings", base_price="1.00", modifier_group_ids=["dips"])
    cs.add_modifier_group("size", name="Size", item_ids=["size-regular", "size-large"],
                          minimum_allowed=1, maximum_allowed=1)
    cs.add_modifier_group("toppings", name="Extra toppings",
                          item_ids=["top-cheese", "top-bacon", "top-avocado", "top-jalapenos"],
                          minimum_allowed=0, maximum_allowed=3)
    cs.add_modifier_group("sides", name="Choice of side",
                          item_ids=["side-fries", "side-salad", "side-rings"],
                          minimum_allowed=1, maximum_allowed=1)
    cs.add_modifier_group("egg-style", name="Eggs",
                          item_ids=["egg-fried", "egg-scrambled", "egg-poached"],
                          minimum_allowed=1, maximum_allowed=1)
    cs.add_modifier_group("milk", name="Milk", item_ids=["milk-whole", "milk-oat", "milk-almond"],
                          minimum_allowed=0, maximum_allowed=1)

    for item_id, name, price, groups, description in [
        ("burger-classic", "Classic Burger", "9.50", ["toppings", "sides"],
         "Beef patty, lettuce, tomato, house sauce."),
        ("burger-veggie", "Veggie Burger", "9.00", ["toppings", "sides"],
         "Black bean patty, pickled onions."),
        ("chicken-sandwich", "Crispy Chicken Sandwich", "8.75", ["toppings", "sides"],
         "Buttermilk fried chicken, slaw."),
        ("caesar-salad", "Caesar Salad", "7.50", [], "Romaine, parmesan, croutons."),
        ("pancakes", "Buttermilk Pancakes", "6.50", [], "Three pancakes, maple syrup."),
        ("full-breakfast", "Full Breakfast", "11.00", ["egg-style", "sides"],
         "Eggs, bacon, sausage, beans, toast."),
        ("two-eggs", "Two Eggs Any Style", "6.00", ["egg-style"], "With sourdough toast."),
        ("coffee", "Filter Coffee", "2.50", ["size", "milk"], None),
        ("latte", "Latte", "3.50", ["size", "milk"], None),
        ("orange-juice", "Fresh Orange Juice", "3.00", ["size"], None),
        ("lemonade", "Lemonade", "2.75", ["size"], None),
        ("brownie", "Chocolate Brownie", "4.00", [], None),
        ("cheesecake", "New York Cheesecake", "5.50", [], None),
    ]:
        cs.add_item(item_id, name=name, base_price=price, modifier_group_ids=groups,
                    description=description)

    cs.add_section("burgers", name="Burgers & Sandwiches",
                   item_ids=["burger-classic", "burger-veggie", "chicken-sandwich"])
    cs.add_section("salads", name="Salads", item_ids=["caesar-salad"])
    cs.add_section("mains", name="Mains", section_ids=["burgers", "salads"])
    cs.add_section("hot-drinks", name="Hot Drinks", item_ids=["coffee", "latte"])
    cs.add_section("cold-drinks", name="Cold Drinks", item_ids=["orange-juice", "lemonade"])
    cs.add_section("drinks", name="Drinks", section_ids=["hot-drinks", "cold-drinks"])
    cs.add_section("desserts", name="Desserts", item_ids=["brownie", "cheesecake"])
    cs.add_section("breakfast-plates", name="Breakfast Plates",
                   item_ids=["pancakes", "full-breakfast", "two-eggs"])

    # All Day: 11:00-22:00, late on Friday and Saturday (until midnight,
    # written as end 00:00:00 = end of day).
    all_day_hours = [(day, "11:00:00", "00:00:00" if day in ("Friday", "Saturday") else "22:00:00")
                     for day in DAYS_OF_WEEK]
    cs.add_catalog("all-day", name="All Day", section_ids=["mains", "drinks", "desserts"],
                   availability=all_day_hours, description="Lunch and dinner menu")
    cs.add_catalog("breakfast", name="Breakfast", section_ids=["breakfast-plates", "drinks"],
                   availability=[(day, "07:00:00", "11:00:00") for day in DAYS_OF_WEEK],
                   description="Served until 11am")
    return cs


_ADJECTIVES = ["Classic", "Spicy", "Smoked", "Grilled", "Crispy", "Roasted", "Garden", "House",
               "Double", "Mini", "Loaded", "Honey", "Lemon", "Garlic", "Truffle", "Sesame"]
_NOUNS = ["Burger", "Wrap", "Bowl", "Salad", "Taco", "Pizza", "Noodles", "Curry", "Sandwich",
          "Soup", "Fries", "Wings", "Dumplings", "Risotto", "Pasta", "Skewers", "Latte", "Smoothie"]
_SECTION_WORDS = ["Starters", "Mains", "Grill", "Bowls", "Sides", "Drinks", "Desserts", "Specials",
                  "Vegan", "Kids", "Sharing", "Breakfast", "Lunch", "Classics", "Seasonal"]
_GROUP_WORDS = ["Size", "Extra toppings", "Choice of side", "Sauce", "Spice level", "Bread",
                "Dressing", "Milk", "Add protein", "Cheese"]
_CATALOG_WORDS = ["All Day", "Breakfast", "Lunch", "Dinner", "Late Night", "Weekend Brunch"]


def generate_catalogset(n_items: int, *, seed: int = 0, depth: int = 3, catalogs: int = 2,
                        items_per_section: int = 25, fanout: int = 4,
                        choices_per_group: int = 4, items_per_group: int = 40,
                        nested_fraction: float = 0.25, description: bool = True,
                        store_id: str = "synthetic-store") -> Dict[str, Any]:
    """A synthetic, valid CatalogSet dict with ``n_items`` items in total.

    About one item in ``items_per_group`` starts a shared modifier group of
    ``choices_per_group`` choice items; the groups form two tiers, and
    ``nested_fraction`` of first-tier choices carry a second-tier group of
    their own (a nested modifier), which cannot form a cycle.  The rest are
    menu items, ``items_per_section`` per leaf section, under section trees
    ``depth`` levels deep with ``fanout`` children per section, split over
    ``catalogs`` catalogs with 7-day availability windows.  Same arguments,
    same output.

    >>> doc = generate_catalogset(200, seed=1)
    >>> len(doc["items"])
    200
    >>> from gettcommerce.catalog import validate_catalogset
    >>> validate_catalogset(doc)
    []
    """
    if n_items < 1:
        raise ValueError("n_items must be >= 1")
    rng = random.Random(seed)
    depth = max(1, depth)
    items: Dict[str, Any] = {}
    groups: Dict[str, Any] = {}
    sections: Dict[str, Any] = {}
    cats: Dict[str, Any] = {}

    def price() -> float:
        return round(rng.uniform(0.5, 30.0), 2)

    def make_item(item_id: str, name: str, value: float, group_ids: List[str]) -> None:
        entity: Dict[str, Any] = {"itemId": item_id, "name": name}
        if description:
            entity["description"] = f"{name} made fresh to order with seasonal ingredients."
        entity["basePrice"] = value
        entity["imageUrl"] = f"https://images.example.com/items/{item_id}.jpg"
        entity["modifierGroupIds"] = group_ids
        items[item_id] = entity

    # Modifier groups: tier 2 (leaf choices), then tier 1 (choices may nest
    # a tier-2 group).  Choice items count toward n_items.
    n_groups = max(1, n_items // max(1, items_per_group)) if n_items > choices_per_group * 2 else 0
    choices_per_group = max(1, choices_per_group)
    n_tier2 = (n_groups + 1) // 2
    group_ids: List[str] = []
    tier2: List[str] = []
    for g in range(n_groups):
        gid = f"group-{g}"
        choice_ids = []
        for c in range(choices_per_group):
            cid = f"choice-{g}-{c}"
            nested: List[str] = []
            if g >= n_tier2 and tier2 and rng.random() < nested_fraction:
                nested = [rng.choice(tier2)]
            make_item(cid, f"{rng.choice(_ADJECTIVES)} option {c + 1}",
                      0.0 if c == 0 else round(rng.uniform(0.25, 3.0), 2), nested)
            choice_ids.append(cid)
        low = rng.choice([0, 0, 1])
        groups[gid] = {"modifierGroupId": gid,
                       "name": f"{_GROUP_WORDS[g % len(_GROUP_WORDS)]} {g}",
                       "minimumAllowed": low,
                       "maximumAllowed": rng.randint(max(1, low), choices_per_group),
                       "itemIds": choice_ids}
        group_ids.append(gid)
        if g < n_tier2:
            tier2.append(gid)

    n_menu = n_items - len(items)
    menu_ids = []
    for i in range(n_menu):
        iid = f"item-{i}"
        k = rng.choice([0, 0, 1, 1, 2, 3]) if group_ids else 0
        chosen = rng.sample(group_ids, min(k, len(group_ids)))
        make_item(iid, f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {i}", price(), chosen)
        menu_ids.append(iid)

    # Leaf sections hold the menu items; parents group `fanout` children,
    # depth - 1 times, so the trees are `depth` levels deep.
    n_leaves = max(1, -(-len(menu_ids) // max(1, items_per_section)))
    level: List[str] = []
    for s in range(n_leaves):
        sid = f"section-{depth - 1}-{s}"
        sections[sid] = {"sectionId": sid,
                         "name": f"{_SECTION_WORDS[s % len(_SECTION_WORDS)]} {s}",
                         "sectionIds": [],
                         "itemIds": menu_ids[s * items_per_section:(s + 1) * items_per_section]}
        level.append(sid)
    for d in range(depth - 2, -1, -1):
        parents = []
        for p in range(0, len(level), max(1, fanout)):
            sid = f"section-{d}-{p // max(1, fanout)}"
            sections[sid] = {"sectionId": sid,
                             "name": f"{_SECTION_WORDS[(p + d) % len(_SECTION_WORDS)]} {d}.{p}",
                             "sectionIds": level[p:p + max(1, fanout)], "itemIds": []}
            parents.append(sid)
        level = parents

    # Catalogs share the top-level sections round-robin; every catalog gets
    # at least one, and each is open every day (some all day).
    n_catalogs = max(1, catalogs)
    for c in range(n_catalogs):
        cid = f"catalog-{c}"
        tops = level[c::n_catalogs] or [level[c % len(level)]]
        if rng.random() < 0.3:
            windows = [{"dayOfWeek": day, "start": "00:00:00", "end": "00:00:00"}
                       for day in DAYS_OF_WEEK]
        else:
            start = rng.randint(6, 12)
            end = rng.randint(start + 2, 23)
            windows = [{"dayOfWeek": day, "start": f"{start:02d}:00:00", "end": f"{end:02d}:30:00"}
                       for day in DAYS_OF_WEEK]
        cats[cid] = {"catalogId": cid, "name": _CATALOG_WORDS[c % len(_CATALOG_WORDS)],
                     "sectionIds": tops, "availability": windows}

    return {"catalogSetId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "storeId": store_id, "catalogs": cats, "sections": sections, "items": items,
            "modifierGroups": groups}


def section_chain(depth: int, *, cycle: bool = False) -> Dict[str, Any]:
    """A CatalogSet whose sections nest ``depth`` levels deep in one chain
    (optionally closed into a cycle): a stress case for the validator."""
    sections = {}
    for i in range(depth):
        sid = f"s{i}"
        nxt: List[str] = [f"s{i + 1}"] if i + 1 < depth else (["s0"] if cycle else [])
        sections[sid] = {"sectionId": sid, "name": f"Level {i}", "sectionIds": nxt,
                         "itemIds": ["i0"] if i + 1 == depth else []}
    return {"catalogSetId": "chain", "storeId": "chain-store",
            "catalogs": {"c": {"catalogId": "c", "name": "Chain", "sectionIds": ["s0"],
                               "availability": [{"dayOfWeek": d, "start": "00:00:00",
                                                 "end": "00:00:00"} for d in DAYS_OF_WEEK]}},
            "sections": sections,
            "items": {"i0": {"itemId": "i0", "name": "Bottom", "basePrice": 1,
                             "modifierGroupIds": []}},
            "modifierGroups": {}}

