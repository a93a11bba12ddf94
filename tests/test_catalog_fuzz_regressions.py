"""Fuzz seeds, former crashers and adversarial shapes, through the Python binding.

Every file in fuzz/corpus/catalog/ (the libFuzzer seeds) and every case below
must validate without crashing and keep the issue contract.  Inputs found
by fuzz/catalog_fuzz.c that once crashed belong in REGRESSIONS.
"""
from __future__ import annotations

import json
import pathlib

import pytest

from gettcommerce.catalog import validate_catalogset

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "fuzz" / "corpus" / "catalog"

REGRESSIONS = [
    # No crasher found yet in the libFuzzer runs; shapes that stress the
    # same code paths are listed instead.
    b'{"catalogs": {"c": {"availability": [{"dayOfWeek": "Friday", "start": "22:00:00"}]}}}',
    b'{"sections": {"": {"sectionId": "", "name": "", "sectionIds": [""]}}}',
    b'{"items": {"a\\u0000b": {"itemId": "a", "name": "x", "basePrice": 1}}}',
    b'{"modifierGroups": {"g": {"minimumAllowed": 1e308, "maximumAllowed": -1e308}}}',
    b'{"catalogs": {"c": {"sectionIds": {}}}, "catalogs": []}',
    b'{"x": 1}\x00garbage',
    b'\xef\xbb\xbf{}',
    b'{"catalogs": {"c": {"availability": [{"start": "\xff\xff:00:00", "end": 0}]}}}',
]


def _check(issues):
    for issue in issues:
        assert issue.code and issue.message
        assert issue.severity in ("error", "warning")
        assert issue.path == "" or issue.path.startswith("/")
    if any(i.code == "invalid_json" for i in issues):
        assert len(issues) == 1


@pytest.mark.parametrize("path", sorted(CORPUS.iterdir()), ids=lambda p: p.name)
def test_fuzz_seed(path):
    _check(validate_catalogset(path.read_bytes()))


@pytest.mark.parametrize("data", REGRESSIONS)
def test_regression(data):
    _check(validate_catalogset(data))


def _doc(**maps):
    doc = {"catalogSetId": "x", "storeId": "s", "catalogs": {}, "sections": {}, "items": {},
           "modifierGroups": {}}
    doc.update(maps)
    return doc


def test_long_ids_are_cut_in_messages_but_not_in_paths():
    long_id = "é" * 100_000
    doc = _doc(items={long_id: {"itemId": long_id, "name": "x", "basePrice": -1}})
    issues = validate_catalogset(doc)
    price = [i for i in issues if i.code == "invalid_price"][0]
    assert price.path == f"/items/{long_id}/basePrice"
    assert len(price.message) < 400 and "..." in price.message


def test_a_hundred_thousand_issues_are_counted_past_the_first_thousand():
    items = {f"i{k}": {"itemId": f"i{k}", "name": "x", "basePrice": -1} for k in range(100_000)}
    issues = validate_catalogset(_doc(items=items))
    assert sum(i.code == "invalid_price" for i in issues) == 1000
    assert [i.path for i in issues[:1000]] == [f"/items/i{k}/basePrice" for k in range(1000)]
    assert issues[-1].code == "too_many_issues" and issues[-1].is_error
    assert "has 200000 issues in total" in issues[-1].message   # + 100k unreachable warnings


def test_cycles_through_escaped_keys():
    doc = _doc(sections={"a/b": {"sectionId": "a/b", "name": "A", "sectionIds": ["c~d"]},
                         "c~d": {"sectionId": "c~d", "name": "C", "sectionIds": ["a/b"]}})
    cycle = [i for i in validate_catalogset(doc) if i.code == "section_cycle"]
    assert [i.path for i in cycle] == ["/sections/c~0d/sectionIds/0"]


def test_many_cycles_share_nodes_without_blowup():
    # A complete digraph on 300 sections: every back edge reported once.
    n = 300
    sections = {f"s{k}": {"sectionId": f"s{k}", "name": "S",
                          "sectionIds": [f"s{j}" for j in range(n) if j != k]} for k in range(n)}
    issues = validate_catalogset(_doc(sections=sections))
    cycles = [i for i in issues if i.code == "section_cycle"]
    assert len(cycles) == 1000 and len({i.path for i in cycles}) == len(cycles)
    total = n * (n - 1) // 2 + n        # every back edge, and n unreachable sections
    assert issues[-1].code == "too_many_issues"
    assert f"has {total} issues in total" in issues[-1].message


def test_dict_nesting_deeper_than_json_allows_is_a_value_error():
    deep = []
    for _ in range(1500):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 1000 levels"):
        validate_catalogset(_doc(extra=deep))


def test_str_with_surrogates_is_refused_cleanly():
    with pytest.raises(UnicodeEncodeError):
        validate_catalogset('{"storeId": "\ud800"}')


def test_json_text_with_nul_inside_a_string():
    issues = validate_catalogset(json.dumps(_doc(storeId="a\u0000b")).encode())
    assert issues == []
