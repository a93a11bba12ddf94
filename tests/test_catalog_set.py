"""gettcommerce.catalog.CatalogSet: loading, the builder's refusals, money as
Decimal, check(), rendering (text, HTML tree, validation report) and serve().
"""
from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from decimal import Decimal
from html.parser import HTMLParser

import pytest

import gettcommerce as gett
from gettcommerce._samples import generate_catalogset, sample_catalogset, section_chain
from gettcommerce.catalog import (
    DAYS_OF_WEEK,
    CatalogIssue,
    CatalogSet,
    ValidationReport,
    validate_catalogset,
)
from gettcommerce.errors import CatalogValidationError, GettError, InvalidRequestError


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


# ---- public names -----------------------------------------------------------

def test_public_names_resolve_from_the_package():
    assert gett.CatalogSet is CatalogSet
    assert gett.CatalogIssue is CatalogIssue
    assert gett.validate_catalogset is validate_catalogset


def test_issue_is_frozen_and_readable():
    (issue,) = validate_catalogset(b"[]")
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.code = "x"  # type: ignore[misc]
    assert repr(issue).startswith("CatalogIssue('wrong_type', 'error', path='', message=")
    assert issue.is_error and issue.to_dict()["code"] == "wrong_type"


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


# ---- rendering ----------------------------------------------------------------------

class _TreeParser(HTMLParser):
    """Records every rendered entity with the chain of entities around it."""

    VOID = {"br", "hr", "img", "meta", "input"}

    def __init__(self):
        super().__init__()
        self.stack = []          # (tag, entity or None)
        self.nodes = []          # (kind, id, ancestors)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        entity = None
        for cls in (attrs.get("class") or "").split():
            if cls in ("gett-catalog", "gett-section", "gett-item", "gett-group"):
                entity = (cls[5:], attrs.get("data-id"))
        if entity:
            ancestors = tuple(e for _, e in self.stack if e)
            self.nodes.append((entity[0], entity[1], ancestors))
        self.stack.append((tag, entity))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break


def _expected_paths(doc):
    """Every (kind, id, ancestors) the tree must show, walking the data."""
    out = []

    def walk(kind, entity_id, ancestors):
        out.append((kind, entity_id, ancestors))
        here = ancestors + ((kind, entity_id),)
        if kind == "catalog":
            children = [("section", s) for s in doc["catalogs"][entity_id]["sectionIds"]]
        elif kind == "section":
            sec = doc["sections"][entity_id]
            children = [("section", s) for s in sec["sectionIds"]] + \
                       [("item", i) for i in sec["itemIds"]]
        elif kind == "item":
            children = [("group", g) for g in doc["items"][entity_id]["modifierGroupIds"]]
        else:
            children = [("item", i) for i in doc["modifierGroups"][entity_id]["itemIds"]]
        for child in children:
            walk(child[0], child[1], here)
    for cid in doc["catalogs"]:
        walk("catalog", cid, ())
    return out


def test_html_tree_structure_of_the_sample():
    cs = sample_catalogset()
    page = cs._repr_html_()
    parser = _TreeParser()
    parser.feed(page)
    doc = json.loads(cs.to_json())
    assert sorted(parser.nodes) == sorted(_expected_paths(doc))
    # Every section and item name is shown, and the deepest nesting is
    # catalog > section > section > item > group > item > group > item.
    for entity in list(doc["sections"].values()) + list(doc["items"].values()):
        assert entity["name"].replace("&", "&amp;") in page
    assert max(len(a) for _, _, a in parser.nodes) == 7
    fries_dips = [n for n in parser.nodes if n[1] == "dip-aioli"][0]
    assert [e[0] for e in fries_dips[2]] == ["catalog", "section", "section", "item", "group",
                                            "item", "group"]
    assert page.count("<details") == page.count("</details>")
    assert "<summary>" in page and "9.50" in page and "min 1, max 1" in page


def test_html_availability_table_per_catalog():
    page = sample_catalogset()._repr_html_()
    assert page.count('class="gett-availability"') == 2
    for day in DAYS_OF_WEEK:
        assert f"<th>{day[:3]}</th>" in page
    assert "07:00-11:00" in page and "11:00-24:00" in page


def test_html_escapes_names_and_marks_missing_and_cycles():
    doc = json.loads(small().to_json())
    doc["items"]["burger"]["name"] = "<script>alert(1)</script>"
    doc["sections"]["mains"]["itemIds"].append("ghost")
    doc["sections"]["mains"]["sectionIds"] = ["mains"]
    page = CatalogSet.from_dict(doc)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "missing item" in page and 'data-cycle="1"' in page


def test_text_tree():
    text = sample_catalogset().tree()
    assert "All Day [catalog all-day]" in text
    assert "│   │   ├── Classic Burger  9.50" in text
    assert "Choice of side [choose 1 (min 1, max 1)]" in text
    assert "Sun 07:00-11:00" in text
    assert "9.50" not in sample_catalogset().tree(prices=False)


def test_rendering_a_deep_chain_is_cut_not_crashed():
    cs = CatalogSet.from_dict(section_chain(5000))
    assert "deeper levels not shown" in cs.tree()
    assert "deeper levels not shown" in cs._repr_html_()


def test_validation_report_html_lists_paths():
    cs = small()
    cs.sections["mains"]["itemIds"].append("ghost")
    report = cs.validation_report()
    assert isinstance(report, ValidationReport) and not report.ok and len(report) == 1
    page = report._repr_html_()
    assert "<table" in page and "/sections/mains/itemIds/1" in page
    assert "dangling_reference" in page and "1 error(s), 0 warning(s)" in page
    assert "valid" in small().validation_report()._repr_html_()
    assert "dangling_reference" in str(report)


# ---- serve() -------------------------------------------------------------------------

def _get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers["Content-Type"], response.read()


def test_serve_publishes_current_state_and_updates():
    cs = small()
    with cs.serve() as server:
        assert str(server) == server.url and server.url.startswith("http://127.0.0.1:")
        status, ctype, body = _get(server.url)
        assert status == 200 and ctype == "application/json" and body == cs.to_json()
        cs.add_item("fries", name="Fries", base_price="2.00")       # live edits show up
        assert b'"fries"' in _get(server.url)[2]
        other = sample_catalogset()
        server.update(other)
        assert _get(server.url)[2] == other.to_json()
        assert validate_catalogset(_get(server.url)[2]) == []
        assert server.hits == 4
        url = server.url
    with pytest.raises(urllib.error.URLError):
        _get(url)


def test_serve_answers_500_when_the_menu_cannot_be_json():
    cs = small()
    cs.items["burger"]["basePrice"] = float("inf")
    with cs.serve() as server:
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(server.url)
    assert info.value.code == 500 and b"invalid_price" in info.value.read()


def test_generated_catalog_loads_into_catalog_set():
    cs = CatalogSet.from_dict(generate_catalogset(2000, seed=2))
    assert cs.stats["items"] == 2000 and cs.validate() == []


def test_docstring_examples_run():
    import doctest

    import gettcommerce._samples
    import gettcommerce.catalog
    for module in (gettcommerce.catalog, gettcommerce._samples):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0
