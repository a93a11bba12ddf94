"""gettcommerce/catalog/render.py: the text tree, the HTML tree and the
validation report's HTML table, on valid and broken menus."""
from __future__ import annotations

import json
from html.parser import HTMLParser

from catalog_helpers import small

from gettcommerce._samples import sample_catalogset, section_chain
from gettcommerce.catalog import DAYS_OF_WEEK, CatalogSet, ValidationReport


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
