"""The README's main job: ``python -m gettcommerce demo`` as a user runs it."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path


from gettcommerce import demo

# Child processes run from tests/, where only the installed gettcommerce is importable.
ROOT = Path(__file__).resolve().parent


def run_cli(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GETT_API_KEY", None)
    env.pop("GETT_BASE_URL", None)
    return subprocess.run([sys.executable, "-m", "gettcommerce", "demo", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_demo_subprocess_embedded_sandbox():
    result = run_cli()
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    # Every step ran and succeeded, in order, each with a timing.
    steps = re.findall(r"^\[\s*(\d+)/16\] (.+)$", out, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, 17))
    assert len(re.findall(r"^        ok in [\d.]+ m?s$", out, re.M)) == 16
    summary = out[out.index("Summary"):]
    assert len(re.findall(r"^\d+\s+.+\s+ok\s+[\d.]+ m?s$", summary, re.M)) == 16
    assert "FAILED" not in out
    # The orders table: two completed orders (pickup, delivery) and one cancelled.
    rows = re.findall(r"^([0-9a-f]{8})\s+(pickup|delivery)\s+(POS-\d+)\s+([\d.]+)\s+(\d)\s+(\w+)$",
                      summary, re.M)
    assert [(t, pid, n, final) for _, t, pid, _, n, final in rows] == [
        ("pickup", "POS-1001", "4", "completed"), ("delivery", "POS-1002", "5", "completed"),
        ("pickup", "POS-1003", "2", "cancelled")]
    assert "inTransit" in out and "Customer called to cancel" in out
    assert "ITEM_UNAVAILABLE" in out and "refused while paused" in out
    assert re.search(r"back online by itself after [23]\.\d s", out)
    assert "milkshake 4.75" in out
    assert re.search(r"Result: OK, 16 steps in [\d.]+ m?s; 4 validate \+ 3 place webhooks verified", out)
    assert "Traceback" not in result.stderr


def test_demo_against_a_remote_gett(tmp_path):
    """--base-url/--api-key: the read-only part runs against another Gett (here a separate sandbox)."""
    from gettcommerce.sandbox import Sandbox
    with Sandbox() as gett_sandbox:
        store_id = gett_sandbox.create_store(partner_store_id="remote-1", name="Remote Diner")
        result = run_cli("--base-url", gett_sandbox.url, "--api-key", gett_sandbox.api_key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{store_id}  Remote Diner" in result.stdout
    assert "1 store(s) for this API key" in result.stdout
    assert "skipped: they need public URLs" in result.stdout
    assert "Result: OK, 4 steps" in result.stdout
    assert gett_sandbox.api_key not in result.stdout


def test_demo_failure_exits_nonzero_with_reason():
    # Nothing listens on port 9 of the loopback: the connect step fails.
    result = run_cli("--base-url", "http://127.0.0.1:9", "--api-key", "zpka_test_x")
    assert result.returncode == 1
    assert re.search(r"FAILED: step 2 \(Connect to http://127.0.0.1:9 and list the stores\) failed: .+",
                     result.stdout)
    assert "Result: FAILED" in result.stdout


def test_main_usage_errors_and_argv():
    assert demo.main(["--bogus"]) == 2
    env_key = os.environ.pop("GETT_API_KEY", None)
    try:
        assert demo.main(["--base-url", "http://127.0.0.1:9"], out=io.StringIO()) == 2
    finally:
        if env_key is not None:
            os.environ["GETT_API_KEY"] = env_key


def test_pick_timezone_finds_an_open_zone_at_every_hour():
    from gettcommerce._samples import sample_catalogset
    menu = sample_catalogset().to_dict()
    start = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)        # a Monday
    for hour in range(0, 24 * 7, 1):
        now = start + dt.timedelta(hours=hour, minutes=37)
        name = demo.pick_timezone(menu, "all-day", now=now)
        local = now.astimezone(__import__("zoneinfo").ZoneInfo(name))
        assert 11 <= local.hour < 24, (now, name, local)
