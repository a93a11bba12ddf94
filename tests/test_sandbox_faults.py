"""gettcommerce/sandbox/faults.py and fault_actions.py: injected faults are
validated when injected (400 naming the field), so none can crash a request."""
from __future__ import annotations

import http.client
import json
import time

import pytest

from gettcommerce.sandbox.faults import FaultError
from sandbox_helpers import Api, api, assert_problem, store_id  # noqa: F401 (fixtures)

S = "/v1/commerce/stores"


# --- what a fault does ------------------------------------------------------------
def test_fault_status_for_the_next_n_matching_requests(sandbox, api, store_id):
    sandbox.inject_fault(f"GET {S}/*", times=2, status=503, retry_after=7)
    for _ in range(2):
        resp = api.get(f"{S}/{store_id}")
        body = assert_problem(resp, 503, "SERVICE_UNAVAILABLE", "availability")
        assert body["retryAfter"] == 7 and resp.header("Retry-After") == "7" and body["retryable"] is True
    assert api.get(f"{S}/{store_id}").status == 200
    assert api.get(S).status == 200                       # the glob needs the trailing segment
    assert sandbox.request_count(f"GET {S}/*") == 3


def test_fault_custom_problem_and_delay(sandbox, api, store_id):
    sandbox.inject_fault(f"POST {S}/*/status", status=409, problem={"detail": "busy elsewhere"}, delay=0.2)
    started = time.monotonic()
    body = assert_problem(api.post(f"{S}/{store_id}/status", {"status": "online"}), 409, "CONFLICT")
    assert time.monotonic() - started >= 0.2 and body["detail"] == "busy elsewhere"
    sandbox.inject_fault("GET *", delay=0.2)
    started = time.monotonic()
    assert api.get(f"{S}/{store_id}").status == 200 and time.monotonic() - started >= 0.2


@pytest.mark.parametrize("action", ["close_before", "close_mid_body"])
def test_fault_closing_the_connection(sandbox, store_id, action):
    sandbox.inject_fault(f"GET {S}/{store_id}", action=action)
    api = Api(sandbox.url, sandbox.api_key)
    api.conn.request("GET", f"{S}/{store_id}", headers={"Authorization": f"Bearer {sandbox.api_key}"})
    with pytest.raises((http.client.HTTPException, OSError)):
        api.conn.getresponse().read()
    api.conn.close()
    assert Api(sandbox.url, sandbox.api_key).get(f"{S}/{store_id}").status == 200


def test_fault_invalid_json_and_oversized_bodies(sandbox, api, store_id):
    sandbox.inject_fault(f"GET {S}/{store_id}", action="invalid_json")
    resp = api.get(f"{S}/{store_id}")
    assert resp.status == 200
    with pytest.raises(ValueError):
        json.loads(resp.raw)
    sandbox.inject_fault(f"GET {S}/{store_id}", action="oversized", size=3 * 1024 * 1024)
    big = api.get(f"{S}/{store_id}")
    assert len(big.raw) == 3 * 1024 * 1024 and int(big.header("Content-Length")) == len(big.raw)
    assert api.get(f"{S}/{store_id}").status == 200       # the keep-alive connection is still good


def test_fault_after_processing_changes_state_but_loses_the_answer(sandbox, api, store_id):
    sandbox.inject_fault(f"POST {S}/*/status", status=502, process=True)
    assert_problem(api.post(f"{S}/{store_id}/status", {"status": "paused", "reason": "other"}), 502,
                   "BAD_GATEWAY")
    assert api.get(f"{S}/{store_id}/status").json["status"] == "paused"


# --- faults are checked when injected ------------------------------------------------

