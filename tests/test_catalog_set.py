"""gettcommerce/catalog/set.py: CatalogSet loading, the builder (whose
refusals come from the C validator), money as Decimal, to_json and check().
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from catalog_helpers import small

import gettcommerce as gett
from gettcommerce._samples import generate_catalogset, sample_catalogset
from gettcommerce.catalog import (
    DAYS_OF_WEEK,
    CatalogIssue,
    CatalogSet,
    validate_catalogset,
)
from gettcommerce.errors import CatalogValidationError, GettError, InvalidRequestError


# ---- public names -----------------------------------------------------------

def test_public_names_resolve_from_the_package():
    assert gett.CatalogSet is CatalogSet
    assert gett.CatalogIssue is CatalogIssue
    assert gett.validate_catalogset is validate_catalogset


# ---- builder ----------------------------------------------------------------

def test_builder_output_validates_and_has_wire_shape():
    cs = small()
    assert cs.validate() == []
    doc = json.loads(cs.to_json())
    assert doc["catalogSetId"] == "set-1" and doc["storeId"] == "store-9"
    assert doc["items"]["burger"] == {"itemId": "burger", "name": "Burger", "basePrice": 9.5,
                                      "modifierGroupIds": ["extras"]}
    assert doc["modifierGroups"]["extras"] == {
        "modifierGroupId": "extras", "name": "Extras", "minimumAllowed": 0,
        "maximumAllowed": 1, "itemIds": ["cheese"]}
    assert doc["catalogs"]["menu"]["availability"] == [
        {"dayOfWeek": "Monday", "start": "09:00:00", "end": "17:00:00"}]
    assert cs.stats == {"catalogs": 1, "sections": 1, "items": 2, "modifierGroups": 1}


def test_catalog_set_id_is_generated_when_absent():
    a, b = CatalogSet("s"), CatalogSet("s")
    assert a.catalog_set_id != b.catalog_set_id
    assert len(a.catalog_set_id) == 36 and a.catalog_set_id[14] == "4"


@pytest.mark.parametrize("call,field,value", [
    (lambda cs: cs.add_section("s2", name="S", item_ids=["ghost"]), "item_ids", "ghost"),
    (lambda cs: cs.add_section("s2", name="S", section_ids=["nowhere"]), "section_ids", "nowhere"),
    (lambda cs: cs.add_catalog("c2", name="C", section_ids=["mains", "x"]), "section_ids", "x"),
    (lambda cs: cs.add_item("i2", name="I", base_price=1, modifier_group_ids=["g?"]),
     "modifier_group_ids", "g?"),
    (lambda cs: cs.add_modifier_group("g2", name="G", item_ids=["cheese", "nope"]),
     "item_ids", "nope"),
])
def test_builder_refuses_dangling_references(call, field, value):
    cs = small()
    before = cs.to_json()
    with pytest.raises(InvalidRequestError) as info:
        call(cs)
    assert info.value.field == field and info.value.value == value
    assert repr(value) in str(info.value) and "does not exist" in str(info.value)
    assert cs.to_json() == before  # nothing half-added


@pytest.mark.parametrize("call,field", [
    (lambda cs: cs.add_item("burger", name="Again", base_price=1), "item_id"),
    (lambda cs: cs.add_modifier_group("extras", name="G", item_ids=["cheese"]), "modifier_group_id"),
    (lambda cs: cs.add_section("mains", name="S"), "section_id"),
    (lambda cs: cs.add_catalog("menu", name="C", section_ids=[]), "catalog_id"),
    (lambda cs: cs.add_section("s2", name="S", item_ids=["burger", "burger"]), "item_ids"),
])
def test_builder_refuses_duplicate_ids(call, field):
    with pytest.raises(InvalidRequestError) as info:
        call(small())
    assert info.value.field == field


@pytest.mark.parametrize("price", [-1, "-0.01", "abc", float("nan"), float("inf"), True, None, [1]])
def test_builder_refuses_bad_prices(price):
    with pytest.raises(InvalidRequestError) as info:
        CatalogSet("s").add_item("i", name="I", base_price=price)
    assert info.value.field == "base_price"


@pytest.mark.parametrize("window,fragment", [
    (("Funday", "09:00:00", "10:00:00"), "dayOfWeek"),
    (("Monday", "9:00", "10:00:00"), "start"),
    (("Monday", "09:00:00", "24:00:00"), "end"),
    (("Friday", "22:00:00", "02:00:00"), "('Saturday', '00:00:00', '02:00:00')"),
    ("Monday 9-5", "dict"),
])
def test_builder_refuses_bad_availability(window, fragment):
    cs = small()
    with pytest.raises(InvalidRequestError) as info:
        cs.add_catalog("c2", name="C", section_ids=["mains"], availability=[window])
    assert info.value.field == "availability" and fragment in str(info.value)


def test_builder_refuses_bad_limits():
    cs = small()
    with pytest.raises(InvalidRequestError, match="maximum_allowed"):
        cs.add_modifier_group("g", name="G", item_ids=["cheese"], minimum_allowed=1,
                              maximum_allowed=0)
    with pytest.raises(InvalidRequestError, match="exceeds the 1 choices"):
        cs.add_modifier_group("g", name="G", item_ids=["cheese"], minimum_allowed=2,
                              maximum_allowed=2)
    with pytest.raises(InvalidRequestError) as info:
        cs.add_modifier_group("g", name="G", item_ids=["cheese"], minimum_allowed=-1)
    assert info.value.field == "minimum_allowed"
    assert isinstance(info.value, ValueError) and isinstance(info.value, GettError)


def test_builder_accepts_availability_dicts_and_whole_days():
    cs = small()
    cs.add_catalog("late", name="Late", section_ids=["mains"], availability=[
        {"dayOfWeek": "Friday", "start": "22:00:00", "end": "00:00:00"},
        {"dayOfWeek": "Saturday", "start": "00:00:00", "end": "02:00:00"}])
    assert cs.validate() == []


# ---- loading, money, output ----------------------------------------------------

def test_from_json_exposes_prices_as_decimal_and_round_trips():
    raw = sample_catalogset().to_json()
    cs = CatalogSet.from_json(raw)
    assert cs.items["latte"]["basePrice"] == Decimal("3.5")
    assert isinstance(cs.items["size-large"]["basePrice"], Decimal)
    assert json.loads(cs.to_json()) == json.loads(raw)
    assert CatalogSet.from_json(raw.decode()).stats == cs.stats


def test_from_file_and_from_dict(tmp_path):
    path = tmp_path / "menu.json"
    path.write_bytes(small().to_json())
    cs = CatalogSet.from_file(path)
    assert cs.catalog_set_id == "set-1" and cs.store_id == "store-9"
    doc = json.loads(path.read_bytes())
    again = CatalogSet.from_dict(doc)
    doc["items"]["burger"]["name"] = "changed"   # from_dict copied
    assert again.items["burger"]["name"] == "Burger"


def test_to_dict_is_a_copy():
    cs = small()
    doc = cs.to_dict()
    doc["items"]["burger"]["modifierGroupIds"].append("x")
    assert cs.items["burger"]["modifierGroupIds"] == ["extras"]
    assert doc["items"]["burger"]["basePrice"] == Decimal("9.50")


def test_from_json_refuses_non_json_with_the_issue():
    with pytest.raises(CatalogValidationError) as info:
        CatalogSet.from_json(b'{"catalogs": ')
    assert [i.code for i in info.value.issues] == ["invalid_json"]
    with pytest.raises(CatalogValidationError) as info:
        CatalogSet.from_json(b"[1]")
    assert info.value.issues[0].code == "wrong_type"


def test_loaded_catalog_keeps_missing_top_level_fields_missing():
    doc = json.loads(small().to_json())
    del doc["storeId"]
    cs = CatalogSet.from_dict(doc)
    assert [(i.code, i.path) for i in cs.validate()] == [("missing_field", "/storeId")]
    assert "storeId" not in json.loads(cs.to_json())
    del doc["modifierGroups"]
    cs = CatalogSet.from_dict(doc)
    assert ("missing_field", "/modifierGroups") in [(i.code, i.path) for i in cs.validate()]
    cs.add_item("cheese2", name="Cheese", base_price=1)
    cs.add_modifier_group("extras", name="Extras", item_ids=["cheese2"])
    assert "modifierGroups" in json.loads(cs.to_json())


def test_unknown_fields_survive_a_round_trip():
    doc = json.loads(small().to_json())
    doc["currency"] = "USD"
    doc["items"]["burger"]["calories"] = 640
    out = json.loads(CatalogSet.from_dict(doc).to_json())
    assert out["currency"] == "USD" and out["items"]["burger"]["calories"] == 640


def test_to_json_refuses_a_nan_price_with_the_issue():
    cs = small()
    cs.items["burger"]["basePrice"] = float("nan")
    with pytest.raises(CatalogValidationError) as info:
        cs.to_json()
    assert ("invalid_price", "/items/burger/basePrice") in [(i.code, i.path)
                                                            for i in info.value.issues]


# ---- check() ----------------------------------------------------------------------

def test_check_raises_with_issues_and_paths():
    cs = small()
    cs.sections["mains"]["itemIds"].append("ghost")
    cs.items["cheese"]["basePrice"] = Decimal("-1")
    with pytest.raises(CatalogValidationError) as info:
        cs.check()
    err = info.value
    assert {(i.code, i.path) for i in err.errors} == {
        ("dangling_reference", "/sections/mains/itemIds/1"),
        ("invalid_price", "/items/cheese/basePrice")}
    assert "2 errors" in str(err) and "/sections/mains/itemIds/1" in str(err)


def test_check_returns_warnings_unless_they_count_as_errors():
    cs = small()
    cs.add_item("orphan", name="Orphan", base_price=1)
    warnings = cs.check()
    assert [(w.code, w.path) for w in warnings] == [("unreachable", "/items/orphan")]
    with pytest.raises(CatalogValidationError):
        cs.check(warnings_as_errors=True)


def test_generated_catalog_loads_into_catalog_set():
    cs = CatalogSet.from_dict(generate_catalogset(2000, seed=2))
    assert cs.stats["items"] == 2000 and cs.validate() == []


def test_docstring_examples_run():
    import doctest

    import gettcommerce._samples
    import gettcommerce.catalog
    import gettcommerce.catalog.set
    for module in (gettcommerce.catalog, gettcommerce.catalog.set, gettcommerce._samples):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0


# ---- the builder asks the validator ---------------------------------------------

def _doc_with(map_name, entity):
    """small()'s document with one more entity, written by hand."""
    doc = small().to_dict()
    doc[map_name][entity[{"catalogs": "catalogId", "sections": "sectionId", "items": "itemId",
                          "modifierGroups": "modifierGroupId"}[map_name]]] = entity
    return doc


