"""gettcommerce/catalog/server.py: CatalogSet.serve() and CatalogServer."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from catalog_helpers import small

from gettcommerce._samples import sample_catalogset
from gettcommerce.catalog import validate_catalogset


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