BAD_FAULTS = [
    ({"status": 503, "headers": {"X-Trace": "a\r\nX-Evil: 1"}}, "$.headers.X-Trace"),
    ({"status": 503, "headers": {"X-Trace": "a\nb"}}, "$.headers.X-Trace"),
    ({"status": 503, "headers": {"X-Trace": "caf\u00e9 \u20ac"}}, "$.headers.X-Trace"),
    ({"status": 503, "headers": {"Bad Name": "v"}}, "$.headers.Bad Name"),
    ({"status": 503, "headers": {"Content-Length": "5"}}, "$.headers.Content-Length"),
    ({"status": 503, "headers": {"X-N": 5}}, "$.headers.X-N"),
    ({"status": 503, "headers": ["X-A", "b"]}, "$.headers"),
    ({"status": 429, "retryAfter": "abc"}, "$.retryAfter"),
    ({"status": 429, "retryAfter": -1}, "$.retryAfter"),
    ({"status": 429, "retryAfter": 1.5}, "$.retryAfter"),
    ({"delay": 1e308}, "$.delay"),
    ({"delay": -0.5}, "$.delay"),
    ({"delay": "1"}, "$.delay"),
    ({"status": "503"}, "$.status"),
    ({"status": True}, "$.status"),
    ({"status": 99}, "$.status"),
    ({"status": 500, "times": 0}, "$.times"),
    ({"action": "oversized", "size": -1}, "$.size"),
    ({"action": "explode"}, "$.action"),
    ({"status": 500, "process": "yes"}, "$.process"),
    ({"status": 500, "colour": "red"}, "$.colour"),
    ({"match": "GET /x\r\nHost: y", "status": 500}, "$.match"),
    ({"match": "*"}, "$"),
]


@pytest.mark.parametrize("fault, where", BAD_FAULTS, ids=[w + "-" + str(i) for i, (_, w) in enumerate(BAD_FAULTS)])
def test_a_bad_fault_is_400_naming_the_field_and_is_not_installed(sandbox, fault, where):
    control = Api(sandbox.url, None)
    body = dict({"match": "GET /v1/commerce/stores/*"}, **fault)
    resp = control.post("/_sandbox/faults", raw=json.dumps(body, ensure_ascii=False).encode())
    assert resp.status == 400, resp
    problem = resp.json
    assert problem["errorCode"] == "INVALID_REQUEST"
    assert [e["jsonPath"] for e in problem["errors"]] == [where]
    assert where.lstrip("$.") in problem["detail"] or where == "$"
    assert control.get("/_sandbox/faults").json == {"faults": []}
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    assert Api(sandbox.url, sandbox.api_key).get(f"{S}/{store_id}").status == 200


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_delays_are_refused(sandbox, literal):
    control = Api(sandbox.url, None)
    resp = control.post("/_sandbox/faults", raw=b'{"match": "*", "delay": ' + literal + b"}")
    assert resp.status == 400 and resp.json["errors"][0]["jsonPath"] == "$.delay"
    assert control.get("/_sandbox/faults").json == {"faults": []}


def test_inject_fault_raises_a_value_error_naming_the_field(sandbox):
    with pytest.raises(FaultError, match="delay") as info:
        sandbox.inject_fault("*", delay=float("nan"))
    assert isinstance(info.value, ValueError) and info.value.errors[0][0] == "delay"
    with pytest.raises(ValueError, match="headers.X-A.*CR, LF"):
        sandbox.inject_fault("*", status=503, headers={"X-A": "1\r\nSet-Cookie: x=1"})
    with pytest.raises(ValueError, match="retryAfter"):
        sandbox.inject_fault("*", status=429, retry_after="abc")
    assert sandbox.faults.list() == []


def test_a_valid_fault_header_is_sent_as_one_header(sandbox):
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    sandbox.inject_fault(f"GET {S}/*", status=503, retry_after=3, headers={"X-Trace": "caf\u00e9\tok"})
    conn = http.client.HTTPConnection(sandbox.host, sandbox.port, timeout=10)
    conn.request("GET", f"{S}/{store_id}", headers={"Authorization": f"Bearer {sandbox.api_key}"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 503 and resp.getheader("Retry-After") == "3"
    assert resp.getheader("X-Trace").encode("latin-1") == "caf\u00e9\tok".encode("latin-1")
    conn.close()
    assert sandbox.errors == []
