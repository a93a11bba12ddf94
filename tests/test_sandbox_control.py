"""gettcommerce/sandbox/control.py: the control plane under /_sandbox/ (no API key)."""
from __future__ import annotations

import json

from sandbox_helpers import Api, assert_problem, store_id  # noqa: F401 (fixture)

S = "/v1/commerce/stores"


def test_control_plane_faults_state_and_reset(sandbox, store_id):
    control = Api(sandbox.url, None)
    created = control.post("/_sandbox/faults", {"match": "GET /v1/commerce/stores", "times": 1, "status": 500})
    assert created.status == 201 and created.json["remaining"] == 1
    assert control.get("/_sandbox/faults").json["faults"][0]["status"] == 500
    assert_problem(control.post("/_sandbox/faults", {"match": "*", "action": "explode"}), 400,
                   "INVALID_REQUEST")
    api = Api(sandbox.url, sandbox.api_key)
    assert_problem(api.get(S), 500, "INTERNAL_ERROR", "server_error")
    state = control.get("/_sandbox/state").json
    (partner,) = state["partners"].values()
    assert partner["stores"][0]["storeId"] == store_id
    assert state["requestCounts"]["GET /v1/commerce/stores"] == 1
    assert sandbox.api_key not in json.dumps(state)
    assert control.post("/_sandbox/reset").status == 204
    assert api.get(S).json["totalCount"] == 0
    assert control.delete("/_sandbox/faults").status == 204
