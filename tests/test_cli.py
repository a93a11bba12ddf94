"""The ``gett`` CLI against a standalone sandbox started as a subprocess."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from gettcommerce import webhooks
from sandbox_helpers import Partner

# Child processes run from tests/, where only the installed gettcommerce is importable.
ROOT = Path(__file__).resolve().parent


def _env(**extra):
    env = dict(os.environ)
    env.pop("GETT_API_KEY", None)
    env.pop("GETT_BASE_URL", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def standalone():
    """``python -m gettcommerce sandbox --port 0``; waits for its URL line, stops it with SIGINT."""
    partner = Partner()
    proc = subprocess.Popen([sys.executable, "-m", "gettcommerce", "sandbox", "--port", "0", "--demo-store",
                             "CLI Pizza", "--api-key", "zpka_sandbox_cli_test", "--no-rate-limit",
                             "--demo-webhook-url", partner.url],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = {}
    deadline = time.monotonic() + 20
    while "store" not in info:
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"sandbox did not start: {proc.stderr.read()}")
        for key, pattern in (("url", r"^URL: (\S+)"), ("key", r"^API key: (\S+)"),
                             ("secret", r"^Webhook secret: (\S+)"), ("store", r"^Demo store: (\S+)")):
            found = re.match(pattern, line)
            if found:
                info[key] = found.group(1)
    info["proc"] = proc
    info["partner"] = partner
    yield info
    partner.close()
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "sandbox stopped" in proc.stdout.read()


def gett(standalone, *args, env_key=True):
    extra = {"GETT_BASE_URL": standalone["url"]}
    if env_key:
        extra["GETT_API_KEY"] = standalone["key"]
    return subprocess.run([sys.executable, "-m", "gettcommerce", *args], cwd=ROOT, env=_env(**extra),
                          capture_output=True, text=True, timeout=60)


def test_sandbox_prints_its_url_key_and_secret(standalone):
    assert standalone["url"].startswith("http://127.0.0.1:")
    assert standalone["key"] == "zpka_sandbox_cli_test" and standalone["secret"].startswith("whsec_")


def test_stores_list_as_table_and_json(standalone):
    table = gett(standalone, "stores", "list")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.split()[:3] == ["storeId", "name", "status"]
    assert standalone["store"] in row and "CLI Pizza" in row
    as_json = gett(standalone, "stores", "list", "--json")
    assert [s["storeId"] for s in json.loads(as_json.stdout)] == [standalone["store"]]


def test_stores_get_pause_resume(standalone):
    sid = standalone["store"]
    got = json.loads(gett(standalone, "stores", "get", sid, "--json").stdout)
    assert got["name"] == "CLI Pizza"
    paused = gett(standalone, "stores", "pause", sid, "--reason", "too_busy", "--resume-at", "+30m", "--json")
    assert paused.returncode == 0, paused.stderr
    status = json.loads(paused.stdout)
    assert status["status"] == "paused" and status["reason"] == "too_busy" and status["resumeAt"]
    resumed = gett(standalone, "stores", "resume", sid)
    assert resumed.returncode == 0 and re.search(r"status\s+online", resumed.stdout)


def test_api_error_exits_1_with_detail_and_request_id(standalone):
    result = gett(standalone, "stores", "get", "no-such-store")
    assert result.returncode == 1
    assert "no store with storeId 'no-such-store'" in result.stderr
    assert re.search(r"requestId: req_[0-9a-f]+", result.stderr)
    unauth = gett(standalone, "stores", "list", "--api-key", "zpka_wrong")
    assert unauth.returncode == 1 and "UNAUTHENTICATED" in unauth.stderr


def _control(standalone, method, path, body=None):
    request = urllib.request.Request(standalone["url"] + path, method=method,
                                     headers={"Content-Type": "application/json"},
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_orders_status_updates(standalone):
    order = _control(standalone, "POST", "/_sandbox/orders", {"storeId": "demo-store", "items": [["cola", 2]]})
    place = standalone["partner"].calls("place")[-1]
    webhooks.verify(place["raw"], place["headers"], standalone["secret"])
    oid = order["orderId"]
    confirmed = gett(standalone, "orders", "status", oid, "--status", "confirmed", "--eta", "2030-01-01T10:00:00Z")
    assert confirmed.returncode == 0, confirmed.stderr
    assert _control(standalone, "GET", f"/_sandbox/orders/{oid}")["status"] == "confirmed"
    back = gett(standalone, "orders", "status", oid, "--status", "confirmed")
    assert back.returncode == 0
    done = gett(standalone, "orders", "status", oid, "--complete", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["state"] == "completed"
    late = gett(standalone, "orders", "status", oid, "--cancel", "too late")
    assert late.returncode == 1 and "CONFLICT" in late.stderr and "requestId: req_" in late.stderr
    assert _control(standalone, "GET", f"/_sandbox/orders/{oid}")["state"] == "completed"


def test_onboarding_register_status_activate(standalone):
    catalog_url = standalone["url"] + "/_sandbox/catalogs/missing"
    reg = gett(standalone, "onboarding", "register", "--partner-store-id", "cli-1", "--name", "CLI Diner",
               "--catalog-url", catalog_url, "--webhook-url", "http://127.0.0.1:9/hooks", "--json")
    assert reg.returncode == 0, reg.stderr
    onboarding = json.loads(reg.stdout)
    assert onboarding["status"] == "pending_catalog"
    # --wait polls with its own deadline; a failed catalog prints the onboarding and exits 1.
    shown = gett(standalone, "onboarding", "status", onboarding["onboardingId"], "--wait", "30", "--json")
    assert shown.returncode == 1 and "failed" in shown.stderr
    failed = json.loads(shown.stdout)
    assert failed["status"] == "catalog_failed" and "404" in failed["error"]
    refused = gett(standalone, "onboarding", "activate", onboarding["onboardingId"])
    assert refused.returncode == 1 and "only ready_to_activate" in refused.stderr
    dup = gett(standalone, "onboarding", "register", "--partner-store-id", "cli-1", "--name", "x",
               "--catalog-url", catalog_url, "--webhook-url", "http://127.0.0.1:9/hooks")
    assert dup.returncode == 1 and "409" in dup.stderr


def test_usage_errors_exit_2():
    result = subprocess.run([sys.executable, "-m", "gettcommerce", "orders", "status", "o1"], cwd=ROOT,
                            env=_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "one of the arguments" in result.stderr


def test_enum_choices_are_the_sdks_and_never_offer_pending(capsys):
    from gettcommerce import cli
    import gettcommerce as gett
    with pytest.raises(SystemExit) as info:
        cli.main(["orders", "status", "o1", "--status", "pending"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'pending'" in err and err.count("pending") == 1
    assert cli.ORDER_STATUSES == ("confirmed", "preparing", "ready", "inTransit")
    assert cli.PAUSE_REASONS == tuple(r.value for r in gett.PauseReason)