# (builder call, the same entity as wire JSON); valid and invalid alike.
AGREEMENT = [
    (lambda cs: cs.add_item("i", name="I", base_price=0),
     ("items", {"itemId": "i", "name": "I", "basePrice": 0})),
    (lambda cs: cs.add_item("i", name="I", base_price="-0.01"),
     ("items", {"itemId": "i", "name": "I", "basePrice": -0.01})),
    (lambda cs: cs.add_item("i", name="", base_price=1),
     ("items", {"itemId": "i", "name": "", "basePrice": 1})),
    (lambda cs: cs.add_item("i", name="I", base_price=1, image_url=7),
     ("items", {"itemId": "i", "name": "I", "basePrice": 1, "imageUrl": 7})),
    (lambda cs: cs.add_modifier_group("g", name="G", item_ids=["cheese"], maximum_allowed=1.0),
     ("modifierGroups", {"modifierGroupId": "g", "name": "G", "itemIds": ["cheese"],
                         "maximumAllowed": 1.0})),
    (lambda cs: cs.add_modifier_group("g", name="G", item_ids=["cheese"], minimum_allowed=0.5),
     ("modifierGroups", {"modifierGroupId": "g", "name": "G", "itemIds": ["cheese"],
                         "minimumAllowed": 0.5})),
    (lambda cs: cs.add_modifier_group("g", name="G", item_ids=["cheese", "burger"],
                                      minimum_allowed=2),
     ("modifierGroups", {"modifierGroupId": "g", "name": "G", "itemIds": ["cheese", "burger"],
                         "minimumAllowed": 2})),
    (lambda cs: cs.add_catalog("c", name="C", section_ids=["mains"],
                               availability=[("Sunday", "00:00:00", "23:59:59")]),
     ("catalogs", {"catalogId": "c", "name": "C", "sectionIds": ["mains"], "availability": [
         {"dayOfWeek": "Sunday", "start": "00:00:00", "end": "23:59:59"}]})),
    (lambda cs: cs.add_catalog("c", name="C", section_ids=["mains"],
                               availability=[("Monday", "12:00:00", "11:59:59")]),
     ("catalogs", {"catalogId": "c", "name": "C", "sectionIds": ["mains"], "availability": [
         {"dayOfWeek": "Monday", "start": "12:00:00", "end": "11:59:59"}]})),
    (lambda cs: cs.add_catalog("c", name="C", section_ids=["mains"],
                               availability=[("Monday", "12:00:00", "１２:00:00")]),
     ("catalogs", {"catalogId": "c", "name": "C", "sectionIds": ["mains"], "availability": [
         {"dayOfWeek": "Monday", "start": "12:00:00", "end": "１２:00:00"}]})),
    (lambda cs: cs.add_catalog("c", name="C", section_ids=["mains"],
                               availability=[{"dayOfWeek": "Monday", "start": "09:00:00"}]),
     ("catalogs", {"catalogId": "c", "name": "C", "sectionIds": ["mains"], "availability": [
         {"dayOfWeek": "Monday", "start": "09:00:00"}]})),
]


