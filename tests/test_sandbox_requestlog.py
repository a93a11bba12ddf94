"""gettcommerce/sandbox/requestlog.py: what the sandbox remembers of requests is bounded."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from gettcommerce.sandbox.requestlog import BODY_CAP, RequestLog, RequestRecord
from sandbox_helpers import Api

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 40 authenticated and 40 unauthenticated 9 MB bodies, then RSS and what the log holds.
_CHILD = r"""
import http.client, json, sys
from gettcommerce.sandbox import Sandbox

def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

with Sandbox(rate_limits=False) as sb:
    store_id = sb.create_store(partner_store_id="p", name="n")
    body = b'{"name": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    conn = http.client.HTTPConnection(sb.host, sb.port, timeout=60)
    def put(key):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        conn.request("PUT", "/v1/commerce/stores/" + store_id, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    statuses = {put(None), put(sb.api_key)}            # warm-up: every code path once
    before = rss_kib()
    for _ in range(40):
        statuses |= {put(None), put(sb.api_key)}
    after = rss_kib()
    records = sb.requests
    print(json.dumps({"before": before, "after": after, "statuses": sorted(statuses),
                      "records": len(records), "kept": sum(len(r.body) for r in records),
                      "sizes": sorted({getattr(r, "body_size", len(r.body)) for r in records})}))
"""


def test_big_bodies_leave_rss_and_the_log_bounded():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["statuses"] == [401, 422] and got["records"] == 82
    assert got["sizes"] == [9 * 1024 * 1024 + 12]          # the size is recorded...
    assert got["kept"] == 0                                 # ...not the bodies
    # main kept every body: 80 x 9 MB = 720 MB more.  Allow a few transient buffers.
    assert got["after"] - got["before"] < 64 * 1024, got


def _record(method="PUT", path="/x", authenticated=True):
    return RequestRecord(method, path, "", {}, b"", authenticated=authenticated)


def test_bodies_are_kept_only_when_authenticated_and_small():
    log = RequestLog(10)
    log.add(_record(authenticated=False), b'{"a": 1}')
    log.add(_record(), b'{"a": 1}')
    log.add(_record(), b"x" * (BODY_CAP + 1))
    anonymous, small, big = log.records()
    assert anonymous.body == b"" and anonymous.body_size == 8 and not anonymous.body_kept
    assert small.json() == {"a": 1} and small.body_kept
    assert big.body == b"" and big.body_size == BODY_CAP + 1


def test_records_and_kept_bytes_are_capped_oldest_first():
    log = RequestLog(5, total_body_cap=3 * 1000)
    for i in range(8):
        log.add(_record(path=f"/p{i}"), b"y" * 1000)
    records = log.records()
    assert [r.path for r in records] == ["/p3", "/p4", "/p5", "/p6", "/p7"]
    assert [len(r.body) for r in records] == [0, 0, 1000, 1000, 1000]
    assert log.kept_body_bytes() == 3000
    assert sum(log.counts().values()) == 8


def test_the_sandbox_log_keeps_authenticated_bodies_and_sizes_of_others(sandbox):
    store_id = sandbox.create_store(partner_store_id="p", name="n")
    Api(sandbox.url, sandbox.api_key).put(f"/v1/commerce/stores/{store_id}", {"phone": "+1 555"})
    Api(sandbox.url, "zpka_wrong").put(f"/v1/commerce/stores/{store_id}", {"phone": "+1 666"})
    mine, wrong = sandbox.requests
    assert mine.json() == {"phone": "+1 555"} and mine.status == 200 and mine.authenticated
    assert wrong.body == b"" and wrong.body_size == len(b'{"phone": "+1 666"}') and wrong.status == 401
    assert mine.route == "PUT /v1/commerce/stores/{storeId}"
