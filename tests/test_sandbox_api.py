"""gettcommerce/sandbox/api.py and state.py over plain HTTP: limits and field rules of issue 16."""
from __future__ import annotations

import pytest

from gettcommerce.sandbox import RateLimits, Sandbox
from gettcommerce.sandbox.responses import MAX_JSON_DEPTH
from sandbox_helpers import Api

S = "/v1/commerce/stores"
OB = "/v1/commerce/onboarding/stores"


def test_default_rate_limits_are_gett_sandbox_limits():
    # Gett's sandbox allows 5x production: 5000 reads and 500 writes a minute per key.
    with Sandbox() as sb:
        store_id = sb.create_store(partner_store_id="p", name="n")
        api = Api(sb.url, sb.api_key)
        assert api.get(f"{S}/{store_id}").header("X-RateLimit-Remaining") == "4999"
        assert api.post(f"{S}/{store_id}/status", {"status": "online"}).header("X-RateLimit-Remaining") == "499"
        assert sb.state()["rateLimits"] == {"read": 5000, "write": 500, "window": 60.0, "enforced": True}
    assert RateLimits.from_setting(0.2) == RateLimits(read=1000, write=100)       # production's
    assert RateLimits.from_setting(False).enforced is False
    with Sandbox(rate_limits=0.001) as sb:                                        # still scalable
        store_id = sb.create_store(partner_store_id="p", name="n")
        api = Api(sb.url, sb.api_key)
        assert [api.get(f"{S}/{store_id}").status for _ in range(6)] == [200] * 5 + [429]


@pytest.mark.parametrize("path", [f"{S}/STORE/status", "/_sandbox/faults", OB])
def test_json_nested_200000_deep_is_400_naming_the_limit(sandbox, path):
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    api = Api(sandbox.url, sandbox.api_key)
    for raw in (b"[" * 200000 + b"]" * 200000, b'{"a":' * 200000 + b"1" + b"}" * 200000,
                b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)):
        resp = api.post(path.replace("STORE", store_id), raw=raw)
        assert resp.status == 400, resp
        assert resp.json["errorCode"] == "INVALID_REQUEST" and f"limit is {MAX_JSON_DEPTH}" in resp.json["detail"]
    assert sandbox.errors == []
    shallow = api.post(path.replace("STORE", store_id), raw=b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert shallow.status in (400, 422)   # parsed, then refused for what it is: not an object
    assert "limit is" not in shallow.json["detail"]


def test_an_empty_description_is_accepted_like_the_sdk_does(sandbox):
    store_id = sandbox.create_store(partner_store_id="p", name="n", description="Old")
    api = Api(sandbox.url, sandbox.api_key)
    updated = api.put(f"{S}/{store_id}", {"description": ""})
    assert updated.status == 200 and updated.json["description"] == ""
    assert api.get(f"{S}/{store_id}").json["description"] == ""
    registered = api.post(OB, {"partnerStoreId": "ps-e", "name": "E", "description": "",
                               "catalogCallbackUrl": "http://127.0.0.1:9/c.json",
                               "webhookUrl": "http://127.0.0.1:9/hooks"})
    assert registered.status == 201, registered
    # Blank names and whitespace-only descriptions are still refused, naming the field.
    refused = api.put(f"{S}/{store_id}", {"description": "   ", "name": ""})
    assert refused.status == 422
    assert sorted(e["jsonPath"] for e in refused.json["errors"]) == ["$.description", "$.name"]