@pytest.mark.parametrize("call,wire", AGREEMENT, ids=range(len(AGREEMENT)))
def test_builder_refuses_exactly_what_the_validator_calls_an_error(call, wire):
    errors = [i for i in validate_catalogset(_doc_with(*wire)) if i.is_error]
    cs = small()
    if not errors:
        call(cs)
        assert json.loads(cs.to_json())[wire[0]][next(iter(wire[1].values()))]
        return
    with pytest.raises(InvalidRequestError) as info:
        call(cs)
    # The refusal carries the validator's own words for the first error.
    assert errors[0].message in str(info.value)
    assert info.value.field == _python_field(errors[0].path)


def _python_field(path):
    field = path.split("/")[3]
    return "".join("_" + c.lower() if c.isupper() else c for c in field)


def test_builder_refusal_names_argument_and_value_and_adds_nothing():
    cs = small()
    before = cs.to_json()
    with pytest.raises(InvalidRequestError) as info:
        cs.add_catalog("late", name="Late", section_ids=["mains"],
                       availability=[("Monday", "09:00:00", "17:00:00"),
                                     ("Saturday", "22:30:00", "01:00:00")])
    err = info.value
    assert err.field == "availability" and err.value == "01:00:00"
    assert str(err).startswith("availability[1].end: ")
    assert f"({DAYS_OF_WEEK[0]!r}, '00:00:00', '01:00:00')" in str(err)   # Saturday -> Sunday
    assert cs.to_json() == before and "late" not in cs.catalogs


def test_builder_refuses_a_value_json_cannot_carry_where_it_is_written():
    cs = small()
    with pytest.raises(InvalidRequestError) as info:
        cs.add_item("i", name="I", base_price=1, tags={1, 2})
    assert info.value.field == "tags" and "i" not in cs.items
    with pytest.raises(InvalidRequestError) as info:
        cs.add_item("i", name="I", base_price=Decimal("sNaN"))
    assert info.value.field == "base_price"


def test_builder_checks_only_what_it_adds():
    # A loaded menu with an error elsewhere: adding a valid entity still works,
    # and the existing error is still reported by validate().
    doc = small().to_dict()
    doc["items"]["cheese"]["basePrice"] = -1
    cs = CatalogSet.from_dict(doc)
    cs.add_modifier_group("more", name="More", item_ids=["cheese"])
    assert [(i.code, i.path) for i in cs.validate() if i.is_error] == [
        ("invalid_price", "/items/cheese/basePrice")]
